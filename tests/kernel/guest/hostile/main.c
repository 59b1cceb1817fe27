/* A hostile component and its two helpers, for tests/kernel/test_hostile_process_fuzzing.py.
 * One ELF, three roles, chosen by the name the test gives the process: it asks COMPONENT_INFO
 * for every index, and the component in state RUNNING is the caller itself.
 *
 * "hostile": random syscalls with random arguments, forever. Mostly known numbers (weighted),
 *   about one in 700 a number the kernel does not have (a fault: the test restarts it) and
 *   about one in 700 an EXIT. Arguments: slots (granted ones, ones it filled itself, empty,
 *   past the table, anything), pointers into its own arena (read-write), its code (read-only),
 *   just outside its memory, the top of the address space or anywhere else, lengths small,
 *   at the limits or anything, lease arrays built in the arena with random counts, ranges and
 *   rights. The test's capabilities: slot 1 the echo server (send, grant), slot 2 a
 *   notification to itself (badge 0xF0, send, grant), slot 3 a notification to a blocked
 *   server (send, grant), slot 4 its own endpoint (receive, grant: it never calls itself),
 *   slot 5 a notification to itself (unbadged, send, grant); the lender calls it, so slot 0
 *   gets real reply capabilities with leases. Before a call that can block (RECV, REPLY_RECV,
 *   WAIT) it sets a timer for WAKE_BIT and adds that bit to the mask, so nothing blocks for
 *   long. Every syscall it makes goes through trap(), which counts it in hostile_state
 *   before the trap instruction and files the status it got; the test reads hostile_state.
 *   The seed mixes the time and the generation, so each restart fuzzes differently.
 * "lender": CALLs slot 1 (the hostile's endpoint) forever with four leases: lender_text
 *   (readable), lender_state.sink (writable), lender_state.both (readable and writable) and
 *   an empty one. Nothing else in its memory may change. After an error it sleeps 200 us.
 * "checker": calls slot 1 and slot 2 with ECHO (label 1, mr0 41) and prints
 *   "check: <slot> <status> <mr0>" for each, then exits with code 0.
 * "timers": sets its timer TIMER_RESETS times, each time for about a day ahead (so none of
 *   them fires during a test), then exits with code 0. */
#include <atoll/atoll.h>

#define HOSTILE_STACK 8192u /* the stack the test gives the hostile */
#define ARENA_BYTES 3072u
#define WAKE_BIT 0x80000000u
#define KNOWN_SLOTS 8u
#define STATUS_KINDS 13u /* 0 .. -11, then anything else */
#define ECHO_CRASH 3u    /* the echo server's label that makes it fault on purpose */
#define TIMER_RESETS 20000u

/* The test reads the first 16 words: issued, fuzzed, statuses, seed. */
struct hostile {
    uint32_t issued;                 /* syscalls of this generation, counted before each trap */
    uint32_t fuzzed;                 /* of which random ones */
    uint32_t statuses[STATUS_KINDS]; /* statuses seen: [-s] for 0 .. -11, [12] anything else */
    uint32_t seed;
    uint32_t rng;
    uint32_t known[KNOWN_SLOTS];     /* slots its own CAP_DERIVE / CAP_MOVE filled */
    uint32_t known_next;
    uint8_t arena[ARENA_BYTES];      /* what its "own memory" pointers point into */
    uint8_t guard[4096 - ARENA_BYTES - 32 * 4]; /* overruns of the arena stay in this page */
};

/* one page of its own, so that no pointer into the arena reaches anything else */
struct hostile hostile_state __attribute__((aligned(4096)));
_Static_assert(sizeof(struct hostile) <= 4096, "hostile_state fits in its page");

struct lender {
    uint8_t before[64];
    uint8_t sink[48]; /* lease 1 */
    uint8_t between[64];
    uint8_t both[32]; /* lease 2 */
    uint8_t after[64];
    struct atl_leases leases;
};

struct lender lender_state;
const char lender_text[64] = "lent by the lender: readable, never writable, 64 bytes long....";

/* -- the hostile ------------------------------------------------------------------ */

static void trap(uint32_t number, uint32_t v[7])
{
    hostile_state.issued++;
    atl__syscall7(number, v);
    int32_t status = (int32_t)v[0];
    hostile_state.statuses[status <= 0 && status >= -11 ? (uint32_t)-status : STATUS_KINDS - 1]++;
}

static uint32_t rnd(void)
{
    uint32_t x = hostile_state.rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    hostile_state.rng = x;
    return x;
}

static uint32_t arena_address(void)
{
    return (uint32_t)(uintptr_t)hostile_state.arena + rnd() % ARENA_BYTES;
}

static uint32_t slot(void)
{
    uint32_t r = rnd() % 16;
    if (r < 8)
        return r;                                           /* 0 (replies), the grants, empty */
    if (r < 11)
        return hostile_state.known[rnd() % KNOWN_SLOTS];    /* ones it filled itself */
    if (r < 13)
        return 8 + rnd() % (ATL_CAP_SLOTS - 8);
    if (r < 14)
        return ATL_CAP_SLOTS + rnd() % 4;                   /* just past the table */
    return rnd();
}

/* Not into its own image or stack by chance: a write there would only break itself. */
static uint32_t not_its_own(uint32_t x)
{
    int image = x >= ATL_COMPONENT_BASE && x < ATL_COMPONENT_LIMIT;
    int stack = x >= ATL_STACK_TOP - HOSTILE_STACK && x < ATL_STACK_TOP;
    return image || stack ? x ^ 0x40000000u : x;
}

static uint32_t wild(void)
{
    return not_its_own(rnd());
}

/* Where the board's RAM is physically, that is, where the other components' pages are. */
static uint32_t physical_ram(void)
{
#if defined(__riscv)
    return not_its_own(0x80000000u + rnd() % 0x100000u);
#else
    return not_its_own((rnd() % 2 ? 0x20000000u : 0) + rnd() % 0x400000u);
#endif
}

static uint32_t pointer(void)
{
    switch (rnd() % 10) {
    case 0: case 1: case 2: case 3:
        return arena_address();                              /* its own, read-write */
    case 4:
        return ATL_COMPONENT_BASE + rnd() % 4096;            /* its own code, read-only */
    case 5:
        return ATL_STACK_TOP + rnd() % 64;                   /* just above its stack */
    case 6:
        return ATL_STACK_TOP - HOSTILE_STACK - 1 - rnd() % 64; /* just below its stack */
    case 7:
        return 0xFFFFF000u + rnd() % 4096;                   /* the last page of the address space */
    case 8:
        return rnd() % 2 ? rnd() % 0x100 : physical_ram();   /* near zero, other pages */
    default:
        return wild();
    }
}

static uint32_t length(void)
{
    switch (rnd() % 8) {
    case 0: case 1: case 2:
        return rnd() % 64;
    case 3: case 4:
        return rnd() % 300;
    case 5:
        return 0;
    case 6:
        return ATL_MAX_LEASE_BYTES - 1 + rnd() % 3;
    default:
        return rnd();
    }
}

static uint32_t mask(void)
{
    switch (rnd() % 4) {
    case 0:
        return 0;
    case 1:
        return 0xF0u;
    case 2:
        return 1u << (rnd() % 32);
    default:
        return rnd();
    }
}

static uint32_t label(void)
{
    switch (rnd() % 6) {
    case 0: case 1:
        return 1 + rnd() % 2; /* the echo server's ECHO and SHOUT */
    case 2:
        return ATL_LABEL_NOTIFICATION + rnd() % 4; /* the kernel's own */
    default:
        return rnd();
    }
}

/* A lease array somewhere in the arena (or a pointer that is not one). */
static uint32_t leases(void)
{
    uint32_t r = rnd() % 8;
    if (r == 0)
        return 0;
    if (r == 1)
        return pointer();
    uint32_t *array = (uint32_t *)(uintptr_t)(arena_address() & ~3u);
    uint32_t count = rnd() % 8 < 7 ? rnd() % (ATL_MAX_LEASES + 2) : rnd();
    array[0] = count;
    for (uint32_t i = 0; i < ATL_MAX_LEASES && i < count; i++) {
        array[1 + 3 * i] = rnd() % 4 ? arena_address() : pointer();
        array[2 + 3 * i] = length();
        array[3 + 3 * i] = rnd() % 8 ? rnd() % 4 : rnd();
    }
    return (uint32_t)(uintptr_t)array;
}

static void remember(uint32_t s)
{
    hostile_state.known[hostile_state.known_next++ % KNOWN_SLOTS] = s;
}

/* A timer for WAKE_BIT a little ahead, so that the next call cannot block for long. */
static void arm_wake_up(void)
{
    uint32_t v[7] = {0};
    trap(ATL_SYS_TIME_NOW, v);
    uint64_t when = ((uint64_t)v[2] << 32 | v[1]) + 20 + rnd() % 300;
    uint32_t t[7] = {(uint32_t)when, (uint32_t)(when >> 32), WAKE_BIT};
    trap(ATL_SYS_TIMER_SET, t);
}

/* relative weights of the known numbers (EXIT is chosen apart) */
static const uint8_t weight[ATL_SYSCALL_COUNT] = {
    [ATL_SYS_DEBUG_PUTC] = 2, [ATL_SYS_YIELD] = 2, [ATL_SYS_EXIT] = 0, [ATL_SYS_SEND] = 4,
    [ATL_SYS_RECV] = 3, [ATL_SYS_CALL] = 6, [ATL_SYS_REPLY] = 4, [ATL_SYS_REPLY_RECV] = 3,
    [ATL_SYS_NOTIFY] = 4, [ATL_SYS_WAIT] = 2, [ATL_SYS_POLL] = 3, [ATL_SYS_IRQ_ACK] = 2,
    [ATL_SYS_SLEEP] = 2, [ATL_SYS_TIMER_SET] = 3, [ATL_SYS_TIME_NOW] = 2, [ATL_SYS_LEASE_READ] = 6,
    [ATL_SYS_LEASE_WRITE] = 6, [ATL_SYS_CAP_DERIVE] = 6, [ATL_SYS_CAP_REVOKE] = 2,
    [ATL_SYS_CAP_DELETE] = 2, [ATL_SYS_CAP_MOVE] = 4, [ATL_SYS_RESTART] = 3, [ATL_SYS_COMPONENT_INFO] = 5,
    [ATL_SYS_PING] = 3,
};

static uint32_t pick_number(void)
{
    uint32_t r = rnd() % 700;
    if (r == 0)
        return rnd() % 4 ? ATL_SYSCALL_COUNT + rnd() % 1000 : rnd() | 0x100u; /* unknown */
    if (r == 1)
        return ATL_SYS_EXIT;
    uint32_t total = 0;
    for (uint32_t n = 0; n < ATL_SYSCALL_COUNT; n++)
        total += weight[n];
    uint32_t w = rnd() % total;
    for (uint32_t n = 0;; n++) {
        if (w < weight[n])
            return n;
        w -= weight[n];
    }
}

static void fuzz_once(void)
{
    uint32_t number = pick_number();
    uint32_t v[7];
    for (int i = 0; i < 7; i++)
        v[i] = rnd() % 4 ? rnd() % 70 : wild();
    switch (number) {
    case ATL_SYS_DEBUG_PUTC:
        v[0] = rnd() % 16 ? 'a' + rnd() % 26 : rnd();
        break;
    case ATL_SYS_SEND:
    case ATL_SYS_CALL:
        v[0] = slot();
        v[1] = label();
        if (v[1] == ECHO_CRASH)
            v[1] = 1;
        v[6] = number == ATL_SYS_CALL ? leases() : v[6];
        break;
    case ATL_SYS_RECV:
        v[0] = slot();
        v[1] = mask() | WAKE_BIT;
        arm_wake_up();
        break;
    case ATL_SYS_REPLY:
        v[0] = rnd() % 2 ? 0 : slot();
        v[1] = label();
        break;
    case ATL_SYS_REPLY_RECV:
        v[0] = slot();
        v[1] = label();
        v[6] = mask() | WAKE_BIT;
        arm_wake_up();
        break;
    case ATL_SYS_NOTIFY:
    case ATL_SYS_CAP_REVOKE:
    case ATL_SYS_CAP_DELETE:
        v[0] = slot();
        if (number == ATL_SYS_CAP_DELETE && v[0] >= 1 && v[0] < 8 && rnd() % 2)
            v[0] += 8; /* spare the grants a little */
        break;
    case ATL_SYS_WAIT:
        if (rnd() % 8 == 0) {
            v[0] = 0; /* refused: it would wait forever */
        } else {
            v[0] = mask() | WAKE_BIT;
            arm_wake_up();
        }
        break;
    case ATL_SYS_POLL:
    case ATL_SYS_IRQ_ACK:
        v[0] = mask();
        break;
    case ATL_SYS_SLEEP:
        v[0] = rnd() % 128;
        break;
    case ATL_SYS_TIMER_SET:
        if (rnd() % 2) {
            v[0] = rnd() % 2000000u; /* the first two seconds: past or near */
            v[1] = 0;
        } else {
            v[0] = rnd();
            v[1] = rnd() % 2 ? rnd() : 0;
        }
        v[2] = mask();
        break;
    case ATL_SYS_LEASE_READ:
    case ATL_SYS_LEASE_WRITE:
        v[0] = rnd() % 2 ? 0 : slot();
        v[1] = rnd() % 8 ? rnd() % (ATL_MAX_LEASES + 1) : rnd();
        v[2] = rnd() % 2 ? rnd() % 16 : rnd() % 4 ? rnd() % 80 : rnd();
        v[3] = pointer();
        v[4] = length();
        break;
    case ATL_SYS_CAP_DERIVE:
        v[0] = slot();
        v[1] = slot();
        v[2] = rnd() % 8 ? rnd() % 8 : rnd();
        v[3] = rnd() % 2 ? 0 : rnd();
        break;
    case ATL_SYS_CAP_MOVE:
        v[0] = slot();
        v[1] = slot();
        break;
    case ATL_SYS_RESTART:
        v[0] = rnd() % 8 ? rnd() % 10 : rnd();
        break;
    case ATL_SYS_PING:
        v[0] = rnd() % 8 ? rnd() % 10 : rnd();
        v[1] = rnd() % 4 ? rnd() % 20000 : wild();
        break;
    case ATL_SYS_COMPONENT_INFO:
        v[0] = rnd() % 8 ? rnd() % 10 : rnd();
        v[1] = pointer();
        v[2] = rnd() % 4 ? rnd() % 40 : length();
        break;
    default:
        break; /* YIELD, TIME_NOW, EXIT and unknown numbers: the random words as they are */
    }
    uint32_t dst = v[1];
    hostile_state.fuzzed++;
    trap(number, v);
    if ((number == ATL_SYS_CAP_DERIVE || number == ATL_SYS_CAP_MOVE) && v[0] == ATL_OK)
        remember(dst);
}

static void hostile(uint32_t generation)
{
    uint32_t v[7] = {0};
    trap(ATL_SYS_TIME_NOW, v);
    hostile_state.seed = (v[1] * 2654435761u) ^ (generation * 40503u) ^ 0x9E3779B9u;
    hostile_state.rng = hostile_state.seed ? hostile_state.seed : 1;
    for (uint32_t i = 0; i < KNOWN_SLOTS; i++)
        hostile_state.known[i] = 1 + i % 5;
    for (uint32_t i = 0; i < ARENA_BYTES; i += 4) /* so that what it lends or writes is not all zero */
        *(uint32_t *)(uintptr_t)&hostile_state.arena[i] = rnd();
    for (;;)
        fuzz_once();
}

/* -- the lender and the checker ---------------------------------------------------- */

static void lend(void)
{
    struct atl_leases *l = &lender_state.leases;
    l->count = 4;
    l->lease[0] = (struct atl_lease){(uint32_t)(uintptr_t)lender_text, sizeof lender_text, ATL_LEASE_READABLE};
    l->lease[1] = (struct atl_lease){(uint32_t)(uintptr_t)lender_state.sink, sizeof lender_state.sink,
                                     ATL_LEASE_WRITABLE};
    l->lease[2] = (struct atl_lease){(uint32_t)(uintptr_t)lender_state.both, sizeof lender_state.both,
                                     ATL_LEASE_READABLE | ATL_LEASE_WRITABLE};
    l->lease[3] = (struct atl_lease){(uint32_t)(uintptr_t)lender_state.after, 0, ATL_LEASE_READABLE};
    for (;;) {
        uint32_t v[7] = {1, 7, 1, 2, 3, 4, (uint32_t)(uintptr_t)l};
        atl__syscall7(ATL_SYS_CALL, v);
        if (v[0] != ATL_OK) {
            uint32_t s[7] = {200};
            atl__syscall1(ATL_SYS_SLEEP, s);
        }
    }
}

static int check(void)
{
    for (uint32_t s = 1; s <= 2; s++) {
        struct atl_msg req = {.label = 1, .mr = {41}}, rep = {0};
        int r = atl_call(s, &req, NULL, &rep);
        atl_printf("check: %u %d %u\n", (unsigned)s, r, (unsigned)rep.mr[0]);
    }
    return 0;
}

static int set_timers(void)
{
    for (uint32_t i = 0; i < TIMER_RESETS; i++) {
        uint32_t v[7] = {i, 20, 1}; /* 20 << 32 us: about 24 hours after boot */
        atl__syscall3(ATL_SYS_TIMER_SET, v);
    }
    return 0;
}

int main(void)
{
    char name[16];
    for (uint32_t i = 1; i < 32; i++) {
        uint32_t v[7] = {i, (uint32_t)(uintptr_t)name, sizeof name - 1};
        memset(name, 0, sizeof name);
        trap(ATL_SYS_COMPONENT_INFO, v);
        if (v[0] != ATL_OK || v[1] != ATL_STATE_RUNNING)
            continue;
        if (strcmp(name, "hostile") == 0)
            hostile(v[3]);
        if (strcmp(name, "lender") == 0)
            lend();
        if (strcmp(name, "checker") == 0)
            return check();
        if (strcmp(name, "timers") == 0)
            return set_timers();
        atl_printf("no role for %s\n", name);
        return 1;
    }
    atl_printf("cannot find myself\n");
    return 1;
}
