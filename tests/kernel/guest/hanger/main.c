/* A test server on slot 1 that hangs: ECHO (label 1) answers mr0+1; HANG (label 3) spins
 * for ever without receiving again, holding the call; others get label 0xBAD. It prints
 * "hanger: start" at each start. (redialer is its client: label 3 is its "crash".) */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    atl_printf("hanger: start\n");
    int status = atl_recv(1, 0, &req);
    for (;;) {
        rep = (struct atl_msg){0};
        if (status == ATL_OK && req.label == 1) {
            rep.mr[0] = req.mr[0] + 1;
        } else if (status == ATL_OK && req.label == 3) {
            for (volatile uint32_t n = 0;; n++)
                ;
        } else {
            rep.label = 0xBAD;
        }
        status = atl_reply_recv(1, &rep, 0, &req);
    }
}
