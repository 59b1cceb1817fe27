/* itdense as a component (tests/kernel/test_preempted_it_blocks.py): the work of itdense.h,
 * its lines on the kernel's debug log, then "itdense: done <checksum>" and exit. */
#include <atoll/atoll.h>

#include "../itdense.h"

static void itdense_putc(char c)
{
    atl_printf("%c", c);
}

int main(void)
{
    uint32_t total = itdense_run();
    atl_printf("itdense: done %08x\n", (unsigned)total);
    return 0;
}
