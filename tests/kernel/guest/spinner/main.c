/* Counts in a loop and prints a tick every 20,000 rounds, forever (never blocks). */
#include <atoll/atoll.h>

int main(void)
{
    volatile uint32_t n = 0;
    for (uint32_t tick = 0;; tick++) {
        for (uint32_t i = 0; i < 20000; i++)
            n++;
        atl_printf("tick %u\n", (unsigned)tick);
    }
}
