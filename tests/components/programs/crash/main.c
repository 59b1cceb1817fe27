/* Writes through a pointer to an unmapped page, in a function of its own. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) void store_through(volatile uint32_t *target, uint32_t value)
{
    *target = value;
}

int main(void)
{
    printf("about to crash\n");
    store_through((volatile uint32_t *)(uintptr_t)0x2468, 7);
    return 0;
}
