/* time_itimer.c: alarm, setitimer and getitimer. The checks of which and
 * of the times (EINVAL, EFAULT), the old values, Linux's rounding (alarm's
 * seconds left, microseconds truncated, a tick more for the CPU timers,
 * the interval a CPU timer keeps without a value), ITIMER_REAL one-shot
 * and periodic (SIGALRM as the kernel sends it: SI_KERNEL), ITIMER_VIRTUAL
 * and ITIMER_PROF on the process's CPU time (SIGVTALRM, SIGPROF), and the
 * life rules: not inherited by fork, kept across execve. Signals are
 * waited for in a syscall (sigsuspend), the CPU timers in a loop that
 * computes and calls getppid. Times are checked within generous bounds
 * only. */
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* struct itimerval as the kernel has it. */
struct itv {
    struct timeval interval, value;
};

static volatile int got[65];
static volatile int last_code;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got[sig]++;
    last_code = si->si_code;
}

static long usec_of(const struct timeval *tv)
{
    return tv->tv_sec * 1000000L + tv->tv_usec;
}

static long seti(int which, long value_us, long interval_us, struct itv *old)
{
    struct itv n = { { interval_us / 1000000, interval_us % 1000000 },
                     { value_us / 1000000, value_us % 1000000 } };
    return sc(SYS_setitimer, which, &n, old);
}

static long geti(int which, struct itv *cur)
{
    return sc(SYS_getitimer, which, cur);
}

static long cpu_ms(void)
{
    struct timespec ts;
    sc(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / MS;
}

/* Wait in sigsuspend until sig was caught n times (a timer that never
 * fires hangs the test: its time limit reports it). */
static int wait_for(int sig, int n)
{
    sigset_t none;
    sigemptyset(&none);
    while (got[sig] < n) {
        sigsuspend(&none);
    }
    return got[sig] >= n;
}

/* Burn CPU time (computing, with a cheap syscall now and then) until sig
 * was caught n times or 10 s passed. */
static int spin_for(int sig, int n)
{
    long start = now_ms();
    volatile unsigned long x = 1;
    while (got[sig] < n && now_ms() - start < 10000) {
        for (int i = 0; i < 200000; i++)
            x = x * 6364136223846793005UL + 1;
        sc(SYS_getppid);
    }
    return got[sig] >= n;
}

static void test_errors(void)
{
    struct itv v;
    check_err(sc(SYS_getitimer, 3, &v), EINVAL, "getitimer(3)");
    check_err(sc(SYS_getitimer, -1, &v), EINVAL, "getitimer(-1)");
    check_err(sc(SYS_getitimer, ITIMER_REAL, BADPTR), EFAULT, "getitimer(bad pointer)");
    check_err(seti(3, 1000000, 0, NULL), EINVAL, "setitimer(3)");
    struct itv bad = { { 0, 0 }, { 1, 1000000 } };
    check_err(sc(SYS_setitimer, ITIMER_REAL, &bad, 0), EINVAL, "setitimer(tv_usec 1000000)");
    bad.value.tv_usec = -1;
    check_err(sc(SYS_setitimer, ITIMER_REAL, &bad, 0), EINVAL, "setitimer(tv_usec -1)");
    struct itv bad2 = { { 0, 0 }, { -1, 0 } };
    check_err(sc(SYS_setitimer, ITIMER_REAL, &bad2, 0), EINVAL, "setitimer(tv_sec -1)");
    struct itv bad3 = { { 0, 1000000 }, { 1, 0 } };
    check_err(sc(SYS_setitimer, ITIMER_VIRTUAL, &bad3, 0), EINVAL,
              "setitimer(interval tv_usec 1000000)");
    check_err(sc(SYS_setitimer, ITIMER_REAL, BADPTR, 0), EFAULT, "setitimer(bad value)");
    /* The old value's copy fails after the timer is set. */
    check_err(seti(ITIMER_REAL, 7000000, 0, BADPTR), EFAULT, "setitimer(bad old)");
    geti(ITIMER_REAL, &v);
    check(v.value.tv_sec >= 5 && v.value.tv_sec <= 7, "the timer was set anyway (%ld s)",
          (long)v.value.tv_sec);
    /* A NULL value disarms. */
    check_ret(sc(SYS_setitimer, ITIMER_REAL, 0, &v), 0, "setitimer(NULL value)");
    check(v.value.tv_sec >= 5, "it returned the old value");
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 0, "and disarmed the timer");
}

static void test_values(void)
{
    struct itv v, old;
    for (int w = 0; w < 3; w++) {
        geti(w, &v);
        check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 0, "timer %d starts disarmed", w);
    }
    check_ret(seti(ITIMER_REAL, 5000000, 2500000, &old), 0, "setitimer(REAL, 5 s, 2.5 s)");
    check(usec_of(&old.value) == 0 && usec_of(&old.interval) == 0, "old value: disarmed");
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) > 4000000 && usec_of(&v.value) <= 5000000,
          "getitimer: the value runs down from 5 s");
    check(v.interval.tv_sec == 2 && v.interval.tv_usec == 500000, "getitimer: interval 2.5 s");
    check_ret(seti(ITIMER_REAL, 0, 1000000, &old), 0, "setitimer(REAL, 0, 1 s)");
    check(usec_of(&old.value) > 3000000 && usec_of(&old.value) <= 5000000 &&
              usec_of(&old.interval) == 2500000,
          "the old value and interval");
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 0,
          "ITIMER_REAL without a value has no interval either");
    /* The CPU timers keep an interval without a value (set_cpu_itimer). */
    check_ret(seti(ITIMER_VIRTUAL, 0, 1000000, NULL), 0, "setitimer(VIRTUAL, 0, 1 s)");
    geti(ITIMER_VIRTUAL, &v);
    check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 1000000,
          "ITIMER_VIRTUAL keeps its interval without a value");
    seti(ITIMER_VIRTUAL, 0, 0, NULL);
    /* A CPU timer is a tick later than asked; it runs down with CPU time only. */
    check_ret(seti(ITIMER_PROF, 2000000, 0, NULL), 0, "setitimer(PROF, 2 s)");
    geti(ITIMER_PROF, &v);
    check(usec_of(&v.value) > 1500000 && usec_of(&v.value) <= 2100000, "getitimer(PROF) about 2 s");
    check_ret(seti(ITIMER_PROF, 0, 0, &old), 0, "setitimer(PROF, 0)");
    check(usec_of(&old.value) > 1500000 && usec_of(&old.value) <= 2100000,
          "old value of ITIMER_PROF");
}

static void test_alarm(void)
{
    check_ret(sc(SYS_alarm, 0), 0, "alarm(0) with none set");
    check_ret(sc(SYS_alarm, 10), 0, "alarm(10)");
    check_ret(sc(SYS_alarm, 3), 10, "alarm(3) returns the 10 s left, rounded");
    struct itv v;
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) > 2000000 && usec_of(&v.value) <= 3000000 && usec_of(&v.interval) == 0,
          "alarm is ITIMER_REAL");
    check_ret(sc(SYS_alarm, 0), 3, "alarm(0) returns 3 and cancels");
    seti(ITIMER_REAL, 1200000, 0, NULL);
    check_ret(sc(SYS_alarm, 0), 1, "1.2 s left: alarm returns 1");
    seti(ITIMER_REAL, 2900000, 0, NULL);
    check_ret(sc(SYS_alarm, 0), 3, "2.9 s left: alarm returns 3");
    seti(ITIMER_REAL, 300000, 0, NULL);
    check_ret(sc(SYS_alarm, 0), 1, "0.3 s left: alarm returns 1, never 0");
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0, "no alarm left");
}

static void test_real(void)
{
    install_handler(SIGALRM, on_sig, SA_RESTART);
    long t0 = now_ms();
    check_ret(seti(ITIMER_REAL, 50000, 0, NULL), 0, "setitimer(REAL, 50 ms)");
    check(wait_for(SIGALRM, 1), "SIGALRM came");
    long dt = now_ms() - t0;
    check(dt >= 45 && dt < 5000, "after 50 ms, within 5 s");
    check(last_code == SI_KERNEL, "si_code SI_KERNEL");
    struct itv v;
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0, "a one-shot timer is disarmed once fired");

    got[SIGALRM] = 0;
    t0 = now_ms();
    check_ret(seti(ITIMER_REAL, 20000, 20000, NULL), 0, "setitimer(REAL, 20 ms, every 20 ms)");
    check(wait_for(SIGALRM, 3), "three SIGALRMs came");
    dt = now_ms() - t0;
    check(dt >= 55, "not before 60 ms");
    geti(ITIMER_REAL, &v);
    /* Unless the process lost the CPU for a period after the third: then
     * the fourth signal was pending at the read, which found the timer
     * waiting for it (value 0, as below), and came on the way out. */
    long value = usec_of(&v.value);
    int fourth = got[SIGALRM] > 3;
    check(usec_of(&v.interval) == 20000 &&
              ((value > 0 && value <= 20000) || (fourth && value == 0)),
          "a periodic timer is armed for the next period");
    seti(ITIMER_REAL, 0, 0, NULL);

    /* alarm fires too. */
    got[SIGALRM] = 0;
    t0 = now_ms();
    sc(SYS_alarm, 1);
    check(wait_for(SIGALRM, 1), "alarm(1) sent SIGALRM");
    dt = now_ms() - t0;
    check(dt >= 950 && dt < 6000, "after a second");
}

/* A periodic ITIMER_REAL goes on when its SIGALRM is taken: while the
 * signal waits (blocked) it reads 0, and an ignored SIGALRM stops it. */
static void test_real_rearm(void)
{
    install_handler(SIGALRM, on_sig, SA_RESTART);
    sigset_t block, old, none;
    sigemptyset(&block);
    sigemptyset(&none);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    got[SIGALRM] = 0;
    /* First in 10 ms, then every 500 ms: long enough that a slow
     * (sanitized) run still reads the rearmed timer before it fires. */
    seti(ITIMER_REAL, 10000, 500000, NULL);
    msleep(100);
    struct itv v;
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 500000,
          "blocked SIGALRM pending: the periodic timer waits (value 0)");
    sigsuspend(&none);
    check(got[SIGALRM] == 1, "SIGALRM taken");
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) > 0 && usec_of(&v.value) <= 500000, "taking it rearmed the timer");
    seti(ITIMER_REAL, 0, 0, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);

    signal(SIGALRM, SIG_IGN);
    seti(ITIMER_REAL, 10000, 10000, NULL);
    msleep(100);
    geti(ITIMER_REAL, &v);
    check(usec_of(&v.value) == 0 && usec_of(&v.interval) == 10000,
          "ignored SIGALRM: the periodic timer stopped after one expiry");
    seti(ITIMER_REAL, 0, 0, NULL);
    install_handler(SIGALRM, on_sig, SA_RESTART);
}

static void test_cpu(int which, int sig, const char *name)
{
    install_handler(sig, on_sig, SA_RESTART);
    got[sig] = 0;
    long c0 = cpu_ms();
    check_ret(seti(which, 50000, 0, NULL), 0, name);
    struct itv v;
    geti(which, &v);
    check(usec_of(&v.value) > 0 && usec_of(&v.value) <= 100000, "%s: getitimer about 50 ms", name);
    check(spin_for(sig, 1), "%s: its signal came while the process computed", name);
    long used = cpu_ms() - c0;
    check(used >= 25, "%s: not long before 50 ms of CPU time", name);
    check(last_code == SI_KERNEL, "%s: si_code SI_KERNEL", name);
    geti(which, &v);
    check(usec_of(&v.value) == 0, "%s: disarmed once fired", name);

    got[sig] = 0;
    check_ret(seti(which, 20000, 20000, NULL), 0, "periodic");
    check(spin_for(sig, 3), "%s: a periodic timer fires again", name);
    seti(which, 0, 0, NULL);
}

static void test_fork(void)
{
    seti(ITIMER_REAL, 30000000, 0, NULL);
    seti(ITIMER_VIRTUAL, 30000000, 0, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct itv r, vt;
        geti(ITIMER_REAL, &r);
        geti(ITIMER_VIRTUAL, &vt);
        _exit(usec_of(&r.value) == 0 && usec_of(&vt.value) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork: the child has no timers");
    struct itv v;
    geti(ITIMER_REAL, &v);
    check(v.value.tv_sec >= 25, "fork: the parent's timer is still armed");
    seti(ITIMER_VIRTUAL, 0, 0, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        struct itv v;
        geti(ITIMER_REAL, &v);
        check(v.value.tv_sec >= 20 && v.value.tv_sec <= 30, "exec: ITIMER_REAL is kept");
        seti(ITIMER_REAL, 0, 0, NULL);
        return finish();
    }
    test_errors();
    test_values();
    test_alarm();
    test_real();
    test_real_rearm();
    test_cpu(ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL");
    test_cpu(ITIMER_PROF, SIGPROF, "ITIMER_PROF");
    test_fork();
    /* The timer survives execve (SIGALRM's handler does not: 30 s is far). */
    pid_t pid = fork();
    if (pid == 0) {
        seti(ITIMER_REAL, 30000000, 0, NULL);
        char *args[] = { argv[0], "exec", NULL };
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd image ran");
    seti(ITIMER_REAL, 0, 0, NULL);
    return finish();
}
