/*
 * The ARMv7-M interrupt gate: ends a slice at the first block boundary where a
 * pending exception may preempt (machine/exceptions/armv7m.py).
 *
 * Python keeps `pending` (the group priority of the most urgent pending exception,
 * GATE_NONE when nothing is pending), `running` (the group priority of the active
 * exceptions, 256 in thread mode with none active) and `group_mask` (AIRCR.PRIGROUP's
 * group bits) up to date. What Python cannot see is the guest changing PRIMASK,
 * FAULTMASK or BASEPRI (cpsie, msr): Unicorn ends the translated block after each such
 * instruction, so this block hook reads the three registers at the next block start
 * and, when the pending exception's priority is higher than the execution priority
 * (B1.5.4), ends the slice the way the instruction counter does (counter.c), so that
 * Python enters the handler before the block runs. With nothing pending it costs one
 * comparison per block. Counted steps (the counter's `exact`) are left alone: a debugger's
 * step takes no interrupt, and the step must make progress. The register and stop functions are handed in by Python, so
 * this file links against nothing.
 */
#include <stdint.h>

#define GATE_NONE 0x7FFFFFFF

struct atoll_armv7m_gate {
    int (*reg_read)(void *uc, int regid, void *value);   /* uc_reg_read */
    int (*stop)(void *uc);                                /* uc_emu_stop */
    uint64_t *executed;                                   /* the counter's fields */
    uint64_t *deadline;
    uint32_t *stopped;
    uint32_t *exact;                                      /* a counted step: left alone */
    int32_t pending;
    int32_t running;
    uint32_t group_mask;
    int32_t primask;                                      /* UC_ARM_REG_* ids */
    int32_t faultmask;
    int32_t basepri;
    uint64_t fired;                                       /* slices this gate ended */
};

void atoll_armv7m_gate(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_armv7m_gate *g = (struct atoll_armv7m_gate *)user_data;
    (void)address;
    (void)size;
    if (g->pending >= g->running || *g->exact)
        return;
    int32_t execution = g->running;
    uint32_t value = 0;
    if (g->reg_read(uc, g->basepri, &value) == 0 && (value & 0xFF) != 0) {
        int32_t boosted = (int32_t)(value & 0xFF & g->group_mask);
        if (boosted < execution)
            execution = boosted;
    }
    value = 0;
    if (g->reg_read(uc, g->primask, &value) == 0 && (value & 1) && execution > 0)
        execution = 0;
    value = 0;
    if (g->reg_read(uc, g->faultmask, &value) == 0 && (value & 1))
        execution = -1;
    if (g->pending < execution) {
        *g->deadline = *g->executed;
        *g->stopped = 1;
        g->fired++;
        g->stop(uc);
    }
}
