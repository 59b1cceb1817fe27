/* Machine-mode helpers for the RISC-V trap test programs: CSR access, the CLINT and PLIC
 * registers of the FE310-G002, and printing on UART0 (board.h polls it). */
#ifndef ATOLL_RVTRAP_H
#define ATOLL_RVTRAP_H

#include <stdint.h>
#include "board.h"

#define CSR_READ(name) ({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define CSR_WRITE(name, v) __asm__ volatile("csrw " #name ", %0" ::"r"((uint32_t)(v)) : "memory")
#define CSR_SET(name, v) __asm__ volatile("csrs " #name ", %0" ::"r"((uint32_t)(v)) : "memory")
#define CSR_CLEAR(name, v) __asm__ volatile("csrc " #name ", %0" ::"r"((uint32_t)(v)) : "memory")

#define MSTATUS_MIE (1u << 3)
#define MIP_MSIP (1u << 3)
#define MIP_MTIP (1u << 7)
#define MIP_MEIP (1u << 11)
#define MCAUSE_INTERRUPT 0x80000000u

#define CLINT_MSIP (*(volatile uint32_t *)0x02000000u)
#define CLINT_MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define CLINT_MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)

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

static inline void puts_(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* Waits until UART0 has sent everything (txwm with txcnt 1: the transmit FIFO is empty). */
static inline void uart_flush(void)
{
    UART_TXCTRL = UART_TXCTRL_TXEN | (1u << 16);
    while (!(REG32(UART0_BASE + 0x14) & 1u))
        ;
}

static inline void puthex(uint32_t v)
{
    puts_("0x");
    for (int i = 28; i >= 0; i -= 4)
        uart_putc("0123456789abcdef"[(v >> i) & 15]);
}

static inline void putdec(uint32_t v)
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
