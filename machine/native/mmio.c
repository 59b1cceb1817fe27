/*
 * The MMIO callbacks of the peripherals on the project's Unicorn build, in C around
 * one Python call: the instruction counter settled at the accessing instruction (the
 * build syncs the pc before the callback), the peripheral's access in Python, and the
 * block counted whole again (machine/timed_mmio.py). The binding's own MMIO wrapper
 * and the settle called from Python cost more than the access itself on a loop that
 * polls a peripheral.
 *
 * The counter's functions are handed in by Python (counter.c, in the same library), so
 * this file links against nothing.
 */
#include <stdint.h>

struct atoll_mmio {
    void *counter;                                             /* struct atoll_counter */
    uint64_t (*settle_here)(void *counter, void *uc, uint32_t started, uint32_t finish);
    void (*resume)(void *counter);                             /* atoll_resume_block */
    uint64_t (*read)(uint64_t offset, uint32_t size);          /* the peripheral's, in Python */
    void (*write)(uint64_t offset, uint32_t size, uint64_t value);
};

uint64_t atoll_mmio_read(void *uc, uint64_t offset, unsigned size, void *user_data)
{
    struct atoll_mmio *m = (struct atoll_mmio *)user_data;
    m->settle_here(m->counter, uc, 1, 0);
    uint64_t value = m->read(offset, size);
    m->resume(m->counter);
    return value;
}

void atoll_mmio_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data)
{
    struct atoll_mmio *m = (struct atoll_mmio *)user_data;
    m->settle_here(m->counter, uc, 1, 0);
    m->write(offset, size, value);
    m->resume(m->counter);
}
