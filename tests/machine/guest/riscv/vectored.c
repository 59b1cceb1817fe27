/* vectored: mtvec in vectored mode (RISC-V M-mode, hifive1).
 *
 * mtvec = vector_table | 1: interrupts go to BASE + 4 * cause, exceptions to BASE (rvtrap.S
 * passes each entry's number). A software interrupt (CLINT msip), a timer interrupt (mtimecmp
 * in the past) and an external interrupt (UART0's transmit watermark through the PLIC, claimed
 * and completed in the handler) each print the entry they arrived at and mcause; an ecall
 * arrives at entry 0. The handler masks the UART's interrupt before it claims and prints: QEMU's
 * PLIC pends a source again whenever its line rises, even while it is claimed.
 */
#include "rvtrap.h"

static volatile uint32_t taken;

frame_t *trap_handler(frame_t *frame, int vector)
{
    uint32_t cause = CSR_READ(mcause);
    uart_puts("entry ");
    uart_putu((uint32_t)vector);
    uart_puts(" mcause=");
    puthex(cause);
    if (cause == (MCAUSE_INTERRUPT | 3u)) {
        CLINT_MSIP = 0;
    } else if (cause == (MCAUSE_INTERRUPT | 7u)) {
        set_mtimecmp(~0ull);
    } else if (cause == (MCAUSE_INTERRUPT | 11u)) {
        UART_IE = 0; /* the watermark stays, but no longer interrupts */
        uint32_t id = PLIC_CLAIM;
        uart_puts(" claimed ");
        uart_putu(id);
        PLIC_CLAIM = id;
    } else {
        frame->x[0] += 4;
    }
    uart_puts("\r\n");
    taken++;
    return frame;
}

static void wait_taken(uint32_t n)
{
    while (taken < n)
        ;
}

int main(void)
{
    uart_init();
    set_mtimecmp(~0ull); /* mtimecmp has no reset value on the FE310 (QEMU resets it to 0) */
    CSR_WRITE(mtvec, (uint32_t)(uintptr_t)vector_table | 1u);
    CSR_SET(mie, MIP_MSIP | MIP_MTIP | MIP_MEIP);
    CSR_SET(mstatus, MSTATUS_MIE);

    CLINT_MSIP = 1;
    wait_taken(1);
    set_mtimecmp(0);
    wait_taken(2);
    PLIC_PRIORITY(PLIC_UART0) = 1;
    PLIC_THRESHOLD = 0;
    PLIC_ENABLE0 = 1u << PLIC_UART0;
    UART_TXCTRL = UART_TXCTRL_TXEN | (1u << 16); /* txcnt = 1: txwm while the FIFO is empty */
    while (UART_TXDATA & UART_TXDATA_FULL)
        ;
    UART_IE = 1; /* txwm */
    wait_taken(3);
    __asm__ volatile("ecall" ::: "memory");
    uart_puts("vectored: done\r\n");
    park();
}
