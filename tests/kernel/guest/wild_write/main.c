/* Writes outside its own memory after a greeting (a fault the kernel must contain). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("wild: about to write outside\n");
    *(volatile uint32_t *)0x00F00000u = 0xDEAD;
    atl_printf("wild: still here\n");
    return 0;
}
