/* A preemptive two-task switcher on PendSV and SysTick (ARMv7-M ARM B1.5.6-B1.5.8, B3.3).
 *
 * Two tasks run in thread mode on their own process stacks (PSP). SysTick (every 50,000 cycles,
 * 2 ms at 25 MHz) counts ticks and pends PendSV; PendSV, at the lowest priority, saves r4-r11 on
 * the outgoing task's stack, keeps its PSP and switches to the other task. Neither task ever
 * yields: each prints its letter and how many turns it had, then spins until it has been switched
 * out and back in, so the output shows the preemption (A0 B0 A1 B1 ...), whatever the tick's
 * timing: QEMU's SysTick runs on host time, so a turn ends at the first tick after its task
 * printed, and the tasks start just after a tick. After its fourth turn task B prints the summary.
 */
#include "armv7m.h"

#define TURNS 4u

static volatile uint32_t ticks;
static uint32_t stacks[2][128] __attribute__((aligned(8)));
static uint32_t saved_psp[2];
static volatile uint32_t current;
static volatile uint32_t switches;
static volatile uint32_t started;
static volatile uint32_t printed;

void systick_handler(void)
{
    ticks++;
    if (started && printed) {   /* a turn ends at the first tick after its task printed */
        printed = 0;
        ICSR = ICSR_PENDSVSET;
    }
}

__attribute__((used)) uint32_t switch_context(uint32_t psp)
{
    saved_psp[current] = psp;
    current ^= 1;
    switches++;
    return saved_psp[current];
}

__attribute__((naked)) void pendsv_handler(void)
{
    __asm__ volatile(
        "mrs r0, psp\n"
        "stmdb r0!, {r4-r11}\n"
        "push {r3, lr}\n"
        "bl switch_context\n"
        "pop {r3, lr}\n"
        "ldmia r0!, {r4-r11}\n"
        "msr psp, r0\n"
        "bx lr\n");
}

static void task(char name)
{
    for (uint32_t runs = 0;; runs++) {
        __asm__ volatile("cpsid i" ::: "memory");   /* a turn's line is never cut by a switch */
        uint32_t seen = switches;
        putc_(name);
        putc_((char)('0' + runs));
        putc_(' ');
        printed = 1;
        __asm__ volatile("cpsie i" ::: "memory");
        if (name == 'B' && runs == TURNS - 1) {
            SYST_CSR = 0;
            puts_("\nswitches ");
            puthex(switches);
            puts_("\n");
            done();
        }
        while (switches == seen)   /* never yields: only PendSV takes the CPU away */
            ;
    }
}

static void task_a(void) { task('A'); }
static void task_b(void) { task('B'); }

static uint32_t initial_frame(uint32_t *top, void (*entry)(void))
{
    uint32_t *sp = top - 16;
    for (int i = 0; i < 16; i++)
        sp[i] = 0;
    sp[8 + 6] = (uint32_t)entry;       /* stacked pc */
    sp[8 + 7] = 1u << 24;               /* xPSR: Thumb */
    return (uint32_t)sp;
}

int main(void)
{
    SHPR3 = (0xE0u << 16) | (0x80u << 24);   /* PendSV 0xe0 (least urgent), SysTick 0x80 */
    saved_psp[1] = initial_frame(&stacks[1][128], task_b);
    current = 0;
    __asm__ volatile("msr psp, %0\n"
                     "msr control, %1\n"
                     "isb\n" : : "r"(&stacks[0][128]), "r"(2u));
    SYST_RVR = 49999;
    SYST_CVR = 0;
    SYST_CSR = 7;
    while (ticks == 0)   /* start the tasks just after a tick, wherever the first one falls */
        ;
    started = 1;
    task_a();
    return 0;
}
