/* rv_traps: the bare-metal hifive1 program bench/guest_exceptions.py times (M-mode, no kernel).
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
#include "board.h"        /* CSR access and the CLINT registers */
#include "../uart_print.h" /* firmware/bare/, next to the board folder on the include path */

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

int main(void)
{
    uart_init();
    CLINT_MTIMECMP_HI = 0xFFFFFFFFu; /* no match until armed */
    uint32_t start = CSR_READ(mcycle);
#if MODE == 0 || MODE == 1
    CSR_WRITE(mtvec, ecall_handler);
    for (uint32_t i = 0; i < ROUNDS; i++) {
#if MODE == 1
        __asm__ volatile("ecall" ::: "memory");
#else
        __asm__ volatile("" ::: "memory");
#endif
    }
#else
    CSR_WRITE(mtvec, timer_handler);
    CSR_SET(mie, 1u << 7);
    __asm__ volatile("csrsi mstatus, 8");
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t tick = CLINT_MTIME_LO + 1;
        if (i < SAMPLES)
            armed_tick[i] = tick;
        CLINT_MTIMECMP_LO = tick;
        CLINT_MTIMECMP_HI = 0;
        while (hits == i)
#if MODE == 3
            __asm__ volatile("wfi");
#else
            ;
#endif
    }
#endif
    uint32_t spent = CSR_READ(mcycle) - start;
    uart_puts("rv_traps: cycles=");
    uart_putu(spent);
    uart_puts("\r\n");
    park();
}
