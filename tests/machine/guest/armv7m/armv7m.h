/* Shared by the ARMv7-M exception test programs (tests/machine/test_armv7m_exceptions.py): the
 * System Control Space registers (ARMv7-M ARM B3.2-B3.4), UART0 output by polling, and the
 * handler names start.c's vector table gives every exception.
 */
#ifndef ATOLL_ARMV7M_TEST_H
#define ATOLL_ARMV7M_TEST_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define UART_DATA    REG32(0x40004000u)
#define UART_STATE   REG32(0x40004004u)
#define UART_CTRL    REG32(0x40004008u)
#define UART_BAUDDIV REG32(0x40004010u)

#define SYST_CSR   REG32(0xE000E010u)
#define SYST_RVR   REG32(0xE000E014u)
#define SYST_CVR   REG32(0xE000E018u)
#define SYST_CALIB REG32(0xE000E01Cu)
#define NVIC_ISER  REG32(0xE000E100u)
#define NVIC_ICER  REG32(0xE000E180u)
#define NVIC_ISPR  REG32(0xE000E200u)
#define NVIC_ICPR  REG32(0xE000E280u)
#define NVIC_IABR  REG32(0xE000E300u)
#define NVIC_IPR(n) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (n)))
#define ICSR   REG32(0xE000ED04u)
#define VTOR   REG32(0xE000ED08u)
#define AIRCR  REG32(0xE000ED0Cu)
#define SCR    REG32(0xE000ED10u)
#define CCR    REG32(0xE000ED14u)
#define SHPR2  REG32(0xE000ED1Cu)
#define SHPR3  REG32(0xE000ED20u)
#define SHCSR  REG32(0xE000ED24u)
#define CFSR   REG32(0xE000ED28u)
#define HFSR   REG32(0xE000ED2Cu)
#define BFAR   REG32(0xE000ED38u)
#define STIR   REG32(0xE000EF00u)

#define ICSR_PENDSVSET (1u << 28)
#define AIRCR_KEY      (0x05FAu << 16)

void handler_default(void);
void hardfault_handler(void);
void busfault_handler(void);
void usagefault_handler(void);
void svc_handler(void);
void pendsv_handler(void);
void systick_handler(void);
void irq0_handler(void);
void irq1_handler(void);
void irq2_handler(void);
void irq3_handler(void);
int main(void);
extern void (*const vector_table[48])(void);

static inline void uart_init(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = 1;
}

static inline void putc_(char c)
{
    while (UART_STATE & 1u)
        ;
    UART_DATA = (uint8_t)c;
}

static inline void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static inline void puthex(uint32_t v)
{
    puts_("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        putc_("0123456789abcdef"[(v >> shift) & 0xFu]);
}

static inline uint32_t get_ipsr(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

static inline uint32_t get_sp(void)
{
    uint32_t v;
    __asm__ volatile("mov %0, sp" : "=r"(v));
    return v;
}

__attribute__((noreturn)) static inline void done(void)
{
    puts_("done\n");
    for (;;)
        __asm__ volatile("wfi");
}

#endif
