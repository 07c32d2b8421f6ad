/* guest.h: header-only helpers shared by the guest tests: raw syscalls,
 * unbuffered output, one-line-per-check reporting and errno names, clocks
 * and sleeps, a signal handler's installation. */
#ifndef GUEST_H
#define GUEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The registers of a system call's arguments 4 to 6 (r10, r8, r9, for an
 * asm to take) set to d, e and f, and ret for its result. */
#define SYSCALL_ARGS_4_TO_6(d, e, f)                                                               \
    register long r10 __asm__("r10") = (d);                                                        \
    register long r8 __asm__("r8") = (e);                                                          \
    register long r9 __asm__("r9") = (f);                                                          \
    long ret

/* Raw syscall returning -errno, so libc wrappers can neither validate
 * arguments themselves nor hide the kernel's answer. */
static inline __attribute__((always_inline)) long raw_syscall6(long n, long a, long b, long c,
                                                               long d, long e, long f)
{
    SYSCALL_ARGS_4_TO_6(d, e, f);
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
/* The extra zeros pad missing arguments; the trailing one keeps the
 * variadic part of sc_ non-empty, as C17 wants. */
#define sc(...) sc_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define sc_(n, a, b, c, d, e, f, ...)                                                              \
    raw_syscall6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Closes each descriptor given, in order. */
static inline void close_fds(const long *fd, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sc(SYS_close, fd[i]);
}
#define CLOSE_ALL(...)                                                                             \
    close_fds((const long[]){ __VA_ARGS__ }, sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long))

/* select for fd's reading and writing, with r and w (its sets) holding
 * just fd first: select's result. */
static inline long select_rw(int fd, fd_set *r, fd_set *w, struct timeval *tv)
{
    FD_ZERO(r);
    FD_ZERO(w);
    FD_SET(fd, r);
    FD_SET(fd, w);
    return sc(SYS_select, fd + 1, r, w, NULL, tv);
}

/* arch_prctl codes; musl ships no kernel headers. */
#ifndef ARCH_SET_FS
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#endif

/* An address below mmap_min_addr: never mapped, yet it passes the kernel's
 * access_ok(), so faults come from the actual copy. */
#define BADPTR ((void *)1)
/* A kernel-half address: rejected before any copy. */
#define KPTR ((void *)0xffff880000000000UL)

static int g_checks, g_failed;
/* Bytes out() has written, so a test can predict stdout's file size. */
static unsigned long g_out_bytes;

/* Unbuffered so output order matches raw writes and survives a crash. */
static inline void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void out(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    for (int off = 0; off < n;) {
        long w = sc(SYS_write, 1, buf + off, n - off);
        if (w <= 0)
            break;
        off += (int)w;
        g_out_bytes += (unsigned long)w;
    }
}

static inline const char *errno_name(long e)
{
    static const struct {
        int e;
        const char *n;
    } t[] = {
        { EPERM, "EPERM" },     { ENOENT, "ENOENT" },
        { ESRCH, "ESRCH" },     { EINTR, "EINTR" },
        { EIO, "EIO" },         { ENXIO, "ENXIO" },
        { E2BIG, "E2BIG" },     { EBADF, "EBADF" },
        { EAGAIN, "EAGAIN" },   { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" },   { EFAULT, "EFAULT" },
        { EBUSY, "EBUSY" },     { EEXIST, "EEXIST" },
        { ENODEV, "ENODEV" },   { ENOTDIR, "ENOTDIR" },
        { EISDIR, "EISDIR" },   { EINVAL, "EINVAL" },
        { EMFILE, "EMFILE" },   { ENOTTY, "ENOTTY" },
        { EFBIG, "EFBIG" },     { ENOSPC, "ENOSPC" },
        { ESPIPE, "ESPIPE" },   { EROFS, "EROFS" },
        { EPIPE, "EPIPE" },     { ERANGE, "ERANGE" },
        { ENOSYS, "ENOSYS" },   { ENAMETOOLONG, "ENAMETOOLONG" },
        { ELOOP, "ELOOP" },     { EOVERFLOW, "EOVERFLOW" },
        { ENOTSUP, "ENOTSUP" }, { ETIMEDOUT, "ETIMEDOUT" },
        { EXDEV, "EXDEV" },     { ENODATA, "ENODATA" },
    };
    static char other[32];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(other, sizeof other, "errno%ld", e);
    return other;
}

/* Names a raw syscall result: "-EINVAL" or the number. */
static inline const char *ret_name(long r)
{
    static char buf[2][48];
    static int slot;
    char *b = buf[slot ^= 1];
    if (r < 0 && r >= -4095)
        snprintf(b, sizeof buf[0], "-%s", errno_name(-r));
    else
        snprintf(b, sizeof buf[0], "%ld", r);
    return b;
}

static inline int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int check(int cond, const char *fmt, ...)
{
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    g_checks++;
    if (!cond)
        g_failed++;
    out("%s %s\n", cond ? "ok  " : "FAIL", name);
    return cond;
}

/* Expects a raw syscall to fail with errno want. */
#define check_err(r, want, name) check_err_((r), (want), (name), #want)
static inline int check_err_(long r, int want, const char *name, const char *wn)
{
    g_checks++;
    if (r == -want) {
        out("ok   %s -> %s\n", name, wn);
        return 1;
    }
    g_failed++;
    out("FAIL %s -> %s, want -%s\n", name, ret_name(r), wn);
    return 0;
}

/* Expects a raw syscall to return exactly want. */
static inline int check_ret(long r, long want, const char *name)
{
    g_checks++;
    if (r == want) {
        out("ok   %s -> %ld\n", name, want);
        return 1;
    }
    g_failed++;
    out("FAIL %s -> %s, want %ld\n", name, ret_name(r), want);
    return 0;
}

/* The harness sets this only for the sandboxed run. */
static inline int sandboxed(void)
{
    const char *s = getenv("SANDBOX_RUN_GUEST");
    return s && strcmp(s, "1") == 0;
}

/* A clock id and the name checks print for it; NAMED_CLOCK(MONOTONIC) is
 * { CLOCK_MONOTONIC, "MONOTONIC" }. */
struct named_clock {
    int id;
    const char *name;
};
#define NAMED_CLOCK(c)                                                                             \
    {                                                                                              \
        CLOCK_##c, #c                                                                              \
    }

/* Milliseconds from a to b, for checks that a wait lasted about so long. */
static inline long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* sigaction(sig) with fn as its SA_SIGINFO handler, more flags, an empty
 * mask. */
static inline void install_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}

/* The target of /proc/self/fd/FD in buf, NUL-terminated ("" when it
 * cannot be read): readlink's result. */
/* sigprocmask(how) of the one signal sig. */
static inline void mask_signal(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

static inline long fd_link(int fd, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    long n = sc(SYS_readlink, path, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* Nanoseconds in a millisecond, for the time tests' arithmetic. */
#define MS 1000000L

/* CLOCK_MONOTONIC in milliseconds. */
static inline long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / MS;
}

static inline long ns_of(const struct timespec *ts)
{
    return ts->tv_sec * 1000000000L + ts->tv_nsec;
}

/* The clock's time in nanoseconds (clock_gettime, the syscall). */
static inline long now_ns(int clock)
{
    struct timespec ts;
    sc(SYS_clock_gettime, clock, &ts);
    return ns_of(&ts);
}

/* One nanosleep of ms milliseconds: a handled signal ends it early. */
static inline void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * MS };
    sc(SYS_nanosleep, &ts, 0);
}

/* A sleep of ms milliseconds that signals do not cut short. */
static inline void ms_sleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * MS };
    while (sc(SYS_nanosleep, &ts, &ts) == -EINTR)
        ;
}

/* A child that sends sig to this process after ms milliseconds and exits
 * 0 (raw fork: it makes raw syscalls only). Returns its pid. */
static inline long fork_signal_after(int sig, long ms)
{
    long parent = sc(SYS_getpid);
    long pid = sc(SYS_fork);
    if (pid == 0) {
        msleep(ms);
        sc(SYS_kill, parent, sig);
        sc(SYS_exit_group, 0);
    }
    return pid;
}

/* Moves an absolute deadline ms later, keeping tv_nsec below a second. */
static inline void add_ms(struct timespec *t, long ms)
{
    t->tv_nsec += ms * 1000000L;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

/* Summary line and exit code: 0 only if every check passed. */
static inline int finish(void)
{
    out("# %d checks, %d failed\n", g_checks, g_failed);
    return g_failed ? 1 : 0;
}

/* Fork a child that talks to its parent over a pipe: its pid, 0 in the
 * child, which keeps only the write end p[1] (also put in *child_fd unless
 * that is NULL); the parent keeps only the read end p[0]. A pipe or fork
 * that fails ends the test (said). */
static inline pid_t fork_piped(int p[2], int *child_fd)
{
    pid_t c = pipe(p) == 0 ? fork() : -1;
    if (c < 0) {
        check(0, "pipe and fork");
        exit(finish());
    }
    close(p[c == 0 ? 0 : 1]);
    if (c == 0 && child_fd)
        *child_fd = p[1];
    return c;
}

#endif
