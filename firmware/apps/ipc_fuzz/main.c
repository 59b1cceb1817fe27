/* ipc_fuzz: the client half of Atoll's IPC fuzzer (atoll campaign fuzz, docs/campaigns.md).
 *
 * Calls the endpoint in slot 1 once per message in `fuzz_box`, which the fuzzer writes into this
 * component's memory after restarting it and before it runs: the label, four message registers
 * and up to four leases, each a range of `fuzz_box.data` lent with the given rights. The status
 * of each call and the label of its reply go back into the box; then the component exits with 0.
 * It does nothing else, so what the server does with the messages is all that varies. Images
 * add it with `start = false` as a client of the endpoint under test (slot 1). */
#include <atoll/atoll.h>

#define FUZZ_MAGIC 0x7a7a7546u /* "Fuzz" */
#define FUZZ_MESSAGES 8u
#define FUZZ_DATA 2048u

struct fuzz_lease {
    uint32_t rights;
    uint32_t length;
    uint32_t offset; /* into data[] */
};

struct fuzz_msg {
    uint32_t label;
    uint32_t mr[ATL_MESSAGE_REGISTERS];
    uint32_t leases;
    struct fuzz_lease lease[ATL_MAX_LEASES];
};

/* The layout atoll/campaign/fuzz_target.py writes (little-endian 32-bit words, then the bytes). */
struct fuzz_box {
    uint32_t magic;
    uint32_t count;
    struct fuzz_msg msg[FUZZ_MESSAGES];
    int32_t status[FUZZ_MESSAGES];
    uint32_t reply[FUZZ_MESSAGES];
    uint32_t done;
    uint8_t data[FUZZ_DATA];
};

__attribute__((used)) volatile struct fuzz_box fuzz_box;

int main(void)
{
    if (fuzz_box.magic != FUZZ_MAGIC)
        return 0;
    uint32_t count = fuzz_box.count < FUZZ_MESSAGES ? fuzz_box.count : FUZZ_MESSAGES;
    for (uint32_t i = 0; i < count; i++) {
        volatile struct fuzz_msg *m = &fuzz_box.msg[i];
        struct atl_msg req = {.label = m->label};
        struct atl_msg reply;
        struct atl_leases leases = {.count = m->leases < ATL_MAX_LEASES ? m->leases : ATL_MAX_LEASES};
        for (uint32_t r = 0; r < ATL_MESSAGE_REGISTERS; r++)
            req.mr[r] = m->mr[r];
        for (uint32_t l = 0; l < leases.count; l++) {
            uint32_t offset = m->lease[l].offset < FUZZ_DATA ? m->lease[l].offset : 0u;
            uint32_t room = FUZZ_DATA - offset;
            leases.lease[l].address = (uint32_t)(uintptr_t)&fuzz_box.data[offset];
            leases.lease[l].length = m->lease[l].length < room ? m->lease[l].length : room;
            leases.lease[l].rights = m->lease[l].rights;
        }
        fuzz_box.status[i] = atl_call(1, &req, leases.count ? &leases : 0, &reply);
        fuzz_box.reply[i] = reply.label;
        fuzz_box.done = i + 1;
    }
    return 0;
}
