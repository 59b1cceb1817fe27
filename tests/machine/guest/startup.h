/* What the start-up programs (startup_<board>.c) share: the board's board.h, printing on UART0
 * (firmware/bare/uart_print.h, found next to the board folder on the include path) and `line`,
 * one "<name> 0x<8 hex digits>\r\n" report line per value read. */
#ifndef ATOLL_TEST_STARTUP_H
#define ATOLL_TEST_STARTUP_H

#include "board.h"
#include "../uart_print.h"

static inline void line(const char *name, uint32_t v)
{
    uart_puts(name);
    uart_puts(" 0x");
    uart_puthex(v);
    uart_puts("\r\n");
}

#endif
