/* CALLs on slot 2 (the echo server) with lease arrays and leases the kernel must refuse,
 * then ones with no leases. Expects uart0 mapped at 0x60000000 (a mapped range that is not
 * RAM). Prints "pointers: <step> <status>". */
#include <atoll/atoll.h>

#define UART0 0x60000000u /* where the test maps uart0 */

static struct atl_msg req = {.label = 1, .mr = {9}}, rep;

static int call_with(const void *leases)
{
    return atl_call(2, &req, (const struct atl_leases *)leases, &rep);
}

static int call_lease(uint32_t address, uint32_t length, uint32_t rights)
{
    struct atl_leases l = {.count = 1, .lease = {{address, length, rights}}};
    return call_with(&l);
}

int main(void)
{
    static char data[32];
    atl_printf("pointers: unmapped lease array %d\n", call_with((void *)0x00F00000u));
    atl_printf("pointers: lease array past 4 GiB %d\n", call_with((void *)0xFFFFFFFEu));
    struct atl_leases five = {.count = 5};
    atl_printf("pointers: five leases %d\n", call_with(&five));
    struct atl_leases huge_count = {.count = 0xFFFFFFFFu};
    atl_printf("pointers: 2^32-1 leases %d\n", call_with(&huge_count));
    atl_printf("pointers: lease with no rights %d\n", call_lease((uint32_t)(uintptr_t)data, 4, 0));
    atl_printf("pointers: lease with unknown rights %d\n", call_lease((uint32_t)(uintptr_t)data, 4, 4));
    atl_printf("pointers: lease over 64 KiB %d\n",
               call_lease((uint32_t)(uintptr_t)data, ATL_MAX_LEASE_BYTES + 1, ATL_LEASE_READABLE));
    atl_printf("pointers: lease past 4 GiB %d\n", call_lease(0xFFFFFFF0u, 0x100, ATL_LEASE_READABLE));
    atl_printf("pointers: lease of unmapped memory %d\n", call_lease(0x00F00000u, 4, ATL_LEASE_READABLE));
    atl_printf("pointers: lease of a peripheral %d\n", call_lease(UART0, 4, ATL_LEASE_READABLE));
    atl_printf("pointers: writable lease of code %d\n", call_lease((uint32_t)(uintptr_t)&main, 4, ATL_LEASE_WRITABLE));
    atl_printf("pointers: lease running off its mapping %d\n",
               call_lease((uint32_t)(uintptr_t)data, 0x10000, ATL_LEASE_READABLE));
    struct atl_leases none = {.count = 0};
    int r = call_with(&none);
    atl_printf("pointers: empty lease array %d %u\n", r, (unsigned)rep.mr[0]);
    struct atl_leases zero = {.count = 1, .lease = {{0x00F00000u, 0, ATL_LEASE_READABLE}}};
    r = call_with(&zero);
    atl_printf("pointers: empty lease anywhere %d %u\n", r, (unsigned)rep.mr[0]);
    return 0;
}
