/* A test server on slot 1 that forwards every request to the server on slot 2 and answers
 * with that server's answer, or with the failed call's status as the label: a server that
 * waits on a call of its own. Prints "relay: <label> <status>" for each forwarded call. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    int status = atl_recv(1, 0, &req);
    for (;;) {
        rep = (struct atl_msg){0};
        if (status == ATL_OK) {
            int r = atl_call(2, &req, NULL, &rep);
            atl_printf("relay: %u %d\n", (unsigned)req.label, r);
            if (r != ATL_OK)
                rep.label = (uint32_t)r;
        }
        status = atl_reply_recv(1, &rep, 0, &req);
    }
}
