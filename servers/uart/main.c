/* The uart server: owns UART0, moves bytes between its interrupts and two ring
 * buffers, and serves WRITE/READ/STATS (uart.h, README.md) on slot 1. */
#include <atoll/atoll.h>

#include "hw.h"
#include "uart_server.h"

/* Notification bits the image routes the UART's interrupts to: on mps2-an385 rx -> 0,
 * tx -> 1, overflow -> 2 (optional); on hifive1 the one irq -> 0. */
#define IRQ_MASK 0x7u

struct ring rx_ring, tx_ring;
struct uart_stats stats;

void tx_pump(void)
{
    while (ring_used(&tx_ring) && hw_tx_room()) {
        hw_tx(ring_get(&tx_ring));
        stats.tx_bytes++;
    }
    hw_tx_wanted(ring_used(&tx_ring) != 0);
}

static void rx_drain(void)
{
    int byte;
    while ((byte = hw_rx()) >= 0) {
        stats.rx_bytes++;
        if (ring_free(&rx_ring))
            ring_put(&rx_ring, (uint8_t)byte);
        else
            stats.rx_dropped++;
    }
}

/* Clear the hardware's latched status first, then empty the receiver and refill the
 * transmitter: an event after the clear latches again and interrupts again. */
static void interrupt(uint32_t bits)
{
    stats.overruns += hw_clear_events();
    rx_drain();
    tx_pump();
    serve_waiting();
    atl_irq_ack(bits);
}

int main(void)
{
    struct atl_msg req, rep = {0};
    hw_init();
    atl_printf("uart: ready\n");
    for (;;) {
        /* slot 0 is empty at first and after a caller was held: then nothing is replied */
        int status = atl_reply_recv(SERVER_SLOT, &rep, IRQ_MASK, &req);
        rep = (struct atl_msg){0};
        if (status != ATL_OK)
            continue;
        if (req.label == ATL_LABEL_NOTIFICATION) {
            interrupt(req.mr[0]);
            continue;
        }
        handle_request(&req, &rep); /* 0: the caller was held, slot 0 is empty again */
    }
}
