/*
 * The RISC-V counter CSRs, answered from virtual time instead of the host's.
 *
 * Unicorn 2.1.4 (QEMU 5's target/riscv) reads cycle, instret, mcycle, minstret and
 * their high halves from the host's time-stamp counter (cpu_get_host_ticks), in
 * every privilege mode: the E31's privileged spec 1.10 leaves mcounteren no say
 * over U-mode reads, and Unicorn has no instruction hook for RISC-V. time and
 * timeh raise an illegal instruction, since no timer is wired to rdtime_fn.
 *
 * The CSR table is one per process and its entries can be replaced
 * (riscv_set_csr_ops, exported by the library). `atoll_csr_install` replaces those
 * of the counters with a read that asks the machine running on this thread (set by
 * `atoll_csr_enter` around each emu_start) for the value; when the machine declines,
 * the read is an illegal instruction. With no machine running on the thread (Unicorn's
 * own register read, from the host, between runs) a counter reads 0: Unicorn would
 * otherwise hand back whatever its stack held. A CSR instruction already
 * calls a helper, so this costs nothing per instruction or per block. Writes to
 * mcycle/minstret are dropped, as the table drops writes to a CSR with no writer.
 */
#include <stdint.h>

typedef int (*csr_predicate)(void *env, int csrno);
typedef int (*csr_read)(void *env, int csrno, uint32_t *value);  /* target_ulong is 32 bits on riscv32 */
typedef int (*csr_write)(void *env, int csrno, uint32_t value);
typedef int (*csr_op)(void *env, int csrno, uint32_t *old, uint32_t value, uint32_t mask);

struct csr_operations {           /* QEMU's riscv_csr_operations */
    csr_predicate predicate;
    csr_read read;
    csr_write write;
    csr_op op;
};

struct atoll_csr {
    /* the CSR's value into *out and 0, or nonzero: the read is an illegal instruction */
    int (*value)(uint32_t csrno, uint32_t *out);
};

static _Thread_local struct atoll_csr *running;

/* The machine whose emu_start is about to run on this thread (0 once it returned). */
void atoll_csr_enter(struct atoll_csr *machine)
{
    running = machine;
}

static int readable(void *env, int csrno)
{
    (void)env;
    (void)csrno;
    return 0;
}

static int read_virtual(void *env, int csrno, uint32_t *value)
{
    struct atoll_csr *m = running;
    (void)env;
    if (m == 0) {            /* no machine running here: a host-side register read */
        *value = 0;
        return 0;
    }
    return m->value((uint32_t)csrno, value) != 0 ? -1 : 0;
}

/* cycle, time, instret, their high halves; mcycle, minstret and theirs */
static const int counters[] = {0xC00, 0xC01, 0xC02, 0xC80, 0xC81, 0xC82, 0xB00, 0xB02, 0xB80, 0xB82};

void atoll_csr_install(void (*set_ops)(int csrno, struct csr_operations *ops))
{
    struct csr_operations ops = {readable, read_virtual, 0, 0};
    for (unsigned i = 0; i < sizeof counters / sizeof counters[0]; i++)
        set_ops(counters[i], &ops);
}
