/* Overruns the transmitter of UART1 (given to it at its physical address) and exits:
 * mps2-an385: a second DATA write while TXFULL sets TXOVR, with its interrupt enabled, which
 * leaves the shared overflow line (IRQ 12) high; hifive1: ten txdata writes into the
 * 8-entry FIFO, the last ones dropped. */
#include <atoll/atoll.h>

#if defined(__arm__)
#define UART 0x40005000u
#define DATA (*(volatile uint32_t *)(UART + 0x000))
#define CTRL (*(volatile uint32_t *)(UART + 0x008))
#define BAUDDIV (*(volatile uint32_t *)(UART + 0x010))
static void overrun(void)
{
    BAUDDIV = 16u;
    CTRL = 0x1u | 0x10u;       /* TXEN | TXOVRINTEN */
    DATA = 'a';
    DATA = 'b';                /* TXFULL: dropped, TXOVR set */
    DATA = 'c';                /* dropped again */
}
#else
#define UART 0x10023000u
#define TXDATA (*(volatile uint32_t *)(UART + 0x00))
#define TXCTRL (*(volatile uint32_t *)(UART + 0x08))
static void overrun(void)
{
    TXCTRL = 1u;               /* txen */
    for (int i = 0; i < 12; i++)
        TXDATA = 'a' + i;      /* one into the shift register, eight queued, three dropped */
}
#endif

int main(void)
{
    overrun();
    atl_printf("overrunner: done\n");
    return 0;
}
