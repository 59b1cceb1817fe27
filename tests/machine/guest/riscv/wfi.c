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
    puts_("woke: mtip=");
    putdec((CSR_READ(mip) & MIP_MTIP) != 0);
    puts_(" calls=");
    putdec(calls);
    puts_("\r\n");

    for (volatile int i = 0; i < 1000; i++)
        ;
    puts_("masked: calls=");
    putdec(calls);
    puts_("\r\n");

    __asm__ volatile(".option push\n.option norvc\ncsrsi mstatus, 8\n.globl after_mstatus\n"
                     "after_mstatus: nop\n.option pop" ::: "memory");
    puts_("enabled: calls=");
    putdec(calls);
    puts_(last_epc == (uint32_t)(uintptr_t)after_mstatus ? " at the next instruction" : " LATE");
    puts_("\r\n");

    CLINT_MSIP = 1;
    for (volatile int i = 0; i < 1000; i++)
        ;
    puts_("msip masked by mie: calls=");
    putdec(calls);
    puts_("\r\n");
    uint32_t msie = MIP_MSIP;
    __asm__ volatile(".option push\n.option norvc\ncsrs mie, %0\n.globl after_mie\n"
                     "after_mie: nop\n.option pop" ::"r"(msie) : "memory");
    puts_("mie enabled: calls=");
    putdec(calls);
    puts_(last_epc == (uint32_t)(uintptr_t)after_mie ? " at the next instruction" : " LATE");
    puts_(last_cause == (MCAUSE_INTERRUPT | 3u) ? " msi" : " ?");
    puts_("\r\n");
    puts_("wfi: done\r\n");
    park();
}
