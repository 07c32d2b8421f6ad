/* badptr.c: bad pointers, descriptors, sizes and flags for every stage-one
 * syscall, with the errno Linux 6.x gives (checked natively). */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>

#define PG 4096UL

/* The kernel's struct sigaction layout for rt_sigaction. */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

/* A readable page followed by a page known to be unmapped. */
static char *edge_page(void)
{
    long p = sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc(SYS_munmap, p + PG, PG);
    return (char *)p;
}

static void test_rw(void)
{
    char buf[16] = "0123456789";
    check_err(sc(SYS_write, 1, BADPTR, 10), EFAULT, "write bad buffer");
    check_err(sc(SYS_write, 1, KPTR, 10), EFAULT, "write kernel buffer");
    check_ret(sc(SYS_write, 1, BADPTR, 0), 0, "write bad buffer 0 bytes");
    check_err(sc(SYS_write, -1, buf, 1), EBADF, "write fd -1");
    check_err(sc(SYS_write, 999, buf, 1), EBADF, "write fd 999");
    check_err(sc(SYS_write, 0, buf, 1), EBADF, "write to read-only stdin");
    check_err(sc(SYS_write, 1, buf, SIZE_MAX), EFAULT, "write SIZE_MAX");

    /* Short writes need a real file on fd 2, which the harness gives. */
    struct stat st2;
    int err_is_file = sc(SYS_fstat, 2, &st2) == 0 && S_ISREG(st2.st_mode);

    /* A write running into unmapped memory stops there. */
    char *e = edge_page();
    memset(e, '#', PG);
    e[PG - 1] = '\n';
    if (err_is_file)
        check_ret(sc(SYS_write, 2, e, 2 * PG), PG, "write into an unmapped page is short");
    else
        out("skip short write: stderr is not a file\n");

    check_ret(sc(SYS_read, 0, BADPTR, 10), 0, "read /dev/null to bad buffer is EOF");
    check_err(sc(SYS_read, 1, buf, 1), EBADF, "read write-only stdout");
    check_err(sc(SYS_read, -1, buf, 1), EBADF, "read fd -1");
    check_err(sc(SYS_read, 999, buf, 1), EBADF, "read fd 999");

    struct iovec iov[2] = { { buf, 4 }, { buf + 4, 4 } };
    check_err(sc(SYS_writev, 1, iov, -1), EINVAL, "writev iovcnt -1");
    check_err(sc(SYS_writev, 1, iov, 1025), EINVAL, "writev iovcnt 1025");
    check_err(sc(SYS_writev, 1, BADPTR, 2), EFAULT, "writev bad iov");
    check_err(sc(SYS_writev, 1, KPTR, 2), EFAULT, "writev kernel iov");
    check_err(sc(SYS_writev, -1, iov, 2), EBADF, "writev fd -1");
    check_err(sc(SYS_writev, 0, iov, 2), EBADF, "writev read-only stdin");
    struct iovec bad[2] = { { BADPTR, 4 }, { buf, 4 } };
    check_err(sc(SYS_writev, 1, bad, 2), EFAULT, "writev bad iov_base");
    struct iovec neg[1] = { { buf, SIZE_MAX } };
    check_err(sc(SYS_writev, 1, neg, 1), EINVAL, "writev iov_len SIZE_MAX");
    /* The first iovec is written, then the fault ends it short. */
    struct iovec part[2] = { { "partial\n", 8 }, { BADPTR, 4 } };
    if (err_is_file)
        check_ret(sc(SYS_writev, 2, part, 2), 8, "writev partial then bad");
    else
        out("skip partial writev: stderr is not a file\n");
    static struct iovec empty[1024];
    check_ret(sc(SYS_writev, 1, empty, 1024), 0, "writev 1024 empty iovecs");

    check_err(sc(SYS_readv, 0, BADPTR, 1), EFAULT, "readv bad iov");
    check_err(sc(SYS_readv, 0, iov, -1), EINVAL, "readv iovcnt -1");
    check_err(sc(SYS_readv, 0, iov, 1025), EINVAL, "readv iovcnt 1025");
    check_ret(sc(SYS_readv, 0, bad, 2), 0, "readv /dev/null to bad iov_base is EOF");
    check_err(sc(SYS_readv, 1, iov, 2), EBADF, "readv write-only stdout");
    check_err(sc(SYS_readv, 999, iov, 2), EBADF, "readv fd 999");
}

static void test_misc(void)
{
    check_err(sc(SYS_uname, BADPTR), EFAULT, "uname bad pointer");
    check_err(sc(SYS_uname, KPTR), EFAULT, "uname kernel pointer");

    struct timespec ts;
    check_err(sc(SYS_clock_gettime, 100, &ts), EINVAL, "clock_gettime clock 100");
    check_err(sc(SYS_clock_gettime, CLOCK_REALTIME, BADPTR), EFAULT, "clock_gettime bad pointer");
    check_err(sc(SYS_clock_gettime, CLOCK_MONOTONIC, NULL), EFAULT, "clock_gettime NULL");
    check_err(sc(SYS_clock_getres, 100, &ts), EINVAL, "clock_getres clock 100");
    check_err(sc(SYS_clock_getres, CLOCK_REALTIME, BADPTR), EFAULT, "clock_getres bad pointer");
    check_ret(sc(SYS_clock_getres, CLOCK_REALTIME, NULL), 0, "clock_getres NULL");
    struct timeval tv;
    check_err(sc(SYS_gettimeofday, BADPTR, NULL), EFAULT, "gettimeofday bad tv");
    check_err(sc(SYS_gettimeofday, &tv, BADPTR), EFAULT, "gettimeofday bad tz");
    check_ret(sc(SYS_gettimeofday, NULL, NULL), 0, "gettimeofday NULL NULL");
    check_err(sc(SYS_time, BADPTR), EFAULT, "time bad pointer");
    check(sc(SYS_time, NULL) > 0, "time NULL returns the time");

    char rnd[16];
    check_err(sc(SYS_getrandom, BADPTR, 16, 0), EFAULT, "getrandom bad buffer");
    check_err(sc(SYS_getrandom, rnd, 16, 0x100), EINVAL, "getrandom unknown flag");
    check_err(sc(SYS_getrandom, rnd, 16, 0x4 | 0x2), EINVAL, "getrandom INSECURE|RANDOM");
    check_ret(sc(SYS_getrandom, rnd, 0, 0), 0, "getrandom 0 bytes");
    check_ret(sc(SYS_getrandom, BADPTR, 0, 0), 0, "getrandom 0 bytes to bad buffer");
    char *e = edge_page();
    check_ret(sc(SYS_getrandom, e, SIZE_MAX, 0), PG,
              "getrandom SIZE_MAX stops at the unmapped page");
    check_ret(sc(SYS_getrandom, e + PG - 8, 16, 0), 8, "getrandom across into unmapped is short");
    sc(SYS_munmap, e, PG);

    struct {
        unsigned long cur, max;
    } rl, big = { 2, 1 };
    check_err(sc(SYS_prlimit64, 0, 100, NULL, &rl), EINVAL, "prlimit64 resource 100");
    check_err(sc(SYS_prlimit64, 0, -1, NULL, &rl), EINVAL, "prlimit64 resource -1");
    check_err(sc(SYS_prlimit64, 0, 7, BADPTR, NULL), EFAULT, "prlimit64 bad new limit");
    check_err(sc(SYS_prlimit64, 0, 7, NULL, BADPTR), EFAULT, "prlimit64 bad old limit");
    check_err(sc(SYS_prlimit64, 0, 7, &big, NULL), EINVAL, "prlimit64 soft above hard");
    check_err(sc(SYS_prlimit64, 12345678, 7, NULL, &rl), ESRCH, "prlimit64 pid 12345678");
    check_ret(sc(SYS_prlimit64, 0, 7, NULL, NULL), 0, "prlimit64 with no limits");

    unsigned long mask[16];
    check_err(sc(SYS_sched_getaffinity, 0, 1, mask), EINVAL, "sched_getaffinity size 1");
    check_err(sc(SYS_sched_getaffinity, 0, 12, mask), EINVAL, "sched_getaffinity size 12");
    check_err(sc(SYS_sched_getaffinity, 0, sizeof mask, BADPTR), EFAULT,
              "sched_getaffinity bad pointer");
    check_err(sc(SYS_sched_getaffinity, 12345678, sizeof mask, mask), ESRCH,
              "sched_getaffinity pid 12345678");

    struct stat st;
    check_err(sc(SYS_fstat, -1, &st), EBADF, "fstat fd -1");
    check_err(sc(SYS_fstat, 999, &st), EBADF, "fstat fd 999");
    check_err(sc(SYS_fstat, 1, BADPTR), EFAULT, "fstat bad pointer");
    check_err(sc(SYS_newfstatat, 1, "", BADPTR, AT_EMPTY_PATH), EFAULT,
              "newfstatat bad stat pointer");
    check_err(sc(SYS_newfstatat, 1, "", &st, 0x80000000), EINVAL, "newfstatat unknown flag");
    check_err(sc(SYS_newfstatat, 1, "", &st, 0), ENOENT,
              "newfstatat empty path without AT_EMPTY_PATH");
    check_err(sc(SYS_newfstatat, -1, "", &st, AT_EMPTY_PATH), EBADF, "newfstatat fd -1");
    check_err(sc(SYS_newfstatat, 999, "", &st, AT_EMPTY_PATH), EBADF, "newfstatat fd 999");
    check_err(sc(SYS_newfstatat, 1, BADPTR, &st, AT_EMPTY_PATH), EFAULT, "newfstatat bad path");

    struct termios t;
    check_err(sc(SYS_ioctl, 99, TCGETS, &t), EBADF, "ioctl fd 99");
    check_err(sc(SYS_ioctl, -1, TCGETS, &t), EBADF, "ioctl fd -1");
    check_err(sc(SYS_ioctl, 1, TCGETS, &t), ENOTTY, "ioctl TCGETS on a file");
    check_err(sc(SYS_ioctl, 0, TCGETS, &t), ENOTTY, "ioctl TCGETS on /dev/null");
    check_err(sc(SYS_ioctl, 1, TIOCGWINSZ, &t), ENOTTY, "ioctl TIOCGWINSZ on a file");

    char lb[256];
    check_err(sc(SYS_readlink, "/proc/self/exe", BADPTR, 100), EFAULT, "readlink bad buffer");
    check_err(sc(SYS_readlink, "/proc/self/exe", lb, 0), EINVAL, "readlink size 0");
    check_err(sc(SYS_readlink, "/proc/self/exe", lb, -1), EINVAL, "readlink size -1");
    check_err(sc(SYS_readlink, BADPTR, lb, sizeof lb), EFAULT, "readlink bad path");
    check_err(sc(SYS_readlink, KPTR, lb, sizeof lb), EFAULT, "readlink kernel path");
}

static void test_signals(void)
{
    struct ksigaction act = { SIG_IGN, 0, NULL, 0 }, old;
    unsigned long set = 0, oset;
    check_err(sc(SYS_rt_sigaction, SIGKILL, &act, NULL, 8), EINVAL, "rt_sigaction SIGKILL");
    check_err(sc(SYS_rt_sigaction, SIGSTOP, &act, NULL, 8), EINVAL, "rt_sigaction SIGSTOP");
    check_ret(sc(SYS_rt_sigaction, SIGKILL, NULL, &old, 8), 0, "rt_sigaction SIGKILL query only");
    check_err(sc(SYS_rt_sigaction, 0, &act, NULL, 8), EINVAL, "rt_sigaction signal 0");
    check_err(sc(SYS_rt_sigaction, 65, &act, NULL, 8), EINVAL, "rt_sigaction signal 65");
    check_err(sc(SYS_rt_sigaction, -1, NULL, &old, 8), EINVAL, "rt_sigaction signal -1");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, &act, NULL, 4), EINVAL, "rt_sigaction sigsetsize 4");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, &act, NULL, 16), EINVAL, "rt_sigaction sigsetsize 16");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, BADPTR, NULL, 8), EFAULT, "rt_sigaction bad act");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, NULL, BADPTR, 8), EFAULT, "rt_sigaction bad oldact");

    check_err(sc(SYS_rt_sigprocmask, 3, &set, NULL, 8), EINVAL, "rt_sigprocmask how 3");
    check_err(sc(SYS_rt_sigprocmask, -1, &set, NULL, 8), EINVAL, "rt_sigprocmask how -1");
    /* how is only looked at when there is a new set. */
    check_ret(sc(SYS_rt_sigprocmask, 99, NULL, &oset, 8), 0, "rt_sigprocmask how 99 without a set");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, BADPTR, NULL, 8), EFAULT, "rt_sigprocmask bad set");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, NULL, BADPTR, 8), EFAULT,
              "rt_sigprocmask bad oldset");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL,
              "rt_sigprocmask sigsetsize 4");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL,
              "rt_sigprocmask sigsetsize 16");
}

static void test_thread(void)
{
    long tid = sc(SYS_gettid);
    check_err(sc(SYS_arch_prctl, 0x9999, 0), EINVAL, "arch_prctl code 0x9999");
    check_err(sc(SYS_arch_prctl, ARCH_GET_FS, BADPTR), EFAULT,
              "arch_prctl ARCH_GET_FS bad pointer");
    check_err(sc(SYS_arch_prctl, ARCH_GET_GS, BADPTR), EFAULT,
              "arch_prctl ARCH_GET_GS bad pointer");
    check_err(sc(SYS_arch_prctl, ARCH_SET_FS, KPTR), EPERM,
              "arch_prctl ARCH_SET_FS kernel address");

    long head[3] = { 0, 0, 0 };
    check_err(sc(SYS_set_robust_list, head, 23), EINVAL, "set_robust_list length 23");
    check_err(sc(SYS_set_robust_list, head, 32), EINVAL, "set_robust_list length 32");
    /* The head is only read when the thread exits. */
    check_ret(sc(SYS_set_robust_list, BADPTR, 24), 0, "set_robust_list bad head accepted");
    check(sc(SYS_set_tid_address, BADPTR) == tid, "set_tid_address bad pointer returns tid");

    long cur = sc(SYS_brk, 0);
    check(sc(SYS_brk, BADPTR) == cur, "brk bad address returns the break");
    check(sc(SYS_brk, KPTR) == cur, "brk kernel address returns the break");

    /* rseq argument checking; no rseq area is registered by musl. The
     * sandbox has no rseq yet and answers ENOSYS, as a kernel built without
     * CONFIG_RSEQ does: an expected difference. */
    static struct {
        uint32_t a, b;
        uint64_t c;
        uint32_t d;
        uint32_t pad[3];
    } __attribute__((aligned(32))) rs;
    const long sig = 0x53053053;
    int sb = sandboxed();
    check_err(sc(SYS_rseq, &rs, 31, 0, sig), sb ? ENOSYS : EINVAL, "rseq length 31");
    check_err(sc(SYS_rseq, &rs, 32, 2, sig), sb ? ENOSYS : EINVAL, "rseq unknown flag");
    check_err(sc(SYS_rseq, (char *)&rs + 8, 32, 0, sig), sb ? ENOSYS : EINVAL,
              "rseq misaligned area");
    check_err(sc(SYS_rseq, &rs, 32, 1, sig), sb ? ENOSYS : EINVAL,
              "rseq unregister when none registered");
    check_err(sc(SYS_rseq, (void *)32, 32, 0, sig), sb ? ENOSYS : EFAULT, "rseq unmapped area");
}

int main(void)
{
    test_rw();
    test_misc();
    test_signals();
    test_thread();
    return finish();
}
