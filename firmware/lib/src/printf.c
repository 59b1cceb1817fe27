/* atl_vsnprintf, atl_snprintf and atl_printf: a small formatter for components.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%; length modifiers l, ll and z; flags '-' (left
 * justify) and '0' (zero pad); a width (digits or *); a precision for %s (digits or *).
 * 64-bit numbers are converted with 32-bit arithmetic only, so no compiler runtime is needed.
 * Output goes either into a bounded buffer or, for atl_printf, through the sink.
 */
#include <stdint.h>

#include <atoll/printf.h>

static void (*sink)(char) = atl_default_putc;

void atl_set_putc(void (*putc)(char))
{
    sink = putc ? putc : atl_default_putc;
}

/* Where formatted characters go: a buffer (to_sink 0) or the sink; len counts them all. */
struct out {
    char *buf;
    size_t size;
    size_t len;
    int to_sink;
};

static void emit(struct out *o, char c)
{
    if (o->to_sink)
        sink(c);
    else if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void emit_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

/* Divide *v by 10 in place and return the remainder, using 16-bit limbs so every step fits
 * in 32 bits (a 64-bit division would call into a compiler runtime the build does not link). */
static unsigned divmod10(uint64_t *v)
{
    uint32_t rem = 0;
    uint64_t q = 0;
    for (int shift = 48; shift >= 0; shift -= 16) {
        uint32_t cur = (rem << 16) | (uint32_t)((*v >> shift) & 0xFFFFu);
        q |= (uint64_t)(cur / 10u) << shift;
        rem = cur % 10u;
    }
    *v = q;
    return rem;
}

/* The digits of v in base 10 or 16, least significant first; returns how many. */
static int digits(char *d, uint64_t v, int base, int upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        if (base == 16) {
            d[n++] = set[v & 0xFu];
            v >>= 4;
        } else {
            d[n++] = set[divmod10(&v)];
        }
    } while (v);
    return n;
}

/* One field: optional sign/prefix, then digits or text, padded to width. */
static void field(struct out *o, const char *prefix, const char *text, int len, int reversed, int width,
                  int left, int zero)
{
    int plen = 0;
    while (prefix[plen])
        plen++;
    int pad = width - plen - len;
    if (!left && !zero)
        emit_repeat(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        emit(o, prefix[i]);
    if (!left && zero)
        emit_repeat(o, '0', pad);
    for (int i = 0; i < len; i++)
        emit(o, reversed ? text[len - 1 - i] : text[i]);
    if (left)
        emit_repeat(o, ' ', pad);
}

static int format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(o, *fmt);
            continue;
        }
        const char *start = fmt++;
        int left = 0, zero = 0, width = 0, precision = -1, size = 0; /* size: 0 int, 1 long, 2 long long */
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                zero = 1;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0)
                left = 1, width = -width;
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            width = width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            precision = 0;
            if (*++fmt == '*') {
                precision = va_arg(ap, int);
                fmt++;
            }
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
                precision = precision * 10 + (*fmt - '0');
        }
        if (*fmt == 'l')
            size = (*++fmt == 'l') ? (fmt++, 2) : 1;
        else if (*fmt == 'z')
            size = sizeof(size_t) == sizeof(long long) ? 2 : 1, fmt++;

        char d[24];
        uint64_t u;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long s = size == 2 ? va_arg(ap, long long) : size == 1 ? va_arg(ap, long) : va_arg(ap, int);
            u = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
            field(o, s < 0 ? "-" : "", d, digits(d, u, 10, 0), 1, width, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
            u = size == 2 ? va_arg(ap, unsigned long long) : size == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            field(o, "", d, digits(d, u, *fmt == 'u' ? 10 : 16, *fmt == 'X'), 1, width, left, zero);
            break;
        case 'p':
            u = (uintptr_t)va_arg(ap, void *);
            field(o, "0x", d, digits(d, u, 16, 0), 1, width, left, zero);
            break;
        case 'c':
            d[0] = (char)va_arg(ap, int);
            field(o, "", d, 1, 0, width, left, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n] && (precision < 0 || n < precision))
                n++;
            field(o, "", s, n, 0, width, left, 0);
            break;
        }
        case '%':
            emit(o, '%');
            break;
        default: /* unknown conversion: print it as written */
            for (; start <= fmt && *start; start++)
                emit(o, *start);
            if (!*fmt)
                fmt--;
            break;
        }
    }
    return (int)o->len;
}

int atl_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0, 0};
    int n = format(&o, fmt, ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
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

int atl_vprintf(const char *fmt, va_list ap)
{
    struct out o = {0, 0, 0, 1};
    return format(&o, fmt, ap);
}

int atl_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = atl_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int atl_puts(const char *s)
{
    int n = 0;
    for (; s[n]; n++)
        sink(s[n]);
    return n;
}
