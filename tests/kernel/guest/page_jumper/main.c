/* Jumps into the machine's own page (0xFFFFF000-0xFFFFFFFF), to 0xFFFFF800 (a fault the
 * kernel must contain: nothing there may run as this component's code). */
#include <atoll/atoll.h>

#if defined(__arm__)
#define TARGET 0xFFFFF801u /* the Thumb bit set */
#else
#define TARGET 0xFFFFF800u
#endif

int main(void)
{
    atl_printf("jumper: jumping into the machine's page\n");
    ((void (*)(void))TARGET)();
    atl_printf("jumper: came back\n");
    return 0;
}
