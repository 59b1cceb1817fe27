/* sched: a preemptive two-task scheduler on the machine timer (RISC-V M-mode, hifive1).
 *
 * Task 0 runs on main's stack, task 1 on its own. Each machine timer interrupt (mtimecmp, every
 * PERIOD ticks of mtime) saves the running task's registers in its trap frame and resumes the
 * other's (rvtrap.S). A task prints one line per turn it is given, with interrupts masked while
 * it prints (a tick that comes meanwhile is taken as soon as it unmasks them), so the output is
 * the same whatever the timer's rate: task 0 turn 0, task 1 turn 0, task 0 turn 1, ... Between
 * turns a task sleeps in WFI; a tick that comes before the running task printed its line keeps
 * it running (on QEMU, whose 10 MHz mtime ticks 300 times faster than the FE310's 32,768 Hz one,
 * a loaded host can take longer than a period to get there).
 */
#include "rvtrap.h"

#define PERIOD 4000u
#define TURNS 4

static volatile uint32_t turns[2] = {1, 0};
static volatile uint32_t printed; /* the running task has printed its line for this turn */
static uint32_t current;
static frame_t *saved[2];
static uint32_t stack1[256] __attribute__((aligned(16)));

__attribute__((noreturn)) static void task(uint32_t id)
{
    uint32_t seen = 0;
    for (uint32_t i = 0; i < TURNS; i++) {
        while (turns[id] == seen)
            __asm__ volatile("wfi");
        seen = turns[id];
        CSR_CLEAR(mstatus, MSTATUS_MIE);
        uart_puts("task ");
        uart_putu(id);
        uart_puts(" turn ");
        uart_putu(i);
        uart_puts("\r\n");
        printed = 1;
        if (id == 1 && i == TURNS - 1) {
            CSR_CLEAR(mie, MIP_MTIP);
            uart_puts("sched: done\r\n");
            park();
        }
        CSR_SET(mstatus, MSTATUS_MIE);
    }
    for (;;)
        ;
}

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    if (CSR_READ(mcause) != (MCAUSE_INTERRUPT | 7u)) {
        uart_puts("sched: unexpected trap ");
        puthex(CSR_READ(mcause));
        uart_puts("\r\n");
        park();
    }
    set_mtimecmp(mtime64() + PERIOD);
    if (!printed)
        return frame; /* a turn always gets its line, however slow the host running us */
    printed = 0;
    saved[current] = frame;
    current ^= 1;
    turns[current]++;
    return saved[current];
}

int main(void)
{
    uart_init();
    saved[1] = first_frame(stack1, 256, task, 1);
    CSR_WRITE(mtvec, trap_entry);
    set_mtimecmp(mtime64() + PERIOD);
    CSR_SET(mie, MIP_MTIP);
    CSR_SET(mstatus, MSTATUS_MIE);
    task(0);
}
