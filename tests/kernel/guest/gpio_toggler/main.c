/* Toggles GPIO pin 0 for ever through the GPIO block it was given (mapped at its physical
 * address), as fast as it can. */
#include <atoll/atoll.h>

#if defined(__arm__)
#define GPIO 0x40010000u
#define DATAOUT (*(volatile uint32_t *)(GPIO + 0x004))
#define OUTENSET (*(volatile uint32_t *)(GPIO + 0x010))
#define ENABLE() (OUTENSET = 1u)
#define OUT DATAOUT
#else
#define GPIO 0x10012000u
#define OUTPUT_EN (*(volatile uint32_t *)(GPIO + 0x08))
#define OUTPUT_VAL (*(volatile uint32_t *)(GPIO + 0x0C))
#define ENABLE() (OUTPUT_EN = 1u)
#define OUT OUTPUT_VAL
#endif

int main(void)
{
    ENABLE();
    for (;;)
        OUT ^= 1u;
}
