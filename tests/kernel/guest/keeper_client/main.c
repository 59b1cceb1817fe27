/* The client of keeper_server (slot 2). Finds its own index by name; after a restart
 * (generation > 0) it prints so and exits. Otherwise it calls labels 1, 3, 4 and 5 and
 * sends label 2, printing "client: <step> <status> ...". */
#include <atoll/atoll.h>

static uint32_t own_index(uint32_t *generation)
{
    char name[32];
    struct atl_component_info info;
    for (uint32_t i = 1; i < 32; i++) {
        memset(name, 0, sizeof name);
        if (atl_component_info(i, name, sizeof name - 1, &info) == ATL_OK && strcmp(name, ATL_COMPONENT) == 0) {
            *generation = info.generation;
            return i;
        }
    }
    return 0;
}

int main(void)
{
    uint32_t generation = 0;
    uint32_t self = own_index(&generation);
    if (generation > 0) {
        atl_printf("client: restarted as generation %u\n", (unsigned)generation);
        return 0;
    }
    struct atl_msg req = {.label = 1, .mr = {7}}, rep = {0};
    int r = atl_call(2, &req, NULL, &rep);
    atl_printf("client: kept reply %d %u\n", r, (unsigned)rep.mr[0]);

    req.label = 2;
    r = atl_send(2, &req);
    atl_printf("client: send %d\n", r);

    req.label = 3;
    r = atl_call(2, &req, NULL, &rep);
    atl_printf("client: deleted reply %d\n", r);

    static char in[] = "0123456789abcdef";
    static char out[8];
    struct atl_leases leases = {.count = 2, .lease = {{(uint32_t)(uintptr_t)in, 16, ATL_LEASE_READABLE},
                                                      {(uint32_t)(uintptr_t)out, sizeof out, ATL_LEASE_WRITABLE}}};
    req.label = 4;
    r = atl_call(2, &req, &leases, &rep);
    atl_printf("client: leases %d %s\n", r, out);

    req.label = 5;
    req.mr[0] = self;
    r = atl_call(2, &req, &leases, &rep);
    atl_printf("client: not reached %d\n", r);
    return 1;
}
