/* mm_advice.c: memory locking (mlock, mlock2, munlock, mlockall,
 * munlockall, MAP_LOCKED, VmLck in /proc/self/status), mincore, and the
 * page-cache advice calls readahead, fadvise64 and sync_file_range, with
 * Linux's argument checks. The guest runs as root, so it has CAP_IPC_LOCK
 * and RLIMIT_MEMLOCK does not bind it. */
#include "fs_util.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PG 4096UL
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef O_PATH
#define O_PATH 010000000
#endif
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

static long map(long hint, unsigned long len, int prot, int flags)
{
    return sc(SYS_mmap, hint, len, prot, flags, -1, 0);
}

static int is_err(long r)
{
    return r < 0 && r >= -4095;
}

static char buf[65536];

/* VmLck of /proc/self/status in kB, or -1. */
static long vmlck(void)
{
    if (slurp("/proc/self/status") < 0)
        return -1;
    char *l = strstr(g_file, "\nVmLck:");
    return l ? strtol(l + 7, NULL, 10) : -1;
}

/* kB of the mappings mlockall can lock: all but the vDSO, vvar pages and
 * vsyscall (Linux's VM_SPECIAL mappings, which it never locks). */
static long lockable_kb(void)
{
    if (slurp("/proc/self/maps") < 0)
        return -1;
    long total = 0;
    for (char *l = g_file; *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = 0;
        if (!strstr(l, "[vdso]") && !strstr(l, "[vvar") && !strstr(l, "[vsyscall]")) {
            unsigned long s = strtoul(l, NULL, 16), e = strtoul(strchr(l, '-') + 1, NULL, 16);
            total += (long)((e - s) / 1024);
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return total;
}

/* The residency bytes of n pages at p as a string of 0s and 1s. */
static const char *resident(long p, unsigned long n)
{
    static unsigned char vec[64];
    static char s[65];
    long r = sc(SYS_mincore, p, n * PG, vec);
    if (r < 0)
        return ret_name(r);
    for (unsigned long i = 0; i < n; i++)
        s[i] = (char)('0' + (vec[i] & 1));
    s[n] = 0;
    return s;
}

/* With CAP_IPC_LOCK (root): RLIMIT_MEMLOCK binds neither mlock nor
 * mlockall(MCL_CURRENT), which locks every mapping. (Only here: without
 * the capability mlockall(MCL_CURRENT) weighs the whole address space,
 * whose stack the sandbox maps at its full size.) */
static void test_mlock_root(long p)
{
    struct rlimit old, zero = { 0, 0 };
    sc(SYS_getrlimit, RLIMIT_MEMLOCK, &old);
    zero.rlim_max = old.rlim_max;
    check_ret(sc(SYS_setrlimit, RLIMIT_MEMLOCK, &zero), 0, "RLIMIT_MEMLOCK 0");
    check_ret(sc(SYS_mlock, p, 4 * PG), 0, "mlock with CAP_IPC_LOCK ignores it");
    check_ret(sc(SYS_munlock, p, 4 * PG), 0, "munlock");
    sc(SYS_setrlimit, RLIMIT_MEMLOCK, &old);

    check_ret(sc(SYS_mlockall, MCL_CURRENT), 0, "mlockall(MCL_CURRENT)");
    long lk = vmlck(), want = lockable_kb();
    check(lk == want, "VmLck is every mapping but vDSO and vvar%s", lk == want ? "" : " (differs)");
    check(strcmp(resident(p, 4), "1111") == 0, "mlockall faults pages in (%s)", resident(p, 4));
    long n = map(0, 2 * PG, RW, ANON);
    check(vmlck() == want, "a new mapping is not locked without MCL_FUTURE");
    sc(SYS_munmap, n, 2 * PG);
    check_ret(sc(SYS_munlockall), 0, "munlockall");
    check_ret(vmlck(), 0, "VmLck after munlockall");
}

/* Without CAP_IPC_LOCK (the test run as nobody): RLIMIT_MEMLOCK bounds
 * what is locked (ENOMEM for mlock, EAGAIN for new locked mappings), and
 * a limit of 0 forbids locking (EPERM). */
static void test_mlock_unprivileged(void)
{
    struct rlimit old, lim;
    sc(SYS_getrlimit, RLIMIT_MEMLOCK, &old);
    lim.rlim_cur = 6 * PG;
    lim.rlim_max = old.rlim_max;
    check_ret(sc(SYS_setrlimit, RLIMIT_MEMLOCK, &lim), 0, "RLIMIT_MEMLOCK of 6 pages");
    long q = map(0, 8 * PG, RW, ANON);
    check_ret(sc(SYS_mlock, q, 4 * PG), 0, "mlock of 4 pages");
    check_err(sc(SYS_mlock, q + 4 * PG, 3 * PG), ENOMEM, "mlock of 3 more");
    check_ret(vmlck(), 16, "VmLck unchanged");
    check_ret(sc(SYS_mlock, q, 6 * PG), 0, "mlock of 6 pages, 4 of them locked already");
    check_err(sc(SYS_mlock2, q, 7 * PG, MLOCK_ONFAULT), ENOMEM, "mlock2 of 7");
    check_err(map(0, PG, RW, ANON | MAP_LOCKED), EAGAIN, "mmap MAP_LOCKED beyond the limit");
    check_err(sc(SYS_mremap, q, 6 * PG, 7 * PG, MREMAP_MAYMOVE), EAGAIN,
              "mremap growing a locked mapping beyond it");
    check_ret(sc(SYS_munlock, q, 2 * PG), 0, "munlock of 2 pages");
    long l = map(0, 2 * PG, RW, ANON | MAP_LOCKED);
    check(!is_err(l), "then mmap MAP_LOCKED of 2 pages");
    sc(SYS_munmap, l, 2 * PG);
    check_ret(sc(SYS_mlockall, MCL_FUTURE), 0, "mlockall(MCL_FUTURE)");
    check_err(map(0, 4 * PG, RW, ANON), EAGAIN, "a new mapping beyond the limit");
    long cur = sc(SYS_brk, 0);
    check(sc(SYS_brk, cur + 4 * PG) == cur, "brk beyond the limit returns the old break");
    check_ret(sc(SYS_munlockall), 0, "munlockall");
    check_ret(vmlck(), 0, "VmLck 0");

    lim.rlim_cur = 0;
    check_ret(sc(SYS_setrlimit, RLIMIT_MEMLOCK, &lim), 0, "RLIMIT_MEMLOCK 0");
    check_err(sc(SYS_mlock, q, PG), EPERM, "mlock");
    check_err(sc(SYS_mlock2, q, PG, 0), EPERM, "mlock2");
    check_err(sc(SYS_mlock2, q, PG, 2), EINVAL, "mlock2 with an unknown flag");
    check_err(sc(SYS_mlockall, MCL_CURRENT), EPERM, "mlockall");
    check_err(map(0, PG, RW, ANON | MAP_LOCKED), EPERM, "mmap MAP_LOCKED");
    check_ret(sc(SYS_munlock, q, PG), 0, "munlock is always allowed");
    check_ret(sc(SYS_munlockall), 0, "munlockall too");
    sc(SYS_setrlimit, RLIMIT_MEMLOCK, &old);
    sc(SYS_munmap, q, 8 * PG);
}

static void test_mlock(void)
{
    check_ret(vmlck(), 0, "VmLck at start");
    long p = map(0, 8 * PG, RW, ANON);
    sc(SYS_munmap, p + 4 * PG, PG);

    check_err(sc(SYS_mlock2, p, PG, 2), EINVAL, "mlock2 with an unknown flag");
    check_err(sc(SYS_mlock, p + 4 * PG, PG), ENOMEM, "mlock of an unmapped page");
    check_err(sc(SYS_mlock, p + 3 * PG, 2 * PG), ENOMEM, "mlock over a gap");
    check_err(sc(SYS_mlock, KPTR, PG), ENOMEM, "mlock of a kernel address");
    check_ret(sc(SYS_mlock, p, 0), 0, "mlock of 0 bytes");
    check_ret(vmlck(), 4, "VmLck after mlock over a gap: the page before it stays locked");
    check_ret(sc(SYS_munlock, p, 8 * PG), 0 - ENOMEM, "munlock over the gap");
    check_ret(vmlck(), 0, "VmLck after munlock");

    check_ret(sc(SYS_mlock, p + 100, 2 * PG), 0, "mlock of an unaligned range");
    check_ret(vmlck(), 12, "it locks every page it touches");
    check(strcmp(resident(p, 4), "1110") == 0, "mlocked pages are resident (%s)", resident(p, 4));
    check_ret(sc(SYS_mlock, p, 2 * PG), 0, "mlock of locked pages again");
    check_ret(vmlck(), 12, "counts them once");
    check_ret(sc(SYS_munlock, p + PG, PG), 0, "munlock of the middle page");
    check_ret(vmlck(), 8, "VmLck after munlock of one page");
    check_ret(sc(SYS_munlock, p, 4 * PG), 0, "munlock of all");
    check_ret(vmlck(), 0, "VmLck back to 0");

    long q = map(0, 4 * PG, RW, ANON);
    check_ret(sc(SYS_mlock2, q, 4 * PG, MLOCK_ONFAULT), 0, "mlock2 MLOCK_ONFAULT");
    check_ret(vmlck(), 16, "MLOCK_ONFAULT pages count as locked");
    check(strcmp(resident(q, 4), "0000") == 0, "but are not faulted in (%s)", resident(q, 4));
    ((char *)q)[2 * PG] = 1;
    check(strcmp(resident(q, 4), "0010") == 0, "until touched (%s)", resident(q, 4));
    check_ret(sc(SYS_mlock, q, 4 * PG), 0, "mlock over MLOCK_ONFAULT");
    check(strcmp(resident(q, 4), "1111") == 0, "faults every page in (%s)", resident(q, 4));
    /* mremap keeps the lock: the new pages count too. */
    long m = sc(SYS_mremap, q, 4 * PG, 6 * PG, MREMAP_MAYMOVE);
    check(!is_err(m), "mremap of a locked mapping");
    check_ret(vmlck(), 24, "VmLck after growing it");
    sc(SYS_munmap, m, 6 * PG);
    check_ret(vmlck(), 0, "munmap drops the lock");

    long l = map(0, 3 * PG, RW, ANON | MAP_LOCKED);
    check(!is_err(l), "mmap MAP_LOCKED");
    check_ret(vmlck(), 12, "MAP_LOCKED counts in VmLck");
    check(strcmp(resident(l, 3), "111") == 0, "and is faulted in (%s)", resident(l, 3));
    sc(SYS_munmap, l, 3 * PG);

    check_err(sc(SYS_mlockall, 0), EINVAL, "mlockall(0)");
    check_err(sc(SYS_mlockall, MCL_ONFAULT), EINVAL, "mlockall(MCL_ONFAULT)");
    check_err(sc(SYS_mlockall, 8), EINVAL, "mlockall with an unknown flag");
    if (sc(SYS_geteuid) == 0)
        test_mlock_root(p);
    else
        test_mlock_unprivileged();
    check_ret(sc(SYS_mlockall, MCL_FUTURE), 0, "mlockall(MCL_FUTURE)");
    check_ret(vmlck(), 0, "locks nothing yet");
    long n = map(0, 2 * PG, RW, ANON);
    check_ret(vmlck(), 8, "a new mapping is locked");
    check(strcmp(resident(n, 2), "11") == 0, "and faulted in (%s)", resident(n, 2));
    sc(SYS_munmap, n, 2 * PG);
    check_ret(sc(SYS_mlockall, MCL_FUTURE | MCL_ONFAULT), 0, "mlockall(MCL_FUTURE | MCL_ONFAULT)");
    n = map(0, 2 * PG, RW, ANON);
    check_ret(vmlck(), 8, "a new mapping is locked");
    check(strcmp(resident(n, 2), "00") == 0, "but not faulted in (%s)", resident(n, 2));
    sc(SYS_munmap, n, 2 * PG);
    check_ret(sc(SYS_munlockall), 0, "munlockall");
    n = map(0, 2 * PG, RW, ANON);
    check_ret(vmlck(), 0, "then new mappings are not locked");
    sc(SYS_munmap, n, 2 * PG);
    sc(SYS_munmap, p, 8 * PG);
}

static void test_mincore(void)
{
    unsigned char vec[8];
    long p = map(0, 4 * PG, RW, ANON);
    check(strcmp(resident(p, 4), "0000") == 0, "fresh anonymous pages are not resident (%s)",
          resident(p, 4));
    ((char *)p)[PG] = 1;
    ((char *)p)[3 * PG] = 1;
    check(strcmp(resident(p, 4), "0101") == 0, "touched pages are (%s)", resident(p, 4));
    sc(SYS_madvise, p + PG, PG, MADV_DONTNEED);
    check(strcmp(resident(p, 4), "0001") == 0, "MADV_DONTNEED drops one (%s)", resident(p, 4));
    memset(vec, 0xee, sizeof vec);
    check_ret(sc(SYS_mincore, p + 2 * PG, PG + 1, vec), 0, "mincore of a length not page-aligned");
    check(vec[0] == 0 && vec[1] == 1 && vec[2] == 0xee, "fills one byte per page touched");
    check_ret(sc(SYS_mincore, p, 0, vec), 0, "mincore of 0 bytes");
    check_err(sc(SYS_mincore, p + 1, PG, vec), EINVAL, "mincore of an unaligned start");
    check_err(sc(SYS_mincore, p, PG, BADPTR), EFAULT, "mincore with a bad vector");
    check_err(sc(SYS_mincore, KPTR, PG, vec), ENOMEM, "mincore of a kernel address");
    sc(SYS_munmap, p + 2 * PG, PG);
    check_err(sc(SYS_mincore, p + 2 * PG, PG, vec), ENOMEM, "mincore of an unmapped page");
    memset(vec, 0xee, sizeof vec);
    check_err(sc(SYS_mincore, p, 4 * PG, vec), ENOMEM, "mincore over a gap");
    check(vec[0] == 0 && vec[1] == 0 && vec[2] == 0xee, "fills the bytes before the gap");
    sc(SYS_munmap, p, 4 * PG);

    /* A file's pages in the page cache are resident in a mapping of it
     * before the mapping touches them. */
    int fd = (int)sc(SYS_open, "mincore.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    memset(buf, 'x', 2 * PG);
    sc(SYS_write, fd, buf, 2 * PG);
    long f = sc(SYS_mmap, 0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    check(strcmp(resident(f, 2), "11") == 0,
          "a file's cached pages are resident in its mapping (%s)", resident(f, 2));
    sc(SYS_munmap, f, 2 * PG);
    sc(SYS_close, fd);
    sc(SYS_unlink, "mincore.dat");
}

static void test_file_advice(void)
{
    int fd = (int)sc(SYS_open, "advice.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    memset(buf, 'y', 3 * PG);
    sc(SYS_write, fd, buf, 3 * PG);
    int wo = (int)sc(SYS_open, "advice.dat", O_WRONLY);
    int path = (int)sc(SYS_open, "advice.dat", O_PATH);
    int dir = (int)sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    int null = (int)sc(SYS_open, "/dev/null", O_RDWR);
    int pfd[2];
    sc(SYS_pipe, pfd);
    int mfd = (int)sc(SYS_memfd_create, "advice", 0);
    sc(SYS_write, mfd, buf, 2 * PG);

    for (int adv = 0; adv <= 5; adv++) {
        check_ret(sc(SYS_fadvise64, fd, 0, 0, adv), 0, "fadvise64 of a file");
    }
    check_ret(sc(SYS_fadvise64, fd, PG, 2 * PG, POSIX_FADV_DONTNEED), 0,
              "fadvise64 DONTNEED of a range");
    check_err(sc(SYS_fadvise64, fd, 0, 0, 6), EINVAL, "fadvise64 with unknown advice");
    check_err(sc(SYS_fadvise64, fd, 0, 0, -1), EINVAL, "fadvise64 with advice -1");
    check_err(sc(SYS_fadvise64, fd, 0, -1, 0), EINVAL, "fadvise64 with a negative length");
    check_ret(sc(SYS_fadvise64, fd, -PG, PG, POSIX_FADV_WILLNEED), 0,
              "fadvise64 at a negative offset");
    check_ret(sc(SYS_fadvise64, wo, 0, 0, POSIX_FADV_WILLNEED), 0,
              "fadvise64 of a write-only file");
    check_ret(sc(SYS_fadvise64, dir, 0, 0, POSIX_FADV_WILLNEED), 0, "fadvise64 of a directory");
    check_ret(sc(SYS_fadvise64, null, 0, 0, POSIX_FADV_WILLNEED), 0, "fadvise64 of /dev/null");
    check_err(sc(SYS_fadvise64, null, 0, 0, 9), EINVAL,
              "fadvise64 of /dev/null with unknown advice");
    check_ret(sc(SYS_fadvise64, mfd, 0, 0, POSIX_FADV_DONTNEED), 0, "fadvise64 of a memfd");
    check_err(sc(SYS_fadvise64, pfd[0], 0, 0, POSIX_FADV_WILLNEED), ESPIPE, "fadvise64 of a pipe");
    check_err(sc(SYS_fadvise64, pfd[1], 0, 0, 9), ESPIPE,
              "fadvise64 of a pipe with unknown advice");
    check_err(sc(SYS_fadvise64, path, 0, 0, 0), EBADF, "fadvise64 of an O_PATH descriptor");
    check_err(sc(SYS_fadvise64, -1, 0, 0, 0), EBADF, "fadvise64 of fd -1");
    check_err(sc(SYS_fadvise64, 999, 0, 0, 0), EBADF, "fadvise64 of a closed fd");

    check_ret(sc(SYS_readahead, fd, 0, 3 * PG), 0, "readahead of a file");
    check_ret(sc(SYS_readahead, fd, 100 * PG, PG), 0, "readahead past the end");
    check_ret(sc(SYS_readahead, fd, 0, 0), 0, "readahead of 0 bytes");
    check_ret(sc(SYS_readahead, fd, -PG, PG), 0, "readahead at a negative offset");
    check_err(sc(SYS_readahead, fd, 0, -1L), EINVAL, "readahead of a negative count");
    check_ret(sc(SYS_readahead, mfd, 0, PG), 0, "readahead of a memfd");
    check_err(sc(SYS_readahead, wo, 0, PG), EBADF, "readahead of a write-only file");
    check_err(sc(SYS_readahead, path, 0, PG), EBADF, "readahead of an O_PATH descriptor");
    check_err(sc(SYS_readahead, -1, 0, PG), EBADF, "readahead of fd -1");
    check_err(sc(SYS_readahead, dir, 0, PG), EINVAL, "readahead of a directory");
    check_err(sc(SYS_readahead, null, 0, PG), EINVAL, "readahead of /dev/null");
    check_err(sc(SYS_readahead, pfd[0], 0, PG), EINVAL, "readahead of a pipe");

    unsigned all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    check_ret(sc(SYS_sync_file_range, fd, 0, 0, all), 0, "sync_file_range of a file");
    check_ret(sc(SYS_sync_file_range, fd, PG, PG, SYNC_FILE_RANGE_WRITE), 0,
              "sync_file_range WRITE");
    check_ret(sc(SYS_sync_file_range, fd, 0, 0, 0), 0, "sync_file_range with no flags");
    check_ret(sc(SYS_sync_file_range, wo, 0, 0, all), 0, "sync_file_range of a write-only file");
    check_ret(sc(SYS_sync_file_range, dir, 0, 0, all), 0, "sync_file_range of a directory");
    check_ret(sc(SYS_sync_file_range, mfd, 0, 0, all), 0, "sync_file_range of a memfd");
    check_err(sc(SYS_sync_file_range, fd, 0, 0, 8), EINVAL, "sync_file_range with an unknown flag");
    check_err(sc(SYS_sync_file_range, fd, -1, 0, 0), EINVAL,
              "sync_file_range at a negative offset");
    check_err(sc(SYS_sync_file_range, fd, 0, -1, 0), EINVAL,
              "sync_file_range of a negative length");
    check_err(sc(SYS_sync_file_range, fd, 0x7fffffffffff0000L, 0x20000, 0), EINVAL,
              "sync_file_range whose end overflows");
    check_err(sc(SYS_sync_file_range, pfd[0], 0, 0, 0), ESPIPE, "sync_file_range of a pipe");
    check_err(sc(SYS_sync_file_range, pfd[0], 0, 0, 8), EINVAL,
              "sync_file_range of a pipe with a bad flag");
    check_err(sc(SYS_sync_file_range, null, 0, 0, 0), ESPIPE, "sync_file_range of /dev/null");
    check_err(sc(SYS_sync_file_range, path, 0, 0, 0), EBADF,
              "sync_file_range of an O_PATH descriptor");
    check_err(sc(SYS_sync_file_range, -1, 0, 0, 0), EBADF, "sync_file_range of fd -1");

    int fds[] = { fd, wo, path, dir, null, pfd[0], pfd[1], mfd };
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++)
        sc(SYS_close, fds[i]);
    sc(SYS_unlink, "advice.dat");
}

int main(void)
{
    test_mlock();
    test_mincore();
    test_file_advice();
    return finish();
}
