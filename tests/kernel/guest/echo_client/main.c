/* A test client of the echo server on slot 2: echoes, shouts through leases, tries
 * a lease outside its memory, then asks the server to crash and calls once more. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req = {.label = 1, .mr = {41}}, rep;
    int r = atl_call(2, &req, 0, &rep);
    atl_printf("client: echo %d %u\n", r, (unsigned)rep.mr[0]);

    static char in[] = "hello, leases";
    static char out[32];
    struct atl_leases leases = {.count = 2, .lease = {{(uint32_t)(uintptr_t)in, sizeof in - 1, ATL_LEASE_READABLE},
                                                      {(uint32_t)(uintptr_t)out, sizeof out, ATL_LEASE_WRITABLE}}};
    req.label = 2;
    r = atl_call(2, &req, &leases, &rep);
    atl_printf("client: shout %d %d %u %s\n", r, (int)rep.label, (unsigned)rep.mr[0], out);

    struct atl_leases bad = {.count = 1, .lease = {{0x00F00000u, 16, ATL_LEASE_READABLE}}};
    r = atl_call(2, &req, &bad, &rep);
    atl_printf("client: bad lease %d\n", r);

    struct atl_leases rodata = {.count = 1, .lease = {{(uint32_t)(uintptr_t)"constant", 8, ATL_LEASE_WRITABLE}}};
    r = atl_call(2, &req, &rodata, &rep);
    atl_printf("client: read-only lease %d\n", r);

    r = atl_call(9, &req, 0, &rep);
    atl_printf("client: empty slot %d\n", r);

    req.label = 3;
    r = atl_call(2, &req, 0, &rep);
    atl_printf("client: crash call %d\n", r);
    req.label = 1;
    for (int i = 0; i < 3; i++) {
        atl_sleep_us(2000);
        r = atl_call(2, &req, 0, &rep);
        atl_printf("client: after crash %d %u\n", r, (unsigned)rep.mr[0]);
    }
    return 0;
}
