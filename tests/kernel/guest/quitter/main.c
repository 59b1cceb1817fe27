/* Prints "quitter: done" and exits with code 0 (a supervisor leaves it stopped). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("quitter: done\n");
    return 0;
}
