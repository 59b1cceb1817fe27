/* The IPC fast path's client: `rounds` CALLs to the ponger on slot 2, mostly pong.ping,
 * now and then pong.twice, a stray register, pong.secret with a lease, a label of the
 * kernel's or an empty slot; now and then a SEND comes first, or a long computation
 * after; the request of round `crash_at` makes the ponger crash, that of round `hold_at`
 * asks it to keep the call unanswered. Sleeps 300 us every 500 rounds. Prints each
 * failed call and, at the end, a checksum of every answer. The tests overwrite `rounds`
 * `crash_at`, `hold_at` and `plain` in the loaded image. Failures are printed after the loop, so that
 * nothing but IPC happens between two calls. */
#include <atoll/atoll.h>

volatile uint32_t rounds = 2000;
volatile uint32_t crash_at = 0xFFFFFFFFu;
volatile uint32_t hold_at = 0xFFFFFFFFu;       /* the round that asks pong.hold */
volatile uint32_t plain = 0;                    /* 1: nothing but pings of 0, back to back */

int main(void)
{
    static char text[] = "lease bytes";
    struct atl_leases leases = {.count = 1, .lease = {{(uint32_t)(uintptr_t)text, sizeof text - 1, ATL_LEASE_READABLE}}};
    struct atl_msg req = {0}, rep = {0};
    static uint32_t failures[100][2];
    uint32_t sum = 0, failed = 0, n = rounds;
    for (uint32_t i = 0; i < n; i++) {
        const struct atl_leases *lease = 0;
        req.label = 0x00010001u;                        /* pong.ping (mr0) */
        req.mr[0] = i;
        req.mr[1] = req.mr[2] = req.mr[3] = 0;
        if (plain) {
            req.mr[0] = 0;
            int r = atl_call(2, &req, 0, &rep);
            sum = sum * 31u + (uint32_t)r + rep.label + rep.mr[0];
            continue;
        }
        if (i % 97 == 13) {                             /* pong.twice (mr0, mr1) */
            req.label = 0x00010002u;
            req.mr[1] = i * 3;
        }
        if (i % 89 == 7)
            req.mr[3] = 5;                              /* a register no method takes */
        if (i % 101 == 50) {                            /* pong.secret, with a lease */
            req.label = 0x00010003u;
            lease = &leases;
        }
        if (i % 173 == 17)
            req.label = 0xFFFFFF05u;                    /* a label of the kernel's */
        if (i == crash_at)
            req.mr[0] = 0xDEAD;
        if (i == hold_at)
            req.label = 0x00010004u;
        if (i % 61 == 30)
            atl_send(2, &req);                          /* the same slot, no reply */
        int r = atl_call(i % 149 == 19 ? 9 : 2, &req, lease, &rep);   /* slot 9 is empty */
        if (i % 500 == 100)
            for (volatile uint32_t j = 0; j < 10000; j++)
                ;                                       /* longer than a time slice */
        if (r != ATL_OK) {
            if (failed < 100) {
                failures[failed][0] = i;
                failures[failed][1] = (uint32_t)r;
            }
            failed++;
            continue;
        }
        sum = sum * 31u + rep.label + rep.mr[0] + rep.mr[1] + rep.mr[2] + rep.mr[3];
        if (i % 500 == 499)
            atl_sleep_us(300);
    }
    for (uint32_t f = 0; f < failed && f < 100; f++)
        atl_printf("pinger: %u status %d\n", (unsigned)failures[f][0], (int)failures[f][1]);
    atl_printf("pinger: done sum %u failed %u\n", (unsigned)sum, (unsigned)failed);
    return 0;
}
