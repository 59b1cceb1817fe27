/* CMSDK APB UART (mps2-an385 UART0 at 0x40004000): one-byte TX and RX buffers,
 * latched TX-done and RX interrupts cleared through INTCLEAR. */
#if defined(__arm__)
#include "hw.h"
#include "regs.h"

#define BASE 0x40004000u
#define DATA CMSDK_UART_DATA(BASE)
#define STATE CMSDK_UART_STATE(BASE)
#define CTRL CMSDK_UART_CTRL(BASE)
#define INTSTATUS CMSDK_UART_INTSTATUS(BASE)

void hw_init(void)
{
    CMSDK_UART_BAUDDIV(BASE) = CMSDK_UART_BAUDDIV_115200_AT_25MHZ; /* see README.md */
    CTRL = CMSDK_UART_CTRL_TXEN | CMSDK_UART_CTRL_RXEN | CMSDK_UART_CTRL_TXINTEN | CMSDK_UART_CTRL_RXINTEN |
           CMSDK_UART_CTRL_RXOVRINTEN;
}

uint32_t hw_clear_events(void)
{
    uint32_t status = INTSTATUS;
    INTSTATUS = CMSDK_UART_INT_TX | CMSDK_UART_INT_RX | CMSDK_UART_INT_OVERRUNS; /* clears them all */
    return (status & CMSDK_UART_INT_OVERRUNS) ? 1u : 0u;
}

int hw_rx(void)
{
    return (STATE & CMSDK_UART_STATE_RXFULL) ? (int)(DATA & 0xFFu) : -1;
}

int hw_tx_room(void)
{
    return !(STATE & CMSDK_UART_STATE_TXFULL);
}

void hw_tx(uint8_t byte)
{
    DATA = byte;
}

void hw_tx_wanted(int on)
{
    (void)on; /* the TX-done interrupt only latches after a byte left: it stays enabled */
}
#endif
