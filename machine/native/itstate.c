/*
 * Keeps the Thumb IT (If-Then) state whole across TLB fills, on ARMv7-M.
 *
 * Unicorn (2.1.4, QEMU 5 inside) does not keep the IT state in the CPU state while
 * a translated block runs: the translator knows it statically, clears
 * env->condexec_bits when a block that starts inside an IT block begins, and
 * writes the right value back only where the block is left (its end, or an
 * exception). Code in the middle of a block relies on the field being zero.
 * With the virtual TLB (UC_TLB_VIRTUAL, which the machine uses for its address
 * spaces) every TLB miss first calls cpu_restore_state, which writes the pc and
 * the IT state of the instruction that missed into the CPU state, and then the
 * block goes on running. A load or store that misses inside an IT block so
 * leaves a non-zero IT state behind; nothing clears it at the end of the block,
 * and the next block is looked up and translated as if it sat inside an IT
 * block: ordinary instructions (a `push {r7, lr}`) run as conditional ones,
 * depending on flags set long before. A miss needs a page that left the TLB:
 * every address-space switch flushes it, and in a sliced run a page misses
 * again now and then (the stack page about once a slice on mps2-an385), so the
 * damage followed slice lengths and context switches.
 *
 * The project's Unicorn build restores the state the same way before an MMIO
 * callback (patches/unicorn/0003), so the counter clears the bits there too
 * (`atoll_it_clear`, from counter.c's `atoll_settle_here`).
 *
 * `atoll_it_after_fill` runs as the first TLB-fill hook, after that restore and
 * before the real fill (machine/native/tlb.c): on a data access it sets the IT
 * bits back to zero, the value the running block relies on, and answers "not
 * handled" so the fill goes on. If the access then faults, Unicorn restores the
 * state again on the way out, so a trap still sees the IT state of the
 * instruction that faulted. Instruction fetches are left alone: they miss while
 * a block is translated, outside any running block, where the field holds the
 * real state. The register functions are handed in by Python (the Unicorn
 * library the binding loaded), so this file links against nothing.
 */
#include <stdbool.h>
#include <stdint.h>

struct atoll_it_guard {
    int (*reg_read)(void *uc, int regid, void *value);          /* uc_reg_read */
    int (*reg_write)(void *uc, int regid, const void *value);   /* uc_reg_write */
    int32_t epsr;                  /* UC_ARM_REG_EPSR: writes only the IT and T bits */
    int32_t fetch;                 /* UC_MEM_FETCH */
};

#define EPSR_IT_BITS 0x0600FC00u   /* IT[1:0] at 26:25, IT[7:2] at 15:10 */

/* The IT bits back to zero, if the restore of a data access (a TLB miss, or an MMIO
 * callback on the patched build: counter.c) set them. */
void atoll_it_clear(const struct atoll_it_guard *g, void *uc)
{
    uint32_t epsr = 0;
    if (g->reg_read(uc, g->epsr, &epsr) == 0 && (epsr & EPSR_IT_BITS)) {
        epsr &= ~EPSR_IT_BITS;
        g->reg_write(uc, g->epsr, &epsr);
    }
}

bool atoll_it_after_fill(void *uc, uint64_t address, int access, void *entry, void *user_data)
{
    const struct atoll_it_guard *g = (const struct atoll_it_guard *)user_data;
    (void)address;
    (void)entry;
    if (access != g->fetch)
        atoll_it_clear(g, uc);
    return false;   /* not a translation: the next fill hook gives it */
}
