/* The uart server's protocol (see servers/uart/README.md): labels, reply codes and
 * small client helpers. Clients include it as <uart/uart.h>. */
#ifndef UART_UART_H
#define UART_UART_H

#include <stddef.h>
#include <stdint.h>

#include <atoll/atoll.h>

/* Labels of requests, UART_WRITE, UART_READ and UART_STATS: generated from uart.idl.toml
 * (interface << 16 | method). */
#include <idl/uart.h>

/* Reply labels: UART_OK, a kernel status passed through from a lease copy (ATL_E_*), or: */
#define UART_OK 0
#define UART_E_BUSY (-100)      /* another reader is already waiting, or the writer queue is full */
#define UART_E_BAD_LABEL (-101) /* the request label is not one of the above */

/* Send len bytes through the uart server in slot; returns len, or a negative status. */
static inline int uart_write(uint32_t slot, const void *buf, size_t len)
{
    struct atl_msg req = {.label = UART_WRITE}, rep;
    struct atl_leases l = {.count = 1, .lease = {{(uint32_t)(uintptr_t)buf, (uint32_t)len, ATL_LEASE_READABLE}}};
    int r = atl_call(slot, &req, &l, &rep);
    if (r != ATL_OK)
        return r;
    return (int32_t)rep.label != UART_OK ? (int)(int32_t)rep.label : (int)rep.mr[0];
}

/* Receive at most len bytes (waits until at least one arrives); returns the count or a negative status. */
static inline int uart_read(uint32_t slot, void *buf, size_t len)
{
    struct atl_msg req = {.label = UART_READ}, rep;
    struct atl_leases l = {.count = 1, .lease = {{(uint32_t)(uintptr_t)buf, (uint32_t)len, ATL_LEASE_WRITABLE}}};
    int r = atl_call(slot, &req, &l, &rep);
    if (r != ATL_OK)
        return r;
    return (int32_t)rep.label != UART_OK ? (int)(int32_t)rep.label : (int)rep.mr[0];
}

#endif /* UART_UART_H */
