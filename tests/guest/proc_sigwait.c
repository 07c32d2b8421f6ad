/* proc_sigwait.c: a blocked signal taken with sigtimedwait, with si_pid,
 * si_uid and si_code SI_TKILL (tgkill) or SI_USER (kill); EAGAIN when none
 * is pending; standard signals pend once, real-time ones queue. */
#include "proc_util.h"

#include <time.h>

int main(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGTERM);
    sigaddset(&m, 40);
    sigprocmask(SIG_BLOCK, &m, 0);
    long me = getpid();
    sc(SYS_tgkill, me, me, SIGTERM);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    struct timespec zero = { 0, 0 };
    sigset_t t;
    sigemptyset(&t);
    sigaddset(&t, SIGTERM);
    check_ret(sc(SYS_rt_sigtimedwait, &t, &si, &zero, 8), SIGTERM, "sigtimedwait takes SIGTERM");
    check(si.si_signo == SIGTERM && si.si_code == SI_TKILL && si.si_pid == me &&
              si.si_uid == getuid(),
          "... si_code SI_TKILL, si_pid and si_uid the sender's");
    sc(SYS_kill, me, SIGTERM);
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_rt_sigtimedwait, &t, &si, &zero, 8), SIGTERM, "sigtimedwait, from kill");
    check(si.si_code == SI_USER && si.si_pid == me, "... si_code SI_USER");
    check_err(sc(SYS_rt_sigtimedwait, &t, &si, &zero, 8), EAGAIN, "sigtimedwait, none pending");
    /* Standard signals are not queued twice; real-time ones are. */
    sc(SYS_kill, me, SIGTERM);
    sc(SYS_kill, me, SIGTERM);
    sc(SYS_kill, me, 40);
    sc(SYS_kill, me, 40);
    sigemptyset(&t);
    sigaddset(&t, SIGTERM);
    sigaddset(&t, 40);
    int n_term = 0, n_rt = 0;
    long r;
    while ((r = sc(SYS_rt_sigtimedwait, &t, 0, &zero, 8)) > 0) {
        n_term += r == SIGTERM;
        n_rt += r == 40;
    }
    check(n_term == 1 && n_rt == 2, "SIGTERM twice pends once, real-time 40 twice twice (%d, %d)",
          n_term, n_rt);
    sigprocmask(SIG_UNBLOCK, &m, 0);
    return finish();
}
