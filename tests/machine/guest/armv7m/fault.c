/* Faults and their escalation to HardFault (ARMv7-M ARM B1.5.14-B1.5.16, B3.2.15-B3.2.18).
 *
 * Each fault handler prints what it sees (CFSR, HFSR, BFAR), clears the status (write one to
 * clear) and skips the faulting instruction by moving the stacked return address past it.
 * 1. An undefined instruction with UsageFault disabled escalates: HardFault, HFSR.FORCED, UNDEFINSTR.
 * 2. The same with UsageFault enabled (SHCSR.USGFAULTENA) goes to UsageFault.
 * 3. A load from an unmapped address with BusFault enabled: BusFault, PRECISERR, BFARVALID, BFAR.
 * 4. The same load with BusFault enabled but masked by BASEPRI (priority not sufficient): HardFault.
 * 5. An SVC with PRIMASK set cannot be taken: HardFault, FORCED.
 * 6. A fault inside HardFault: lockup (the run ends).
 */
#include "armv7m.h"

static volatile uint32_t lockup_next;

static void skip_instruction(uint32_t *frame)
{
    uint16_t first = *(const uint16_t *)frame[6];
    frame[6] += (first >> 11) >= 0x1D ? 4 : 2;
}

static void report(const char *name, uint32_t *frame)
{
    puts_(name);
    puts_(": cfsr ");
    puthex(CFSR);
    puts_(" hfsr ");
    puthex(HFSR);
    if (CFSR & (1u << 15)) {
        puts_(" bfar ");
        puthex(BFAR);
    }
    puts_("\n");
    CFSR = CFSR;
    HFSR = HFSR;
    skip_instruction(frame);
}

#define FRAME_HANDLER(name)                    \
    __attribute__((naked)) void name(void)    \
    {                                          \
        __asm__ volatile("tst lr, #4\n"        \
                         "ite eq\n"            \
                         "mrseq r0, msp\n"     \
                         "mrsne r0, psp\n"     \
                         "b " #name "_c\n");   \
    }

FRAME_HANDLER(hardfault_handler)
FRAME_HANDLER(usagefault_handler)
FRAME_HANDLER(busfault_handler)

__attribute__((used)) void hardfault_handler_c(uint32_t *frame)
{
    report("hardfault", frame);
    if (lockup_next) {
        for (volatile int i = 0; i < 2000; i++)   /* let the UART send the last byte */
            ;
        __asm__ volatile("udf #1");
    }
}

__attribute__((used)) void usagefault_handler_c(uint32_t *frame)
{
    report("usagefault", frame);
}

__attribute__((used)) void busfault_handler_c(uint32_t *frame)
{
    report("busfault", frame);
}

static void undefined(void)
{
    __asm__ volatile("udf #7");
}

__attribute__((noinline)) static uint32_t load_unmapped(void)   /* a symbol for tests/machine/test_block_counting.py */
{
    return REG32(0x60000000u);
}

int main(void)
{
    puts_("undefined, usagefault disabled\n");
    undefined();
    puts_("undefined, usagefault enabled\n");
    SHCSR = (1u << 18) | (1u << 17);
    undefined();
    puts_("unmapped load, busfault enabled\n");
    load_unmapped();
    puts_("unmapped load under basepri 0x20\n");
    SHPR2 = 0;
    REG32(0xE000ED18u) = 0x4040u << 8 | 0x40u;   /* SHPR1: MemManage, BusFault, UsageFault at 0x40 */
    __asm__ volatile("msr basepri, %0\n isb" : : "r"(0x20u));
    load_unmapped();
    __asm__ volatile("msr basepri, %0\n isb" : : "r"(0u));
    puts_("svc with primask set\n");
    __asm__ volatile("cpsid i\n svc #1\n nop\n cpsie i");   /* the handler skips the nop */
    puts_("fault in hardfault\n");
    SHCSR = 0;
    lockup_next = 1;
    undefined();
    puts_("not reached\n");
    return 0;
}
