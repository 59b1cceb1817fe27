/* gpio: pins as a service (protocol in gpio.h, README.md). Serves slot 1; owns GPIO0
 * through gpio_hw.h. Pin n's interrupt, if the image routes it, arrives as notification
 * bit n; a WAIT_EDGE caller's reply capability is parked in slot WAIT_SLOT(pin) until
 * that pin's edge comes, so one waiting client never holds up the others. */
#include <atoll/atoll.h>

#include "gpio.h"
#include "gpio_hw.h"

#define SERVE_SLOT 1u
#define WAIT_SLOT(pin) (32u + (pin))
#define IRQ_MASK ((uint32_t)((1ull << GPIO_HW_PINS) - 1u))

static uint32_t waiters; /* pins with a parked WAIT_EDGE reply */

/* Park the caller's reply for pin's next edge; 0 if parked, else a status to reply now. */
static int wait_edge(uint32_t pin, uint32_t edges)
{
    if (edges == 0 || edges > GPIO_EDGE_ANY)
        return GPIO_E_BAD_ARGUMENT;
    if (waiters >> pin & 1u)
        return GPIO_E_BUSY;
    int r = atl_cap_move(ATL_REPLY_SLOT, WAIT_SLOT(pin));
    if (r != ATL_OK)
        return r; /* a SEND, not a CALL: nobody to answer later */
    waiters |= 1u << pin;
    hw_arm(pin, edges);
    return 0;
}

/* Handle one request; returns 1 if rep must be sent now, 0 if the reply was parked. */
static int handle(const struct atl_msg *req, struct atl_msg *rep)
{
    uint32_t pin = req->mr[0], arg = req->mr[1];
    int status = GPIO_OK;
    rep->mr[0] = rep->mr[1] = rep->mr[2] = rep->mr[3] = 0;
    if (req->label < GPIO_CONFIGURE || req->label > GPIO_WAIT_EDGE)
        status = GPIO_E_BAD_OPERATION;
    else if (pin >= GPIO_HW_PINS)
        status = GPIO_E_BAD_PIN;
    else if (req->label == GPIO_CONFIGURE) {
        if (arg > GPIO_OUTPUT)
            status = GPIO_E_BAD_ARGUMENT;
        else
            hw_configure(pin, arg == GPIO_OUTPUT);
    } else if (req->label == GPIO_WRITE)
        hw_write(pin, arg != 0);
    else if (req->label == GPIO_TOGGLE)
        hw_toggle(pin);
    else if (req->label == GPIO_READ)
        rep->mr[0] = (uint32_t)hw_read(pin);
    else {
        status = wait_edge(pin, arg);
        if (status == 0)
            return 0;
    }
    rep->label = (uint32_t)status;
    return 1;
}

/* Interrupt bits: answer the waiters whose edge came, then let the lines fire again. */
static void edges(uint32_t bits)
{
    uint32_t fired = hw_take_edges(bits);
    for (unsigned pin = 0; pin < GPIO_HW_PINS; pin++) {
        if (!(fired >> pin & 1u))
            continue;
        hw_disarm(pin);
        if (waiters >> pin & 1u) {
            struct atl_msg rep = {.label = GPIO_OK, .mr = {(uint32_t)hw_read(pin), 0, 0, 0}};
            waiters &= ~(1u << pin);
            atl_reply(WAIT_SLOT(pin), &rep); /* a waiter that died gets nothing: fine */
        }
    }
    atl_irq_ack(bits);
}

int main(void)
{
    struct atl_msg req, rep = {0};
    hw_init();
    int status = atl_recv(SERVE_SLOT, IRQ_MASK, &req);
    for (;;) {
        if (status != ATL_OK) {
            atl_printf("gpio: receive failed %d\n", status);
            status = atl_recv(SERVE_SLOT, IRQ_MASK, &req);
        } else if (req.label == ATL_LABEL_NOTIFICATION) {
            edges(req.mr[0]);
            status = atl_recv(SERVE_SLOT, IRQ_MASK, &req);
        } else if (handle(&req, &rep)) {
            status = atl_reply_recv(SERVE_SLOT, &rep, IRQ_MASK, &req);
        } else {
            status = atl_recv(SERVE_SLOT, IRQ_MASK, &req);
        }
    }
}
