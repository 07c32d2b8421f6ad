/* fs_pipe.c: pipes and FIFOs within one process: pipe/pipe2 and their
 * flags, reading, writing, EOF and EPIPE, packet mode, FIONREAD, the pipe
 * size fcntls, filling a non-blocking pipe, and FIFOs made with mknod, with
 * the errno Linux gives (checked natively). SIGPIPE is blocked, as signal
 * delivery is not part of this test. */
#include "fs_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PG 4096L

struct rlim {
    unsigned long cur, max;
};

static void cleanup(void)
{
    static const char *const files[] = { "pp_fifo", "pp_fifo2", "pp_fifo3", "pp_reg", "pp_reg2" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        sc(SYS_unlink, files[i]);
}

static long getfd(long fd)
{
    return sc(SYS_fcntl, fd, F_GETFD);
}

static long nread(long fd)
{
    int n = -1;
    long r = sc(SYS_ioctl, fd, FIONREAD, &n);
    return r < 0 ? r : n;
}

static void closep(int p[2])
{
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
}

static void test_pipe(void)
{
    int p[2] = { -1, -1 };
    check_ret(sc(SYS_pipe, p), 0, "pipe");
    check(p[0] == 3 && p[1] == 4, "read end 3, write end 4 (%d %d)", p[0], p[1]);
    check_ret(getfl(p[0]), O_RDONLY, "F_GETFL of the read end");
    check_ret(getfl(p[1]), O_WRONLY, "F_GETFL of the write end");
    check_ret(getfd(p[0]), 0, "not close-on-exec");
    struct stat s0, s1;
    check_ret(sc(SYS_fstat, p[0], &s0), 0, "fstat the read end");
    check_ret(sc(SYS_fstat, p[1], &s1), 0, "fstat the write end");
    check(s0.st_mode == (S_IFIFO | 0600), "mode S_IFIFO|0600 (0%o)", (unsigned)s0.st_mode);
    check(s0.st_size == 0 && s0.st_nlink == 1 && s0.st_blksize == PG,
          "size 0, one link, blksize 4096");
    check(s0.st_uid == (uid_t)sc(SYS_geteuid) && s0.st_gid == (gid_t)sc(SYS_getegid),
          "owned by the effective ids");
    check(s0.st_ino == s1.st_ino && s0.st_dev == s1.st_dev, "both ends are one inode");

    char buf[128];
    check_ret(sc(SYS_write, p[1], "hello", 5), 5, "write 5");
    check_ret(nread(p[0]), 5, "FIONREAD on the read end");
    check_ret(nread(p[1]), 5, "FIONREAD on the write end");
    check(sc(SYS_fstat, p[0], &s0) == 0 && s0.st_size == 0, "st_size stays 0");
    check_ret(sc(SYS_read, p[0], buf, 2), 2, "read 2");
    check(memcmp(buf, "he", 2) == 0, "reads he");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 3, "read the rest");
    check(memcmp(buf, "llo", 3) == 0, "reads llo");
    check_ret(nread(p[0]), 0, "FIONREAD 0 when empty");
    check_ret(sc(SYS_write, p[1], buf, 0), 0, "write 0 bytes");
    check_ret(sc(SYS_read, p[0], buf, 0), 0, "read 0 bytes from an empty pipe");
    check_err(sc(SYS_read, p[1], buf, 1), EBADF, "read the write end");
    check_err(sc(SYS_write, p[0], "x", 1), EBADF, "write the read end");
    check_err(sc(SYS_lseek, p[0], 0, SEEK_CUR), ESPIPE, "lseek the read end");
    check_err(sc(SYS_lseek, p[1], 0, SEEK_SET), ESPIPE, "lseek the write end");
    check_err(sc(SYS_pread64, p[0], buf, 1, 0), ESPIPE, "pread");
    check_err(sc(SYS_pwrite64, p[1], "x", 1, 0), ESPIPE, "pwrite");
    struct iovec iov = { buf, sizeof buf };
    check_err(sc(SYS_preadv2, p[0], &iov, 1, 0, 0, 0), ESPIPE, "preadv2 at 0");
    check_ret(sc(SYS_write, p[1], "abc", 3), 3, "write 3");
    check_ret(sc(SYS_preadv2, p[0], &iov, 1, -1, 0, 0), 3, "preadv2 at -1 reads like read");
    check(memcmp(buf, "abc", 3) == 0, "reads abc");
    struct iovec wv[2] = { { "12", 2 }, { "345", 3 } };
    check_ret(sc(SYS_writev, p[1], wv, 2), 5, "writev 2+3");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 5, "read them in one go");
    check(memcmp(buf, "12345", 5) == 0, "reads 12345");
    check_ret(sc(SYS_fcntl, p[0], F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
    check_err(sc(SYS_read, p[0], buf, 1), EAGAIN, "read an empty non-blocking pipe");
    closep(p);

    check_err(sc(SYS_pipe, BADPTR), EFAULT, "pipe to a bad pointer");
    check_err(sc(SYS_pipe2, NULL, 0), EFAULT, "pipe2 to NULL");
    check_ret(sc(SYS_dup, 0), 3, "the failed calls left no fd behind");
    sc(SYS_close, 3);
}

static void test_pipe2(void)
{
    int p[2];
    check_ret(sc(SYS_pipe2, p, O_CLOEXEC), 0, "pipe2 O_CLOEXEC");
    check(getfd(p[0]) == FD_CLOEXEC && getfd(p[1]) == FD_CLOEXEC, "both ends close-on-exec");
    check(getfl(p[0]) == O_RDONLY && getfl(p[1]) == O_WRONLY, "O_CLOEXEC is not a status flag");
    closep(p);
    check_ret(sc(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2 O_NONBLOCK");
    check_ret(getfl(p[0]), O_RDONLY | O_NONBLOCK, "read end O_NONBLOCK");
    check_ret(getfl(p[1]), O_WRONLY | O_NONBLOCK, "write end O_NONBLOCK");
    check_ret(getfd(p[0]), 0, "not close-on-exec");
    char buf[16];
    check_err(sc(SYS_read, p[0], buf, 1), EAGAIN, "read empty: EAGAIN");
    closep(p);
    check_err(sc(SYS_pipe2, p, O_APPEND), EINVAL, "pipe2 O_APPEND");
    check_err(sc(SYS_pipe2, p, O_WRONLY), EINVAL, "pipe2 O_WRONLY");
    check_err(sc(SYS_pipe2, p, 1 << 30), EINVAL, "pipe2 flag bit 30");
    check_err(sc(SYS_pipe2, BADPTR, O_CLOEXEC), EFAULT, "pipe2 to a bad pointer");
    check_ret(sc(SYS_dup, 0), 3, "the failed calls left no fd behind");
    sc(SYS_close, 3);

    /* O_DIRECT: packet mode, each write is one read. */
    check_ret(sc(SYS_pipe2, p, O_DIRECT | O_NONBLOCK), 0, "pipe2 O_DIRECT");
    check_ret(getfl(p[0]), O_RDONLY | O_NONBLOCK, "read end has no O_DIRECT");
    check_ret(getfl(p[1]), O_WRONLY | O_DIRECT | O_NONBLOCK, "write end O_DIRECT");
    check_ret(sc(SYS_write, p[1], "abc", 3), 3, "write a 3-byte packet");
    check_ret(sc(SYS_write, p[1], "defgh", 5), 5, "write a 5-byte packet");
    check_ret(nread(p[0]), 8, "FIONREAD counts both");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 3, "a read returns one packet");
    check(memcmp(buf, "abc", 3) == 0, "reads abc");
    check_ret(sc(SYS_read, p[0], buf, 2), 2, "a short read of the next packet");
    check(memcmp(buf, "de", 2) == 0, "reads de");
    check_ret(nread(p[0]), 0, "the packet's rest was discarded");
    check_err(sc(SYS_read, p[0], buf, sizeof buf), EAGAIN, "nothing left");
    closep(p);
}

static void test_eof_epipe(void)
{
    /* Blocked for good: the EPIPE writes leave a SIGPIPE pending, which
     * unblocking would deliver. */
    unsigned long set = 1UL << (SIGPIPE - 1);
    check_ret(sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8), 0, "block SIGPIPE");
    int p[2];
    char buf[16];
    sc(SYS_pipe, p);
    check_ret(sc(SYS_close, p[0]), 0, "close the read end");
    check_err(sc(SYS_write, p[1], "x", 1), EPIPE, "write with no reader");
    struct iovec iov = { "yz", 2 };
    check_err(sc(SYS_writev, p[1], &iov, 1), EPIPE, "writev with no reader");
    check_ret(sc(SYS_write, p[1], "x", 0), 0, "write 0 bytes with no reader");
    sc(SYS_close, p[1]);

    sc(SYS_pipe, p);
    check_ret(sc(SYS_write, p[1], "ab", 2), 2, "write 2");
    check_ret(sc(SYS_close, p[1]), 0, "close the write end");
    check_ret(nread(p[0]), 2, "the data stays");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 2, "read it");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 0, "then EOF");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 0, "and EOF again");
    check_ret(sc(SYS_fcntl, p[0], F_SETFL, O_NONBLOCK), 0, "make it non-blocking");
    check_ret(sc(SYS_read, p[0], buf, sizeof buf), 0, "EOF, not EAGAIN");
    sc(SYS_close, p[0]);
}

static void test_sizes(void)
{
    int p[2];
    sc(SYS_pipe, p);
    check_ret(sc(SYS_fcntl, p[0], F_GETPIPE_SZ), 65536, "F_GETPIPE_SZ default");
    check_ret(sc(SYS_fcntl, p[1], F_GETPIPE_SZ), 65536, "same on the write end");
    check_ret(sc(SYS_fcntl, p[1], F_SETPIPE_SZ, 4097), 8192, "F_SETPIPE_SZ 4097 rounds up to 8192");
    check_ret(sc(SYS_fcntl, p[0], F_GETPIPE_SZ), 8192, "the read end sees it");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 1), 4096, "F_SETPIPE_SZ 1 gives a page");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 0), 4096, "F_SETPIPE_SZ 0 gives a page");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 3 * 65536), 262144,
              "F_SETPIPE_SZ 196608 rounds to a power of two");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 1048576), 1048576, "F_SETPIPE_SZ 1 MiB");
    check_err(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, (1UL << 31) + 1), EINVAL, "F_SETPIPE_SZ 2 GiB + 1");
    check_err(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, -1L), EINVAL, "F_SETPIPE_SZ -1");
    check_ret(sc(SYS_fcntl, p[0], F_GETPIPE_SZ), 1048576, "failures changed nothing");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 65536), 65536, "back to 64 KiB");

    static char big[8192], got[8192];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    check_ret(sc(SYS_write, p[1], big, sizeof big), 8192, "write 8192 bytes");
    check_err(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 4096), EBUSY, "F_SETPIPE_SZ below the content");
    check_ret(sc(SYS_fcntl, p[0], F_SETPIPE_SZ, 8192), 8192, "F_SETPIPE_SZ to exactly the content");
    check_ret(sc(SYS_fcntl, p[1], F_GETPIPE_SZ), 8192, "8192 now");
    check_ret(sc(SYS_read, p[0], got, sizeof got), 8192, "read it back");
    check(memcmp(big, got, sizeof big) == 0, "content intact");
    closep(p);

    long fd = sc(SYS_open, "pp_reg", O_CREAT | O_RDWR, 0644);
    check_err(sc(SYS_fcntl, fd, F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ on a file");
    check_err(sc(SYS_fcntl, fd, F_SETPIPE_SZ, 4096), EBADF, "F_SETPIPE_SZ on a file");
    sc(SYS_close, fd);
    sc(SYS_unlink, "pp_reg");
}

static void test_fill(void)
{
    int p[2];
    static char chunk[PG], big[100000];
    memset(chunk, 'c', sizeof chunk);
    check_ret(sc(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2 O_NONBLOCK");
    long total = 0, r;
    int n = 0;
    while ((r = sc(SYS_write, p[1], chunk, PG)) > 0 && n < 100) {
        total += r;
        n++;
    }
    check_err(r, EAGAIN, "write 4096-byte chunks until EAGAIN");
    check(total == 65536 && n == 16, "took 16 chunks, 65536 bytes (%ld)", total);
    check_ret(total, sc(SYS_fcntl, p[0], F_GETPIPE_SZ), "which is the pipe size");
    check_ret(nread(p[0]), 65536, "FIONREAD agrees");
    check_err(sc(SYS_write, p[1], "x", 1), EAGAIN, "one more byte: EAGAIN");
    /* The pipe is a ring of pages: a partly read page is not free space. */
    check_ret(sc(SYS_read, p[0], big, 100), 100, "read 100 bytes");
    check_err(sc(SYS_write, p[1], "x", 1), EAGAIN, "still no room for a byte");
    check_ret(sc(SYS_read, p[0], big, PG - 100), PG - 100, "read the rest of the page");
    check_ret(sc(SYS_write, p[1], chunk, PG), PG, "now a page fits");
    check_err(sc(SYS_write, p[1], "x", 1), EAGAIN, "and the pipe is full again");
    closep(p);

    check_ret(sc(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2 O_NONBLOCK");
    check_ret(sc(SYS_write, p[1], big, sizeof big), 65536,
              "a 100000-byte write is cut to the pipe size");
    check_ret(sc(SYS_read, p[0], big, sizeof big), 65536, "read it all at once");
    closep(p);
}

static void test_fifo(void)
{
    struct stat st;
    check_ret(sc(SYS_mknod, "pp_fifo", S_IFIFO | 0666, 0), 0, "mknod a FIFO");
    check_ret(sc(SYS_newfstatat, AT_FDCWD, "pp_fifo", &st, 0), 0, "stat it");
    check(st.st_mode == (S_IFIFO | 0644) && st.st_size == 0,
          "S_IFIFO|0644 under umask 022, size 0 (0%o)", (unsigned)st.st_mode);
    check_ret(sc(SYS_mknodat, AT_FDCWD, "pp_fifo2", S_IFIFO | 0600, 0), 0, "mknodat AT_FDCWD");
    long dir = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_mknodat, dir, "pp_fifo3", S_IFIFO | 0600, 0), 0,
              "mknodat under a directory fd");
    sc(SYS_close, dir);
    check_ret(sc(SYS_newfstatat, AT_FDCWD, "pp_fifo3", &st, 0), 0, "stat it");
    check(st.st_mode == (S_IFIFO | 0600), "S_IFIFO|0600");
    check_err(sc(SYS_mknod, "pp_fifo", S_IFIFO | 0600, 0), EEXIST, "mknod existing");
    check_ret(sc(SYS_mknod, "pp_reg", S_IFREG | 0600, 0), 0, "mknod S_IFREG");
    check_ret(sc(SYS_mknod, "pp_reg2", 0600, 0), 0, "mknod with no type");
    check(sc(SYS_newfstatat, AT_FDCWD, "pp_reg2", &st, 0) == 0 && st.st_mode == (S_IFREG | 0600),
          "makes a regular file");
    check_err(sc(SYS_mknod, "pp_dir", S_IFDIR | 0700, 0), EPERM, "mknod S_IFDIR");
    check_err(sc(SYS_mknod, "pp_bad", S_IFMT | 0600, 0), EINVAL, "mknod type S_IFMT");

    check_err(sc(SYS_open, "pp_fifo", O_WRONLY | O_NONBLOCK), ENXIO,
              "open O_WRONLY|O_NONBLOCK with no reader");
    long r = sc(SYS_open, "pp_fifo", O_RDONLY | O_NONBLOCK);
    check_ret(r, 3, "open O_RDONLY|O_NONBLOCK with no writer");
    check_ret(getfl(r), O_RDONLY | O_NONBLOCK | O_LARGEFILE, "F_GETFL of it");
    char buf[16];
    check_ret(sc(SYS_read, r, buf, sizeof buf), 0, "read with no writer: EOF");
    long w = sc(SYS_open, "pp_fifo", O_WRONLY | O_NONBLOCK);
    check_ret(w, 4, "open O_WRONLY|O_NONBLOCK now that there is a reader");
    check_err(sc(SYS_read, r, buf, sizeof buf), EAGAIN, "read empty with a writer: EAGAIN");
    check_ret(sc(SYS_write, w, "fifo", 4), 4, "write 4");
    check_ret(nread(r), 4, "FIONREAD");
    check_ret(sc(SYS_read, r, buf, sizeof buf), 4, "read them");
    check(memcmp(buf, "fifo", 4) == 0, "reads fifo");
    check(sc(SYS_fstat, w, &st) == 0 && st.st_mode == (S_IFIFO | 0644),
          "fstat of an open FIFO shows its mode");
    check_ret(sc(SYS_fcntl, w, F_GETPIPE_SZ), 65536, "F_GETPIPE_SZ on a FIFO");
    check_err(sc(SYS_lseek, r, 0, SEEK_SET), ESPIPE, "lseek a FIFO");
    check_err(sc(SYS_pread64, r, buf, 1, 0), ESPIPE, "pread a FIFO");
    check_ret(sc(SYS_close, w), 0, "close the writer");
    check_ret(sc(SYS_read, r, buf, sizeof buf), 0, "EOF");

    /* O_RDWR is both ends at once and never waits. */
    long rw = sc(SYS_open, "pp_fifo", O_RDWR);
    check_ret(rw, 4, "open O_RDWR");
    check_ret(sc(SYS_write, rw, "xy", 2), 2, "write through it");
    check_ret(nread(r), 2, "the other reader sees the bytes");
    check_ret(sc(SYS_read, rw, buf, sizeof buf), 2, "read them back through it");
    check(memcmp(buf, "xy", 2) == 0, "reads xy");
    w = sc(SYS_open, "pp_fifo", O_WRONLY | O_NONBLOCK);
    check_ret(w, 5, "open O_WRONLY|O_NONBLOCK");
    check_ret(sc(SYS_write, w, "z", 1), 1, "write through it");
    check_ret(sc(SYS_read, r, buf, sizeof buf), 1, "the first reader gets it");
    sc(SYS_close_range, 3, ~0U, 0);

    /* Nothing stays in a FIFO once every end is closed. */
    rw = sc(SYS_open, "pp_fifo", O_RDWR);
    check_ret(sc(SYS_write, rw, "left", 4), 4, "write 4 and close");
    sc(SYS_close, rw);
    rw = sc(SYS_open, "pp_fifo", O_RDWR);
    check_ret(nread(rw), 0, "reopened FIFO is empty");
    sc(SYS_close, rw);
}

static void test_limits(void)
{
    struct rlim old, lim;
    sc(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old);
    lim.cur = 4;
    lim.max = old.max;
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL), 0, "RLIMIT_NOFILE 4: one free fd");
    int p[2];
    check_err(sc(SYS_pipe, p), EMFILE, "pipe needs two");
    check_err(sc(SYS_pipe2, p, O_CLOEXEC), EMFILE, "pipe2 too");
    check_ret(sc(SYS_dup, 0), 3, "the free fd was not used up");
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, &old, NULL), 0, "restore RLIMIT_NOFILE");
    sc(SYS_close, 3);
}

int main(void)
{
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_umask, 022);
    cleanup();
    test_pipe();
    test_pipe2();
    test_eof_epipe();
    test_sizes();
    test_fill();
    test_fifo();
    test_limits();
    cleanup();
    return finish();
}
