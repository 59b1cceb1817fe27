/* A uart test client on slot 2: READs and prints what came ("reader: <n> <bytes>");
 * the first error is printed ("reader: error <status>") and ends it with exit code 1. */
#include <atoll/atoll.h>
#include <uart/uart.h>

int main(void)
{
    static char buf[32];
    for (;;) {
        int n = uart_read(2, buf, sizeof buf);
        if (n < 0) {
            atl_printf("reader: error %d\n", n);
            return 1;
        }
        atl_printf("reader: %d %.*s\n", n, n, buf);
    }
}
