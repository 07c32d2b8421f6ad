/* groups.c: getgroups as Linux: the supplementary groups the program
 * started with (the sandbox takes them from its host process), size 0 asks
 * for the count, a smaller size or a negative one is EINVAL, and the list is
 * copied only when it fits. */
#include "guest.h"

#include <stdint.h>

int main(void)
{
    uint32_t g[70000];
    long n = sc(SYS_getgroups, 0, 0);
    check(n >= 0, "getgroups(0, NULL) gives the count");
    long r = sc(SYS_getgroups, sizeof g / sizeof g[0], g);
    check_ret(r, n, "getgroups(big) gives the count");
    out("groups: %ld:", n);
    for (long i = 0; i < r && i < 64; i++)
        out(" %u", g[i]);
    out("\n");
    /* Exactly the count fits. */
    if (n > 0) {
        uint32_t h[70000];
        memset(h, 0xff, sizeof h);
        check_ret(sc(SYS_getgroups, n, h), n, "getgroups(count)");
        check(memcmp(g, h, (size_t)n * sizeof g[0]) == 0 && h[n] == 0xffffffffu,
              "getgroups(count) writes exactly the list");
        check_err(sc(SYS_getgroups, n - 1, h), EINVAL, "getgroups(count - 1)");
        check_err(sc(SYS_getgroups, n, BADPTR), EFAULT, "getgroups(count, bad pointer)");
        check_err(sc(SYS_getgroups, n, KPTR), EFAULT, "getgroups(count, kernel pointer)");
    } else {
        /* No groups: nothing to copy, so no pointer is looked at. */
        check_ret(sc(SYS_getgroups, 1, BADPTR), 0, "getgroups(1, bad pointer) with none");
    }
    check_ret(sc(SYS_getgroups, 0, BADPTR), n, "getgroups(0, bad pointer) is only the count");
    check_err(sc(SYS_getgroups, -1, g), EINVAL, "getgroups(-1)");
    check_err(sc(SYS_getgroups, (1L << 32) | 0x80000000L, g), EINVAL,
              "getgroups(INT_MIN | 1 << 32)");
    /* The size is an int: the upper half of the register does not count. */
    check_ret(sc(SYS_getgroups, 1L << 32, BADPTR), n, "getgroups(1 << 32) is getgroups(0)");
    return finish();
}
