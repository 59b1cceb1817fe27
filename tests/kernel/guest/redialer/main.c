/* A client of echo_server (slot 2) across a restart of the server: one echo, a call
 * that makes the server crash mid-conversation, then (after 50 ms, when the supervisor
 * has restarted it) echoes until one succeeds, printing every status. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req = {.label = 1, .mr = {41}}, rep = {0};
    int r = atl_call(2, &req, NULL, &rep);
    atl_printf("redialer: echo %d %u\n", r, (unsigned)rep.mr[0]);
    req.label = 3; /* CRASH */
    r = atl_call(2, &req, NULL, &rep);
    atl_printf("redialer: crash %d\n", r);
    atl_sleep_us(50000u);
    req.label = 1;
    for (int i = 0; i < 4; i++) {
        r = atl_call(2, &req, NULL, &rep);
        atl_printf("redialer: echo %d %u\n", r, r == ATL_OK ? (unsigned)rep.mr[0] : 0u); /* rep: only on success */
        if (r == ATL_OK)
            break;
    }
    return 0;
}
