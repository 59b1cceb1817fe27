/* Component start-up: _start sets up the C library, calls main() and passes its result to exit().
 *
 * The kernel loads the segments, zeroes .bss, sets the stack pointer and starts the thread with
 * two words in the first argument registers (r0/r1, a0/a1): the size of the component's heap
 * (mapped at ATL_HEAP_BASE, sized by the image description's `heap`) and where stdout goes
 * (0: the kernel's debug log; slot + 1: the console server whose endpoint is in that slot).
 * On RISC-V, _start first points gp at __global_pointer$ (defined by component.ld): a GNU linker
 * relaxes accesses near it into gp-relative ones, and lld can too (--relax-gp), so gp is always
 * valid whichever linker built the component. _start is naked, so no compiled code runs before
 * gp is set, and the two argument registers reach atl__start_main untouched; it is placed in
 * .text.start, which component.ld keeps first.
 */
#include <stdlib.h>

#include <atoll/atoll.h>
#include <atoll/libc.h>

int main(int argc, char **argv);
void __libc_init_array(void);
__attribute__((noreturn, used)) void atl__start_main(uint32_t heap_size, uint32_t stdout_to);

__attribute__((noreturn, used)) void atl__start_main(uint32_t heap_size, uint32_t stdout_to)
{
    static char name[] = ATL_COMPONENT;
    static char *argv[] = {name, NULL};
    atl__libc_init(heap_size, stdout_to);
    __libc_init_array();
    exit(main(1, argv));
}

__attribute__((naked, noreturn, used, section(".text.start"))) void _start(void)
{
#if defined(__riscv)
    __asm__ volatile(".option push\n"
                     ".option norelax\n"
                     "la gp, __global_pointer$\n"
                     ".option pop\n"
                     "tail atl__start_main\n");
#else
    __asm__ volatile("b atl__start_main\n");
#endif
}
