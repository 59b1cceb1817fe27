/* Board support for bare-metal programs on the SiFive HiFive1 (FE310-G002): UART0, GPIO, CLINT,
 * CSR access.
 *
 * Register offsets follow the FE310-G002 manual. Everything polls in M-mode with interrupts off.
 * The blink pin is GPIO 19, the green channel of the HiFive1's RGB LED (active low, so the LED is
 * lit while the pin is 0). Time comes from the CLINT's mtime, which counts the 32768 Hz
 * low-frequency clock; only its low word is read, and differences are taken modulo 2^32.
 */
#ifndef ATOLL_BARE_BOARD_H
#define ATOLL_BARE_BOARD_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SiFive GPIO */
#define GPIO_BASE        0x10012000u
#define GPIO_OUTPUT_EN   REG32(GPIO_BASE + 0x08)
#define GPIO_OUTPUT_VAL  REG32(GPIO_BASE + 0x0C)
#define GPIO_IOF_EN      REG32(GPIO_BASE + 0x38)
#define GPIO_IOF_SEL     REG32(GPIO_BASE + 0x3C)
#define UART0_PINS       ((1u << 16) | (1u << 17)) /* RX, TX on IOF0 */
#define BLINK_PIN        19u

/* SiFive UART0 */
#define UART0_BASE       0x10013000u
#define UART_TXDATA      REG32(UART0_BASE + 0x00)
#define UART_TXCTRL      REG32(UART0_BASE + 0x08)
#define UART_DIV         REG32(UART0_BASE + 0x18)
#define UART_TXDATA_FULL (1u << 31)
#define UART_TXCTRL_TXEN (1u << 0)

/* CLINT machine timer, low word */
#define CLINT_MTIME_LO   REG32(0x0200BFF8u)
/* CLINT software interrupt and timer compare, for programs that take machine-mode interrupts */
#define CLINT_MSIP        REG32(0x02000000u)
#define CLINT_MTIMECMP_LO REG32(0x02004000u)
#define CLINT_MTIMECMP_HI REG32(0x02004004u)

/* Machine-mode CSRs by name: read, write, set bits, clear bits */
#define CSR_READ(name) ({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define CSR_WRITE(name, v) __asm__ volatile("csrw " #name ", %0" ::"r"((uint32_t)(v)) : "memory")
#define CSR_SET(name, v) __asm__ volatile("csrs " #name ", %0" ::"r"((uint32_t)(v)) : "memory")
#define CSR_CLEAR(name, v) __asm__ volatile("csrc " #name ", %0" ::"r"((uint32_t)(v)) : "memory")

/* 33 ticks of 32768 Hz is 1.007 ms. */
#define BLINK_PERIOD      33u
#define BLINK_PERIOD_UNIT "mtime-ticks"

static inline void uart_init(void)
{
    GPIO_IOF_SEL &= ~UART0_PINS;
    GPIO_IOF_EN |= UART0_PINS;
    UART_DIV = 138; /* 115200 baud from a 16 MHz bus clock: 16e6 / (138 + 1) */
    UART_TXCTRL = UART_TXCTRL_TXEN;
}

static inline void uart_putc(char c)
{
    while (UART_TXDATA & UART_TXDATA_FULL)
        ;
    UART_TXDATA = (uint8_t)c;
}

/* Drives the blink pin low and makes it an output. */
static inline void blink_pin_init(void)
{
    GPIO_OUTPUT_VAL &= ~(1u << BLINK_PIN);
    GPIO_OUTPUT_EN |= 1u << BLINK_PIN;
}

/* Sets the blink pin's level (0 or 1), leaving the other pins as they are. */
static inline void blink_pin_write(uint32_t level)
{
    if (level)
        GPIO_OUTPUT_VAL |= 1u << BLINK_PIN;
    else
        GPIO_OUTPUT_VAL &= ~(1u << BLINK_PIN);
}

/* Starts periodic timing; returns the caller-held state for period_wait: the first deadline. */
static inline uint32_t period_start(void)
{
    return CLINT_MTIME_LO + BLINK_PERIOD;
}

/* Waits for the end of the current period; deadlines advance by exactly one period, so they do
 * not drift even if a wait is entered late. */
static inline void period_wait(uint32_t *deadline)
{
    while ((int32_t)(CLINT_MTIME_LO - *deadline) < 0)
        ;
    *deadline += BLINK_PERIOD;
}

__attribute__((noreturn)) static inline void park(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

#endif
