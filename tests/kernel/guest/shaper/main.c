/* A server on slot 1 answering every request with label 7 and its first mr0 reply
 * registers set to 1 (so a reply can be given more registers than its method declares);
 * prints "shaper: reply <status>" for each reply after the first. */
#include <atoll/atoll.h>

int main(void)
{
    struct atl_msg req, rep = {0};
    int r = atl_recv(1, 0, &req);
    for (;;) {
        if (r != ATL_OK) {
            r = atl_recv(1, 0, &req);
            continue;
        }
        rep = (struct atl_msg){.label = 7};
        for (uint32_t i = 0; i < req.mr[0] && i < ATL_MESSAGE_REGISTERS; i++)
            rep.mr[i] = 1;
        int sent = atl_reply(ATL_REPLY_SLOT, &rep);
        atl_printf("shaper: reply %d\n", sent);
        r = atl_recv(1, 0, &req);
    }
}
