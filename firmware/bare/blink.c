/* blink: toggles the board's blink GPIO pin forever, once per fixed period, by polling a timer.
 *
 * Runs on the machine alone (no kernel, privileged mode). It first writes one line,
 * "blink: period <N> <unit>\r\n", on UART0, then toggles the pin (starting low) at the end of every period.
 * The pin, the timer and the period (1 ms on both boards, in the timer's own units) come from
 * the board's board.h; the timer keeps absolute deadlines, so the toggles do not drift.
 */
#include "board.h"

static void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void uart_putu(uint32_t value)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n)
        uart_putc(digits[--n]);
}

int main(void)
{
    uart_init();
    uart_puts("blink: period ");
    uart_putu(BLINK_PERIOD);
    uart_puts(" " BLINK_PERIOD_UNIT "\r\n");

    uint32_t level = 0;
    blink_pin_init();
    uint32_t timing = period_start();
    for (;;) {
        period_wait(&timing);
        level ^= 1;
        blink_pin_write(level);
    }
}
