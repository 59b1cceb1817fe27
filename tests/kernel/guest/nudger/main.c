/* Notifies slot 1 (its bits are the capability's badge) every 170 us, 40 times. */
#include <atoll/atoll.h>

int main(void)
{
    for (int i = 0; i < 40; i++) {
        atl_sleep_us(170);
        atl_notify(1);
    }
    return 0;
}
