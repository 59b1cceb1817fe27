/* The rest of picolibc's glue: thread-local storage, the heap, the clock, exit.
 *
 * - errno and the other thread-local variables live in component.ld's .tdata/.tbss, which the
 *   kernel loads and zeroes with the rest of the image; _set_tls points the thread pointer at them.
 * - malloc takes memory through sbrk from the heap the kernel maps at ATL_HEAP_BASE, as large as
 *   the image description's `heap` (0 when it sets none: then malloc returns NULL).
 * - time, gettimeofday and clock_gettime read the kernel's virtual clock (TIME_NOW, microseconds
 *   since boot); every clock is that one clock, and the epoch is the boot.
 * - exit runs atexit handlers and flushes stdout, then _exit ends the component through EXIT with
 *   the status; abort and a failed assert (which first prints its file and line on stderr) exit
 *   through the same path with status 134 (128 + SIGABRT): raise's default action is kill(getpid()),
 *   and kill of the one process there is exits with 128 + the signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atoll/atoll.h>
#include <atoll/libc.h>

extern char __tls_base[];
void _set_tls(void *tls);

static uintptr_t heap_next = ATL_HEAP_BASE;
static uintptr_t heap_end = ATL_HEAP_BASE;

void atl__libc_init(uint32_t heap_size, uint32_t stdout_to)
{
    _set_tls(__tls_base);
    heap_next = ATL_HEAP_BASE;
    heap_end = ATL_HEAP_BASE + (heap_size <= ATL_HEAP_MAX ? heap_size : 0);
    atl__stdio_init(stdout_to);
}

void *sbrk(ptrdiff_t increment)
{
    uintptr_t old = heap_next;
    if (increment < 0 ? (uintptr_t)-increment > old - ATL_HEAP_BASE : (uintptr_t)increment > heap_end - old) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_next = old + (uintptr_t)increment;
    return (void *)old;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    if (tv) {
        uint64_t us = atl_time_now_us();
        tv->tv_sec = (time_t)(us / 1000000u);
        tv->tv_usec = (suseconds_t)(us % 1000000u);
    }
    return 0;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    (void)clock;
    uint64_t us = atl_time_now_us();
    ts->tv_sec = (time_t)(us / 1000000u);
    ts->tv_nsec = (long)(us % 1000000u) * 1000;
    return 0;
}

void _exit(int status)
{
    atl_exit(status);
}

/* raise() with a signal's default action kills the caller: the component exits with 128 + sig,
 * as a shell reports a process killed by a signal (abort: 134). There are no other processes. */
pid_t getpid(void)
{
    return 1;
}

int kill(pid_t pid, int sig)
{
    if (pid != getpid()) {
        errno = ESRCH;
        return -1;
    }
    _exit(128 + sig);
}
