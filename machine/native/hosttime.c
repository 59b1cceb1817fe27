/*
 * The slice end of host timing (machine/hosttime.py): a block hook that ends a slice
 * at the first block start past its deadline on the host's monotonic clock, or at
 * the first block start after Python asked for a stop.
 *
 * Ending a slice from a block hook stops the CPU before an instruction, never inside
 * one. Unicorn's own `timeout=` cannot do that: its timer thread calls uc_emu_stop
 * at any moment, and a stop requested while an MMIO callback runs makes Unicorn run
 * the accessing instruction again on the next start (checked on Unicorn 2.1.4: a
 * store to a UART's data register is then sent twice). Python's MMIO callbacks do
 * not stop the CPU either, for the same reason: they set `stop_flag`.
 *
 * The clock is read only every `every` blocks (a clock read costs about as much as a
 * short block: reading it at every block cost up to 2.1x on bare Unicorn, every 256th
 * block 1-14%). `executed`, `deadline`, `stopped` and `exact` are where other hooks
 * find what they find in the instruction counter (native/counter.c): the ARMv7-M
 * interrupt gate ends a slice by setting `stopped` and stopping; the IPC fast path
 * reads `executed`. The stop and clock functions are handed in by Python, so this
 * file links against nothing.
 */
#include <stdint.h>

struct atoll_time {
    int64_t sec;
    int64_t nsec;
};

struct atoll_host_slice {
    int (*stop)(void *uc);                              /* uc_emu_stop */
    int (*clock_read)(int clock, struct atoll_time *t); /* clock_gettime */
    uint64_t deadline_ns;                               /* end the slice once the clock reaches this */
    uint64_t executed;                                  /* the running time in cycles, for other hooks */
    uint64_t deadline;                                  /* set by other hooks that end a slice */
    int32_t clock_id;                                   /* CLOCK_MONOTONIC */
    uint32_t stop_flag;                                 /* n: end the slice at the nth block start */
    uint32_t stopped;                                   /* 1 once this slice was ended for its time */
    uint32_t exact;                                     /* always 0: host timing has no counted steps */
    uint32_t blocks;                                    /* blocks since the clock was last read */
    uint32_t every;                                     /* read the clock every this many blocks */
};

void atoll_host_block(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_host_slice *h = (struct atoll_host_slice *)user_data;
    (void)address;
    (void)size;
    if (h->stop_flag) {
        if (--h->stop_flag)
            return;                                     /* 2: one more block first */
    } else {
        if (++h->blocks < h->every)
            return;
        h->blocks = 0;
        struct atoll_time t;
        if (h->clock_read(h->clock_id, &t) != 0)
            return;
        if ((uint64_t)t.sec * 1000000000u + (uint64_t)t.nsec < h->deadline_ns)
            return;
    }
    h->stopped = 1;
    h->stop(uc);
}
