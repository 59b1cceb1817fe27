/* A trap filter for the machine's contract tests: each syscall trap swaps two saved
 * contexts and answers the other one's address space, until `limit` swaps are done;
 * then traps go to Python. */
#include <stdint.h>

struct swap_filter {
    int (*save)(void *uc, void *context);
    int (*restore)(void *uc, void *context);
    void *context[2];
    int32_t space[2];
    uint32_t running;
    uint32_t intno;
    uint32_t swaps;
    uint32_t limit;
};

int32_t swap_filter(void *uc, uint32_t intno, void *data)
{
    struct swap_filter *f = (struct swap_filter *)data;
    if (intno != f->intno || f->swaps >= f->limit)
        return -1;
    f->save(uc, f->context[f->running]);
    f->running ^= 1;
    f->restore(uc, f->context[f->running]);
    f->swaps++;
    return f->space[f->running];
}
