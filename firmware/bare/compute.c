/* compute: a CPU-bound loop for the benchmark, one source for every board.
 *
 * Runs on the machine alone (no kernel, privileged mode). It fills a small array, then runs
 * `iterations` rounds of integer arithmetic over it (an LCG stirred into the array and folded
 * into a checksum): no memory-mapped I/O until the end. It then writes exactly one line,
 * "compute: done <checksum>\r\n" (the checksum as 8 hex digits, so the line's length never
 * changes), on UART0 and parks in `compute_park`.
 *
 * `iterations` is a global in .data: the benchmark overwrites it (in the loaded image, or in a
 * copy of the ELF file) before the program starts, so one ELF serves every run length. Each
 * round costs the same number of instructions, so a run's count is linear in `iterations`.
 */
#include "board.h"
#include "uart_print.h"

#define WORDS 32u

/* Patched by bench/run.py; volatile so the compiler reads it from memory once, at run time. */
volatile uint32_t iterations = 1000;

static uint32_t words[WORDS];

/* Where the program ends: a symbol of its own, so the benchmark can stop a run right here. */
__attribute__((noinline, noreturn)) void compute_park(void)
{
    park();
}

int main(void)
{
    uart_init();

    uint32_t x = 0x12345678u;
    for (uint32_t i = 0; i < WORDS; i++)
        words[i] = i * 0x9E3779B9u;

    uint32_t sum = 0;
    uint32_t rounds = iterations;
    for (uint32_t round = 0; round < rounds; round++) {
        for (uint32_t i = 0; i < WORDS; i++) {
            x = x * 1664525u + 1013904223u;
            uint32_t w = words[i] ^ (x >> 7);
            words[i] = w;
            sum = (sum << 5) + (sum >> 27) + w;
        }
    }

    uart_puts("compute: done ");
    uart_puthex(sum);
    uart_puts("\r\n");
    compute_park();
}
