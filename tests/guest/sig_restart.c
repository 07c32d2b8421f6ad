/* sig_restart.c: interrupted system calls. A stop and continue (no
 * handler runs) restarts nanosleep, clock_nanosleep, poll, select, a
 * timed futex wait and a pipe read transparently, each waiting for its
 * whole time and no longer (restart_syscall with the time kept, select's
 * timeout written back); a handler without SA_RESTART makes them EINTR
 * (nanosleep with the time left), with SA_RESTART a read restarts and
 * nanosleep and poll still end in EINTR; restart_syscall called out of
 * the blue is EINTR. */
#include "proc_util.h"

#define FUTEX_WAIT_PRIVATE 128
#include <poll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

enum { NANOSLEEP, CLOCK_NANOSLEEP, POLL, SELECT, FUTEX, NCALLS };
static const char *const names[] = { "nanosleep", "clock_nanosleep", "poll", "select",
                                     "futex wait" };

/* The call under test, for 400 ms: its result. */
static long run_call(int which)
{
    struct timespec ts = { 0, 400 * 1000000 };
    switch (which) {
    case NANOSLEEP:
        return sc(SYS_nanosleep, &ts, &ts);
    case CLOCK_NANOSLEEP:
        return sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, 0);
    case POLL: {
        int p[2];
        pipe(p);
        struct pollfd pf = { p[0], POLLIN, 0 };
        long r = sc(SYS_poll, &pf, 1, 400);
        close_pipe(p);
        return r;
    }
    case SELECT: {
        struct timeval tv = { 0, 400000 };
        int p[2];
        pipe(p);
        fd_set r;
        FD_ZERO(&r);
        FD_SET(p[0], &r);
        long n = sc(SYS_select, p[0] + 1, &r, 0, 0, &tv);
        close_pipe(p);
        /* The time left was written back: zero at the end. */
        return n == 0 && (tv.tv_sec || tv.tv_usec) ? -1000 : n;
    }
    case FUTEX: {
        static int word;
        long r = sc(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts);
        return r == -ETIMEDOUT ? 0 : r;
    }
    }
    return -1;
}

/* A child that runs call which once it has started and exits 0 if the call
 * ended as wanted: with whole, 0 (its time out) after its whole 400 ms, not
 * sooner and not after 400 ms more; else EINTR. Returns 100 ms after the
 * child's start. */
static pid_t fork_call(int which, int whole)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        send_byte(p[1]);
        long t0 = now_ms();
        long r = run_call(which);
        long el = now_ms() - t0;
        if (whole)
            _exit(r != 0 ? 1 : el < 390 ? 2 : el > 3000 ? 3 : 0);
        _exit(r == -EINTR ? 0 : r == 0 ? 1 : 2);
    }
    wait_byte(p[0]);
    close_pipe(p);
    ms_sleep(100);
    return pid;
}

/* Each call in a child that its parent stops at 100 ms and continues at
 * 200 ms: it still returns 0 (nothing ready, the time out) after its
 * 400 ms, not sooner and not after 400 ms more. */
static void test_stop_restarts(void)
{
    for (int which = 0; which < NCALLS; which++) {
        pid_t pid = fork_call(which, 1);
        sc(SYS_kill, pid, SIGSTOP);
        int st;
        wait_raw(pid, &st, WUNTRACED);
        ms_sleep(100);
        sc(SYS_kill, pid, SIGCONT);
        char what[96];
        snprintf(what, sizeof what, "%s across a stop: restarted, its whole time", names[which]);
        check_wait(pid, "exited 0", what);
    }
}

static void on_usr1(int sig)
{
    (void)sig;
}

/* A handler interrupts: with SA_RESTART or without. */
static void test_handler(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, 0);
    const char *how = restart ? "SA_RESTART" : "no SA_RESTART";
    for (int which = 0; which < NCALLS; which++) {
        pid_t pid = fork_call(which, 0);
        sc(SYS_kill, pid, SIGUSR1);
        char what[96];
        snprintf(what, sizeof what, "%s, handler with %s: EINTR", names[which], how);
        check_wait(pid, "exited 0", what);
    }
    /* A pipe read: restarted with SA_RESTART, EINTR without. */
    int p[2], q[2];
    two_pipes(p, q);
    pid_t pid = fork();
    if (pid == 0) {
        send_byte(q[1]);
        char c;
        long r = sc(SYS_read, p[0], &c, 1);
        _exit(r == 1 ? 10 : r == -EINTR ? 11 : 12);
    }
    wait_byte(q[0]);
    ms_sleep(100);
    sc(SYS_kill, pid, SIGUSR1);
    ms_sleep(100);
    send_byte(p[1]);
    char what[96];
    snprintf(what, sizeof what, "pipe read, handler with %s", how);
    check_wait(pid, restart ? "exited 10" : "exited 11", what);
    close_pipe(p);
    close_pipe(q);
    signal(SIGUSR1, SIG_DFL);
}

/* nanosleep interrupted by a handler: the time left in rem. */
static void test_rem(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        send_byte(p[1]);
        struct timespec ts = { 5, 0 }, rem = { 0, 0 };
        long r = sc(SYS_nanosleep, &ts, &rem);
        _exit(r == -EINTR && rem.tv_sec >= 2 && rem.tv_sec < 5 ? 0 : 1);
    }
    wait_byte(p[0]);
    ms_sleep(200);
    sc(SYS_kill, pid, SIGUSR1);
    check_wait(pid, "exited 0", "nanosleep of 5 s interrupted: EINTR, 2 to 5 s left");
    close_pipe(p);
    signal(SIGUSR1, SIG_DFL);
}

/* A write past RLIMIT_FSIZE: SIGXFSZ, whose default kills with a core
 * status; handled, the write is EFBIG. */
static volatile int g_xfsz;
static void on_xfsz(int sig)
{
    (void)sig;
    g_xfsz++;
}

static void test_xfsz(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/sig_restart.%d", getpid());
    for (int handled = 0; handled < 2; handled++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (handled)
                signal(SIGXFSZ, on_xfsz);
            struct rlimit rl = { 4, RLIM_INFINITY };
            setrlimit(RLIMIT_FSIZE, &rl);
            int fd = (int)sc(SYS_open, path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
            long a = sc(SYS_write, fd, "abcdef", 6); /* cut to 4: no signal */
            long b = sc(SYS_write, fd, "gh", 2);     /* at the limit: SIGXFSZ */
            _exit(a == 4 && b == -EFBIG && g_xfsz == 1 ? 0 : 1);
        }
        check_wait(pid, handled ? "exited 0" : "killed by SIGXFSZ",
                   handled ? "past RLIMIT_FSIZE, handled: EFBIG once the limit is reached"
                           : "past RLIMIT_FSIZE: SIGXFSZ kills");
    }
    unlink(path);
}

int main(void)
{
    no_core();
    test_stop_restarts();
    test_handler(0);
    test_handler(1);
    test_rem();
    test_xfsz();
    check_err(sc(SYS_restart_syscall), EINTR, "restart_syscall out of the blue");
    return finish();
}
