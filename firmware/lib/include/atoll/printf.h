/* atl_printf and friends: picolibc's formatter (every C99 conversion, %f included) with
 * Atoll's sinks. atl_printf writes through a replaceable character sink, by default the
 * kernel's debug log, whatever the description chose for stdout; the snprintf forms are C's.
 */
#ifndef ATOLL_PRINTF_H
#define ATOLL_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Format into buf (at most size bytes, always NUL-terminated if size > 0); returns the full length. */
int atl_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* As atl_vsnprintf, with the arguments inline. */
int atl_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Format through the current sink; returns the number of characters written. */
int atl_vprintf(const char *fmt, va_list ap);
/* As atl_vprintf, with the arguments inline. */
int atl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write s through the current sink (no newline added); returns its length. */
int atl_puts(const char *s);
/* Send atl_printf's output to putc instead (NULL restores the default, the kernel's debug log). */
void atl_set_putc(void (*putc)(char));

/* The default sink: one character to the kernel's debug log. */
void atl_default_putc(char c);

#endif /* ATOLL_PRINTF_H */
