/* yield: two tasks that hand the CPU to each other with `ecall` (RISC-V M-mode, hifive1).
 *
 * Interrupts stay off. The trap handler takes each environment call from M-mode (mcause 11),
 * moves mepc past the ecall and resumes the other task's trap frame (rvtrap.S).
 */
#include "rvtrap.h"

#define ROUNDS 3

static uint32_t current;
static frame_t *saved[2];
static uint32_t stack1[256] __attribute__((aligned(16)));

static inline void yield(void)
{
    __asm__ volatile("ecall" ::: "memory");
}

__attribute__((noreturn)) static void task(uint32_t id)
{
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uart_puts(id == 0 ? "ping " : "pong ");
        uart_putu(i);
        uart_puts("\r\n");
        yield();
    }
    if (id == 1) {
        uart_puts("yield: done\r\n");
        park();
    }
    for (;;)
        yield();
}

frame_t *trap_handler(frame_t *frame, int vector)
{
    (void)vector;
    if (CSR_READ(mcause) != 11u) {
        uart_puts("yield: unexpected trap ");
        puthex(CSR_READ(mcause));
        uart_puts("\r\n");
        park();
    }
    frame->x[0] += 4; /* past the ecall */
    saved[current] = frame;
    current ^= 1;
    return saved[current];
}

int main(void)
{
    uart_init();
    saved[1] = first_frame(stack1, 256, task, 1);
    CSR_WRITE(mtvec, trap_entry);
    task(0);
}
