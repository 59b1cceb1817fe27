/*
 * Instruction counter for the virtual clock.
 *
 * Registered as Unicorn hooks through the C API, so it costs no Python call per
 * instruction. The code hook counts every instruction; Python reads `executed` at
 * any moment (an MMIO callback in the middle of a slice sees the exact time) and
 * moves `deadline` to end a slice early.
 *
 * A slice ends at the first block boundary at or after its deadline (the block
 * hook): it overruns the deadline by at most the rest of one block, the same on
 * every run, and a resumed run starts blocks where an unsliced run starts them,
 * so clock events fire at the same instruction however the run was cut into
 * slices (tests/machine/test_slicing.py checks this with random cuts). Single
 * steps (`exact`) stop before the next instruction instead, as a debugger needs,
 * except inside a Thumb IT block: Unicorn drops stop requests there and runs the
 * block to its end, so a step can run up to three instructions more, all counted.
 * An instruction an IT block skips (its condition false) is never hooked, so it
 * is not counted, in any mode and however the run is cut.
 *
 * A `limit` (replay to an exact instruction count: atoll/recording.py) stops the
 * same way as an exact step, whatever the slice's own kind, and says so in
 * `limited`; the slice's own deadline still ends it at a block boundary first, so
 * a run with a limit is the run without one, cut short at the limit.
 *
 * Block boundaries were once chosen because stops in the middle of a block
 * seemed to lose the Thumb IT state. They do not: Unicorn restores the state of
 * the instruction it stops before (restore_state_to_opc). The IT state was lost
 * at TLB misses inside IT blocks, which happen more often in sliced runs; see
 * itstate.c, which closes that. The stop function is handed in by Python
 * (uc_emu_stop from the library the binding loaded), so this file links against
 * nothing.
 */
#include <stdint.h>

struct atoll_counter {
    uint64_t executed;                 /* instructions started since creation */
    uint64_t deadline;                 /* end the slice once executed reaches this */
    int (*stop)(void *uc);             /* uc_emu_stop */
    uint32_t stopped;                  /* 1 once this slice was stopped for its deadline */
    uint32_t exact;                    /* 1: stop before the instruction past the deadline */
    uint64_t asked_at;                 /* where an exact stop was last asked for */
    uint64_t limit;                    /* never run an instruction once executed reaches this */
    uint32_t limited;                  /* 1 once a slice was stopped at `limit` */
    uint32_t reserved;
};

void atoll_count_instruction(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    (void)size;
    if ((c->exact && c->executed >= c->deadline) || c->executed >= c->limit) {
        /* Ask again on every instruction past the deadline: Unicorn can drop a
         * stop request (inside an IT block it always does, and runs the block to
         * its end). Being called again at another address means the instruction
         * the request was dropped at ran after all: count it. */
        if (c->stopped && address != c->asked_at)
            c->executed++;
        c->stopped = 1;
        if (c->executed >= c->limit)
            c->limited = 1;
        c->asked_at = address;
        c->stop(uc);
        return;
    }
    c->executed++;
}

void atoll_block_start(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    (void)address;
    (void)size;
    if (!c->exact && c->executed >= c->deadline) {
        c->stopped = 1;
        c->stop(uc);
    }
}
