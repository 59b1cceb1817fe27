/* A driver that never clears its device: it makes UART0 raise its transmit interrupt for good
 * (mps2-an385: TXINT latched and never cleared; hifive1: the txwm watermark with an empty
 * FIFO), then waits for notification bit 0, works on it for about a thousand instructions as a
 * handler would, and acks it, for ever. Prints each thousandth interrupt it took. */
#include <atoll/atoll.h>

#if defined(__arm__)
#define UART 0x40004000u
#define DATA (*(volatile uint32_t *)(UART + 0x000))
#define CTRL (*(volatile uint32_t *)(UART + 0x008))
#define BAUDDIV (*(volatile uint32_t *)(UART + 0x010))
static void provoke(void)
{
    BAUDDIV = 16u;
    CTRL = 0x1u | 0x4u;        /* TXEN | TXINTEN */
    DATA = 'x';                /* TXINT latches when it has gone */
}
#else
#define UART 0x10013000u
#define TXCTRL (*(volatile uint32_t *)(UART + 0x08))
#define IE (*(volatile uint32_t *)(UART + 0x10))
static void provoke(void)
{
    TXCTRL = 1u | (1u << 16);  /* txen, txcnt = 1: txwm pends while the FIFO is empty */
    IE = 1u;                   /* txwm */
}
#endif

int main(void)
{
    provoke();
    for (uint32_t n = 1;; n++) {
        uint32_t bits;
        atl_wait(1u, &bits);
        for (volatile uint32_t i = 0; i < 250u; i++) /* a handler's worth of work, ~1,000+ instructions */
            ;
        atl_irq_ack(1u);
        if (n % 1000u == 0)
            atl_printf("storm: %u interrupts\n", (unsigned)n);
    }
}
