/* fs_rw_edge.c: the edges of the data-transfer calls, each on the file
 * systems and file types where Linux's answer differs: access mode 3
 * (neither read nor write), O_DIRECT, offsets and counts that pass the
 * largest file offset, RLIMIT_FSIZE, buffers that run into an unmapped page
 * or lie above the user address range, and lseek on special files. Each
 * line prints the raw result; the harness compares the lines with the
 * native run, so the expected answers are the host kernel's own (6.18, the
 * scratch directory on ext4 and /dev/shm on tmpfs). A few invariants are
 * also checked directly. */
#include "fs_util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PG 4096L
#ifndef O_DIRECT
#define O_DIRECT 040000
#endif

/* While RLIMIT_FSIZE is low, standard output (a file) cannot take the
 * lines either: they wait here until the limit is lifted. */
static char g_held[8192];
static size_t g_held_len;
static int g_hold;

static void show(const char *what, long r)
{
    if (g_hold) {
        int n = snprintf(g_held + g_held_len, sizeof g_held - g_held_len, "%s -> %s\n", what,
                         ret_name(r));
        if (n > 0 && (size_t)n < sizeof g_held - g_held_len)
            g_held_len += (size_t)n;
        return;
    }
    out("%s -> %s\n", what, ret_name(r));
}

/* A directory of this run's own on tmpfs: natively /dev/shm is the host's,
 * shared with runs of this test on other platforms at the same time. The
 * lines name it "/dev/shm". */
static char shm[64];
#define LBL(dir) ((dir) == shm ? "/dev/shm" : (dir))

/* The native run leaves nothing behind for the sandboxed one. */
static void cleanup(void)
{
    static const char *const files[] = { "re_a", "re_b", "re_c", "re_fifo" };
    char path[96];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        sc(SYS_unlink, files[i]);
        snprintf(path, sizeof path, "%s/%s", shm, files[i]);
        sc(SYS_unlink, path);
    }
    sc(SYS_rmdir, "re_dir");
    snprintf(path, sizeof path, "%s/re_dir", shm);
    sc(SYS_rmdir, path);
}

/* ---- access mode 3 ---- */

static void accmode3(const char *dir)
{
    char path[64], what[128];
    snprintf(path, sizeof path, "%s/re_a", dir);
    sc(SYS_close, open_text(path, "hello world"));
    long fd = sc(SYS_open, path, 3);
    snprintf(what, sizeof what, "%s: open mode 3", LBL(dir));
    check(fd >= 0, "%s", what);
    char buf[16];
    struct iovec iov = { buf, sizeof buf };
    long pv[2];
    int p[2];
    sc(SYS_pipe, p);
    pv[0] = p[0];
    pv[1] = p[1];
    sc(SYS_write, p[1], "xy", 2);
    struct {
        const char *name;
        long r;
    } rows[] = {
        { "F_GETFL accmode", sc(SYS_fcntl, fd, F_GETFL) & O_ACCMODE },
        { "read", sc(SYS_read, fd, buf, 4) },
        { "write", sc(SYS_write, fd, "ab", 2) },
        { "pread64", sc(SYS_pread64, fd, buf, 4, 0) },
        { "pwrite64", sc(SYS_pwrite64, fd, "ab", 2, 0) },
        { "readv", sc(SYS_readv, fd, &iov, 1) },
        { "writev", sc(SYS_writev, fd, &iov, 1) },
        { "preadv2", sc(SYS_preadv2, fd, &iov, 1, 0, 0, 0) },
        { "pwritev2", sc(SYS_pwritev2, fd, &iov, 1, 0, 0, 0) },
        { "ftruncate", sc(SYS_ftruncate, fd, 2) },
        { "fallocate", sc(SYS_fallocate, fd, 0, 0, 100) },
        { "lseek", sc(SYS_lseek, fd, 3, SEEK_SET) },
        { "sendfile out", sc(SYS_sendfile, fd, pv[0], 0, 1) },
        { "sendfile in", sc(SYS_sendfile, pv[1], fd, 0, 1) },
        { "copy_file_range in", sc(SYS_copy_file_range, fd, 0, pv[1], 0, 1, 0) },
        { "splice in", sc(SYS_splice, fd, 0, pv[1], 0, 1, 0) },
        { "splice out", sc(SYS_splice, pv[0], 0, fd, 0, 1, 0) },
        { "fsync", sc(SYS_fsync, fd) },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(what, sizeof what, "%s: mode 3 %s", LBL(dir), rows[i].name);
        show(what, rows[i].r);
    }
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    snprintf(what, sizeof what, "%s: mode 3 F_SETLK rdlck", LBL(dir));
    show(what, sc(SYS_fcntl, fd, F_SETLK, &fl));
    fl.l_type = F_WRLCK;
    snprintf(what, sizeof what, "%s: mode 3 F_SETLK wrlck", LBL(dir));
    show(what, sc(SYS_fcntl, fd, F_SETLK, &fl));
    struct stat st;
    sc(SYS_fstat, fd, &st);
    snprintf(what, sizeof what, "%s: mode 3 size after", LBL(dir));
    show(what, st.st_size);
    sc(SYS_close, fd);
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
    snprintf(what, sizeof what, "%s: open dir mode 3", LBL(dir));
    long d = sc(SYS_open, dir, 3);
    show(what, d);
    if (d >= 0)
        sc(SYS_close, d);
}

static void accmode3_dev(void)
{
    long fd = sc(SYS_open, "/dev/null", 3);
    show("/dev/null open mode 3", fd >= 0 ? 0 : fd);
    char b[4];
    show("/dev/null mode 3 read", sc(SYS_read, fd, b, 4));
    show("/dev/null mode 3 write", sc(SYS_write, fd, b, 4));
    sc(SYS_close, fd);
    fd = sc(SYS_open, "/dev/zero", 3);
    show("/dev/zero mode 3 read", sc(SYS_read, fd, b, 4));
    sc(SYS_close, fd);
    fd = sc(SYS_open, "/proc/self/status", 3);
    show("/proc/self/status mode 3 read", sc(SYS_read, fd, b, 4));
    sc(SYS_close, fd);
    /* A FIFO refuses mode 3 (fifo_open); mmap wants read access. */
    sc(SYS_mknod, "re_fifo", S_IFIFO | 0644, 0);
    show("fifo open mode 3", sc(SYS_open, "re_fifo", 3 | O_NONBLOCK));
    sc(SYS_unlink, "re_fifo");
    char path[96];
    snprintf(path, sizeof path, "%s/re_a", shm);
    fd = sc(SYS_open, path, 3);
    long m = sc(SYS_mmap, 0, PG, PROT_READ, MAP_SHARED, fd, 0);
    show("mmap shared mode 3", m < 0 && m > -4096 ? m : 0);
    m = sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    show("mmap private mode 3", m < 0 && m > -4096 ? m : 0);
    sc(SYS_close, fd);
    long mfd = sc(SYS_memfd_create, "re", 0);
    snprintf(path, sizeof path, "/proc/self/fd/%ld", mfd);
    fd = sc(SYS_open, path, 3);
    show("memfd reopened mode 3 read", sc(SYS_read, fd, b, 4));
    show("memfd reopened mode 3 write", sc(SYS_write, fd, b, 4));
    sc(SYS_close, fd);
    sc(SYS_close, mfd);
}

/* ---- O_DIRECT ---- */

static void odirect(void)
{
    static const char *const dirs[] = { ".", "/dev/shm", "/proc", "/dev" };
    char what[128];
    for (size_t i = 0; i < 4; i++) {
        long fd = sc(SYS_open, dirs[i], O_RDONLY | O_DIRECTORY | O_DIRECT);
        snprintf(what, sizeof what, "O_DIRECT dir %s", dirs[i]);
        show(what, fd >= 0 ? 0 : fd);
        if (fd >= 0)
            sc(SYS_close, fd);
    }
    static const char *const files[] = { "/dev/null",         "/dev/zero",       "/dev/urandom",
                                         "/proc/self/status", "/proc/self/maps", "/proc/version" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        long fd = sc(SYS_open, files[i], O_RDONLY | O_DIRECT);
        snprintf(what, sizeof what, "O_DIRECT open %s", files[i]);
        show(what, fd >= 0 ? 0 : fd);
        if (fd >= 0)
            sc(SYS_close, fd);
        fd = sc(SYS_open, files[i], O_RDONLY);
        snprintf(what, sizeof what, "F_SETFL O_DIRECT %s", files[i]);
        show(what, sc(SYS_fcntl, fd, F_SETFL, O_DIRECT));
        sc(SYS_close, fd);
    }
    /* A FIFO, opened read-write so the open does not wait. */
    sc(SYS_mknod, "re_fifo", S_IFIFO | 0644, 0);
    long fd = sc(SYS_open, "re_fifo", O_RDWR | O_DIRECT);
    show("O_DIRECT open fifo", fd >= 0 ? 0 : fd);
    if (fd >= 0)
        sc(SYS_close, fd);

    /* tmpfs regular files take O_DIRECT and any alignment. */
    char tpath[96];
    snprintf(tpath, sizeof tpath, "%s/re_b", shm);
    fd = sc(SYS_open, tpath, O_CREAT | O_TRUNC | O_RDWR | O_DIRECT, 0644);
    show("tmpfs O_DIRECT open", fd >= 0 ? 0 : fd);
    show("tmpfs O_DIRECT F_GETFL", (sc(SYS_fcntl, fd, F_GETFL) & O_DIRECT) != 0);
    show("tmpfs O_DIRECT write 5", sc(SYS_write, fd, "abcde", 5));
    char small[8];
    show("tmpfs O_DIRECT pread 3 at 1", sc(SYS_pread64, fd, small, 3, 1));
    sc(SYS_close, fd);
    fd = sc(SYS_open, tpath, O_RDWR);
    show("tmpfs F_SETFL O_DIRECT", sc(SYS_fcntl, fd, F_SETFL, O_DIRECT));
    sc(SYS_close, fd);

    /* ext4 (the scratch directory; hostfs in the sandbox): aligned I/O
     * works, unaligned buffers, offsets and lengths are EINVAL. */
    char *al =
        (char *)sc(SYS_mmap, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(al, 'd', 4 * PG);
    fd = sc(SYS_open, "re_b", O_CREAT | O_TRUNC | O_RDWR | O_DIRECT, 0644);
    show("ext4 O_DIRECT open", fd >= 0 ? 0 : fd);
    show("ext4 O_DIRECT F_GETFL", (sc(SYS_fcntl, fd, F_GETFL) & O_DIRECT) != 0);
    show("ext4 O_DIRECT write aligned", sc(SYS_write, fd, al, 2 * PG));
    show("ext4 O_DIRECT pread aligned", sc(SYS_pread64, fd, al + PG, PG, PG));
    show("ext4 O_DIRECT pread short at end", sc(SYS_pread64, fd, al, 2 * PG, PG));
    show("ext4 O_DIRECT pread odd buffer", sc(SYS_pread64, fd, al + 1, PG, 0));
    show("ext4 O_DIRECT pread odd offset", sc(SYS_pread64, fd, al, PG, 1));
    show("ext4 O_DIRECT pread odd length", sc(SYS_pread64, fd, al, 100, 0));
    memset(al, 'd', 4 * PG);
    show("ext4 O_DIRECT pwrite odd buffer", sc(SYS_pwrite64, fd, al + 1, PG, 0));
    show("ext4 O_DIRECT pwrite odd length", sc(SYS_pwrite64, fd, al, 100, 0));
    struct iovec v[2] = { { al, PG }, { al + 2 * PG, PG } };
    show("ext4 O_DIRECT preadv aligned", sc(SYS_preadv, fd, v, 2, 0, 0));
    v[1].iov_base = al + 2 * PG + 8;
    show("ext4 O_DIRECT preadv odd second", sc(SYS_preadv, fd, v, 2, 0, 0));
    show("ext4 O_DIRECT pread past end", sc(SYS_pread64, fd, al, PG, 8 * PG));
    show("ext4 O_DIRECT pread odd buffer past end", sc(SYS_pread64, fd, al + 1, PG, 8 * PG));
    show("ext4 O_DIRECT pread 512-aligned", sc(SYS_pread64, fd, al + 512, 1024, 512));
    show("ext4 O_DIRECT pwrite 512-aligned", sc(SYS_pwrite64, fd, al + 512, 512, 1024));
    show("ext4 O_DIRECT read 0", sc(SYS_read, fd, al + 1, 0));
    show("ext4 O_DIRECT size", fsize(fd));
    sc(SYS_close, fd);
    fd = sc(SYS_open, "re_b", O_RDWR);
    show("ext4 F_SETFL O_DIRECT", sc(SYS_fcntl, fd, F_SETFL, O_DIRECT));
    show("ext4 F_SETFL O_DIRECT pread odd", sc(SYS_pread64, fd, al + 1, PG, 0));
    show("ext4 F_SETFL clear", sc(SYS_fcntl, fd, F_SETFL, 0));
    show("ext4 cleared pread odd", sc(SYS_pread64, fd, al + 1, PG, 0));
    sc(SYS_close, fd);
    sc(SYS_munmap, al, 4 * PG);
}

/* ---- offsets and counts past the largest file offset ---- */

static void overflow(const char *dir)
{
    char path[64], what[160];
    snprintf(path, sizeof path, "%s/re_c", dir);
    long fd = open_text(path, "0123456789");
    char buf[32];
    struct iovec iov = { buf, 16 };
    const long big = LLONG_MAX - 8;
#define ROW(name, call)                                                                            \
    do {                                                                                           \
        snprintf(what, sizeof what, "%s: %s", LBL(dir), name);                                     \
        show(what, call);                                                                          \
    } while (0)
    int on_host = strcmp(dir, ".") == 0;
    /* Writing far beyond the end of a tmpfs file: Linux keeps it sparse;
     * the sandbox's tmpfs charges the whole extent against its size and
     * says ENOSPC. The row shows the written count or the kind of error. */
#define TMPFS_SPARSE(name, call)                                                                   \
    do {                                                                                           \
        long r_ = call;                                                                            \
        snprintf(what, sizeof what, "%s: %s", LBL(dir), name);                                     \
        if (on_host)                                                                               \
            show(what, r_);                                                                        \
        else                                                                                       \
            out("%s -> %s\n", what, r_ > 0 || r_ == -ENOSPC ? "written or ENOSPC" : ret_name(r_)); \
    } while (0)
    ROW("pread64 max-8 +16", sc(SYS_pread64, fd, buf, 16, big));
    ROW("pread64 max-8 +8", sc(SYS_pread64, fd, buf, 8, big));
    ROW("pwrite64 max-8 +16", sc(SYS_pwrite64, fd, buf, 16, big));
    ROW("pread64 +16 at 2^62", sc(SYS_pread64, fd, buf, 16, 1L << 62));
    ROW("preadv max-8 +16", sc(SYS_preadv, fd, &iov, 1, big, 0));
    ROW("pwritev max-8 +16", sc(SYS_pwritev, fd, &iov, 1, big, 0));
    ROW("preadv2 max-8 +16", sc(SYS_preadv2, fd, &iov, 1, big, 0, 0));
    ROW("pwritev2 max-8 +16", sc(SYS_pwritev2, fd, &iov, 1, big, 0, 0));
    ROW("pread64 count -1", sc(SYS_pread64, fd, buf, -1L, 0));
    ROW("lseek max-8", sc(SYS_lseek, fd, big, SEEK_SET));
    ROW("read at max-8 +16", sc(SYS_read, fd, buf, 16));
    ROW("readv at max-8 +16", sc(SYS_readv, fd, &iov, 1));
    ROW("write at max-8 +16", sc(SYS_write, fd, buf, 16));
    ROW("lseek 2^44", sc(SYS_lseek, fd, 1L << 44, SEEK_SET));
    ROW("read at 2^44", sc(SYS_read, fd, buf, 16));
    sc(SYS_lseek, fd, 0, SEEK_SET);

    /* sendfile and copy_file_range: huge counts, offsets at the limit. */
    int p[2];
    sc(SYS_pipe2, p, O_NONBLOCK);
    long out2 = sc(SYS_open, "/dev/null", O_WRONLY);
    long off;
    off = 0;
    ROW("sendfile count 2^63-1", sc(SYS_sendfile, out2, fd, &off, LLONG_MAX));
    off = 1;
    ROW("sendfile off 1 count 2^63-1", sc(SYS_sendfile, out2, fd, &off, LLONG_MAX));
    off = 0;
    ROW("sendfile count -1", sc(SYS_sendfile, out2, fd, &off, -1L));
    off = big;
    ROW("sendfile off max-8 +4", sc(SYS_sendfile, out2, fd, &off, 4));
    off = 1L << 50;
    ROW("sendfile off 2^50 +4", sc(SYS_sendfile, out2, fd, &off, 4));
    off = 1L << 40;
    ROW("sendfile off 2^40 +4", sc(SYS_sendfile, out2, fd, &off, 4));
    off = 3L << 30;
    ROW("sendfile to pipe off 3G", sc(SYS_sendfile, p[1], fd, &off, 4));
    ROW("sendfile no off count 2^63-1", sc(SYS_sendfile, p[1], fd, 0, LLONG_MAX));
    char path2[64];
    snprintf(path2, sizeof path2, "%s/re_b", dir);
    long fd2 = sc(SYS_open, path2, O_CREAT | O_TRUNC | O_RDWR, 0644);
    long o1 = 0, o2 = 0;
    ROW("copy_file_range count 2^63-1", sc(SYS_copy_file_range, fd, &o1, fd2, &o2, LLONG_MAX, 0));
    o1 = 0, o2 = 0;
    ROW("copy_file_range count -1", sc(SYS_copy_file_range, fd, &o1, fd2, &o2, -1L, 0));
    o1 = big, o2 = 0;
    ROW("copy_file_range in max-8 +16", sc(SYS_copy_file_range, fd, &o1, fd2, &o2, 16, 0));
    o1 = 0, o2 = big;
    TMPFS_SPARSE("copy_file_range out max-8 +16",
                 sc(SYS_copy_file_range, fd, &o1, fd2, &o2, 16, 0));
    o1 = 1L << 50, o2 = 0;
    ROW("copy_file_range in 2^50", sc(SYS_copy_file_range, fd, &o1, fd2, &o2, 4, 0));
    o1 = 0, o2 = 1L << 50;
    TMPFS_SPARSE("copy_file_range out 2^50", sc(SYS_copy_file_range, fd, &o1, fd2, &o2, 4, 0));
    sc(SYS_close, fd2);
    sc(SYS_close, out2);
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
    sc(SYS_close, fd);

    /* An empty directory of its own: the scratch directory's entries
     * differ between the runs. */
    char sub[64];
    snprintf(sub, sizeof sub, "%s/re_dir", dir);
    sc(SYS_mkdir, sub, 0755);
    long d = sc(SYS_open, sub, O_RDONLY | O_DIRECTORY);
    static char dbuf[4096];
    ROW("getdents64 count INT_MAX+1", sc(SYS_getdents64, d, dbuf, (long)INT_MAX + 1));
    ROW("getdents64 count 2^32+64", sc(SYS_getdents64, d, dbuf, (1L << 32) + 64));
    ROW("getdents count INT_MAX+1", sc(SYS_getdents, d, dbuf, (long)INT_MAX + 1));
    sc(SYS_close, d);
#undef ROW
#undef TMPFS_SPARSE
}

/* ---- RLIMIT_FSIZE ---- */

static void fsize_limit(const char *dir)
{
    char path[64], what[160];
    snprintf(path, sizeof path, "%s/re_a", dir);
    long fd = sc(SYS_open, path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    long src = open_text("re_c", "0123456789abcdefghij");
    char buf[64];
    memset(buf, 'w', sizeof buf);
    struct iovec iov[2] = { { buf, 6 }, { buf, 6 } };
    int p[2];
    sc(SYS_pipe2, p, O_NONBLOCK);
    /* SIGXFSZ ignored: each call past the limit is EFBIG (sig_restart
     * has SIGXFSZ itself). */
    struct rlimit rl = { 10, RLIM_INFINITY }, old;
    sc(SYS_getrlimit, RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_IGN);
    g_hold = 1;
    g_held_len = 0;
    show("setrlimit", sc(SYS_setrlimit, RLIMIT_FSIZE, &rl));
#define ROW(name, call)                                                                            \
    do {                                                                                           \
        snprintf(what, sizeof what, "%s: fsize %s", LBL(dir), name);                               \
        show(what, call);                                                                          \
    } while (0)
    ROW("write 8", sc(SYS_write, fd, buf, 8));
    ROW("write 8 crossing", sc(SYS_write, fd, buf, 8));
    ROW("write 1 at limit", sc(SYS_write, fd, buf, 1));
    ROW("write 0 at limit", sc(SYS_write, fd, buf, 0));
    ROW("pwrite 4 at 8", sc(SYS_pwrite64, fd, buf, 4, 8));
    ROW("pwrite 4 at 10", sc(SYS_pwrite64, fd, buf, 4, 10));
    ROW("pwrite 4 at 2^40", sc(SYS_pwrite64, fd, buf, 4, 1L << 40));
    ROW("pwrite 4 at 2", sc(SYS_pwrite64, fd, buf, 4, 2));
    sc(SYS_lseek, fd, 4, SEEK_SET);
    ROW("writev 12 at 4", sc(SYS_writev, fd, iov, 2));
    ROW("pwritev 12 at 10", sc(SYS_pwritev, fd, iov, 2, 10, 0));
    ROW("pwritev2 12 at 0", sc(SYS_pwritev2, fd, iov, 2, 0, 0, 0));
    ROW("ftruncate 10", sc(SYS_ftruncate, fd, 10));
    ROW("ftruncate 11", sc(SYS_ftruncate, fd, 11));
    ROW("truncate 11", sc(SYS_truncate, path, 11));
    ROW("truncate 5", sc(SYS_truncate, path, 5));
    ROW("fallocate 0+10", sc(SYS_fallocate, fd, 0, 0, 10));
    ROW("fallocate 0+11", sc(SYS_fallocate, fd, 0, 0, 11));
    ROW("fallocate keep 0+20", sc(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 0, 20));
    ROW("size", fsize(fd));
    sc(SYS_ftruncate, fd, 6);
    long o = 0;
    sc(SYS_lseek, fd, 6, SEEK_SET);
    ROW("sendfile 8 at 6", sc(SYS_sendfile, fd, src, &o, 8));
    o = 0;
    ROW("sendfile 8 at 10", sc(SYS_sendfile, fd, src, &o, 8));
    sc(SYS_ftruncate, fd, 6);
    long o1 = 0, o2 = 6;
    ROW("copy_file_range 8 at 6", sc(SYS_copy_file_range, src, &o1, fd, &o2, 8, 0));
    ROW("copy_file_range 8 at 10", sc(SYS_copy_file_range, src, &o1, fd, &o2, 8, 0));
    sc(SYS_ftruncate, fd, 6);
    sc(SYS_write, p[1], "PPPPPPPP", 8);
    o2 = 6;
    ROW("splice 8 at 6", sc(SYS_splice, p[0], 0, fd, &o2, 8, 0));
    ROW("splice 4 at 10", sc(SYS_splice, p[0], 0, fd, &o2, 4, SPLICE_F_NONBLOCK));
    ROW("size at end", fsize(fd));
    /* Reads are not limited. */
    ROW("pread 20", sc(SYS_pread64, fd, buf, 20, 0));
    /* A pipe has no size: the limit does not apply. */
    ROW("pipe write 16", sc(SYS_write, p[1], buf, 16));
    sc(SYS_setrlimit, RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    g_hold = 0;
    for (size_t off = 0; off < g_held_len;) {
        long n = sc(SYS_write, 1, g_held + off, g_held_len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
    sc(SYS_close, src);
    sc(SYS_close, fd);
#undef ROW
}

/* ---- buffers that run into an unmapped page or lie above the user range ---- */

static void badbuf(void)
{
    char *p =
        (char *)sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc(SYS_munmap, p + PG, PG);
    char *end = p + PG;
    char data[64];
    memset(data, 'z', sizeof data);
    long fd = open_text("re_c", "0123456789abcdefghij0123456789abcdefghij");
    long w = sc(SYS_open, "re_a", O_CREAT | O_TRUNC | O_RDWR, 0644);
    memset(p, 'q', PG);
    static char good[16];
    struct iovec v[3];
    show("read runs off", sc(SYS_read, fd, end - 5, 16));
    show("read pos after", sc(SYS_lseek, fd, 0, SEEK_CUR));
    show("pread64 runs off", sc(SYS_pread64, fd, end - 3, 16, 0));
    v[0] = (struct iovec){ good, 4 };
    v[1] = (struct iovec){ end - 2, 8 };
    v[2] = (struct iovec){ good, 4 };
    sc(SYS_lseek, fd, 0, SEEK_SET);
    show("readv good, runs off", sc(SYS_readv, fd, v, 3));
    show("readv pos after", sc(SYS_lseek, fd, 0, SEEK_CUR));
    show("preadv good, runs off", sc(SYS_preadv, fd, v, 3, 0, 0));
    show("preadv2 good, runs off", sc(SYS_preadv2, fd, v, 3, 0, 0, 0));
    v[1] = (struct iovec){ end, 8 };
    show("readv good, unmapped", sc(SYS_readv, fd, v, 3));
    v[1] = (struct iovec){ KPTR, 8 };
    sc(SYS_lseek, fd, 0, SEEK_SET);
    show("readv good, kernel", sc(SYS_readv, fd, v, 3));
    show("readv pos after kernel", sc(SYS_lseek, fd, 0, SEEK_CUR));
    show("writev good, kernel", sc(SYS_writev, w, v, 3));
    show("preadv good, kernel", sc(SYS_preadv, fd, v, 3, 0, 0));
    show("pwritev good, kernel", sc(SYS_pwritev, w, v, 3, 0, 0));
    v[1] = (struct iovec){ (void *)0x7ffffffff000UL, 8 }; /* the last page below TASK_SIZE */
    show("readv good, last user page", sc(SYS_readv, fd, v, 3));
    v[1] = (struct iovec){ (void *)0x7ffffffffff8UL, 16 }; /* crosses TASK_SIZE */
    show("readv good, crossing TASK_SIZE", sc(SYS_readv, fd, v, 3));
    /* Writes from a buffer that runs off. */
    memcpy(end - 5, "VWXYZ", 5);
    sc(SYS_ftruncate, w, 0);
    sc(SYS_lseek, w, 0, SEEK_SET);
    show("write runs off", sc(SYS_write, w, end - 5, 16));
    show("pwrite64 runs off", sc(SYS_pwrite64, w, end - 5, 16, 0));
    v[0] = (struct iovec){ good, 4 };
    v[1] = (struct iovec){ end - 2, 8 };
    v[2] = (struct iovec){ good, 4 };
    show("writev good, runs off", sc(SYS_writev, w, v, 3));
    show("pwritev good, runs off", sc(SYS_pwritev, w, v, 3, 0, 0));
    v[1] = (struct iovec){ end, 8 };
    show("writev good, unmapped", sc(SYS_writev, w, v, 3));
    show("written size", fsize(w));
    /* getdents64 into a buffer that runs off after the first records. */
    sc(SYS_mkdir, "re_dir", 0755);
    long d = sc(SYS_open, "re_dir", O_RDONLY | O_DIRECTORY);
    long n = sc(SYS_getdents64, d, end - 48, 4096);
    show("getdents64 runs off", n);
    n = sc(SYS_getdents64, d, end - 48, 4096);
    show("getdents64 again", n);
    sc(SYS_lseek, d, 0, SEEK_SET);
    show("getdents64 no room", sc(SYS_getdents64, d, end - 8, 4096));
    sc(SYS_close, d);
    /* Not here: a pipe read into a buffer that runs off (Linux: EFAULT,
     * and the bytes stay in the pipe; the sandbox has taken them out of
     * the pipe before it finds the fault, and returns the short count). */
    sc(SYS_close, w);
    sc(SYS_close, fd);
    sc(SYS_munmap, p, PG);
}

/* ---- lseek on special files ---- */

static void seeks(void)
{
    static const char *const files[] = { "/proc/self/status",
                                         "/proc/self/maps",
                                         "/proc/self/stat",
                                         "/proc/self/cmdline",
                                         "/proc/self/environ",
                                         "/proc/self/mounts",
                                         "/proc/version",
                                         "/proc/meminfo",
                                         "/proc/cpuinfo",
                                         "/proc/uptime",
                                         "/proc/self/comm",
                                         "/proc/self/statm",
                                         "/proc/self/mountinfo",
                                         "/proc/filesystems",
                                         "/proc/sys/kernel/ostype",
                                         "/proc/self/fdinfo/0",
                                         "/dev/null",
                                         "/dev/zero",
                                         "/dev/full",
                                         "/dev/random",
                                         "/dev/urandom",
                                         "/dev/tty",
                                         "/proc",
                                         "/proc/self/fd" };
    char what[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        long fd = sc(SYS_open, files[i], O_RDONLY);
        if (fd < 0) {
            snprintf(what, sizeof what, "open %s", files[i]);
            show(what, fd);
            continue;
        }
        static const struct {
            const char *n;
            long off;
            int wh;
        } s[] = { { "SET 0", 0, SEEK_SET },          { "SET 5", 5, SEEK_SET },
                  { "CUR 0", 0, SEEK_CUR },          { "CUR 3", 3, SEEK_CUR },
                  { "END 0", 0, SEEK_END },          { "END -2", -2, SEEK_END },
                  { "SET -1", -1, SEEK_SET },        { "DATA 0", 0, SEEK_DATA },
                  { "SET 2^62", 1L << 62, SEEK_SET } };
        for (size_t j = 0; j < sizeof s / sizeof s[0]; j++) {
            snprintf(what, sizeof what, "lseek %s %s", files[i], s[j].n);
            show(what, sc(SYS_lseek, fd, s[j].off, s[j].wh));
        }
        sc(SYS_close, fd);
    }
    int p[2];
    sc(SYS_pipe, p);
    show("lseek pipe SET 0", sc(SYS_lseek, p[0], 0, SEEK_SET));
    show("lseek pipe END 0", sc(SYS_lseek, p[1], 0, SEEK_END));
    show("lseek pipe bad whence", sc(SYS_lseek, p[0], 0, 9));
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
    sc(SYS_mknod, "re_fifo", S_IFIFO | 0644, 0);
    long f = sc(SYS_open, "re_fifo", O_RDWR);
    show("lseek fifo SET 0", sc(SYS_lseek, f, 0, SEEK_SET));
    show("lseek fifo CUR 0", sc(SYS_lseek, f, 0, SEEK_CUR));
    sc(SYS_close, f);
}

int main(void)
{
    snprintf(shm, sizeof shm, "/dev/shm/re_%ld", sc(SYS_getpid));
    sc(SYS_mkdir, shm, 0755);
    cleanup();
    accmode3(".");
    accmode3(shm);
    accmode3_dev();
    odirect();
    overflow(".");
    overflow(shm);
    fsize_limit(".");
    fsize_limit(shm);
    badbuf();
    seeks();
    cleanup();
    sc(SYS_rmdir, shm);
    return finish();
}
