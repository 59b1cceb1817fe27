/* IPC benchmark client: `rounds` CALLs to the server on slot 2, each checked.
 *
 * Prints "go" just before the first call and "done <rounds>" after the last, so the bench can
 * time the loop between the two lines. The bench overwrites `rounds` in the loaded image. A
 * wrong status or answer prints "bad <i> <status>" and exits with 1.
 */
#include <atoll/atoll.h>

volatile uint32_t rounds = 1000;

int main(void)
{
    uint32_t n = rounds;
    struct atl_msg req = {.label = 0x00010001u}, rep;   /* bench.ping (interface 1, method 1) */
    atl_printf("go\n");
    for (uint32_t i = 0; i < n; i++) {
        req.mr[0] = i;
        int r = atl_call(2, &req, 0, &rep);
        if (r != ATL_OK || rep.mr[0] != i + 1) {
            atl_printf("bad %u %d\n", (unsigned)i, r);
            return 1;
        }
    }
    atl_printf("done %u\n", (unsigned)n);
    return 0;
}
