/* 64-bit division for 32-bit targets: the helpers compilers call for `/` and `%` on
 * 64-bit integers (no compiler runtime is linked, so the library provides them).
 *
 * One shift-and-subtract routine does the work. ARM's run-time ABI returns the
 * quotient in r0:r1 and the remainder in r2:r3 (__aeabi_uldivmod/__aeabi_ldivmod),
 * which C cannot express, so two small assembly shims call the C routine. RISC-V
 * uses the plain libgcc names (__udivdi3, __umoddi3, __divdi3, __moddi3).
 * Division by zero gives an all-ones quotient and the dividend as remainder. */
#include <stdint.h>

uint64_t atl__udivmod64(uint64_t n, uint64_t d, uint64_t *rem);
int64_t atl__divmod64(int64_t n, int64_t d, int64_t *rem);

uint64_t atl__udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
    if (d == 0) {
        *rem = n;
        return ~(uint64_t)0;
    }
    uint64_t q = 0, r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1u);
        if (r >= d) {
            r -= d;
            q |= (uint64_t)1 << bit;
        }
    }
    *rem = r;
    return q;
}

int64_t atl__divmod64(int64_t n, int64_t d, int64_t *rem)
{
    uint64_t un = n < 0 ? -(uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? -(uint64_t)d : (uint64_t)d;
    uint64_t ur;
    uint64_t uq = atl__udivmod64(un, ud, &ur);
    *rem = n < 0 ? -(int64_t)ur : (int64_t)ur;
    return (n < 0) != (d < 0) ? -(int64_t)uq : (int64_t)uq;
}

#if defined(__arm__)
/* n in r0:r1, d in r2:r3; the C routine's third argument goes on the stack. */
#define ATL_DIVMOD_SHIM(NAME, ROUTINE)                                          \
    __attribute__((naked, used)) void NAME(void)                                \
    {                                                                           \
        __asm__ volatile("push {r4, lr}\n"                                      \
                         "sub sp, sp, #16\n"                                    \
                         "add r4, sp, #8\n"                                     \
                         "str r4, [sp]\n"                                       \
                         "bl " #ROUTINE "\n"                                    \
                         "ldr r2, [sp, #8]\n"                                   \
                         "ldr r3, [sp, #12]\n"                                  \
                         "add sp, sp, #16\n"                                    \
                         "pop {r4, pc}\n");                                     \
    }
ATL_DIVMOD_SHIM(__aeabi_uldivmod, atl__udivmod64)
ATL_DIVMOD_SHIM(__aeabi_ldivmod, atl__divmod64)
#else
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivdi3(uint64_t n, uint64_t d) { uint64_t r; return atl__udivmod64(n, d, &r); }
uint64_t __umoddi3(uint64_t n, uint64_t d) { uint64_t r; atl__udivmod64(n, d, &r); return r; }
int64_t __divdi3(int64_t n, int64_t d) { int64_t r; return atl__divmod64(n, d, &r); }
int64_t __moddi3(int64_t n, int64_t d) { int64_t r; atl__divmod64(n, d, &r); return r; }
#endif
