/* Everything a component needs in one include: the generated ABI constants, the syscall
 * stubs and message type, printf and the string functions. */
#ifndef ATOLL_ATOLL_H
#define ATOLL_ATOLL_H

#include <stddef.h>
#include <stdint.h>

#include <atoll/abi.h>
#include <atoll/printf.h>
#include <atoll/string.h>
#include <atoll/syscall.h>

/* The component's entry point, called by crt0's _start; its return value becomes the exit code. */
int main(void);

#endif /* ATOLL_ATOLL_H */
