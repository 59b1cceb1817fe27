/* lock: a smart door lock (protocol in lock.h, README.md). Serves slot 1.
 *
 * Holds two secrets: the unlock code (LOCK_FACTORY_CODE until someone changes it) and a
 * device key for the vendor's cloud link, which no method reveals. Wrong codes are
 * rate-limited: every LOCK_TRIES wrong codes in a row lock out all code checks for a
 * while, longer each time. What it does goes to the debug log, tagged with the caller's
 * badge (its index in the image), so the log says who opened the door. The lock trusts
 * whoever holds a capability to its endpoint: which methods each client may call is the
 * policy's business (the kernel's monitor), not the lock's. */
#include <atoll/atoll.h>

#include "lock.h"

#define SERVE_SLOT 1u
#define LOCK_FACTORY_CODE 2468u
#define LOCK_TRIES 3u
#define LOCKOUT_US 5000000u

static uint32_t unlock_code = LOCK_FACTORY_CODE;
/* the device key: kept in RAM for the cloud link (not modelled here), never sent */
__attribute__((used)) static uint8_t secret_key[16] = {0x5e, 0xc7, 0x3a, 0x91, 0x0b, 0x6d, 0xf2, 0x48,
                                                      0x7c, 0x19, 0xe4, 0xa3, 0x56, 0x2f, 0xd8, 0x8b};
static uint32_t locked = 1;
static uint32_t failures;      /* wrong codes in a row */
static uint64_t lockout_until; /* no code is tried before this time (us) */

static uint32_t lockout_ms(uint64_t now)
{
    return now < lockout_until ? (uint32_t)((lockout_until - now + 999u) / 1000u) : 0u;
}

/* Whether `given` is the code, counting wrong ones and locking out after LOCK_TRIES. */
static int check_code(uint32_t given, uint32_t badge)
{
    uint64_t now = atl_time_now_us();
    if (now < lockout_until) {
        atl_printf("lock: client %u refused, locked out for %u ms\n", (unsigned)badge, (unsigned)lockout_ms(now));
        return LOCK_E_LOCKED_OUT;
    }
    if (given != unlock_code) {
        failures++;
        atl_printf("lock: wrong code from client %u (%u in a row)\n", (unsigned)badge, (unsigned)failures);
        if (failures % LOCK_TRIES == 0) {
            lockout_until = now + (uint64_t)LOCKOUT_US * (failures / LOCK_TRIES);
            atl_printf("lock: locked out for %u ms\n", (unsigned)lockout_ms(now));
        }
        return LOCK_E_WRONG_CODE;
    }
    failures = 0;
    return LOCK_OK;
}

static int handle(const struct atl_msg *req, struct atl_msg *rep)
{
    uint32_t who = req->badge;
    int r;
    switch (req->label) {
    case LOCK_STATUS:
        rep->mr[0] = locked;
        rep->mr[1] = failures;
        rep->mr[2] = lockout_ms(atl_time_now_us());
        return LOCK_OK;
    case LOCK_UNLOCK:
        r = check_code(req->mr[0], who);
        if (r == LOCK_OK) {
            locked = 0;
            atl_printf("lock: unlocked by client %u\n", (unsigned)who);
        }
        rep->mr[0] = locked;
        return r;
    case LOCK_LOCK:
        locked = 1;
        atl_printf("lock: locked by client %u\n", (unsigned)who);
        rep->mr[0] = locked;
        return LOCK_OK;
    case LOCK_SET_CODE:
        r = check_code(req->mr[0], who);
        if (r != LOCK_OK)
            return r;
        if (req->mr[1] > LOCK_CODE_MAX)
            return LOCK_E_BAD_CODE;
        unlock_code = req->mr[1];
        atl_printf("lock: code changed by client %u\n", (unsigned)who);
        return LOCK_OK;
    default:
        atl_printf("lock: unknown request 0x%x from client %u\n", (unsigned)req->label, (unsigned)who);
        return LOCK_E_BAD_OPERATION;
    }
}

int main(void)
{
    struct atl_msg req, rep = {0};
    atl_printf("lock: ready, door locked\n");
    atl_recv(SERVE_SLOT, 0, &req);
    for (;;) {
        rep = (struct atl_msg){0};
        rep.label = (uint32_t)handle(&req, &rep);
        atl_reply_recv(SERVE_SLOT, &rep, 0, &req);
    }
}
