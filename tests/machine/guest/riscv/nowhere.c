/* nowhere: an ecall with mtvec pointing where nothing is (0x90000000): the machine cannot take
 * the trap, and the run ends naming it. */
#include "rvtrap.h"

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    return frame;
}

int main(void)
{
    uart_init();
    CSR_WRITE(mtvec, 0x90000000u);
    uart_puts("nowhere: calling\r\n");
    uart_flush();
    __asm__ volatile(".globl at_ecall\nat_ecall: ecall" ::: "memory");
    uart_puts("nowhere: returned\r\n");
    park();
}
