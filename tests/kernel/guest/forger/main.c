/* Tries to pass itself off as the kernel: calls slot 2 with the FAULT label. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req = {.label = ATL_LABEL_FAULT, .mr = {1, 1, 0, 0}}, rep;
    int r = atl_call(2, &req, 0, &rep);
    atl_printf("forger: %d\n", r);
    return 0;
}
