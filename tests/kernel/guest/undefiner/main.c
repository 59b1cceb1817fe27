/* Prints a line, then executes an undefined instruction (a fault of its own). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("undefiner: about to run an undefined instruction\n");
#if defined(__riscv)
    __asm__ volatile(".4byte 0xffffffff");
#else
    __asm__ volatile("udf #0");
#endif
    atl_printf("undefiner: skipped it\n");
    return 0;
}
