/* Board support for bare-metal programs on the MPS2 AN385 (Cortex-M3): UART0, GPIO0, Timer0.
 *
 * Register offsets follow the Cortex-M System Design Kit TRM (CMSDK APB UART, GPIO, timer) and
 * the AN385 memory map. Everything polls; no interrupt is ever enabled in the NVIC, so a timer's
 * interrupt status can be set (and polled) without the core taking the exception.
 */
#ifndef ATOLL_BARE_BOARD_H
#define ATOLL_BARE_BOARD_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* CMSDK APB UART0 */
#define UART0_BASE       0x40004000u
#define UART_DATA        REG32(UART0_BASE + 0x00)
#define UART_STATE       REG32(UART0_BASE + 0x04)
#define UART_CTRL        REG32(UART0_BASE + 0x08)
#define UART_BAUDDIV     REG32(UART0_BASE + 0x10)
#define UART_STATE_TXFULL (1u << 0)
#define UART_CTRL_TXEN    (1u << 0)

/* CMSDK GPIO0 */
#define GPIO0_BASE       0x40010000u
#define GPIO_DATAOUT     REG32(GPIO0_BASE + 0x04)
#define GPIO_OUTENSET    REG32(GPIO0_BASE + 0x10)
#define BLINK_PIN        0u

/* CMSDK APB Timer0, clocked by the 25 MHz system clock */
#define TIMER0_BASE      0x40000000u
#define TIMER_CTRL       REG32(TIMER0_BASE + 0x00)
#define TIMER_VALUE      REG32(TIMER0_BASE + 0x04)
#define TIMER_RELOAD     REG32(TIMER0_BASE + 0x08)
#define TIMER_INTSTATUS  REG32(TIMER0_BASE + 0x0C) /* read status; write 1 to clear */
#define TIMER_CTRL_EN    (1u << 0)
#define TIMER_CTRL_IRQEN (1u << 3) /* the status bit only sets with this on */

/* 1 ms: the counter runs RELOAD..0 and reloads, so a period is RELOAD + 1 cycles. */
#define BLINK_PERIOD      25000u
#define BLINK_PERIOD_UNIT "cycles"

static inline void uart_init(void)
{
    UART_BAUDDIV = 16; /* the smallest divider the UART accepts */
    UART_CTRL = UART_CTRL_TXEN;
}

static inline void uart_putc(char c)
{
    while (UART_STATE & UART_STATE_TXFULL)
        ;
    UART_DATA = (uint8_t)c;
}

/* Drives the blink pin low and makes it an output. */
static inline void blink_pin_init(void)
{
    GPIO_DATAOUT = 0;
    GPIO_OUTENSET = 1u << BLINK_PIN;
}

/* Sets the blink pin's level (0 or 1). DATAOUT is written whole, never read back: pin 0 is the
 * only output this program drives (and QEMU does not model this GPIO, so reads return 0). */
static inline void blink_pin_write(uint32_t level)
{
    GPIO_DATAOUT = level << BLINK_PIN;
}

/* Starts periodic timing; returns the caller-held state for period_wait (unused here). */
static inline uint32_t period_start(void)
{
    TIMER_CTRL = 0;
    TIMER_RELOAD = BLINK_PERIOD - 1;
    TIMER_VALUE = BLINK_PERIOD - 1;
    TIMER_INTSTATUS = 1;
    TIMER_CTRL = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    return 0;
}

/* Waits for the end of the current period; the timer reloads itself, so periods do not drift. */
static inline void period_wait(uint32_t *state)
{
    (void)state;
    while (!(TIMER_INTSTATUS & 1u))
        ;
    TIMER_INTSTATUS = 1;
}

__attribute__((noreturn)) static inline void park(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

#endif
