/* blinky: toggles an LED through the gpio server (slot 4) every 500 ms of virtual time.
 * Each sleep runs to the next absolute half-period deadline, so the time spent in the
 * call does not add up as drift. If the server was restarted (DEAD_PEER) or forgot the
 * pin, the pin is configured again and blinking goes on. */
#include <atoll/atoll.h>
#include <gpio/gpio.h>

#define GPIO_SLOT 4u
#define HALF_PERIOD_US 500000u

#if defined(__arm__)
#define LED_PIN 0u  /* mps2-an385: GPIO0 pin 0 */
#else
#define LED_PIN 19u /* hifive1: the green LED */
#endif

int main(void)
{
    int r = gpio_configure(GPIO_SLOT, LED_PIN, GPIO_OUTPUT);
    atl_printf("blinky: pin %u configured %d\n", (unsigned)LED_PIN, r);
    uint64_t next = atl_time_now_us();
    for (;;) {
        r = gpio_toggle(GPIO_SLOT, LED_PIN);
        if (r != GPIO_OK) {
            atl_printf("blinky: toggle %d, configuring again\n", r);
            gpio_configure(GPIO_SLOT, LED_PIN, GPIO_OUTPUT);
            gpio_toggle(GPIO_SLOT, LED_PIN);
        }
        next += HALF_PERIOD_US;
        uint64_t now = atl_time_now_us();
        if (next > now)
            atl_sleep_us((uint32_t)(next - now));
    }
}
