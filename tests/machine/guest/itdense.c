/* itdense: a bare-metal program for the slicing property test (tests/machine/test_slicing.py),
 * one source for both boards, built with the boards' start-up code from firmware/bare/. The work
 * is in itdense.h (dense in Thumb-2 IT blocks on the Cortex-M3): a line of round checksums every
 * six rounds on UART0 (so output timing is part of what a run does), then
 * "itdense: done <checksum>", then it parks in WFI.
 */
#include "board.h"
#include "itdense.h"

static void itdense_putc(char c)
{
    uart_putc(c);
}

static void puts_(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

int main(void)
{
    uart_init();
    uint32_t total = itdense_run();
    puts_("itdense: done ");
    itdense_puthex(total);
    puts_("\r\n");
    park();
}
