/* Waits for notification bits 0x5 three times, then sets a timer and waits for bit 0x100. */
#include <atoll/atoll.h>

int main(void)
{
    uint32_t bits = 0;
    for (int i = 0; i < 3; i++) {
        int r = atl_wait(0x5, &bits);
        atl_printf("waiter: %d bits %x\n", r, (unsigned)bits);
    }
    uint64_t now = atl_time_now_us();
    atl_timer_set(now + 1000, 0x100);
    int r = atl_wait(0x100, &bits);
    atl_printf("waiter: timer %d bits %x after %u us\n", r, (unsigned)bits, (unsigned)(atl_time_now_us() - now));
    return 0;
}
