/* printf's default sink: one character to the kernel's debug log (kept apart from printf.c so
 * the formatter has no syscalls in it). */
#include <atoll/printf.h>
#include <atoll/syscall.h>

void atl_default_putc(char c)
{
    atl_debug_putc(c);
}
