/* shell: a line-oriented command shell on UART0, through the uart server.
 *
 * Commands: help, echo TEXT, led on|off, uptime, ps, and lock status|unlock CODE|lock|
 * code OLD NEW (the door lock's keypad). Slots (given by the image): 2 = the uart server,
 * 4 = the gpio server, 5 = the lock server (optional: without it, lock answers "no lock").
 * The LED it drives is not blinky's: pin 1 on mps2-an385, pin 21 (the blue LED) on hifive1. */
#include <atoll/atoll.h>
#include <gpio/gpio.h>
#include <lock/lock.h>
#include <uart/uart.h>

#define UART_SLOT 2u
#define GPIO_SLOT 4u
#define LOCK_SLOT 5u
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
    static int failed;        /* reads failed in a row */
    size_t len = 0;
    for (;;) {
        if (next == have) {
            int n = uart_read(UART_SLOT, in, sizeof in);
            if (n < 0) {
                /* the uart server is restarting (DEAD_PEER once) or gone: give way to less
                 * urgent components instead of asking again in a tight loop */
                if (failed++)
                    atl_sleep_us(1000u);
            } else {
                failed = 0;
            }
            /* never trust the server's count beyond the buffer lent to it */
            have = n <= 0 ? 0 : (n > (int)sizeof in ? (int)sizeof in : n);
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

/* A code: 1 to 8 decimal digits ending at a space or the end of the text; advances *text. */
static int parse_code(const char **text, uint32_t *code)
{
    const char *s = *text;
    uint32_t value = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        value = value * 10u + (uint32_t)(*s - '0');
    if (digits == 0 || digits > 8 || (*s != ' ' && *s != '\0'))
        return 0;
    while (*s == ' ')
        s++;
    *text = s;
    *code = value;
    return 1;
}

static void lock_failed(int r)
{
    if (r == ATL_E_BAD_SLOT)
        out("no lock\r\n");
    else if (r == ATL_E_DENIED)
        out("lock: denied by the policy\r\n");
    else if (r == ATL_E_DEAD_PEER)
        out("lock: restarted, try again\r\n");
    else if (r == LOCK_E_WRONG_CODE)
        out("wrong code\r\n");
    else if (r == LOCK_E_LOCKED_OUT)
        out("locked out: too many wrong codes, try later\r\n");
    else if (r == LOCK_E_BAD_CODE)
        out("a code is 1 to 8 digits\r\n");
    else
        outf("lock: error %d\r\n", r);
}

static const char LOCK_USAGE[] = "usage: lock status|unlock CODE|lock|code OLD NEW\r\n";

/* lock status | lock unlock CODE | lock lock | lock code OLD NEW */
static void lock_command(const char *args)
{
    uint32_t code, new_code;
    int r;
    if (strcmp(args, "status") == 0) {
        struct lock_state st;
        r = lock_status(LOCK_SLOT, &st);
        if (r == LOCK_OK) {
            outf("door %s, %u wrong code(s) in a row", st.locked ? "locked" : "unlocked", (unsigned)st.failures);
            if (st.lockout_ms)
                outf(", locked out for %u ms", (unsigned)st.lockout_ms);
            out("\r\n");
            return;
        }
    } else if (strcmp(args, "lock") == 0) {
        r = lock_lock(LOCK_SLOT);
        if (r == LOCK_OK) {
            out("door locked\r\n");
            return;
        }
    } else if (strncmp(args, "unlock ", 7) == 0) {
        args += 7;
        if (!parse_code(&args, &code) || *args != '\0') {
            out(LOCK_USAGE);
            return;
        }
        r = lock_unlock(LOCK_SLOT, code);
        if (r == LOCK_OK) {
            out("door unlocked\r\n");
            return;
        }
    } else if (strncmp(args, "code ", 5) == 0) {
        args += 5;
        if (!parse_code(&args, &code) || !parse_code(&args, &new_code) || *args != '\0') {
            out(LOCK_USAGE);
            return;
        }
        r = lock_set_code(LOCK_SLOT, code, new_code);
        if (r == LOCK_OK) {
            out("code changed\r\n");
            return;
        }
    } else {
        out(LOCK_USAGE);
        return;
    }
    lock_failed(r);
}

static void run(char *line)
{
    if (strcmp(line, "help") == 0) {
        out("commands: help, echo TEXT, led on|off, uptime, ps, lock status|unlock CODE|lock|code OLD NEW\r\n");
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
    } else if (strncmp(line, "lock", 4) == 0 && (line[4] == ' ' || line[4] == '\0')) {
        lock_command(line[4] ? line + 5 : "");
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
