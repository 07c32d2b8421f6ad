/* fs_meta: file-system metadata as Linux 6.18 keeps it.
 * - tmpfs (/dev/shm) charges the pages a file has, not its apparent size:
 *   a huge ftruncate costs nothing, st_blocks counts written, fallocated
 *   and punched pages.
 * - atime under relatime, on tmpfs and on the host-backed scratch
 *   directory: reads and directory listings update it when it is not newer
 *   than mtime/ctime, O_NOATIME never.
 * - statx's stx_mnt_id is /proc/self/mountinfo's mount id (STATX_MNT_ID),
 *   or the unique id with STATX_MNT_ID_UNIQUE.
 * - select, pselect6 and ppoll write back the time left.
 * - renameat2 with "." or ".." as the last component: Linux's errno order
 *   (EXDEV, then EBUSY for the old name, EEXIST with RENAME_NOREPLACE for
 *   the new name, else EBUSY); RENAME_WHITEOUT leaves a whiteout. */
#include "fs_util.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/statfs.h>
#include <time.h>

#define SHM "/dev/shm/fs_meta.tmp"

static struct stat st_of(const char *p)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    sc(SYS_stat, p, &st);
    return st;
}

static int ts_eq(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void tmpfs_sizes(void)
{
    sc(SYS_unlink, SHM);
    long fd = sc(SYS_open, SHM, O_CREAT | O_RDWR | O_TRUNC, 0600);
    check(fd >= 0, "open %s", SHM);
    struct statfs before, after;
    sc(SYS_fstatfs, fd, &before);
    /* A terabyte of apparent size: allowed, and no pages. */
    long tb = 1L << 40;
    check_ret(sc(SYS_ftruncate, fd, tb), 0, "ftruncate 1 TiB on tmpfs");
    struct stat st;
    sc(SYS_fstat, fd, &st);
    check(st.st_size == tb && st.st_blocks == 0, "1 TiB file has no blocks (%ld)",
          (long)st.st_blocks);
    sc(SYS_fstatfs, fd, &after);
    /* Natively others may use /dev/shm meanwhile: allow some slack. */
    check(before.f_bfree - after.f_bfree < 4096 || after.f_bfree > before.f_bfree,
          "f_bfree not charged for the apparent size");
    /* One page written in the middle: 8 blocks. */
    check_ret(sc(SYS_pwrite64, fd, "x", 1, tb / 2), 1, "pwrite in the middle");
    sc(SYS_fstat, fd, &st);
    check(st.st_blocks == 8, "one page written: st_blocks 8 (%ld)", (long)st.st_blocks);
    check_ret(sc(SYS_lseek, fd, 0, SEEK_DATA), tb / 2, "SEEK_DATA finds the page");
    /* fallocate charges 16 pages, a punched hole gives 8 back. */
    check_ret(sc(SYS_fallocate, fd, 0, 0, 16 * 4096), 0, "fallocate 16 pages");
    sc(SYS_fstat, fd, &st);
    check(st.st_blocks == 8 + 128, "fallocated: st_blocks 136 (%ld)", (long)st.st_blocks);
    check_ret(sc(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8 * 4096), 0,
              "punch 8 pages");
    sc(SYS_fstat, fd, &st);
    check(st.st_blocks == 8 + 64, "punched: st_blocks 72 (%ld)", (long)st.st_blocks);
    /* Shrinking drops the pages past the end. */
    check_ret(sc(SYS_ftruncate, fd, 4096), 0, "ftruncate to one page");
    sc(SYS_fstat, fd, &st);
    check(st.st_blocks == 8, "shrunk: st_blocks 8 (%ld)", (long)st.st_blocks);
    /* Pages a shared mapping touches count too. */
    check_ret(sc(SYS_ftruncate, fd, 0), 0, "ftruncate to 0");
    check_ret(sc(SYS_ftruncate, fd, 64 * 4096), 0, "ftruncate to 64 pages");
    long a = sc(SYS_mmap, 0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(a > 0, "mmap shared");
    if (a > 0) {
        ((char *)a)[0] = 1;
        ((char *)a)[10 * 4096] = 1;
        ((char *)a)[20 * 4096] = 1;
        sc(SYS_fstat, fd, &st);
        check(st.st_blocks == 24, "three pages touched through a mapping: st_blocks 24 (%ld)",
              (long)st.st_blocks);
        sc(SYS_munmap, a, 64 * 4096);
    }
    sc(SYS_close, fd);
    sc(SYS_unlink, SHM);
}

/* atime under relatime: updated by a read when atime is not after mtime
 * and ctime; not when it is newer than both (and younger than a day). */
static void atime_rules(const char *where, const char *file, const char *dir)
{
    sc(SYS_unlink, file);
    sc(SYS_rmdir, dir);
    long fd = sc(SYS_open, file, O_CREAT | O_RDWR | O_TRUNC, 0600);
    sc(SYS_write, fd, "hello", 5);
    sc(SYS_close, fd);
    sc(SYS_mkdir, dir, 0700);
    struct timespec now;
    sc(SYS_clock_gettime, CLOCK_REALTIME, &now);
    char buf[64];
    const char *paths[2] = { file, dir };
    for (int k = 0; k < 2; k++) {
        const char *p = paths[k], *what = k ? "getdents" : "read";
        int isdir = k;
        /* atime before mtime: the access updates it. */
        struct timespec old[2] = { { now.tv_sec - 100, 0 }, { now.tv_sec - 50, 0 } };
        sc(SYS_utimensat, AT_FDCWD, p, old, 0);
        fd = sc(SYS_open, p, isdir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
        long r = isdir ? sc(SYS_getdents64, fd, buf, sizeof buf) : sc(SYS_read, fd, buf, 2);
        check(r > 0, "%s: %s works", where, what);
        struct stat st = st_of(p);
        check(!ts_eq(st.st_atim, old[0]) && st.st_atim.tv_sec >= now.tv_sec - 1,
              "%s: %s updates an atime older than mtime", where, what);
        /* atime newer than mtime and ctime: left alone. */
        struct timespec fresh[2] = { { now.tv_sec + 3600, 7 }, { now.tv_sec - 50, 0 } };
        sc(SYS_utimensat, AT_FDCWD, p, fresh, 0);
        if (isdir) {
            sc(SYS_lseek, fd, 0, SEEK_SET);
            sc(SYS_getdents64, fd, buf, sizeof buf);
        } else {
            sc(SYS_pread64, fd, buf, 2, 0);
        }
        st = st_of(p);
        check(ts_eq(st.st_atim, fresh[0]), "%s: %s keeps an atime newer than mtime and ctime",
              where, what);
        /* At the end (EOF, or no more entries): still an access. */
        sc(SYS_utimensat, AT_FDCWD, p, old, 0);
        if (isdir) {
            while (sc(SYS_getdents64, fd, buf, sizeof buf) > 0)
                ;
            sc(SYS_utimensat, AT_FDCWD, p, old, 0);
            r = sc(SYS_getdents64, fd, buf, sizeof buf);
        } else {
            r = sc(SYS_pread64, fd, buf, 2, 100);
        }
        check_ret(r, 0, isdir ? "getdents at the end" : "read at EOF");
        st = st_of(p);
        check(!ts_eq(st.st_atim, old[0]), "%s: %s at the end updates atime", where, what);
        sc(SYS_close, fd);
        /* O_NOATIME (the owner may ask): never. */
        sc(SYS_utimensat, AT_FDCWD, p, old, 0);
        fd = sc(SYS_open, p, (isdir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_NOATIME);
        check(fd >= 0, "%s: open O_NOATIME", where);
        if (isdir)
            sc(SYS_getdents64, fd, buf, sizeof buf);
        else
            sc(SYS_read, fd, buf, 2);
        st = st_of(p);
        check(ts_eq(st.st_atim, old[0]), "%s: %s with O_NOATIME keeps atime", where, what);
        sc(SYS_close, fd);
    }
    sc(SYS_unlink, file);
    sc(SYS_rmdir, dir);
}

/* struct statx, as the kernel has it (musl's may lack stx_mnt_id). */
struct kstatx {
    unsigned mask, blksize;
    unsigned long attributes;
    unsigned nlink, uid, gid;
    unsigned short mode, pad1;
    unsigned long ino, size, blocks, attributes_mask;
    struct {
        long sec;
        unsigned nsec;
        int pad;
    } atime, btime, ctime, mtime;
    unsigned rdev_major, rdev_minor, dev_major, dev_minor;
    unsigned long mnt_id;
    unsigned long spare[13];
};
#define K_STATX_BASIC 0x7ffU
#define K_STATX_MNT_ID 0x1000U
#define K_STATX_MNT_ID_UNIQUE 0x4000U

/* The mount id mountinfo gives the mount at exactly mnt_point. */
static long mountinfo_id(const char *mnt_point)
{
    if (slurp("/proc/self/mountinfo") < 0)
        return -1;
    long found = -1;
    for (char *p = g_file; *p;) {
        char *end = strchr(p, '\n');
        if (end)
            *end = 0;
        long id;
        char mp[512];
        if (sscanf(p, "%ld %*d %*s %*s %511s", &id, mp) == 2 && strcmp(mp, mnt_point) == 0)
            found = id; /* the last one is on top */
        if (!end)
            break;
        p = end + 1;
    }
    return found;
}

static void statx_mnt_id(void)
{
    static const char *const pts[] = { "/dev/shm", "/proc", "/" };
    for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        struct kstatx x;
        memset(&x, 0xff, sizeof x);
        long r = sc(SYS_statx, AT_FDCWD, pts[k], 0, K_STATX_BASIC | K_STATX_MNT_ID, &x);
        check_ret(r, 0, "statx");
        long id = mountinfo_id(pts[k]);
        check((x.mask & K_STATX_MNT_ID) && !(x.mask & K_STATX_MNT_ID_UNIQUE),
              "statx %s: STATX_MNT_ID set", pts[k]);
        check(id > 0 && (long)x.mnt_id == id, "statx %s: stx_mnt_id is mountinfo's id", pts[k]);
        /* Without asking: reported all the same. */
        memset(&x, 0, sizeof x);
        sc(SYS_statx, AT_FDCWD, pts[k], 0, 0, &x);
        check((x.mask & K_STATX_MNT_ID) && (long)x.mnt_id == id, "statx %s mask 0: mnt id given",
              pts[k]);
        /* The unique id instead, when asked for (both asked: the unique). */
        memset(&x, 0, sizeof x);
        sc(SYS_statx, AT_FDCWD, pts[k], 0, K_STATX_MNT_ID | K_STATX_MNT_ID_UNIQUE, &x);
        check((x.mask & K_STATX_MNT_ID_UNIQUE) && !(x.mask & K_STATX_MNT_ID),
              "statx %s: STATX_MNT_ID_UNIQUE set alone", pts[k]);
        check(x.mnt_id >= 1UL << 31, "statx %s: unique id from 2^31 on", pts[k]);
    }
    /* Mount roots say so; every answer knows the automount, mount-root
     * and DAX attributes. */
    static const struct {
        const char *p;
        int root;
    } roots[] = {
        { "/dev/shm", 1 },  { "/proc", 1 }, { "/proc/self/status", 0 },
        { "/dev/null", 0 }, { "/dev", 1 },
    };
    for (size_t k = 0; k < sizeof roots / sizeof roots[0]; k++) {
        struct kstatx x;
        memset(&x, 0, sizeof x);
        sc(SYS_statx, AT_FDCWD, roots[k].p, 0, K_STATX_BASIC, &x);
        check(!!(x.attributes & 0x2000) == roots[k].root, "statx %s: STATX_ATTR_MOUNT_ROOT %s",
              roots[k].p, roots[k].root ? "set" : "clear");
        check((x.attributes_mask & 0x203000) == 0x203000,
              "statx %s: attributes_mask has automount, mount root, dax", roots[k].p);
    }
    /* tmpfs: multigrain times are left out unless asked for; the
     * creation time when asked; shmem's attribute flags. The scratch
     * directory shows its host file system's answer either way. */
    static const char *const mg[] = { "/dev/shm", "." };
    for (size_t k = 0; k < sizeof mg / sizeof mg[0]; k++) {
        struct kstatx x, y;
        memset(&x, 0, sizeof x);
        sc(SYS_statx, AT_FDCWD, mg[k], 0, K_STATX_MNT_ID, &x);
        memset(&y, 0, sizeof y);
        sc(SYS_statx, AT_FDCWD, mg[k], 0, 0x40 /* STATX_MTIME */, &y);
        if (k == 0) {
            check((x.mask & 0xc0) == 0 && x.mtime.sec == 0 && x.ctime.sec == 0,
                  "statx %s: mtime and ctime left out unless asked", mg[k]);
            check((y.mask & 0xc0) == 0xc0 && y.mtime.sec != 0,
                  "statx %s: asked for mtime, both given", mg[k]);
            check((x.attributes_mask & 0x70) == 0x70, "statx %s: append, immutable, nodump known",
                  mg[k]);
        } else {
            check(((x.mask & 0xc0) == 0) == (x.mtime.sec == 0),
                  "statx %s: times given as the mask says", mg[k]);
            check((y.mask & 0xc0) == 0xc0, "statx %s: asked for mtime, both given", mg[k]);
        }
        check(!(x.mask & 0x800) && x.btime.sec == 0, "statx %s: no btime unless asked", mg[k]);
        memset(&y, 0, sizeof y);
        sc(SYS_statx, AT_FDCWD, mg[k], 0, 0x800 /* STATX_BTIME */, &y);
        if (k == 0)
            check((y.mask & 0x800) && y.btime.sec > 0, "statx %s: btime when asked", mg[k]);
        else
            check(!(y.mask & 0x800) == (y.btime.sec == 0), "statx %s: btime as the mask says",
                  mg[k]);
    }
    /* Unique ids differ between mounts. */
    struct kstatx a, b;
    sc(SYS_statx, AT_FDCWD, "/proc", 0, K_STATX_MNT_ID_UNIQUE, &a);
    sc(SYS_statx, AT_FDCWD, "/dev/shm", 0, K_STATX_MNT_ID_UNIQUE, &b);
    check(a.mnt_id != b.mnt_id, "unique mount ids differ");
}

static long us_of(struct timespec t)
{
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static void time_left(void)
{
    int p[2];
    sc(SYS_pipe, p);
    /* Timeout: the time left is zero. */
    struct timeval tv = { 0, 20000 };
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    check_ret(sc(SYS_select, p[0] + 1, &rd, 0, 0, &tv), 0, "select times out");
    check(tv.tv_sec == 0 && tv.tv_usec == 0, "select: no time left (%ld.%06ld)", (long)tv.tv_sec,
          (long)tv.tv_usec);
    /* Ready at once: nearly all of it left. */
    sc(SYS_write, p[1], "x", 1);
    tv = (struct timeval){ 5, 0 };
    FD_SET(p[0], &rd);
    check_ret(sc(SYS_select, p[0] + 1, &rd, 0, 0, &tv), 1, "select ready");
    check(tv.tv_sec == 4 && tv.tv_usec > 0, "select: time left written back");
    /* A zero timeout (a poll) stays zero. */
    tv = (struct timeval){ 0, 0 };
    check_ret(sc(SYS_select, p[0] + 1, &rd, 0, 0, &tv), 1, "select polling");
    check(tv.tv_sec == 0 && tv.tv_usec == 0, "select: zero stays zero");
    /* pselect6, raw (glibc's wrapper hides it): written back too. */
    struct timespec ts = { 5, 0 };
    FD_SET(p[0], &rd);
    check_ret(sc(SYS_pselect6, p[0] + 1, &rd, 0, 0, &ts, 0), 1, "pselect6 ready");
    check(us_of(ts) > 4000000 && us_of(ts) < 5000000, "pselect6: time left written back");
    char c;
    sc(SYS_read, p[0], &c, 1);
    ts = (struct timespec){ 0, 20000000 };
    FD_SET(p[0], &rd);
    check_ret(sc(SYS_pselect6, p[0] + 1, &rd, 0, 0, &ts, 0), 0, "pselect6 times out");
    check(ts.tv_sec == 0 && ts.tv_nsec == 0, "pselect6: no time left");
    /* ppoll likewise; poll has no timeout to write. */
    struct pollfd pf = { p[0], POLLIN, 0 };
    ts = (struct timespec){ 0, 20000000 };
    check_ret(sc(SYS_ppoll, &pf, 1, &ts, 0, 8), 0, "ppoll times out");
    check(ts.tv_sec == 0 && ts.tv_nsec == 0, "ppoll: no time left");
    sc(SYS_write, p[1], "x", 1);
    ts = (struct timespec){ 5, 0 };
    check_ret(sc(SYS_ppoll, &pf, 1, &ts, 0, 8), 1, "ppoll ready");
    check(us_of(ts) > 4000000 && us_of(ts) < 5000000, "ppoll: time left written back");
    /* A read-only timeout: the result stands, the write-back is skipped. */
    static const struct timeval ro_tv = { 1, 0 };
    FD_SET(p[0], &rd);
    check_ret(sc(SYS_select, p[0] + 1, &rd, 0, 0, &ro_tv), 1, "select with a read-only timeout");
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
}

static const char *flag_name(unsigned f)
{
    return f == 0 ? "0" : f == 1 ? "NOREPLACE" : f == 2 ? "EXCHANGE" : "?";
}

static void rename_dots(void)
{
    sc(SYS_mkdir, "rd", 0755);
    sc(SYS_mkdir, "rd/d", 0755);
    sc(SYS_mkdir, "rd/d/s", 0755);
    sc(SYS_mkdir, "rd/e", 0755);
    long fd = sc(SYS_open, "rd/f", O_CREAT | O_WRONLY, 0644);
    sc(SYS_close, fd);
    static const struct {
        const char *o, *n;
        int want[3]; /* flags 0, RENAME_NOREPLACE, RENAME_EXCHANGE */
    } cases[] = {
        { "rd/d/.", "rd/x", { EBUSY, EBUSY, EBUSY } },
        { "rd/d/..", "rd/x", { EBUSY, EBUSY, EBUSY } },
        { "rd/d/.", "rd/e", { EBUSY, EBUSY, EBUSY } },
        { "rd/f", "rd/d/.", { EBUSY, EEXIST, EBUSY } },
        { "rd/f", "rd/d/..", { EBUSY, EEXIST, EBUSY } },
        { "rd/e", "rd/d/s/.", { EBUSY, EEXIST, EBUSY } },
        { "rd/nonexist", "rd/d/.", { EBUSY, EEXIST, EBUSY } },
        { "rd/d/.", "rd/d/..", { EBUSY, EBUSY, EBUSY } },
        { "rd/d/..", "rd/e/.", { EBUSY, EBUSY, EBUSY } },
        { "rd/e/", "rd/d/..", { EBUSY, EEXIST, EBUSY } },
        { ".", "rd/x", { EBUSY, EBUSY, EBUSY } },
        { "rd/f", ".", { EBUSY, EEXIST, EBUSY } },
        { "rd/f", "..", { EBUSY, EEXIST, EBUSY } },
        /* Different mounts: EXDEV comes first. */
        { "/dev/shm/.", "rd/x", { EXDEV, EXDEV, EXDEV } },
        { "rd/f", "/dev/shm/..", { EXDEV, EXDEV, EXDEV } },
        { "/dev/shm/nonexist", "rd/d/.", { EXDEV, EXDEV, EXDEV } },
        /* A missing parent: ENOENT from the lookup, before any of it. */
        { "rd/none/.", "rd/x", { ENOENT, ENOENT, ENOENT } },
        { "rd/f", "rd/none/..", { ENOENT, ENOENT, ENOENT } },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (unsigned fl = 0; fl < 3; fl++) {
            char name[128];
            snprintf(name, sizeof name, "renameat2(%s, %s, %s)", cases[k].o, cases[k].n,
                     flag_name(fl));
            long r = sc(SYS_renameat2, AT_FDCWD, cases[k].o, AT_FDCWD, cases[k].n, fl);
            g_checks++;
            if (r == -cases[k].want[fl]) {
                out("ok   %s -> -%s\n", name, errno_name(cases[k].want[fl]));
            } else {
                g_failed++;
                out("FAIL %s -> %s, want -%s\n", name, ret_name(r), errno_name(cases[k].want[fl]));
            }
        }
    /* Flag checks come before any lookup. */
    check_err(sc(SYS_renameat2, AT_FDCWD, "rd/d/.", AT_FDCWD, "rd/e/.", 3), EINVAL,
              "renameat2 NOREPLACE|EXCHANGE");
    check_err(sc(SYS_renameat2, AT_FDCWD, "rd/d/.", AT_FDCWD, "rd/e/.", 8), EINVAL,
              "renameat2 unknown flag");
    /* Plain rename agrees. */
    check_err(sc(SYS_rename, "rd/d/..", "rd/x"), EBUSY, "rename(rd/d/.., rd/x)");
    check_err(sc(SYS_rename, "rd/f", "rd/d/."), EBUSY, "rename(rd/f, rd/d/.)");
    check_err(sc(SYS_renameat, AT_FDCWD, "rd/f", AT_FDCWD, "."), EBUSY, "renameat(rd/f, .)");
    /* RENAME_WHITEOUT (no privilege needed since Linux 5.8): a 0:0
     * character device of the caller's stays behind, on tmpfs and on the
     * host's file system alike. */
    static const char *const wdirs[] = { "/dev/shm/fs_meta.wo", "rd/wo" };
    for (size_t k = 0; k < 2; k++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%s.a", wdirs[k]);
        snprintf(b, sizeof b, "%s.b", wdirs[k]);
        sc(SYS_unlink, a);
        sc(SYS_unlink, b);
        fd = sc(SYS_open, a, O_CREAT | O_WRONLY, 0644);
        sc(SYS_close, fd);
        check_ret(sc(SYS_renameat2, AT_FDCWD, "rd/d/.", AT_FDCWD, b, 4 /* RENAME_WHITEOUT */),
                  k == 0 ? -EXDEV : -EBUSY, "RENAME_WHITEOUT of rd/d/.");
        check_ret(sc(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 4), 0, "RENAME_WHITEOUT");
        struct stat st;
        memset(&st, 0, sizeof st);
        long r = sc(SYS_lstat, a, &st);
        check(r == 0 && st.st_mode == S_IFCHR && st.st_rdev == 0 && st.st_nlink == 1,
              "%s: a whiteout stays", a);
        check(st.st_uid == (uid_t)sc(SYS_geteuid), "%s: the whiteout is the caller's", a);
        memset(&st, 0, sizeof st);
        sc(SYS_lstat, b, &st);
        check(S_ISREG(st.st_mode), "%s: the file moved", b);
        check_ret(sc(SYS_renameat2, AT_FDCWD, b, AT_FDCWD, a, 4), 0,
                  "RENAME_WHITEOUT over a whiteout");
        memset(&st, 0, sizeof st);
        sc(SYS_lstat, a, &st);
        check(S_ISREG(st.st_mode), "the file is back");
        memset(&st, 0, sizeof st);
        sc(SYS_lstat, b, &st);
        check(st.st_mode == S_IFCHR, "a whiteout where it was");
        check_ret(sc(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 4 | 2), -EINVAL, "WHITEOUT|EXCHANGE");
        check_ret(sc(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 4 | 1), -EEXIST,
                  "WHITEOUT|NOREPLACE onto one");
        sc(SYS_unlink, a);
        sc(SYS_unlink, b);
    }
    /* mknod of a whiteout needs no privilege either. */
    static const char *const wn[] = { "/dev/shm/fs_meta.wn", "rd/wn" };
    for (size_t k = 0; k < 2; k++) {
        sc(SYS_unlink, wn[k]);
        check_ret(sc(SYS_mknod, wn[k], S_IFCHR | 0600, 0), 0, "mknod a whiteout");
        struct stat st;
        memset(&st, 0, sizeof st);
        sc(SYS_lstat, wn[k], &st);
        check(st.st_mode == (S_IFCHR | 0600) && st.st_rdev == 0, "%s: a 0:0 character device",
              wn[k]);
        sc(SYS_unlink, wn[k]);
    }
    sc(SYS_unlink, "rd/f");
    sc(SYS_rmdir, "rd/d/s");
    sc(SYS_rmdir, "rd/d");
    sc(SYS_rmdir, "rd/e");
    sc(SYS_rmdir, "rd");
}

int main(void)
{
    tmpfs_sizes();
    atime_rules("tmpfs", "/dev/shm/fs_meta.atime", "/dev/shm/fs_meta.atime.d");
    atime_rules("scratch", "atime.f", "atime.d");
    statx_mnt_id();
    time_left();
    rename_dots();
    return finish();
}
