/* A server on slot 1 that misuses and keeps reply capabilities; it supervises its client.
 * Label 1 (call): moves the reply capability to slot 5, tries to derive from it and to
 *   reply through the wrong slots, sleeps, then replies mr0 + 100 from slot 5.
 * Label 2 (send): tries to reply to it.
 * Label 3 (call): deletes the reply capability instead of replying.
 * Label 4 (call with lease 0 readable, 16 bytes, and lease 1 writable): every lease error,
 *   then writes "ok" into lease 1 and replies.
 * Label 5 (call with leases, mr0 = the caller's index): keeps the reply, restarts the
 *   caller, then uses the leases and the reply of the caller that is gone.
 * Prints "keeper: <step> <status>" for every step and every message's label. */
#include <atoll/atoll.h>

static void step(const char *what, int status)
{
    atl_printf("keeper: %s %d\n", what, status);
}

static const char constant[8] = "const";

int main(void)
{
    struct atl_msg req, rep = {0};
    char buf[32];
    size_t n = 0;
    int r = atl_recv(1, 0, &req);
    for (;;) {
        atl_printf("keeper: got label %x status %d\n", (unsigned)req.label, r);
        rep.label = 0;
        rep.mr[0] = 0;
        if (req.label == 1) {
            step("move the reply", atl_cap_move(ATL_REPLY_SLOT, 5));
            step("derive from a reply", atl_cap_derive(5, 6, ATL_RIGHT_SEND, 0));
            step("reply through the emptied slot", atl_reply(ATL_REPLY_SLOT, &rep));
            step("reply through an endpoint", atl_reply(1, &rep));
            atl_sleep_us(1000);
            rep.mr[0] = req.mr[0] + 100;
            step("reply from the kept slot", atl_reply(5, &rep));
            step("reply twice", atl_reply(5, &rep));
            atl_sleep_us(500); /* the client's next SEND waits for this server */
        } else if (req.label == 2) {
            step("reply to a send", atl_reply(ATL_REPLY_SLOT, &rep));
        } else if (req.label == 3) {
            step("delete the reply", atl_cap_delete(ATL_REPLY_SLOT));
        } else if (req.label == 4) {
            step("read lease 9", atl_lease_read(ATL_REPLY_SLOT, 9, 0, buf, 4, &n));
            step("read a write-only lease", atl_lease_read(ATL_REPLY_SLOT, 1, 0, buf, 4, &n));
            step("write a read-only lease", atl_lease_write(ATL_REPLY_SLOT, 0, 0, buf, 4, &n));
            step("read past the end", atl_lease_read(ATL_REPLY_SLOT, 0, 17, buf, 4, &n));
            r = atl_lease_read(ATL_REPLY_SLOT, 0, 16, buf, 4, &n);
            atl_printf("keeper: read at the end %d copied %u\n", r, (unsigned)n);
            r = atl_lease_read(ATL_REPLY_SLOT, 0, 10, buf, sizeof buf, &n);
            buf[n] = 0;
            atl_printf("keeper: read the tail %d copied %u %s\n", r, (unsigned)n, buf);
            step("read into an unmapped buffer", atl_lease_read(ATL_REPLY_SLOT, 0, 0, (void *)0x00F00000u, 4, &n));
            step("read into read-only memory", atl_lease_read(ATL_REPLY_SLOT, 0, 0, (void *)constant, 4, &n));
            step("write from an unmapped buffer", atl_lease_write(ATL_REPLY_SLOT, 1, 0, (void *)0x00F00000u, 4, &n));
            step("read through slot 64", atl_lease_read(64, 0, 0, buf, 4, &n));
            step("write through slot 64", atl_lease_write(64, 1, 0, buf, 4, &n));
            step("read through an endpoint", atl_lease_read(1, 0, 0, buf, 4, &n));
            r = atl_lease_write(ATL_REPLY_SLOT, 1, 0, "ok", 2, &n);
            atl_printf("keeper: write %d copied %u\n", r, (unsigned)n);
            step("reply", atl_reply(ATL_REPLY_SLOT, &rep));
            step("read after the reply", atl_lease_read(ATL_REPLY_SLOT, 0, 0, buf, 4, &n));
        } else if (req.label == 5) {
            step("keep the reply", atl_cap_move(ATL_REPLY_SLOT, 5));
            step("restart the caller", atl_restart(req.mr[0]));
            step("read a lease of a caller that is gone", atl_lease_read(5, 0, 0, buf, 4, &n));
            step("write a lease of a caller that is gone", atl_lease_write(5, 1, 0, buf, 4, &n));
            step("reply to a caller that is gone", atl_reply(5, &rep));
        } else if (req.label == ATL_LABEL_FAULT) {
            atl_printf("keeper: fault of %u kind %u\n", (unsigned)req.mr[0], (unsigned)req.mr[1]);
        }
        r = atl_recv(1, 0, &req);
    }
}
