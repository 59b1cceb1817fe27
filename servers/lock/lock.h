/* The smart lock's protocol (see servers/lock/README.md): reply codes and one inline
 * client helper per method. Clients include it as <lock/lock.h> and call the lock through
 * an endpoint capability (the slot is theirs to choose).
 *
 * Every reply's label is a status: LOCK_OK (0) or a negative LOCK_E_* code. The helpers
 * return the kernel's ATL_E_* status instead when the call itself fails: ATL_E_BAD_SLOT
 * (no capability in that slot: this system has no lock for you), ATL_E_DENIED (the policy
 * monitor refused the request), ATL_E_DEAD_PEER (the lock was restarted: call again). */
#ifndef LOCK_LOCK_H
#define LOCK_LOCK_H

#include <atoll/atoll.h>

/* The request labels LOCK_STATUS, LOCK_UNLOCK, LOCK_LOCK and LOCK_SET_CODE, with their
 * register counts: generated from lock.idl.toml (interface << 16 | method). */
#include <idl/lock.h>

/* Codes are decimal numbers of up to eight digits. */
#define LOCK_CODE_MAX 99999999u

/* statuses: the reply label */
#define LOCK_OK 0
#define LOCK_E_WRONG_CODE (-100)     /* the code is not the lock's; counts towards a lockout */
#define LOCK_E_LOCKED_OUT (-101)     /* too many wrong codes: no code is tried until the lockout ends */
#define LOCK_E_BAD_CODE (-102)       /* a new code past LOCK_CODE_MAX */
#define LOCK_E_BAD_OPERATION (-103)  /* an unknown label */

struct lock_state {
    uint32_t locked;      /* 1 locked, 0 unlocked */
    uint32_t failures;    /* wrong codes in a row */
    uint32_t lockout_ms;  /* time left before codes are tried again; 0 when none */
};

/* One call: the kernel's status if the call failed, else the lock's; *rep gets the reply. */
static inline int lock__call(uint32_t slot, uint32_t op, uint32_t a, uint32_t b, struct atl_msg *rep)
{
    struct atl_msg req = {.label = op, .mr = {a, b, 0, 0}};
    int r = atl_call(slot, &req, NULL, rep);
    if (r != ATL_OK)
        return r;
    return (int)(int32_t)rep->label;
}

static inline int lock_status(uint32_t slot, struct lock_state *state)
{
    struct atl_msg rep = {0};
    int r = lock__call(slot, LOCK_STATUS, 0, 0, &rep);
    if (r == LOCK_OK && state)
        *state = (struct lock_state){rep.mr[0], rep.mr[1], rep.mr[2]};
    return r;
}

static inline int lock_unlock(uint32_t slot, uint32_t code)
{
    struct atl_msg rep = {0};
    return lock__call(slot, LOCK_UNLOCK, code, 0, &rep);
}

static inline int lock_lock(uint32_t slot)
{
    struct atl_msg rep = {0};
    return lock__call(slot, LOCK_LOCK, 0, 0, &rep);
}

static inline int lock_set_code(uint32_t slot, uint32_t old_code, uint32_t new_code)
{
    struct atl_msg rep = {0};
    return lock__call(slot, LOCK_SET_CODE, old_code, new_code, &rep);
}

#endif /* LOCK_LOCK_H */
