/* Atoll syscall stubs: one static inline function per syscall in kernel/abi.py's Sys.
 *
 * Convention (kernel/abi.py): the number goes in r12 (ARMv7-M) or a7 (RV32), arguments in
 * r0-r6 / a0-a6, the trap is `svc #0` / `ecall`, and results come back in the same registers,
 * the first always a status (0 or a negative ATL_E_* code). Every stub returns that status as
 * an int; calls that return more hand it back through out-pointers (which may be NULL).
 * The kernel may write any of the seven registers, so each stub treats all of them as results.
 */
#ifndef ATOLL_SYSCALL_H
#define ATOLL_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

#include <atoll/abi.h> /* generated from kernel/abi.py into the build directory */

/* A message: a protocol-chosen label and four message registers; badge is filled in on receipt. */
struct atl_msg {
    uint32_t label;
    uint32_t mr[ATL_MESSAGE_REGISTERS];
    uint32_t badge;
};

#if defined(__arm__) || defined(__thumb__)
#define ATL__RN "r12"
#define ATL__R0 "r0"
#define ATL__R1 "r1"
#define ATL__R2 "r2"
#define ATL__R3 "r3"
#define ATL__R4 "r4"
#define ATL__R5 "r5"
#define ATL__R6 "r6"
#define ATL__TRAP "svc #0"
#elif defined(__riscv) && __riscv_xlen == 32
#define ATL__RN "a7"
#define ATL__R0 "a0"
#define ATL__R1 "a1"
#define ATL__R2 "a2"
#define ATL__R3 "a3"
#define ATL__R4 "a4"
#define ATL__R5 "a5"
#define ATL__R6 "a6"
#define ATL__TRAP "ecall"
#else
#error "atoll/syscall.h: unsupported ISA (expected ARMv7-M Thumb or RV32)"
#endif

/* One trap with the first ARITY registers as arguments ("+r") and the rest as results only
 * ("=r"): v[] carries the arguments in and all seven result registers out. */
#define ATL__DEFINE_SYSCALL(ARITY, C0, C1, C2, C3, C4, C5, C6)                          \
    static inline void atl__syscall##ARITY(uint32_t number, uint32_t v[7])                 \
    {                                                                                       \
        register uint32_t rn __asm__(ATL__RN) = number;                                     \
        register uint32_t r0 __asm__(ATL__R0) = v[0];                                       \
        register uint32_t r1 __asm__(ATL__R1) = v[1];                                       \
        register uint32_t r2 __asm__(ATL__R2) = v[2];                                       \
        register uint32_t r3 __asm__(ATL__R3) = v[3];                                       \
        register uint32_t r4 __asm__(ATL__R4) = v[4];                                       \
        register uint32_t r5 __asm__(ATL__R5) = v[5];                                       \
        register uint32_t r6 __asm__(ATL__R6) = v[6];                                       \
        __asm__ volatile(ATL__TRAP                                                          \
                         : "+r"(rn), C0(r0), C1(r1), C2(r2), C3(r3), C4(r4), C5(r5), C6(r6) \
                         :                                                                  \
                         : "memory");                                                       \
        v[0] = r0, v[1] = r1, v[2] = r2, v[3] = r3, v[4] = r4, v[5] = r5, v[6] = r6;        \
    }

ATL__DEFINE_SYSCALL(0, "=r", "=r", "=r", "=r", "=r", "=r", "=r")
ATL__DEFINE_SYSCALL(1, "+r", "=r", "=r", "=r", "=r", "=r", "=r")
ATL__DEFINE_SYSCALL(2, "+r", "+r", "=r", "=r", "=r", "=r", "=r")
ATL__DEFINE_SYSCALL(3, "+r", "+r", "+r", "=r", "=r", "=r", "=r")
ATL__DEFINE_SYSCALL(4, "+r", "+r", "+r", "+r", "=r", "=r", "=r")
ATL__DEFINE_SYSCALL(5, "+r", "+r", "+r", "+r", "+r", "=r", "=r")
ATL__DEFINE_SYSCALL(6, "+r", "+r", "+r", "+r", "+r", "+r", "=r")
ATL__DEFINE_SYSCALL(7, "+r", "+r", "+r", "+r", "+r", "+r", "+r")
#undef ATL__DEFINE_SYSCALL

#define ATL__MSG_ARGS(m) (m)->label, (m)->mr[0], (m)->mr[1], (m)->mr[2], (m)->mr[3]

static inline void atl__msg_out(const uint32_t v[7], struct atl_msg *m, uint32_t badge)
{
    if (m) {
        m->label = v[1];
        for (int i = 0; i < ATL_MESSAGE_REGISTERS; i++)
            m->mr[i] = v[2 + i];
        m->badge = badge;
    }
}

/* The kernel's PING (a supervisor's heartbeat: label ATL_LABEL_PING, badge 0; no client can send
 * a kernel label) is answered here, inside atl_recv and atl_reply_recv, so every server loop
 * answers it without a line of its own: reply through ATL_REPLY_SLOT and receive again. v holds
 * a RECV's results. */
static inline void atl__answer_pings(uint32_t slot, uint32_t notification_mask, uint32_t v[7]);

static inline void atl__word_out(uint32_t *out, uint32_t value)
{
    if (out)
        *out = value;
}

/* Write one byte to the kernel's debug log. */
static inline int atl_debug_putc(char c)
{
    uint32_t v[7] = {(uint8_t)c};
    atl__syscall1(ATL_SYS_DEBUG_PUTC, v);
    return (int)v[0];
}

/* Give up the rest of this time slice. */
static inline int atl_yield(void)
{
    uint32_t v[7] = {0};
    atl__syscall0(ATL_SYS_YIELD, v);
    return (int)v[0];
}

/* End this component with an exit code (its supervisor sees ATL_FAULT_EXITED); never returns. */
static inline _Noreturn void atl_exit(int code)
{
    for (;;) {
        uint32_t v[7] = {(uint32_t)code};
        atl__syscall1(ATL_SYS_EXIT, v);
    }
}

/* Send msg (label, mr) on the endpoint in slot; blocks until the receiver takes it. */
static inline int atl_send(uint32_t slot, const struct atl_msg *msg)
{
    uint32_t v[7] = {slot, ATL__MSG_ARGS(msg)};
    atl__syscall6(ATL_SYS_SEND, v);
    return (int)v[0];
}

/* Receive a message on slot, or notification bits in mask (label ATL_LABEL_NOTIFICATION, bits in mr[0]). */
static inline int atl_recv(uint32_t slot, uint32_t notification_mask, struct atl_msg *msg)
{
    uint32_t v[7] = {slot, notification_mask};
    atl__syscall2(ATL_SYS_RECV, v);
    atl__answer_pings(slot, notification_mask, v);
    atl__msg_out(v, msg, v[6]);
    return (int)v[0];
}

/* Call the endpoint in slot with req, lending leases (may be NULL), and wait for the reply.
 * When the call fails (a negative status), *reply is all zeros. */
static inline int atl_call(uint32_t slot, const struct atl_msg *req, const struct atl_leases *leases,
                           struct atl_msg *reply)
{
    uint32_t v[7] = {slot, ATL__MSG_ARGS(req), (uint32_t)(uintptr_t)leases};
    atl__syscall7(ATL_SYS_CALL, v);
    if ((int)v[0] != ATL_OK)
        v[1] = v[2] = v[3] = v[4] = v[5] = 0;
    atl__msg_out(v, reply, 0);
    return (int)v[0];
}

/* Reply with msg through the reply capability in reply_slot (usually ATL_REPLY_SLOT). */
static inline int atl_reply(uint32_t reply_slot, const struct atl_msg *msg)
{
    uint32_t v[7] = {reply_slot, ATL__MSG_ARGS(msg)};
    atl__syscall6(ATL_SYS_REPLY, v);
    return (int)v[0];
}

/* Reply with reply to the last caller, then receive on slot as atl_recv does (a server's loop). */
static inline int atl_reply_recv(uint32_t slot, const struct atl_msg *reply, uint32_t notification_mask,
                                 struct atl_msg *msg)
{
    uint32_t v[7] = {slot, ATL__MSG_ARGS(reply), notification_mask};
    atl__syscall7(ATL_SYS_REPLY_RECV, v);
    atl__answer_pings(slot, notification_mask, v);
    atl__msg_out(v, msg, v[6]);
    return (int)v[0];
}

static inline void atl__answer_pings(uint32_t slot, uint32_t notification_mask, uint32_t v[7])
{
    while ((int)v[0] == ATL_OK && v[1] == ATL_LABEL_PING && v[6] == 0) {
        v[0] = slot, v[1] = ATL_LABEL_PING, v[2] = v[3] = v[4] = v[5] = 0, v[6] = notification_mask;
        atl__syscall7(ATL_SYS_REPLY_RECV, v);
    }
}

/* OR the badge bits of the notification capability in slot into its target's word. */
static inline int atl_notify(uint32_t slot)
{
    uint32_t v[7] = {slot};
    atl__syscall1(ATL_SYS_NOTIFY, v);
    return (int)v[0];
}

/* Block until a bit in mask is set; return (and clear) the set bits in *bits. */
static inline int atl_wait(uint32_t mask, uint32_t *bits)
{
    uint32_t v[7] = {mask};
    atl__syscall1(ATL_SYS_WAIT, v);
    atl__word_out(bits, v[1]);
    return (int)v[0];
}

/* Like atl_wait, without blocking. */
static inline int atl_poll(uint32_t mask, uint32_t *bits)
{
    uint32_t v[7] = {mask};
    atl__syscall1(ATL_SYS_POLL, v);
    atl__word_out(bits, v[1]);
    return (int)v[0];
}

/* Tell the kernel the interrupts behind these notification bits are handled. */
static inline int atl_irq_ack(uint32_t bits)
{
    uint32_t v[7] = {bits};
    atl__syscall1(ATL_SYS_IRQ_ACK, v);
    return (int)v[0];
}

/* Sleep for at least us microseconds. */
static inline int atl_sleep_us(uint32_t us)
{
    uint32_t v[7] = {us};
    atl__syscall1(ATL_SYS_SLEEP, v);
    return (int)v[0];
}

/* Set notification bits at the absolute time deadline_us (see atl_time_now_us). */
static inline int atl_timer_set(uint64_t deadline_us, uint32_t bits)
{
    uint32_t v[7] = {(uint32_t)deadline_us, (uint32_t)(deadline_us >> 32), bits};
    atl__syscall3(ATL_SYS_TIMER_SET, v);
    return (int)v[0];
}

/* Microseconds since boot. */
static inline uint64_t atl_time_now_us(void)
{
    uint32_t v[7] = {0};
    atl__syscall0(ATL_SYS_TIME_NOW, v);
    return ((uint64_t)v[2] << 32) | v[1];
}

/* Copy up to len bytes at offset of lease number lease (of the caller behind reply_slot) into buf. */
static inline int atl_lease_read(uint32_t reply_slot, uint32_t lease, uint32_t offset, void *buf, size_t len,
                                 size_t *copied)
{
    uint32_t v[7] = {reply_slot, lease, offset, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    atl__syscall5(ATL_SYS_LEASE_READ, v);
    if (copied)
        *copied = v[1];
    return (int)v[0];
}

/* Copy up to len bytes from buf into lease number lease (of the caller behind reply_slot) at offset. */
static inline int atl_lease_write(uint32_t reply_slot, uint32_t lease, uint32_t offset, const void *buf,
                                  size_t len, size_t *copied)
{
    uint32_t v[7] = {reply_slot, lease, offset, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    atl__syscall5(ATL_SYS_LEASE_WRITE, v);
    if (copied)
        *copied = v[1];
    return (int)v[0];
}

/* Copy the capability in src to the empty slot dst with rights (a subset) and a badge. */
static inline int atl_cap_derive(uint32_t src, uint32_t dst, uint32_t rights, uint32_t badge)
{
    uint32_t v[7] = {src, dst, rights, badge};
    atl__syscall4(ATL_SYS_CAP_DERIVE, v);
    return (int)v[0];
}

/* Delete every capability derived from the one in slot. */
static inline int atl_cap_revoke(uint32_t slot)
{
    uint32_t v[7] = {slot};
    atl__syscall1(ATL_SYS_CAP_REVOKE, v);
    return (int)v[0];
}

/* Empty slot. */
static inline int atl_cap_delete(uint32_t slot)
{
    uint32_t v[7] = {slot};
    atl__syscall1(ATL_SYS_CAP_DELETE, v);
    return (int)v[0];
}

/* Move the capability in src to the empty slot dst (e.g. keep a reply capability for later). */
static inline int atl_cap_move(uint32_t src, uint32_t dst)
{
    uint32_t v[7] = {src, dst};
    atl__syscall2(ATL_SYS_CAP_MOVE, v);
    return (int)v[0];
}

/* Restart the component with this index, which the caller must supervise. */
static inline int atl_restart(uint32_t component)
{
    uint32_t v[7] = {component};
    atl__syscall1(ATL_SYS_RESTART, v);
    return (int)v[0];
}

/* A heartbeat to the component with this index, which the caller must supervise: the kernel's
 * PING on an endpoint it serves (answered inside its atl_recv/atl_reply_recv). Unanswered within
 * timeout_us (1 us to ATL_MAX_PING_TIMEOUT_US) while it could have answered, the component is
 * stopped with fault ATL_FAULT_HUNG, reported to the caller as any fault. *sent (may be NULL):
 * 1 if a ping is out (this one, or one before it still waiting), 0 if there is nothing to ping
 * (it serves no endpoint, or it is down and the caller was told). */
static inline int atl_ping(uint32_t component, uint32_t timeout_us, uint32_t *sent)
{
    uint32_t v[7] = {component, timeout_us};
    atl__syscall2(ATL_SYS_PING, v);
    atl__word_out(sent, v[1]);
    return (int)v[0];
}

/* What the kernel knows of component number index (1-based): its name into name (up to
 * name_len bytes, not terminated), and its state (ATL_STATE_*), priority, generation and faults. */
struct atl_component_info {
    uint32_t state;
    uint32_t priority;
    uint32_t generation;
    uint32_t faults;
};

static inline int atl_component_info(uint32_t index, char *name, size_t name_len, struct atl_component_info *info)
{
    uint32_t v[7] = {index, (uint32_t)(uintptr_t)name, (uint32_t)name_len};
    atl__syscall3(ATL_SYS_COMPONENT_INFO, v);
    if (info) {
        info->state = v[1];
        info->priority = v[2];
        info->generation = v[3];
        info->faults = v[4];
    }
    return (int)v[0];
}

#endif /* ATOLL_SYSCALL_H */
