/* Prints "yield <i> <status of the previous yield>" and yields, five times. */
#include <atoll/atoll.h>

int main(void)
{
    int r = 0;
    for (int i = 0; i < 5; i++) {
        atl_printf("yield %d %d\n", i, r);
        r = atl_yield();
    }
    return 0;
}
