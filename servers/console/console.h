/* The console server's protocol (see servers/console/README.md) and the client
 * helpers console_log / console_printf. Clients include it as <console/console.h>. */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <atoll/atoll.h>

/* CONSOLE_LOG (generated from console.idl.toml): lease 0 readable = the text; lease 1
 * readable (optional) = the tag to print in brackets, at most CONSOLE_MAX_TAG bytes.
 * Reply label = status, mr0 = text bytes taken. */
#include <idl/console.h>

#define CONSOLE_MAX_TAG 16u
/* Longest line console_printf formats (longer output is cut). */
#define CONSOLE_PRINTF_MAX 192u

/* Reply labels: CONSOLE_OK, a kernel status (ATL_E_*) from a lease copy or from the uart, or: */
#define CONSOLE_OK 0
#define CONSOLE_E_BAD_LABEL (-101)

/* Log text through the console in slot, tagged with this component's name (ATL_COMPONENT,
 * set by the build) when known. Returns the number of text bytes logged or a negative status. */
static inline int console_log(uint32_t slot, const char *text)
{
    struct atl_msg req = {.label = CONSOLE_LOG}, rep;
    struct atl_leases l = {.count = 1, .lease = {{(uint32_t)(uintptr_t)text, (uint32_t)strlen(text),
                                                  ATL_LEASE_READABLE}}};
#ifdef ATL_COMPONENT
    static const char tag[] = ATL_COMPONENT;
    l.count = 2;
    l.lease[1] = (struct atl_lease){(uint32_t)(uintptr_t)tag, sizeof tag - 1, ATL_LEASE_READABLE};
#endif
    int r = atl_call(slot, &req, &l, &rep);
    if (r != ATL_OK)
        return r;
    return (int32_t)rep.label != CONSOLE_OK ? (int)(int32_t)rep.label : (int)rep.mr[0];
}

/* Format with atl_vsnprintf (the format language of atoll/printf.h) and log the result. */
static inline int console_vprintf(uint32_t slot, const char *fmt, va_list ap)
{
    char buf[CONSOLE_PRINTF_MAX];
    atl_vsnprintf(buf, sizeof buf, fmt, ap);
    return console_log(slot, buf);
}

static inline int console_printf(uint32_t slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int console_printf(uint32_t slot, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = console_vprintf(slot, fmt, ap);
    va_end(ap);
    return r;
}

#endif /* CONSOLE_CONSOLE_H */
