/* proc_pgrp.c: process groups and sessions with Linux's errors: setsid,
 * getsid, setpgid, getpgid, getpgrp, and /proc/PID/stat's pgrp and
 * session fields. The checks run in a child that first makes a session
 * of its own, so that nothing depends on where the test was started (the
 * harness's group natively, the sandbox's first process otherwise). The
 * program is also its own exec'd child ("execd"): setpgid on a child that
 * has called execve is EACCES. */
#include "proc_util.h"

extern char **environ;

/* A child that waits on fd, then exits 0. */
static pid_t idle_child(int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        wait_byte(fd);
        _exit(0);
    }
    return pid;
}

static void in_session(const char *self)
{
    long me = getpid();
    long pp = getppid();
    check(getpgrp() == sc(SYS_getpgid, 0), "getpgrp() == getpgid(0)");
    check(sc(SYS_getpgid, me) == sc(SYS_getpgid, 0), "getpgid(self) == getpgid(0)");
    check(sc(SYS_getpgid, 0) != me, "a new child leads no group");
    check_eq(sc(SYS_setsid), me, "setsid returns the new session id, the pid");
    check_eq(sc(SYS_getsid, 0), me, "getsid(0) is the pid");
    check_eq(sc(SYS_getsid, me), me, "getsid(self) is the pid");
    check_eq(sc(SYS_getpgid, 0), me, "getpgid(0) is the pid");
    check_err(sc(SYS_setsid), EPERM, "setsid as a group leader");
    check_err(sc(SYS_setpgid, 0, 0), EPERM, "setpgid of a session leader");
    char st;
    check_eq(proc_stat_field(me, 5, &st), me, "/proc/self/stat pgrp");
    check_eq(proc_stat_field(me, 6, &st), me, "/proc/self/stat session");
    check(sc(SYS_getsid, pp) != me, "the parent is in another session");

    int p[2];
    pipe(p);
    /* A child inherits both; it may make a group of its own and come
     * back, or be moved by its parent. */
    pid_t c = idle_child(p[0]);
    check_eq(sc(SYS_getpgid, c), me, "a child is in its parent's group");
    check_eq(sc(SYS_getsid, c), me, "... and session");
    check_ret(sc(SYS_setpgid, c, c), 0, "setpgid(child, child): a group of its own");
    check_eq(sc(SYS_getpgid, c), c, "getpgid(child) is the child");
    check_eq(proc_stat_field(c, 5, &st), c, "/proc/CHILD/stat pgrp");
    check_ret(sc(SYS_setpgid, c, me), 0, "setpgid(child, parent's group): back");
    check_eq(sc(SYS_getpgid, c), me, "getpgid(child) is the parent's group again");
    check_ret(sc(SYS_setpgid, c, 0), 0, "setpgid(child, 0) is setpgid(child, child)");
    check_eq(sc(SYS_getpgid, c), c, "getpgid(child) is the child");
    pid_t d = idle_child(p[0]);
    check_ret(sc(SYS_setpgid, d, c), 0, "a second child joins the first one's group");
    check_err(sc(SYS_setpgid, d, 4194000), EPERM, "setpgid to a group that does not exist");
    check_err(sc(SYS_setpgid, d, -1), EINVAL, "setpgid to a negative group");
    check_err(sc(SYS_setpgid, -1, 0), EINVAL, "setpgid(-1, 0): the group -1 is checked");
    check_err(sc(SYS_setpgid, -1, c), ESRCH, "setpgid of pid -1");
    check_err(sc(SYS_setpgid, 4194305, 0), ESRCH, "setpgid of a pid that does not exist");
    check_err(sc(SYS_setpgid, pp, 0), ESRCH, "setpgid of the parent (not a child)");
    check_err(sc(SYS_getpgid, 4194305), ESRCH, "getpgid of a pid that does not exist");
    check_err(sc(SYS_getsid, 4194305), ESRCH, "getsid of a pid that does not exist");
    check_err(sc(SYS_getpgid, -1), ESRCH, "getpgid(-1)");
    /* Linux answers getsid for a process in another session. Natively
     * that session may be 0: a harness started by an init that never
     * called setsid, or whose session leader lies outside this pid
     * namespace, has none of its own. */
    check(sc(SYS_getsid, pp) >= 0, "getsid of a process in another session succeeds");
    /* wait4(0) and wait4(-pgid): by group. */
    int status;
    check_ret(sc(SYS_wait4, 0, &status, WNOHANG, 0), -ECHILD, "wait4(0): no child in my group");
    check_ret(sc(SYS_wait4, -c, &status, WNOHANG, 0), 0, "wait4(-group): two running");
    send_byte(p[1]);
    send_byte(p[1]);
    close(p[1]);
    close(p[0]);
    long w1 = wait_raw(-c, &status, 0), w2 = wait_raw(-c, &status, 0);
    check((w1 == c && w2 == d) || (w1 == d && w2 == c), "wait4(-group) twice: both members");
    check_err(sc(SYS_wait4, -c, &status, 0, 0), ECHILD, "wait4(-group) reaped the group");

    /* A child in a session of its own cannot be moved. */
    int q[2], r[2];
    two_pipes(q, r);
    pid_t e = fork();
    if (e == 0) {
        sc(SYS_setsid);
        send_byte(r[1]);
        wait_byte(q[0]);
        _exit(0);
    }
    wait_byte(r[0]);
    check_err(sc(SYS_setpgid, e, e), EPERM, "setpgid of a child that leads a session");
    check_err(sc(SYS_setpgid, e, me), EPERM, "setpgid of a child in another session");
    check_eq(sc(SYS_getsid, e), e, "getsid(child) is its own session");
    send_byte(q[1]);
    check_wait(e, "exited 0", "the session-leading child");
    /* A child that joins a group in another session: EPERM. */
    pid_t f = idle_child(q[0]);
    check_err(sc(SYS_setpgid, f, 1), EPERM, "setpgid into group 1, not in this session");
    send_byte(q[1]);
    check_wait(f, "exited 0", "its child");

    /* After execve, the child can no longer be moved by its parent. */
    f = fork();
    if (f == 0) {
        char *args[] = { (char *)self, "execd", NULL };
        sc(SYS_dup2, r[1], 1);
        sc(SYS_dup2, q[0], 0);
        sc(SYS_execve, self, args, environ);
        _exit(127);
    }
    wait_byte(r[0]); /* the new image is running */
    check_err(sc(SYS_setpgid, f, f), EACCES, "setpgid of a child after its execve");
    send_byte(q[1]);
    check_wait(f, "exited 0", "the exec'd child");
    close_pipe(q);
    close_pipe(r);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "execd") == 0) {
        send_byte(1);
        wait_byte(0);
        return 0;
    }
    pid_t pid = fork_checked();
    if (pid == 0) {
        in_session(argv[0]);
        child_done();
    }
    check_wait(pid, "exited 0", "the checks in a session of their own");
    return finish();
}
