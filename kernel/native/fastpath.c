/*
 * The IPC fast path: CALL and REPLY_RECV between one armed pair, in C.
 *
 * As in seL4, the common case of a round trip (a client calls a server that is
 * waiting for it, the server answers and waits again) is handled by a short path
 * that checks a few conditions and otherwise leaves everything to the ordinary
 * kernel, which is Python (kernel/kernel.py). The Python kernel stays the only
 * authority: it arms this path at the end of a syscall, for one client and one
 * server, only once it has checked everything that cannot change while no Python
 * runs (capabilities, generations, the policy's verdict, the ready threads, the
 * server's pending notifications); and whenever Python takes the machine back it
 * first reads what happened here, brings its own objects up to date and disarms.
 *
 * Phase 0: the client runs and the server waits in RECV on the endpoint.
 * Phase 1: the server runs and the client waits for its reply.
 * A CALL from the client on its armed slot, with no leases, moves 0 -> 1; a
 * REPLY_RECV from the server on its armed slot moves 1 -> 0. Each hands over
 * the message registers exactly as the Python kernel would, saves the running
 * context, restores the other one, and answers the other's address space;
 * anything else answers -1 and the trap goes to Python.
 */
#include <stdint.h>

#define EVENTS 4096                /* events between two syncs, at most */
#define MESSAGE_REGISTERS 4        /* kernel/abi.py's; fastpath.py checks they agree */

struct fp_thread {
    void *context;                 /* its saved uc_context */
    int32_t space;                 /* the machine's index of its address space */
    int32_t priority;              /* 0 is the most urgent */
};

struct fp_event {
    uint64_t executed;             /* the instruction counter when it happened */
    uint32_t kind;                 /* 0: call (client to server), 1: reply (server to client) */
    uint32_t label;
};

struct atoll_fastpath {
    /* wiring, set once */
    int (*reg_read_batch)(void *uc, int *ids, void **values, int count);
    int (*context_reg_write_batch)(void *context, int *ids, void *const *values, int count);
    int (*context_save)(void *uc, void *context);
    int (*context_restore)(void *uc, void *context);
    const uint64_t *executed;
    int32_t ids[8];                /* argument registers 0-6, then the syscall number register */
    uint32_t intno[2];             /* the interrupt numbers of a syscall */
    uint32_t sys_call, sys_reply_recv;
    uint32_t kernel_labels;        /* labels from here up are the kernel's */
    uint32_t ok;                   /* the status OK */
    /* the armed pair, set by Python */
    uint32_t armed;
    uint32_t phase;
    struct fp_thread client, server;
    uint32_t call_slot;            /* the client's endpoint capability */
    uint32_t badge;                /* its badge */
    uint32_t recv_slot;            /* the server's endpoint capability */
    uint32_t any_label;            /* 1: any label below kernel_labels; 0: only `label` */
    uint32_t label;
    uint32_t request_registers;    /* message registers a request may use (others must be 0) */
    uint32_t reply_registers;      /* likewise for a reply */
    uint32_t server_notifications; /* the server's pending bits (they cannot change here) */
    int32_t top_ready;             /* the most urgent ready thread's priority; 8 if none */
    /* what happened, read and cleared by Python */
    uint32_t recv_mask;            /* the server's mask in its last REPLY_RECV */
    uint32_t calls, replies;
    uint32_t failed;               /* 1: Unicorn refused a context operation (Python raises) */
    uint64_t last_switch;          /* the instruction counter at the last switch */
    uint64_t events_total;         /* since arming; at EVENTS the path declines */
    struct fp_event events[EVENTS];
};

static void log_event(struct atoll_fastpath *f, uint32_t kind, uint32_t label)
{
    struct fp_event *e = &f->events[f->events_total++];   /* < EVENTS: checked on entry */
    e->executed = *f->executed;
    e->kind = kind;
    e->label = label;
    f->last_switch = e->executed;
}

/* Give `to` its syscall results (n registers of v), then run it instead of `from`. */
static int hand_over(struct atoll_fastpath *f, void *uc, struct fp_thread *from, struct fp_thread *to,
                     uint32_t *v, int n)
{
    void *pointers[7];
    for (int i = 0; i < n; i++)
        pointers[i] = &v[i];
    if (f->context_reg_write_batch(to->context, f->ids, pointers, n) != 0)
        return -1;                 /* nothing changed yet: Python does it */
    if (f->context_save(uc, from->context) != 0 || f->context_restore(uc, to->context) != 0) {
        f->failed = 1;             /* declines from now on; Python raises at its sync */
        return -1;
    }
    return to->space;
}

int32_t atoll_fastpath(void *uc, uint32_t intno, void *data)
{
    struct atoll_fastpath *f = (struct atoll_fastpath *)data;
    if (!f->armed || f->failed || f->events_total >= EVENTS || (intno != f->intno[0] && intno != f->intno[1]))
        return -1;                 /* a full event ring goes to Python, which empties it */
    uint32_t a[8];
    void *pointers[8];
    for (int i = 0; i < 8; i++)
        pointers[i] = &a[i];
    if (f->reg_read_batch(uc, f->ids, pointers, 8) != 0)
        return -1;
    uint32_t *mr = &a[2];
    if (f->phase == 0) {
        /* CALL(slot, label, mr0-3, leases) from the client */
        if (a[7] != f->sys_call || a[0] != f->call_slot || a[6] != 0 || a[1] >= f->kernel_labels)
            return -1;
        if (!f->any_label && a[1] != f->label)
            return -1;
        for (uint32_t i = f->request_registers; i < MESSAGE_REGISTERS; i++)
            if (mr[i] != 0)
                return -1;
        if (f->server.priority >= f->top_ready)
            return -1;
        /* the server's RECV returns: OK, label, mr0-3, badge */
        uint32_t v[7] = {f->ok, a[1], mr[0], mr[1], mr[2], mr[3], f->badge};
        int32_t space = hand_over(f, uc, &f->client, &f->server, v, 7);
        if (space < 0)
            return -1;
        f->phase = 1;
        f->calls++;
        log_event(f, 0, a[1]);
        return space;
    }
    /* REPLY_RECV(slot, label, mr0-3, mask) from the server */
    if (a[7] != f->sys_reply_recv || a[0] != f->recv_slot || (f->server_notifications & a[6]) != 0)
        return -1;
    for (uint32_t i = f->reply_registers; i < MESSAGE_REGISTERS; i++)
        if (mr[i] != 0)
            return -1;
    if (f->client.priority >= f->top_ready)
        return -1;
    /* the client's CALL returns: OK, label, mr0-3 */
    uint32_t v[6] = {f->ok, a[1], mr[0], mr[1], mr[2], mr[3]};
    int32_t space = hand_over(f, uc, &f->server, &f->client, v, 6);
    if (space < 0)
        return -1;
    f->phase = 0;
    f->replies++;
    f->recv_mask = a[6];
    log_event(f, 1, a[1]);
    return space;
}
