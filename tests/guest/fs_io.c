/* fs_io.c: reading and writing regular files: read, write, the positional
 * and vector variants, lseek, truncate, fallocate, the sync calls, and the
 * in-kernel copies (sendfile, copy_file_range, splice, tee), with the errno
 * Linux gives (checked natively on ext4 and tmpfs). Works in its cwd, the
 * harness's scratch directory, and in /tmp. */
#include "fs_util.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Not in musl 1.2.3's headers. */
#define RWF_HIPRI 0x01
#define RWF_DSYNC 0x02
#define RWF_APPEND 0x10

#define PG 4096L

/* The native run leaves nothing behind for the sandboxed one. */
static void cleanup(void)
{
    static const char *const files[] = { "io_a", "io_b", "io_c", "io_d", "io_s", "io_t" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        sc(SYS_unlink, files[i]);
}

static long tell(long fd)
{
    return sc(SYS_lseek, fd, 0, SEEK_CUR);
}

/* The whole content equals want (len bytes), read with pread. */
static int has_content(long fd, const void *want, long len)
{
    static char buf[16384];
    long n = sc(SYS_pread64, fd, buf, sizeof buf, 0);
    return n == len && memcmp(buf, want, len) == 0;
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_rw(void)
{
    long fd = sc(SYS_open, "io_a", O_CREAT | O_TRUNC | O_RDWR, 0644);
    check_ret(fd, 3, "create io_a");
    char buf[64];
    check_ret(sc(SYS_write, fd, "x", 0), 0, "write 0 bytes");
    check_ret(sc(SYS_write, fd, NULL, 0), 0, "write 0 bytes from NULL");
    check_ret(sc(SYS_read, fd, NULL, 0), 0, "read 0 bytes into NULL");
    check_ret(fsize(fd), 0, "still empty");
    check_ret(sc(SYS_write, fd, "0123456789", 10), 10, "write 10 bytes");
    check_ret(tell(fd), 10, "offset 10");
    check_ret(sc(SYS_read, fd, buf, sizeof buf), 0, "read at EOF gives 0");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "SEEK_SET 0");
    check_ret(sc(SYS_read, fd, buf, 4), 4, "read 4");
    check(memcmp(buf, "0123", 4) == 0, "reads 0123");
    check_ret(sc(SYS_lseek, fd, 2, SEEK_CUR), 6, "SEEK_CUR +2");
    check_ret(sc(SYS_read, fd, buf, sizeof buf), 4, "read past EOF is short");
    check(memcmp(buf, "6789", 4) == 0, "reads 6789");
    check_ret(sc(SYS_lseek, fd, -3, SEEK_END), 7, "SEEK_END -3");
    check_ret(sc(SYS_lseek, fd, -3, SEEK_CUR), 4, "SEEK_CUR -3");
    check_err(sc(SYS_lseek, fd, -1, SEEK_SET), EINVAL, "SEEK_SET -1");
    check_err(sc(SYS_lseek, fd, -100, SEEK_CUR), EINVAL, "SEEK_CUR before 0");
    check_err(sc(SYS_lseek, fd, -11, SEEK_END), EINVAL, "SEEK_END before 0");
    check_err(sc(SYS_lseek, fd, 0, 5), EINVAL, "whence 5");
    check_err(sc(SYS_lseek, fd, 0, -1), EINVAL, "whence -1");
    check_ret(tell(fd), 4, "failed seeks left the offset");
    check_err(sc(SYS_lseek, -1, 0, SEEK_SET), EBADF, "lseek fd -1");
    check_err(sc(SYS_lseek, 99, 0, SEEK_SET), EBADF, "lseek a closed fd");

    /* Past EOF: reads give 0, a write leaves a hole of zeros. */
    check_ret(sc(SYS_lseek, fd, 20, SEEK_SET), 20, "SEEK_SET past EOF");
    check_ret(sc(SYS_read, fd, buf, sizeof buf), 0, "read there gives 0");
    check_ret(fsize(fd), 10, "size unchanged");
    check_ret(sc(SYS_write, fd, "X", 1), 1, "write at 20");
    check_ret(fsize(fd), 21, "size 21");
    memset(buf, 'q', sizeof buf);
    check_ret(sc(SYS_pread64, fd, buf, sizeof buf, 0), 21, "pread it all");
    check(memcmp(buf, "0123456789", 10) == 0 && all_zero(buf + 10, 10) && buf[20] == 'X',
          "10 bytes, 10 zeros, X");

    /* Small file: all data up to EOF, the implicit hole at EOF. */
    check_ret(sc(SYS_lseek, fd, 0, SEEK_DATA), 0, "SEEK_DATA 0");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_HOLE), 21, "SEEK_HOLE 0 is EOF");
    check_ret(sc(SYS_lseek, fd, 20, SEEK_DATA), 20, "SEEK_DATA 20");
    check_ret(sc(SYS_lseek, fd, 5, SEEK_HOLE), 21, "SEEK_HOLE 5 is EOF");
    check_err(sc(SYS_lseek, fd, 21, SEEK_DATA), ENXIO, "SEEK_DATA at EOF");
    check_err(sc(SYS_lseek, fd, 21, SEEK_HOLE), ENXIO, "SEEK_HOLE at EOF");
    check_err(sc(SYS_lseek, fd, 100, SEEK_DATA), ENXIO, "SEEK_DATA past EOF");
    check_ret(tell(fd), 21, "offset is the last successful result");

    /* pread/pwrite leave the offset alone. */
    check_ret(sc(SYS_pread64, fd, buf, 4, 3), 4, "pread 4 at 3");
    check(memcmp(buf, "3456", 4) == 0, "reads 3456");
    check_ret(tell(fd), 21, "offset unchanged");
    check_err(sc(SYS_pread64, fd, buf, 4, -1), EINVAL, "pread at -1");
    check_err(sc(SYS_pwrite64, fd, "a", 1, -1), EINVAL, "pwrite at -1");
    check_ret(sc(SYS_pread64, fd, buf, 4, 100), 0, "pread past EOF gives 0");
    check_ret(sc(SYS_pwrite64, fd, "AB", 2, 30), 2, "pwrite at 30");
    check_ret(fsize(fd), 32, "extends to 32");
    check_ret(tell(fd), 21, "offset still unchanged");
    check_ret(sc(SYS_pwrite64, fd, "ab", 2, 0), 2, "pwrite at 0");
    check_ret(sc(SYS_pread64, fd, buf, 3, 0), 3, "pread at 0");
    check(memcmp(buf, "ab2", 3) == 0, "overwrote in place");

    /* A read stops at the first unmapped page of the buffer. */
    char *e =
        (char *)sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc(SYS_munmap, e + PG, PG);
    check_ret(sc(SYS_pread64, fd, e + PG - 4, 10, 0), 4,
              "pread into a buffer running into unmapped memory is short");
    check_err(sc(SYS_pread64, fd, e + PG, 10, 0), EFAULT, "pread into unmapped memory");
    check_err(sc(SYS_write, fd, BADPTR, 4), EFAULT, "write from a bad buffer");
    check_ret(sc(SYS_pwrite64, fd, e + PG - 3, 10, 0), 3,
              "pwrite from a buffer running into unmapped memory is short");
    sc(SYS_munmap, e, PG);
    sc(SYS_close, fd);

    /* Access modes. */
    long r = sc(SYS_open, "io_a", O_RDONLY);
    long w = sc(SYS_open, "io_a", O_WRONLY);
    check_err(sc(SYS_write, r, "x", 1), EBADF, "write an O_RDONLY fd");
    check_err(sc(SYS_pwrite64, r, "x", 1, 0), EBADF, "pwrite an O_RDONLY fd");
    check_err(sc(SYS_read, w, buf, 1), EBADF, "read an O_WRONLY fd");
    check_err(sc(SYS_pread64, w, buf, 1, 0), EBADF, "pread an O_WRONLY fd");
    /* The access mode is checked before the count. */
    check_err(sc(SYS_write, r, "x", 0), EBADF, "write 0 bytes to an O_RDONLY fd");
    check_err(sc(SYS_read, w, buf, 0), EBADF, "read 0 bytes from an O_WRONLY fd");
    sc(SYS_close, r);
    sc(SYS_close, w);
    long d = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_err(sc(SYS_read, d, buf, sizeof buf), EISDIR, "read a directory");
    check_err(sc(SYS_pread64, d, buf, sizeof buf, 0), EISDIR, "pread a directory");
    struct iovec iov = { buf, sizeof buf };
    check_err(sc(SYS_readv, d, &iov, 1), EISDIR, "readv a directory");
    check_err(sc(SYS_write, d, "x", 1), EBADF, "write a directory");
    sc(SYS_close, d);
}

static void test_vectors(void)
{
    long fd = sc(SYS_open, "io_b", O_CREAT | O_TRUNC | O_RDWR, 0644);
    check_ret(fd, 3, "create io_b");
    struct iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
    check_ret(sc(SYS_writev, fd, wv, 3), 6, "writev 2+0+4");
    check_ret(tell(fd), 6, "offset 6");
    check_ret(sc(SYS_writev, fd, wv, 0), 0, "writev of no iovecs");
    char a[2], b[3], c[10];
    struct iovec rv[3] = { { a, 2 }, { b, 3 }, { c, 10 } };
    sc(SYS_lseek, fd, 0, SEEK_SET);
    check_ret(sc(SYS_readv, fd, rv, 3), 6, "readv 2+3+10 of 6 bytes");
    check(memcmp(a, "ab", 2) == 0 && memcmp(b, "cde", 3) == 0 && c[0] == 'f', "filled in order");
    check_ret(tell(fd), 6, "offset 6");

    struct iovec pv[2] = { { "XY", 2 }, { "Z", 1 } };
    check_ret(sc(SYS_pwritev, fd, pv, 2, 2, 0), 3, "pwritev 3 bytes at 2");
    check_ret(tell(fd), 6, "pwritev left the offset");
    check(has_content(fd, "abXYZf", 6), "content abXYZf");
    struct iovec qv[2] = { { a, 2 }, { b, 2 } };
    check_ret(sc(SYS_preadv, fd, qv, 2, 1, 0), 4, "preadv 2+2 at 1");
    check(memcmp(a, "bX", 2) == 0 && memcmp(b, "YZ", 2) == 0, "reads bX YZ");
    check_ret(tell(fd), 6, "preadv left the offset");
    check_err(sc(SYS_preadv, fd, qv, 2, -1, 0), EINVAL, "preadv at -1");
    check_err(sc(SYS_pwritev, fd, pv, 2, -1, 0), EINVAL, "pwritev at -1");

    /* preadv2/pwritev2 at -1 use and move the file offset. */
    sc(SYS_lseek, fd, 1, SEEK_SET);
    struct iovec one = { c, 3 };
    check_ret(sc(SYS_preadv2, fd, &one, 1, -1, 0, 0), 3, "preadv2 at -1");
    check(memcmp(c, "bXY", 3) == 0, "reads from the offset");
    check_ret(tell(fd), 4, "and moves it");
    struct iovec q = { "Q", 1 };
    check_ret(sc(SYS_pwritev2, fd, &q, 1, -1, 0, 0), 1, "pwritev2 at -1");
    check_ret(tell(fd), 5, "moves the offset");
    check(has_content(fd, "abXYQf", 6), "content abXYQf");
    check_ret(sc(SYS_preadv2, fd, &one, 1, 0, 0, 0), 3, "preadv2 at 0");
    check_ret(tell(fd), 5, "leaves the offset");
    check_ret(sc(SYS_preadv2, fd, &one, 1, 0, 0, RWF_HIPRI), 3, "preadv2 RWF_HIPRI");
    check_ret(sc(SYS_pwritev2, fd, &q, 1, 0, 0, RWF_DSYNC), 1, "pwritev2 RWF_DSYNC");
    struct iovec ev = { "E", 1 };
    check_ret(sc(SYS_pwritev2, fd, &ev, 1, 0, 0, RWF_APPEND), 1, "pwritev2 RWF_APPEND at 0");
    check(has_content(fd, "QbXYQfE", 7), "appended: QbXYQfE");
    check_ret(tell(fd), 5, "offset unchanged");
    check_err(sc(SYS_preadv2, fd, &one, 1, 0, 0, 1U << 30), ENOTSUP, "preadv2 unknown RWF flag");
    check_err(sc(SYS_pwritev2, fd, &q, 1, 0, 0, 1U << 30), ENOTSUP, "pwritev2 unknown RWF flag");
    check_err(sc(SYS_preadv2, fd, &one, 1, -2, 0, 0), EINVAL, "preadv2 at -2");
    check(has_content(fd, "QbXYQfE", 7), "failed calls wrote nothing");
    sc(SYS_close, fd);
}

static void test_truncate(void)
{
    long fd = open_text("io_c", "hello");
    check_ret(fd, 3, "io_c holds hello");
    check_ret(sc(SYS_lseek, fd, 2, SEEK_SET), 2, "offset 2");
    check_ret(sc(SYS_ftruncate, fd, 12), 0, "ftruncate to 12");
    check_ret(fsize(fd), 12, "size 12");
    check(has_content(fd, "hello\0\0\0\0\0\0\0", 12), "grown part reads zeros");
    check_ret(tell(fd), 2, "offset unchanged");
    check_ret(sc(SYS_ftruncate, fd, 3), 0, "ftruncate to 3");
    check(has_content(fd, "hel", 3), "content hel");
    check_ret(sc(SYS_ftruncate, fd, 0), 0, "ftruncate to 0");
    check_ret(sc(SYS_ftruncate, fd, 4), 0, "and back to 4");
    check(has_content(fd, "\0\0\0\0", 4), "old bytes are gone");
    check_err(sc(SYS_ftruncate, fd, -1), EINVAL, "ftruncate to -1");
    check_err(sc(SYS_ftruncate, -1, 0), EBADF, "ftruncate fd -1");
    long r = sc(SYS_open, "io_c", O_RDONLY);
    check_err(sc(SYS_ftruncate, r, 0), EINVAL, "ftruncate an O_RDONLY fd");
    sc(SYS_close, r);
    long p = sc(SYS_open, "io_c", O_PATH);
    check_err(sc(SYS_ftruncate, p, 0), EBADF, "ftruncate an O_PATH fd");
    sc(SYS_close, p);
    long d = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_err(sc(SYS_ftruncate, d, 0), EINVAL, "ftruncate a directory fd");
    sc(SYS_close, d);
    int pp[2];
    sc(SYS_pipe, pp);
    check_err(sc(SYS_ftruncate, pp[1], 0), EINVAL, "ftruncate a pipe");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);
    long ap = sc(SYS_open, "io_c", O_WRONLY | O_APPEND);
    check_ret(sc(SYS_ftruncate, ap, 1), 0, "ftruncate an O_APPEND fd");
    sc(SYS_close, ap);
    check_ret(fsize(fd), 1, "size 1");

    check_ret(sc(SYS_truncate, "io_c", 8), 0, "truncate by path to 8");
    check_ret(fsize(fd), 8, "size 8");
    check_err(sc(SYS_truncate, "io_c", -1), EINVAL, "truncate to -1");
    check_err(sc(SYS_truncate, ".", 0), EISDIR, "truncate a directory");
    check_err(sc(SYS_truncate, "io_none", 0), ENOENT, "truncate a missing file");
    check_err(sc(SYS_truncate, "", 0), ENOENT, "truncate the empty path");
    check_err(sc(SYS_truncate, BADPTR, 0), EFAULT, "truncate a bad path");
    check_err(sc(SYS_truncate, "io_c/x", 0), ENOTDIR, "truncate through a file");
    sc(SYS_close, fd);
}

/* fallocate on a file at path; the same answers on ext4 and tmpfs. */
static void test_fallocate(const char *where, const char *path)
{
    long fd = sc(SYS_open, path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    check_ret(fd, 3, "create a file for fallocate");
    check_ret(sc(SYS_fallocate, fd, 0, 0, 8192), 0, "fallocate mode 0, 8192 bytes");
    check_ret(fsize(fd), 8192, "extends the size");
    static char buf[8192];
    memset(buf, 1, sizeof buf);
    check(sc(SYS_pread64, fd, buf, sizeof buf, 0) == 8192 && all_zero(buf, 8192),
          "reads 8192 zeros");
    check_ret(sc(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 8192, 4096), 0,
              "fallocate FALLOC_FL_KEEP_SIZE past EOF");
    check_ret(fsize(fd), 8192, "size unchanged");
    check_ret(sc(SYS_fallocate, fd, 0, 100, 50), 0, "fallocate inside the file");
    check_ret(fsize(fd), 8192, "size unchanged");
    check_ret(sc(SYS_pwrite64, fd, "abc", 3, 4096), 3, "write abc at 4096");
    check_ret(sc(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096), 0,
              "punch a hole over it");
    check(sc(SYS_pread64, fd, buf, 3, 4096) == 3 && all_zero(buf, 3), "reads zeros");
    check_ret(fsize(fd), 8192, "size unchanged");
    check_err(sc(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), ENOTSUP,
              "FALLOC_FL_PUNCH_HOLE without KEEP_SIZE");
    check_err(sc(SYS_fallocate, fd, 0x100, 0, 4096), ENOTSUP, "fallocate mode 0x100");
    check_err(sc(SYS_fallocate, fd, 0, 0, 0), EINVAL, "fallocate length 0");
    check_err(sc(SYS_fallocate, fd, 0, 0, -1), EINVAL, "fallocate length -1");
    check_err(sc(SYS_fallocate, fd, 0, -1, 10), EINVAL, "fallocate offset -1");
    check_err(sc(SYS_fallocate, -1, 0, 0, 10), EBADF, "fallocate fd -1");
    long r = sc(SYS_open, path, O_RDONLY);
    check_err(sc(SYS_fallocate, r, 0, 0, 10), EBADF, "fallocate an O_RDONLY fd");
    sc(SYS_close, r);
    int pp[2];
    sc(SYS_pipe, pp);
    check_err(sc(SYS_fallocate, pp[1], 0, 0, 10), ESPIPE, "fallocate a pipe");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);
    sc(SYS_close, fd);
    sc(SYS_unlink, path);
    out("# fallocate in %s done\n", where);
}

static void test_sync(void)
{
    long fd = sc(SYS_open, "io_a", O_RDWR);
    check_ret(sc(SYS_fsync, fd), 0, "fsync");
    check_ret(sc(SYS_fdatasync, fd), 0, "fdatasync");
    check_ret(sc(SYS_syncfs, fd), 0, "syncfs");
    check_ret(sc(SYS_sync), 0, "sync");
    check_err(sc(SYS_fsync, -1), EBADF, "fsync fd -1");
    check_err(sc(SYS_fdatasync, 99), EBADF, "fdatasync a closed fd");
    check_err(sc(SYS_syncfs, -1), EBADF, "syncfs fd -1");
    long r = sc(SYS_open, "io_a", O_RDONLY);
    check_ret(sc(SYS_fsync, r), 0, "fsync an O_RDONLY fd");
    sc(SYS_close, r);
    long d = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_fsync, d), 0, "fsync a directory");
    sc(SYS_close, d);
    long p = sc(SYS_open, "io_a", O_PATH);
    check_err(sc(SYS_fsync, p), EBADF, "fsync an O_PATH fd");
    sc(SYS_close, p);
    int pp[2];
    sc(SYS_pipe, pp);
    check_err(sc(SYS_fsync, pp[1]), EINVAL, "fsync a pipe");
    check_err(sc(SYS_fdatasync, pp[0]), EINVAL, "fdatasync a pipe");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);
    sc(SYS_close, fd);
}

static void test_sendfile(void)
{
    long in = open_text("io_s", "0123456789abcdef");
    long outf = sc(SYS_open, "io_t", O_CREAT | O_TRUNC | O_RDWR, 0644);
    check(in == 3 && outf == 4, "source io_s (16 bytes) and empty io_t");
    check_ret(sc(SYS_sendfile, outf, in, NULL, 5), 5, "sendfile 5, no offset");
    check_ret(tell(in), 5, "source offset moved");
    check_ret(tell(outf), 5, "destination offset moved");
    long off = 10;
    check_ret(sc(SYS_sendfile, outf, in, &off, 100), 6, "sendfile 100 from 10");
    check(off == 16, "offset pointer updated to 16 (%ld)", off);
    check_ret(tell(in), 5, "source offset unchanged");
    check(has_content(outf, "01234abcdef", 11), "destination 01234abcdef");
    check_ret(sc(SYS_sendfile, outf, in, &off, 10), 0, "sendfile at EOF");
    check_ret(sc(SYS_sendfile, outf, in, NULL, 0), 0, "sendfile 0 bytes");
    off = -1;
    check_err(sc(SYS_sendfile, outf, in, &off, 1), EINVAL, "sendfile offset -1");
    check_err(sc(SYS_sendfile, outf, in, BADPTR, 1), EFAULT, "sendfile bad offset pointer");
    long ro = sc(SYS_open, "io_t", O_RDONLY);
    check_err(sc(SYS_sendfile, ro, in, NULL, 1), EBADF, "sendfile to an O_RDONLY fd");
    sc(SYS_close, ro);
    long wo = sc(SYS_open, "io_s", O_WRONLY);
    check_err(sc(SYS_sendfile, outf, wo, NULL, 1), EBADF, "sendfile from an O_WRONLY fd");
    sc(SYS_close, wo);
    long ap = sc(SYS_open, "io_t", O_WRONLY | O_APPEND);
    check_err(sc(SYS_sendfile, ap, in, NULL, 1), EINVAL, "sendfile to an O_APPEND fd");
    sc(SYS_close, ap);
    check_err(sc(SYS_sendfile, -1, in, NULL, 1), EBADF, "sendfile to fd -1");
    int pp[2];
    sc(SYS_pipe, pp);
    off = 0;
    check_ret(sc(SYS_sendfile, pp[1], in, &off, 4), 4, "sendfile into a pipe");
    char buf[8] = { 0 };
    check(sc(SYS_read, pp[0], buf, sizeof buf) == 4 && memcmp(buf, "0123", 4) == 0,
          "the pipe holds 0123");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);

    /* copy_file_range: io_t is 01234abcdef, offset 11; io_s offset 5. */
    sc(SYS_lseek, in, 0, SEEK_SET);
    check_ret(sc(SYS_copy_file_range, in, NULL, outf, NULL, 4, 0), 4,
              "copy_file_range 4, no offsets");
    check_ret(tell(in), 4, "source offset moved");
    check_ret(tell(outf), 15, "destination offset moved");
    long oi = 10, oo = 0;
    check_ret(sc(SYS_copy_file_range, in, &oi, outf, &oo, 3, 0), 3,
              "copy_file_range 3 with offsets");
    check(oi == 13 && oo == 3, "offsets updated to 13 and 3");
    check_ret(tell(in), 4, "source offset unchanged");
    check_ret(tell(outf), 15, "destination offset unchanged");
    check(has_content(outf, "abc34abcdef0123", 15), "destination abc34abcdef0123");
    oi = 100;
    check_ret(sc(SYS_copy_file_range, in, &oi, outf, NULL, 3, 0), 0,
              "copy_file_range from past EOF");
    check_ret(sc(SYS_copy_file_range, in, NULL, outf, NULL, 0, 0), 0, "copy_file_range 0 bytes");
    check_err(sc(SYS_copy_file_range, in, NULL, outf, NULL, 3, 1), EINVAL,
              "copy_file_range flags 1");
    oi = 0;
    oo = 2;
    check_err(sc(SYS_copy_file_range, in, &oi, in, &oo, 5, 0), EINVAL,
              "copy_file_range overlapping in one file");
    oi = -1;
    /* Not EINVAL: the range check (pos + len wraps) comes first. */
    check_err(sc(SYS_copy_file_range, in, &oi, outf, NULL, 3, 0), EOVERFLOW,
              "copy_file_range offset -1");
    ap = sc(SYS_open, "io_t", O_WRONLY | O_APPEND);
    check_err(sc(SYS_copy_file_range, in, NULL, ap, NULL, 3, 0), EBADF,
              "copy_file_range to an O_APPEND fd");
    sc(SYS_close, ap);
    ro = sc(SYS_open, "io_s", O_RDONLY);
    check_err(sc(SYS_copy_file_range, outf, NULL, ro, NULL, 3, 0), EBADF,
              "copy_file_range to an O_RDONLY fd");
    sc(SYS_close, ro);
    sc(SYS_pipe, pp);
    check_err(sc(SYS_copy_file_range, in, NULL, pp[1], NULL, 3, 0), EINVAL,
              "copy_file_range to a pipe");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);
    check(has_content(outf, "abc34abcdef0123", 15), "failed calls changed nothing");
    sc(SYS_close, in);
    sc(SYS_close, outf);
}

static long nread(long fd)
{
    int n = -1;
    long r = sc(SYS_ioctl, fd, FIONREAD, &n);
    return r < 0 ? r : n;
}

static void test_splice(void)
{
    long in = open_text("io_s", "0123456789abcdef");
    long outf = sc(SYS_open, "io_t", O_CREAT | O_TRUNC | O_RDWR, 0644);
    int p[2], q[2];
    check(in == 3 && outf == 4 && sc(SYS_pipe, p) == 0 && sc(SYS_pipe, q) == 0,
          "files and two pipes");
    long off = 2;
    check_ret(sc(SYS_splice, in, &off, p[1], NULL, 5, 0), 5,
              "splice 5 from the file at 2 into a pipe");
    check(off == 7, "offset pointer updated to 7 (%ld)", off);
    check_ret(tell(in), 0, "file offset unchanged");
    check_ret(sc(SYS_splice, in, NULL, p[1], NULL, 3, 0), 3, "splice 3 from the file offset");
    check_ret(tell(in), 3, "file offset moved");
    check_ret(nread(p[0]), 8, "8 bytes in the pipe");
    check_ret(sc(SYS_tee, p[0], q[1], 100, 0), 8, "tee them to another pipe");
    check_ret(nread(p[0]), 8, "the first pipe keeps them");
    check_ret(nread(q[0]), 8, "the second pipe has them");
    long oo = 0;
    check_ret(sc(SYS_splice, p[0], NULL, outf, &oo, 100, 0), 8,
              "splice the pipe into the file at 0");
    check(oo == 8, "offset pointer updated to 8");
    check(has_content(outf, "23456012", 8), "the file holds 23456012");
    char buf[16] = { 0 };
    check_ret(sc(SYS_read, q[0], buf, sizeof buf), 8, "read the tee copy");
    check(memcmp(buf, "23456012", 8) == 0, "same bytes");

    /* Both pipes are empty now, with writers. */
    check_err(sc(SYS_splice, p[0], NULL, outf, NULL, 4, SPLICE_F_NONBLOCK), EAGAIN,
              "splice from an empty pipe, SPLICE_F_NONBLOCK");
    check_err(sc(SYS_tee, p[0], q[1], 4, SPLICE_F_NONBLOCK), EAGAIN,
              "tee from an empty pipe, SPLICE_F_NONBLOCK");
    check_ret(sc(SYS_splice, in, NULL, p[1], NULL, 0, 0), 0, "splice 0 bytes");
    off = 0;
    check_err(sc(SYS_splice, p[0], &off, outf, NULL, 4, 0), ESPIPE,
              "splice with an offset on the pipe side");
    check_err(sc(SYS_splice, in, NULL, outf, NULL, 4, 0), EINVAL, "splice between two files");
    check_err(sc(SYS_splice, in, NULL, p[1], NULL, 4, 0x100), EINVAL, "splice unknown flag");
    check_err(sc(SYS_tee, in, q[1], 4, 0), EINVAL, "tee from a file");
    check_err(sc(SYS_tee, p[0], p[1], 4, 0), EINVAL, "tee a pipe into itself");
    long ro = sc(SYS_open, "io_s", O_RDONLY);
    check_err(sc(SYS_splice, p[0], NULL, ro, NULL, 4, 0), EBADF, "splice into an O_RDONLY file");
    sc(SYS_close, ro);
    long ap = sc(SYS_open, "io_t", O_WRONLY | O_APPEND);
    sc(SYS_write, p[1], "zz", 2);
    check_err(sc(SYS_splice, p[0], NULL, ap, NULL, 2, 0), EINVAL, "splice into an O_APPEND file");
    sc(SYS_close, ap);
    check_ret(nread(p[0]), 2, "the pipe kept its bytes");
    sc(SYS_close, p[1]);
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 2, "drain it");
    check_ret(sc(SYS_splice, p[0], NULL, outf, NULL, 4, 0), 0,
              "splice from an empty pipe without writers gives 0");
    sc(SYS_close, p[0]);
    sc(SYS_close, q[0]);
    sc(SYS_close, q[1]);
    sc(SYS_close, in);
    sc(SYS_close, outf);
}

int main(void)
{
    /* Known state: nothing inherited above fd 2, a fixed umask. */
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_umask, 022);
    cleanup();
    test_rw();
    test_vectors();
    test_truncate();
    test_fallocate("cwd", "io_d");
    /* The pid keeps concurrent native runs apart in the shared /tmp. */
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/fs_io.%ld", sc(SYS_getpid));
    test_fallocate("/tmp", tmp);
    test_sync();
    test_sendfile();
    test_splice();
    cleanup();
    return finish();
}
