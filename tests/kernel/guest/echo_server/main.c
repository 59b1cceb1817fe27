/* A test server on slot 1: ECHO (label 1) answers mr0+1; SHOUT (label 2) reads
 * lease 0, upper-cases it into lease 1 and answers the length; CRASH (label 3)
 * writes outside its memory; others get label 0xBAD. It prints every request. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    char buf[128];
    int status = atl_recv(1, 0, &req);
    for (;;) {
        if (status != ATL_OK) {
            atl_printf("server: recv failed %d\n", status);
            status = atl_recv(1, 0, &req);
            continue;
        }
        atl_printf("server: label %u from badge %u\n", (unsigned)req.label, (unsigned)req.badge);
        rep.label = 0;
        rep.mr[0] = rep.mr[1] = rep.mr[2] = rep.mr[3] = 0;
        if (req.label == 1) {
            rep.mr[0] = req.mr[0] + 1;
        } else if (req.label == 2) {
            size_t n = 0, out = 0;
            int r = atl_lease_read(ATL_REPLY_SLOT, 0, 0, buf, sizeof buf, &n);
            if (r == ATL_OK) {
                for (size_t i = 0; i < n; i++)
                    if (buf[i] >= 'a' && buf[i] <= 'z')
                        buf[i] = (char)(buf[i] - 32);
                r = atl_lease_write(ATL_REPLY_SLOT, 1, 0, buf, n, &out);
            }
            rep.label = (uint32_t)r;
            rep.mr[0] = (uint32_t)out;
        } else if (req.label == 3) {
            *(volatile uint32_t *)0x00F00000u = 1;
        } else {
            rep.label = 0xBAD;
        }
        status = atl_reply_recv(1, &rep, 0, &req);
    }
}
