/* The IPC fast path's server on slot 1, waiting with notification mask 0x2 (one of the
 * nudger's bits; every 7th answer waits with 0x6, taking the other one too): answers pong.ping with mr0 + 1, pong.twice with mr0 + mr1 and the caller's badge,
 * pong.secret with the length of its lease, and leaves pong.hold unanswered (its caller
 * gets NO_REPLY once the next message comes); the reply's label counts the nudges so far.
 * A ping of 0xDEAD makes it write outside its memory; now and then a reply carries a
 * stray register, or is first tried on an empty slot; now and then it polls bit 0 first
 * (a syscall whose first argument is its receive slot's number). */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    uint32_t nudges = 0, answers = 0;
    int status = atl_recv(1, 0x2, &req);
    for (;;) {
        if (status != ATL_OK || req.label == ATL_LABEL_NOTIFICATION) {
            if (status == ATL_OK)
                nudges++;
            else
                atl_printf("ponger: status %d\n", status);
            status = atl_recv(1, 0x2, &req);
            continue;
        }
        if (req.label == 0x00010004u) {
            status = atl_recv(1, 0x2, &req);
            continue;
        }
        rep.label = nudges;
        rep.mr[0] = rep.mr[1] = rep.mr[2] = rep.mr[3] = 0;
        if (req.label == 0x00010001u) {
            if (req.mr[0] == 0xDEAD)
                *(volatile uint32_t *)0x00F00000u = 1;
            rep.mr[0] = req.mr[0] + 1;
        } else if (req.label == 0x00010002u) {
            rep.mr[0] = req.mr[0] + req.mr[1];
            rep.mr[1] = req.badge;
        } else {
            char buf[32];
            size_t n = 0;
            atl_lease_read(ATL_REPLY_SLOT, 0, 0, buf, sizeof buf, &n);
            rep.mr[0] = (uint32_t)n;
        }
        if (req.mr[0] % 211 == 3)
            rep.mr[2] = 1;                              /* a register no reply carries */
        if (req.mr[0] % 13 == 5) {
            uint32_t bits;
            atl_poll(0x1, &bits);
        }
        uint32_t mask = ++answers % 7 == 0 ? 0x6 : 0x2;
        if (req.mr[0] % 157 == 11) {
            status = atl_reply_recv(9, &rep, mask, &req);
            atl_printf("ponger: reply on slot 9 %d\n", status);
        }
        status = atl_reply_recv(1, &rep, mask, &req);
    }
}
