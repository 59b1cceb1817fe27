/* SiFive UART0 (hifive1, 0x10013000): 8-byte FIFOs and level watermark interrupts
 * (rxwm while the RX FIFO holds more than rxcnt, txwm while TX holds fewer than txcnt). */
#if !defined(__arm__)
#include "hw.h"
#include "regs.h"

#define BASE 0x10013000u
#define TXDATA SIFIVE_UART_TXDATA(BASE)
#define RXDATA SIFIVE_UART_RXDATA(BASE)
#define IE SIFIVE_UART_IE(BASE)
#define TXCNT 4u           /* txwm: room for at least 5 bytes */

void hw_init(void)
{
    SIFIVE_UART_DIV(BASE) = SIFIVE_UART_DIV_115200_AT_16MHZ;
    SIFIVE_UART_TXCTRL(BASE) = SIFIVE_UART_TXEN | TXCNT << 16;
    SIFIVE_UART_RXCTRL(BASE) = SIFIVE_UART_RXEN;   /* rxcnt 0: rxwm as soon as one byte waits */
    IE = SIFIVE_UART_IE_RXWM;
}

uint32_t hw_clear_events(void)
{
    return 0; /* level interrupts: emptying the FIFO clears rxwm; no overrun flag */
}

int hw_rx(void)
{
    uint32_t v = RXDATA;
    return (v & SIFIVE_UART_FLAG) ? -1 : (int)(v & 0xFFu);
}

int hw_tx_room(void)
{
    return !(TXDATA & SIFIVE_UART_FLAG);
}

void hw_tx(uint8_t byte)
{
    TXDATA = byte;
}

void hw_tx_wanted(int on)
{
    IE = SIFIVE_UART_IE_RXWM | (on ? SIFIVE_UART_IE_TXWM : 0u);
}
#endif
