/* Tries to put a capability into slot 0, which only the kernel fills (with replies). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("derive into 0: %d\n", atl_cap_derive(2, 0, ATL_RIGHT_SEND, 0));
    atl_printf("move into 0: %d\n", atl_cap_move(2, 0));
    atl_printf("derive into 5: %d\n", atl_cap_derive(2, 5, ATL_RIGHT_SEND, 0));
    return 0;
}
