/* A server on slot 1 that starts receiving only after 2 ms, so callers queue up; it prints
 * "slow: label <label> badge <badge>" for every message and answers mr0 + 1. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    atl_sleep_us(2000);
    int r = atl_recv(1, 0, &req);
    for (;;) {
        atl_printf("slow: label %u badge %u status %d\n", (unsigned)req.label, (unsigned)req.badge, r);
        rep.mr[0] = req.mr[0] + 1;
        r = atl_reply_recv(1, &rep, 0, &req);
    }
}
