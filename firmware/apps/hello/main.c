/* hello: the first Atoll component. Prints one line to the kernel's debug log and exits with 0. */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("hello from a component\n");
    return 0;
}
