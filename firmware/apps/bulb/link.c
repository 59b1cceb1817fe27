/* The bulb's UART1 driver (link.h): both boards' register layouts, chosen by ISA. */
#include <atoll/atoll.h>

#include "link.h"

#if defined(__arm__)
/* mps2-an385: CMSDK APB UART1 at 0x40005000 */
#define BASE 0x40005000u
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
#define CTRL_RXINTEN 8u
#define INT_RX 2u

static void hw_init(void)
{
    BAUDDIV = 217; /* 115200 baud at 25 MHz */
    CTRL = CTRL_TXEN | CTRL_RXEN | CTRL_RXINTEN;
}

static void hw_clear(void) { INTSTATUS = INT_RX | 0xCu; /* RXINT and both overrun flags */ }
static int hw_rx(void) { return (STATE & STATE_RXFULL) ? (int)(DATA & 0xFFu) : -1; }
static int hw_tx_room(void) { return !(STATE & STATE_TXFULL); }
static void hw_tx(uint8_t byte) { DATA = byte; }
#else
/* hifive1: SiFive UART1 at 0x10023000 */
#define BASE 0x10023000u
#define REG(off) (*(volatile uint32_t *)(BASE + (off)))
#define TXDATA REG(0x00)
#define RXDATA REG(0x04)
#define TXCTRL REG(0x08)
#define RXCTRL REG(0x0C)
#define IE REG(0x10)
#define DIV REG(0x18)
#define FLAG 0x80000000u /* txdata.full, rxdata.empty */
#define IE_RXWM 2u

static void hw_init(void)
{
    DIV = 138u;      /* 16 MHz / 115200 baud - 1 */
    TXCTRL = 1u;     /* txen */
    RXCTRL = 1u;     /* rxen; rxcnt 0: rxwm while one byte waits */
    IE = IE_RXWM;
}

static void hw_clear(void) { /* a level interrupt: emptying the FIFO clears it */ }
static int hw_rx(void)
{
    uint32_t v = RXDATA;
    return (v & FLAG) ? -1 : (int)(v & 0xFFu);
}
static int hw_tx_room(void) { return !(TXDATA & FLAG); }
static void hw_tx(uint8_t byte) { TXDATA = byte; }
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
