/* Compute benchmark component: the loop of firmware/bare/compute.c, forever, with no syscalls.
 *
 * Each round is the same integer arithmetic over a small array (an LCG stirred into the array
 * and folded into a checksum). `progress` counts finished rounds and `checksum` holds the running
 * sum, so the bench can read from the process's memory how far it got. The bench runs two copies
 * at the same priority, so that time slices rotate between them.
 */
#include <atoll/atoll.h>

#define WORDS 32u

volatile uint32_t progress;
volatile uint32_t checksum;

static uint32_t words[WORDS];

int main(void)
{
    uint32_t x = 0x12345678u;
    for (uint32_t i = 0; i < WORDS; i++)
        words[i] = i * 0x9E3779B9u;

    uint32_t sum = 0;
    for (uint32_t round = 0;; round++) {
        for (uint32_t i = 0; i < WORDS; i++) {
            x = x * 1664525u + 1013904223u;
            uint32_t w = words[i] ^ (x >> 7);
            words[i] = w;
            sum = (sum << 5) + (sum >> 27) + w;
        }
        progress = round + 1;
        checksum = sum;
    }
}
