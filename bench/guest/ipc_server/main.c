/* IPC benchmark server on slot 1: answers every request with mr0 + 1, with REPLY_RECV. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    int status = atl_recv(1, 0, &req);
    for (;;) {
        rep.mr[0] = status == ATL_OK ? req.mr[0] + 1 : 0;
        status = atl_reply_recv(1, &rep, 0, &req);
    }
}
