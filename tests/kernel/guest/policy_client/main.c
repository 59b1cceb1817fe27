/* Calls the gpio server (slot 2) and the shaper server (slot 3) with requests a policy
 * allows, denies, or that have the wrong shape, printing "policy: <step> <status>": the
 * reply label when the call went through, else the kernel's status (ATL_E_DENIED...). */
#include <atoll/atoll.h>
#include <gpio/gpio.h>

#define GPIO 2u
#define SHAPER 3u
#define SHAPER_ECHO 0x00400001u    /* shaper.echo: 1 argument, replies with mr0 registers set */
#define SHAPER_TAKE 0x00400002u    /* shaper.take: lease 0 readable <= 8 bytes, lease 1 writable optional */

static void call(const char *step, uint32_t slot, uint32_t label, uint32_t a, uint32_t b, uint32_t c,
                 struct atl_leases *leases)
{
    struct atl_msg req = {.label = label, .mr = {a, b, c, 0}}, rep = {0};
    int r = atl_call(slot, &req, leases, &rep);
    atl_printf("policy: %s %d\n", step, r == ATL_OK ? (int)rep.label : r);
}

int main(void)
{
    static char small[8] = "1234567", big[9] = "12345678", out[8];
    call("configure", GPIO, GPIO_CONFIGURE, 6, GPIO_OUTPUT, 0, NULL);
    call("write", GPIO, GPIO_WRITE, 6, 1, 0, NULL);
    call("toggle", GPIO, GPIO_TOGGLE, 6, 0, 0, NULL);
    call("read", GPIO, GPIO_READ, 6, 0, 0, NULL);
    call("extra-register", GPIO, GPIO_WRITE, 6, 1, 5, NULL);
    call("unknown-method", GPIO, GPIO_INTERFACE << 16 | 9u, 6, 0, 0, NULL);
    call("other-interface", GPIO, SHAPER_ECHO, 0, 0, 0, NULL);

    call("echo-1", SHAPER, SHAPER_ECHO, 1, 0, 0, NULL);
    call("echo-3", SHAPER, SHAPER_ECHO, 3, 0, 0, NULL);
    struct atl_leases one = {.count = 1, .lease = {{(uint32_t)(uintptr_t)small, 8, ATL_LEASE_READABLE}}};
    call("take", SHAPER, SHAPER_TAKE, 0, 0, 0, &one);
    struct atl_leases two = {.count = 2, .lease = {{(uint32_t)(uintptr_t)small, 8, ATL_LEASE_READABLE},
                                                   {(uint32_t)(uintptr_t)out, 8, ATL_LEASE_WRITABLE}}};
    call("take-two", SHAPER, SHAPER_TAKE, 0, 0, 0, &two);
    call("no-lease", SHAPER, SHAPER_TAKE, 0, 0, 0, NULL);
    struct atl_leases long_one = {.count = 1, .lease = {{(uint32_t)(uintptr_t)big, 9, ATL_LEASE_READABLE}}};
    call("long-lease", SHAPER, SHAPER_TAKE, 0, 0, 0, &long_one);
    struct atl_leases writable = {.count = 1, .lease = {{(uint32_t)(uintptr_t)out, 8, ATL_LEASE_WRITABLE}}};
    call("wrong-rights", SHAPER, SHAPER_TAKE, 0, 0, 0, &writable);
    struct atl_leases three = {.count = 3, .lease = {{(uint32_t)(uintptr_t)small, 8, ATL_LEASE_READABLE},
                                                     {(uint32_t)(uintptr_t)out, 8, ATL_LEASE_WRITABLE},
                                                     {(uint32_t)(uintptr_t)out, 8, ATL_LEASE_WRITABLE}}};
    call("three-leases", SHAPER, SHAPER_TAKE, 0, 0, 0, &three);
    atl_printf("policy: done 0\n");
    return 0;
}
