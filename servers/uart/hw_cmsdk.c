/* CMSDK APB UART (mps2-an385 UART0 at 0x40004000): one-byte TX and RX buffers,
 * latched TX-done and RX interrupts cleared through INTCLEAR. */
#if defined(__arm__)
#include "hw.h"

#define BASE 0x40004000u
#define REG(off) (*(volatile uint32_t *)(BASE + (off)))
#define DATA REG(0x000)
#define STATE REG(0x004)
#define CTRL REG(0x008)
#define INTSTATUS REG(0x00C) /* write: INTCLEAR */
#define BAUDDIV REG(0x010)

#define STATE_TXFULL 1u
#define STATE_RXFULL 2u
#define CTRL_TXEN 1u
#define CTRL_RXEN 2u
#define CTRL_TXINTEN 4u
#define CTRL_RXINTEN 8u
#define CTRL_RXOVRINTEN 32u
#define INT_OVERRUNS 0xCu

void hw_init(void)
{
    BAUDDIV = 217; /* 115200 baud at 25 MHz; see README.md */
    CTRL = CTRL_TXEN | CTRL_RXEN | CTRL_TXINTEN | CTRL_RXINTEN | CTRL_RXOVRINTEN;
}

uint32_t hw_clear_events(void)
{
    uint32_t status = INTSTATUS;
    INTSTATUS = 0xFu; /* clears TXINT, RXINT and both overrun flags */
    return (status & INT_OVERRUNS) ? 1u : 0u;
}

int hw_rx(void)
{
    return (STATE & STATE_RXFULL) ? (int)(DATA & 0xFFu) : -1;
}

int hw_tx_room(void)
{
    return !(STATE & STATE_TXFULL);
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
