/* proc_stop.c: the stop and continue default actions, seen by WUNTRACED
 * and WCONTINUED: SIGSTOP stops a child, the stop is reported once,
 * SIGCONT continues it, SIGKILL kills a stopped child, and SIGTERM to a
 * stopped child waits for SIGCONT. */
#include "proc_util.h"

#include <sys/prctl.h>
#include <time.h>

/* A child blocked on a pipe read until killed or released. */
static void test_stop(void)
{
    int p[2];
    pipe(p);
    /* Stop and continue, seen by WUNTRACED and WCONTINUED. */
    pid_t pid = fork_sleeper(p[0]);
    int st;
    sc(SYS_kill, pid, SIGSTOP);
    check_eq(wait_raw(pid, &st, WUNTRACED), pid, "WUNTRACED after SIGSTOP");
    check(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "%s", status_name(st));
    check_ret(sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0), 0, "the stop is reported once");
    sc(SYS_kill, pid, SIGCONT);
    check_eq(wait_raw(pid, &st, WCONTINUED), pid, "WCONTINUED after SIGCONT");
    check(WIFCONTINUED(st), "%s", status_name(st));
    sc(SYS_kill, pid, SIGSTOP);
    wait_raw(pid, &st, WUNTRACED);
    /* A stopped process still dies of SIGKILL. */
    sc(SYS_kill, pid, SIGKILL);
    check_wait(pid, "killed by SIGKILL", "SIGKILL to a stopped child");
    /* SIGTERM to a stopped child stays pending until SIGCONT. */
    pid = fork_sleeper(p[0]);
    sc(SYS_kill, pid, SIGSTOP);
    wait_raw(pid, &st, WUNTRACED);
    sc(SYS_kill, pid, SIGTERM);
    check_ret(sc(SYS_wait4, pid, &st, WNOHANG, 0), 0, "SIGTERM to a stopped child: still there");
    sc(SYS_kill, pid, SIGCONT);
    check_wait(pid, "killed by SIGTERM", "... dies of it once continued");
    close_pipe(p);
}

int main(void)
{
    no_core();
    test_stop();
    return finish();
}
