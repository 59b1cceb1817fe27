/* Prints "crasher: start" and faults at once (a write outside its memory) while the
 * virtual clock is below 200 ms; later it runs healthy for 5.5 s before that fault,
 * so a test sees the supervisor's backoff grow and then start over. */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("crasher: start\n");
    if (atl_time_now_us() >= 200000u)
        atl_sleep_us(5500000u);
    *(volatile uint32_t *)0x00F00000u = 1;
    return 0;
}
