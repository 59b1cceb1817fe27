/* bulb: a smart light bulb with a network link, for the smart-home attack demo.
 *
 * It owns UART1 (link.c) as its "network": packets are text lines (ON, OFF, DIM 0-100,
 * NAME <text>, DOOR, STATUS), each answered on the link with a line "OK ..." or "ERR ...".
 * The lamp is a GPIO pin driven through the gpio server (slot 4). Every POLL_US it asks
 * the lock (slot 5) for its status, its one legitimate use of the lock, and shows the
 * door on its porch LED (on while the door is unlocked).
 *
 * WARNING: the NAME parser has a deliberate memory-safety bug, kept for the attack demo
 * (README.md, docs/smart-home.md): it copies the name without checking its length, and
 * the name buffer sits right before the prepared request the bulb sends the lock. A long
 * enough NAME packet rewrites that request's label and registers, so a network attacker
 * chooses what the bulb asks the lock next. Do not copy this parser. */
#include <atoll/atoll.h>
#include <gpio/gpio.h>
#include <lock/lock.h>

#include "link.h"

#define GPIO_SLOT 4u
#define LOCK_SLOT 5u
#define LINK_BIT 1u  /* UART1's receive interrupt, routed by the image */
#define TIMER_BIT 2u /* the door poll */
#define POLL_US 250000u
#define LINE_MAX 64u /* a packet, with its end of line */

#if defined(__arm__)
#define LAMP_PIN 2u  /* mps2-an385: GPIO0 pins 2 and 3 */
#define PORCH_PIN 3u
#else
#define LAMP_PIN 22u /* hifive1: the red LED, and pin 23 */
#define PORCH_PIN 23u
#endif

/* The bulb's state. Its name comes right before the request it sends the lock, prepared
 * once at build time and reused for every poll. */
static struct {
    char name[16];
    struct atl_msg door_query; /* {LOCK_STATUS}: no arguments */
    struct atl_msg door_reply;
} bulb = {.name = "bulb", .door_query = {.label = LOCK_STATUS}};

static uint32_t brightness; /* percent */
static int door = -1;       /* 1 locked, 0 unlocked, -1 not known yet */
static int door_error;      /* the last failed query's status, so each failure is logged once */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = atl_vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 3)
        n = (int)sizeof buf - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    link_write(buf, (size_t)n);
}

static void pin(uint32_t number, uint32_t level)
{
    if (gpio_write(GPIO_SLOT, number, level) == ATL_E_DEAD_PEER) { /* gpio restarted: set up again */
        gpio_configure(GPIO_SLOT, LAMP_PIN, GPIO_OUTPUT);
        gpio_configure(GPIO_SLOT, PORCH_PIN, GPIO_OUTPUT);
        gpio_write(GPIO_SLOT, number, level);
    }
}

static void set_brightness(uint32_t percent)
{
    brightness = percent;
    pin(LAMP_PIN, percent > 0);
    atl_printf("bulb: light %s (%u%%)\n", percent ? "on" : "off", (unsigned)percent);
}

/* Ask the lock; returns 1 locked, 0 unlocked, or the failure's status. */
static int query_door(void)
{
    int r = atl_call(LOCK_SLOT, &bulb.door_query, NULL, &bulb.door_reply);
    if (r == ATL_E_DEAD_PEER) /* the lock was restarted: once more */
        r = atl_call(LOCK_SLOT, &bulb.door_query, NULL, &bulb.door_reply);
    if (r == ATL_OK)
        r = (int)(int32_t)bulb.door_reply.label;
    if (r != LOCK_OK) {
        if (r != door_error)
            atl_printf("bulb: door query failed %d\n", r);
        door_error = r;
        return r;
    }
    door_error = 0;
    int locked = bulb.door_reply.mr[0] != 0;
    if (locked != door) {
        pin(PORCH_PIN, !locked);
        atl_printf("bulb: door %s, porch light %s\n", locked ? "locked" : "unlocked", locked ? "off" : "on");
    }
    door = locked;
    return locked;
}

static int is(const char *line, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(line, word, len) == 0;
}

/* A decimal number from 0 to max filling the whole of text[0..len), or -1. */
static int number(const char *text, size_t len, int max)
{
    int value = 0;
    if (len == 0 || len > 3)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value <= max ? value : -1;
}

/* One packet: a line of len bytes (any bytes but the end of line). */
static void packet(const char *line, size_t len)
{
    if (is(line, len, "ON")) {
        set_brightness(100);
        say("OK ON 100");
    } else if (is(line, len, "OFF")) {
        set_brightness(0);
        say("OK OFF");
    } else if (len > 4 && memcmp(line, "DIM ", 4) == 0) {
        int percent = number(line + 4, len - 4, 100);
        if (percent < 0) {
            say("ERR DIM takes 0 to 100");
            return;
        }
        set_brightness((uint32_t)percent);
        say("OK DIM %d", percent);
    } else if (len > 5 && memcmp(line, "NAME ", 5) == 0) {
        size_t n = len - 5;
        memcpy(bulb.name, line + 5, n); /* THE BUG (deliberate): n is never checked against sizeof bulb.name */
        bulb.name[n] = '\0';
        atl_printf("bulb: renamed (%u bytes)\n", (unsigned)n);
        say("OK NAME");
    } else if (is(line, len, "DOOR")) {
        int r = query_door();
        if (r < 0)
            say("ERR DOOR %d", r);
        else
            say("OK DOOR %s", r ? "LOCKED" : "UNLOCKED");
    } else if (is(line, len, "STATUS")) {
        say("OK STATUS %s %u DOOR %s", brightness ? "ON" : "OFF", (unsigned)brightness,
            door < 0 ? "UNKNOWN" : door ? "LOCKED" : "UNLOCKED");
    } else if (len > 0) {
        say("ERR UNKNOWN");
    }
}

/* Assemble lines from the link's received bytes and handle each. A line ends with \n
 * (a \r before it is dropped); a line longer than LINE_MAX - 1 bytes is refused whole. */
static void packets(void)
{
    static char line[LINE_MAX];
    static size_t len;
    static int overlong;
    int c;
    while ((c = link_getc()) >= 0) {
        if (c == '\n') {
            if (overlong) {
                say("ERR TOO LONG");
            } else {
                if (len && line[len - 1] == '\r')
                    len--;
                line[len] = '\0';
                packet(line, len);
            }
            len = 0;
            overlong = 0;
        } else if (len < LINE_MAX - 1) {
            line[len++] = (char)c;
        } else {
            overlong = 1;
        }
    }
}

int main(void)
{
    link_init();
    gpio_configure(GPIO_SLOT, LAMP_PIN, GPIO_OUTPUT);
    gpio_configure(GPIO_SLOT, PORCH_PIN, GPIO_OUTPUT);
    gpio_write(GPIO_SLOT, LAMP_PIN, 0);
    atl_printf("bulb: ready on uart1, lamp pin %u, porch pin %u\n", (unsigned)LAMP_PIN, (unsigned)PORCH_PIN);
    query_door();
    uint64_t next = atl_time_now_us() + POLL_US;
    atl_timer_set(next, TIMER_BIT);
    for (;;) {
        uint32_t bits = 0;
        if (atl_wait(LINK_BIT | TIMER_BIT, &bits) != ATL_OK)
            continue;
        if (bits & LINK_BIT) {
            link_interrupt();
            atl_irq_ack(LINK_BIT);
        }
        packets();
        if (bits & TIMER_BIT) {
            query_door();
            uint64_t now = atl_time_now_us();
            next += POLL_US;
            if (next <= now)
                next = now + POLL_US;
            atl_timer_set(next, TIMER_BIT);
        }
    }
}
