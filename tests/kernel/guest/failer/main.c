/* Prints "failer: start", runs 15 ms and exits with code 3 (a supervisor restarts it). */
#include <atoll/atoll.h>

int main(void)
{
    atl_printf("failer: start\n");
    atl_sleep_us(15000u);
    return 3;
}
