/* The registers of the two UARTs Atoll's boards have, by base address: the CMSDK APB UART
 * (mps2-an385; ARM's CMSDK technical reference) and the SiFive UART (hifive1; FE310-G002
 * manual, chapter 18). The uart server's hw_cmsdk.c and hw_sifive.c use them, and so does
 * any other driver of a UART (the bulb's UART1 link): `#include <uart/regs.h>`. */
#ifndef UART_REGS_H
#define UART_REGS_H

#include <stdint.h>

#define UART_REG(base, offset) (*(volatile uint32_t *)((base) + (offset)))

/* CMSDK APB UART: one-byte buffers, latched interrupts cleared through INTCLEAR */
#define CMSDK_UART_DATA(base) UART_REG(base, 0x000)
#define CMSDK_UART_STATE(base) UART_REG(base, 0x004)
#define CMSDK_UART_CTRL(base) UART_REG(base, 0x008)
#define CMSDK_UART_INTSTATUS(base) UART_REG(base, 0x00C) /* write: INTCLEAR */
#define CMSDK_UART_BAUDDIV(base) UART_REG(base, 0x010)
#define CMSDK_UART_STATE_TXFULL 1u
#define CMSDK_UART_STATE_RXFULL 2u
#define CMSDK_UART_CTRL_TXEN 1u
#define CMSDK_UART_CTRL_RXEN 2u
#define CMSDK_UART_CTRL_TXINTEN 4u
#define CMSDK_UART_CTRL_RXINTEN 8u
#define CMSDK_UART_CTRL_RXOVRINTEN 32u
#define CMSDK_UART_INT_TX 1u
#define CMSDK_UART_INT_RX 2u
#define CMSDK_UART_INT_OVERRUNS 0xCu                    /* TX and RX overrun */
#define CMSDK_UART_BAUDDIV_115200_AT_25MHZ 217u

/* SiFive UART: 8-byte FIFOs, level watermark interrupts */
#define SIFIVE_UART_TXDATA(base) UART_REG(base, 0x00)
#define SIFIVE_UART_RXDATA(base) UART_REG(base, 0x04)
#define SIFIVE_UART_TXCTRL(base) UART_REG(base, 0x08)
#define SIFIVE_UART_RXCTRL(base) UART_REG(base, 0x0C)
#define SIFIVE_UART_IE(base) UART_REG(base, 0x10)
#define SIFIVE_UART_DIV(base) UART_REG(base, 0x18)
#define SIFIVE_UART_FLAG 0x80000000u                    /* txdata.full, rxdata.empty */
#define SIFIVE_UART_TXEN 1u                             /* txctrl.txen */
#define SIFIVE_UART_RXEN 1u                             /* rxctrl.rxen */
#define SIFIVE_UART_IE_TXWM 1u
#define SIFIVE_UART_IE_RXWM 2u
#define SIFIVE_UART_DIV_115200_AT_16MHZ 138u            /* 16 MHz / 115200 baud - 1 */

#endif /* UART_REGS_H */
