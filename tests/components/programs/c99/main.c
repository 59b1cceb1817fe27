/* A plain C99 program, nothing Atoll in it: the tests build it unmodified as a component and
 * with the host's compiler, and compare what both print. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/stats.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    enum { N = 12 };
    double *v = malloc(N * sizeof *v);
    if (v == NULL) {
        printf("out of memory\n");
        return 1;
    }
    for (int i = 0; i < N; i++)
        v[i] = sin(i * 0.7 + 0.1) * 100.0;
    qsort(v, N, sizeof *v, by_value);
    for (int i = 0; i < N; i++)
        printf("v[%d] = %.6f\n", i, v[i]);
    printf("mean %f, sqrt(2) %.12f, sin(1) %g, %e\n", mean(v, N), sqrt(2.0), sin(1.0), 6.02214076e23);
    char text[64];
    strcpy(text, "portable ");
    strcat(text, "C99");
    printf("%s has %zu characters, %s, %d\n", text, strlen(text), strstr(text, "C9"), memcmp(text, "port", 4));
    volatile uint64_t big = UINT64_C(0xFEDCBA9876543210);
    volatile int64_t neg = -INT64_C(1234567890123);
    printf("%llu / 977 = %llu rem %llu; %lld / 37 = %lld\n", (unsigned long long)big,
           (unsigned long long)(big / 977), (unsigned long long)(big % 977), (long long)neg,
           (long long)(neg / 37));
    char *copy = malloc(strlen(text) + 1);
    strcpy(copy, text);
    free(v);
    printf("%s (%s)\n", copy, SCALE_NAME);
    free(copy);
    return 0;
}
