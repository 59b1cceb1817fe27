/* Component start-up: _start calls main() and passes its result to atl_exit.
 *
 * The kernel loads the segments, zeroes .bss and sets the stack pointer before the first
 * instruction, so nothing is copied here. On RISC-V, _start first points gp at
 * __global_pointer$ (defined by component.ld): a GNU linker relaxes accesses near it into
 * gp-relative ones, and lld can too (--relax-gp), so gp is always valid whichever linker built
 * the component. _start is naked, so no compiled code runs before gp is set; it is placed in
 * .text.start, which component.ld keeps first.
 */
#include <atoll/atoll.h>

__attribute__((noreturn, used)) void atl__start_main(void)
{
    atl_exit(main());
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
