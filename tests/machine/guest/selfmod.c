/* selfmod: a bare-metal program that rewrites code it has run, for
 * tests/machine/test_self_modifying_code.py; one source for both boards, built with the boards'
 * start-up code from firmware/bare/.
 *
 * Each round stores data into a RAM page that holds code (so a TLB entry a context switch
 * dropped comes back through a data access first), writes a two-instruction function that
 * returns the round's value into the same page, synchronises the instruction stream as the architecture asks (DSB+ISB on ARMv7-M,
 * FENCE.I on RISC-V), calls the function and checks what it returned. Then it prints
 * "selfmod: sum <decimal> errors <decimal>" and parks.
 */
#include "board.h"
#include "../uart_print.h"   /* firmware/bare/, next to the board folder on the include path */

#define ROUNDS 300u

/* one page of code and data; 16 halfwords of code, then data (within 1 KiB: one ARM page) */
static volatile uint16_t page[256] __attribute__((aligned(4096)));

static void write_return(uint32_t value)
{
#if defined(__riscv)
    page[0] = (uint16_t)(0x4501u | ((value & 0x1fu) << 2));   /* c.li a0, value */
    page[1] = 0x8082u;                                         /* c.jr ra */
#else
    page[0] = (uint16_t)(0x2000u | (value & 0xffu));           /* movs r0, #value */
    page[1] = 0x4770u;                                         /* bx lr */
#endif
}

static void sync_code(void)
{
#if defined(__riscv)
    __asm__ volatile("fence.i" ::: "memory");
#else
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
}

static uint32_t call(void)
{
#if defined(__riscv)
    uint32_t (*f)(void) = (uint32_t (*)(void))(uintptr_t)page;
#else
    uint32_t (*f)(void) = (uint32_t (*)(void))((uintptr_t)page | 1u);   /* Thumb */
#endif
    return f();
}

int main(void)
{
    uart_init();
    uint32_t sum = 0, errors = 0;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t value = i % 32u;
        page[16u + i % 64u] = (uint16_t)i;        /* data on the code's page, stored first */
        write_return(value);
        sync_code();
        uint32_t got = call();
        sum += got;
        if (got != value)
            errors++;
    }
    uart_puts("selfmod: sum ");
    uart_putu(sum);
    uart_puts(" errors ");
    uart_putu(errors);
    uart_puts("\r\n");
    park();
}
