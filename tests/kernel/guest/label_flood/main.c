/* CALLs the endpoint in slot 1 for ever, each time with a label it never used before (the
 * policy denies them all), as a component hunting for methods would. */
#include <atoll/atoll.h>

int main(void)
{
    for (uint32_t label = 1;; label++) {
        struct atl_msg req = {.label = label}, rep = {0};
        atl_call(1, &req, NULL, &rep);
    }
}
