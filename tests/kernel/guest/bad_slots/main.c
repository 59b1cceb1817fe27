/* Every syscall that names a slot, with slot 64 (one past the table) and 0xFFFFFFFF.
 * Prints "slots: <syscall> <slot> <status>"; then echoes through slot 2 to show it still works. */
#include <atoll/atoll.h>

int main(void)
{
    static const uint32_t bad[2] = {64, 0xFFFFFFFFu};
    struct atl_msg m = {.label = 1}, rep = {0};
    char buf[4];
    size_t n;
    for (int i = 0; i < 2; i++) {
        uint32_t s = bad[i];
        atl_printf("slots: send %x %d\n", (unsigned)s, atl_send(s, &m));
        atl_printf("slots: recv %x %d\n", (unsigned)s, atl_recv(s, 0, &rep));
        atl_printf("slots: call %x %d\n", (unsigned)s, atl_call(s, &m, NULL, &rep));
        atl_printf("slots: reply %x %d\n", (unsigned)s, atl_reply(s, &m));
        atl_printf("slots: reply_recv %x %d\n", (unsigned)s, atl_reply_recv(s, &m, 0, &rep));
        atl_printf("slots: notify %x %d\n", (unsigned)s, atl_notify(s));
        atl_printf("slots: lease_read %x %d\n", (unsigned)s, atl_lease_read(s, 0, 0, buf, 4, &n));
        atl_printf("slots: lease_write %x %d\n", (unsigned)s, atl_lease_write(s, 0, 0, buf, 4, &n));
        atl_printf("slots: cap_derive_from %x %d\n", (unsigned)s, atl_cap_derive(s, 3, ATL_RIGHT_SEND, 0));
        atl_printf("slots: cap_derive_to %x %d\n", (unsigned)s, atl_cap_derive(2, s, ATL_RIGHT_SEND, 0));
        atl_printf("slots: cap_revoke %x %d\n", (unsigned)s, atl_cap_revoke(s));
        atl_printf("slots: cap_delete %x %d\n", (unsigned)s, atl_cap_delete(s));
        atl_printf("slots: cap_move_from %x %d\n", (unsigned)s, atl_cap_move(s, 3));
        atl_printf("slots: cap_move_to %x %d\n", (unsigned)s, atl_cap_move(2, s));
    }
    m.mr[0] = 5;
    int r = atl_call(2, &m, NULL, &rep);
    atl_printf("slots: echo afterwards %d %u\n", r, (unsigned)rep.mr[0]);
    return 0;
}
