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
 *
 * Breakpoints are checked here too, against a sorted table of addresses that
 * Python hands in (machine/debug.py), so that a debugger adds no second code hook:
 * with one native code hook Unicorn calls it on a cheap path, and a second one,
 * even limited to an address that never runs, halves the speed of all code. A
 * hit stops before the instruction, uncounted, and leaves its address in
 * `break_hit`; Python decides whether it counts (the address space, a resumed
 * breakpoint) and, if not, sets `break_pass` so that the instruction runs once
 * when the run resumes there. One bit of a 4096-bit filter is tested per
 * instruction; the table is searched only where the bit is set.
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
    const uint32_t *breaks;            /* breakpoint addresses, ascending */
    uint32_t break_count;              /* how many */
    uint32_t break_filter[128];        /* bit (address >> 1) & 4095 set for each breakpoint */
    uint64_t break_hit;                /* address + 1 of the breakpoint that stopped the slice */
    uint64_t break_pass;               /* address + 1 to run once without stopping when resumed */
    uint64_t break_deadline;           /* the slice's deadline, exact and stopped when a */
    uint32_t break_exact;              /*   breakpoint stopped it, for a run that passes */
    uint32_t break_stopped;            /*   through it to go on as it would have */
};

static int is_breakpoint(const struct atoll_counter *c, uint64_t address)
{
    uint32_t lo = 0, hi = c->break_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->breaks[mid] < address)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->break_count && c->breaks[lo] == address;
}

/* 1 if the instruction at `address` is a breakpoint to stop at (the slice is then stopped).
 * Called only for an address the filter lets through (a pass is always such an address). */
__attribute__((noinline)) static int stop_at_breakpoint(void *uc, struct atoll_counter *c, uint64_t address)
{
    if (c->break_pass) {
        uint64_t pass = c->break_pass - 1;
        c->break_pass = 0;
        if (pass == address)
            return 0;
    }
    if (c->break_hit || !is_breakpoint(c, address))
        return 0;
    c->break_hit = address + 1;
    c->break_deadline = c->deadline;
    c->break_exact = c->exact;
    c->break_stopped = c->stopped;
    /* stop as an exact deadline does, so that a stop Unicorn drops (inside an IT
     * block) is asked again and what runs after all is counted */
    c->deadline = c->executed;
    c->exact = 1;
    c->stopped = 1;
    c->asked_at = address;
    c->stop(uc);
    return 1;
}

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
    uint32_t bit = (uint32_t)(address >> 1) & 4095u;
    if ((c->break_filter[bit >> 5] & (1u << (bit & 31u))) && stop_at_breakpoint(uc, c, address))
        return;
    c->executed++;
}

void atoll_block_start(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    (void)size;
    /* A run resumed through a breakpoint that did not count starts a block at the
     * breakpoint's instruction, where the run without the breakpoint had none: it
     * must not end the slice there, or interrupts would be taken earlier. */
    if (!c->exact && c->executed >= c->deadline && c->break_pass != address + 1) {
        c->stopped = 1;
        c->stop(uc);
    }
}
