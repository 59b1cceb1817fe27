/* trap_loop: mtvec pointing at zeroed memory (0x80002000, inside the DTIM): the handler's first
 * instruction is illegal and would trap to itself forever; the run ends naming the loop. */
#include "rvtrap.h"

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    return frame;
}

int main(void)
{
    uart_init();
    CSR_WRITE(mtvec, 0x80002000u);
    uart_puts("trap_loop: calling\r\n");
    uart_flush();
    __asm__ volatile("ecall" ::: "memory");
    uart_puts("trap_loop: returned\r\n");
    park();
}
