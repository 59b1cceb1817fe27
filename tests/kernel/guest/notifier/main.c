/* Notifies slot 1 (bits come from the capability's badge) three times, 100 us apart. */
#include <atoll/atoll.h>

int main(void)
{
    for (int i = 0; i < 3; i++) {
        atl_sleep_us(100);
        int r = atl_notify(1);
        atl_printf("notifier: notify %d\n", r);
    }
    return 0;
}
