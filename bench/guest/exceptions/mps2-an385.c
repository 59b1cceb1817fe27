/* The exception benchmark's guest for mps2-an385 (bench/guest_exceptions.py), bare metal.
 *
 * Three phases of ROUNDS rounds each, every phase announced on UART0 when it ends:
 * "bare" calls an empty function (the loop the others are compared with), "svc" takes an SVC
 * to an empty handler and back, "irq" pends IRQ 0 through STIR and waits for its handler.
 * SysTick counts processor cycles (no interrupt); the IRQ handler reads SYST_CVR in its first
 * instruction, so the irq phase also sums, per round, the cycles from the SYST_CVR read just
 * before the STIR store to the handler's first instruction; that sum ends the "irq" line.
 */
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define UART_DATA  REG32(0x40004000u)
#define UART_STATE REG32(0x40004004u)
#define UART_CTRL  REG32(0x40004008u)
#define UART_BAUD  REG32(0x40004010u)
#define SYST_CSR   REG32(0xE000E010u)
#define SYST_RVR   REG32(0xE000E014u)
#define SYST_CVR   REG32(0xE000E018u)
#define NVIC_ISER  REG32(0xE000E100u)
#define STIR       REG32(0xE000EF00u)

#ifndef ROUNDS
#define ROUNDS 20000u
#endif

extern uint32_t __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
void reset_handler(void);
void svc_handler(void);
void irq0_handler(void);
volatile uint32_t handler_cvr;
static volatile uint32_t taken;

static void park(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((used, section(".vectors")))
static void (*const vector_table[17])(void) = {
    (void (*)(void))__stack_top, reset_handler, park, park, park, park, park, 0, 0, 0, 0,
    svc_handler, park, 0, park, park, irq0_handler,
};

__attribute__((naked)) void svc_handler(void)
{
    __asm__ volatile("bx lr");
}

__attribute__((naked)) void irq0_handler(void)
{
    __asm__ volatile(
        "ldr r1, =0xE000E018\n"
        "ldr r0, [r1]\n"
        "ldr r1, =handler_cvr\n"
        "str r0, [r1]\n"
        "ldr r1, =taken\n"
        "ldr r0, [r1]\n"
        "adds r0, #1\n"
        "str r0, [r1]\n"
        "bx lr\n");
}

__attribute__((noinline)) static void nothing(void)
{
    __asm__ volatile("" ::: "memory");
}

static void say(const char *s)
{
    for (; *s; s++) {
        while (UART_STATE & 1u)
            ;
        UART_DATA = (uint8_t)*s;
    }
}

static void say_hex(uint32_t v)
{
    char text[11] = "0x";
    for (int i = 0; i < 8; i++)
        text[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
    text[10] = 0;
    say(text);
}

int main(void)
{
    UART_BAUD = 16;
    UART_CTRL = 1;
    SYST_RVR = 0xFFFFFF;
    SYST_CVR = 0;
    SYST_CSR = 5;   /* enabled, processor clock, no interrupt */
    NVIC_ISER = 1;
    for (uint32_t i = 0; i < ROUNDS; i++)
        nothing();
    say("bare\n");
    for (uint32_t i = 0; i < ROUNDS; i++)
        __asm__ volatile("svc #0" ::: "memory");
    say("svc\n");
    uint32_t sum = 0;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t before = taken;
        uint32_t start = SYST_CVR;
        STIR = 0;
        while (taken == before)
            ;
        sum += (start - handler_cvr) & 0xFFFFFFu;
    }
    say("irq ");
    say_hex(sum);
    say("\n");
    park();
    return 0;
}

void reset_handler(void)
{
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    main();
    park();
}
