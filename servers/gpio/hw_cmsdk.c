/* gpio_hw.h on the CMSDK AHB GPIO (ARM DDI0479), GPIO0 of mps2-an385, mapped at its
 * physical address. Single pins are written through the masked byte areas, so no
 * read-modify-write of DATAOUT is needed; edge interrupts use INTTYPE = 1 (edge) and
 * INTPOL (1 rising, 0 falling). The block has no "both edges" mode: GPIO_EDGE_ANY
 * arms the edge away from the level the pin has now. */
#if defined(__arm__)

#include "gpio.h"
#include "gpio_hw.h"

#define GPIO0_BASE 0x40010000u
#define REG(offset) (*(volatile uint32_t *)(GPIO0_BASE + (offset)))

#define DATA REG(0x000)       /* read: pad levels */
#define DATAOUT REG(0x004)    /* the output latches */
#define OUTENSET REG(0x010)
#define OUTENCLR REG(0x014)
#define ALTFUNCCLR REG(0x01C)
#define INTENSET REG(0x020)
#define INTENCLR REG(0x024)
#define INTTYPESET REG(0x028) /* 1: edge */
#define INTPOLSET REG(0x030)  /* 1: rising */
#define INTPOLCLR REG(0x034)  /* 0: falling */
#define INTSTATUS REG(0x038)  /* read: latched; write 1: clear (INTCLEAR) */
/* MASKLOWBYTE (0x400) / MASKHIGHBYTE (0x800): address bits [9:2] select the pins written */
#define MASKED(pin) REG(((pin) < 8 ? 0x400u : 0x800u) + ((1u << ((pin) & 7u)) << 2))

#define ALL_PINS 0xFFFFu

void hw_init(void)
{
    INTENCLR = ALL_PINS;
    INTSTATUS = ALL_PINS;
}

void hw_configure(unsigned pin, int output)
{
    ALTFUNCCLR = 1u << pin;
    if (output)
        OUTENSET = 1u << pin;
    else
        OUTENCLR = 1u << pin;
}

void hw_write(unsigned pin, int level)
{
    MASKED(pin) = level ? 1u << pin : 0;
}

void hw_toggle(unsigned pin)
{
    MASKED(pin) = ~DATAOUT;
}

int hw_read(unsigned pin)
{
    return (int)(DATA >> pin & 1u);
}

void hw_arm(unsigned pin, unsigned edges)
{
    uint32_t bit = 1u << pin;
    int rising = edges == GPIO_EDGE_ANY ? !hw_read(pin) : (edges & GPIO_EDGE_RISING) != 0;
    INTENCLR = bit;
    INTTYPESET = bit;
    if (rising)
        INTPOLSET = bit;
    else
        INTPOLCLR = bit;
    INTSTATUS = bit;
    INTENSET = bit;
}

void hw_disarm(unsigned pin)
{
    INTENCLR = 1u << pin;
    INTSTATUS = 1u << pin;
}

uint32_t hw_take_edges(uint32_t mask)
{
    uint32_t latched = INTSTATUS & mask;
    INTSTATUS = latched;
    return latched;
}

#endif /* __arm__ */
