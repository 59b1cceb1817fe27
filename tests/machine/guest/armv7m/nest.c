/* Priorities, nesting, masking and tail-chaining (ARMv7-M ARM B1.5.4, B1.5.12, B3.4).
 *
 * IRQ 0-3 are pended by software (STIR, ISPR); each handler prints its name. Priorities use
 * the AN385's 3 bits (0x20 steps): IRQ0 0x80, IRQ1 0x40 (more urgent), IRQ2 0xC0 (less urgent),
 * IRQ3 0x40. Checks, in order:
 * 1. IRQ0's handler pends IRQ1 (preempts: nested) and IRQ2 (waits, pending, until IRQ0 returns);
 *    IRQ2 is tail-chained: it sees the same SP as IRQ0 did and LR = 0xFFFFFFF9.
 * 2. PRIMASK: a pended IRQ waits for cpsie and is taken before the next instruction that matters
 *    (the loop after cpsie never counts); FAULTMASK likewise.
 * 3. BASEPRI 0x80 holds back IRQ0 (0x80) but not IRQ1 (0x40); BASEPRI_MAX only raises it.
 * 4. PRIGROUP 7 (no group bits, all subpriority): IRQ1 (0x40) no longer preempts IRQ0 (0x80).
 * 5. IABR and ICSR.VECTACTIVE/RETTOBASE read inside handlers; PendSV set from a handler runs last.
 */
#include "armv7m.h"

static volatile uint32_t sp_in_irq0, sp_in_irq2, lr_in_irq2, step, irq_seen;

__attribute__((naked)) void irq0_handler(void)
{
    __asm__ volatile(
        "mov r0, sp\n"
        "b irq0_c\n");
}

__attribute__((used)) void irq0_c(uint32_t sp)
{
    sp_in_irq0 = sp;
    irq_seen = 1;
    puts_("irq0 in, active ");
    puthex(NVIC_IABR);
    puts_("\n");
    if (step == 1) {
        STIR = 2;   /* less urgent: waits */
        STIR = 1;   /* more urgent: preempts now */
        __asm__ volatile("dsb\n isb");
        puts_("irq0 after pending irq1 and irq2, ispr ");
        puthex(NVIC_ISPR);
        puts_("\n");
    }
    if (step == 4) {
        STIR = 1;
        __asm__ volatile("dsb\n isb");
        puts_("irq0: irq1 in the same group waits, ispr ");
        puthex(NVIC_ISPR);
        puts_("\n");
    }
    puts_("irq0 out\n");
}

void irq1_handler(void)
{
    puts_("irq1, icsr vectactive ");
    puthex(ICSR & 0x1FFu);
    puts_(ICSR & (1u << 11) ? " rettobase\n" : " nested\n");
}

__attribute__((naked)) void irq2_handler(void)
{
    __asm__ volatile(
        "mov r0, sp\n"
        "mov r1, lr\n"
        "b irq2_c\n");
}

__attribute__((used)) void irq2_c(uint32_t sp, uint32_t lr)
{
    sp_in_irq2 = sp;
    lr_in_irq2 = lr;
    puts_("irq2\n");
}

void irq3_handler(void)
{
    puts_("irq3, pending pendsv\n");
    ICSR = ICSR_PENDSVSET;
    puts_("irq3 out\n");
}

void pendsv_handler(void)
{
    puts_("pendsv\n");
}

static void section(const char *name)
{
    puts_("-- ");
    puts_(name);
    puts_("\n");
}

int main(void)
{
    NVIC_IPR(0) = 0x80;
    NVIC_IPR(1) = 0x40;
    NVIC_IPR(2) = 0xC0;
    NVIC_IPR(3) = 0x40;
    SHPR3 = 0xFFu << 16;   /* PendSV least urgent */
    puts_("ipr0 reads ");
    puthex(REG32(0xE000E400u));
    puts_("\n");
    NVIC_ISER = 0xF;

    section("nesting and tail-chaining");
    step = 1;
    STIR = 0;
    __asm__ volatile("dsb\n isb");
    puts_(sp_in_irq2 == sp_in_irq0 ? "irq2 tail-chained on irq0's frame, lr " : "irq2 not tail-chained, lr ");
    puthex(lr_in_irq2);
    puts_("\n");

    section("primask");
    step = 2;
    __asm__ volatile("cpsid i");
    NVIC_ISPR = 1;
    puts_("masked, ispr ");
    puthex(NVIC_ISPR);
    puts_("\n");
    irq_seen = 0;
    uint32_t spins = 0;
    __asm__ volatile("cpsie i" ::: "memory");   /* taken at once: the loop never runs */
    while (!irq_seen)
        spins++;
    puts_("after cpsie, spins ");
    puthex(spins);
    puts_("\n");

    section("faultmask");
    __asm__ volatile("cpsid f");
    NVIC_ISPR = 2;
    puts_("masked by faultmask\n");
    __asm__ volatile("cpsie f\n isb");
    puts_("after cpsie f\n");

    section("basepri");
    __asm__ volatile("msr basepri, %0\n isb" : : "r"(0x80u));
    NVIC_ISPR = 1;
    puts_("irq0 held by basepri 0x80\n");
    NVIC_ISPR = 2;
    __asm__ volatile("isb");
    puts_("irq1 went through\n");
    __asm__ volatile("msr basepri_max, %0\n isb" : : "r"(0xC0u));
    uint32_t bp;
    __asm__ volatile("mrs %0, basepri" : "=r"(bp));
    puts_("basepri_max 0xc0 leaves ");
    puthex(bp);
    puts_("\n");
    __asm__ volatile("msr basepri, %0\n isb" : : "r"(0u));
    puts_("after basepri 0\n");

    section("prigroup");
    step = 4;
    AIRCR = AIRCR_KEY | (7u << 8);
    puts_("aircr ");
    puthex(AIRCR);
    puts_("\n");
    STIR = 0;
    __asm__ volatile("dsb\n isb");
    AIRCR = AIRCR_KEY;
    step = 5;

    section("pendsv from a handler");
    STIR = 3;
    __asm__ volatile("dsb\n isb");
    return 0;
}
