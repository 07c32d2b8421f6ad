/* sig_jobctl.c: job control. SIGTSTP's default action stops, a handled or
 * ignored one does not; a stop signal blocked waits for its unblocking;
 * the parent learns of a stop and a continue by wait4 (WUNTRACED,
 * WCONTINUED), waitid (CLD_STOPPED, CLD_CONTINUED, WNOWAIT) and SIGCHLD
 * (unless SA_NOCLDSTOP); /proc shows 'T'; a stopped child with two
 * threads stops whole and goes on whole; a second SIGSTOP is not reported
 * twice; SIGCONT runs its handler; SIGCONT to a running child reports
 * nothing. */
#include "proc_util.h"

#include <pthread.h>
#include <time.h>

static void on_sig(int sig)
{
    (void)sig;
}

static long sigchld_info(siginfo_t *si, long ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    memset(si, 0, sizeof *si);
    return sc(SYS_rt_sigtimedwait, &s, si, &ts, 8);
}

/* A child that keeps a second thread asleep in a pipe read and sleeps
 * itself until fd gives a byte (or EOF). */
static int g_fd;
static void *reader(void *arg)
{
    (void)arg;
    wait_byte(g_fd);
    return NULL;
}

static pid_t fork_two_threads(int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        no_core();
        g_fd = fd;
        pthread_t th;
        pthread_create(&th, 0, reader, 0);
        wait_byte(fd);
        pthread_join(th, 0);
        _exit(0);
    }
    return pid;
}

static void test_reports(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    sigprocmask(SIG_BLOCK, &s, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork_two_threads(p[0]);
    siginfo_t si;
    int st;
    sc(SYS_kill, pid, SIGTSTP);
    check_ret(sigchld_info(&si, 10000), SIGCHLD, "SIGCHLD for the stop");
    check(si.si_code == CLD_STOPPED && si.si_status == SIGTSTP && si.si_pid == pid,
          "... CLD_STOPPED, status SIGTSTP, the child's pid");
    char state;
    proc_stat_field(pid, 3, &state);
    check(state == 'T', "/proc/PID/stat: T (%c)", state);
    /* waitid with WNOWAIT leaves the report; wait4 takes it. */
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PID, pid, &si, WSTOPPED | WNOWAIT, 0), 0, "waitid WSTOPPED|WNOWAIT");
    check(si.si_code == CLD_STOPPED && si.si_status == SIGTSTP && si.si_pid == pid,
          "... CLD_STOPPED, SIGTSTP");
    check_ret(sc(SYS_wait4, pid, &st, WNOHANG, 0), 0, "wait4 without WUNTRACED: nothing");
    check_eq(sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0), pid, "wait4 WUNTRACED");
    check(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP, "... %s", status_name(st));
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PID, pid, &si, WSTOPPED | WNOHANG, 0), 0, "... then taken");
    check(si.si_pid == 0, "... waitid finds none");
    /* A second stop signal is not reported again. */
    sc(SYS_kill, pid, SIGSTOP);
    check_err(sigchld_info(&si, 200), EAGAIN, "a second stop: no SIGCHLD");
    check_ret(sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0), 0, "... no report");
    sc(SYS_kill, pid, SIGCONT);
    check_ret(sigchld_info(&si, 10000), SIGCHLD, "SIGCHLD for the continue");
    check(si.si_code == CLD_CONTINUED && si.si_status == SIGCONT, "... CLD_CONTINUED, SIGCONT");
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PID, pid, &si, WCONTINUED | WNOWAIT, 0), 0,
              "waitid WCONTINUED|WNOWAIT");
    check(si.si_code == CLD_CONTINUED && si.si_status == SIGCONT, "... CLD_CONTINUED");
    check_eq(sc(SYS_wait4, pid, &st, WCONTINUED, 0), pid, "wait4 WCONTINUED");
    check(WIFCONTINUED(st), "... %s", status_name(st));
    send_byte(p[1]);
    send_byte(p[1]);
    check_wait(pid, "exited 0", "both threads went on and the child ended");
    check_ret(sigchld_info(&si, 10000), SIGCHLD, "SIGCHLD for the exit");
    /* SIGCONT to a running child: nothing to report. */
    pid = fork_sleeper(p[0]);
    sc(SYS_kill, pid, SIGCONT);
    check_err(sigchld_info(&si, 200), EAGAIN, "SIGCONT to a running child: no SIGCHLD");
    check_ret(sc(SYS_wait4, pid, &st, WCONTINUED | WNOHANG, 0), 0, "... no WCONTINUED report");
    /* SA_NOCLDSTOP: reports for wait, no SIGCHLD. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, 0);
    sc(SYS_kill, pid, SIGSTOP);
    check_eq(wait_raw(pid, &st, WUNTRACED), pid, "SA_NOCLDSTOP: wait still reports the stop");
    check_err(sigchld_info(&si, 200), EAGAIN, "... but no SIGCHLD");
    sc(SYS_kill, pid, SIGCONT);
    check_eq(wait_raw(pid, &st, WCONTINUED), pid, "... and the continue");
    check_err(sigchld_info(&si, 200), EAGAIN, "... no SIGCHLD either");
    signal(SIGCHLD, SIG_DFL);
    send_byte(p[1]);
    check_wait(pid, "exited 0", "the child");
    sigchld_info(&si, 0);
    close_pipe(p);
    sigprocmask(SIG_UNBLOCK, &s, 0);
}

static volatile int g_conts;
static void on_cont(int sig)
{
    (void)sig;
    g_conts++;
}

static void test_dispositions(void)
{
    int p[2], q[2];
    two_pipes(p, q);
    int st;
    /* A handled SIGTSTP runs its handler and does not stop; an ignored one
     * is dropped; a blocked one stops at its unblocking; SIGCONT's handler
     * runs when it continues the child. */
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sig;
        sigaction(SIGTSTP, &sa, 0);
        sa.sa_handler = on_cont;
        sigaction(SIGCONT, &sa, 0);
        signal(SIGTTIN, SIG_IGN);
        send_byte(q[1]);
        wait_byte(p[0]); /* handled SIGTSTP and ignored SIGTTIN come here */
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTTOU);
        sigprocmask(SIG_BLOCK, &s, 0);
        send_byte(q[1]);
        wait_byte(p[0]);                 /* SIGTTOU comes, blocked */
        sigprocmask(SIG_UNBLOCK, &s, 0); /* stops here */
        char c = (char)('0' + g_conts);
        sc(SYS_write, q[1], &c, 1);
        _exit(0);
    }
    wait_byte(q[0]);
    sc(SYS_kill, pid, SIGTSTP);
    sc(SYS_kill, pid, SIGTTIN);
    struct timespec d = { 0, 100 * 1000 * 1000 };
    nanosleep(&d, 0);
    check_ret(sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0), 0,
              "handled SIGTSTP, ignored SIGTTIN: no stop");
    send_byte(p[1]);
    wait_byte(q[0]);
    sc(SYS_kill, pid, SIGTTOU);
    nanosleep(&d, 0);
    check_ret(sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0), 0, "blocked SIGTTOU: no stop yet");
    send_byte(p[1]);
    check_eq(wait_raw(pid, &st, WUNTRACED), pid, "... it stops once unblocked");
    check(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTOU, "... %s", status_name(st));
    sc(SYS_kill, pid, SIGCONT);
    char c = 0;
    sc(SYS_read, q[0], &c, 1);
    check(c == '1', "SIGCONT's handler ran once (%c)", c);
    check_wait(pid, "exited 0", "the child");
    close_pipe(p);
    close_pipe(q);
}

int main(void)
{
    no_core();
    test_reports();
    test_dispositions();
    return finish();
}
