/* Printing on UART0 for bare-metal programs, one header for every board: strings, unsigned
 * decimals and fixed-width hex, each character through the board's `uart_putc` (board.h), which
 * polls. Include it after board.h. */
#ifndef ATOLL_BARE_UART_PRINT_H
#define ATOLL_BARE_UART_PRINT_H

#include <stdint.h>

static inline void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* `value` in decimal, no leading zeros */
static inline void uart_putu(uint32_t value)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    while (n)
        uart_putc(digits[--n]);
}

/* `value` as exactly 8 lowercase hex digits (a line's length never depends on the value) */
static inline void uart_puthex(uint32_t value)
{
    for (int shift = 28; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(value >> shift) & 0xFu]);
}

#endif
