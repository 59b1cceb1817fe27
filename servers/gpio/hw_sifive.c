/* gpio_hw.h on the SiFive GPIO block (FE310-G002 manual), GPIO0 of hifive1, mapped at
 * its physical address. Every configured pin has its input enabled too, so READ shows
 * the pad of outputs as well; the *_ip registers are write-1-to-clear. Edges use the
 * rise/fall interrupt kinds, both at once for GPIO_EDGE_ANY; high/low stay off. */
#if !defined(__arm__)

#include "gpio.h"
#include "gpio_hw.h"

#define GPIO0_BASE 0x10012000u
#define REG(offset) (*(volatile uint32_t *)(GPIO0_BASE + (offset)))

#define INPUT_VAL REG(0x00)
#define INPUT_EN REG(0x04)
#define OUTPUT_EN REG(0x08)
#define OUTPUT_VAL REG(0x0C)
#define RISE_IE REG(0x18)
#define RISE_IP REG(0x1C)
#define FALL_IE REG(0x20)
#define FALL_IP REG(0x24)
#define HIGH_IE REG(0x28)
#define HIGH_IP REG(0x2C)
#define LOW_IE REG(0x30)
#define LOW_IP REG(0x34)
#define IOF_EN REG(0x38)

#define ALL_PINS 0xFFFFFFFFu

void hw_init(void)
{
    RISE_IE = FALL_IE = HIGH_IE = LOW_IE = 0;
    RISE_IP = FALL_IP = HIGH_IP = LOW_IP = ALL_PINS;
}

void hw_configure(unsigned pin, int output)
{
    uint32_t bit = 1u << pin;
    IOF_EN &= ~bit;
    INPUT_EN |= bit;
    if (output)
        OUTPUT_EN |= bit;
    else
        OUTPUT_EN &= ~bit;
}

void hw_write(unsigned pin, int level)
{
    if (level)
        OUTPUT_VAL |= 1u << pin;
    else
        OUTPUT_VAL &= ~(1u << pin);
}

void hw_toggle(unsigned pin)
{
    OUTPUT_VAL ^= 1u << pin;
}

int hw_read(unsigned pin)
{
    if (!(INPUT_EN >> pin & 1u))
        INPUT_EN |= 1u << pin;
    return (int)(INPUT_VAL >> pin & 1u);
}

void hw_arm(unsigned pin, unsigned edges)
{
    uint32_t bit = 1u << pin;
    if (!(INPUT_EN & bit))
        INPUT_EN |= bit;
    RISE_IP = bit;
    FALL_IP = bit;
    if (edges & GPIO_EDGE_RISING)
        RISE_IE |= bit;
    if (edges & GPIO_EDGE_FALLING)
        FALL_IE |= bit;
}

void hw_disarm(unsigned pin)
{
    uint32_t bit = 1u << pin;
    RISE_IE &= ~bit;
    FALL_IE &= ~bit;
    RISE_IP = bit;
    FALL_IP = bit;
}

uint32_t hw_take_edges(uint32_t mask)
{
    uint32_t latched = ((RISE_IP & RISE_IE) | (FALL_IP & FALL_IE)) & mask;
    RISE_IP = latched;
    FALL_IP = latched;
    return latched;
}

#endif /* !__arm__ */
