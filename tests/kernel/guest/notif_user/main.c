/* Notification bits, polls and timers. Slot 1: an endpoint it receives on (nobody sends);
 * slot 3: a notification to itself with badge 0x20. Prints "notif: <step> <status> ...". */
#include <atoll/atoll.h>

static void step(const char *what, int status, uint32_t value)
{
    atl_printf("notif: %s %d %x\n", what, status, (unsigned)value);
}

int main(void)
{
    uint32_t bits = 0xDEAD;
    struct atl_msg m = {0};
    int r;

    r = atl_poll(0x1, &bits);
    step("poll with no bits", r, bits);
    r = atl_wait(0, &bits);
    step("wait with mask 0", r, 0);
    r = atl_timer_set(atl_time_now_us() + 500, 0);
    step("timer with no bits", r, 0);

    uint64_t start = atl_time_now_us();
    r = atl_timer_set(start + 700, 0x2);
    step("timer set", r, 0);
    r = atl_recv(1, 0x2, &m);
    uint32_t elapsed = (uint32_t)(atl_time_now_us() - start);
    atl_printf("notif: recv woken by the timer %d label %x mr0 %x after %u us\n", r, (unsigned)m.label,
               (unsigned)m.mr[0], (unsigned)elapsed);

    r = atl_notify(3);
    step("notify itself", r, 0);
    r = atl_poll(0x20, &bits);
    step("poll with the bit set", r, bits);
    r = atl_poll(0x20, &bits);
    step("poll again", r, bits);

    atl_notify(3);
    m.label = 0;
    r = atl_recv(1, 0x20, &m);
    atl_printf("notif: recv with the bit already set %d label %x mr0 %x\n", r, (unsigned)m.label, (unsigned)m.mr[0]);

    start = atl_time_now_us();
    atl_timer_set(start + 2000, 0x8);
    atl_timer_set(start + 300, 0x10);
    r = atl_wait(0x18, &bits);
    step("wait after replacing a timer", r, bits);
    atl_sleep_us(2500);
    r = atl_poll(0x8, &bits);
    step("poll for the replaced timer", r, bits);

    r = atl_timer_set(0, 0x4);
    step("timer in the past", r, 0);
    r = atl_wait(0x4, &bits);
    step("wait for the past timer", r, bits);

    r = atl_recv(3, 0x1, &m);
    step("recv on a notification", r, 0);
    r = atl_irq_ack(0xFFFFFFFFu);
    step("ack interrupts it has none of", r, 0);
    step("done", 0, 0);
    return 0;
}
