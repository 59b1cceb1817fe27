/* A uart test client on slot 2: writes exact bytes, then 600 bytes (more than the
 * TX ring holds), then tries a bad lease, a read-only READ lease, an unknown label
 * and STATS, printing each result. */
#include <atoll/atoll.h>
#include <uart/uart.h>

int main(void)
{
    static const char hello[] = "hello, uart\r\n\x01\xfe\n";
    int r = uart_write(2, hello, sizeof hello - 1);
    atl_printf("writer: hello %d\n", r);

    static char big[600];
    for (unsigned i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof big - 1] = '\n';
    r = uart_write(2, big, sizeof big);
    atl_printf("writer: big %d\n", r);

    struct atl_msg req = {.label = UART_WRITE}, rep = {0};
    struct atl_leases bad = {.count = 1, .lease = {{0x00F00000u, 16, ATL_LEASE_READABLE}}};
    r = atl_call(2, &req, &bad, &rep);
    atl_printf("writer: bad lease %d\n", r);

    struct atl_leases ro = {.count = 1, .lease = {{(uint32_t)(uintptr_t)big, 8, ATL_LEASE_READABLE}}};
    req.label = UART_READ;
    r = atl_call(2, &req, &ro, &rep);
    atl_printf("writer: read-only read %d %d\n", r, (int)rep.label);

    req.label = UART_WRITE;
    r = atl_call(2, &req, 0, &rep);
    atl_printf("writer: no lease %d %d\n", r, (int)rep.label);

    req.label = 99;
    r = atl_call(2, &req, 0, &rep);
    atl_printf("writer: label 99 %d %d\n", r, (int)rep.label);

    req.label = UART_STATS;
    r = atl_call(2, &req, 0, &rep);
    atl_printf("writer: stats %d rx %u dropped %u overruns %u tx %u\n", r, (unsigned)rep.mr[0],
               (unsigned)rep.mr[1], (unsigned)rep.mr[2], (unsigned)rep.mr[3]);
    return 0;
}
