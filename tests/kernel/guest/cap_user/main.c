/* Exercises the capability syscalls on the echo endpoint it holds in slot 2 (send and
 * grant rights, no badge), a notification to itself in slot 20 (send) and one in slot
 * 21 (no send right). Prints "caps: <step> <status>" for every step, then "caps: done". */
#include <atoll/atoll.h>

static int echo(uint32_t slot)
{
    struct atl_msg req = {.label = 1, .mr = {1}}, rep = {0};
    return atl_call(slot, &req, NULL, &rep);
}

static void step(const char *what, int status)
{
    atl_printf("caps: %s %d\n", what, status);
}

int main(void)
{
    /* derive */
    step("derive fewer rights with a badge", atl_cap_derive(2, 3, ATL_RIGHT_SEND, 0x55));
    step("call through the derived copy", echo(3));
    step("derive more rights", atl_cap_derive(2, 4, ATL_RIGHT_SEND | ATL_RIGHT_RECV, 0));
    step("derive without the grant right", atl_cap_derive(3, 4, ATL_RIGHT_SEND, 0));
    step("derive unknown rights", atl_cap_derive(2, 4, 8, 0));
    step("derive a badged copy that may grant", atl_cap_derive(2, 5, ATL_RIGHT_SEND | ATL_RIGHT_GRANT, 0x66));
    step("badge a badged capability", atl_cap_derive(5, 6, ATL_RIGHT_SEND, 0x77));
    step("derive from the badged copy keeping its badge", atl_cap_derive(5, 6, ATL_RIGHT_SEND, 0));
    step("call through the grandchild", echo(6));
    step("derive into a slot in use", atl_cap_derive(2, 3, ATL_RIGHT_SEND, 0));
    step("derive into slot 64", atl_cap_derive(2, 64, ATL_RIGHT_SEND, 0));
    step("derive from slot 64", atl_cap_derive(64, 7, ATL_RIGHT_SEND, 0));
    step("derive from an empty slot", atl_cap_derive(40, 7, ATL_RIGHT_SEND, 0));

    /* revoke */
    step("revoke", atl_cap_revoke(2));
    step("call through a revoked child", echo(3));
    step("call through a revoked grandchild", echo(6));
    step("derive into a slot a revoke emptied", atl_cap_derive(2, 3, ATL_RIGHT_SEND, 0));
    step("call through the original after revoke", echo(2));
    step("revoke slot 64", atl_cap_revoke(64));
    step("revoke an empty slot", atl_cap_revoke(41));

    /* delete */
    step("derive for delete", atl_cap_derive(2, 7, ATL_RIGHT_SEND, 0));
    step("delete", atl_cap_delete(7));
    step("call through a deleted slot", echo(7));
    step("delete an empty slot", atl_cap_delete(7));
    step("delete slot 64", atl_cap_delete(64));

    /* move */
    step("move", atl_cap_move(2, 9));
    step("call through the moved capability", echo(9));
    step("call through the slot moved from", echo(2));
    step("move into a slot in use", atl_cap_move(9, 3));
    step("move into slot 64", atl_cap_move(9, 64));
    step("move from slot 64", atl_cap_move(64, 10));
    step("move from an empty slot", atl_cap_move(2, 10));
    step("derive from the moved capability", atl_cap_derive(9, 12, ATL_RIGHT_SEND, 0));
    step("revoke the moved capability", atl_cap_revoke(9));
    step("call through a child of the moved capability", echo(12));

    /* kinds and rights of the other calls */
    step("call through a notification", echo(20));
    step("notify through an endpoint", atl_notify(9));
    step("notify without the send right", atl_notify(21));
    step("notify", atl_notify(20));
    step("done", 0);
    return 0;
}
