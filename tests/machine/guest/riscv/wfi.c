/* wfi: waiting, masking, and an interrupt taken as soon as it is enabled (RISC-V M-mode).
 *
 * 1. With mie.MTIE set and mstatus.MIE clear, WFI returns once the timer is pending, and no
 *    trap is taken (privileged spec 1.10, 3.2.3).
 * 2. While MIE stays clear the pending timer interrupt is not taken.
 * 3. `csrsi mstatus, 8` takes it at once: mepc is the instruction after the csrsi.
 * 4. A software interrupt pending while its mie bit is clear is not taken; `csrs mie` takes it
 *    at once (mepc the next instruction again).
 */
#include "rvtrap.h"

extern char after_mstatus[], after_mie[];
static volatile uint32_t calls, last_epc, last_cause;

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    last_cause = CSR_READ(mcause);
    last_epc = CSR_READ(mepc);
    if (last_cause == (MCAUSE_INTERRUPT | 7u))
        set_mtimecmp(~0ull);
    else if (last_cause == (MCAUSE_INTERRUPT | 3u))
        CLINT_MSIP = 0;
    else
        park();
    calls++;
    return frame;
}

int main(void)
{
    uart_init();
    CSR_WRITE(mtvec, trap_entry);
    CSR_CLEAR(mstatus, MSTATUS_MIE);
    CSR_WRITE(mie, MIP_MTIP);
    set_mtimecmp(mtime64() + 20);
    __asm__ volatile("wfi");
    uart_puts("woke: mtip=");
    uart_putu((CSR_READ(mip) & MIP_MTIP) != 0);
    uart_puts(" calls=");
    uart_putu(calls);
    uart_puts("\r\n");

    for (volatile int i = 0; i < 1000; i++)
        ;
    uart_puts("masked: calls=");
    uart_putu(calls);
    uart_puts("\r\n");

    __asm__ volatile(".option push\n.option norvc\ncsrsi mstatus, 8\n.globl after_mstatus\n"
                     "after_mstatus: nop\n.option pop" ::: "memory");
    uart_puts("enabled: calls=");
    uart_putu(calls);
    uart_puts(last_epc == (uint32_t)(uintptr_t)after_mstatus ? " at the next instruction" : " LATE");
    uart_puts("\r\n");

    CLINT_MSIP = 1;
    for (volatile int i = 0; i < 1000; i++)
        ;
    uart_puts("msip masked by mie: calls=");
    uart_putu(calls);
    uart_puts("\r\n");
    uint32_t msie = MIP_MSIP;
    __asm__ volatile(".option push\n.option norvc\ncsrs mie, %0\n.globl after_mie\n"
                     "after_mie: nop\n.option pop" ::"r"(msie) : "memory");
    uart_puts("mie enabled: calls=");
    uart_putu(calls);
    uart_puts(last_epc == (uint32_t)(uintptr_t)after_mie ? " at the next instruction" : " LATE");
    uart_puts(last_cause == (MCAUSE_INTERRUPT | 3u) ? " msi" : " ?");
    uart_puts("\r\n");
    uart_puts("wfi: done\r\n");
    park();
}
