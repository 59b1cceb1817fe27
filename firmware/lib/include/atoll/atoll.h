/* Everything a component needs in one include: the generated ABI constants, the syscall
 * stubs and message type, atl_printf, and the standard headers it used to stand in for
 * (<string.h>, <stdio.h>: the C library is picolibc). A component's main may be
 * `int main(void)` or `int main(int argc, char **argv)` (argc 1, argv[0] its name). */
#ifndef ATOLL_ATOLL_H
#define ATOLL_ATOLL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <atoll/abi.h>
#include <atoll/printf.h>
#include <atoll/syscall.h>

#endif /* ATOLL_ATOLL_H */
