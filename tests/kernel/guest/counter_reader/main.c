/* Reads the CPU's counters twice, 1000 us of sleep apart, and prints them; then exits 0.
 * RISC-V: cycle, instret and time (each with its high half), as rdcycle/rdinstret/rdtime do.
 * Cortex-M has no counter an unprivileged component may read: it reads SysTick's current
 * value (SYST_CVR, 0xE000E018), which is not in its address space (a fault). */
#include <atoll/atoll.h>

#if defined(__riscv)
#define CSR(name)                                                                                  \
    ({                                                                                         \
        uint32_t v_;                                                                           \
        __asm__ volatile("csrr %0, " #name : "=r"(v_));                                        \
        v_;                                                                                    \
    })

static void report(int round)
{
    uint32_t cycle = CSR(cycle), cycleh = CSR(cycleh);
    uint32_t instret = CSR(instret), instreth = CSR(instreth);
    uint32_t time = CSR(time), timeh = CSR(timeh);
    atl_printf("counters %d: cycle %u:%u instret %u:%u time %u:%u\n", round, (unsigned)cycleh,
               (unsigned)cycle, (unsigned)instreth, (unsigned)instret, (unsigned)timeh, (unsigned)time);
}
#else
static void report(int round)
{
    atl_printf("counters %d: reading SYST_CVR\n", round);
    uint32_t cvr = *(volatile uint32_t *)0xE000E018u;
    atl_printf("counters %d: SYST_CVR %u\n", round, (unsigned)cvr);
}
#endif

int main(void)
{
    report(1);
    atl_sleep_us(1000);
    report(2);
    return 0;
}
