/* A console test client on slot 2: logs with console_log and console_printf (tagged
 * with its name), two lines in one call, an untagged raw LOG, then a bad lease and an
 * unknown label, printing each status to the debug log. */
#include <atoll/atoll.h>
#include <console/console.h>

int main(void)
{
    int r = console_log(2, "hello from a client");
    atl_printf("client: log %d\n", r);
    r = console_printf(2, "answer=%d hex=%x name=%s", 42, 0xbeefu, "atoll");
    atl_printf("client: printf %d\n", r);
    r = console_log(2, "first line\nsecond line\n");
    atl_printf("client: two lines %d\n", r);

    static const char raw[] = "untagged";
    struct atl_msg req = {.label = CONSOLE_LOG}, rep = {0};
    struct atl_leases one = {.count = 1, .lease = {{(uint32_t)(uintptr_t)raw, sizeof raw - 1, ATL_LEASE_READABLE}}};
    r = atl_call(2, &req, &one, &rep);
    atl_printf("client: raw %d %d %u\n", r, (int)rep.label, (unsigned)rep.mr[0]);

    struct atl_leases bad = {.count = 1, .lease = {{0x00F00000u, 16, ATL_LEASE_READABLE}}};
    r = atl_call(2, &req, &bad, &rep);
    atl_printf("client: bad lease %d\n", r);

    req.label = 7;
    r = atl_call(2, &req, &one, &rep);
    atl_printf("client: label 7 %d %d\n", r, (int)rep.label);
    return 0;
}
