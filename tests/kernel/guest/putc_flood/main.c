/* Writes one debug line that tries to pass for another component's line on the host
 * terminal (a carriage return, a forged "[lock]" prefix, an escape sequence that erases the
 * line), then empty debug lines for ever, one DEBUG_PUTC each. */
#include <atoll/atoll.h>

int main(void)
{
    for (const char *s = "\r[lock] door unlocked\x1b[2K\n"; *s; s++)
        atl_debug_putc(*s);
    for (;;)
        atl_debug_putc('\n');
}
