/* Prints a line, then executes a breakpoint instruction (no debugger is attached). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("breaker: about to break\n");
#if defined(__riscv)
    __asm__ volatile("ebreak");
#else
    __asm__ volatile("bkpt #0");
#endif
    atl_printf("breaker: still here\n");
    return 0;
}
