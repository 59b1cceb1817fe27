/* Writes the first word of the machine's own page, 0xFFFFF000 (a permission fault). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("writer: writing the machine's page\n");
    *(volatile uint32_t *)0xFFFFF000u = 0xDEAD;
    atl_printf("writer: still here\n");
    return 0;
}
