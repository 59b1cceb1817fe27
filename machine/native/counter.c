/*
 * Instruction counter for the virtual clock, counted per translated block.
 *
 * The patched Unicorn build counts in translated code (`uc_set_insn_count`, patch
 * 0002): where a block starts, its code adds the block's instruction count (known
 * when it was translated) to `executed` and records the block, and calls
 * `atoll_block_due` first when the count has reached the deadline or a gate is
 * `armed`. That costs a few host instructions per block, not a call. Where Unicorn
 * cannot do that, a block hook (`atoll_block_start`) does the same, with the count
 * of a block decoded from guest memory (Thumb-2: a first halfword of
 * 0b11101/0b11110/0b11111 starts a 32-bit instruction; RISC-V: low bits 0b11 do),
 * read through the active address space's mappings (the TLB fill's table, tlb.c)
 * from host memory where the machine mapped RAM itself, else copied, and memoised.
 *
 * So while a block runs, `executed` already counts all of it. Where a run leaves
 * a block in the middle, the count is settled to the instruction it left at:
 * `atoll_settle` (Python calls it at the end of every emu_start, for a fault or
 * trap, including one the guest's exception model takes and runs on from, at a
 * breakpoint, and before an MMIO callback, which then sees the exact time of its
 * instruction), and the exact-mode code hook below. Every instruction of a block counts, including the
 * Thumb instructions an IT block skips (the hardware spends a cycle on them too).
 *
 * A slice ends at the first block boundary at or after its deadline (it stops
 * before adding the block): it overruns the deadline by at most the
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
    /* Unicorn's struct uc_insn_count (the patched build's uc_set_insn_count), which the
     * translated code keeps where each block starts; the block hook keeps it the same way */
    uint64_t executed;                 /* instructions; while a block runs, all of it */
    uint64_t deadline;                 /* end the slice once executed reaches this */
    uint64_t block_start;              /* executed when the running block began */
    uint64_t block_address;            /* its first instruction */
    uint32_t block_bytes;              /* its size */
    uint32_t block_count;              /* its instructions, 0 when the block hook stopped it */
    uint32_t armed;                    /* not 0: `block_due` runs at every block start */
    uint32_t reserved;
    void (*due)(void *uc, uint64_t address, uint32_t size, void *user_data);   /* atoll_block_due */
    void *due_data;                    /* this counter */
    /* Atoll's */
    void (*gate)(void *uc, uint64_t address, uint32_t size, void *user_data);  /* or NULL */
    void *gate_data;                   /* the interrupt gate's, run while `armed` */
    int (*stop)(void *uc);             /* uc_emu_stop */
    int (*reg_read)(void *uc, int regid, void *value);                          /* uc_reg_read */
    int (*emu_start)(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, uint64_t count);
    int32_t pc_reg;                    /* the pc's UC_*_REG_PC */
    void (*enter)(void *data);         /* called with enter_data before a run, NULL after (csr.c) */
    void *enter_data;
    const void *it_guard;              /* ARMv7-M: itstate.c's guard, or NULL */
    void (*it_clear)(const void *guard, void *uc);                              /* atoll_it_clear */
    uint32_t stopped;                  /* 1 once this slice was stopped for its deadline */
    uint32_t exact;                    /* 1: stop before the instruction at the deadline */
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

/* Where a block starts with the count at or past the deadline, or while the gate is
 * `armed` (before the block is counted): end the slice at the deadline, unless this is
 * an exact run (its code hook stops); else let the interrupt gate look (armexc.c,
 * rvtraps.c). A block the slice ends before is not counted. */
void atoll_block_due(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    uint32_t stopped = c->stopped;
    if (!c->exact && c->executed >= c->deadline) {
        c->stopped = 1;
        c->stop(uc);
    } else if (c->armed && c->gate != NULL) {
        c->gate(uc, address, size, c->gate_data);
    }
    if (c->stopped != stopped)
        c->block_count = 0;            /* the last block ran whole: nothing to settle */
}

/* Back to counting the running block whole, after a settle in its middle that the block
 * goes on from (an MMIO callback). */
void atoll_resume_block(struct atoll_counter *c)
{
    if (c->block_count)
        c->executed = c->block_start + c->block_count;
}

/* The block hook, where Unicorn cannot count in translated code: what that code does. */
void atoll_block_start(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    /* Within one emu_start a block starts only after the last one ran to its end: count
     * it whole again, whatever an MMIO callback settled in its middle. */
    atoll_resume_block(c);
    c->block_count = 0;
    if (c->executed >= c->deadline || c->armed) {
        uint32_t stopped = c->stopped;
        c->due(uc, address, size, c->due_data);
        if (c->stopped != stopped)
            return;
    }
    c->block_start = c->executed;
    c->block_address = address;
    c->block_bytes = size;
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

/* `atoll_settle` at the pc Unicorn has now: from an MMIO callback, the accessing
 * instruction's, which the patched build syncs before the callback (with the rest of
 * the state the instruction's translation recorded). */
uint64_t atoll_settle_here(struct atoll_counter *c, void *uc, uint32_t started, uint32_t finish)
{
    uint64_t pc = 0;
    /* that sync also wrote the instruction's IT state, which the running block relies on
     * being zero (itstate.c) */
    if (c->it_guard != NULL)
        c->it_clear(c->it_guard, uc);
    if (c->block_count == 0 || c->reg_read(uc, c->pc_reg, &pc) != 0)
        return c->executed;
    return atoll_settle(c, uc, pc & 0xFFFFFFFFu, started, finish);
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
        /* asked again at each instruction Unicorn runs after all (inside an IT block); the
         * count is left whole, for the block to go on with: the run's end settles it here */
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

/* One slice, as `arm` in counter.py sets it up (`instructions` more, `exact` or not):
 * `emu_start` from the pc (Thumb state on ARM), with the machine's counter CSRs entered
 * around it (csr.c); returns its error. In one call, because the pc read, the setup and
 * the binding's wrapper cost more than a short slice's guest code. */
int atoll_run(struct atoll_counter *c, void *uc, uint64_t until, uint64_t instructions, uint32_t exact)
{
    uint64_t pc = 0;
    int err;
    c->deadline = c->executed + instructions;
    c->stopped = 0;
    c->exact = exact;
    c->block_count = 0;
    err = c->reg_read(uc, c->pc_reg, &pc);
    if (err != 0)
        return err;
    if (c->enter != NULL)
        c->enter(c->enter_data);
    err = c->emu_start(uc, (pc & 0xFFFFFFFFu) | (c->thumb ? 1u : 0u), until, 0, 0);
    if (c->enter != NULL)
        c->enter(NULL);
    return err;
}
