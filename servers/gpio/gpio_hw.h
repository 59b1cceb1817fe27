/* The gpio server's hardware layer: what main.c needs from a GPIO block. One
 * implementation is compiled per ISA: hw_cmsdk.c (CMSDK AHB GPIO, mps2-an385) on ARM,
 * hw_sifive.c (SiFive GPIO, hifive1) on RISC-V. Pins are checked by the caller. */
#ifndef GPIO_HW_H
#define GPIO_HW_H

#include <stdint.h>

#if defined(__arm__)
#define GPIO_HW_PINS 16u
#else
#define GPIO_HW_PINS 32u
#endif

/* No pin interrupt armed and none pending; outputs are left as they are (a restart keeps LEDs). */
void hw_init(void);
void hw_configure(unsigned pin, int output);
void hw_write(unsigned pin, int level);
void hw_toggle(unsigned pin);
/* The pad level: the output latch of an output, what drives an input. */
int hw_read(unsigned pin);
/* Latch the next edge(s) (GPIO_EDGE_* bits) of pin as its interrupt. */
void hw_arm(unsigned pin, unsigned edges);
/* Stop interrupts of pin and forget a latched edge. */
void hw_disarm(unsigned pin);
/* Of the pins in mask, those with a latched armed edge; their latches are cleared. */
uint32_t hw_take_edges(uint32_t mask);

#endif /* GPIO_HW_H */
