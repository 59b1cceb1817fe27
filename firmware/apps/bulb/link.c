/* The bulb's UART1 driver (link.h): both boards' UARTs, registers from <uart/regs.h>, chosen by ISA. */
#include <atoll/atoll.h>

#include "link.h"
#include <uart/regs.h>

#if defined(__arm__)
/* mps2-an385: CMSDK APB UART1 */
#define BASE 0x40005000u
#define STATE CMSDK_UART_STATE(BASE)

static void hw_init(void)
{
    CMSDK_UART_BAUDDIV(BASE) = CMSDK_UART_BAUDDIV_115200_AT_25MHZ;
    CMSDK_UART_CTRL(BASE) = CMSDK_UART_CTRL_TXEN | CMSDK_UART_CTRL_RXEN | CMSDK_UART_CTRL_RXINTEN;
}

static void hw_clear(void) { CMSDK_UART_INTSTATUS(BASE) = CMSDK_UART_INT_RX | CMSDK_UART_INT_OVERRUNS; }
static int hw_rx(void) { return (STATE & CMSDK_UART_STATE_RXFULL) ? (int)(CMSDK_UART_DATA(BASE) & 0xFFu) : -1; }
static int hw_tx_room(void) { return !(STATE & CMSDK_UART_STATE_TXFULL); }
static void hw_tx(uint8_t byte) { CMSDK_UART_DATA(BASE) = byte; }
#else
/* hifive1: SiFive UART1 */
#define BASE 0x10023000u

static void hw_init(void)
{
    SIFIVE_UART_DIV(BASE) = SIFIVE_UART_DIV_115200_AT_16MHZ;
    SIFIVE_UART_TXCTRL(BASE) = SIFIVE_UART_TXEN;
    SIFIVE_UART_RXCTRL(BASE) = SIFIVE_UART_RXEN;   /* rxcnt 0: rxwm while one byte waits */
    SIFIVE_UART_IE(BASE) = SIFIVE_UART_IE_RXWM;
}

static void hw_clear(void) { /* a level interrupt: emptying the FIFO clears it */ }
static int hw_rx(void)
{
    uint32_t v = SIFIVE_UART_RXDATA(BASE);
    return (v & SIFIVE_UART_FLAG) ? -1 : (int)(v & 0xFFu);
}
static int hw_tx_room(void) { return !(SIFIVE_UART_TXDATA(BASE) & SIFIVE_UART_FLAG); }
static void hw_tx(uint8_t byte) { SIFIVE_UART_TXDATA(BASE) = byte; }
#endif

static uint8_t ring[256];
static uint32_t head, tail, dropped; /* free-running; the ring holds head - tail bytes */

static void drain(void)
{
    int byte;
    while ((byte = hw_rx()) >= 0) {
        if (head - tail < sizeof ring)
            ring[head++ % sizeof ring] = (uint8_t)byte;
        else
            dropped++;
    }
}

void link_init(void) { hw_init(); }

void link_interrupt(void)
{
    hw_clear(); /* first: a byte arriving after this interrupts again */
    drain();
}

int link_getc(void) { return head == tail ? -1 : ring[tail++ % sizeof ring]; }

void link_write(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!hw_tx_room())
            drain();
        hw_tx((uint8_t)text[i]);
    }
}

uint32_t link_dropped(void) { return dropped; }
