/* The console server: LOG requests (console.h, README.md) on slot 1 become lines
 * "[tag] text" written through the uart server in slot 2; a banner at start. */
#include <atoll/atoll.h>
#include <console/console.h>
#include <uart/uart.h>

#define SERVER_SLOT 1u
#define UART_SLOT 2u
#define CHUNK 128u   /* text read from a lease at a time */
#define LINE 256u    /* output buffer: a line longer than this goes out in pieces */

#if defined(__arm__)
#define ISA_NAME "armv7m"
#else
#define ISA_NAME "rv32imac"
#endif

static char out[LINE];
static uint32_t out_len;
static int out_status;

static void flush(void)
{
    if (out_len && out_status == ATL_OK) {
        int r = uart_write(UART_SLOT, out, out_len);
        if (r < 0)
            out_status = r;
    }
    out_len = 0;
}

static void emit(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (out_len == LINE)
            flush();
        out[out_len++] = s[i];
    }
}

/* The tag: the client's lease 1 (printable bytes, others become '?'), else "#<badge>". */
static uint32_t read_tag(uint32_t badge, char *tag)
{
    size_t n = 0;
    if (atl_lease_read(ATL_REPLY_SLOT, 1, 0, tag, CONSOLE_MAX_TAG, &n) != ATL_OK || n == 0)
        return (uint32_t)atl_snprintf(tag, CONSOLE_MAX_TAG + 1, "#%u", (unsigned)badge);
    for (size_t i = 0; i < n; i++)
        if (tag[i] < 0x20 || tag[i] > 0x7E || tag[i] == ']')
            tag[i] = '?';
    return (uint32_t)n;
}

/* Every line of lease 0 goes out as "[tag] line\n"; returns the status, *taken the text bytes. */
static int log_text(uint32_t badge, uint32_t *taken)
{
    char tag[CONSOLE_MAX_TAG + 1], chunk[CHUNK];
    uint32_t tag_len = read_tag(badge, tag), offset = 0;
    int line_start = 1;
    out_status = ATL_OK;
    for (;;) {
        size_t n = 0;
        int r = atl_lease_read(ATL_REPLY_SLOT, 0, offset, chunk, sizeof chunk, &n);
        if (r != ATL_OK)
            return r;
        for (size_t i = 0; i < n; i++) {
            if (line_start) {
                emit("[", 1), emit(tag, tag_len), emit("] ", 2);
                line_start = 0;
            }
            emit(&chunk[i], 1);
            if (chunk[i] == '\n') {
                flush();
                line_start = 1;
            }
        }
        offset += (uint32_t)n;
        if (n < sizeof chunk)
            break;
    }
    if (!line_start)
        emit("\n", 1);
    flush();
    *taken = offset;
    return out_status;
}

int main(void)
{
    static const char banner[] = "[console] Atoll console ready (" ISA_NAME ")\n";
    struct atl_msg req, rep = {0};
    int r = uart_write(UART_SLOT, banner, sizeof banner - 1);
    if (r < 0)
        atl_printf("console: uart write failed %d\n", r);
    for (;;) {
        int status = atl_reply_recv(SERVER_SLOT, &rep, 0, &req);
        rep = (struct atl_msg){0};
        if (status != ATL_OK)
            continue;
        if (req.label == CONSOLE_LOG) {
            uint32_t taken = 0;
            int s = log_text(req.badge, &taken);
            rep.label = (uint32_t)s;
            rep.mr[0] = taken;
        } else {
            rep.label = (uint32_t)CONSOLE_E_BAD_LABEL;
        }
    }
}
