/* time_posix_timer.c: timer_create, timer_settime, timer_gettime,
 * timer_getoverrun and timer_delete (raw syscalls: libc's SIGEV_THREAD is
 * its own). The checks and their order (EFAULT, EINVAL, EOPNOTSUPP, and
 * ids taken by a creation that fails late), ids numbered from 0 per
 * process, each notification (SIGEV_NONE, SIGEV_SIGNAL, a NULL sigevent,
 * SIGEV_THREAD_ID to another thread), the SI_TIMER siginfo, relative and
 * absolute times, old values, the overrun of a periodic timer whose
 * signal waited while blocked, the CPU-time clocks (the process's, the
 * thread's, and those clock_getcpuclockid and pthread_getcpuclockid make)
 * with clock_gettime and clock_getres, RLIMIT_SIGPENDING, and the timers'
 * life: not inherited by fork, deleted by execve. Signals are waited for
 * in sigsuspend; CPU time is burnt computing, with a getppid now and then.
 * Times are checked within generous bounds only. */
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIGEV_THREAD_ID_ 4
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)((~(unsigned)(pid) << 3) | (unsigned)(clock)))
#define MAKE_THREAD_CPUCLOCK(tid, clock) (MAKE_PROCESS_CPUCLOCK(tid, clock) | 4)
#define CPUCLOCK_SCHED 2

/* struct sigevent as the kernel has it. */
struct ksigevent {
    uint64_t value;
    int signo, notify;
    int tid;
    int pad[11];
};

/* struct itimerspec as the kernel has it. */
struct its {
    struct timespec interval, value;
};

static volatile int got[65];
static volatile int last_code, last_timerid, last_overrun, last_tid;
static volatile uint64_t last_value;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got[sig]++;
    last_code = si->si_code;
    last_timerid = si->si_timerid;
    last_overrun = si->si_overrun;
    last_value = (uint64_t)si->si_value.sival_ptr;
    last_tid = (int)sc(SYS_gettid);
}

static long tcreate(int clock, int notify, int signo, uint64_t value, int tid, int *id)
{
    struct ksigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.value = value;
    ev.signo = signo;
    ev.notify = notify;
    ev.tid = tid;
    return sc(SYS_timer_create, clock, &ev, id);
}

static long tset(int id, int flags, long value_ns, long interval_ns, struct its *old)
{
    struct its n = { { interval_ns / 1000000000L, interval_ns % 1000000000L },
                     { value_ns / 1000000000L, value_ns % 1000000000L } };
    return sc(SYS_timer_settime, id, flags, &n, old);
}

/* Wait in sigsuspend until sig was caught n times. */
static void wait_for(int sig, int n)
{
    sigset_t none;
    sigemptyset(&none);
    while (got[sig] < n)
        sigsuspend(&none);
}

/* Burn CPU time until sig was caught n times or 10 s passed. */
static int spin_for(int sig, int n)
{
    long start = now_ns(CLOCK_MONOTONIC);
    volatile unsigned long x = 1;
    while (got[sig] < n && now_ns(CLOCK_MONOTONIC) - start < 10000 * MS) {
        for (int i = 0; i < 200000; i++)
            x = x * 6364136223846793005UL + 1;
        sc(SYS_getppid);
    }
    return got[sig] >= n;
}

static void test_errors(void)
{
    int id = -1;
    struct ksigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.notify = SIGEV_SIGNAL;
    ev.signo = SIGUSR1;
    check_err(sc(SYS_timer_create, CLOCK_MONOTONIC, BADPTR, &id), EFAULT, "create: bad sigevent");
    check_err(sc(SYS_timer_create, 100, &ev, &id), EINVAL, "create: clock 100");
    check_err(sc(SYS_timer_create, 10, &ev, &id), EINVAL, "create: clock 10 (SGI_CYCLE)");
    check_err(sc(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &id), ENOTSUP,
              "create: CLOCK_MONOTONIC_RAW");
    check_err(sc(SYS_timer_create, CLOCK_REALTIME_COARSE, &ev, &id), ENOTSUP,
              "create: CLOCK_REALTIME_COARSE");
    check_err(sc(SYS_timer_create, -5, &ev, &id), ENOTSUP, "create: a posix clock by fd");
    /* These take an id before they fail (do_timer_create's order). */
    check_err(tcreate(CLOCK_MONOTONIC, 99, SIGUSR1, 0, 0, &id), EINVAL, "create: notify 99");
    check_err(tcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, 0, 0, 0, &id), EINVAL, "create: signal 0");
    check_err(tcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, 65, 0, 0, &id), EINVAL, "create: signal 65");
    /* Another process: a child that waits to be killed. */
    pid_t other = fork();
    if (other == 0) {
        for (;;)
            pause();
    }
    check_err(tcreate(CLOCK_MONOTONIC, SIGEV_THREAD_ID_, SIGUSR1, 0, other, &id), EINVAL,
              "create: SIGEV_THREAD_ID of another process");
    check_err(tcreate(CLOCK_MONOTONIC, SIGEV_THREAD_ID_, SIGUSR1, 0, 0, &id), EINVAL,
              "create: SIGEV_THREAD_ID of tid 0");
    check_err(tcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, 0, BADPTR), EFAULT,
              "create: bad id pointer");
    check_err(tcreate(MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED), SIGEV_SIGNAL, SIGUSR1, 0,
                      0, &id),
              EINVAL, "create: CPU clock of a process nobody has");
    check_err(
        tcreate(MAKE_THREAD_CPUCLOCK(other, CPUCLOCK_SCHED), SIGEV_SIGNAL, SIGUSR1, 0, 0, &id),
        EINVAL, "create: thread clock of another process");
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
    id = -1;
    check_ret(tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id), 0, "create: SIGEV_NONE");
    check(id == 7, "its id is 7: the seven late failures took 0..6 (id %d)", id);

    struct its one = { { 0, 0 }, { 1, 0 } }, badns = { { 0, 0 }, { 1, 1000000000 } },
               negiv = { { -1, 0 }, { 1, 0 } };
    check_err(sc(SYS_timer_settime, 12345, 0, &one, 0), EINVAL, "settime: no such timer");
    check_err(sc(SYS_timer_settime, -1, 0, &one, 0), EINVAL, "settime: timer -1");
    check_err(sc(SYS_timer_settime, id, 0, 0, 0), EINVAL, "settime: NULL value");
    check_err(sc(SYS_timer_settime, id, 0, BADPTR, 0), EFAULT, "settime: bad value");
    check_err(sc(SYS_timer_settime, id, 0, &badns, 0), EINVAL, "settime: tv_nsec 1e9");
    check_err(sc(SYS_timer_settime, id, 0, &negiv, 0), EINVAL, "settime: negative interval");
    check_err(sc(SYS_timer_settime, 12345, 0, &badns, 0), EINVAL,
              "settime: bad time before no such timer");
    check_err(tset(id, 0, 5000 * MS, 0, BADPTR), EFAULT, "settime: bad old value pointer");
    struct its cur;
    check_ret(sc(SYS_timer_gettime, id, &cur), 0, "gettime");
    check(ns_of(&cur.value) > 4000 * MS && ns_of(&cur.value) <= 5000 * MS,
          "the timer was set anyway");
    check_err(sc(SYS_timer_gettime, 12345, &cur), EINVAL, "gettime: no such timer");
    check_err(sc(SYS_timer_gettime, id, BADPTR), EFAULT, "gettime: bad pointer");
    check_err(sc(SYS_timer_getoverrun, 12345), EINVAL, "getoverrun: no such timer");
    check_ret(sc(SYS_timer_getoverrun, id), 0, "getoverrun of a new timer");
    check_ret(sc(SYS_timer_delete, id), 0, "delete");
    check_err(sc(SYS_timer_delete, id), EINVAL, "delete again");
    check_err(sc(SYS_timer_gettime, id, &cur), EINVAL, "gettime of a deleted timer");
    int id2 = -1;
    tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id2);
    check(id2 == id + 1, "ids are not reused at once (%d after %d)", id2, id);
    sc(SYS_timer_delete, id2);
}

static void test_none(void)
{
    int id = -1;
    struct its cur, old;
    check_ret(tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id), 0, "SIGEV_NONE timer");
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 0, "a new timer is disarmed");
    check_ret(tset(id, 0, 10000 * MS, 0, &old), 0, "set 10 s");
    check(ns_of(&old.value) == 0 && ns_of(&old.interval) == 0, "old value: disarmed");
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) > 9000 * MS && ns_of(&cur.value) <= 10000 * MS, "gettime: about 10 s");
    check_ret(tset(id, 0, 10 * MS, 10 * MS, &old), 0, "set 10 ms, every 10 ms");
    check(ns_of(&old.value) > 9000 * MS && ns_of(&old.value) <= 10000 * MS &&
              ns_of(&old.interval) == 0,
          "old value: the 10 s one-shot");
    msleep(50);
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 10 * MS && ns_of(&cur.interval) == 10 * MS,
          "a periodic SIGEV_NONE timer moves on by its interval");
    check_ret(tset(id, 0, 10 * MS, 0, NULL), 0, "set 10 ms, one-shot");
    msleep(40);
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 0,
          "an expired one-shot SIGEV_NONE timer reads 0");
    check_ret(sc(SYS_timer_getoverrun, id), 0, "no overrun");
    sc(SYS_timer_delete, id);
}

static void test_signal(void)
{
    /* A NULL sigevent: SIGALRM with the id as its value. */
    install_handler(SIGALRM, on_sig, SA_RESTART);
    int id = -1;
    check_ret(sc(SYS_timer_create, CLOCK_MONOTONIC, 0, &id), 0, "create with a NULL sigevent");
    long t0 = now_ns(CLOCK_MONOTONIC);
    check_ret(tset(id, 0, 20 * MS, 0, NULL), 0, "set 20 ms");
    wait_for(SIGALRM, 1);
    long dt = now_ns(CLOCK_MONOTONIC) - t0;
    check(dt >= 19 * MS && dt < 5000 * MS, "SIGALRM after 20 ms, within 5 s");
    check(last_code == SI_TIMER && last_timerid == id && last_value == (uint64_t)id &&
              last_overrun == 0,
          "SI_TIMER, si_timerid and si_value the id, no overrun");
    struct its cur;
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) == 0, "a fired one-shot timer is disarmed");
    sc(SYS_timer_delete, id);

    /* A real-time signal with a value, on CLOCK_REALTIME, absolute. */
    int rt = SIGRTMIN + 1;
    install_handler(rt, on_sig, SA_RESTART);
    check_ret(tcreate(CLOCK_REALTIME, SIGEV_SIGNAL, rt, 0x1234, 0, &id), 0,
              "create on CLOCK_REALTIME, SIGRTMIN+1");
    long abs = now_ns(CLOCK_REALTIME) + 30 * MS;
    t0 = now_ns(CLOCK_MONOTONIC);
    check_ret(tset(id, TIMER_ABSTIME, abs, 0, NULL), 0, "set TIMER_ABSTIME now + 30 ms");
    wait_for(rt, 1);
    check(now_ns(CLOCK_REALTIME) >= abs - MS, "not before the absolute time");
    check(now_ns(CLOCK_MONOTONIC) - t0 < 5000 * MS, "within 5 s");
    check(last_code == SI_TIMER && last_timerid == id && last_value == 0x1234,
          "si_value is sigev_value");
    /* An absolute time in the past fires at once. */
    check_ret(tset(id, TIMER_ABSTIME, 1000000000L, 0, NULL), 0, "set TIMER_ABSTIME in the past");
    wait_for(rt, 2);
    check(got[rt] == 2, "it fired at once");
    /* The old value of a running timer. */
    struct its old;
    tset(id, 0, 5000 * MS, 1000 * MS, NULL);
    check_ret(tset(id, 0, 0, 0, &old), 0, "disarm");
    check(ns_of(&old.value) > 4000 * MS && ns_of(&old.value) <= 5000 * MS &&
              ns_of(&old.interval) == 1000 * MS,
          "the old value and interval");
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) == 0 && ns_of(&cur.interval) == 0, "disarmed");
    sc(SYS_timer_delete, id);
}

/* A periodic timer whose signal is blocked: one signal waits, and the
 * expirations meanwhile become its overrun. */
static void test_overrun(void)
{
    int sig = SIGRTMIN + 2, id = -1;
    install_handler(sig, on_sig, SA_RESTART);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, sig);
    sigprocmask(SIG_BLOCK, &block, &old);
    check_ret(tcreate(CLOCK_MONOTONIC, SIGEV_SIGNAL, sig, 7, 0, &id), 0, "create (SIGRTMIN+2)");
    check_ret(tset(id, 0, 10 * MS, 10 * MS, NULL), 0, "set every 10 ms");
    msleep(200);
    uint64_t pend = 0;
    sc(SYS_rt_sigpending, &pend, 8);
    check((pend & (1ULL << (sig - 1))) != 0, "its signal is pending");
    struct its cur;
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 10 * MS && ns_of(&cur.interval) == 10 * MS,
          "gettime while it is pending: the next period");
    got[sig] = 0;
    sigset_t none;
    sigemptyset(&none);
    sigsuspend(&none);
    check(got[sig] == 1, "the signal came");
    int orun = last_overrun;
    check(orun >= 5, "si_overrun counts the periods missed (at least 5)");
    check(sc(SYS_timer_getoverrun, id) == orun, "timer_getoverrun is the delivered overrun");
    /* It is rearmed: another signal comes. */
    wait_for(sig, 2);
    check(got[sig] >= 2, "the timer fires again after the delivery");
    sc(SYS_timer_delete, id);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int thread_tid, thread_go;

static void *thread_main(void *arg)
{
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    thread_tid = (int)sc(SYS_gettid);
    while (!got[SIGUSR2])
        sigsuspend(&none);
    return NULL;
}

static void test_thread_id(void)
{
    install_handler(SIGUSR2, on_sig, SA_RESTART);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    /* The thread starts with SIGUSR2 blocked too and waits with it open. */
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    while (!thread_tid)
        msleep(1);
    int id = -1;
    check_ret(tcreate(CLOCK_MONOTONIC, SIGEV_THREAD_ID_, SIGUSR2, 0, thread_tid, &id), 0,
              "create SIGEV_THREAD_ID for another thread");
    check_ret(tset(id, 0, 20 * MS, 0, NULL), 0, "set 20 ms");
    pthread_join(th, NULL);
    check(got[SIGUSR2] == 1 && last_tid == thread_tid, "that thread took the signal");
    check(last_code == SI_TIMER && last_timerid == id, "SI_TIMER");
    sc(SYS_timer_delete, id);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static volatile int spin_stop;
static void *spinner(void *arg)
{
    (void)arg;
    thread_tid = (int)sc(SYS_gettid);
    volatile unsigned long x = 1;
    while (now_ns(CLOCK_THREAD_CPUTIME_ID) < 60 * MS) {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005UL + 1;
        sc(SYS_getppid);
    }
    while (!spin_stop)
        msleep(1);
    return NULL;
}

static void test_cpu_clocks(void)
{
    struct timespec ts;
    check_ret(sc(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &ts), 0, "getres(PROCESS_CPUTIME)");
    check(ts.tv_sec == 0 && ts.tv_nsec == 1, "1 ns");
    check_ret(sc(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, &ts), 0, "getres(THREAD_CPUTIME)");
    check(ts.tv_sec == 0 && ts.tv_nsec == 1, "1 ns");
    /* Another thread's clock, by pthread_getcpuclockid's id. */
    thread_tid = 0;
    spin_stop = 0;
    pthread_t th;
    pthread_create(&th, NULL, spinner, NULL);
    while (!thread_tid)
        msleep(1);
    int tclock = MAKE_THREAD_CPUCLOCK(thread_tid, CPUCLOCK_SCHED);
    long start = now_ns(CLOCK_MONOTONIC), v = 0;
    while (now_ns(CLOCK_MONOTONIC) - start < 10000 * MS) {
        if (sc(SYS_clock_gettime, tclock, &ts) != 0)
            break;
        v = ns_of(&ts);
        if (v >= 50 * MS)
            break;
        msleep(5);
    }
    check(v >= 50 * MS, "another thread's CPU clock runs with its work");
    check_ret(sc(SYS_clock_getres, tclock, &ts), 0, "getres of that clock");
    long mine = now_ns(MAKE_THREAD_CPUCLOCK(sc(SYS_gettid), CPUCLOCK_SCHED));
    check(now_ns(CLOCK_THREAD_CPUTIME_ID) >= mine, "this thread's clock by its id and by name");
    check(now_ns(CLOCK_PROCESS_CPUTIME_ID) >= v, "the process clock counts every thread");
    spin_stop = 1;
    pthread_join(th, NULL);
    /* The thread is gone, and so is its clock (the kernel clears the tid
     * that pthread_join waits for a little before the thread is gone). */
    long r = 0;
    for (int i = 0; i < 2000 && (r = sc(SYS_clock_gettime, tclock, &ts)) == 0; i++)
        msleep(1);
    check_err(r, EINVAL, "the clock of an ended thread");
    /* A child's process clock, by clock_getcpuclockid's id. */
    pid_t pid = fork();
    if (pid == 0) {
        msleep(300);
        _exit(0);
    }
    check_ret(sc(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), &ts), 0,
              "gettime of a child's process clock");
    waitpid(pid, NULL, 0);
    check_err(sc(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), &ts), EINVAL,
              "a reaped child's clock");
}

static void test_cpu_timer(int clock, const char *name)
{
    install_handler(SIGUSR1, on_sig, SA_RESTART);
    got[SIGUSR1] = 0;
    int id = -1;
    check_ret(tcreate(clock, SIGEV_SIGNAL, SIGUSR1, 5, 0, &id), 0, name);
    long c0 = now_ns(clock);
    check_ret(tset(id, 0, 50 * MS, 0, NULL), 0, "set 50 ms of CPU time");
    struct its cur;
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) > 0 && ns_of(&cur.value) <= 50 * MS, "%s: gettime at most 50 ms", name);
    msleep(100);
    sc(SYS_timer_gettime, id, &cur);
    check(ns_of(&cur.value) > 30 * MS, "%s: sleeping takes no CPU time", name);
    check(spin_for(SIGUSR1, 1), "%s: it fired while the process computed", name);
    check(now_ns(clock) - c0 >= 50 * MS, "%s: not before 50 ms of it", name);
    check(last_code == SI_TIMER && last_timerid == id && last_value == 5, "%s: SI_TIMER", name);
    /* Periodic. */
    got[SIGUSR1] = 0;
    tset(id, 0, 20 * MS, 20 * MS, NULL);
    check(spin_for(SIGUSR1, 3), "%s: periodic, it fires again", name);
    sc(SYS_timer_delete, id);
}

static void test_rlimit(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { 0, 0 };
        setrlimit(RLIMIT_SIGPENDING, &rl);
        int id;
        long r = tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
        _exit(r == -EAGAIN ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "RLIMIT_SIGPENDING 0: timer_create fails, EAGAIN");
}

static void test_fork(void)
{
    int id = -1;
    tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
    tset(id, 0, 30000 * MS, 0, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct its cur;
        int cid = -1;
        long r = sc(SYS_timer_gettime, id, &cur);
        long c = tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &cid);
        _exit(r == -EINVAL && c == 0 && cid == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fork: the child has no timers, and its ids start at 0");
    struct its cur;
    check_ret(sc(SYS_timer_gettime, id, &cur), 0, "the parent's timer is still there");
    sc(SYS_timer_delete, id);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "exec") == 0) {
        int id = atoi(argv[2]), nid = -1;
        struct its cur;
        check_err(sc(SYS_timer_gettime, id, &cur), EINVAL, "exec: the timer is gone");
        check_ret(tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &nid), 0, "exec: timer_create");
        out("exec: new id %d after %d\n", nid, id);
        return finish();
    }
    test_errors();
    test_none();
    test_signal();
    test_overrun();
    test_thread_id();
    test_cpu_clocks();
    test_cpu_timer(CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID");
    test_cpu_timer(CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID");
    test_cpu_timer(MAKE_PROCESS_CPUCLOCK(getpid(), CPUCLOCK_SCHED), "clock_getcpuclockid's");
    test_cpu_timer(MAKE_THREAD_CPUCLOCK(sc(SYS_gettid), CPUCLOCK_SCHED), "pthread_getcpuclockid's");
    test_rlimit();
    test_fork();
    /* execve deletes the timers (a SIGALRM-less SIGEV_NONE one is safe). */
    pid_t pid = fork();
    if (pid == 0) {
        int id = -1;
        tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
        tcreate(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0, &id);
        tset(id, 0, 30000 * MS, 0, NULL);
        char num[16];
        snprintf(num, sizeof num, "%d", id);
        char *args[] = { argv[0], "exec", num, NULL };
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd image ran");
    return finish();
}
