/* blink: toggles the board's blink GPIO pin forever, once per fixed period, by polling a timer.
 *
 * Runs on the machine alone (no kernel, privileged mode). It first writes one line,
 * "blink: period <N> <unit>\r\n", on UART0, then toggles the pin (starting low) at the end of every period.
 * The pin, the timer and the period (1 ms on both boards, in the timer's own units) come from
 * the board's board.h; the timer keeps absolute deadlines, so the toggles do not drift.
 */
#include "board.h"
#include "uart_print.h"

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
