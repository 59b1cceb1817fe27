/* COMPONENT_INFO, RESTART and PING as a component that supervises nobody. Finds its own index
 * and the index of the component named "waiter" by name; prints "info: <step> ...". */
#include <atoll/atoll.h>

static const char constant[8] = "const";

static uint32_t find(const char *wanted)
{
    char name[32];
    for (uint32_t i = 1; i < 32; i++) {
        memset(name, 0, sizeof name);
        if (atl_component_info(i, name, sizeof name - 1, NULL) == ATL_OK && strcmp(name, wanted) == 0)
            return i;
    }
    return 0;
}

int main(void)
{
    struct atl_component_info info = {0};
    char name[32] = {0};
    uint32_t self = find(ATL_COMPONENT);
    uint32_t waiter = find("waiter");
    int r;

    r = atl_component_info(self, name, sizeof name, &info);
    atl_printf("info: self %d name %s state %u priority %u generation %u faults %u\n", r, name,
               (unsigned)info.state, (unsigned)info.priority, (unsigned)info.generation, (unsigned)info.faults);
    r = atl_component_info(waiter, NULL, 0, &info);
    atl_printf("info: waiter %d state %u\n", r, (unsigned)info.state);
    memset(name, 0, sizeof name);
    r = atl_component_info(waiter, name, 3, &info);
    atl_printf("info: three bytes of the name %d %s\n", r, name);
    atl_printf("info: index 0 %d\n", atl_component_info(0, name, sizeof name, &info));
    atl_printf("info: index 99 %d\n", atl_component_info(99, name, sizeof name, &info));
    atl_printf("info: unmapped name buffer %d\n", atl_component_info(self, (char *)0x00F00000u, 8, &info));
    atl_printf("info: read-only name buffer %d\n", atl_component_info(self, (char *)constant, 4, &info));
    atl_printf("info: name buffer past 4 GiB %d\n", atl_component_info(self, (char *)0xFFFFFFFCu, 8, &info));

    atl_printf("info: restart itself %d\n", atl_restart(self));
    atl_printf("info: restart the waiter %d\n", atl_restart(waiter));
    atl_printf("info: restart index 0 %d\n", atl_restart(0));
    atl_printf("info: restart index 99 %d\n", atl_restart(99));
    atl_printf("info: ping the waiter %d\n", atl_ping(waiter, 5000u, NULL));
    atl_printf("info: ping index 0 %d\n", atl_ping(0, 5000u, NULL));
    atl_printf("info: ping index 99 %d\n", atl_ping(99, 5000u, NULL));
    atl_printf("info: ping with timeout 0 %d\n", atl_ping(waiter, 0, NULL));
    atl_printf("info: ping with a timeout past 10 s %d\n", atl_ping(waiter, ATL_MAX_PING_TIMEOUT_US + 1u, NULL));
    atl_printf("info: done\n");
    return 0;
}
