/* picolibc's standard streams on Atoll, and atl_printf's sink.
 *
 * stdout and stderr go where the image description's `stdout` says: the kernel's debug log (one
 * DEBUG_PUTC per character, unbuffered, as atl_printf always wrote) or the console server, one
 * CONSOLE_LOG request per line (a line longer than the buffer goes out in pieces; fflush sends
 * what is pending). stderr goes to the same place and is flushed at every character's line end
 * like stdout. stdin has no source: reading it gives EOF. atl_printf keeps its own replaceable
 * sink (atl_set_putc), by default the debug log. The atl_* formatters use picolibc's integer-only
 * vfprintf (__i_vfprintf: every conversion but the floating-point ones, which atl_printf never
 * had), so a component that formats no floating point links no floating-point formatting code.
 */
#include <stdio.h>
#include <string.h>

#include <atoll/atoll.h>
#include <atoll/libc.h>
#include <console/console.h>

#define LINE_MAX_BYTES 128u

/* 0: the debug log; otherwise the console server's slot + 1 */
static uint32_t stdout_to;
static char line[LINE_MAX_BYTES + 1];
static size_t line_len;

static int flush_line(FILE *f)
{
    (void)f;
    if (stdout_to != 0 && line_len > 0) {
        line[line_len] = '\0';
        line_len = 0;
        if (console_log(stdout_to - 1, line) < 0)
            return EOF;
    }
    return 0;
}

static int put_out(char c, FILE *f)
{
    if (stdout_to == 0) {
        atl_debug_putc(c);
        return (unsigned char)c;
    }
    line[line_len++] = c;
    if (c == '\n' || line_len == LINE_MAX_BYTES)
        if (flush_line(f) == EOF)
            return EOF;
    return (unsigned char)c;
}

static int get_none(FILE *f)
{
    (void)f;
    return EOF;
}

static FILE out = FDEV_SETUP_STREAM(put_out, NULL, flush_line, _FDEV_SETUP_WRITE);
static FILE in = FDEV_SETUP_STREAM(NULL, get_none, NULL, _FDEV_SETUP_READ);

FILE *const stdout = &out;
FILE *const stderr = &out;
FILE *const stdin = &in;

void atl__stdio_init(uint32_t to)
{
    stdout_to = to;
    line_len = 0;
}

/* atl_printf's sink */
static void (*sink)(char) = atl_default_putc;

void atl_default_putc(char c)
{
    atl_debug_putc(c);
}

void atl_set_putc(void (*putc)(char))
{
    sink = putc ? putc : atl_default_putc;
}

static int put_sink(char c, FILE *f)
{
    (void)f;
    sink(c);
    return (unsigned char)c;
}

static FILE sink_file = FDEV_SETUP_STREAM(put_sink, NULL, NULL, _FDEV_SETUP_WRITE);

int __i_vfprintf(FILE *stream, const char *fmt, va_list ap);

int atl_vprintf(const char *fmt, va_list ap)
{
    return __i_vfprintf(&sink_file, fmt, ap);
}

int atl_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = atl_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* A string stream for atl_vsnprintf: keeps the first size - 1 characters, counts them all. */
struct bounded {
    FILE file; /* first, so the FILE pointer put_bounded gets is the struct's */
    char *buf;
    size_t size;
    size_t len;
};

static int put_bounded(char c, FILE *f)
{
    struct bounded *b = (struct bounded *)f;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
    return (unsigned char)c;
}

int atl_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct bounded b = {.file = FDEV_SETUP_STREAM(put_bounded, NULL, NULL, _FDEV_SETUP_WRITE), buf, size, 0};
    int n = __i_vfprintf(&b.file, fmt, ap);
    if (size > 0)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return n;
}

int atl_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = atl_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int atl_puts(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        sink(s[i]);
    return (int)n;
}
