/* startup (MPS2 AN385): touches the system blocks the way vendor start-up code does, polling,
 * and reports over UART0.
 *
 * Every line holds only what the AN385 application note fixes and QEMU's `-M mps2-an385`
 * models the same way (SCC identity and oscillator transfer, FPGA I/O LEDs, buttons and
 * prescaled counter, the dual timer's one-shot count-down and interrupt status, the watchdog's
 * lock), so the test compares the whole output byte for byte with QEMU.
 * Built with firmware/bare/mps2-an385's board.h, crt0 and linker script; what both boards'
 * programs share is in startup.h.
 */
#include "startup.h"

#define SCC(off)       REG32(0x4002F000u + (off))
#define FPGAIO(off)    REG32(0x40028000u + (off))
#define DUALTIMER(off) REG32(0x40002000u + (off))
#define WDOG(off)      REG32(0x40008000u + (off))

static uint32_t dual_timer_one_shot(void)
{
    DUALTIMER(0x08) = 0;                       /* Timer1Control: off */
    DUALTIMER(0x00) = 1000;                    /* Timer1Load */
    DUALTIMER(0x0C) = 1;                       /* Timer1IntClr */
    DUALTIMER(0x08) = 0x80 | 0x20 | 0x02 | 0x01; /* enable, IntEnable, 32-bit, one-shot */
    uint32_t first = DUALTIMER(0x04);
    uint32_t polls = 0;
    while (!(DUALTIMER(0x10) & 1) && polls < 1000000u)
        polls++;
    uint32_t counted_down = first <= 1000 && DUALTIMER(0x04) == 0;
    uint32_t ris = DUALTIMER(0x10), mis = DUALTIMER(0x14);
    DUALTIMER(0x0C) = 1;
    return counted_down << 8 | ris << 4 | mis | (DUALTIMER(0x10) & 1) << 12;
}

int main(void)
{
    uart_init();
    uart_puts("startup on mps2-an385\r\n");
    line("scc.id", SCC(0xFFC));
    line("scc.aid", SCC(0xFF8));
    line("scc.cfg_reg4", SCC(0x010));
    FPGAIO(0x00) = 0x1;                        /* LED0 on, LED1 off */
    line("fpgaio.led0", FPGAIO(0x00));
    line("fpgaio.button", FPGAIO(0x08));
    line("dualtimer.pid0", DUALTIMER(0xFE0));
    line("dualtimer.oneshot", dual_timer_one_shot());
    WDOG(0xC00) = 0x1ACCE551;                  /* unlock, load, read back, lock */
    WDOG(0x000) = 0x00100000;
    line("watchdog.load", WDOG(0x000));
    WDOG(0xC00) = 0;
    line("watchdog.lock", WDOG(0xC00));
    SCC(0x0A8) = 1u << 31 | 1u << 20 | 2;      /* read OSCCLK2 */
    line("scc.oscclk2", SCC(0x0A0));
    line("scc.cfgstat", SCC(0x0AC));
    line("scc.switches", SCC(0x00C));
    FPGAIO(0x1C) = 99;                         /* COUNTER counts every 100 cycles */
    FPGAIO(0x20) = 99;
    FPGAIO(0x18) = 0;
    for (volatile int i = 0; i < 2000; i++)
        ;
    line("fpgaio.counter_moved", FPGAIO(0x18) > 0);
    uart_puts("done\r\n");
    park();
}
