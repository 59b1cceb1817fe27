/* What the C library's glue does on Atoll, printed line by line for the tests:
 * the heap's bound, the virtual clock, stderr, and a failed assert (abort skips atexit). */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <atoll/atoll.h>

static void bye(void)
{
    printf("atexit handler ran\n");
}

int main(int argc, char **argv)
{
    printf("argc %d, argv[0] %s\n", argc, argv[0]);
    /* the heap is the description's 64 KiB: 32 KiB fit, 128 KiB do not */
    void *small = malloc(32 * 1024);
    errno = 0;
    void *large = malloc(128 * 1024);
    printf("32 KiB: %s, 128 KiB: %s (%s)\n", small ? "ok" : "NULL", large ? "ok" : "NULL",
           errno == ENOMEM ? "ENOMEM" : "?");
    free(small);

    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    atl_sleep_us(2500);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long slept_us = (long)(after.tv_sec - before.tv_sec) * 1000000 + (after.tv_nsec - before.tv_nsec) / 1000;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("slept %s 2500 us; time() %s gettimeofday\n", slept_us >= 2500 && slept_us < 2600 ? "about" : "NOT",
           time(NULL) == tv.tv_sec ? "agrees with" : "DISAGREES with");
    fprintf(stderr, "to stderr\n");

    if (argc == 1 && strcmp(argv[0], "glue") == 0) {
        atexit(bye);
        int answer = 6 * 7;
        assert(answer == 42);
        assert(answer == 41);
    }
    return 0;
}
