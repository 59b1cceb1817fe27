/* A byte ring buffer of RING_SIZE (a power of two) with free-running indices, and
 * the contiguous spans a lease copy can use directly. */
#ifndef UART_RING_H
#define UART_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_SIZE 256u

struct ring {
    uint8_t data[RING_SIZE];
    uint32_t head; /* next byte to write */
    uint32_t tail; /* next byte to read */
};

static inline uint32_t ring_used(const struct ring *r) { return r->head - r->tail; }
static inline uint32_t ring_free(const struct ring *r) { return RING_SIZE - ring_used(r); }

static inline void ring_put(struct ring *r, uint8_t byte) { r->data[r->head++ % RING_SIZE] = byte; }
static inline uint8_t ring_get(struct ring *r) { return r->data[r->tail++ % RING_SIZE]; }

/* The free span at the head that is contiguous in memory (for a lease read into it). */
static inline uint8_t *ring_space(struct ring *r, size_t *len)
{
    uint32_t at = r->head % RING_SIZE, to_end = RING_SIZE - at, free = ring_free(r);
    *len = free < to_end ? free : to_end;
    return &r->data[at];
}

/* The filled span at the tail that is contiguous in memory (for a lease write from it). */
static inline const uint8_t *ring_span(const struct ring *r, size_t *len)
{
    uint32_t at = r->tail % RING_SIZE, to_end = RING_SIZE - at, used = ring_used(r);
    *len = used < to_end ? used : to_end;
    return &r->data[at];
}

static inline void ring_commit(struct ring *r, size_t n) { r->head += (uint32_t)n; }
static inline void ring_consume(struct ring *r, size_t n) { r->tail += (uint32_t)n; }

#endif /* UART_RING_H */
