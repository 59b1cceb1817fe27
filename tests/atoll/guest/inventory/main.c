/* inventory: data for the debugger's expression tests. Globals of nested structs,
 * arrays, pointers, enums, a union and bit fields; `restock` changes them one step
 * at a time and is called from `main` in a loop that ends after ROUNDS rounds. */
#include <atoll/atoll.h>
#include <stdint.h>

#define ROUNDS 5

enum shelf_state { SHELF_EMPTY, SHELF_LOW, SHELF_FULL = 7 };

struct position {
    int16_t aisle;
    uint8_t bay;
};

struct item {
    char name[8];
    uint32_t count;
    struct position where;
    enum shelf_state state;
    unsigned fragile : 1;
    unsigned grade : 3;
};

union word {
    uint32_t value;
    uint8_t bytes[4];
};

struct store {
    const char *label;
    struct item items[3];
    struct item *featured;
    int32_t deltas[4];
    union word tag;
};

struct store shop = {
    .label = "corner shop",
    .items = {
        {"apple", 12, {3, 1}, SHELF_LOW, 0, 2},
        {"pear", 0, {-4, 2}, SHELF_EMPTY, 1, 5},
        {"plum", 40, {7, 9}, SHELF_FULL, 0, 7},
    },
    .deltas = {-1, 2, -3, 4},
    .tag = {0x11223344u},
};
static uint32_t rounds_done;
volatile uint32_t zeros[16];

__attribute__((noinline)) uint32_t restock(struct item *it, uint32_t amount)
{
    uint32_t before = it->count;
    it->count = before + amount;
    it->state = it->count > 20 ? SHELF_FULL : SHELF_LOW;
    rounds_done++;
    return it->count;
}

int main(void)
{
    shop.featured = &shop.items[2];
    for (uint32_t round = 0; round < ROUNDS; round++) {
        uint32_t total = restock(&shop.items[round % 3], round + 1);
        atl_printf("inventory: round %u total %u\n", (unsigned)round, (unsigned)total);
    }
    return 0;
}
