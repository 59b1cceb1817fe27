/* Reads UART0's registers at their physical address, which it was not given. */
#include <atoll/atoll.h>

#if defined(__arm__)
#define UART0 0x40004000u
#else
#define UART0 0x10013000u
#endif

int main(void)
{
    atl_printf("probe: reading uart0\n");
    uint32_t v = *(volatile uint32_t *)(UART0 + 4);
    atl_printf("probe: read %x\n", (unsigned)v);
    return 0;
}
