/* Start-up for the ARMv7-M exception test programs: the vector table (16 system entries and
 * IRQ 0-31) at address 0, every entry a weak alias of handler_default unless the program
 * defines it; reset copies .data, zeroes .bss and calls main. Uses the bare-metal linker script
 * of the board (firmware/bare/mps2-an385/link.ld).
 */
#include "armv7m.h"

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

void reset_handler(void);

void handler_default(void)
{
    puts_("unexpected exception ");
    puthex(get_ipsr());
    puts_("\n");
    for (;;)
        __asm__ volatile("wfi");
}

#define WEAK __attribute__((weak, alias("handler_default")))
void hardfault_handler(void) WEAK;
void busfault_handler(void) WEAK;
void usagefault_handler(void) WEAK;
void svc_handler(void) WEAK;
void pendsv_handler(void) WEAK;
void systick_handler(void) WEAK;
void irq0_handler(void) WEAK;
void irq1_handler(void) WEAK;
void irq2_handler(void) WEAK;
void irq3_handler(void) WEAK;

__attribute__((used, section(".vectors")))
void (*const vector_table[48])(void) = {
    (void (*)(void))__stack_top, reset_handler, handler_default, hardfault_handler,
    handler_default, busfault_handler, usagefault_handler, 0, 0, 0, 0, svc_handler,
    handler_default, 0, pendsv_handler, systick_handler,
    irq0_handler, irq1_handler, irq2_handler, irq3_handler,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
    handler_default, handler_default, handler_default, handler_default,
};

void reset_handler(void)
{
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    uart_init();
    main();
    done();
}
