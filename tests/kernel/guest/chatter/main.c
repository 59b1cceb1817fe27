/* Prints one line of 5000 'x' and then "chatter: done". */
#include <atoll/atoll.h>

int main(void)
{
    for (int i = 0; i < 5000; i++)
        atl_debug_putc('x');
    atl_debug_putc('\n');
    atl_printf("chatter: done\n");
    return 0;
}
