/*
 * A guest program for the machine's contract tests: each function is one probe
 * the tests call by setting the pc to its symbol, with arguments in registers.
 * Every probe returns to probe_done, which stops the run with a breakpoint.
 * Built for both ISAs from this one source.
 */
#include <stdint.h>

#if defined(__arm__)
#define BREAKPOINT() __asm__ volatile("bkpt #0")
static inline uint32_t trap_syscall(uint32_t number, uint32_t arg)
{
    register uint32_t r12 __asm__("r12") = number;
    register uint32_t r0 __asm__("r0") = arg;
    __asm__ volatile("svc #0" : "+r"(r0) : "r"(r12) : "memory");
    return r0;
}
#else
#define BREAKPOINT() __asm__ volatile("ebreak")
static inline uint32_t trap_syscall(uint32_t number, uint32_t arg)
{
    register uint32_t a7 __asm__("a7") = number;
    register uint32_t a0 __asm__("a0") = arg;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}
#endif

volatile uint32_t data_word = 0x11223344u;

uint32_t probe_load(uint32_t address) { return *(volatile uint32_t *)address; }

void probe_store(uint32_t address, uint32_t value) { *(volatile uint32_t *)address = value; }

void probe_jump(uint32_t address) { ((void (*)(void))address)(); }

void probe_undefined(void) { __builtin_trap(); }

uint32_t probe_syscall(uint32_t number, uint32_t arg) { return trap_syscall(number, arg) + 1; }

uint32_t probe_read_data(void) { return data_word; }

uint32_t probe_count(uint32_t n)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += i;
    return total;
}

#if defined(__riscv)
/* The counter CSRs, each read by its own probe (a0 = the low word). */
#define READ_CSR(name)                                                                             \
    uint32_t probe_read_##name(void)                                                           \
    {                                                                                          \
        uint32_t value;                                                                        \
        __asm__ volatile("csrr %0, " #name : "=r"(value));                                     \
        return value;                                                                          \
    }
READ_CSR(cycle)
READ_CSR(cycleh)
READ_CSR(instret)
READ_CSR(instreth)
READ_CSR(time)
READ_CSR(timeh)
READ_CSR(mcycle)
READ_CSR(mcycleh)
READ_CSR(minstret)
READ_CSR(minstreth)
#endif

void probe_done(void)
{
    for (;;)
        BREAKPOINT();
}
