/* Calls slot 2 once with label 6 and prints "caller: <status> <mr0 of the reply>". */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req = {.label = 6, .mr = {10}}, rep = {0};
    int r = atl_call(2, &req, NULL, &rep);
    atl_printf("caller: %d %u\n", r, (unsigned)rep.mr[0]);
    return 0;
}
