/* The ARM run-time ABI's memory helpers (__aeabi_memcpy, __aeabi_memclr, ...).
 *
 * Clang emits calls to these for struct copies and zero-initialised locals in
 * Thumb code; with -nostdlib no compiler runtime provides them, so the library
 * does, in terms of its own string functions. Note the argument orders the ABI
 * fixes: __aeabi_memset(dest, n, c) and __aeabi_memclr(dest, n). Empty on RISC-V.
 */
#include <atoll/string.h>
#include <stddef.h>

#if defined(__arm__)
void __aeabi_memcpy(void *dest, const void *src, size_t n) { memcpy(dest, src, n); }
void __aeabi_memcpy4(void *dest, const void *src, size_t n) { memcpy(dest, src, n); }
void __aeabi_memcpy8(void *dest, const void *src, size_t n) { memcpy(dest, src, n); }
void __aeabi_memmove(void *dest, const void *src, size_t n) { memmove(dest, src, n); }
void __aeabi_memmove4(void *dest, const void *src, size_t n) { memmove(dest, src, n); }
void __aeabi_memmove8(void *dest, const void *src, size_t n) { memmove(dest, src, n); }
void __aeabi_memset(void *dest, size_t n, int c) { memset(dest, c, n); }
void __aeabi_memset4(void *dest, size_t n, int c) { memset(dest, c, n); }
void __aeabi_memset8(void *dest, size_t n, int c) { memset(dest, c, n); }
void __aeabi_memclr(void *dest, size_t n) { memset(dest, 0, n); }
void __aeabi_memclr4(void *dest, size_t n) { memset(dest, 0, n); }
void __aeabi_memclr8(void *dest, size_t n) { memset(dest, 0, n); }
#else
typedef int atl_aeabi_unused; /* ISO C wants a translation unit to declare something */
#endif
