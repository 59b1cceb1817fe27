/*
 * Instruction counter for the virtual clock.
 *
 * Registered as a Unicorn code hook through the C API, so it costs no Python call
 * per instruction. Unicorn calls it before each instruction; it counts the
 * instruction and, once `executed` has reached `deadline`, stops the emulator
 * before the next one runs. Python reads `executed` at any moment (an MMIO
 * callback in the middle of a slice sees the exact time) and moves `deadline`
 * to end a slice early. The stop function is handed in by Python (uc_emu_stop
 * from the library the binding loaded), so this file links against nothing.
 */
#include <stdint.h>

struct atoll_counter {
    uint64_t executed;                 /* instructions started since creation */
    uint64_t deadline;                 /* stop before running instruction number deadline+1 */
    int (*stop)(void *uc);             /* uc_emu_stop */
    uint32_t stopped;                  /* 1 once this slice reached its deadline */
};

void atoll_count_instruction(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct atoll_counter *c = (struct atoll_counter *)user_data;
    (void)address;
    (void)size;
    if (c->executed >= c->deadline) {
        /* Ask again on every instruction past the deadline: Unicorn can drop a
         * stop request (e.g. around an MMIO access), as its own count= hook knows. */
        c->stopped = 1;
        c->stop(uc);
        return;
    }
    c->executed++;
}
