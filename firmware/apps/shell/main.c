/* shell: a line-oriented command shell on UART0, through the uart server.
 *
 * Commands: help, echo TEXT, led on|off, uptime, ps. Slots (given by the image):
 * 2 = the uart server, 4 = the gpio server. The LED it drives is not blinky's:
 * pin 1 on mps2-an385, pin 21 (the blue LED) on hifive1. */
#include <atoll/atoll.h>
#include <gpio/gpio.h>
#include <uart/uart.h>

#define UART_SLOT 2u
#define GPIO_SLOT 4u
#if defined(__arm__)
#define LED_PIN 1u
#else
#define LED_PIN 21u
#endif

static void out(const char *text) { uart_write(UART_SLOT, text, strlen(text)); }

static void outf(const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    int n = atl_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (n > 0)
        uart_write(UART_SLOT, buf, (size_t)n);
}

/* Read one line (echoing what is typed); returns its length, without the end of line.
 * Bytes that arrived after the end of the line are kept for the next call, so
 * pasted or typed-ahead commands are not lost. */
static size_t read_line(char *line, size_t size)
{
    static char in[64];
    static int have, next, last_was_cr;
    size_t len = 0;
    for (;;) {
        if (next == have) {
            int n = uart_read(UART_SLOT, in, sizeof in);
            have = n > 0 ? n : 0;
            next = 0;
            continue;
        }
        char c = in[next++];
        if (c == '\n' && last_was_cr) {
            last_was_cr = 0;
            continue;
        }
        last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            out("\r\n");
            line[len] = '\0';
            return len;
        }
        if ((c == 0x7f || c == '\b') && len > 0) {
            len--;
            out("\b \b");
        } else if (c >= ' ' && len + 1 < size) {
            line[len++] = c;
            uart_write(UART_SLOT, &c, 1);
        }
    }
}

static const char *state_name(uint32_t state)
{
    static const char *const names[] = {"ready", "running", "sending", "reply-wait",
                                        "receiving", "sleeping", "stopped", "exited"};
    return state < sizeof names / sizeof names[0] ? names[state] : "?";
}

static void ps(void)
{
    out("  #  component     prio  state        gen  faults\r\n");
    for (uint32_t i = 1;; i++) {
        char name[16] = {0};
        struct atl_component_info info;
        if (atl_component_info(i, name, sizeof name - 1, &info) != ATL_OK)
            break;
        outf("%3u  %-12s  %4u  %-11s  %3u  %6u\r\n", (unsigned)i, name, (unsigned)info.priority,
             state_name(info.state), (unsigned)info.generation, (unsigned)info.faults);
    }
}

static void run(char *line)
{
    if (strcmp(line, "help") == 0) {
        out("commands: help, echo TEXT, led on|off, uptime, ps\r\n");
    } else if (strncmp(line, "echo", 4) == 0 && (line[4] == ' ' || line[4] == '\0')) {
        outf("%s\r\n", line[4] ? line + 5 : "");
    } else if (strcmp(line, "led on") == 0 || strcmp(line, "led off") == 0) {
        int r = gpio_write(GPIO_SLOT, LED_PIN, line[5] == 'n');
        if (r == GPIO_OK)
            outf("led %s\r\n", line + 4);
        else
            outf("led: gpio error %d\r\n", r);
    } else if (strcmp(line, "uptime") == 0) {
        uint64_t us = atl_time_now_us();
        outf("up %u.%06u s\r\n", (unsigned)(us / 1000000u), (unsigned)(us % 1000000u));
    } else if (strcmp(line, "ps") == 0) {
        ps();
    } else if (line[0] != '\0') {
        outf("unknown command: %s (try help)\r\n", line);
    }
}

int main(void)
{
    char line[96];
    gpio_configure(GPIO_SLOT, LED_PIN, GPIO_OUTPUT);
    out("Atoll shell ready; type help\r\n");
    for (;;) {
        out("atoll> ");
        read_line(line, sizeof line);
        run(line);
    }
}
