/* Prints "ticker N" every 100 ms of virtual time, forever: a component that keeps running
 * while others fail. */
#include <atoll/atoll.h>

int main(void)
{
    for (uint32_t n = 0;; n++) {
        atl_printf("ticker %u\n", (unsigned)n);
        atl_sleep_us(100000u);
    }
}
