/* memsort: a memory-heavy loop for the benchmark, one source for every board.
 *
 * Runs on the machine alone (no kernel, privileged mode). Each of `iterations` rounds fills a
 * buffer of 256 words from a linear congruential generator (stores), sorts it with a Shell sort
 * (loads and stores), and folds a checksum over the sorted buffer (loads): the opposite of
 * compute.c's register-bound arithmetic. Every round starts the generator from the same seed, so
 * every round costs the same number of instructions and a run's count is linear in
 * `iterations`. At the end it writes exactly one line, "memsort: done <checksum>\r\n" (8 hex
 * digits), on UART0 and parks in `memsort_park`.
 *
 * `iterations` is a global in .data that the benchmark overwrites before the program starts.
 */
#include "board.h"
#include "uart_print.h"

#define WORDS 256u

/* Patched by bench/run.py; volatile so the compiler reads it from memory once, at run time. */
volatile uint32_t iterations = 100;

static uint32_t words[WORDS];

/* Where the program ends: a symbol of its own, so the benchmark can stop a run right here. */
__attribute__((noinline, noreturn)) void memsort_park(void)
{
    park();
}

static void fill(uint32_t seed)
{
    uint32_t x = seed;
    for (uint32_t i = 0; i < WORDS; i++) {
        x = x * 1664525u + 1013904223u;
        words[i] = x;
    }
}

static void shell_sort(void)
{
    static const uint32_t gaps[] = {109u, 41u, 19u, 5u, 1u};
    for (uint32_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < WORDS; i++) {
            uint32_t v = words[i];
            uint32_t j = i;
            while (j >= gap && words[j - gap] > v) {
                words[j] = words[j - gap];
                j -= gap;
            }
            words[j] = v;
        }
    }
}

int main(void)
{
    uart_init();

    uint32_t sum = 0;
    uint32_t rounds = iterations;
    for (uint32_t round = 0; round < rounds; round++) {
        fill(0x2545F491u);
        shell_sort();
        for (uint32_t i = 0; i < WORDS; i++)
            sum = (sum << 5) + (sum >> 27) + words[i];
    }

    uart_puts("memsort: done ");
    uart_puthex(sum);
    uart_puts("\r\n");
    memsort_park();
}
