/* Start-up code for bare-metal programs on the MPS2 AN385 (Cortex-M3), with no kernel.
 *
 * The vector table sits at address 0x0 (section .vectors, placed first by link.ld): word 0 is the
 * initial stack pointer, word 1 the reset handler (the linker sets its Thumb bit). The core starts
 * in privileged thread mode on the main stack; reset_handler copies .data from its load address,
 * zeroes .bss, calls main and then parks. Programs poll; nothing enables an interrupt, so the
 * other exception entries exist only to park_forever the core if it ever faults.
 */
#include <stdint.h>

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void reset_handler(void);

static void park_forever(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((used, section(".vectors")))
static void (*const vector_table[16])(void) = {
    (void (*)(void))__stack_top, /* 0: initial SP */
    reset_handler,               /* 1: Reset */
    park_forever,                        /* 2: NMI */
    park_forever,                        /* 3: HardFault */
    park_forever,                        /* 4: MemManage */
    park_forever,                        /* 5: BusFault */
    park_forever,                        /* 6: UsageFault */
    0, 0, 0, 0,                  /* 7-10: reserved */
    park_forever,                        /* 11: SVCall */
    park_forever,                        /* 12: DebugMonitor */
    0,                           /* 13: reserved */
    park_forever,                        /* 14: PendSV */
    park_forever,                        /* 15: SysTick */
};

void reset_handler(void)
{
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    main();
    park_forever();
}
