/* Writes the same 16-byte line to UART0 (given to it at its physical address) for ever, as
 * fast as the transmitter takes bytes (mps2-an385: high-speed test mode, 10 cycles a character;
 * hifive1: div 0, 10 cycles a character). */
#include <atoll/atoll.h>

#if defined(__arm__)
#define UART 0x40004000u
#define DATA (*(volatile uint32_t *)(UART + 0x000))
#define STATE (*(volatile uint32_t *)(UART + 0x004))
#define CTRL (*(volatile uint32_t *)(UART + 0x008))
#define BAUDDIV (*(volatile uint32_t *)(UART + 0x010))
static void setup(void) { BAUDDIV = 16u; CTRL = 0x1u | 0x40u; } /* TXEN | HSTM */
static void put(char c) { while (STATE & 0x1u) {} DATA = (uint8_t)c; }
#else
#define UART 0x10013000u
#define TXDATA (*(volatile uint32_t *)(UART + 0x00))
#define TXCTRL (*(volatile uint32_t *)(UART + 0x08))
#define DIV (*(volatile uint32_t *)(UART + 0x18))
static void setup(void) { DIV = 0u; TXCTRL = 1u; }
static void put(char c) { while (TXDATA & 0x80000000u) {} TXDATA = (uint8_t)c; }
#endif

int main(void)
{
    setup();
    for (;;)
        for (const char *s = "0123456789abcde\n"; *s; s++)
            put(*s);
}
