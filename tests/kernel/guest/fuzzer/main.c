/* A hostile component: 3000 syscalls with numbers and arguments from a fixed-seed LCG.
 * Slot 1 holds a send capability to an echo server, slot 2 a notification to another
 * component. It skips EXIT, and WAIT and RECV with a mask (nothing would wake them); sleeps
 * are cut to under 64 us. Arguments are small numbers (slots, indexes), words near its own
 * memory, or anything at all. Prints "fuzz: done <calls> <errors>", then calls a syscall
 * number the kernel does not have (a fault that stops it). */
#include <atoll/atoll.h>

static uint32_t state = 12345u;

static uint32_t next(void)
{
    state = state * 1664525u + 1013904223u;
    return state;
}

static uint32_t argument(void)
{
    uint32_t kind = next() >> 29;
    uint32_t x = next();
    if (kind < 3)
        return x % 70;                        /* slots, indexes, small lengths */
    if (kind < 5)
        return 0x00F00000u + (x % 0x2000);    /* unmapped */
    if (kind < 6)
        return 0xFFFFF000u + (x % 0x1000);    /* near the top of the address space */
    return x;
}

int main(void)
{
    uint32_t errors = 0;
    int calls = 0;
    while (calls < 3000) {
        uint32_t number = (next() >> 16) % ATL_SYSCALL_COUNT;
        uint32_t v[7];
        for (int i = 0; i < 7; i++)
            v[i] = argument();
        if (number == ATL_SYS_EXIT || number == ATL_SYS_WAIT)
            continue;
        if (number == ATL_SYS_RECV || number == ATL_SYS_REPLY_RECV) {
            v[1] = 0;
            v[6] = 0;
        }
        if ((number == ATL_SYS_CALL || number == ATL_SYS_SEND) && v[1] == 3)
            v[1] = 1; /* the echo server crashes on label 3 by design */
        if (number == ATL_SYS_SLEEP)
            v[0] %= 64;
        if (number == ATL_SYS_TIMER_SET) /* timers only with bits nothing waits for */
            v[2] &= 0xFFFF0000u;
        atl__syscall7(number, v);
        if ((int32_t)v[0] < 0)
            errors++;
        calls++;
    }
    atl_printf("\nfuzz: done %d %u\n", calls, (unsigned)errors);
    uint32_t v[7] = {0};
    atl__syscall0(0x1000 + (next() & 0xFF), v);
    atl_printf("fuzz: still here\n");
    return 0;
}
