/* Calls a syscall number the kernel does not have (a fault of the caller). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("bad: calling syscall 99\n");
    uint32_t v[7] = {0};
    atl__syscall0(99, v);
    atl_printf("bad: still here\n");
    return 0;
}
