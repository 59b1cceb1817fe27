/*
 * The RISC-V machine-mode interrupt model's native part (machine/exceptions/riscv.py).
 *
 * Unicorn 2.1.4 (QEMU 5's target/riscv) keeps its own mip, which only the S-mode bits
 * of a CSR write can set, and takes an interrupt itself whenever mip & mie is not 0.
 * The model owns the machine-mode lines instead (MSIP, MTIP, MEIP from the CLINT and
 * the PLIC) and takes interrupts at slice boundaries in Python. Three things need C:
 *
 * - mip: a guest read answers the model's lines (a Python callback, read at the moment
 *   of the instruction, as machine/native/csr.c does for the counters); writes are
 *   dropped: MSIP/MTIP/MEIP are read-only in mip, and the E31 has no S mode whose bits
 *   QEMU would otherwise let a write set (and then take as an S-mode interrupt).
 * - mstatus and mie: after QEMU's own write, if an interrupt the model holds is now
 *   enabled (MIE set and mie & lines), the model is told at once. QEMU ends the
 *   translated block after every CSR instruction, so the slice stops before the next
 *   instruction: `csrsi mstatus, 8` with a timer interrupt pending enters the handler
 *   right after it, on every run however it is sliced.
 * - a block hook: `mret` sets MIE from MPIE without a CSR write; at the start of each
 *   block, while the model holds a line high, mie and MIE are read and the model told
 *   if the interrupt is now deliverable (it is taken at the next block boundary).
 *
 * The CSR table is the process's; a machine registers its CPU state (`env`) here
 * (`atoll_rv_register`, through one host read of mip), and CPUs not registered (the
 * kernel's machines) keep QEMU's own behaviour for all three CSRs. A gate registered for
 * an `env` replaces any other there (a CPU freed before its machine unregistered).
 */
#include <stdint.h>

typedef int (*csr_predicate)(void *env, int csrno);
typedef int (*csr_read)(void *env, int csrno, uint32_t *value);
typedef int (*csr_write)(void *env, int csrno, uint32_t value);
typedef int (*csr_op)(void *env, int csrno, uint32_t *old, uint32_t value, uint32_t mask);

struct csr_operations {           /* QEMU's riscv_csr_operations */
    csr_predicate predicate;
    csr_read read;
    csr_write write;
    csr_op op;
};

struct atoll_rv_gate {
    uint32_t lines;                       /* the mip bits the model holds high (MSIP 3, MTIP 7, MEIP 11) */
    void (*notify)(void);                 /* an enabled interrupt may be deliverable (Python) */
    uint32_t (*mip)(void);                /* the guest's read of mip (Python) */
    int (*reg_read)(void *uc, int regid, void *value);    /* uc_reg_read */
    void *env;                            /* the CPU state this gate serves, once registered */
};

#define CSR_MSTATUS 0x300
#define CSR_MIE 0x304
#define CSR_MIP 0x344
#define MSTATUS_MIE 0x8u
#define UC_RISCV_REG_MSTATUS 116          /* unicorn/riscv.h */
#define UC_RISCV_REG_MIE 120
#define MAX_GATES 256

static struct csr_operations original_mstatus, original_mie, original_mip;
static struct atoll_rv_gate *gates[MAX_GATES];
static struct atoll_rv_gate *registering;
static int installed;

static struct atoll_rv_gate *gate_of(void *env)
{
    for (int i = 0; i < MAX_GATES; i++)
        if (gates[i] != 0 && gates[i]->env == env)
            return gates[i];
    return 0;
}

static void check(void *env, struct atoll_rv_gate *g)
{
    uint32_t mstatus = 0, mie = 0;
    if (g->lines == 0 || original_mie.read(env, CSR_MIE, &mie) != 0 || (g->lines & mie) == 0)
        return;
    if (original_mstatus.read(env, CSR_MSTATUS, &mstatus) == 0 && (mstatus & MSTATUS_MIE))
        g->notify();
}

static int write_mstatus(void *env, int csrno, uint32_t value)
{
    int r = original_mstatus.write(env, csrno, value);
    struct atoll_rv_gate *g = gate_of(env);
    if (r == 0 && g != 0)
        check(env, g);
    return r;
}

static int write_mie(void *env, int csrno, uint32_t value)
{
    int r = original_mie.write(env, csrno, value);
    struct atoll_rv_gate *g = gate_of(env);
    if (r == 0 && g != 0)
        check(env, g);
    return r;
}

static int op_mip(void *env, int csrno, uint32_t *old, uint32_t value, uint32_t mask)
{
    struct atoll_rv_gate *g;
    if (registering != 0) {       /* the host's read of mip that tells a gate its env */
        for (int i = 0; i < MAX_GATES; i++)   /* a gate left by a CPU freed at this address */
            if (gates[i] != 0 && gates[i] != registering && gates[i]->env == env)
                gates[i] = 0;
        registering->env = env;
        registering = 0;
        if (old != 0)
            *old = 0;
        return 0;
    }
    g = gate_of(env);
    if (g == 0)
        return original_mip.op(env, csrno, old, value, mask);
    if (old != 0)
        *old = g->mip();
    return 0;                     /* writes dropped: see above */
}

/* Replace the three CSRs' operations (once per process). */
void atoll_rv_install(void (*get_ops)(int, struct csr_operations *), void (*set_ops)(int, struct csr_operations *))
{
    struct csr_operations ops;
    if (installed)
        return;
    installed = 1;
    get_ops(CSR_MSTATUS, &original_mstatus);
    get_ops(CSR_MIE, &original_mie);
    get_ops(CSR_MIP, &original_mip);
    ops = original_mstatus;
    ops.write = write_mstatus;
    set_ops(CSR_MSTATUS, &ops);
    ops = original_mie;
    ops.write = write_mie;
    set_ops(CSR_MIE, &ops);
    ops = original_mip;
    ops.op = op_mip;
    set_ops(CSR_MIP, &ops);
}

/* The next host read of mip registers `g` for that CPU (0 if the table is full, else 1). */
int atoll_rv_register(struct atoll_rv_gate *g)
{
    for (int i = 0; i < MAX_GATES; i++) {
        if (gates[i] == 0) {
            gates[i] = g;
            g->env = 0;
            registering = g;
            return 1;
        }
    }
    return 0;
}

void atoll_rv_unregister(struct atoll_rv_gate *g)
{
    for (int i = 0; i < MAX_GATES; i++)
        if (gates[i] == g)
            gates[i] = 0;
    if (registering == g)
        registering = 0;
}

/* The block hook: after an mret (or anything else but a CSR write) made a held line deliverable. */
void atoll_rv_block(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_rv_gate *g = (struct atoll_rv_gate *)user_data;
    uint32_t mstatus = 0, mie = 0;
    (void)address;
    (void)size;
    if (g->lines == 0 || g->reg_read(uc, UC_RISCV_REG_MIE, &mie) != 0 || (g->lines & mie) == 0)
        return;
    if (g->reg_read(uc, UC_RISCV_REG_MSTATUS, &mstatus) == 0 && (mstatus & MSTATUS_MIE))
        g->notify();
}
