/* fs_dev.c: the device files a guest expects in /dev: null, zero, full,
 * random, urandom, tty, the /dev/fd and /dev/std* links, /dev/shm and
 * /dev/pts, with Linux's device numbers and errnos (checked natively). */
#include "guest.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_numbers(void)
{
    /* Each device and its number, major:minor. */
    static const char *const devs[][2] = {
        { "/dev/null", "1:3" },   { "/dev/zero", "1:5" },    { "/dev/full", "1:7" },
        { "/dev/random", "1:8" }, { "/dev/urandom", "1:9" }, { "/dev/tty", "5:0" },
    };
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        long r = sc(SYS_stat, devs[i][0], &st);
        char num[32];
        snprintf(num, sizeof num, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
        check(r == 0 && S_ISCHR(st.st_mode) && strcmp(num, devs[i][1]) == 0,
              "%s is character device %s", devs[i][0], devs[i][1]);
        check((st.st_mode & 07777) == 0666, "%s has mode 0666", devs[i][0]);
    }
    struct stat st;
    check(stat("/dev/pts", &st) == 0 && S_ISDIR(st.st_mode), "/dev/pts is a directory");
    check(stat("/dev", &st) == 0 && S_ISDIR(st.st_mode), "/dev is a directory");
    check_err(sc(SYS_stat, "/dev/no-such-device", &st), ENOENT, "stat a missing device");
}

static void test_null(void)
{
    static char big[1 << 20];
    char buf[16] = "0123456789";
    int fd = open("/dev/null", O_RDWR);
    check(fd >= 0, "open /dev/null O_RDWR");
    check_ret(sc(SYS_read, fd, buf, sizeof buf), 0, "read /dev/null is EOF");
    check_ret(sc(SYS_write, fd, buf, 10), 10, "write /dev/null takes all");
    check_ret(sc(SYS_write, fd, big, sizeof big), sizeof big, "write 1 MiB to /dev/null");
    /* The data is never looked at, so a bad pointer is fine. */
    check_ret(sc(SYS_write, fd, BADPTR, 10), 10, "write /dev/null from a bad pointer");
    check_ret(sc(SYS_read, fd, BADPTR, 10), 0, "read /dev/null into a bad pointer");
    check_ret(sc(SYS_lseek, fd, 100, SEEK_SET), 0, "lseek /dev/null SEEK_SET 100 returns 0");
    check_ret(sc(SYS_lseek, fd, 5, SEEK_CUR), 0, "lseek /dev/null SEEK_CUR returns 0");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_END), 0, "lseek /dev/null SEEK_END returns 0");
    check_ret(sc(SYS_pwrite64, fd, buf, 4, 1000), 4, "pwrite /dev/null");
    check_ret(sc(SYS_pread64, fd, buf, 4, 1000), 0, "pread /dev/null");
    struct termios t;
    check_err(sc(SYS_ioctl, fd, TCGETS, &t), ENOTTY, "TCGETS on /dev/null");
    check_err(sc(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, fd, 0), ENODEV, "mmap /dev/null");
    struct stat a, b;
    check(sc(SYS_fstat, fd, &a) == 0 && stat("/dev/null", &b) == 0 && a.st_rdev == b.st_rdev &&
              a.st_ino == b.st_ino,
          "fstat of the fd is /dev/null");
    close(fd);
    check_err(sc(SYS_open, "/dev/null", O_RDONLY | O_DIRECTORY), ENOTDIR,
              "open /dev/null O_DIRECTORY");
    check_err(sc(SYS_open, "/dev/null/x", O_RDONLY), ENOTDIR, "open /dev/null/x");
    char lbuf[16];
    check_err(sc(SYS_readlink, "/dev/null", lbuf, sizeof lbuf), EINVAL, "readlink /dev/null");
}

static void test_zero_full(void)
{
    static unsigned char buf[65536];
    int fd = open("/dev/zero", O_RDWR);
    check(fd >= 0, "open /dev/zero");
    memset(buf, 0xaa, sizeof buf);
    check_ret(sc(SYS_read, fd, buf, sizeof buf), sizeof buf, "read 64 KiB of /dev/zero");
    check(all_zero(buf, sizeof buf), "all zeros");
    check_ret(sc(SYS_write, fd, buf, 100), 100, "write /dev/zero takes all");
    check_ret(sc(SYS_lseek, fd, 100, SEEK_SET), 0, "lseek /dev/zero returns 0");
    check_err(sc(SYS_read, fd, BADPTR, 10), EFAULT, "read /dev/zero into a bad pointer");
    struct termios t;
    check_err(sc(SYS_ioctl, fd, TCGETS, &t), ENOTTY, "TCGETS on /dev/zero");

    long p = sc(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(p > 0 && p % 4096 == 0, "mmap /dev/zero MAP_PRIVATE");
    if (p > 0) {
        check(all_zero((unsigned char *)p, 8192), "private mapping is zero");
        memset((void *)p, 7, 8192);
        check(((unsigned char *)p)[8191] == 7, "and writable");
        sc(SYS_munmap, p, 8192);
    }
    /* A shared mapping of /dev/zero is shared anonymous memory. */
    p = sc(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(p > 0 && all_zero((unsigned char *)p, 4096), "mmap /dev/zero MAP_SHARED is zero");
    if (p > 0)
        sc(SYS_munmap, p, 4096);
    close(fd);

    fd = open("/dev/full", O_RDWR);
    check(fd >= 0, "open /dev/full");
    check_err(sc(SYS_write, fd, "x", 1), ENOSPC, "write /dev/full");
    /* Even an empty write: the driver never looks at the count. */
    check_err(sc(SYS_write, fd, "x", 0), ENOSPC, "write 0 bytes to /dev/full");
    memset(buf, 0xaa, 4096);
    check_ret(sc(SYS_read, fd, buf, 4096), 4096, "read /dev/full");
    check(all_zero(buf, 4096), "/dev/full reads zeros");
    check_ret(sc(SYS_lseek, fd, 100, SEEK_SET), 0, "lseek /dev/full returns 0");
    close(fd);
}

static void test_random(void)
{
    static const char *const names[] = { "/dev/random", "/dev/urandom" };
    for (int i = 0; i < 2; i++) {
        unsigned char a[64], b[64];
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        int fd = open(names[i], O_RDONLY);
        check(fd >= 0, "open %s", names[i]);
        check_ret(sc(SYS_read, fd, a, sizeof a), 64, names[i]);
        check_ret(sc(SYS_read, fd, b, sizeof b), 64, names[i]);
        check(!all_zero(a, sizeof a) && memcmp(a, b, sizeof a) != 0,
              "%s: not all zero, two reads differ", names[i]);
        check_err(sc(SYS_read, fd, BADPTR, 16), EFAULT, "read random into a bad pointer");
        close(fd);
    }
}

static void test_tty(void)
{
    /* Leave any controlling terminal behind: natively the harness's
     * timeout made us a group member, so setsid works; the sandbox's
     * guest has no terminal either way. */
    sc(SYS_setsid);
    check_err(sc(SYS_open, "/dev/tty", O_RDWR), ENXIO,
              "open /dev/tty without a controlling terminal");
    check_err(sc(SYS_open, "/dev/tty", O_RDONLY | O_NOCTTY), ENXIO, "open /dev/tty O_NOCTTY");
}

static void test_links(void)
{
    static const struct {
        const char *path, *target;
    } links[] = {
        { "/dev/fd", "/proc/self/fd" },
        { "/dev/stdin", "/proc/self/fd/0" },
        { "/dev/stdout", "/proc/self/fd/1" },
        { "/dev/stderr", "/proc/self/fd/2" },
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char buf[64];
        struct stat st;
        long n = sc(SYS_readlink, links[i].path, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        check(n == (long)strlen(links[i].target) && strcmp(buf, links[i].target) == 0,
              "readlink %s is %s", links[i].path, links[i].target);
        check(lstat(links[i].path, &st) == 0 && S_ISLNK(st.st_mode), "%s is a symlink",
              links[i].path);
    }
    for (int fd = 0; fd < 3; fd++) {
        static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
        struct stat a, b;
        check(sc(SYS_fstat, fd, &a) == 0 && stat(std[fd], &b) == 0 && a.st_dev == b.st_dev &&
                  a.st_ino == b.st_ino,
              "%s is fd %d", std[fd], fd);
    }

    /* /dev/fd/N opens the file anew: its own offset, the same inode. */
    char cwd[PATH_MAX / 2];
    check(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    unlink("fs_dev.file");
    int fd = open("fs_dev.file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    check_ret(sc(SYS_write, fd, "hello", 5), 5, "write the file");
    char path[64], buf[PATH_MAX];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    long fd2 = sc(SYS_open, path, O_RDONLY);
    check(fd2 >= 0, "open /dev/fd/N");
    memset(buf, 0, 8);
    check_ret(sc(SYS_read, fd2, buf, 8), 5, "read the reopened file");
    check(memcmp(buf, "hello", 5) == 0, "from offset 0");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_CUR), 5, "the original offset is untouched");
    struct stat a, b;
    check(sc(SYS_fstat, fd, &a) == 0 && sc(SYS_fstat, fd2, &b) == 0 && a.st_ino == b.st_ino &&
              a.st_dev == b.st_dev,
          "same inode");
    close((int)fd2);
    long n = fd_link(fd, buf, sizeof buf);
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/fs_dev.file", cwd);
    check(n == (long)strlen(want) && strcmp(buf, want) == 0,
          "readlink /proc/self/fd/N is the file's path");
    snprintf(path, sizeof path, "/dev/fd/%d", 900);
    check_err(sc(SYS_open, path, O_RDONLY), ENOENT, "open /dev/fd/900");
    close(fd);
    unlink("fs_dev.file");
}

static void test_shm(void)
{
    struct stat st;
    check(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode), "/dev/shm is a directory");
    check_ret(sc(SYS_access, "/dev/shm", W_OK | X_OK), 0, "/dev/shm is writable");
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/fs_dev.%ld", sc(SYS_getpid));
    long fd = sc(SYS_open, path, O_RDWR | O_CREAT | O_EXCL, 0600);
    check(fd >= 0, "create a file in /dev/shm");
    check_ret(sc(SYS_write, fd, "shm", 3), 3, "write it");
    char buf[4] = { 0 };
    check_ret(sc(SYS_pread64, fd, buf, 3, 0), 3, "read it back");
    check(memcmp(buf, "shm", 3) == 0, "same data");
    close((int)fd);
    check_ret(sc(SYS_unlink, path), 0, "remove it");
    check_err(sc(SYS_stat, path, &st), ENOENT, "it is gone");
}

int main(void)
{
    test_numbers();
    test_null();
    test_zero_full();
    test_random();
    test_tty();
    test_links();
    test_shm();
    return finish();
}
