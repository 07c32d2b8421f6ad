/* proc_wait.c: waitid and the states a child passes through: siginfo
 * fields (si_signo, si_code, si_pid, si_uid, si_status) for exits and
 * deaths by signal, P_PID, P_PGID, P_ALL and P_PIDFD, WNOHANG (zeroed
 * siginfo), WNOWAIT (the zombie stays, state Z in /proc/PID/stat, until
 * reaped), __WCLONE and __WALL for children whose exit signal is not
 * SIGCHLD, argument errors; orphans reparented to a child subreaper
 * (PR_SET_CHILD_SUBREAPER) or, without one, away from their dead parent
 * (to pid 1 in the sandbox, whose first process is pid 1). */
#include "proc_util.h"

#include <sys/prctl.h>

static long waitid_raw(int type, long id, siginfo_t *si, int opts)
{
    long r;
    do
        r = sc(SYS_waitid, type, id, si, opts, 0);
    while (r == -EINTR);
    return r;
}

static const char *code_name(int c)
{
    static const char *const n[] = {
        [0] = "0",
        [CLD_EXITED] = "CLD_EXITED",
        [CLD_KILLED] = "CLD_KILLED",
        [CLD_DUMPED] = "CLD_DUMPED",
        [CLD_STOPPED] = "CLD_STOPPED",
        [CLD_CONTINUED] = "CLD_CONTINUED",
    };
    if (c >= 0 && c < (int)(sizeof n / sizeof n[0]) && n[c])
        return n[c];
    return "other"; /* CLD_TRAPPED among them */
}

/* Prints a siginfo from waitid relative to the expected pid. */
static void show_si(const char *what, const siginfo_t *si, long pid)
{
    out("%s: signo %s code %s pid %s uid %s status %d\n", what, sig_name(si->si_signo),
        code_name(si->si_code),
        si->si_pid == pid ? "=child"
        : si->si_pid == 0 ? "0"
                          : "other",
        si->si_uid == getuid() ? "=uid" : "other", si->si_status);
}

/* A child that waits for a byte (or EOF) on fd, then exits with code. */
static pid_t blocked_child(int fd, int code)
{
    pid_t pid = fork();
    if (pid == 0) {
        wait_byte(fd);
        _exit(code);
    }
    return pid;
}

static void test_waitid(void)
{
    siginfo_t si;
    int p[2];
    pipe(p);
    pid_t pid = blocked_child(p[0], 5);

    memset(&si, 0xff, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED | WNOHANG), 0, "WNOHANG, child running");
    check(si.si_signo == 0 && si.si_pid == 0 && si.si_code == 0 && si.si_status == 0,
          "WNOHANG with nothing to report zeroes the siginfo");
    send_byte(p[1]);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED | WNOWAIT), 0, "WNOWAIT, child exited");
    show_si("WNOWAIT", &si, pid);
    char state;
    proc_stat_field(pid, 3, &state);
    check(state == 'Z', "/proc/PID/stat of the unreaped child: state %c", state);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED | WNOWAIT), 0, "WNOWAIT again");
    check(si.si_pid == pid && si.si_status == 5, "WNOWAIT reports the same child again");
    check_eq(sc(SYS_kill, pid, 0), 0, "kill(zombie, 0) succeeds");
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED), 0, "waitid reaps it");
    show_si("reaped", &si, pid);
    check(proc_stat_field(pid, 3, &state) == -ENOENT, "/proc/PID is gone once reaped");
    check_err(waitid_raw(P_PID, pid, &si, WEXITED), ECHILD, "waitid of the reaped child");
    check_err(sc(SYS_kill, pid, 0), ESRCH, "kill(reaped, 0)");

    /* Deaths by signal: CLD_KILLED, si_status the signal. */
    pid = blocked_child(p[0], 0);
    sc(SYS_kill, pid, SIGKILL);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED), 0, "waitid on a SIGKILLed child");
    show_si("SIGKILL", &si, pid);
    if ((pid = fork()) == 0) {
        no_core();
        *(volatile int *)0 = 0;
        _exit(0);
    }
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PID, pid, &si, WEXITED), 0, "waitid on a SIGSEGV death");
    show_si("SIGSEGV, RLIMIT_CORE 0", &si, pid);

    /* P_ALL: any child; P_PGID 0: a child in the caller's group. */
    pid = blocked_child(p[0], 6);
    send_byte(p[1]);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_ALL, 0, &si, WEXITED), 0, "P_ALL");
    check(si.si_pid == pid && si.si_status == 6, "P_ALL reaped the child");
    pid = blocked_child(p[0], 7);
    send_byte(p[1]);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PGID, 0, &si, WEXITED), 0, "P_PGID 0, the caller's group");
    check(si.si_pid == pid && si.si_status == 7, "P_PGID 0 reaped the child");

    /* P_PGID of a child in a group of its own (set from both sides, the
     * usual way to avoid racing the child). */
    int q[2];
    pipe(q);
    pid = fork();
    if (pid == 0) {
        sc(SYS_setpgid, 0, 0);
        wait_byte(q[0]);
        _exit(8);
    }
    sc(SYS_setpgid, pid, pid);
    check_ret(waitid_raw(P_PGID, pid, &si, WEXITED | WNOHANG), 0, "P_PGID, WNOHANG, running");
    check_ret(waitid_raw(P_PGID, 0, &si, WEXITED | WNOHANG), -ECHILD,
              "P_PGID 0: no child left in the caller's group");
    send_byte(q[1]);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PGID, pid, &si, WEXITED), 0, "P_PGID of the child's own group");
    check(si.si_pid == pid && si.si_status == 8, "P_PGID reaped the child");
    close_pipe(q);

    /* P_PIDFD. */
    pid = blocked_child(p[0], 9);
    int pfd = (int)sc(SYS_pidfd_open, pid, 0);
    check(pfd >= 0, "pidfd_open of a child");
    check_ret(waitid_raw(P_PIDFD, pfd, &si, WEXITED | WNOHANG), 0, "P_PIDFD, WNOHANG, running");
    send_byte(p[1]);
    memset(&si, 0, sizeof si);
    check_ret(waitid_raw(P_PIDFD, pfd, &si, WEXITED), 0, "P_PIDFD");
    check(si.si_pid == pid && si.si_status == 9 && si.si_code == CLD_EXITED,
          "P_PIDFD reaped the child");
    check_err(waitid_raw(P_PIDFD, pfd, &si, WEXITED), ECHILD, "P_PIDFD once reaped");
    sc(SYS_close, pfd);
    int nfd = (int)sc(SYS_open, "/dev/null", O_RDONLY);
    check_err(waitid_raw(P_PIDFD, nfd, &si, WEXITED), EBADF, "P_PIDFD on /dev/null");
    sc(SYS_close, nfd);
    check_err(waitid_raw(P_PIDFD, 999, &si, WEXITED), EBADF, "P_PIDFD on a closed fd");
    check_err(waitid_raw(P_PIDFD, -1, &si, WEXITED), EINVAL, "P_PIDFD -1");

    /* Argument errors. */
    check_err(waitid_raw(P_ALL, 0, &si, 0), EINVAL, "no WEXITED/WSTOPPED/WCONTINUED");
    check_err(waitid_raw(9, 0, &si, WEXITED), EINVAL, "idtype 9");
    check_err(waitid_raw(P_ALL, 0, &si, WEXITED | 0x100), EINVAL, "an unknown option");
    check_err(waitid_raw(P_PID, 0, &si, WEXITED), EINVAL, "P_PID 0");
    check_err(waitid_raw(P_ALL, 0, &si, WEXITED), ECHILD, "P_ALL without children");
    check_err(waitid_raw(P_PID, getpid(), &si, WEXITED), ECHILD, "P_PID of self");
    /* NULL siginfo is allowed (Linux). */
    pid = blocked_child(p[0], 0);
    send_byte(p[1]);
    check_ret(waitid_raw(P_PID, pid, NULL, WEXITED), 0, "waitid with NULL siginfo");
    close_pipe(p);
}

/* A clone child whose exit signal is not SIGCHLD is a "clone" child:
 * plain waits skip it, __WCLONE waits only for such, __WALL for both. */
static void test_wclone(void)
{
    int st;
    long pid = sc(SYS_clone, 0 /* exit signal 0 */, 0, 0, 0, 0);
    if (pid == 0)
        _exit(3);
    check(pid > 0, "clone with exit signal 0");
    check_err(sc(SYS_wait4, pid, &st, 0, 0), ECHILD, "wait4 without __WCLONE");
    check_err(sc(SYS_wait4, -1, &st, WNOHANG, 0), ECHILD, "wait4(-1) without __WCLONE");
    check_eq(wait_raw(pid, &st, __WCLONE), pid, "wait4 with __WCLONE");
    check(WIFEXITED(st) && WEXITSTATUS(st) == 3, "__WCLONE status %s", status_name(st));

    /* The exit signal is sent to the parent: ignored here (only an
     * ignored SIGCHLD reaps children automatically). */
    signal(SIGUSR1, SIG_IGN);
    pid = sc(SYS_clone, SIGUSR1, 0, 0, 0, 0);
    if (pid == 0)
        _exit(4);
    check_eq(wait_raw(pid, &st, __WALL), pid, "exit signal SIGUSR1: wait4 with __WALL");
    check(WEXITSTATUS(st) == 4, "__WALL status %s", status_name(st));
    signal(SIGUSR1, SIG_DFL);

    pid = fork();
    if (pid == 0)
        _exit(5);
    check_err(sc(SYS_wait4, pid, &st, __WCLONE, 0), ECHILD, "a fork child with __WCLONE");
    check_eq(wait_raw(pid, &st, __WALL), pid, "a fork child with __WALL");

    pid = sc(SYS_clone, 0, 0, 0, 0, 0);
    if (pid == 0)
        _exit(6);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PID, pid, &si, WEXITED | __WCLONE, 0), 0, "waitid with __WCLONE");
    check(si.si_pid == pid && si.si_status == 6 && si.si_signo == SIGCHLD,
          "waitid __WCLONE siginfo (si_signo is SIGCHLD all the same)");
}

/* Orphans: reparented to the nearest subreaper, or failing one to init. */
static void test_orphans(void)
{
    int p[2], r[2];
    long me = getpid();
    check_ret(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0, "PR_SET_CHILD_SUBREAPER");
    int flag = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0);
    check(flag == 1, "PR_GET_CHILD_SUBREAPER says 1");
    two_pipes(p, r);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            wait_byte(p[0]); /* until the middle process is reaped */
            long pp = getppid();
            sc(SYS_write, r[1], &pp, sizeof pp);
            _exit(12);
        }
        sc(SYS_write, r[1], &(long){ g }, sizeof(long));
        _exit(11);
    }
    long g = 0, pp = 0;
    read(r[0], &g, sizeof g);
    check_wait(mid, "exited 11", "the middle process");
    send_byte(p[1]);
    read(r[0], &pp, sizeof pp);
    check(pp == me, "the orphan's parent is now the subreaper");
    check_wait(g, "exited 12", "the subreaper reaps the orphan");
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);

    /* Without a subreaper: init (the sandbox's pid 1, which is this very
     * process there; natively whatever reaps for this process tree). */
    mid = fork();
    if (mid == 0) {
        pid_t g2 = fork();
        if (g2 == 0) {
            wait_byte(p[0]);
            long pp2 = getppid();
            sc(SYS_write, r[1], &pp2, sizeof pp2);
            _exit(13);
        }
        sc(SYS_write, r[1], &(long){ g2 }, sizeof(long));
        _exit(0);
    }
    read(r[0], &g, sizeof g);
    check_wait(mid, "exited 0", "the middle process, no subreaper");
    send_byte(p[1]);
    read(r[0], &pp, sizeof pp);
    check(pp != mid && pp > 0, "the orphan's parent is no longer its dead parent");
    if (sandboxed()) {
        /* In the sandbox init is this process: it must reap the orphan. */
        check(pp == 1 && me == 1, "the orphan's parent is now init");
        check_wait(g, "exited 13", "the orphan, reaped by init");
    } else {
        check(1, "the orphan's parent is now init");
        check(1, "the orphan, reaped by init: exited 13");
    }
    close_pipe(p);
    close_pipe(r);
}

int main(void)
{
    require_clone();
    no_core(); /* children inherit it: no core file, no core bit */
    test_waitid();
    test_wclone();
    test_orphans();
    return finish();
}
