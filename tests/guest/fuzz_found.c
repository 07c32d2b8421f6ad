/* fuzz_found.c: calls the syscall fuzzer (tests/fuzz/) once crashed the
 * sentry with, one function each. Where the sandbox's answer may
 * legitimately differ from Linux's (a feature it lacks), the check accepts
 * both and prints the same line; a sentry crash still shows as a different
 * status. The sanitizer build's fuzz suite is what catches UBSan reports. */
#include <fcntl.h>
#include <unistd.h>
#include <time.h>

#include "guest.h"

/* fsetxattr and fremovexattr on a memfd: its file has a dentry but no mount,
 * and the read-only check dereferenced the mount. */
static void memfd_xattr(void)
{
    long fd = sc(SYS_memfd_create, "x", 0);
    check_ret(fd >= 0, 1, "memfd_create");
    long r = sc(SYS_fsetxattr, fd, "user.fz", "v", 1, 0);
    check(r == 0 || r == -EOPNOTSUPP, "fsetxattr on a memfd: 0 or EOPNOTSUPP");
    r = sc(SYS_fremovexattr, fd, "user.nope");
    check(r == -ENODATA || r == -EOPNOTSUPP, "fremovexattr on a memfd: ENODATA or EOPNOTSUPP");
    sc(SYS_close, fd);
}

/* truncate and access(W_OK) through /proc/self/fd/N of a memfd: the path
 * has no mount either. */
static void memfd_by_path(void)
{
    long fd = sc(SYS_memfd_create, "y", 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
    check_ret(sc(SYS_truncate, path, 100), 0, "truncate /proc/self/fd/N of a memfd");
    check_ret(sc(SYS_access, path, W_OK), 0, "access W_OK /proc/self/fd/N of a memfd");
    check_ret(sc(SYS_faccessat2, AT_FDCWD, path, W_OK, AT_EACCESS), 0,
              "faccessat2 W_OK AT_EACCESS /proc/self/fd/N of a memfd");
    sc(SYS_close, fd);
}

/* The process CPU clock maps to the stub's clock id, computed with a left
 * shift of a negative number (undefined). */
static void cpu_clock(void)
{
    struct timespec ts;
    check_ret(sc(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &ts), 0,
              "clock_getres CLOCK_PROCESS_CPUTIME_ID");
    check_ret(sc(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts), 0,
              "clock_gettime CLOCK_PROCESS_CPUTIME_ID");
}

int main(void)
{
    memfd_xattr();
    memfd_by_path();
    cpu_clock();
    out("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
