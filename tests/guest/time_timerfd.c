/* time_timerfd.c: timerfd_create, timerfd_settime and timerfd_gettime:
 * the checks of clocks, flags and times, one-shot and periodic timers
 * (relative and absolute, on each clock), the expiration counts of reads,
 * the time left and the old value, poll and select readiness, reads that
 * block until the expiry (in a thread, in a child that shares the timer
 * across fork) or until a signal, fdinfo and the fd link. Times are
 * checked within generous bounds only. */
#include "fs_util.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TFD_TIMER_ABSTIME 1
#define TFD_TIMER_CANCEL_ON_SET 2

/* struct itimerspec as the kernel has it. */
struct its {
    struct timespec interval, value;
};

static long set(int fd, int flags, long value_ns, long interval_ns, struct its *old)
{
    struct its n = { { interval_ns / 1000000000L, interval_ns % 1000000000L },
                     { value_ns / 1000000000L, value_ns % 1000000000L } };
    return sc(SYS_timerfd_settime, fd, flags, &n, old);
}

static long rd(int fd, uint64_t *v)
{
    return sc(SYS_read, fd, v, sizeof(*v));
}

static void test_create(void)
{
    check_err(sc(SYS_timerfd_create, CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "CPU-time clock");
    check_err(sc(SYS_timerfd_create, CLOCK_MONOTONIC_RAW, 0), EINVAL, "CLOCK_MONOTONIC_RAW");
    check_err(sc(SYS_timerfd_create, 99, 0), EINVAL, "clock 99");
    check_err(sc(SYS_timerfd_create, -1, 0), EINVAL, "clock -1");
    check_err(sc(SYS_timerfd_create, CLOCK_MONOTONIC, 1), EINVAL, "flag 1");
    check_err(sc(SYS_timerfd_create, 99, 1), EINVAL, "bad clock and flag");
    long fd = sc(SYS_timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC);
    check_ret(sc(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "TFD_CLOEXEC");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL O_RDWR");
    sc(SYS_close, fd);
    fd = sc(SYS_timerfd_create, CLOCK_REALTIME, O_NONBLOCK);
    check_ret(sc(SYS_fcntl, fd, F_GETFD), 0, "no close-on-exec");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "TFD_NONBLOCK");
    sc(SYS_close, fd);
    fd = sc(SYS_timerfd_create, CLOCK_BOOTTIME, 0);
    check(fd >= 0, "CLOCK_BOOTTIME");
    sc(SYS_close, fd);
    /* The alarm clocks need CAP_WAKE_ALARM: what the caller has decides. */
    int clocks[2] = { CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM };
    for (int i = 0; i < 2; i++) {
        fd = sc(SYS_timerfd_create, clocks[i], O_NONBLOCK);
        out("alarm clock %d: %s\n", clocks[i], fd < 0 ? ret_name(fd) : "made");
        if (fd < 0)
            continue;
        /* Long enough that a slow (sanitized) build still reads it armed. */
        check_ret(set((int)fd, 0, 300 * MS, 0, NULL), 0, "alarm timer set");
        struct its cur;
        sc(SYS_timerfd_gettime, fd, &cur);
        check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 300 * MS,
              "alarm timer left in (0, 300 ms]");
        struct pollfd p = { (int)fd, POLLIN, 0 };
        check_ret(sc(SYS_poll, &p, 1, 10000), 1, "alarm timer fires");
        uint64_t v = 0;
        rd((int)fd, &v);
        check(v == 1, "one expiration (%llu)", (unsigned long long)v);
        sc(SYS_close, fd);
    }
}

static void test_errors(void)
{
    int fd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, O_NONBLOCK);
    struct its cur;
    check_ret(sc(SYS_timerfd_gettime, fd, &cur), 0, "gettime of a new timer");
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 0, "disarmed: all zero");
    check_err(set(fd, 4, MS, 0, NULL), EINVAL, "settime flag 4");
    struct its bad = { { 0, 0 }, { 0, 1000000000L } };
    check_err(sc(SYS_timerfd_settime, fd, 0, &bad, NULL), EINVAL, "value tv_nsec 1e9");
    bad.value.tv_nsec = -1;
    check_err(sc(SYS_timerfd_settime, fd, 0, &bad, NULL), EINVAL, "value tv_nsec -1");
    bad.value = (struct timespec){ -1, 0 };
    check_err(sc(SYS_timerfd_settime, fd, 0, &bad, NULL), EINVAL, "value tv_sec -1");
    bad.value = (struct timespec){ 1, 0 };
    bad.interval = (struct timespec){ 0, 1000000000L };
    check_err(sc(SYS_timerfd_settime, fd, 0, &bad, NULL), EINVAL, "interval tv_nsec 1e9");
    check_err(sc(SYS_timerfd_settime, fd, 0, NULL, NULL), EFAULT, "settime NULL value");
    check_err(sc(SYS_timerfd_settime, fd, 99, NULL, NULL), EFAULT, "NULL value before bad flags");
    check_err(sc(SYS_timerfd_settime, fd, 0, BADPTR, NULL), EFAULT, "settime bad pointer");
    check_err(set(999, 0, MS, 0, NULL), EBADF, "settime bad fd");
    check_err(set(999, 4, MS, 0, NULL), EINVAL, "bad flags before bad fd");
    int p[2];
    sc(SYS_pipe2, p, 0);
    check_err(set(p[0], 0, MS, 0, NULL), EINVAL, "settime of a pipe");
    check_err(sc(SYS_timerfd_gettime, p[0], &cur), EINVAL, "gettime of a pipe");
    check_err(sc(SYS_timerfd_gettime, 999, &cur), EBADF, "gettime bad fd");
    check_err(sc(SYS_timerfd_gettime, fd, NULL), EFAULT, "gettime NULL");
    sc(SYS_close, p[0]);
    sc(SYS_close, p[1]);
    /* A bad old-value pointer fails the call after the timer is set. */
    check_err(set(fd, 0, 10000 * MS, 0, BADPTR), EFAULT, "settime bad old-value pointer");
    sc(SYS_timerfd_gettime, fd, &cur);
    check(cur.value.tv_sec >= 8 && cur.value.tv_sec <= 10, "the timer was set anyway (%lld s)",
          (long long)cur.value.tv_sec);
    char buf[16];
    check_err(sc(SYS_read, fd, buf, 7), EINVAL, "read of 7 bytes");
    check_err(sc(SYS_read, fd, buf, 0), EINVAL, "read of 0 bytes");
    check_err(sc(SYS_write, fd, buf, 8), EINVAL, "write");
    check_err(sc(SYS_read, fd, buf, 8), EAGAIN, "not expired, O_NONBLOCK: EAGAIN");
    check_ret(sc(SYS_lseek, fd, 5, SEEK_SET), 0, "lseek succeeds, position 0");
    check_err(sc(SYS_pread64, fd, buf, 8, 0), ESPIPE, "pread");
    sc(SYS_close, fd);
}

static void test_oneshot(void)
{
    int fd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    long t0 = now_ns(CLOCK_MONOTONIC);
    check_ret(set(fd, 0, 100 * MS, 0, NULL), 0, "one-shot in 100 ms");
    struct its cur;
    sc(SYS_timerfd_gettime, fd, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 100 * MS && ns_of(&cur.interval) == 0,
          "gettime: left in (0, 100 ms], no interval");
    struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
    check_ret(sc(SYS_poll, &p, 1, 0), 0, "poll before the expiry: nothing");
    uint64_t v = 0;
    check_ret(rd(fd, &v), 8, "blocking read");
    long el = now_ns(CLOCK_MONOTONIC) - t0;
    check(v == 1, "one expiration (%llu)", (unsigned long long)v);
    check(el >= 95 * MS && el < 5000 * MS, "the read waited for the expiry");
    sc(SYS_timerfd_gettime, fd, &cur);
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 0, "expired one-shot: gettime zero");
    check_ret(sc(SYS_poll, &p, 1, 50), 0, "read: no longer readable");
    sc(SYS_close, fd);
}

static void test_periodic(void)
{
    int fd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, O_NONBLOCK);
    long t0 = now_ns(CLOCK_MONOTONIC);
    set(fd, 0, 20 * MS, 20 * MS, NULL);
    msleep(210);
    uint64_t v = 0;
    check_ret(rd(fd, &v), 8, "periodic read");
    long el = now_ns(CLOCK_MONOTONIC) - t0;
    check(v >= 10 && (long)v <= el / (20 * MS) + 1, "every missed period counted (%s)",
          v >= 10 ? "10 or more" : "fewer");
    /* Nothing left, unless the next period ended before the second read
     * (a loaded host can hold a thread that long): then one more. */
    struct its cur;
    sc(SYS_timerfd_gettime, fd, &cur);
    long left_at = now_ns(CLOCK_MONOTONIC) + ns_of(&cur.value);
    long again = rd(fd, &v);
    if (again == 8 && v == 1 && now_ns(CLOCK_MONOTONIC) >= left_at)
        again = -EAGAIN;
    check_err(again, EAGAIN, "counted ones are gone");
    sc(SYS_timerfd_gettime, fd, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 20 * MS && ns_of(&cur.interval) == 20 * MS,
          "gettime: left in (0, 20 ms], interval 20 ms");
    struct pollfd p = { fd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &p, 1, 5000), 1, "poll: the next period");
    /* gettime moves a fired periodic timer on and keeps the count. */
    msleep(70);
    sc(SYS_timerfd_gettime, fd, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 20 * MS, "gettime after missed periods");
    v = 0;
    rd(fd, &v);
    check(v >= 3, "the periods stay counted (%s)", v >= 3 ? "3 or more" : "fewer");

    /* The old value; an interval stays set with a zero value. */
    struct its old;
    check_ret(set(fd, 0, 10000 * MS, 2000 * MS, NULL), 0, "10 s, then every 2 s");
    check_ret(set(fd, 0, 0, 3000 * MS, &old), 0, "disarm, interval 3 s");
    check(old.value.tv_sec >= 8 && ns_of(&old.value) <= 10000 * MS &&
              ns_of(&old.interval) == 2000 * MS,
          "old value: left in [8 s, 10 s], interval 2 s");
    sc(SYS_timerfd_gettime, fd, &cur);
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 3000 * MS,
          "disarmed: value 0, the interval 3 s kept");
    msleep(30);
    check_err(rd(fd, &v), EAGAIN, "a disarmed timer does not fire");
    check_ret(set(fd, 0, 0, 0, &old), 0, "settime zero");
    check(ns_of(&old.value) == 0 && ns_of(&old.interval) == 3000 * MS,
          "old: value 0, interval 3 s");
    sc(SYS_close, fd);
}

static void test_absolute(void)
{
    static const struct named_clock clocks[] = { NAMED_CLOCK(MONOTONIC), NAMED_CLOCK(REALTIME),
                                                 NAMED_CLOCK(BOOTTIME) };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        int c = clocks[i].id;
        const char *name = clocks[i].name;
        int fd = (int)sc(SYS_timerfd_create, c, 0);
        int flags = TFD_TIMER_ABSTIME | (c == CLOCK_REALTIME ? TFD_TIMER_CANCEL_ON_SET : 0);
        long t0 = now_ns(c);
        check_ret(set(fd, flags, t0 + 50 * MS, 0, NULL), 0, name);
        uint64_t v = 0;
        check_ret(rd(fd, &v), 8, "absolute: blocking read");
        long el = now_ns(c) - t0;
        check(v == 1 && el >= 45 * MS && el < 5000 * MS, "%s absolute: fired at its time", name);
        /* Relative on the same clock. */
        t0 = now_ns(CLOCK_MONOTONIC);
        set(fd, 0, 30 * MS, 0, NULL);
        v = 0;
        rd(fd, &v);
        el = now_ns(CLOCK_MONOTONIC) - t0;
        check(v == 1 && el >= 25 * MS && el < 5000 * MS, "%s relative: fired at its time", name);
        /* An absolute time past: expired at once, the periods since counted. */
        set(fd, TFD_TIMER_ABSTIME, now_ns(c) - 1000 * MS, 100 * MS, NULL);
        v = 0;
        check_ret(rd(fd, &v), 8, "absolute time past: read at once");
        check(v >= 10 && v <= 60, "%s: the periods since counted (%s)", name,
              v >= 10 && v <= 60 ? "10 or more" : "wrong");
        sc(SYS_close, fd);
    }
    /* A relative CLOCK_REALTIME timer shows its old value too. */
    int fd = (int)sc(SYS_timerfd_create, CLOCK_REALTIME, O_NONBLOCK);
    set(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, now_ns(CLOCK_REALTIME) + 5000 * MS, 0,
        NULL);
    struct its old;
    set(fd, 0, 0, 0, &old);
    check(old.value.tv_sec >= 3 && old.value.tv_sec <= 5, "realtime absolute: old value about 5 s");
    sc(SYS_close, fd);
}

static void test_file(void)
{
    int fd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, O_NONBLOCK);
    set(fd, TFD_TIMER_ABSTIME, now_ns(CLOCK_MONOTONIC) + 100000 * MS, 7 * MS, NULL);
    char path[64], buf[512];
    fd_link(fd, buf, sizeof buf);
    check(!strcmp(buf, "anon_inode:[timerfd]"), "fd link: %s", buf);
    struct stat st;
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat");
    check(st.st_mode == 0600 && st.st_nlink == 1 && st.st_size == 0,
          "fstat: mode %o, nlink %lu, size %lld", st.st_mode, (unsigned long)st.st_nlink,
          (long long)st.st_size);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    slurp(path);
    check(strstr(g_file, "flags:\t04002\n") != NULL, "fdinfo flags 04002");
    check(strstr(g_file, "\nclockid: 1\nticks: 0\nsettime flags: 01\nit_value: (99") != NULL,
          "fdinfo clockid, ticks, settime flags, it_value");
    check(strstr(g_file, "\nit_interval: (0, 7000000)\n") != NULL, "fdinfo it_interval");
    set(fd, 0, 1, 0, NULL);
    msleep(10);
    slurp(path);
    check(strstr(g_file,
                 "\nticks: 1\nsettime flags: 00\nit_value: (0, 0)\nit_interval: (0, 0)\n") != NULL,
          "fdinfo of a fired timer");
    check_err(sc(SYS_read, fd, NULL, 8), EFAULT, "read into NULL");
    uint64_t v;
    check_err(rd(fd, &v), EAGAIN, "the failed read took the count");
    /* 8 bytes of which the last 4 are unmapped: a short read. */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    set(fd, 0, 1, 0, NULL);
    msleep(10);
    check_ret(sc(SYS_read, fd, page + 4096 - 4, 8), 4, "read of 8 bytes running into a hole");
    check_err(rd(fd, &v), EAGAIN, "that read took the count too");
    munmap(page, 4096);
    sc(SYS_close, fd);
}

static int tfd;
static uint64_t tgot;

static void *reader(void *arg)
{
    (void)arg;
    if (rd(tfd, &tgot) != 8)
        tgot = 99;
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* Blocking in a thread, in a child that shares the timer, and until a
 * signal; select and poll waiting for the expiry. */
static void test_blocking(void)
{
    tfd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);
    msleep(20);
    set(tfd, 0, 50 * MS, 0, NULL);
    pthread_join(th, NULL);
    check(tgot == 1, "a thread's blocking read: one expiration (%llu)", (unsigned long long)tgot);

    /* Shared across fork: the child reads the expiration the parent set. */
    set(tfd, 0, 50 * MS, 0, NULL);
    long pid = sc(SYS_fork);
    if (pid == 0) {
        uint64_t v = 0;
        sc(SYS_exit_group, rd(tfd, &v) == 8 && v == 1 ? 0 : 1);
    }
    int st = -1;
    sc(SYS_wait4, pid, &st, 0, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's blocking read of the shared timer");
    struct pollfd p = { tfd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &p, 1, 0), 0, "the child took the expiration");

    set(tfd, 0, 50 * MS, 0, NULL);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(tfd, &r);
    struct timeval tv = { 10, 0 };
    check_ret(sc(SYS_select, tfd + 1, &r, NULL, NULL, &tv), 1, "select waits for the expiry");
    check(FD_ISSET(tfd, &r), "readable");
    p.revents = 0;
    p.events = POLLIN | POLLOUT | POLLRDNORM;
    check_ret(sc(SYS_poll, &p, 1, 0), 1, "poll after the expiry");
    check(p.revents == POLLIN, "POLLIN only (%#x)", p.revents);
    uint64_t v;
    rd(tfd, &v);

    /* A signal ends a blocking read of a timer that never fires. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pid = fork_signal_after(SIGUSR1, 100);
    set(tfd, 0, 0, 0, NULL);
    check_err(rd(tfd, &v), EINTR, "a signal ends the read of a disarmed timer");
    sc(SYS_wait4, pid, &st, 0, 0);
    sc(SYS_close, tfd);
}

/* TFD_IOC_SET_TICKS (_IOW('T', 0, __u64)) sets what a read reports and
 * wakes a poller; 0 is EINVAL, a bad pointer EFAULT, another request on a
 * timerfd ENOTTY. */
static void test_set_ticks(void)
{
    int tfd = (int)sc(SYS_timerfd_create, CLOCK_MONOTONIC, O_NONBLOCK);
    uint64_t ticks = 0, v = 0;
    check_err(sc(SYS_ioctl, tfd, 0x40085400UL, &ticks), EINVAL, "TFD_IOC_SET_TICKS of 0");
    check_err(sc(SYS_ioctl, tfd, 0x40085400UL, (void *)8), EFAULT,
              "TFD_IOC_SET_TICKS, bad pointer");
    check_err(sc(SYS_ioctl, tfd, 0x5401 /* TCGETS */, &v), ENOTTY, "TCGETS on a timerfd");
    struct pollfd p = { tfd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &p, 1, 0), 0, "nothing to read before");
    ticks = 5;
    check_ret(sc(SYS_ioctl, tfd, 0x40085400UL, &ticks), 0, "TFD_IOC_SET_TICKS of 5");
    check_ret(sc(SYS_poll, &p, 1, 0), 1, "readable after");
    check_ret(rd(tfd, &v), 8, "read");
    check(v == 5, "reads the ticks set (%llu)", (unsigned long long)v);
    check_err(rd(tfd, &v), EAGAIN, "then nothing");
    sc(SYS_close, tfd);
}

int main(void)
{
    test_create();
    test_errors();
    test_oneshot();
    test_periodic();
    test_absolute();
    test_file();
    test_blocking();
    test_set_ticks();
    return finish();
}
