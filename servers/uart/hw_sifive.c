/* SiFive UART0 (hifive1, 0x10013000): 8-byte FIFOs and level watermark interrupts
 * (rxwm while the RX FIFO holds more than rxcnt, txwm while TX holds fewer than txcnt). */
#if !defined(__arm__)
#include "hw.h"

#define BASE 0x10013000u
#define REG(off) (*(volatile uint32_t *)(BASE + (off)))
#define TXDATA REG(0x00)
#define RXDATA REG(0x04)
#define TXCTRL REG(0x08)
#define RXCTRL REG(0x0C)
#define IE REG(0x10)
#define DIV REG(0x18)

#define FLAG 0x80000000u   /* txdata.full, rxdata.empty */
#define IE_TXWM 1u
#define IE_RXWM 2u
#define DIV_115200 138u    /* 16 MHz / 115200 baud - 1 */
#define TXCNT 4u           /* txwm: room for at least 5 bytes */

void hw_init(void)
{
    DIV = DIV_115200;
    TXCTRL = 1u | TXCNT << 16;  /* txen */
    RXCTRL = 1u;                /* rxen, rxcnt 0: rxwm as soon as one byte waits */
    IE = IE_RXWM;
}

uint32_t hw_clear_events(void)
{
    return 0; /* level interrupts: emptying the FIFO clears rxwm; no overrun flag */
}

int hw_rx(void)
{
    uint32_t v = RXDATA;
    return (v & FLAG) ? -1 : (int)(v & 0xFFu);
}

int hw_tx_room(void)
{
    return !(TXDATA & FLAG);
}

void hw_tx(uint8_t byte)
{
    TXDATA = byte;
}

void hw_tx_wanted(int on)
{
    IE = IE_RXWM | (on ? IE_TXWM : 0u);
}
#endif
