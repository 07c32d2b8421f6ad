/* sig_orphan.c: orphaned process groups. A group that an exit leaves
 * orphaned while a member is stopped gets SIGHUP then SIGCONT; in an
 * orphaned group SIGTSTP (the terminal's stop) is dropped while SIGSTOP
 * still stops. */
#include "proc_util.h"

static int g_w;
static void on_hup(int sig)
{
    (void)sig;
    sc(SYS_write, g_w, "H", 1);
}
static void on_cont(int sig)
{
    (void)sig;
    sc(SYS_write, g_w, "C", 1);
}

static void test_orphaned_by_exit(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        setsid();
        pid_t m = fork();
        if (m == 0) {
            setpgid(0, 0);
            pid_t g = fork();
            if (g == 0) {
                g_w = p[1];
                signal(SIGHUP, on_hup);
                signal(SIGCONT, on_cont);
                raise(SIGSTOP);
                sc(SYS_write, p[1], "E", 1);
                _exit(0);
            }
            int st;
            wait_raw(g, &st, WUNTRACED); /* G is stopped: now leave it */
            _exit(WIFSTOPPED(st) ? 0 : 1);
        }
        int st;
        wait_raw(m, &st, 0);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
    }
    close(p[1]);
    check_wait(c, "exited 0", "a group with a stopped member left orphaned");
    char buf[8] = "";
    int n = 0;
    while (n < 3 && sc(SYS_read, p[0], buf + n, 1) == 1)
        n++;
    /* Both pend when it goes on: each gets its frame at once, SIGHUP's
     * first, so SIGCONT's handler runs first and returns into SIGHUP's. */
    check(strcmp(buf, "CHE") == 0, "... its member got SIGHUP and SIGCONT and went on (%s)", buf);
    close(p[0]);
}

static void test_orphaned_stops(void)
{
    int st;
    pid_t c = fork();
    if (c == 0) {
        setsid(); /* a new session: its only group is orphaned */
        raise(SIGTSTP);
        raise(SIGTTIN);
        raise(SIGTTOU);
        _exit(0);
    }
    long r = wait_raw(c, &st, WUNTRACED);
    check(r == c && WIFEXITED(st), "SIGTSTP, SIGTTIN, SIGTTOU in an orphaned group: no stop (%s)",
          status_name(st));
    if (WIFSTOPPED(st)) {
        kill(c, SIGKILL);
        wait_raw(c, &st, 0);
    }
    c = fork();
    if (c == 0) {
        setsid();
        raise(SIGSTOP);
        _exit(0);
    }
    wait_raw(c, &st, WUNTRACED);
    check(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "SIGSTOP still stops it (%s)",
          status_name(st));
    kill(c, SIGCONT);
    check_wait(c, "exited 0", "... and goes on with SIGCONT");
}

int main(void)
{
    no_core();
    test_orphaned_by_exit();
    test_orphaned_stops();
    return finish();
}
