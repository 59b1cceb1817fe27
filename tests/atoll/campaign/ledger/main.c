/* ledger: a test server for the IPC fuzzer, with one planted bug (never shipped).
 *
 * Sixteen values (get, set, dump) and one note of at most 32 bytes (note). THE BUG: `note`
 * checks its length field against the lease's largest size (64) instead of the note's (32), so
 * a length of 37 or more copies past `text` over the callback that follows it; the callback
 * is then called, and the server jumps wherever the lent bytes (or the zeros after them)
 * point. Only that label with that length reaches it: every other message, and every
 * shorter note, is served correctly. */
#include <atoll/atoll.h>

#define SERVE_SLOT 1u
#define LEDGER_ID 90u
#define LEDGER_GET ((LEDGER_ID << 16) | 1u)
#define LEDGER_SET ((LEDGER_ID << 16) | 2u)
#define LEDGER_NOTE ((LEDGER_ID << 16) | 3u)
#define LEDGER_DUMP ((LEDGER_ID << 16) | 4u)
#define LEDGER_E_RANGE (-100)
#define LEDGER_E_LABEL (-101)
#define VALUES 16u
#define NOTE_MAX 64u /* the lease's largest size: the wrong bound */

static uint32_t values[VALUES];
static uint8_t scratch[NOTE_MAX];

static void note_kept(uint32_t length)
{
    atl_printf("ledger: note of %u bytes\n", (unsigned)length);
}

static volatile struct {
    uint8_t text[32];
    uint32_t length;
    void (*kept)(uint32_t);
} note = {.kept = note_kept};

static int take_note(uint32_t length, struct atl_msg *rep)
{
    if (length > NOTE_MAX) /* should be sizeof note.text */
        return LEDGER_E_RANGE;
    for (uint32_t i = 0; i < NOTE_MAX; i++)
        scratch[i] = 0;
    size_t got = 0;
    int r = atl_lease_read(ATL_REPLY_SLOT, 0, 0, scratch, length, &got);
    if (r != ATL_OK)
        return r;
    for (uint32_t i = 0; i < length; i++)
        note.text[i] = scratch[i];
    note.length = length;
    note.kept(length);
    rep->mr[0] = length;
    return ATL_OK;
}

static int handle(const struct atl_msg *req, struct atl_msg *rep)
{
    size_t written = 0;
    int r;
    switch (req->label) {
    case LEDGER_GET:
        if (req->mr[0] >= VALUES)
            return LEDGER_E_RANGE;
        rep->mr[0] = values[req->mr[0]];
        return ATL_OK;
    case LEDGER_SET:
        if (req->mr[0] >= VALUES)
            return LEDGER_E_RANGE;
        values[req->mr[0]] = req->mr[1];
        return ATL_OK;
    case LEDGER_NOTE:
        return take_note(req->mr[0], rep);
    case LEDGER_DUMP:
        r = atl_lease_write(ATL_REPLY_SLOT, 0, 0, values, sizeof values, &written);
        rep->mr[0] = (uint32_t)written;
        return r;
    default:
        return LEDGER_E_LABEL;
    }
}

int main(void)
{
    struct atl_msg req, rep = {0};
    atl_recv(SERVE_SLOT, 0, &req);
    for (;;) {
        rep = (struct atl_msg){0};
        rep.label = (uint32_t)handle(&req, &rep);
        atl_reply_recv(SERVE_SLOT, &rep, 0, &req);
    }
}
