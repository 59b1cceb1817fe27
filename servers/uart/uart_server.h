/* Shared state of the uart server between main.c (the loop, interrupts) and
 * requests.c (WRITE, READ and STATS, the held reader and writers). */
#ifndef UART_SERVER_H
#define UART_SERVER_H

#include <atoll/atoll.h>

#include "ring.h"

#define SERVER_SLOT 1u    /* the endpoint clients call */
#define WRITER_SLOT 40u   /* held writers' reply capabilities: WRITER_SLOT .. + MAX_WRITERS - 1 */
#define MAX_WRITERS 4u
#define READER_SLOT 48u   /* the held reader's reply capability */

struct uart_stats {
    uint32_t rx_bytes, rx_dropped, overruns, tx_bytes;
};

extern struct ring rx_ring, tx_ring;
extern struct uart_stats stats;

/* Move bytes from the TX ring into the transmitter while it has room. */
void tx_pump(void);

/* Handle a request (label and leases behind ATL_REPLY_SLOT); returns 1 when rep is
 * the reply to send now, 0 when the caller's reply capability was kept for later. */
int handle_request(const struct atl_msg *req, struct atl_msg *rep);
/* After the rings changed: answer the held reader if bytes arrived, take more bytes
 * from held writers if TX room freed up. */
void serve_waiting(void);

#endif /* UART_SERVER_H */
