/*
 * Instruction counter for the virtual clock, counted per translated block.
 *
 * Registered as Unicorn hooks through the C API, so it costs no Python call. The
 * block hook adds a block's instruction count when the block starts: a code hook
 * on every instruction (a helper call each, with Unicorn's exit check after it)
 * made counting most of the cost of running guest code. The count of a block is
 * its instructions' lengths decoded from guest memory (Thumb-2: a first halfword
 * of 0b11101/0b11110/0b11111 starts a 32-bit instruction; RISC-V: low bits 0b11
 * do), read through the active address space's mappings (the TLB fill's table,
 * tlb.c) from host memory where the machine mapped RAM itself, else copied.
 *
 * So while a block runs, `executed` already counts all of it. Where a run leaves
 * a block in the middle, the count is settled to the instruction it left at:
 * `atoll_settle` (Python calls it at the end of every emu_start, for a fault or
 * trap, including one the guest's exception model takes and runs on from, at a
 * breakpoint, and before an MMIO callback, which then sees the exact time of its
 * instruction), and the exact-mode code hook below. Every instruction of a block counts, including the
 * Thumb instructions an IT block skips (the hardware spends a cycle on them too).
 *
 * A slice ends at the first block boundary at or after its deadline (the block
 * hook stops before adding the block): it overruns the deadline by at most the
 * rest of one block, the same on every run, and a resumed run starts blocks where
 * an unsliced run starts them, so clock events fire at the same instruction
 * however the run was cut into slices (tests/machine/test_slicing.py). Single
 * steps (`exact`) need the code hook, which Python adds only for them (the
 * machine's translations are flushed when it comes and goes): it stops before the
 * instruction at the deadline, counting from the block's start. Unicorn drops
 * stop requests inside a Thumb IT block and runs it to its end: the hook asks
 * again at each instruction, and the count follows the instructions that ran.
 * A `limit` (a replay to an exact instruction count: atoll/recording.py) stops the
 * way an exact step does, whatever the slice's own kind, and says so in `limited`:
 * Python adds the code hook while a limit is set, and only an instruction about to
 * run past the limit stops there (a slice the block hook ends is not `limited`). The slice's own deadline still
 * ends it at a block boundary first, so a run with a limit is the run without one,
 * cut short at the limit.
 * The stop and read functions are handed in by Python (from the library the
 * binding loaded), so this file links against nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct atoll_code_mapping {            /* as struct atoll_mapping in tlb.c */
    uint32_t vbase;
    uint32_t vend;
    uint32_t pbase;
    uint32_t perms;
};

struct atoll_host_region {             /* guest RAM the machine mapped from host memory */
    uint32_t pbase;
    uint32_t size;
    uint8_t *host;
};

/* The instruction counts of recently run blocks, by physical address, each with a copy
 * of its code: a count is used only while the code is byte for byte the same, so code
 * that is rewritten is counted again (self-modifying code, a boot loader). */
enum { MEMO_SLOTS = 512, MEMO_BYTES = 512 };

struct atoll_block_memo {
    uint32_t paddr;
    uint16_t bytes;                    /* 0: empty */
    uint16_t count;
    uint8_t code[MEMO_BYTES];
};

struct atoll_counter {
    uint64_t executed;                 /* instructions; while a block runs, all of it */
    uint64_t deadline;                 /* end the slice once executed reaches this */
    int (*stop)(void *uc);             /* uc_emu_stop */
    uint32_t stopped;                  /* 1 once this slice was stopped for its deadline */
    uint32_t exact;                    /* 1: stop before the instruction at the deadline */
    uint64_t block_start;              /* executed when the running block began */
    uint64_t block_address;            /* its first instruction */
    uint32_t block_bytes;              /* its size */
    uint32_t block_count;              /* its instructions, 0 when the block hook stopped it */
    uint32_t thumb;                    /* 1: Thumb-2 lengths; 0: RISC-V (with C) lengths */
    uint32_t region_count;
    struct atoll_host_region *regions;
    struct atoll_code_mapping **maps;  /* the active space's table (tlb.c), or NULL: identity */
    uint32_t *map_count;
    uint32_t *machine_use;             /* tlb.c: the sentinel page served as is */
    uint32_t sentinel_page;
    int (*mem_read)(void *uc, uint64_t address, void *bytes, uint64_t size);  /* uc_mem_read */
    struct atoll_block_memo *memo;     /* MEMO_SLOTS of them, or NULL */
    uint32_t last_map;                 /* the mapping `physical` found last: tried first */
    uint32_t limited;                  /* 1 once a slice was stopped at `limit` */
    uint64_t limit;                    /* never run an instruction once executed reaches this */
};

static int long_instruction(const struct atoll_counter *c, uint16_t first)
{
    if (c->thumb)
        return (first >> 11) >= 0x1Du;
    return (first & 3u) == 3u;
}

static uint32_t physical(struct atoll_counter *c, uint32_t vaddr, uint32_t *room)
{
    *room = 0xFFFFFFFFu - vaddr + 1u;
    if (c->maps == NULL || (c->machine_use && *c->machine_use && (vaddr & ~0xFFFu) == c->sentinel_page))
        return vaddr;
    const struct atoll_code_mapping *maps = *c->maps;
    uint32_t lo = 0, hi = *c->map_count;
    /* Blocks run mostly from the mapping the last one ran from: checked against the table
     * as it is now, so a switched or changed table is never read stale. */
    if (c->last_map < hi && maps[c->last_map].vbase <= vaddr && vaddr < maps[c->last_map].vend) {
        *room = maps[c->last_map].vend - vaddr;
        return maps[c->last_map].pbase + (vaddr - maps[c->last_map].vbase);
    }
    while (lo < hi) {                  /* the last mapping with vbase <= vaddr */
        uint32_t mid = lo + (hi - lo) / 2;
        if (maps[mid].vbase <= vaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || vaddr >= maps[lo - 1].vend)
        return vaddr;                  /* cannot be: the block was fetched through the table */
    c->last_map = lo - 1;
    *room = maps[lo - 1].vend - vaddr;
    return maps[lo - 1].pbase + (vaddr - maps[lo - 1].vbase);
}

/* Up to `n` bytes of code at physical `paddr` (`room` bytes left in its mapping): a
 * pointer into host memory, or into `scratch` (n bytes) after a copy. Returns how many
 * bytes it gives (0: none). */
static uint32_t physical_code(struct atoll_counter *c, void *uc, uint32_t paddr, uint32_t room, uint32_t n,
                              uint8_t *scratch, const uint8_t **out)
{
    if (n > room)
        n = room;
    for (uint32_t i = 0; i < c->region_count; i++) {
        const struct atoll_host_region *r = &c->regions[i];
        if (paddr >= r->pbase && paddr - r->pbase < r->size) {
            uint32_t left = r->size - (paddr - r->pbase);
            *out = r->host + (paddr - r->pbase);
            return n < left ? n : left;
        }
    }
    if (c->mem_read(uc, paddr, scratch, n) != 0)
        return 0;
    *out = scratch;
    return n;
}

/* The same at virtual `vaddr`. */
static uint32_t code_bytes(struct atoll_counter *c, void *uc, uint32_t vaddr, uint32_t n,
                           uint8_t *scratch, const uint8_t **out)
{
    uint32_t room;
    uint32_t paddr = physical(c, vaddr, &room);
    return physical_code(c, uc, paddr, room, n, scratch, out);
}

/* How many instructions start in [from, to) of the code at `from`. */
static uint64_t instructions_between(struct atoll_counter *c, void *uc, uint32_t from, uint32_t to)
{
    uint64_t count = 0;
    uint8_t scratch[512];
    uint32_t at = from;
    while (at < to) {
        const uint8_t *code;
        uint32_t want = to - at < sizeof scratch ? to - at : (uint32_t)sizeof scratch;
        uint32_t got = code_bytes(c, uc, at, want, scratch, &code);
        if (got < 2)
            return count + (to - at + 1) / 2;   /* unreadable (cannot be): count halfwords */
        uint32_t i = 0;
        while (i + 2 <= got) {                  /* an instruction starts at at + i */
            uint16_t first = (uint16_t)(code[i] | (code[i + 1] << 8));
            count++;
            i += long_instruction(c, first) ? 4u : 2u;
        }
        at += i;                                /* the next start, past a straddling one */
    }
    return count;
}

static uint32_t count_block(struct atoll_counter *c, void *uc, uint32_t address, uint32_t size)
{
    if (c->memo != NULL && size <= MEMO_BYTES) {
        uint8_t scratch[MEMO_BYTES];
        const uint8_t *code;
        uint32_t room;
        uint32_t paddr = physical(c, address, &room);   /* translated once per block */
        if (physical_code(c, uc, paddr, room, size, scratch, &code) == size) {
            struct atoll_block_memo *m = &c->memo[((paddr >> 1) ^ (paddr >> 11) ^ size) & (MEMO_SLOTS - 1)];
            if (m->paddr == paddr && m->bytes == size && memcmp(m->code, code, size) == 0)
                return m->count;
            uint32_t count = (uint32_t)instructions_between(c, uc, address, address + size);
            m->paddr = paddr;
            m->bytes = (uint16_t)size;
            m->count = (uint16_t)count;
            memcpy(m->code, code, size);
            return count;
        }
    }
    return (uint32_t)instructions_between(c, uc, address, address + size);
}

void atoll_block_start(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    /* Within one emu_start a block starts only after the last one ran to its end: count
     * it whole again, whatever an exact stop Unicorn dropped (inside an IT block) or an
     * MMIO callback settled in its middle. */
    if (c->block_count)
        c->executed = c->block_start + c->block_count;
    c->block_start = c->executed;
    c->block_address = address;
    c->block_bytes = size;
    c->block_count = 0;
    if (!c->exact && c->executed >= c->deadline) {
        c->stopped = 1;
        c->stop(uc);
        return;
    }
    c->block_count = count_block(c, uc, (uint32_t)address, size);
    c->executed += c->block_count;
}

/* The count with the running block settled at `pc`: its instructions before `pc`,
 * plus the one at `pc` if `started`. A pc outside the running block (it ended, or
 * the block hook stopped it) leaves the count as it is. With `finish` the block is
 * over (an exception left it, or the run ended): the next block hook does not count
 * the rest of it; without, it does (an MMIO callback, after which the block goes on). */
uint64_t atoll_settle(struct atoll_counter *c, void *uc, uint64_t pc, uint32_t started, uint32_t finish)
{
    if (c->block_count == 0 || pc < c->block_address || pc >= c->block_address + c->block_bytes)
        return c->executed;
    c->executed = c->block_start + instructions_between(c, uc, (uint32_t)c->block_address, (uint32_t)pc)
                  + (started ? 1u : 0u);
    if (finish)
        c->block_count = 0;
    return c->executed;
}

/* The exact-mode code hook: stop before the instruction at the deadline. */
void atoll_count_instruction(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    (void)size;
    if (!c->exact && c->limit == UINT64_MAX)
        return;
    uint64_t at = c->block_start;
    if (address != c->block_address)
        at += instructions_between(c, uc, (uint32_t)c->block_address, (uint32_t)address);
    if ((c->exact && at >= c->deadline) || at >= c->limit) {
        /* asked again at each instruction Unicorn runs after all (inside an IT block) */
        c->executed = at;
        if (at >= c->limit)
            c->limited = 1;
        c->stopped = 1;
        c->stop(uc);
    }
}

/* A plain per-instruction tally, counting what Unicorn's own `count=` counts (the
 * instructions it hooks: not those a Thumb IT block skips), for the benchmark's
 * bare-Unicorn runs (bench/run.py). `user_data` is a uint64_t. */
void atoll_tally_instruction(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)uc;
    (void)address;
    (void)size;
    ++*(uint64_t *)user_data;
}
