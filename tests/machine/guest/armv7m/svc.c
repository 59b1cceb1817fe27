/* SVC, VTOR relocation, WFI wake-up and SYSRESETREQ (ARMv7-M ARM B1.5.6, B1.5.8, B3.2.5, B3.2.6).
 *
 * The SVC handler finds the frame through EXC_RETURN bit 2 (MSP or PSP), reads the immediate
 * of the svc instruction from the stacked return address and r0/r1 from the stacked registers,
 * and returns r0 + r1 * imm in the stacked r0. It runs once on MSP and once on PSP. Then the
 * vector table is copied to RAM, VTOR pointed at it, and its SVCall entry replaced. SysTick then
 * wakes a WFI. Last, SYSRESETREQ: the program counts its boots in a RAM word no segment covers and
 * stops after the second.
 */
#include "armv7m.h"

#define BOOTS REG32(0x203F0000u)
#define BOOT_MAGIC 0xB0070000u

static volatile uint32_t ticks;
static uint32_t psp_stack[64] __attribute__((aligned(8)));
__attribute__((aligned(256))) static void (*ram_table[48])(void);

__attribute__((naked)) void svc_handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b svc_c\n");
}

__attribute__((used)) void svc_c(uint32_t *frame)
{
    uint32_t imm = ((const uint8_t *)frame[6])[-2];
    frame[0] = frame[0] + frame[1] * imm;
}

static void relocated_svc(void)
{
    puts_("relocated svc handler, ipsr ");
    puthex(get_ipsr());
    puts_("\n");
}

void systick_handler(void)
{
    ticks++;
}

static uint32_t svc_add(uint32_t a, uint32_t b)
{
    register uint32_t r0 __asm__("r0") = a;
    register uint32_t r1 __asm__("r1") = b;
    __asm__ volatile("svc #42" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int main(void)
{
    if (BOOTS != BOOT_MAGIC + 1) {
        BOOTS = BOOT_MAGIC + 1;
        puts_("boot 1\n");
    } else {
        puts_("boot 2 after SYSRESETREQ\n");
        BOOTS = 0;
        return 0;
    }
    puts_("svc on msp: ");
    puthex(svc_add(5, 2));
    puts_("\n");

    __asm__ volatile("msr psp, %0" : : "r"(&psp_stack[64]));
    __asm__ volatile("msr control, %0\n isb" : : "r"(2u));
    puts_("svc on psp: ");
    puthex(svc_add(1, 3));
    puts_(get_sp() >= (uint32_t)&psp_stack[0] && get_sp() <= (uint32_t)&psp_stack[64] ? ", sp is psp\n" : ", sp wrong\n");
    __asm__ volatile("msr control, %0\n isb" : : "r"(0u));

    for (int i = 0; i < 48; i++)
        ram_table[i] = vector_table[i];
    ram_table[11] = relocated_svc;
    VTOR = (uint32_t)ram_table;
    puts_("vtor ");
    puthex(VTOR);
    puts_("\n");
    __asm__ volatile("svc #0");
    VTOR = 0;

    SYST_RVR = 24999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    while (ticks < 3)
        __asm__ volatile("wfi");
    SYST_CSR = 0;
    puts_("woke on systick 3 times\n");

    puts_("sysresetreq\n");
    for (volatile int i = 0; i < 2000; i++)   /* let the UART send the last byte */
        ;
    AIRCR = AIRCR_KEY | (1u << 2);
    for (;;)
        ;
}
