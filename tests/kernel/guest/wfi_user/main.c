/* Waits for an interrupt (WFI) in user mode three times, printing around each. */
#include <atoll/atoll.h>

int main(void)
{
    for (int i = 0; i < 3; i++) {
        atl_printf("wfi: %d\n", i);
        __asm__ volatile("wfi");
    }
    atl_printf("wfi: done\n");
    return 0;
}
