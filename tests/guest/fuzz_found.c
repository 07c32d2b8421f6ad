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

/* copy_file_range within one file with an offset near the largest: the
 * overlap check overflowed. Linux answers EFBIG (the write limit comes
 * first); the sandbox checks the overlap first and says EINVAL. */
static void copy_range_far(void)
{
    long fd = sc(SYS_memfd_create, "z", 0);
    sc(SYS_write, fd, "hello world", 11);
    long long in = 0, outp = 0x7fffffffffffffffLL;
    long r = sc(SYS_copy_file_range, fd, &in, fd, &outp, 111, 0);
    check(r == -EFBIG || r == -EINVAL,
          "copy_file_range to offset LLONG_MAX of the same file: EFBIG or EINVAL");
    in = 0x7ffffffffffffff0LL;
    outp = 0x7ffffffffffffff8LL;
    r = sc(SYS_copy_file_range, fd, &in, fd, &outp, 111, 0);
    /* Linux: 0, nothing to copy past the end; the sandbox: EINVAL. */
    check(r == 0 || r == -EINVAL, "copy_file_range between offsets near LLONG_MAX: 0 or EINVAL");
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
    copy_range_far();
    cpu_clock();
    out("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
