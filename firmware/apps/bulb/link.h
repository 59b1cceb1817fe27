/* The bulb's network link: UART1, mapped into the bulb at its physical address and driven
 * directly (no uart server). link.c holds both register layouts, chosen at compile time by
 * ISA: the CMSDK APB UART of mps2-an385 (one-byte buffers, latched interrupts) and the
 * SiFive UART of hifive1 (8-byte FIFOs, level watermark interrupts). Received bytes go
 * into a 256-byte ring; transmission polls the transmitter and keeps receiving meanwhile. */
#ifndef BULB_LINK_H
#define BULB_LINK_H

#include <stddef.h>
#include <stdint.h>

/* 115200 8N1, receiver and transmitter on, the receive interrupt enabled. */
void link_init(void);
/* The receive interrupt came: clear the device's cause, move every received byte into the
 * ring. The caller acknowledges the interrupt bit with the kernel afterwards. */
void link_interrupt(void);
/* The next received byte from the ring, or -1. */
int link_getc(void);
/* Send bytes, waiting for room in the transmitter (receiving into the ring meanwhile). */
void link_write(const char *text, size_t len);
/* Bytes lost because the ring was full. */
uint32_t link_dropped(void);

#endif /* BULB_LINK_H */
