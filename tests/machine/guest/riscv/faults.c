/* faults: synchronous traps and what they leave in mcause, mepc and mtval (RISC-V M-mode).
 *
 * ecall, ebreak, an illegal instruction, a load and a store to an address where nothing is
 * (0x90000000) and a call to it: each traps to the handler, which prints mcause, whether mepc
 * is the trapping instruction (its label), mtval for the access faults, and mstatus.MPP; then
 * it resumes past the instruction (or, for the fetch, at the caller's return address).
 */
#include "rvtrap.h"

#define NOTHING 0x90000000u

extern char at_ecall[], at_ebreak[], at_illegal[], at_load[], at_store[];
static uint32_t expected_pc;

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    uint32_t cause = CSR_READ(mcause), epc = CSR_READ(mepc), tval = CSR_READ(mtval);
    uart_puts("trap mcause=");
    puthex(cause);
    uart_puts(epc == expected_pc ? " mepc=ok" : " mepc=WRONG");
    if (cause == 1 || cause == 5 || cause == 7) {
        uart_puts(" mtval=");
        puthex(tval);
    }
    uart_puts(" mpp=");
    uart_putu((CSR_READ(mstatus) >> 11) & 3);
    uart_puts("\r\n");
    if (cause == 1) {
        frame->x[0] = frame->x[1]; /* the fetch failed at the callee: back to the caller */
    } else {
        uint16_t low = *(volatile uint16_t *)(uintptr_t)epc;
        frame->x[0] = epc + ((low & 3) == 3 ? 4 : 2);
    }
    return frame;
}

int main(void)
{
    uart_init();
    CSR_WRITE(mtvec, trap_entry);

    expected_pc = (uint32_t)(uintptr_t)at_ecall;
    __asm__ volatile(".option push\n.option norvc\n.globl at_ecall\nat_ecall: ecall\n.option pop" ::: "memory");
    expected_pc = (uint32_t)(uintptr_t)at_ebreak;
    __asm__ volatile(".option push\n.option norvc\n.globl at_ebreak\nat_ebreak: ebreak\n.option pop" ::: "memory");
    expected_pc = (uint32_t)(uintptr_t)at_illegal;
    __asm__ volatile(".globl at_illegal\nat_illegal: .4byte 0xffffffff" ::: "memory");
    expected_pc = (uint32_t)(uintptr_t)at_load;
    uint32_t value;
    __asm__ volatile(".globl at_load\nat_load: lw %0, 0(%1)" : "=r"(value) : "r"(NOTHING) : "memory");
    expected_pc = (uint32_t)(uintptr_t)at_store;
    __asm__ volatile(".globl at_store\nat_store: sw %0, 4(%1)" ::"r"(value), "r"(NOTHING) : "memory");
    expected_pc = NOTHING;
    ((void (*)(void))(uintptr_t)NOTHING)();
    uart_puts("faults: done\r\n");
    park();
}
