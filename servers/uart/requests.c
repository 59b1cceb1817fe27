/* The uart server's requests: WRITE copies a caller's lease into the TX ring (holding
 * the caller until all of it fits), READ answers with received bytes (holding one
 * reader until some arrive), STATS reports counters. */
#include <atoll/atoll.h>
#include <uart/uart.h>

#include "uart_server.h"

struct writer {
    uint32_t slot;   /* where its reply capability is kept */
    uint32_t offset; /* bytes of its lease already taken */
};

static struct writer writers[MAX_WRITERS]; /* FIFO: writers[0] is served first */
static uint32_t nwriters;
static int reader_held;

/* Copy from lease 0 of the caller behind slot into the TX ring from *offset on.
 * Returns 1 when the whole lease was taken, 0 when the ring filled first, or an error. */
static int take_bytes(uint32_t slot, uint32_t *offset)
{
    for (;;) {
        size_t room, got = 0;
        uint8_t *at = ring_space(&tx_ring, &room);
        if (room == 0)
            return 0;
        int r = atl_lease_read(slot, 0, *offset, at, room, &got);
        if (r != ATL_OK)
            return r;
        ring_commit(&tx_ring, got);
        *offset += (uint32_t)got;
        if (got < room)
            return 1;
    }
}

/* Copy received bytes into lease 0 of the caller behind slot; returns the count or an error. */
static int give_bytes(uint32_t slot)
{
    uint32_t total = 0;
    while (ring_used(&rx_ring)) {
        size_t len, got = 0;
        const uint8_t *from = ring_span(&rx_ring, &len);
        int r = atl_lease_write(slot, 0, total, from, len, &got);
        if (r != ATL_OK)
            return total ? (int)total : r;
        ring_consume(&rx_ring, got);
        total += (uint32_t)got;
        if (got < len)
            break; /* the lease is full */
    }
    return (int)total;
}

static void set_reply(struct atl_msg *rep, int status, uint32_t count)
{
    *rep = (struct atl_msg){.label = (uint32_t)(status < 0 ? status : UART_OK), .mr = {count}};
}

/* Whether lease 0 exists with the right: a zero-length copy checks it without moving data. */
static int check_lease(int writable)
{
    uint8_t scratch = 0;
    return writable ? atl_lease_write(ATL_REPLY_SLOT, 0, 0, &scratch, 0, 0)
                    : atl_lease_read(ATL_REPLY_SLOT, 0, 0, &scratch, 0, 0);
}

static int do_write(struct atl_msg *rep)
{
    int r = check_lease(0);
    uint32_t offset = 0;
    if (r == ATL_OK && nwriters == 0) {
        r = take_bytes(ATL_REPLY_SLOT, &offset);
        tx_pump();
    }
    if (r != 0) { /* done (1) or failed (< 0) */
        set_reply(rep, r, offset);
        return 1;
    }
    if (nwriters == MAX_WRITERS) {
        set_reply(rep, UART_E_BUSY, 0);
        return 1;
    }
    uint32_t slot = WRITER_SLOT;
    for (int used = 1; used;) { /* a slot no queued writer holds */
        used = 0;
        for (uint32_t i = 0; i < nwriters; i++)
            if (writers[i].slot == slot) {
                used = 1;
                slot++;
            }
    }
    atl_cap_move(ATL_REPLY_SLOT, slot);
    writers[nwriters++] = (struct writer){slot, offset};
    return 0;
}

/* A held reader whose caller is gone frees its place (a zero-length copy says DEAD_PEER). */
static void forget_dead_reader(void)
{
    uint8_t scratch = 0;
    if (reader_held && atl_lease_write(READER_SLOT, 0, 0, &scratch, 0, 0) == ATL_E_DEAD_PEER) {
        atl_cap_delete(READER_SLOT);
        reader_held = 0;
    }
}

static int do_read(struct atl_msg *rep)
{
    int r = check_lease(1);
    if (r == ATL_OK && ring_used(&rx_ring))
        r = give_bytes(ATL_REPLY_SLOT);
    else if (r == ATL_OK) {
        forget_dead_reader();
        if (reader_held) {
            r = UART_E_BUSY;
        } else {
            atl_cap_move(ATL_REPLY_SLOT, READER_SLOT);
            reader_held = 1;
            return 0;
        }
    }
    set_reply(rep, r, r > 0 ? (uint32_t)r : 0);
    return 1;
}

int handle_request(const struct atl_msg *req, struct atl_msg *rep)
{
    switch (req->label) {
    case UART_WRITE:
        return do_write(rep);
    case UART_READ:
        return do_read(rep);
    case UART_STATS:
        *rep = (struct atl_msg){.label = UART_OK,
                                .mr = {stats.rx_bytes, stats.rx_dropped, stats.overruns, stats.tx_bytes}};
        return 1;
    default:
        set_reply(rep, UART_E_BAD_LABEL, 0);
        return 1;
    }
}

void serve_waiting(void)
{
    if (reader_held && ring_used(&rx_ring)) {
        int r = give_bytes(READER_SLOT);
        struct atl_msg rep;
        set_reply(&rep, r, r > 0 ? (uint32_t)r : 0);
        atl_reply(READER_SLOT, &rep); /* empties the slot, whether the caller is alive or not */
        reader_held = 0;
    }
    while (nwriters) {
        struct writer *w = &writers[0];
        int r = take_bytes(w->slot, &w->offset);
        tx_pump();
        if (r == 0)
            break; /* the ring is full again: wait for the next TX interrupt */
        struct atl_msg rep;
        set_reply(&rep, r, w->offset);
        atl_reply(w->slot, &rep);
        for (uint32_t i = 1; i < nwriters; i++)
            writers[i - 1] = writers[i];
        nwriters--;
    }
}
