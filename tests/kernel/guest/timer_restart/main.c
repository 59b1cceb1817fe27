/* Generation 0 sets a timer for bit 0x1 1 ms ahead; every generation then sleeps 3 ms and
 * prints "timer: generation <g> slept <us> poll <status>" (polling bit 0x1). */
#include <atoll/atoll.h>

static uint32_t generation(void)
{
    char name[32];
    struct atl_component_info info;
    for (uint32_t i = 1; i < 32; i++) {
        memset(name, 0, sizeof name);
        if (atl_component_info(i, name, sizeof name - 1, &info) == ATL_OK && strcmp(name, ATL_COMPONENT) == 0)
            return info.generation;
    }
    return 0xFFFFFFFFu;
}

int main(void)
{
    uint32_t g = generation();
    uint64_t start = atl_time_now_us();
    if (g == 0)
        atl_timer_set(start + 1000, 0x1);
    atl_sleep_us(3000);
    uint32_t bits = 0;
    int r = atl_poll(0x1, &bits);
    atl_printf("timer: generation %u slept %u poll %d\n", (unsigned)g, (unsigned)(atl_time_now_us() - start), r);
    return 0;
}
