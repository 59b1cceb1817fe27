/* uart_rx: receiving on UART0 by interrupt through the PLIC (RISC-V M-mode, hifive1).
 *
 * UART0's receive watermark (ie.rxwm, rxcnt 0: a byte is waiting) is PLIC source 3, priority
 * 2 over threshold 1. main sleeps in WFI; the external interrupt handler claims the source,
 * drains the receive FIFO into a buffer and completes the claim. After a newline main prints
 * the line and the number of interrupts it took.
 */
#include "rvtrap.h"

static volatile char line[64];
static volatile uint32_t length, interrupts, newline;

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    if (CSR_READ(mcause) != (MCAUSE_INTERRUPT | 11u)) {
        uart_puts("uart_rx: unexpected trap ");
        puthex(CSR_READ(mcause));
        uart_puts("\r\n");
        park();
    }
    uint32_t id = PLIC_CLAIM;
    if (id == PLIC_UART0) {
        for (;;) {
            uint32_t data = UART_RXDATA;
            if (data & UART_RXDATA_EMPTY)
                break;
            if ((char)data == '\n')
                newline = 1;
            else if (length < sizeof line - 1)
                line[length++] = (char)data;
        }
    }
    interrupts++;
    PLIC_CLAIM = id;
    return frame;
}

int main(void)
{
    uart_init();
    CSR_WRITE(mtvec, trap_entry);
    UART_RXCTRL = 1u; /* rxen, rxcnt 0 */
    UART_IE = 2u;     /* rxwm */
    PLIC_PRIORITY(PLIC_UART0) = 2;
    PLIC_THRESHOLD = 1;
    PLIC_ENABLE0 = 1u << PLIC_UART0;
    CSR_SET(mie, MIP_MEIP);
    CSR_SET(mstatus, MSTATUS_MIE);
    uart_puts("uart_rx: ready\r\n");
    while (!newline)
        __asm__ volatile("wfi");
    line[length] = 0;
    uart_puts("uart_rx: got '");
    uart_puts((const char *)line);
    uart_puts("' in ");
    uart_putu(interrupts != 0);
    uart_puts(" or more interrupts\r\n");
    park();
}
