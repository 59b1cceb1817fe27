/* The work of the itdense test program, shared by its bare-metal build (itdense.c) and its
 * component build (itdense_component/main.c); see itdense.c. The includer defines
 * `itdense_putc(char)`; `itdense_run()` writes one line piece per round through it and returns
 * the checksum.
 *
 * At -O2 clang turns the conditional selects, min/max, abs, clamps, ternaries, conditional
 * stores and loads and calls under conditions here into Thumb-2 IT blocks on the Cortex-M3 (and
 * into branches around compressed instructions on RV32IMAC). The state lives in memory spread
 * over many pages, so TLB misses land inside IT blocks.
 */
#ifndef ITDENSE_H
#define ITDENSE_H

#include <stdint.h>

static void itdense_putc(char c);

static void itdense_puthex(uint32_t value)
{
    for (int shift = 28; shift >= 0; shift -= 4)
        itdense_putc("0123456789abcdef"[(value >> shift) & 0xFu]);
}

#define TABLE_WORDS 2048u   /* 8 KiB: eight 1 KiB pages on the Cortex-M3 */
#define BYTES       3072u
#define ROUNDS      24u

static int32_t table[TABLE_WORDS];
static uint8_t bytes[BYTES];
static uint32_t seed = 0x1234567u;
static uint32_t hits[8];

static uint32_t next(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed;
}

/* Small functions that push and pop a frame: the instructions a stale IT state breaks. */
__attribute__((noinline)) static int32_t clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

__attribute__((noinline)) static int32_t mix(int32_t a, int32_t b)
{
    int32_t m = a > b ? a - b : b - a;
    return (m & 1) ? m ^ a : m + b;
}

__attribute__((noinline)) static uint32_t bump(uint32_t i, int32_t v)
{
    hits[i & 7u] += v < 0 ? 1u : 2u;
    return hits[(i + 3u) & 7u];
}

static int32_t abs32(int32_t v)
{
    return v < 0 ? -v : v;
}

static uint32_t round_of(uint32_t round)
{
    uint32_t sum = round;
    for (uint32_t i = 0; i < TABLE_WORDS; i++) {
        uint32_t r = next();
        uint32_t j = (r >> 7) % TABLE_WORDS;
        int32_t a = table[i], b = table[j];
        int32_t lo = a < b ? a : b, hi = a < b ? b : a;
        /* a conditional store to one of two pages, a conditional load from a third */
        if (r & 0x10u)
            table[j] = lo + (int32_t)(r & 0xFFu);
        else
            table[i] = hi - (int32_t)(r >> 24);
        int32_t c = (r & 0x20u) ? table[(j + 512u) % TABLE_WORDS] : b;
        uint32_t k = (i * 7u + r) % BYTES;
        if (bytes[k] > (uint8_t)r)
            bytes[k] = (uint8_t)(bytes[k] - (uint8_t)r);
        else
            bytes[k] = (uint8_t)(bytes[k] + 3u);
        if (r & 0x100u)
            table[(i + 1024u) % TABLE_WORDS] = c;          /* a lone conditional store */
        if (c < lo)
            hits[r & 7u] = (uint32_t)c;
        int32_t d = (r & 0x200u) ? table[(i + 256u) % TABLE_WORDS] : a;   /* a conditional load */
        if (d > hi)
            bytes[(k + 1024u) % BYTES] = (uint8_t)d;
        int32_t v = clamp(a - c + (d >> 4), -100000, 100000);
        if (abs32(v) > 5000 && (r & 3u) != 0)
            v = mix(v, c);
        sum += (uint32_t)(v > 0 ? v : -v) + (r & 0x40u ? bump(i, v) : 0u);
        sum = (sum << 3) ^ (sum >> 29) ^ (uint32_t)lo;
    }
    return sum;
}

static uint32_t itdense_run(void)
{
    for (uint32_t i = 0; i < TABLE_WORDS; i++)
        table[i] = (int32_t)(next() >> 12) - 0x40000;
    for (uint32_t i = 0; i < BYTES; i++)
        bytes[i] = (uint8_t)next();

    uint32_t total = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        uint32_t sum = round_of(round);
        total = total * 31u + sum;
        itdense_putc("0123456789abcdefghijklmnopqrstuvwxyz"[round % 36u]);
        itdense_puthex(sum);
        itdense_putc(round % 6u == 5u ? '\n' : ' ');
    }
    for (uint32_t i = 0; i < BYTES; i++)
        total += bytes[i];
    for (uint32_t i = 0; i < 8u; i++)
        total ^= hits[i];
    return total;
}

#endif
