/* A uart test client on slot 2: announces itself, then reads lines with READ and
 * writes each back upper-cased with WRITE. */
#include <atoll/atoll.h>
#include <uart/uart.h>

int main(void)
{
    static char line[256];
    static char buf[64];
    uint32_t len = 0;
    int r = uart_write(2, "echo ready\n", 11);
    atl_printf("echo: ready %d\n", r);
    for (;;) {
        int n = uart_read(2, buf, sizeof buf);
        if (n < 0) {
            atl_printf("echo: read failed %d\n", n);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            char c = buf[i];
            line[len++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
            if (c == '\n' || len == sizeof line) {
                r = uart_write(2, line, len);
                if (r != (int)len)
                    atl_printf("echo: write %d of %u\n", r, (unsigned)len);
                len = 0;
            }
        }
    }
}
