/* The native floor of the IPC benchmark: an interrupt hook in C that does what the Python
 * floor's hook does (save the running context, restore the other, flush the TLB), and
 * nothing else. */
#include <stdint.h>

struct floor_swap {
    int (*save)(void *uc, void *context);
    int (*restore)(void *uc, void *context);
    int (*ctl)(void *uc, int control, ...);
    void *context[2];
    uint32_t running;
    int32_t flush_code;
};

void floor_swap(void *uc, uint32_t intno, void *data)
{
    struct floor_swap *f = (struct floor_swap *)data;
    (void)intno;
    f->save(uc, f->context[f->running]);
    f->running ^= 1;
    f->restore(uc, f->context[f->running]);
    f->ctl(uc, f->flush_code);
}
