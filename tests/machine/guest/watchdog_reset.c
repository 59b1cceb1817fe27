/* watchdog_reset: arms the board's watchdog to reset it after about 1 ms and never feeds it.
 * Prints "armed\r\n" on UART0 at each start, so a board reset shows as a second "armed".
 * mps2-an385: the CMSDK watchdog (interrupt at the first timeout, reset at the second);
 * hifive1: the AON watchdog with wdogrsten (reset when the comparator fires).
 * Built with firmware/bare/<board>'s board.h, crt0 and linker script.
 */
#include "board.h"
#include "../uart_print.h"   /* firmware/bare/, next to the board folder on the include path */

int main(void)
{
    uart_init();
    uart_puts("armed\r\n");
#ifdef __riscv
    REG32(0x1000001Cu) = 0x51F15E;     /* wdogkey */
    REG32(0x10000020u) = 33;           /* wdogcmp0: 33 ticks of 32768 Hz, about 1 ms */
    REG32(0x1000001Cu) = 0x51F15E;
    REG32(0x10000000u) = 1u << 12 | 1u << 8;   /* wdogenalways, wdogrsten */
#else
    REG32(0x40008C00u) = 0x1ACCE551;   /* WDOGLOCK: unlock */
    REG32(0x40008000u) = 12500;        /* WDOGLOAD: 0.5 ms at 25 MHz, twice */
    REG32(0x40008008u) = 3;            /* INTEN, RESEN */
    REG32(0x40008C00u) = 0;            /* lock */
#endif
    for (;;)
        ;
}
