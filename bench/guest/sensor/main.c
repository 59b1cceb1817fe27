/* sensor: a duty-cycled task for the idle fast-forward benchmark. It wakes once a
 * second of virtual time, takes a "reading" (a little arithmetic), and sleeps again;
 * every 600 wakes it prints a line. */
#include <atoll/atoll.h>

volatile uint32_t wakes;

int main(void)
{
    uint32_t reading = 1;
    for (;;) {
        atl_sleep_us(1000000);
        for (int i = 0; i < 100; i++)
            reading = reading * 1103515245u + 12345u;
        if (++wakes % 600 == 0)
            atl_printf("sensor: %u wakes, reading %x\n", (unsigned)wakes, (unsigned)reading);
    }
}
