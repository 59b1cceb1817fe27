/* Machine-mode helpers for the RISC-V trap test programs: the FE310-G002's PLIC and UART0
 * receive registers, the trap frame, 64-bit mtime and mtimecmp, and printing on UART0. CSR access
 * and the CLINT registers come from the board's board.h, printing from firmware/bare/uart_print.h,
 * as for the bench's trap program (bench/guest/rv_traps). */
#ifndef ATOLL_RVTRAP_H
#define ATOLL_RVTRAP_H

#include <stdint.h>
#include "board.h"
#include "../uart_print.h"   /* firmware/bare/, next to the board folder on the include path */

#define MSTATUS_MIE (1u << 3)
#define MIP_MSIP (1u << 3)
#define MIP_MTIP (1u << 7)
#define MIP_MEIP (1u << 11)
#define MCAUSE_INTERRUPT 0x80000000u

#define PLIC_PRIORITY(id) (*(volatile uint32_t *)(0x0C000000u + 4u * (id)))
#define PLIC_PENDING0 (*(volatile uint32_t *)0x0C001000u)
#define PLIC_ENABLE0 (*(volatile uint32_t *)0x0C002000u)
#define PLIC_THRESHOLD (*(volatile uint32_t *)0x0C200000u)
#define PLIC_CLAIM (*(volatile uint32_t *)0x0C200004u)
#define PLIC_UART0 3u

#define UART_RXDATA REG32(UART0_BASE + 0x04)
#define UART_RXCTRL REG32(UART0_BASE + 0x0C)
#define UART_IE REG32(UART0_BASE + 0x10)
#define UART_RXDATA_EMPTY (1u << 31)

/* One trap frame (rvtrap.S): word 0 is mepc, word i is register x<i>. */
typedef struct {
    uint32_t x[32];
} frame_t;

extern char trap_entry[], vector_table[];

/* Called by rvtrap.S; returns the frame to resume (the same one, or another task's). */
frame_t *trap_handler(frame_t *frame, int vector);

/* A second task's first frame, at the top of its stack of `words` words: the trap return starts
 * it at `task` with a0 = `id`, every other register 0. */
static inline frame_t *first_frame(uint32_t *stack, uint32_t words, void (*task)(uint32_t), uint32_t id)
{
    frame_t *f = (frame_t *)&stack[words - 32];
    for (int i = 0; i < 32; i++)
        f->x[i] = 0;
    f->x[0] = (uint32_t)(uintptr_t)task; /* mepc */
    f->x[10] = id;                       /* a0 */
    return f;
}

/* Waits until UART0 has sent everything (txwm with txcnt 1: the transmit FIFO is empty). */
static inline void uart_flush(void)
{
    UART_TXCTRL = UART_TXCTRL_TXEN | (1u << 16);
    while (!(REG32(UART0_BASE + 0x14) & 1u))
        ;
}

/* "0x" and 8 hex digits */
static inline void puthex(uint32_t v)
{
    uart_puts("0x");
    uart_puthex(v);
}

/* mtime is read as one 64-bit value (hi, lo, hi again). */
static inline uint64_t mtime64(void)
{
    uint32_t hi, lo;
    do {
        hi = REG32(0x0200BFFCu);
        lo = REG32(0x0200BFF8u);
    } while (hi != REG32(0x0200BFFCu));
    return (uint64_t)hi << 32 | lo;
}

static inline void set_mtimecmp(uint64_t when)
{
    CLINT_MTIMECMP_HI = 0xFFFFFFFFu; /* no spurious match while the low word changes */
    CLINT_MTIMECMP_LO = (uint32_t)when;
    CLINT_MTIMECMP_HI = (uint32_t)(when >> 32);
}

#endif
