/* startup (HiFive1, FE310-G002): the clock and flash set-up a vendor SDK does before main,
 * polling, reported over UART0.
 *
 * The lines before "--" hold what the FE310-G002 manual fixes and QEMU's `-M sifive_e` models
 * the same way (the oscillators' enable and ready bits, the PLL set-up spinning on its lock bit,
 * plloutdiv); the test compares them byte for byte with QEMU. The lines after "--" cover the blocks
 * QEMU's sifive_e does not model (AON RTC and backup registers, the SPI flash controller's
 * JEDEC ID read, PWM) and are checked on Atoll alone.
 * Built with firmware/bare/hifive1's board.h, crt0 and linker script; what both boards'
 * programs share is in startup.h.
 */
#include "startup.h"

#define PRCI(off) REG32(0x10008000u + (off))
#define AON(off)  REG32(0x10000000u + (off))
#define QSPI(off) REG32(0x10014000u + (off))
#define PWM1(off) REG32(0x10025000u + (off))

#define PLL_R(x) ((x) & 0x7u)
#define PLL_F(x) (((x) & 0x3Fu) << 4)
#define PLL_Q(x) (((x) & 0x3u) << 10)
#define PLL_SEL (1u << 16)
#define PLL_REFSEL (1u << 17)
#define PLL_BYPASS (1u << 18)
#define PLL_LOCK (1u << 31)
#define RDY (1u << 31)

/* 256 MHz PLL from the 16 MHz crystal, divided by 2 for a 128 MHz core clock, the way the
 * SDKs' clock set-up does it: crystal on and ready, PLL bypassed while it is configured,
 * then unbypassed, lock awaited, and selected. */
static uint32_t pll_setup(void)
{
    PRCI(0x00) |= 1u << 30;                       /* HFROSC on while we switch */
    while (!(PRCI(0x00) & RDY))
        ;
    PRCI(0x08) &= ~PLL_SEL;                       /* run from HFROSC */
    PRCI(0x04) = 1u << 30;                        /* HFXOSC on */
    while (!(PRCI(0x04) & RDY))
        ;
    PRCI(0x08) = PLL_REFSEL | PLL_BYPASS;
    PRCI(0x08) = PLL_REFSEL | PLL_BYPASS | PLL_R(1) | PLL_F(31) | PLL_Q(1);
    PRCI(0x0C) = 0;                               /* plloutdiv: divide by 2 */
    PRCI(0x08) &= ~PLL_BYPASS;
    while (!(PRCI(0x08) & PLL_LOCK))
        ;
    PRCI(0x08) |= PLL_SEL;
    return PRCI(0x08) & ~PLL_LOCK;
}

static uint32_t flash_jedec_id(void)
{
    QSPI(0x60) = 0;                               /* fctrl: leave memory-mapped mode */
    while (!(QSPI(0x4C) & RDY))                   /* drain rxdata */
        ;
    QSPI(0x18) = 2;                               /* csmode HOLD */
    uint32_t id = 0;
    for (int i = 0; i < 4; i++) {
        QSPI(0x48) = i == 0 ? 0x9F : 0;
        uint32_t rx;
        while ((rx = QSPI(0x4C)) & RDY)
            ;
        if (i)
            id = id << 8 | (rx & 0xFF);
    }
    QSPI(0x18) = 0;                               /* csmode AUTO */
    QSPI(0x60) = 1;
    return id;
}

int main(void)
{
    uart_init();
    uart_puts("startup on hifive1\r\n");
    line("prci.hfrosc_en_rdy", PRCI(0x00) & 0xC0000000u); /* QEMU resets div and trim to 0 */
    line("prci.hfxosccfg", PRCI(0x04));
    line("prci.plloutdiv", PRCI(0x0C));
    line("prci.pllcfg", pll_setup());
    line("prci.plloutdiv", PRCI(0x0C));
    uart_puts("--\r\n");
    line("prci.hfrosccfg", PRCI(0x00));
    line("aon.lfrosccfg", AON(0x070));
    AON(0x080) = 0xB00710AD;                      /* backup0 keeps a value */
    line("aon.backup0", AON(0x080));
    AON(0x060) = 2;                               /* rtccmp0: 2 ticks of rtcs */
    AON(0x040) = 1u << 12 | 8;                    /* rtcenalways, rtcscale 8 */
    while (!(AON(0x040) & (1u << 28)))
        ;
    line("aon.rtcs", AON(0x050));
    line("qspi0.jedec_id", flash_jedec_id());
    PWM1(0x20) = 999;                             /* pwmcmp0: the period */
    PWM1(0x24) = 250;                             /* pwmcmp1 */
    PWM1(0x00) = 1u << 12 | 1u << 9;              /* pwmenalways, pwmzerocmp */
    while (!(PWM1(0x00) & (1u << 28)))
        ;
    line("pwm1.cfg", PWM1(0x00) & 0xF0000000u);
    uart_puts("done\r\n");
    park();
}
