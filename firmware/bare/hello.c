/* hello: the smallest bare-metal smoke test, one source for every board.
 *
 * Runs on the machine alone (no kernel, privileged mode): sets up UART0, writes exactly
 * "Hello from Atoll on <board>!\r\n" by polling, then parks. The board name comes from the
 * build (-DATOLL_BOARD="name"); register details come from the board's board.h.
 */
#include "board.h"
#include "uart_print.h"

#ifndef ATOLL_BOARD
#error "define ATOLL_BOARD as the board's name string, e.g. -DATOLL_BOARD=\"hifive1\""
#endif

int main(void)
{
    uart_init();
    uart_puts("Hello from Atoll on " ATOLL_BOARD "!\r\n");
    park();
}
