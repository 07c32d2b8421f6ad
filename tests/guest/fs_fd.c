/* fs_fd.c: file descriptors: open, openat, creat, openat2, close,
 * close_range, dup, dup2, dup3, fcntl descriptor and status flags, open
 * file descriptions shared by dup but not by a second open, O_PATH, the fd
 * ioctls and RLIMIT_NOFILE, with the errno Linux gives (checked natively).
 * Works in its cwd, the harness's scratch directory. */
#include "fs_util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* Not in musl 1.2.3's headers. */
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
struct open_how {
    uint64_t flags, mode, resolve;
};

/* The kernel forces O_LARGEFILE on 64-bit, and F_GETFL shows it. */
#define LF O_LARGEFILE

struct rlim {
    unsigned long cur, max;
};

/* The native run leaves nothing behind for the sandboxed one. */
static void cleanup(void)
{
    static const char *const files[] = {
        "fd_a", "fd_b", "fd_c", "fd_d", "fd_link", "fd_dir/inner"
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        sc(SYS_unlink, files[i]);
    sc(SYS_rmdir, "fd_dir");
}

/* A file holding exactly text, replacing any old one. */
static void make_file(const char *name, const char *text)
{
    long fd = sc(SYS_open, name, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || sc(SYS_write, fd, text, strlen(text)) != (long)strlen(text))
        out("setup: cannot write %s: %s\n", name, ret_name(fd));
    sc(SYS_close, fd);
}

static long getfd(long fd)
{
    return sc(SYS_fcntl, fd, F_GETFD);
}
static long tell(long fd)
{
    return sc(SYS_lseek, fd, 0, SEEK_CUR);
}

/* Same file as seen by fstat, without printing inode numbers. */
static int same_file(long a, long b)
{
    struct stat sa, sb;
    return sc(SYS_fstat, a, &sa) == 0 && sc(SYS_fstat, b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

static void test_open(void)
{
    long fd = sc(SYS_open, "fd_a", O_CREAT | O_EXCL | O_RDWR, 0644);
    check_ret(fd, 3, "open O_CREAT|O_EXCL of a new file takes the lowest fd");
    check_ret(sc(SYS_write, fd, "0123456789", 10), 10, "write 10 bytes");
    struct stat st;
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat the new file");
    check(st.st_mode == (S_IFREG | 0644), "new file mode is 0644 under umask 022 (0%o)",
          (unsigned)st.st_mode);
    check(st.st_size == 10 && st.st_nlink == 1, "size 10, one link");
    check(st.st_uid == (uid_t)sc(SYS_geteuid), "owned by the euid");
    check_err(sc(SYS_open, "fd_a", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST,
              "O_CREAT|O_EXCL on an existing file");
    long fd2 = sc(SYS_open, "fd_a", O_CREAT | O_RDWR, 0600);
    check_ret(fd2, 4, "O_CREAT alone opens the existing file");
    check(fsize(fd2) == 10, "and leaves its content");
    check_ret(sc(SYS_close, fd2), 0, "close");
    check_ret(sc(SYS_close, fd), 0, "close the first fd");
    check_err(sc(SYS_close, fd), EBADF, "close a closed fd");
    check_err(sc(SYS_close, -1), EBADF, "close fd -1");
    check_err(sc(SYS_close, INT_MAX), EBADF, "close fd INT_MAX");

    check_err(sc(SYS_open, "fd_none", O_RDONLY), ENOENT, "open a missing file");
    check_err(sc(SYS_open, "", O_RDONLY), ENOENT, "open the empty path");
    check_err(sc(SYS_open, BADPTR, O_RDONLY), EFAULT, "open a bad path pointer");
    check_err(sc(SYS_open, "fd_a/x", O_RDONLY), ENOTDIR, "open through a file");
    check_err(sc(SYS_open, "fd_a/", O_RDONLY), ENOTDIR, "open a file with a trailing slash");
    check_err(sc(SYS_open, "fd_new/", O_CREAT | O_RDWR, 0644), EISDIR,
              "O_CREAT of a missing name with a trailing slash");
    check_err(sc(SYS_open, "fd_a", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
    check_err(sc(SYS_open, ".", O_WRONLY), EISDIR, "O_WRONLY on a directory");
    check_err(sc(SYS_open, ".", O_RDWR), EISDIR, "O_RDWR on a directory");
    check_err(sc(SYS_open, ".", O_RDONLY | O_CREAT, 0644), EISDIR,
              "O_CREAT on an existing directory");
    fd = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_ret(fd, 3, "O_RDONLY|O_DIRECTORY on a directory");
    sc(SYS_close, fd);

    /* open() masks the mode to 07777 and ignores unknown flag bits;
     * openat2() below refuses both. */
    fd = sc(SYS_open, "fd_b", O_CREAT | O_EXCL | O_WRONLY, 0170644);
    check_ret(fd, 3, "open O_CREAT with file-type bits in the mode");
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat it");
    check(st.st_mode == (S_IFREG | 0644), "type bits ignored: mode 0%o", (unsigned)st.st_mode);
    sc(SYS_close, fd);
    fd = sc(SYS_open, "fd_a", O_RDONLY | (1 << 30));
    check_ret(fd, 3, "open ignores an unknown flag bit");
    check_ret(getfl(fd), O_RDONLY | LF, "and F_GETFL does not show it");
    sc(SYS_close, fd);

    /* Linux truncates even when opened read-only. */
    make_file("fd_c", "abcdef");
    fd = sc(SYS_open, "fd_c", O_RDONLY | O_TRUNC);
    check_ret(fd, 3, "open O_RDONLY|O_TRUNC");
    check_ret(fsize(fd), 0, "O_RDONLY|O_TRUNC truncated the file");
    sc(SYS_close, fd);
    make_file("fd_c", "abcdef");
    fd = sc(SYS_open, "fd_c", O_WRONLY | O_TRUNC);
    check_ret(fsize(fd), 0, "O_WRONLY|O_TRUNC truncates");
    check_ret(tell(fd), 0, "offset starts at 0");
    sc(SYS_close, fd);

    /* creat is O_CREAT|O_WRONLY|O_TRUNC. */
    fd = sc(SYS_creat, "fd_d", 0666);
    check_ret(fd, 3, "creat a new file");
    check_ret(getfl(fd), O_WRONLY | LF, "creat opens write-only");
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat it");
    check(st.st_mode == (S_IFREG | 0644), "creat 0666 under umask 022 gives 0%o",
          (unsigned)st.st_mode);
    check_ret(sc(SYS_write, fd, "xyz", 3), 3, "write through it");
    char c;
    check_err(sc(SYS_read, fd, &c, 1), EBADF, "read a creat fd");
    sc(SYS_close, fd);
    fd = sc(SYS_creat, "fd_d", 0600);
    check_ret(fsize(fd), 0, "creat of an existing file truncates it");
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat it");
    check(st.st_mode == (S_IFREG | 0644), "and keeps its mode");
    sc(SYS_close, fd);
}

static void test_openat(void)
{
    long dir = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_ret(dir, 3, "open the cwd as a directory fd");
    long fd = sc(SYS_openat, dir, "fd_a", O_RDONLY);
    check_ret(fd, 4, "openat relative to a directory fd");
    char buf[16] = { 0 };
    check(sc(SYS_read, fd, buf, sizeof buf) == 10 && memcmp(buf, "0123456789", 10) == 0,
          "reads the file");
    check_err(sc(SYS_openat, fd, "x", O_RDONLY), ENOTDIR, "openat relative to a file fd");
    check_err(sc(SYS_openat, fd, "", O_RDONLY), ENOENT, "openat of the empty path on a file fd");
    check_err(sc(SYS_openat, -1, "fd_a", O_RDONLY), EBADF, "openat relative to fd -1");
    check_err(sc(SYS_openat, 999, "fd_a", O_RDONLY), EBADF, "openat relative to a closed fd");
    long abs = sc(SYS_openat, 999, "/dev/null", O_RDONLY);
    check_ret(abs, 5, "an absolute path ignores a bad dirfd");
    sc(SYS_close, abs);
    long cwd = sc(SYS_openat, AT_FDCWD, "fd_a", O_RDONLY);
    check_ret(cwd, 5, "openat AT_FDCWD");
    check(same_file(fd, cwd), "both name the same file");
    long sub = sc(SYS_openat, dir, ".", O_RDONLY | O_DIRECTORY);
    check_ret(sub, 6, "openat of \".\" under a directory fd");
    check(same_file(sub, dir), "is that directory");
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_close_range(void)
{
    for (int i = 0; i < 5; i++)
        sc(SYS_open, "fd_a", O_RDONLY);
    check(getfd(3) == 0 && getfd(7) == 0, "fds 3-7 open");
    check_ret(sc(SYS_close_range, 4, 5, 0), 0, "close_range 4..5");
    check_err(getfd(4), EBADF, "fd 4 closed");
    check_err(getfd(5), EBADF, "fd 5 closed");
    check_ret(getfd(3), 0, "fd 3 still open");
    check_ret(getfd(6), 0, "fd 6 still open");
    check_err(sc(SYS_close_range, 6, 5, 0), EINVAL, "close_range first > last");
    check_err(sc(SYS_close_range, 3, 7, 1), EINVAL, "close_range flag bit 0");
    check_err(sc(SYS_close_range, 3, 7, 1U << 3), EINVAL, "close_range flag bit 3");
    check_ret(getfd(3), 0, "bad calls closed nothing");
    check_ret(sc(SYS_close_range, 3, 7, CLOSE_RANGE_CLOEXEC), 0,
              "close_range CLOSE_RANGE_CLOEXEC 3..7");
    check_ret(getfd(3), FD_CLOEXEC, "fd 3 now close-on-exec");
    check_ret(getfd(7), FD_CLOEXEC, "fd 7 now close-on-exec");
    check_err(getfd(4), EBADF, "fd 4 still closed");
    check_ret(getfd(2), 0, "fd 2 untouched");
    check_ret(sc(SYS_close_range, 100, 200, 0), 0, "close_range over no open fd");
    check_ret(sc(SYS_close_range, 7, 7, 0), 0, "close_range of one fd");
    check_err(getfd(7), EBADF, "fd 7 closed");
    check_ret(sc(SYS_close_range, 1000, 1000, CLOSE_RANGE_UNSHARE), 0,
              "close_range CLOSE_RANGE_UNSHARE");
    check_ret(sc(SYS_close_range, 3, ~0U, 0), 0, "close_range 3..~0");
    check_err(getfd(3), EBADF, "fd 3 closed");
    check_err(getfd(6), EBADF, "fd 6 closed");
    check_ret(getfd(2), 0, "fd 2 still open");
    check_ret(sc(SYS_open, "fd_a", O_RDONLY), 3, "the lowest fd is free again");
    sc(SYS_close, 3);
}

static void test_dup(void)
{
    long a = sc(SYS_open, "fd_a", O_RDWR);
    check_ret(a, 3, "open fd_a");
    check_ret(sc(SYS_dup, a), 4, "dup takes the lowest fd");
    check_err(sc(SYS_dup, -1), EBADF, "dup fd -1");
    check_err(sc(SYS_dup, 999), EBADF, "dup a closed fd");
    check_err(sc(SYS_dup, INT_MAX), EBADF, "dup fd INT_MAX");
    check_ret(sc(SYS_dup2, a, a), a, "dup2 onto itself returns the fd");
    check_err(sc(SYS_dup2, 50, 50), EBADF, "dup2 of a closed fd onto itself");
    check_ret(sc(SYS_dup2, a, 60), 60, "dup2 onto a free fd");
    check(same_file(a, 60), "the copy names the same file");
    check_err(sc(SYS_dup2, a, -1), EBADF, "dup2 onto fd -1");
    check_err(sc(SYS_dup2, a, INT_MAX), EBADF, "dup2 onto fd INT_MAX");
    check_err(sc(SYS_dup2, 99, 61), EBADF, "dup2 of a closed fd");
    check_err(sc(SYS_dup3, a, a, 0), EINVAL, "dup3 onto itself");
    check_err(sc(SYS_dup3, a, 61, 1), EINVAL, "dup3 flag 1");
    check_err(sc(SYS_dup3, a, 61, O_NONBLOCK), EINVAL, "dup3 O_NONBLOCK");
    check_err(getfd(61), EBADF, "failed dup3 made no fd");
    check_ret(sc(SYS_dup3, a, 61, O_CLOEXEC), 61, "dup3 O_CLOEXEC");
    check_ret(getfd(61), FD_CLOEXEC, "dup3 O_CLOEXEC sets close-on-exec");
    check_ret(sc(SYS_dup3, a, 62, 0), 62, "dup3 without flags");
    check_ret(getfd(62), 0, "and without close-on-exec");
    check_err(sc(SYS_dup3, 99, 63, 0), EBADF, "dup3 of a closed fd");

    /* Close-on-exec belongs to the fd, not the open file description. */
    long c = sc(SYS_open, "fd_a", O_RDONLY | O_CLOEXEC);
    check_ret(c, 5, "open O_CLOEXEC");
    check_ret(getfd(c), FD_CLOEXEC, "O_CLOEXEC sets close-on-exec");
    check_ret(getfl(c), O_RDONLY | LF, "and is not a status flag");
    long d = sc(SYS_dup, c);
    check_ret(d, 6, "dup it");
    check_ret(getfd(d), 0, "dup clears close-on-exec");
    check_ret(sc(SYS_dup2, c, 70), 70, "dup2 it");
    check_ret(getfd(70), 0, "dup2 clears close-on-exec");
    check_ret(sc(SYS_dup2, c, c), c, "dup2 onto itself");
    check_ret(getfd(c), FD_CLOEXEC, "leaves close-on-exec alone");

    /* dup2 onto an open fd closes the old file silently. */
    long b = sc(SYS_open, "fd_d", O_RDONLY);
    check_ret(b, 7, "open another file");
    check(!same_file(a, b), "it is a different file");
    check_ret(sc(SYS_lseek, a, 7, SEEK_SET), 7, "seek fd_a to 7");
    check_ret(sc(SYS_dup2, a, b), b, "dup2 onto the open fd");
    check(same_file(a, b), "it now names fd_a");
    check_ret(tell(b), 7, "and shares fd_a's offset");
    check_ret(getfl(b), O_RDWR | LF, "and its status flags");
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_fcntl(void)
{
    long a = sc(SYS_open, "fd_a", O_RDWR);
    check_ret(a, 3, "open fd_a");
    check_ret(sc(SYS_fcntl, a, F_DUPFD, 10), 10, "F_DUPFD 10");
    check_ret(sc(SYS_fcntl, a, F_DUPFD, 10), 11, "F_DUPFD 10 again takes 11");
    check_ret(sc(SYS_fcntl, a, F_DUPFD, 0), 4, "F_DUPFD 0 takes the lowest");
    check_ret(getfd(10), 0, "F_DUPFD copy is not close-on-exec");
    check_ret(sc(SYS_fcntl, a, F_DUPFD_CLOEXEC, 10), 12, "F_DUPFD_CLOEXEC 10");
    check_ret(getfd(12), FD_CLOEXEC, "F_DUPFD_CLOEXEC copy is close-on-exec");
    check_err(sc(SYS_fcntl, a, F_DUPFD, -1), EINVAL, "F_DUPFD -1");
    check_err(sc(SYS_fcntl, a, F_DUPFD, INT_MAX), EINVAL, "F_DUPFD INT_MAX");
    check_err(sc(SYS_fcntl, 99, F_DUPFD, 0), EBADF, "F_DUPFD of a closed fd");

    check_ret(getfd(a), 0, "F_GETFD of a plain open");
    check_ret(sc(SYS_fcntl, a, F_SETFD, FD_CLOEXEC), 0, "F_SETFD FD_CLOEXEC");
    check_ret(getfd(a), FD_CLOEXEC, "F_GETFD reads it back");
    check_ret(getfd(4), 0, "the dup is not affected");
    check_ret(sc(SYS_fcntl, a, F_SETFD, 0xfe), 0, "F_SETFD 0xfe");
    check_ret(getfd(a), 0, "only FD_CLOEXEC is kept");
    check_ret(sc(SYS_fcntl, a, F_SETFD, 0xff), 0, "F_SETFD 0xff");
    check_ret(getfd(a), FD_CLOEXEC, "FD_CLOEXEC from 0xff");
    check_err(sc(SYS_fcntl, 99, F_GETFD), EBADF, "F_GETFD of a closed fd");
    check_err(sc(SYS_fcntl, -1, F_GETFL), EBADF, "F_GETFL of fd -1");
    check_err(sc(SYS_fcntl, a, 9999), EINVAL, "fcntl unknown command");

    /* F_GETFL shows access mode and status flags, not creation flags. */
    check_ret(getfl(a), O_RDWR | LF, "F_GETFL O_RDWR");
    long r = sc(SYS_open, "fd_a", O_RDONLY);
    check_ret(getfl(r), O_RDONLY | LF, "F_GETFL O_RDONLY");
    long w = sc(SYS_open, "fd_a", O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY);
    check_ret(getfl(w), O_WRONLY | O_APPEND | LF, "F_GETFL O_WRONLY|O_APPEND");
    long s = sc(SYS_open, "fd_a", O_RDWR | O_SYNC | O_NONBLOCK);
    check_ret(getfl(s), O_RDWR | O_SYNC | O_NONBLOCK | LF, "F_GETFL O_RDWR|O_SYNC|O_NONBLOCK");

    check_ret(sc(SYS_fcntl, a, F_SETFL, O_APPEND | O_NONBLOCK), 0, "F_SETFL O_APPEND|O_NONBLOCK");
    check_ret(getfl(a), O_RDWR | O_APPEND | O_NONBLOCK | LF, "both set");
    check_ret(sc(SYS_fcntl, a, F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
    check_ret(getfl(a), O_RDWR | O_NONBLOCK | LF, "O_APPEND cleared");
    check_ret(sc(SYS_fcntl, a, F_SETFL, 0), 0, "F_SETFL 0");
    check_ret(getfl(a), O_RDWR | LF, "O_NONBLOCK cleared, O_LARGEFILE kept");
    check_ret(sc(SYS_fcntl, r, F_SETFL, O_RDWR | O_APPEND), 0,
              "F_SETFL O_RDWR|O_APPEND on a read-only fd");
    check_ret(getfl(r), O_RDONLY | O_APPEND | LF, "access mode unchanged");
    check_err(sc(SYS_write, r, "x", 1), EBADF, "still not writable");
    check_ret(sc(SYS_fcntl, a, F_SETFL, O_SYNC | O_TRUNC | O_CREAT), 0,
              "F_SETFL O_SYNC|O_TRUNC|O_CREAT");
    check_ret(getfl(a), O_RDWR | LF, "none of them is settable");
    check_ret(fsize(a), 10, "nothing truncated");
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_shared_offsets(void)
{
    make_file("fd_c", "abcdef");
    long a = sc(SYS_open, "fd_c", O_RDWR);
    long b = sc(SYS_dup, a);
    long c = sc(SYS_open, "fd_c", O_RDWR);
    check(a == 3 && b == 4 && c == 5, "fds 3, 4 (dup of 3) and 5 (second open)");
    char buf[8] = { 0 };
    check_ret(sc(SYS_read, a, buf, 3), 3, "read 3 bytes through fd 3");
    check_ret(tell(b), 3, "the dup's offset moved too");
    check_ret(tell(c), 0, "the second open's offset did not");
    check_ret(sc(SYS_write, b, "XY", 2), 2, "write 2 bytes through the dup");
    check_ret(tell(a), 5, "fd 3's offset follows");
    check_ret(sc(SYS_read, c, buf, 6), 6, "read all through the second open");
    check(memcmp(buf, "abcXYf", 6) == 0, "sees the dup's write in place");
    check_ret(sc(SYS_lseek, b, 1, SEEK_SET), 1, "seek the dup to 1");
    check_ret(sc(SYS_read, a, buf, 2), 2, "read 2 through fd 3");
    check(memcmp(buf, "bc", 2) == 0, "from the dup's position");
    check_ret(sc(SYS_fcntl, a, F_SETFL, O_APPEND), 0, "F_SETFL O_APPEND on fd 3");
    check_ret(getfl(b), O_RDWR | O_APPEND | LF, "the dup shares status flags");
    check_ret(getfl(c), O_RDWR | LF, "the second open does not");
    check_ret(sc(SYS_fcntl, a, F_SETFD, FD_CLOEXEC), 0, "F_SETFD on fd 3");
    check_ret(getfd(b), 0, "the dup does not share fd flags");
    check_ret(sc(SYS_close, a), 0, "close fd 3");
    check_ret(tell(b), 3, "the dup keeps the description alive");
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_append(void)
{
    long a = sc(SYS_open, "fd_c", O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
    check_ret(a, 3, "open O_APPEND|O_TRUNC");
    check_ret(sc(SYS_write, a, "12345", 5), 5, "write 5");
    check_ret(sc(SYS_lseek, a, 0, SEEK_SET), 0, "seek to 0");
    check_ret(sc(SYS_write, a, "678", 3), 3, "write 3");
    check_ret(tell(a), 8, "the write went to the end");
    /* Linux ignores pwrite's offset on an O_APPEND fd. */
    check_ret(sc(SYS_pwrite64, a, "X", 1, 0), 1, "pwrite at 0 on O_APPEND");
    check_ret(tell(a), 8, "pwrite did not move the offset");
    check_ret(fsize(a), 9, "but appended");
    long b = sc(SYS_open, "fd_c", O_WRONLY);
    check_ret(sc(SYS_write, b, "Z", 1), 1, "plain fd writes at 0");
    check_ret(sc(SYS_write, a, "Y", 1), 1, "O_APPEND fd writes again");
    long r = sc(SYS_open, "fd_c", O_RDONLY);
    char buf[16] = { 0 };
    check_ret(sc(SYS_read, r, buf, sizeof buf), 10, "read it all");
    check(memcmp(buf, "Z2345678XY", 10) == 0, "content is Z2345678XY (%.10s)", buf);
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_emfile(void)
{
    struct rlim old, lim;
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old), 0, "get RLIMIT_NOFILE");
    lim.cur = 20;
    lim.max = old.max;
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL), 0,
              "lower the soft RLIMIT_NOFILE to 20");
    long fd, last = -1;
    int n = 0;
    while ((fd = sc(SYS_open, "fd_a", O_RDONLY)) >= 0 && n < 100) {
        last = fd;
        n++;
    }
    check_err(fd, EMFILE, "open until it fails");
    check(n == 17 && last == 19, "17 opens fit, the last fd is 19 (%d, %ld)", n, last);
    check_err(sc(SYS_dup, 0), EMFILE, "dup when full");
    check_err(sc(SYS_fcntl, 0, F_DUPFD, 5), EMFILE, "F_DUPFD 5 when full");
    check_err(sc(SYS_fcntl, 0, F_DUPFD, 20), EINVAL, "F_DUPFD at the limit");
    check_err(sc(SYS_fcntl, 0, F_DUPFD_CLOEXEC, 25), EINVAL, "F_DUPFD_CLOEXEC above the limit");
    check_err(sc(SYS_dup2, 0, 20), EBADF, "dup2 onto the limit");
    check_err(sc(SYS_dup3, 0, 20, 0), EBADF, "dup3 onto the limit");
    check_ret(sc(SYS_dup2, 0, 19), 19, "dup2 onto an fd below the limit");
    int pfd[2];
    check_err(sc(SYS_pipe, pfd), EMFILE, "pipe when full");
    check_ret(sc(SYS_close, 10), 0, "close fd 10");
    check_ret(sc(SYS_dup, 0), 10, "dup takes the freed fd");

    /* Fds above a lowered limit stay usable; new ones must be below it. */
    lim.cur = 10;
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL), 0,
              "lower the soft limit to 10 with fds up to 19 open");
    check_ret(getfd(19), 0, "fd 19 still open");
    check_ret(sc(SYS_close, 15), 0, "close fd 15");
    check_err(sc(SYS_dup, 0), EMFILE, "dup: 15 is above the limit");
    check_ret(sc(SYS_close, 5), 0, "close fd 5");
    check_ret(sc(SYS_dup, 0), 5, "dup takes fd 5");
    check_ret(sc(SYS_prlimit64, 0, RLIMIT_NOFILE, &old, NULL), 0, "restore RLIMIT_NOFILE");
    check_ret(sc(SYS_dup, 0), 15, "dup takes fd 15 again");
    check_ret(sc(SYS_fcntl, 0, F_DUPFD, 25), 25, "F_DUPFD 25 works again");
    sc(SYS_close_range, 3, ~0U, 0);
}

static long openat2(long dir, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = { flags, mode, resolve };
    return sc(SYS_openat2, dir, path, &how, sizeof how);
}

static void test_openat2(void)
{
    long fd = openat2(AT_FDCWD, "fd_a", O_RDONLY, 0, 0);
    check_ret(fd, 3, "openat2 O_RDONLY");
    check_ret(getfl(fd), O_RDONLY | LF, "F_GETFL of it");
    sc(SYS_close, fd);

    struct open_how how = { O_RDONLY, 0, 0 };
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", &how, 23), EINVAL, "openat2 size 23");
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", &how, 0), EINVAL, "openat2 size 0");
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", BADPTR, sizeof how), EFAULT,
              "openat2 bad how pointer");
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", NULL, sizeof how), EFAULT, "openat2 NULL how");
    /* A bigger struct is fine while the extra bytes are zero. */
    struct {
        struct open_how h;
        uint64_t extra;
    } big = { { O_RDONLY, 0, 0 }, 0 };
    fd = sc(SYS_openat2, AT_FDCWD, "fd_a", &big, sizeof big);
    check_ret(fd, 3, "openat2 size 32, zero tail");
    sc(SYS_close, fd);
    big.extra = 1;
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", &big, sizeof big), E2BIG,
              "openat2 size 32, non-zero tail");
    static char page[8192];
    memcpy(page, &how, sizeof how);
    check_err(sc(SYS_openat2, AT_FDCWD, "fd_a", page, 4097), E2BIG, "openat2 size 4097");

    check_err(openat2(AT_FDCWD, "fd_a", O_RDONLY | (1ULL << 30), 0, 0), EINVAL,
              "openat2 unknown flag bit 30");
    check_err(openat2(AT_FDCWD, "fd_a", O_RDONLY | (1ULL << 40), 0, 0), EINVAL,
              "openat2 flag bit 40");
    check_err(openat2(AT_FDCWD, "fd_a", O_RDONLY, 0644, 0), EINVAL, "openat2 mode without O_CREAT");
    check_err(openat2(AT_FDCWD, "fd_b", O_CREAT | O_RDWR, 010644, 0), EINVAL,
              "openat2 O_CREAT mode 010644");
    check_err(openat2(AT_FDCWD, "fd_b", O_CREAT | O_RDWR, 1ULL << 32, 0), EINVAL,
              "openat2 O_CREAT mode bit 32");
    check_err(openat2(AT_FDCWD, "fd_a", O_RDONLY, 0, 0x100), EINVAL, "openat2 unknown resolve bit");
    check_err(openat2(AT_FDCWD, "fd_a", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL,
              "openat2 RESOLVE_BENEATH|RESOLVE_IN_ROOT");
    check_err(openat2(AT_FDCWD, "fd_a", O_CREAT | O_EXCL | O_RDWR, 0644, 0), EEXIST,
              "openat2 O_CREAT|O_EXCL on an existing file");
    sc(SYS_unlink, "fd_b");
    fd = openat2(AT_FDCWD, "fd_b", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640, 0);
    check_ret(fd, 3, "openat2 O_CREAT|O_EXCL|O_CLOEXEC mode 0640");
    struct stat st;
    sc(SYS_fstat, fd, &st);
    check(st.st_mode == (S_IFREG | 0640), "created with mode 0%o", (unsigned)st.st_mode);
    check_ret(getfd(fd), FD_CLOEXEC, "close-on-exec");
    sc(SYS_close, fd);

    /* Resolution rules; fd_dir/inner holds "in", fd_link -> fd_a. */
    check_ret(sc(SYS_mkdir, "fd_dir", 0755), 0, "mkdir fd_dir");
    make_file("fd_dir/inner", "in");
    check_ret(sc(SYS_symlink, "fd_a", "fd_link"), 0, "symlink fd_link -> fd_a");
    check_err(openat2(AT_FDCWD, "../x", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV,
              "RESOLVE_BENEATH ../x");
    check_err(openat2(AT_FDCWD, "/dev/null", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV,
              "RESOLVE_BENEATH of an absolute path");
    fd = openat2(AT_FDCWD, "fd_dir/../fd_a", O_RDONLY, 0, RESOLVE_BENEATH);
    check_ret(fd, 3, "RESOLVE_BENEATH fd_dir/../fd_a stays beneath");
    sc(SYS_close, fd);
    long dir = sc(SYS_open, "fd_dir", O_RDONLY | O_DIRECTORY);
    check_ret(dir, 3, "open fd_dir");
    char buf[8] = { 0 };
    fd = openat2(dir, "../inner", O_RDONLY, 0, RESOLVE_IN_ROOT);
    check_ret(fd, 4, "RESOLVE_IN_ROOT ../inner: .. stops at the root");
    check(sc(SYS_read, fd, buf, sizeof buf) == 2 && memcmp(buf, "in", 2) == 0,
          "it is fd_dir/inner");
    sc(SYS_close, fd);
    fd = openat2(dir, "/inner", O_RDONLY, 0, RESOLVE_IN_ROOT);
    check_ret(fd, 4, "RESOLVE_IN_ROOT /inner is inside the root");
    sc(SYS_close, fd);
    check_err(openat2(dir, "../fd_a", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV,
              "RESOLVE_BENEATH ../fd_a from fd_dir");
    sc(SYS_close, dir);

    fd = openat2(AT_FDCWD, "fd_link", O_RDONLY, 0, 0);
    check_ret(fd, 3, "openat2 follows fd_link");
    check(sc(SYS_read, fd, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0, "and reads fd_a");
    sc(SYS_close, fd);
    check_err(openat2(AT_FDCWD, "fd_link", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP,
              "RESOLVE_NO_SYMLINKS on a symlink");
    check_err(openat2(AT_FDCWD, "fd_link", O_RDONLY | O_NOFOLLOW, 0, 0), ELOOP,
              "O_NOFOLLOW on a symlink");
    check_err(sc(SYS_open, "fd_link", O_RDONLY | O_NOFOLLOW), ELOOP,
              "open O_NOFOLLOW on a symlink");
    fd = openat2(AT_FDCWD, "fd_link", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
    check_ret(fd, 3, "RESOLVE_NO_SYMLINKS with O_PATH|O_NOFOLLOW opens the link");
    check(sc(SYS_fstat, fd, &st) == 0 && S_ISLNK(st.st_mode), "fstat shows a symlink");
    sc(SYS_close, fd);
    check_err(openat2(AT_FDCWD, "fd_link", O_CREAT | O_EXCL | O_WRONLY, 0644, 0), EEXIST,
              "O_CREAT|O_EXCL on a symlink");
    fd = sc(SYS_open, "fd_a", O_RDONLY);
    check_ret(fd, 3, "open fd_a");
    check_err(openat2(AT_FDCWD, "/proc/self/fd/3", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP,
              "RESOLVE_NO_MAGICLINKS on /proc/self/fd/3");
    sc(SYS_close, fd);
    check_err(openat2(-1, "fd_a", O_RDONLY, 0, 0), EBADF, "openat2 relative to fd -1");
}

static void test_opath(void)
{
    long p = sc(SYS_open, "fd_a", O_PATH);
    check_ret(p, 3, "open O_PATH");
    char c;
    check_err(sc(SYS_read, p, &c, 1), EBADF, "read an O_PATH fd");
    check_err(sc(SYS_write, p, "x", 1), EBADF, "write an O_PATH fd");
    check_err(sc(SYS_lseek, p, 0, SEEK_SET), EBADF, "lseek an O_PATH fd");
    check_err(sc(SYS_fchmod, p, 0600), EBADF, "fchmod an O_PATH fd");
    int n;
    check_err(sc(SYS_ioctl, p, FIONREAD, &n), EBADF, "ioctl an O_PATH fd");
    struct stat st;
    check_ret(sc(SYS_fstat, p, &st), 0, "fstat an O_PATH fd");
    check(S_ISREG(st.st_mode) && st.st_size == 10, "sees the 10-byte file");
    check_ret(sc(SYS_newfstatat, p, "", &st, AT_EMPTY_PATH), 0, "newfstatat AT_EMPTY_PATH on it");
    check_ret(getfl(p), O_PATH, "F_GETFL is O_PATH alone");
    check_ret(getfd(p), 0, "F_GETFD works");
    check_ret(sc(SYS_dup, p), 4, "dup works");
    check_ret(getfl(4), O_PATH, "the dup is O_PATH too");
    /* fcntl on O_PATH allows only the F_DUPFD, F_GETFD/F_SETFD, F_GETFL. */
    check_err(sc(SYS_fcntl, p, F_SETFL, O_APPEND), EBADF, "F_SETFL on O_PATH");
    check_ret(sc(SYS_fcntl, p, F_SETFD, FD_CLOEXEC), 0, "F_SETFD on O_PATH");
    check_ret(getfd(p), FD_CLOEXEC, "reads back");
    check_ret(sc(SYS_fcntl, p, F_DUPFD_CLOEXEC, 0), 5, "F_DUPFD_CLOEXEC on O_PATH");
    sc(SYS_close_range, 3, ~0U, 0);

    /* O_PATH drops every other flag: no truncation, no creation. */
    p = sc(SYS_open, "fd_a", O_PATH | O_WRONLY | O_TRUNC);
    check_ret(p, 3, "open O_PATH|O_WRONLY|O_TRUNC");
    check_ret(fsize(p), 10, "nothing truncated");
    check_ret(getfl(p), O_PATH, "F_GETFL still O_PATH alone");
    sc(SYS_close, p);
    check_err(sc(SYS_open, "fd_missing", O_PATH | O_CREAT, 0644), ENOENT,
              "O_PATH|O_CREAT does not create");
    long d = sc(SYS_open, ".", O_PATH | O_DIRECTORY);
    check_ret(d, 3, "open the cwd O_PATH|O_DIRECTORY");
    long fd = sc(SYS_openat, d, "fd_a", O_RDONLY);
    check_ret(fd, 4, "an O_PATH directory works as dirfd");
    check(sc(SYS_read, fd, &c, 1) == 1 && c == '0', "and the file reads");
    sc(SYS_close_range, 3, ~0U, 0);
}

static void test_ioctl(void)
{
    long a = sc(SYS_open, "fd_a", O_RDWR);
    check_ret(a, 3, "open fd_a");
    check_ret(sc(SYS_ioctl, a, FIOCLEX), 0, "FIOCLEX");
    check_ret(getfd(a), FD_CLOEXEC, "sets close-on-exec");
    check_ret(sc(SYS_ioctl, a, FIONCLEX), 0, "FIONCLEX");
    check_ret(getfd(a), 0, "clears it");
    int on = 1;
    check_ret(sc(SYS_ioctl, a, FIONBIO, &on), 0, "FIONBIO 1");
    check_ret(getfl(a), O_RDWR | O_NONBLOCK | LF, "sets O_NONBLOCK");
    on = 0;
    check_ret(sc(SYS_ioctl, a, FIONBIO, &on), 0, "FIONBIO 0");
    check_ret(getfl(a), O_RDWR | LF, "clears O_NONBLOCK");
    check_err(sc(SYS_ioctl, a, FIONBIO, BADPTR), EFAULT, "FIONBIO bad pointer");
    int n = -1;
    check_ret(sc(SYS_ioctl, a, FIONREAD, &n), 0, "FIONREAD on a file");
    check(n == 10, "10 bytes to read (%d)", n);
    sc(SYS_lseek, a, 4, SEEK_SET);
    check(sc(SYS_ioctl, a, FIONREAD, &n) == 0 && n == 6, "6 after seeking to 4 (%d)", n);
    /* Linux answers size - offset, negative past the end. */
    sc(SYS_lseek, a, 25, SEEK_SET);
    check(sc(SYS_ioctl, a, FIONREAD, &n) == 0 && n == -15, "-15 after seeking to 25 (%d)", n);
    check_err(sc(SYS_ioctl, a, FIONREAD, BADPTR), EFAULT, "FIONREAD bad pointer");
    struct termios t;
    check_err(sc(SYS_ioctl, a, TCGETS, &t), ENOTTY, "TCGETS on a file");
    check_err(sc(SYS_ioctl, -1, FIOCLEX), EBADF, "FIOCLEX on fd -1");
    check_err(sc(SYS_ioctl, 99, FIONCLEX), EBADF, "FIONCLEX on a closed fd");
    sc(SYS_close, a);
}

int main(void)
{
    /* Known state: nothing inherited above fd 2, a fixed umask. */
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_umask, 022);
    cleanup();
    test_open();
    test_openat();
    test_close_range();
    test_dup();
    test_fcntl();
    test_shared_offsets();
    test_append();
    test_emfile();
    test_openat2();
    test_opath();
    test_ioctl();
    cleanup();
    return finish();
}
