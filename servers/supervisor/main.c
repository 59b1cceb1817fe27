/* supervisor: restarts the components it supervises, with backoff, and pings the servers
 * among them to notice one that hangs (README.md).
 *
 * Serves the fault endpoint in slot 1, where the kernel sends FAULT messages. A fault or
 * a nonzero exit schedules a restart after the component's backoff (10 ms, doubling to
 * 1 s; back to 10 ms once it ran 5 s without faulting); an exit with code 0 is final.
 * A component whose restart policy is "restart" (ATL_FAULT_RESTART_AT_ONCE in MR1) is
 * restarted at once. Components held or rebooting by their policy never reach here.
 * All pending restarts share the one kernel timer, set to the earliest deadline, so a
 * component in backoff never holds up the faults of the others. Only messages with
 * badge 0 (the kernel's) count as faults: a client cannot forge one.
 * Every 10 ms each supervised component gets a heartbeat (ATL_SYS_PING) with a 5 ms timeout;
 * the kernel reports one that does not answer as fault ATL_FAULT_HUNG, restarted as any. */
#include <atoll/atoll.h>

#define FAULT_SLOT 1u
#define TIMER_BIT (1u << 31)
#define MAX_COMPONENTS 64u
#define BACKOFF_MIN_US 10000u
#define BACKOFF_MAX_US 1000000u
#define HEALTHY_US 5000000u
#define HEARTBEAT_US 10000u   /* a heartbeat to every supervised server this often ... */
#define PING_TIMEOUT_US 5000u /* ... to be answered within this */

struct component {
    uint8_t pending;     /* a restart is due at due_us */
    uint8_t foreign;     /* not ours (PING said NO_RIGHTS): never pinged again */
    uint32_t backoff_us; /* the delay of the next restart; 0: not faulted yet */
    uint64_t due_us;
    uint64_t started_us; /* when it was last (re)started */
};

static struct component table[MAX_COMPONENTS];
static uint64_t next_beat_us;

/* Point the kernel timer at the next heartbeat or the earliest pending restart. */
static void arm_timer(void)
{
    uint64_t first = next_beat_us;
    for (unsigned i = 0; i < MAX_COMPONENTS; i++)
        if (table[i].pending && (first == 0 || table[i].due_us < first))
            first = table[i].due_us;
    if (first)
        atl_timer_set(first, TIMER_BIT);
}

/* A FAULT message: MR0 component, MR1 kind (| ATL_FAULT_RESTART_AT_ONCE), MR2 address
 * (exit code), MR3 pc. */
static void fault(const struct atl_msg *m)
{
    uint32_t index = m->mr[0], kind = m->mr[1] & 0xFFFFu;
    int at_once = (m->mr[1] & ATL_FAULT_RESTART_AT_ONCE) != 0;
    if (kind == ATL_FAULT_EXITED && m->mr[2] == 0) {
        atl_printf("supervisor: component %u exited with code 0, not restarting\n", (unsigned)index);
        return;
    }
    if (index >= MAX_COMPONENTS) {
        atl_printf("supervisor: component %u is past my table, not restarting\n", (unsigned)index);
        return;
    }
    struct component *c = &table[index];
    uint64_t now = atl_time_now_us();
    if (c->backoff_us == 0 || now - c->started_us >= HEALTHY_US)
        c->backoff_us = BACKOFF_MIN_US;
    uint32_t delay = at_once ? 0 : c->backoff_us;
    if (!at_once)
        c->backoff_us = delay * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : delay * 2;
    if (kind == ATL_FAULT_HUNG)
        atl_printf("supervisor: component %u missed its heartbeat (%u ms) at pc 0x%x, restarting in %u ms\n",
                   (unsigned)index, (unsigned)(m->mr[2] / 1000), (unsigned)m->mr[3], (unsigned)(delay / 1000));
    else if (kind == ATL_FAULT_EXITED)
        atl_printf("supervisor: component %u exited with code %d, restarting in %u ms\n", (unsigned)index,
                   (int)m->mr[2], (unsigned)(delay / 1000));
    else
        atl_printf("supervisor: component %u fault %u at pc 0x%x, restarting in %u ms\n", (unsigned)index,
                   (unsigned)kind, (unsigned)m->mr[3], (unsigned)(delay / 1000));
    if (at_once) {
        c->started_us = now;
        int r = atl_restart(index);
        if (r != ATL_OK)
            atl_printf("supervisor: restarting component %u failed %d\n", (unsigned)index, r);
        return;
    }
    c->pending = 1;
    c->due_us = now + delay;
    arm_timer();
}

/* The timer fired: restart every component whose time has come. */
static void restart_due(void)
{
    uint64_t now = atl_time_now_us();
    for (unsigned i = 0; i < MAX_COMPONENTS; i++) {
        struct component *c = &table[i];
        if (!c->pending || c->due_us > now)
            continue;
        c->pending = 0;
        c->started_us = now;
        int r = atl_restart(i);
        if (r != ATL_OK)
            atl_printf("supervisor: restarting component %u failed %d\n", i, r);
    }
    arm_timer();
}

/* A heartbeat to every component we supervise (the kernel skips those that serve no endpoint
 * or are down already); components are numbered from 1, up to the first the kernel does not know. */
static void heartbeat(uint64_t now)
{
    for (unsigned i = 1; i < MAX_COMPONENTS; i++) {
        if (table[i].foreign)
            continue;
        int r = atl_ping(i, PING_TIMEOUT_US, NULL);
        if (r == ATL_E_BAD_ARGUMENT)
            break;
        if (r == ATL_E_NO_RIGHTS)
            table[i].foreign = 1;
        else if (r != ATL_OK)
            atl_printf("supervisor: pinging component %u failed %d\n", i, r);
    }
    next_beat_us = now + HEARTBEAT_US;
}

int main(void)
{
    struct atl_msg m;
    next_beat_us = atl_time_now_us() + HEARTBEAT_US;
    arm_timer();
    for (;;) {
        int r = atl_recv(FAULT_SLOT, TIMER_BIT, &m);
        if (r != ATL_OK) {
            atl_printf("supervisor: receive failed %d\n", r);
        } else if (m.label == ATL_LABEL_NOTIFICATION) {
            uint64_t now = atl_time_now_us();
            if (now >= next_beat_us)
                heartbeat(now);
            restart_due();
        } else if (m.label == ATL_LABEL_FAULT && m.badge == 0) {
            fault(&m);
        } else { /* not from the kernel (clients' capabilities carry a badge): refused */
            struct atl_msg no = {.label = (uint32_t)ATL_E_BAD_ARGUMENT};
            atl_reply(ATL_REPLY_SLOT, &no);
        }
    }
}
