/* The uart server's view of the UART hardware; hw_cmsdk.c (ARM, mps2-an385) or
 * hw_sifive.c (RISC-V, hifive1) implements it, chosen at compile time by ISA. */
#ifndef UART_HW_H
#define UART_HW_H

#include <stdint.h>

/* Baud divider, enable TX and RX and the receive interrupt. */
void hw_init(void);
/* Clear latched interrupt status; returns how many overruns the hardware flagged (0 or more). */
uint32_t hw_clear_events(void);
/* One received byte, or -1 when the receiver holds none. */
int hw_rx(void);
/* Whether the transmitter accepts a byte now. */
int hw_tx_room(void);
/* Hand one byte to the transmitter (only after hw_tx_room()). */
void hw_tx(uint8_t byte);
/* Ask for (1) or stop (0) the "transmitter has room" interrupt. */
void hw_tx_wanted(int on);

#endif /* UART_HW_H */
