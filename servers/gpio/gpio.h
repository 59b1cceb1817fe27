/* The gpio server's protocol: operations (message labels), their arguments and
 * replies, and one inline client helper per operation. Clients include <gpio/gpio.h>
 * and call the server through an endpoint capability (the slot is theirs to choose).
 *
 * Every reply's label is a status: GPIO_OK (0) or a negative GPIO_E_* code. These are
 * distinct from the kernel's ATL_E_* codes, which the helpers return when the call
 * itself fails (e.g. ATL_E_DEAD_PEER when the server was restarted). */
#ifndef GPIO_GPIO_H
#define GPIO_GPIO_H

#include <atoll/atoll.h>

/* operations, the request labels GPIO_CONFIGURE, GPIO_WRITE, GPIO_TOGGLE, GPIO_READ and
 * GPIO_WAIT_EDGE: generated from gpio.idl.toml (interface << 16 | method) */
#include <idl/gpio.h>

#define GPIO_INPUT 0u
#define GPIO_OUTPUT 1u

#define GPIO_EDGE_RISING 1u
#define GPIO_EDGE_FALLING 2u
#define GPIO_EDGE_ANY 3u

/* statuses: the reply label */
#define GPIO_OK 0
#define GPIO_E_BAD_PIN (-100)        /* no such pin on this board */
#define GPIO_E_BAD_ARGUMENT (-101)   /* a direction or edge value out of range */
#define GPIO_E_BUSY (-102)           /* another client waits for an edge on this pin */
#define GPIO_E_BAD_OPERATION (-103)  /* an unknown label */

/* One call: the kernel's status if the call failed, else the server's; *out gets mr0. */
static inline int gpio__call(uint32_t slot, uint32_t op, uint32_t a, uint32_t b, uint32_t *out)
{
    struct atl_msg req = {.label = op, .mr = {a, b, 0, 0}}, rep = {0};
    int r = atl_call(slot, &req, NULL, &rep);
    if (r != ATL_OK)
        return r;
    if (out)
        *out = rep.mr[0];
    return (int)rep.label;
}

static inline int gpio_configure(uint32_t slot, uint32_t pin, uint32_t direction)
{
    return gpio__call(slot, GPIO_CONFIGURE, pin, direction, NULL);
}

static inline int gpio_write(uint32_t slot, uint32_t pin, uint32_t level)
{
    return gpio__call(slot, GPIO_WRITE, pin, level, NULL);
}

static inline int gpio_toggle(uint32_t slot, uint32_t pin)
{
    return gpio__call(slot, GPIO_TOGGLE, pin, 0, NULL);
}

static inline int gpio_read(uint32_t slot, uint32_t pin, uint32_t *level)
{
    return gpio__call(slot, GPIO_READ, pin, 0, level);
}

/* Blocks until the pin sees one of the edges; needs the pin's interrupt routed to the server. */
static inline int gpio_wait_edge(uint32_t slot, uint32_t pin, uint32_t edges, uint32_t *level)
{
    return gpio__call(slot, GPIO_WAIT_EDGE, pin, edges, level);
}

#endif /* GPIO_GPIO_H */
