/* Prints the time, sleeps 500 us, five times; then exits with code 7. */
#include <atoll/atoll.h>

int main(void)
{
    for (int i = 0; i < 5; i++) {
        atl_printf("sleeper %d at %u us\n", i, (unsigned)atl_time_now_us());
        atl_sleep_us(500);
    }
    return 7;
}
