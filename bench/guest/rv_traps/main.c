/* rv_traps: the bare-metal hifive1 program bench/rv_exceptions.py times (M-mode, no kernel).
 *
 * Built once per MODE:
 *   0 (loop)    ROUNDS rounds of an empty counted loop: the floor;
 *   1 (ecall)   the same loop with an ecall in each round, to a 5-instruction handler that
 *               moves mepc past it and returns with mret: one exception round trip per round;
 *   2 (latency) ROUNDS machine timer interrupts, each armed one mtime tick ahead while the
 *               program spins; the handler's first instruction reads mcycle, stored with the
 *               mtimecmp it answered (first SAMPLES rounds) for the host to compute the latency;
 *   3 (wake)    the same interrupts, waited for in WFI.
 * Each mode prints "rv_traps: cycles=<mcycle spent in the rounds>" and parks.
 */
#include <stdint.h>
#include "board.h"

#ifndef MODE
#error "build with -DMODE=0..3"
#endif
#ifndef ROUNDS
#define ROUNDS 1000
#endif
#define SAMPLES 64

volatile uint32_t entry_cycle[SAMPLES], armed_tick[SAMPLES];
volatile uint32_t hits;

__asm__(".section .text\n"
        ".balign 4\n"
        "ecall_handler:\n"
        "    csrw mscratch, t0\n"
        "    csrr t0, mepc\n"
        "    addi t0, t0, 4\n"
        "    csrw mepc, t0\n"
        "    csrr t0, mscratch\n"
        "    mret\n"
        ".balign 4\n"
        "timer_handler:\n"
        "    csrw mscratch, t0\n"
        "    csrr t0, mcycle\n"
        "    addi sp, sp, -16\n"
        "    sw t1, 0(sp)\n"
        "    sw t2, 4(sp)\n"
        "    la t1, hits\n"
        "    lw t2, 0(t1)\n"
        "    addi t2, t2, 1\n"
        "    sw t2, 0(t1)\n"
        "    addi t2, t2, -1\n"
        "    sltiu t1, t2, 64\n"
        "    beqz t1, 1f\n"
        "    slli t2, t2, 2\n"
        "    la t1, entry_cycle\n"
        "    add t1, t1, t2\n"
        "    sw t0, 0(t1)\n"
        "1:  li t1, 0x02004004\n"
        "    li t2, -1\n"
        "    sw t2, 0(t1)\n"
        "    lw t1, 0(sp)\n"
        "    lw t2, 4(sp)\n"
        "    addi sp, sp, 16\n"
        "    csrr t0, mscratch\n"
        "    mret\n");

extern char ecall_handler[], timer_handler[];

static void print(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void print_dec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        uart_putc(buf[--n]);
}

static uint32_t mcycle(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
    return v;
}

int main(void)
{
    uart_init();
    REG32(0x02004004u) = 0xFFFFFFFFu; /* mtimecmp: no match until armed */
    uint32_t start = mcycle();
#if MODE == 0 || MODE == 1
    __asm__ volatile("csrw mtvec, %0" ::"r"(ecall_handler));
    for (uint32_t i = 0; i < ROUNDS; i++) {
#if MODE == 1
        __asm__ volatile("ecall" ::: "memory");
#else
        __asm__ volatile("" ::: "memory");
#endif
    }
#else
    __asm__ volatile("csrw mtvec, %0" ::"r"(timer_handler));
    __asm__ volatile("csrs mie, %0" ::"r"(1u << 7));
    __asm__ volatile("csrsi mstatus, 8");
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t tick = CLINT_MTIME_LO + 1;
        if (i < SAMPLES)
            armed_tick[i] = tick;
        REG32(0x02004000u) = tick;
        REG32(0x02004004u) = 0;
        while (hits == i)
#if MODE == 3
            __asm__ volatile("wfi");
#else
            ;
#endif
    }
#endif
    uint32_t spent = mcycle() - start;
    print("rv_traps: cycles=");
    print_dec(spent);
    print("\r\n");
    park();
}
