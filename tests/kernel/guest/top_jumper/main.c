/* Jumps to the last word of the address space, 0xFFFFFFFC (a fault whose pc is that address). */
#include <atoll/atoll.h>

#if defined(__arm__)
#define TARGET 0xFFFFFFFDu /* the Thumb bit set */
#else
#define TARGET 0xFFFFFFFCu
#endif

int main(void)
{
    atl_printf("top: jumping to 0xfffffffc\n");
    ((void (*)(void))TARGET)();
    atl_printf("top: came back\n");
    return 0;
}
