/*
 * TLB fill for the active address space, in C.
 *
 * Unicorn's virtual TLB asks for a translation on every miss, and after each
 * address-space switch (a TLB flush) every page touched misses once. Doing that
 * in Python made the fill the largest machine-side cost of a context switch, so
 * the active space's mappings live here as a sorted array that Python rebuilds
 * when the space changes. A refused access is recorded (address, access, why) for
 * Python to turn into a structured fault. The machine's sentinel page (see
 * machine.py) belongs to no space: an access to it is refused as a permission
 * fault, except while the machine runs its own code there (`machine_use`), when
 * it is served read and execute only.
 *
 * Fast stores. Unicorn marks every RAM TLB entry "not dirty" unless the entry
 * lacks execute permission, and a not-dirty entry sends each store down the slow
 * path that looks for translated code to invalidate (about 20x the cost of a
 * store on the fast path). So a data access (load or store) that fills an entry
 * gets no execute permission, unless its physical page has ever been fetched
 * from: `code_pages` is a bitmap, one bit per physical target page (1 KiB on
 * ARM, 4 KiB on RISC-V: the size of one TLB entry), set on every fetch fill and
 * never cleared. Data on pages that never held code (stacks, heaps,
 * .data in SRAM) take the fast path; a store to a page that has held code still
 * takes the slow path, so self-modifying code and code loaded by a boot loader
 * still invalidate what was translated from it. A fetch from a page whose entry a
 * data access filled misses in the code half of the entry and comes back here,
 * which marks the page before any of its code is translated.
 */
#include <stdbool.h>
#include <stdint.h>

struct atoll_mapping {
    uint32_t vbase;
    uint32_t vend;      /* exclusive */
    uint32_t pbase;
    uint32_t perms;     /* UC_PROT_READ 1 | UC_PROT_WRITE 2 | UC_PROT_EXEC 4 */
};

struct atoll_tlb {
    struct atoll_mapping *maps;   /* sorted by vbase, not overlapping */
    uint32_t count;
    uint32_t sentinel_page;
    uint32_t refused;             /* 1 once a fill was refused (Python clears it) */
    uint32_t refused_vaddr;
    uint32_t refused_access;      /* the Unicorn access type */
    uint32_t refused_kind;        /* 1 unmapped, 2 permission */
    uint32_t machine_use;         /* 1 while the machine itself runs code on the sentinel page */
    uint8_t *code_pages;          /* bit per physical target page: ever fetched from */
    uint32_t page_shift;          /* log2 of Unicorn's target page size */
};

struct uc_tlb_entry_abi {        /* Unicorn's uc_tlb_entry */
    uint64_t paddr;
    uint32_t perms;
};

enum { MEM_READ = 16, MEM_WRITE = 17, MEM_FETCH = 18 };

static bool refuse(struct atoll_tlb *t, uint32_t vaddr, int access, uint32_t kind)
{
    t->refused = 1;
    t->refused_vaddr = vaddr;
    t->refused_access = (uint32_t)access;
    t->refused_kind = kind;
    return false;
}

bool atoll_tlb_fill(void *uc, uint64_t address, int access, struct uc_tlb_entry_abi *entry, void *user_data)
{
    struct atoll_tlb *t = (struct atoll_tlb *)user_data;
    uint32_t vaddr = (uint32_t)address;
    (void)uc;
    if ((vaddr & ~0xFFFu) == t->sentinel_page) {
        if (!t->machine_use)
            return refuse(t, vaddr, access, 2);
        entry->paddr = vaddr;
        entry->perms = 1u | 4u;
        return true;
    }
    uint32_t lo = 0, hi = t->count;
    while (lo < hi) {                       /* the last mapping with vbase <= vaddr */
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->maps[mid].vbase <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || vaddr >= t->maps[lo - 1].vend)
        return refuse(t, vaddr, access, 1);
    const struct atoll_mapping *m = &t->maps[lo - 1];
    uint32_t need = access == MEM_WRITE ? 2u : access == MEM_FETCH ? 4u : 1u;
    if (!(m->perms & need))
        return refuse(t, vaddr, access, 2);
    uint32_t paddr = m->pbase + (vaddr - m->vbase);
    uint32_t page = paddr >> t->page_shift;
    uint32_t perms = m->perms;
    if (access == MEM_FETCH)
        t->code_pages[page >> 3] |= (uint8_t)(1u << (page & 7));
    else if (!(t->code_pages[page >> 3] & (1u << (page & 7))))
        perms &= ~4u;
    entry->paddr = paddr;
    entry->perms = perms;
    return true;
}
