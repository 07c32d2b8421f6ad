/* proc_kill.c: kill, tkill and tgkill without any handler running: the
 * default actions seen in the wait status (terminate; core, with the core
 * bit clear under RLIMIT_CORE 0; ignore), SIGKILL
 * through SIG_IGN, ignored signals discarded, kill(0) and kill(-pgid) to a
 * process group, kill(-1, 0), signal 0 as an existence test (zombies
 * exist), ESRCH and EINVAL; a blocked signal stays pending (sigpending)
 * whatever its disposition, setting SIG_IGN discards it; PR_SET_PDEATHSIG. Signals with
 * a default action go only to children: in the sandbox this program is
 * pid 1, which ignores them (as init does in its pid namespace).
 * kill(-1, SIG) with a real signal is not tried: natively it would reach
 * every process of the user. Stop and continue are in proc_stop.c. */
#include "proc_util.h"

#include <sys/prctl.h>
#include <time.h>

/* A child blocked on a pipe read until killed or released. */
static void test_default_actions(void)
{
    int p[2];
    pipe(p);
    static const int sigs[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGABRT, SIGFPE,
                                SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM,
                                SIGTERM, SIGXCPU, SIGSYS,  40,      64 };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        pid_t pid = fork_sleeper(p[0]);
        char want[64], what[64];
        snprintf(want, sizeof want, "killed by %s", sig_name(sigs[i]));
        snprintf(what, sizeof what, "kill(child, %s)", sig_name(sigs[i]));
        check_ret(sc(SYS_kill, pid, sigs[i]), 0, what);
        check_wait(pid, want, what);
    }
    /* Ignored by default: the child lives on and exits normally. */
    static const int ign[] = { SIGCHLD, SIGURG, SIGWINCH, SIGCONT };
    for (size_t i = 0; i < sizeof ign / sizeof ign[0]; i++) {
        pid_t pid = fork_sleeper(p[0]);
        char what[64];
        snprintf(what, sizeof what, "%s's default action is to ignore", sig_name(ign[i]));
        sc(SYS_kill, pid, ign[i]);
        send_byte(p[1]);
        check_wait(pid, "exited 0", what);
    }
    close_pipe(p);
}

/* A child that sets SIG_IGN for each of sigs, says so through ready and
 * then waits for a byte on go before it exits 0; returns once it is ready. */
static pid_t fork_ignoring(const int *sigs, int n, const int ready[2], const int go[2])
{
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < n; i++)
            signal(sigs[i], SIG_IGN);
        send_byte(ready[1]);
        wait_byte(go[0]);
        _exit(0);
    }
    wait_byte(ready[0]);
    return pid;
}

static void test_ignore(void)
{
    int p[2], q[2];
    two_pipes(p, q);
    /* SIGKILL's SIG_IGN is refused (EINVAL): it stays default. */
    pid_t pid = fork_ignoring((const int[]){ SIGTERM, SIGKILL, SIGUSR1 }, 3, q, p);
    sc(SYS_kill, pid, SIGTERM);
    sc(SYS_kill, pid, SIGUSR1);
    send_byte(p[1]);
    check_wait(pid, "exited 0", "ignored SIGTERM and SIGUSR1 do nothing");
    pid = fork_ignoring((const int[]){ SIGKILL }, 1, q, p);
    sc(SYS_kill, pid, SIGKILL);
    check_wait(pid, "killed by SIGKILL", "SIGKILL cannot be ignored");
    struct sigaction sa = { 0 };
    sa.sa_handler = SIG_IGN;
    check_err(sc(SYS_rt_sigaction, SIGKILL, &sa, 0, 8), EINVAL, "rt_sigaction(SIGKILL)");
    check_err(sc(SYS_rt_sigaction, SIGSTOP, &sa, 0, 8), EINVAL, "rt_sigaction(SIGSTOP)");
    close_pipe(p);
    close_pipe(q);
}

static void test_tkill(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork_sleeper(p[0]);
    check_ret(sc(SYS_tkill, pid, SIGTERM), 0, "tkill(child, SIGTERM)");
    check_wait(pid, "killed by SIGTERM", "tkill");
    pid = fork_sleeper(p[0]);
    check_ret(sc(SYS_tgkill, pid, pid, SIGUSR2), 0, "tgkill(child, child, SIGUSR2)");
    check_wait(pid, "killed by SIGUSR2", "tgkill");
    pid = fork_sleeper(p[0]);
    check_err(sc(SYS_tgkill, getpid(), pid, SIGTERM), ESRCH, "tgkill with the wrong tgid");
    check_ret(sc(SYS_tgkill, pid, pid, 0), 0, "tgkill signal 0");
    check_err(sc(SYS_tgkill, pid, 0, SIGTERM), EINVAL, "tgkill tid 0");
    check_err(sc(SYS_tgkill, 0, pid, SIGTERM), EINVAL, "tgkill tgid 0");
    check_err(sc(SYS_tgkill, -1, pid, SIGTERM), EINVAL, "tgkill tgid -1");
    check_err(sc(SYS_tgkill, pid, pid, 65), EINVAL, "tgkill signal 65");
    check_err(sc(SYS_tkill, 0, SIGTERM), EINVAL, "tkill tid 0");
    check_err(sc(SYS_tkill, -5, SIGTERM), EINVAL, "tkill tid -5");
    check_err(sc(SYS_tkill, pid, -1), EINVAL, "tkill signal -1");
    check_err(sc(SYS_tkill, 4194305, 0), ESRCH, "tkill past pid_max");
    send_byte(p[1]);
    check_wait(pid, "exited 0", "the child the errors left alone");
    close_pipe(p);
}

static void test_errors(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork_sleeper(p[0]);
    check_ret(sc(SYS_kill, pid, 0), 0, "kill(child, 0)");
    check_err(sc(SYS_kill, pid, 65), EINVAL, "kill signal 65");
    check_err(sc(SYS_kill, pid, -1), EINVAL, "kill signal -1");
    check_ret(sc(SYS_kill, pid, 1L << 32), 0, "kill signal 1 << 32: an int, so signal 0");
    check_err(sc(SYS_kill, 4194305, 0), ESRCH, "kill past pid_max");
    check_err(sc(SYS_kill, -4194305, 0), ESRCH, "kill a group past pid_max");
    check_err(sc(SYS_kill, (int)0x80000000, 0), ESRCH, "kill(INT_MIN)");
    /* kill(-1, 0): is there any process it could signal? The child. */
    check_ret(sc(SYS_kill, -1, 0), 0, "kill(-1, 0) with a child around");
    send_byte(p[1]);
    siginfo_t si;
    sc(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, 0);
    check_ret(sc(SYS_kill, pid, 0), 0, "kill(zombie, 0)");
    check_ret(sc(SYS_kill, pid, SIGKILL), 0, "kill(zombie, SIGKILL)");
    check_wait(pid, "exited 0", "the zombie's status is its exit's");
    check_err(sc(SYS_kill, pid, 0), ESRCH, "kill(reaped, 0)");
    close_pipe(p);
}

/* kill(0) and kill(-pgid): in a group of its own made by a child, so
 * nothing outside the test is reached. */
static void test_group(void)
{
    int p[2];
    pipe(p);
    pid_t leader = fork_checked();
    if (leader == 0) {
        sc(SYS_setpgid, 0, 0);
        pid_t a = fork_sleeper(p[0]), b = fork_sleeper(p[0]);
        signal(SIGTERM, SIG_IGN); /* the sender itself is in the group */
        check_ret(sc(SYS_kill, 0, SIGTERM), 0, "kill(0, SIGTERM) in a group of three");
        check_wait(a, "killed by SIGTERM", "group member 1");
        check_wait(b, "killed by SIGTERM", "group member 2");
        /* kill(-pgid) from outside the group. */
        a = fork_sleeper(p[0]);
        b = fork_sleeper(p[0]);
        sc(SYS_setpgid, a, a);
        sc(SYS_setpgid, b, a);
        check_ret(sc(SYS_kill, -a, SIGUSR1), 0, "kill(-pgid, SIGUSR1)");
        check_wait(a, "killed by SIGUSR1", "member of the other group 1");
        check_wait(b, "killed by SIGUSR1", "member of the other group 2");
        check_err(sc(SYS_kill, -a, 0), ESRCH, "kill(-pgid) of a group that is gone");
        child_done();
    }
    check_wait(leader, "exited 0", "the group's checks");
    close_pipe(p);
}

static void test_pending(void)
{
    sigset_t m, pend;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGUSR2);
    sigaddset(&m, SIGTERM);
    sigprocmask(SIG_BLOCK, &m, 0);
    struct sigaction sa = { 0 };
    sa.sa_handler = (void (*)(int))abort; /* never runs: blocked, then discarded */
    sigaction(SIGUSR1, &sa, 0);
    long me = getpid();
    sc(SYS_kill, me, SIGUSR1);
    sc(SYS_kill, me, SIGUSR2); /* default action terminate: blocked, so pending */
    sc(SYS_tgkill, me, me, SIGTERM);
    sigpending(&pend);
    check(sigismember(&pend, SIGUSR1), "blocked SIGUSR1 with a handler is pending");
    check(sigismember(&pend, SIGUSR2), "blocked SIGUSR2 with SIG_DFL is pending");
    check(sigismember(&pend, SIGTERM), "blocked SIGTERM from tgkill is pending");
    check(!sigismember(&pend, SIGHUP), "SIGHUP is not");
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    sigpending(&pend);
    check(!sigismember(&pend, SIGUSR1) && !sigismember(&pend, SIGUSR2),
          "setting SIG_IGN discards them");
    check(sigismember(&pend, SIGTERM), "SIGTERM is still pending");
    /* Taking it with sigtimedwait, and queueing: proc_sigwait.c. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &m, 0);
}

static void test_pdeathsig(void)
{
    int p[2], r[2], ready[2];
    two_pipes(p, r);
    pipe(ready);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t mid = fork();
    if (mid == 0) {
        long me = getpid();
        pid_t g = fork();
        if (g == 0) {
            prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
            int s = 0;
            prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
            if (getppid() != me || s != SIGUSR2)
                _exit(1);
            send_byte(ready[1]);
            wait_byte(p[0]);
            _exit(2);
        }
        sc(SYS_write, r[1], &(long){ g }, sizeof(long));
        wait_byte(ready[0]); /* the grandchild is ready */
        _exit(0);
    }
    long g = 0;
    read(r[0], &g, sizeof g);
    check_wait(mid, "exited 0", "the parent of a PR_SET_PDEATHSIG child");
    check_wait(g, "killed by SIGUSR2", "the child got its parent-death signal");
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    check_err(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0) < 0 ? -errno : 0, EINVAL, "PR_SET_PDEATHSIG 65");
    close_pipe(p);
    close_pipe(r);
    close_pipe(ready);
}

int main(void)
{
    no_core(); /* children inherit it: no core file, no core bit */
    test_default_actions();
    test_ignore();
    test_tkill();
    test_errors();
    test_group();
    test_pending();
    test_pdeathsig();
    return finish();
}
