/* creds_groups.c: setgroups as Linux: CAP_SETGID first (EPERM), then the
 * size (at most NGROUPS_MAX, 65536), then the list (a fault EFAULT, a gid
 * of -1 EINVAL, whichever comes first); the list is kept sorted, with its
 * duplicates, and getgroups and /proc/self/status show it. As an
 * unprivileged user, every setgroups is EPERM. */
#include "creds_util.h"

static unsigned g[65537];

static void show(const char *what)
{
    long n = sc(SYS_getgroups, 65536, g);
    out("%s: %ld:", what, n);
    for (long i = 0; i < n && i < 8; i++)
        out(" %u", g[i]);
    out("\n");
    char line[256];
    if (slurp("/proc/self/status") >= 0 && find_line("Groups:", line, sizeof line))
        out("%s\n", n <= 8 ? line : "Groups: (long)");
}

int main(void)
{
    unsigned saved[256];
    long n0 = sc(SYS_getgroups, 256, saved);
    check(n0 >= 0, "getgroups");
    if (!privileged()) {
        out("not root: the unprivileged rules\n");
        check_err(sc(SYS_setgroups, 0, NULL), EPERM, "setgroups(0, NULL)");
        check_err(sc(SYS_setgroups, -1, NULL), EPERM, "setgroups(-1): EPERM first");
        check_err(sc(SYS_setgroups, 1, BADPTR), EPERM, "setgroups(1, bad): EPERM first");
        return finish();
    }
    unsigned l[] = { 30, 10, 20, 10 };
    check_ret(sc(SYS_setgroups, 4, l), 0, "setgroups(30 10 20 10)");
    show("sorted with duplicates");
    check_ret(sc(SYS_setgroups, 0, BADPTR), 0, "setgroups(0, bad pointer): nothing read");
    show("empty");
    check_err(sc(SYS_setgroups, 65537, g), EINVAL, "setgroups(65537)");
    check_err(sc(SYS_setgroups, -1, g), EINVAL, "setgroups(-1)");
    check_err(sc(SYS_setgroups, (1L << 32) | 1, BADPTR), EFAULT,
              "setgroups(1 << 32 | 1): the size is an int");
    unsigned bad[] = { 5, (unsigned)-1 };
    check_err(sc(SYS_setgroups, 2, bad), EINVAL, "setgroups(5, -1)");
    check_err(sc(SYS_setgroups, 1, BADPTR), EFAULT, "setgroups(1, bad pointer)");
    check_err(sc(SYS_setgroups, 1, KPTR), EFAULT, "setgroups(1, kernel pointer)");
    show("unchanged after the errors");
    /* -1 before a fault: EINVAL; a fault before -1: EFAULT. */
    unsigned *edge = (unsigned *)sc(SYS_mmap, 0, 8192, 3, 0x22, -1, 0);
    sc(SYS_munmap, (char *)edge + 4096, 4096);
    unsigned *tail = (unsigned *)((char *)edge + 4096) - 1;
    *tail = (unsigned)-1;
    check_err(sc(SYS_setgroups, 2, tail), EINVAL, "setgroups(-1, then unmapped)");
    *tail = 7;
    check_err(sc(SYS_setgroups, 2, tail), EFAULT, "setgroups(7, then unmapped)");
    check_ret(sc(SYS_setgroups, 1, tail), 0, "setgroups(7) at a page's end");
    show("one");
    for (unsigned i = 0; i < 65536; i++)
        g[i] = 65536 - i;
    check_ret(sc(SYS_setgroups, 65536, g), 0, "setgroups(65536 groups)");
    check_ret(sc(SYS_getgroups, 0, NULL), 65536, "getgroups(0) counts them");
    check_err(sc(SYS_getgroups, 65535, g), EINVAL, "getgroups(65535)");
    show("the most");
    check_ret(sc(SYS_setgroups, n0, saved), 0, "setgroups(the starting list)");
    return finish();
}
