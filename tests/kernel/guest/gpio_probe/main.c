/* A client of the gpio server (slot 4) for tests: bad requests, an output read back,
 * input pin 3 read three times 10 ms apart (the test drives it), then a rising and a
 * falling edge awaited on pin 5. Prints one line per answer. */
#include <atoll/atoll.h>
#include <gpio/gpio.h>

#define GPIO 4u

int main(void)
{
    uint32_t level = 9;
    atl_printf("probe: bad pin %d %d %d %d\n", gpio_configure(GPIO, 32, GPIO_OUTPUT), gpio_write(GPIO, 99, 1),
               gpio_toggle(GPIO, 32), gpio_read(GPIO, 0xFFFFFFFFu, &level));
    atl_printf("probe: bad direction %d\n", gpio_configure(GPIO, 3, 2));
    atl_printf("probe: bad edge %d\n", gpio_wait_edge(GPIO, 5, 0, &level));
    struct atl_msg req = {.label = 77}, rep = {0};
    int r = atl_call(GPIO, &req, NULL, &rep);
    atl_printf("probe: bad operation %d %d\n", r, (int)rep.label);

    int a = gpio_configure(GPIO, 6, GPIO_OUTPUT), b = gpio_write(GPIO, 6, 1), c = gpio_read(GPIO, 6, &level);
    atl_printf("probe: output 6 %d %d %d level %u\n", a, b, c, (unsigned)level);

    atl_printf("probe: input 3 %d\n", gpio_configure(GPIO, 3, GPIO_INPUT));
    for (int i = 0; i < 3; i++) {
        r = gpio_read(GPIO, 3, &level);
        atl_printf("probe: read 3 %d level %u\n", r, (unsigned)level);
        atl_sleep_us(10000u);
    }

    gpio_configure(GPIO, 5, GPIO_INPUT);
    r = gpio_wait_edge(GPIO, 5, GPIO_EDGE_RISING, &level);
    atl_printf("probe: rising 5 %d level %u at %u us\n", r, (unsigned)level, (unsigned)atl_time_now_us());
    r = gpio_wait_edge(GPIO, 5, GPIO_EDGE_FALLING, &level);
    atl_printf("probe: falling 5 %d level %u at %u us\n", r, (unsigned)level, (unsigned)atl_time_now_us());
    return 0;
}
