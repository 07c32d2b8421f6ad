/* sig_queue.c: queued signals and the calls that take them.
 * rt_sigqueueinfo and rt_tgsigqueueinfo (si_value, si_code, the EPERM rule
 * for a forged si_code toward another process), real-time signals queued
 * in order with their siginfo, RLIMIT_SIGPENDING (EAGAIN), rt_sigtimedwait
 * (EAGAIN at the time out, EINTR by a handler, woken by another thread or
 * process, the errors), and delivery order to handlers: standard signals
 * before real-time ones, real-time ones lowest first. */
#include "proc_util.h"

#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#define SI_QUEUE_ (-1)
#define SI_TKILL_ (-6)
#define SI_USER_ 0
#define RT(n) (SIGRTMIN + (n))

static long qinfo(long pid, int sig, int code, long value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = code;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_ptr = (void *)value;
    return sc(SYS_rt_sigqueueinfo, pid, sig, &si);
}

static long timedwait(const sigset_t *set, siginfo_t *si, long sec, long nsec)
{
    struct timespec ts = { sec, nsec };
    return sc(SYS_rt_sigtimedwait, set, si, &ts, 8);
}

static void test_sigqueue(void)
{
    sigset_t s = sigset_of(RT(3), SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, 0);
    long me = getpid();
    siginfo_t si;
    check_ret(qinfo(me, RT(3), SI_QUEUE_, 11), 0, "sigqueueinfo to self");
    check_ret(qinfo(me, RT(3), SI_QUEUE_, 22), 0, "a second one");
    check_ret(qinfo(me, RT(3), SI_QUEUE_, 33), 0, "a third one");
    int order_ok = 1;
    for (long v = 11; v <= 33; v += 11) {
        memset(&si, 0, sizeof si);
        long r = timedwait(&s, &si, 0, 0);
        order_ok &= r == RT(3) && si.si_signo == RT(3) && si.si_code == SI_QUEUE_ &&
                    si.si_value.sival_ptr == (void *)v && si.si_pid == me;
    }
    check(order_ok, "each taken once, in order, with its si_value and si_code SI_QUEUE");
    check_err(timedwait(&s, &si, 0, 0), EAGAIN, "then none");
    /* A standard signal queued twice pends once, with the first siginfo. */
    qinfo(me, SIGUSR1, SI_QUEUE_, 1);
    qinfo(me, SIGUSR1, SI_QUEUE_, 2);
    memset(&si, 0, sizeof si);
    check_ret(timedwait(&s, &si, 0, 0), SIGUSR1, "SIGUSR1 queued twice");
    check(si.si_value.sival_int == 1, "... the first one's value (%d)", si.si_value.sival_int);
    check_err(timedwait(&s, &si, 0, 0), EAGAIN, "... pends once");
    /* To oneself any si_code goes, even the kernel's (SI_KERNEL) or kill's. */
    check_ret(qinfo(me, RT(3), 0x80, 5), 0, "si_code SI_KERNEL to self");
    memset(&si, 0, sizeof si);
    timedwait(&s, &si, 0, 0);
    check(si.si_code == 0x80 && si.si_value.sival_int == 5, "... received as sent");
    check_ret(qinfo(me, RT(3), SI_TKILL_, 5), 0, "SI_TKILL to self");
    timedwait(&s, &si, 0, 0);
    /* tgsigqueueinfo to a thread of one's own. */
    siginfo_t q;
    memset(&q, 0, sizeof q);
    q.si_code = SI_QUEUE_;
    q.si_value.sival_int = 77;
    check_ret(sc(SYS_rt_tgsigqueueinfo, me, sc(SYS_gettid), RT(3), &q), 0, "tgsigqueueinfo");
    memset(&si, 0, sizeof si);
    check_ret(timedwait(&s, &si, 0, 0), RT(3), "... taken");
    check(si.si_value.sival_int == 77 && si.si_code == SI_QUEUE_, "... its value");
    /* The errors. */
    check_err(qinfo(me, 65, SI_QUEUE_, 0), EINVAL, "signal 65");
    check_err(qinfo(me, -1, SI_QUEUE_, 0), EINVAL, "signal -1");
    check_err(qinfo(0x3fffffff, RT(3), SI_QUEUE_, 0), ESRCH, "no such process");
    check_err(qinfo(0x3fffffff, 65, SI_QUEUE_, 0), ESRCH, "no such process before the signal");
    check_err(qinfo(-1, RT(3), SI_QUEUE_, 0), ESRCH, "pid -1");
    check_err(sc(SYS_rt_sigqueueinfo, me, RT(3), BADPTR), EFAULT, "bad siginfo pointer");
    check_ret(qinfo(me, 0, SI_QUEUE_, 0), 0, "signal 0: a check only");
    check_err(sc(SYS_rt_tgsigqueueinfo, 0, me, RT(3), &q), EINVAL, "tgsigqueueinfo tgid 0");
    check_err(sc(SYS_rt_tgsigqueueinfo, me, 0, RT(3), &q), EINVAL, "tgsigqueueinfo tid 0");
    check_err(sc(SYS_rt_tgsigqueueinfo, me, 0x3fffffff, RT(3), &q), ESRCH,
              "tgsigqueueinfo no such thread");
    check_err(sc(SYS_rt_tgsigqueueinfo, me, me, 99, &q), EINVAL, "tgsigqueueinfo signal 99");
    check_err(sc(SYS_rt_tgsigqueueinfo, me, me, RT(3), BADPTR), EFAULT,
              "tgsigqueueinfo bad pointer");
    check_err(timedwait(&s, &si, 0, 0), EAGAIN, "nothing left over");
    /* pidfd_send_signal with a siginfo: sent as given. */
    long pfd = sc(SYS_pidfd_open, me, 0);
    memset(&q, 0, sizeof q);
    q.si_signo = RT(3);
    q.si_code = SI_QUEUE_;
    q.si_value.sival_int = 99;
    check_ret(sc(SYS_pidfd_send_signal, pfd, RT(3), &q, 0), 0, "pidfd_send_signal with a siginfo");
    memset(&si, 0, sizeof si);
    check_ret(timedwait(&s, &si, 0, 0), RT(3), "... taken");
    check(si.si_code == SI_QUEUE_ && si.si_value.sival_int == 99, "... with its si_code and value");
    sc(SYS_close, pfd);

    /* Toward another process: no kill or kernel si_code. */
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t cs = sigset_of(RT(3), 0);
        memset(&si, 0, sizeof si);
        long r = sc(SYS_rt_sigtimedwait, &cs, &si, 0, 8);
        _exit(r == RT(3) && si.si_value.sival_int == 42 && si.si_code == SI_QUEUE_ ? 0 : 1);
    }
    check_err(qinfo(pid, RT(3), SI_USER_, 1), EPERM, "SI_USER toward another process");
    check_err(qinfo(pid, RT(3), 0x80, 1), EPERM, "SI_KERNEL toward another process");
    check_err(qinfo(pid, RT(3), SI_TKILL_, 1), EPERM, "SI_TKILL toward another process");
    check_ret(qinfo(pid, RT(3), SI_QUEUE_, 42), 0, "SI_QUEUE toward another process");
    check_wait(pid, "exited 0", "the child took it with sigwaitinfo");
    close_pipe(p);
    sigprocmask(SIG_UNBLOCK, &s, 0);
}

static void test_limit(void)
{
    sigset_t s = sigset_of(RT(4), 0);
    sigprocmask(SIG_BLOCK, &s, 0);
    struct rlimit old, lim;
    getrlimit(RLIMIT_SIGPENDING, &old);
    lim = old;
    lim.rlim_cur = 4; /* the soft limit only, so that it can come back */
    setrlimit(RLIMIT_SIGPENDING, &lim);
    long me = getpid();
    int n = 0;
    long r = 0;
    while (n < 100 && (r = qinfo(me, RT(4), SI_QUEUE_, n)) == 0)
        n++;
    /* The count is per user on Linux: other processes of the same user
     * may hold some of the four (the sandbox counts per process). */
    check(n <= 4 && r == -EAGAIN, "RLIMIT_SIGPENDING 4: at most four queued, then EAGAIN");
    /* kill is not refused: the signal pends without a siginfo of its own,
     * merged with the queued ones. */
    check_ret(sc(SYS_kill, me, RT(4)), 0, "kill past the limit");
    siginfo_t si;
    int taken = 0, values_ok = 1;
    while ((r = timedwait(&s, &si, 0, 0)) == RT(4)) {
        if (taken < n)
            values_ok &= si.si_value.sival_int == taken && si.si_code == SI_QUEUE_;
        taken++;
    }
    /* Natively, another process of the same user that took one of its
     * own pending signals meanwhile leaves room for kill's to queue on its
     * own: one more. The sandbox's count is its own. */
    int room = !getenv("SANDBOX_RUN_GUEST") && n && taken == n + 1;
    check((taken == (n ? n : 1) || room) && values_ok,
          "the queued ones taken in order, kill's merged with them");
    setrlimit(RLIMIT_SIGPENDING, &old);
    sigprocmask(SIG_UNBLOCK, &s, 0);
}

static volatile int g_handled;
static void on_usr2(int sig)
{
    (void)sig;
    g_handled++;
}

static void *sender(void *arg)
{
    long *a = arg;
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, 0);
    sc(SYS_tgkill, a[0], a[1], (int)a[2]);
    return NULL;
}

static void test_timedwait(void)
{
    sigset_t s = sigset_of(RT(5), 0);
    sigprocmask(SIG_BLOCK, &s, 0);
    siginfo_t si;
    /* The errors. */
    check_err(sc(SYS_rt_sigtimedwait, &s, &si, 0, 4), EINVAL, "sigsetsize 4");
    check_err(sc(SYS_rt_sigtimedwait, &s, &si, 0, 16), EINVAL, "sigsetsize 16");
    check_err(sc(SYS_rt_sigtimedwait, BADPTR, &si, 0, 8), EFAULT, "bad set");
    check_err(sc(SYS_rt_sigtimedwait, &s, &si, BADPTR, 8), EFAULT, "bad timeout");
    struct timespec bad = { 0, 1000000000 };
    check_err(sc(SYS_rt_sigtimedwait, &s, &si, &bad, 8), EINVAL, "tv_nsec 1e9");
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    check_err(sc(SYS_rt_sigtimedwait, &s, &si, &bad, 8), EINVAL, "tv_sec -1");
    /* A signal taken although the siginfo cannot be written: EFAULT. */
    long me = getpid();
    sc(SYS_kill, me, RT(5));
    check_err(sc(SYS_rt_sigtimedwait, &s, BADPTR, 0, 8), EFAULT, "bad siginfo pointer");
    check_err(timedwait(&s, &si, 0, 0), EAGAIN, "... the signal was taken all the same");
    /* NULL siginfo. */
    sc(SYS_kill, me, RT(5));
    check_ret(sc(SYS_rt_sigtimedwait, &s, 0, 0, 8), RT(5), "NULL siginfo");
    /* The time out. */
    long t0 = now_ms();
    check_err(timedwait(&s, &si, 0, 100 * 1000 * 1000), EAGAIN, "100 ms: EAGAIN");
    long el = now_ms() - t0;
    check(el >= 90 && el < 5000, "... after the time out");
    /* Woken by another thread's tgkill. */
    long args[3] = { me, sc(SYS_gettid), RT(5) };
    pthread_t th;
    pthread_create(&th, 0, sender, args);
    memset(&si, 0, sizeof si);
    check_ret(timedwait(&s, &si, 10, 0), RT(5), "woken by a thread's tgkill");
    check(si.si_code == SI_TKILL_ && si.si_pid == me, "... SI_TKILL from this process");
    pthread_join(th, 0);
    /* A process-directed signal that every thread blocks goes to the
     * thread that waits for it. */
    struct timespec ts = { 10, 0 };
    memset(&si, 0, sizeof si);
    long pid = fork_signal_after(RT(5), 100);
    check_ret(sc(SYS_rt_sigtimedwait, &s, &si, &ts, 8), RT(5), "woken by a child's kill");
    check(si.si_code == SI_USER_ && si.si_pid == pid, "... SI_USER from the child");
    check_wait(pid, "exited 0", "the child");
    /* A handled signal outside the set ends the wait with EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, 0);
    g_handled = 0;
    args[1] = sc(SYS_gettid);
    args[2] = SIGUSR2;
    pthread_create(&th, 0, sender, args);
    check_err(timedwait(&s, &si, 10, 0), EINTR, "a handler's signal: EINTR, even with SA_RESTART");
    check(g_handled == 1, "... the handler ran");
    pthread_join(th, 0);
    /* A signal of the set that is not blocked is taken by the wait too. */
    sigprocmask(SIG_UNBLOCK, &s, 0);
    sigaction(RT(5), &sa, 0);
    g_handled = 0;
    args[2] = RT(5);
    pthread_create(&th, 0, sender, args);
    check_ret(timedwait(&s, &si, 10, 0), RT(5), "an unblocked, handled signal of the set");
    check(g_handled == 0, "... taken by the wait, not the handler");
    pthread_join(th, 0);
    signal(RT(5), SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

static int g_order[16], g_norder;
static void record(int sig)
{
    if (g_norder < 16)
        g_order[g_norder++] = sig;
}

static void test_order(void)
{
    int sigs[] = { RT(7), RT(2), SIGUSR1, RT(2), SIGTERM };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = record;
    sigfillset(&sa.sa_mask);
    sigset_t all;
    sigemptyset(&all);
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, 0);
        sigaddset(&all, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &all, 0);
    for (unsigned i = 0; i < 5; i++) {
        long r = qinfo(getpid(), sigs[i], SI_QUEUE_, (long)i);
        if (r)
            out("queue %u: %s\n", i, ret_name(r));
    }
    g_norder = 0;
    sigprocmask(SIG_UNBLOCK, &all, 0);
    char buf[128] = "";
    for (int i = 0; i < g_norder; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "",
                 g_order[i] == SIGUSR1   ? "USR1"
                 : g_order[i] == SIGTERM ? "TERM"
                 : g_order[i] == RT(2)   ? "RT2"
                 : g_order[i] == RT(7)   ? "RT7"
                                         : "?");
    out("handlers ran in the order: %s\n", buf);
    check(g_norder == 5, "five handlers for five signals (two of RT2)");
    for (unsigned i = 0; i < 5; i++)
        signal(sigs[i], SIG_DFL);
}

int main(void)
{
    test_sigqueue();
    test_limit();
    test_timedwait();
    test_order();
    return finish();
}
