/* fs_mmap.c: file-backed mmap: do_mmap's errors in Linux's order, private
 * and shared mappings of host files (the working directory), tmpfs files
 * (/dev/shm) and memfds, coherence with read and write, offsets through
 * munmap/mprotect/mremap splits, mprotect's EACCES, msync, /dev/zero, and
 * the /proc/self/maps lines (offset, device, inode, path) of all of them. */
#include "fs_util.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

#define PG 4096L

static char g_cwd[1024];

/* The /proc/self/maps line of the mapping that starts at addr. */
static int maps_line(long addr, char *line, size_t size)
{
    if (slurp("/proc/self/maps") <= 0)
        return 0;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%08lx-", addr);
    return find_line(prefix, line, size);
}

/* The maps line of [addr, end) must show perms, the file offset, st's
 * device and inode, and name (NULL: no name). */
static void check_maps(const char *what, long addr, long end, const char *perms, long off,
                       const struct stat *st, const char *name)
{
    char line[1024], want[256];
    snprintf(want, sizeof want, "%08lx-%08lx %s %08lx %02x:%02x %lu ", addr, end, perms, off,
             st ? major(st->st_dev) : 0, st ? minor(st->st_dev) : 0,
             st ? (unsigned long)st->st_ino : 0UL);
    int found = maps_line(addr, line, sizeof line);
    int ok = found && strncmp(line, want, strlen(want)) == 0;
    if (ok) {
        const char *n = line + strlen(want);
        while (*n == ' ')
            n++;
        ok = strcmp(n, name ? name : "") == 0;
    }
    if (!check(ok, "%s: /proc/self/maps line", what))
        out("     got  '%s'\n     want '%s... %s'\n", found ? line : "(none)", want,
            name ? name : "");
}

static int make_file(const char *path, int pages)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char buf[PG];
    for (int i = 0; i < pages; i++) {
        memset(buf, 'a' + i, sizeof buf);
        if (write(fd, buf, sizeof buf) != (long)sizeof buf)
            return -1;
    }
    return fd;
}

static void test_errors(void)
{
    int fd = make_file("err", 2);
    check(fd >= 0, "create a 2-page file");
    int ro = open("err", O_RDONLY), wo = open("err", O_WRONLY);
    int ap = open("err", O_RDWR | O_APPEND), op = open("err", O_PATH);
    int pfd[2];
    check(pipe(pfd) == 0 && ro >= 0 && wo >= 0 && ap >= 0 && op >= 0, "open it every way");

    /* The offset is checked first, then the descriptor. */
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 99, 1), EINVAL,
              "unaligned offset, bad fd");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 99, 0), EBADF, "bad fd");
    check_err(sc(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE, 99, 0), EBADF, "bad fd, length 0");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF,
              "fd -1 without MAP_ANONYMOUS");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, op, 0), EBADF, "O_PATH fd");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, PG + 1), EINVAL, "unaligned offset");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, fd, 0), EINVAL,
              "MAP_HUGETLB on a regular file");
    check_err(sc(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL, "length 0");
    /* The range is chosen before the file is looked at. */
    check_err(sc(SYS_mmap, 0, 1L << 50, PROT_READ, MAP_PRIVATE, wo, 0), ENOMEM,
              "huge length on a write-only file");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0x7ffffffffffff000L), EOVERFLOW,
              "offset + length past the largest file offset");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES,
              "private, write-only file");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_SHARED, wo, 0), EACCES,
              "shared read-only, write-only file");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES,
              "shared writable, read-only file");
    check_err(sc(SYS_mmap, 0, PG, PROT_WRITE, MAP_SHARED_VALIDATE, ro, 0), EACCES,
              "MAP_SHARED_VALIDATE writable, read-only file");
    /* Unknown flags: refused by MAP_SHARED_VALIDATE (before the access
     * check), ignored by MAP_SHARED. Linux refuses MAP_FIXED_NOREPLACE there. */
    check_err(sc(SYS_mmap, 0, PG, PROT_WRITE, MAP_SHARED_VALIDATE | 0x400000, ro, 0), ENOTSUP,
              "MAP_SHARED_VALIDATE with an unknown flag");
    check_err(
        sc(SYS_mmap, 0x300000000L, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd, 0),
        ENOTSUP, "MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE");
    long p = sc(SYS_mmap, 0, PG, PROT_READ, MAP_SHARED | 0x400000, fd, 0);
    check(p > 0, "MAP_SHARED ignores an unknown flag");
    sc(SYS_munmap, p, PG);
    p = sc(SYS_mmap, 0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_STACK, fd, 0);
    check(p > 0, "MAP_SHARED_VALIDATE takes MAP_STACK");
    sc(SYS_munmap, p, PG);
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, 0, fd, 0), EINVAL, "no mapping type");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, 0x08, fd, 0), EINVAL, "mapping type 8");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, fd, 0), EINVAL,
              "MAP_GROWSDOWN on a file");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, pfd[0], 0), ENODEV, "a pipe");
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV, "a directory");
    /* Linux checks the inode's append-only attribute, not O_APPEND. */
    p = sc(SYS_mmap, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0);
    check(p > 0, "shared writable mapping of an O_APPEND file");
    sc(SYS_munmap, p, PG);
    /* Anonymous memory: the type is checked after the range too. */
    check_err(sc(SYS_mmap, 0, 1L << 50, PROT_READ, MAP_ANONYMOUS, -1, 0), ENOMEM,
              "anonymous, no type, huge length");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL, "anonymous, no type");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_ANONYMOUS | MAP_SHARED_VALIDATE, -1, 0), EINVAL,
              "anonymous MAP_SHARED_VALIDATE");
    close(dfd);
    close(pfd[0]);
    close(pfd[1]);
    close(op);
    close(ap);
    close(wo);
    close(ro);
    close(fd);
    unlink("err");
}

/* One page of PROT_READ mapping of path, opened with oflags and closed
 * again at once (the mapping outlives the descriptor); mmap's result. */
static char *map_reopened(const char *path, int oflags, int mflags, long off)
{
    int fd = open(path, oflags);
    char *p = (char *)sc(SYS_mmap, 0, PG, PROT_READ, mflags, fd, off);
    close(fd);
    return p;
}

/* Private and shared mappings of fd (a file of 4 pages 'a'..'d' that maps
 * show as path, opened again through /proc/self/fd), coherence with
 * pread/pwrite, offsets, splits, mprotect and msync. */
static void test_file(const char *what, int fd, const char *path)
{
    char again[64];
    snprintf(again, sizeof again, "/proc/self/fd/%d", fd);
    struct stat st;
    check(fstat(fd, &st) == 0, "%s: fstat", what);
    char buf[PG];

    /* Private: a copy-on-write view from the offset on. */
    char *pv = (char *)sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    check((long)pv > 0, "%s: private mapping at offset 4096", what);
    if ((long)pv <= 0)
        return;
    check(pv[0] == 'b' && pv[PG] == 'c', "%s: private mapping shows the file from the offset",
          what);
    check_maps(what, (long)pv, (long)pv + 2 * PG, "rw-p", PG, &st, path);
    pv[0] = 'X';
    check(pread(fd, buf, 1, PG) == 1 && buf[0] == 'b', "%s: a private write stays private", what);
    check_ret(sc(SYS_munmap, pv, 2 * PG), 0, "munmap the private mapping");

    /* Shared: both ways coherent with the file. */
    char *sv = (char *)sc(SYS_mmap, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check((long)sv > 0, "%s: shared mapping of 4 pages", what);
    if ((long)sv <= 0)
        return;
    check(sv[0] == 'a' && sv[3 * PG + 5] == 'd', "%s: shared mapping shows the file", what);
    check_maps(what, (long)sv, (long)sv + 4 * PG, "rw-s", 0, &st, path);
    sv[10] = 'Y';
    check(pread(fd, buf, 1, 10) == 1 && buf[0] == 'Y',
          "%s: a write through the mapping reaches the file", what);
    check(pwrite(fd, "Z", 1, 2 * PG + 7) == 1 && sv[2 * PG + 7] == 'Z',
          "%s: a write to the file shows in the mapping", what);
    check_ret(sc(SYS_msync, sv, 4 * PG, MS_SYNC), 0, "msync MS_SYNC");
    check_ret(sc(SYS_msync, sv + PG, 100, MS_ASYNC), 0, "msync MS_ASYNC, short length");
    check_ret(sc(SYS_msync, sv, PG, MS_INVALIDATE), 0, "msync MS_INVALIDATE");
    check_ret(sc(SYS_msync, sv, PG, 0), 0, "msync with no flags");

    /* Split it: protect the second page, unmap the third; the pieces keep
     * their offsets. */
    check_ret(sc(SYS_mprotect, sv + PG, PG, PROT_READ), 0, "mprotect the second page read-only");
    check_maps(what, (long)sv, (long)sv + PG, "rw-s", 0, &st, path);
    check_maps(what, (long)sv + PG, (long)sv + 2 * PG, "r--s", PG, &st, path);
    check_maps(what, (long)sv + 2 * PG, (long)sv + 4 * PG, "rw-s", 2 * PG, &st, path);
    check_ret(sc(SYS_mprotect, sv + PG, PG, PROT_READ | PROT_WRITE), 0, "and back");
    check_maps(what, (long)sv, (long)sv + 4 * PG, "rw-s", 0, &st, path);
    check_ret(sc(SYS_munmap, sv + 2 * PG, PG), 0, "munmap the third page");
    check_maps(what, (long)sv, (long)sv + 2 * PG, "rw-s", 0, &st, path);
    check_maps(what, (long)sv + 3 * PG, (long)sv + 4 * PG, "rw-s", 3 * PG, &st, path);
    check(sv[3 * PG] == 'd', "%s: the last page is still the fourth of the file", what);
    check_ret(sc(SYS_msync, sv, 4 * PG, MS_SYNC), -ENOMEM, "msync over the hole");
    check_ret(sc(SYS_msync, sv, 4 * PG, MS_ASYNC), -ENOMEM, "msync MS_ASYNC over the hole");
    check_ret(sc(SYS_msync, sv, 2 * PG, MS_SYNC), 0, "msync of the mapped part");

    /* mremap grows the second page to 3, which the fourth page is in the
     * way of: it moves, and keeps its offset. */
    char *mv = (char *)sc(SYS_mremap, sv + PG, PG, 3 * PG, MREMAP_MAYMOVE, 0);
    check((long)mv > 0 && mv != sv + PG, "%s: mremap the second page to 3 pages moves it", what);
    if ((long)mv > 0) {
        check(mv[0] == 'b' && mv[PG] == 'c' && mv[2 * PG] == 'd',
              "%s: the moved mapping grew into the file", what);
        check_maps(what, (long)mv, (long)mv + 3 * PG, "rw-s", PG, &st, path);
        sc(SYS_munmap, mv, 3 * PG);
    }
    sc(SYS_munmap, sv, 4 * PG);

    /* A mapping outlives the descriptor and shows the file after it is gone. */
    char *rv = map_reopened(again, O_RDONLY, MAP_SHARED, 3 * PG);
    check((long)rv > 0 && rv[0] == 'd', "%s: a read-only shared mapping after close", what);
    if ((long)rv <= 0)
        return;
    check_maps(what, (long)rv, (long)rv + PG, "r--s", 3 * PG, &st, path);
    check_err(sc(SYS_mprotect, rv, PG, PROT_READ | PROT_WRITE), EACCES,
              "mprotect PROT_WRITE, shared mapping of a read-only file");
    check_ret(sc(SYS_mprotect, rv, PG, PROT_NONE), 0, "mprotect PROT_NONE there");
    sc(SYS_munmap, rv, PG);
    rv = map_reopened(again, O_RDONLY, MAP_PRIVATE, 0);
    check_ret(sc(SYS_mprotect, rv, PG, PROT_READ | PROT_WRITE), 0,
              "mprotect PROT_WRITE, private mapping of a read-only file");
    rv[0] = 'Q';
    sc(SYS_munmap, rv, PG);
    rv = map_reopened(again, O_RDWR, MAP_SHARED, 0);
    check_ret(sc(SYS_mprotect, rv, PG, PROT_READ | PROT_WRITE), 0,
              "mprotect PROT_WRITE, shared mapping of a read-write file");
    rv[1] = 'W';
    check(pread(fd, buf, 2, 0) == 2 && buf[1] == 'W', "%s: and the write reaches the file", what);

    if (strncmp(path, "/memfd:", 7) != 0) {
        char del[1100];
        snprintf(del, sizeof del, "%s (deleted)", path);
        check(unlink(path) == 0, "%s: unlink while mapped", what);
        check_maps(what, (long)rv, (long)rv + PG, "rw-s", 0, &st, del);
    }
    sc(SYS_munmap, rv, PG);
}

static void test_zero(void)
{
    int fd = open("/dev/zero", O_RDWR);
    struct stat st;
    check(fd >= 0 && fstat(fd, &st) == 0, "open /dev/zero");
    unsigned char *p =
        (unsigned char *)sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    check((long)p > 0 && p[0] == 0 && p[2 * PG - 1] == 0, "/dev/zero private: zeros");
    if ((long)p > 0) {
        p[5] = 1;
        check(p[5] == 1, "/dev/zero private: writable");
        /* A private mapping still names the device, offset and all. */
        check_maps("/dev/zero private", (long)p, (long)p + 2 * PG, "rw-p", PG, &st, "/dev/zero");
        sc(SYS_munmap, p, 2 * PG);
    }
    unsigned char *s =
        (unsigned char *)sc(SYS_mmap, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check((long)s > 0 && s[0] == 0, "/dev/zero shared: zeros");
    if ((long)s > 0) {
        s[0] = 7;
        check(s[0] == 7, "/dev/zero shared: writable");
        char line[1024];
        int found = maps_line((long)s, line, sizeof line);
        size_t n = found ? strlen(line) : 0;
        check(n > 20 && strcmp(line + n - 20, " /dev/zero (deleted)") == 0 &&
                  strstr(line, " rw-s "),
              "/dev/zero shared: maps shows rw-s /dev/zero (deleted)");
        check_ret(sc(SYS_msync, s, PG, MS_SYNC), 0, "/dev/zero shared: msync");
        sc(SYS_munmap, s, PG);
    }
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0xfffffffffffff000L), EOVERFLOW,
              "/dev/zero: offset + length past ULONG_MAX");
    close(fd);
}

static void test_msync_errors(void)
{
    long a = sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(a > 0, "anonymous mapping for msync");
    check_err(sc(SYS_msync, a, PG, 8), EINVAL, "msync unknown flag");
    check_err(sc(SYS_msync, a, PG, MS_ASYNC | MS_SYNC), EINVAL, "msync MS_ASYNC | MS_SYNC");
    check_err(sc(SYS_msync, a + 1, PG, MS_SYNC), EINVAL, "msync unaligned address");
    check_ret(sc(SYS_msync, a, 0, MS_SYNC), 0, "msync length 0");
    check_ret(sc(SYS_msync, 0x1000, 0, MS_SYNC), 0, "msync length 0, unmapped");
    check_ret(sc(SYS_msync, a, 2 * PG, MS_SYNC), 0, "msync anonymous memory");
    check_err(sc(SYS_msync, 0x10000000L, PG, MS_SYNC), ENOMEM, "msync unmapped");
    check_err(sc(SYS_msync, 0x7ffffffff000L, -PG, MS_SYNC), ENOMEM, "msync wrapping range");
    check_err(sc(SYS_msync, 0xffff800000000000UL, PG, MS_SYNC), ENOMEM, "msync kernel address");
    sc(SYS_munmap, a + PG, PG);
    check_err(sc(SYS_msync, a, 2 * PG, MS_SYNC), ENOMEM, "msync past the end of a mapping");
    check_err(sc(SYS_msync, a - PG, 2 * PG, MS_INVALIDATE), ENOMEM, "msync from a hole");
    sc(SYS_munmap, a, PG);
}

int main(void)
{
    if (!getcwd(g_cwd, sizeof g_cwd - 64)) {
        out("FAIL getcwd\n");
        return 1;
    }
    test_errors();

    char path[1100];
    int fd = make_file("data", 4);
    snprintf(path, sizeof path, "%s/data", g_cwd);
    check(fd >= 0, "host file: create");
    test_file("host file", fd, path);
    close(fd);

    /* /dev/shm is a tmpfs both natively and in the sandbox. */
    snprintf(path, sizeof path, "/dev/shm/fs_mmap.%d", getpid());
    fd = make_file(path, 4);
    check(fd >= 0, "tmpfs file: create");
    test_file("tmpfs file", fd, path);
    close(fd);
    unlink(path); /* gone already unless a check failed early */

    fd = (int)sc(SYS_memfd_create, "fsmmap", MFD_CLOEXEC);
    static char page[PG];
    int ok = fd >= 0;
    for (int i = 0; ok && i < 4; i++) {
        memset(page, 'a' + i, sizeof page);
        ok = write(fd, page, sizeof page) == (long)sizeof page;
    }
    check(ok, "memfd: create");
    test_file("memfd", fd, "/memfd:fsmmap (deleted)");
    close(fd);

    test_zero();
    test_msync_errors();
    return finish();
}
