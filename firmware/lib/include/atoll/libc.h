/* The glue between picolibc and Atoll (src/stdio.c, src/system.c): what crt0 calls before main. */
#ifndef ATOLL_LIBC_H
#define ATOLL_LIBC_H

#include <stdint.h>

/* Set up thread-local storage (errno), the heap (heap_size bytes at ATL_HEAP_BASE) and stdout
 * (0: the debug log; slot + 1: the console server in that slot). crt0 calls it once. */
void atl__libc_init(uint32_t heap_size, uint32_t stdout_to);
/* The stdio half of atl__libc_init. */
void atl__stdio_init(uint32_t stdout_to);

#endif /* ATOLL_LIBC_H */
