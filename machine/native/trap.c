/*
 * The machine's interrupt hook, in C, with room for a native filter in front of Python.
 *
 * Every trap (SVC, ECALL, faults) reaches Unicorn's interrupt hook. Here it goes
 * first to an optional filter that its owner (a kernel) supplies in C: a filter
 * that handles the trap answers with the address space to run in from now on,
 * and this hook makes that space active (its TLB table, then a TLB flush), so that
 * a trap can end in another space without any Python running. Anything the filter
 * does not handle goes to Python, as before. The spaces are the machine's: Python
 * hands out their indexes and keeps their tables here.
 */
#include <stdint.h>

struct atoll_space_table {
    void *maps;           /* the space's sorted mappings (see tlb.c) */
    uint32_t count;
    uint32_t unused;
};

struct atoll_trap_front {
    /* the space to run in from now on (an index into spaces), or -1: not handled */
    int32_t (*filter)(void *uc, uint32_t intno, void *data);
    void *filter_data;
    void (*slow)(void *uc, uint32_t intno, void *data);     /* Python */
    int (*ctl)(void *uc, int control, ...);                  /* uc_ctl */
    void **tlb_maps;      /* the TLB fill's active table (tlb.c) */
    uint32_t *tlb_count;
    struct atoll_space_table *spaces;
    uint32_t space_count;
    int32_t active;       /* the index of the active space */
    int32_t flush_code;   /* uc_ctl's encoding of a TLB flush */
    uint32_t unused;
    uint64_t filtered;    /* traps the filter handled */
};

void atoll_trap(void *uc, uint32_t intno, void *user_data)
{
    struct atoll_trap_front *f = (struct atoll_trap_front *)user_data;
    if (f->filter != 0) {
        int32_t space = f->filter(uc, intno, f->filter_data);
        if (space >= 0 && (uint32_t)space < f->space_count) {
            f->filtered++;
            if (space != f->active) {
                *f->tlb_maps = f->spaces[space].maps;
                *f->tlb_count = f->spaces[space].count;
                f->active = space;
                f->ctl(uc, f->flush_code);
            }
            return;
        }
    }
    f->slow(uc, intno, 0);
}
