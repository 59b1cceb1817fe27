/* Prints "crashloop: start" and faults at once (a write outside its memory), every time it
 * is started: a component in a crash loop. */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("crashloop: start\n");
    *(volatile uint32_t *)0x00F00000u = 1;
    return 0;
}
