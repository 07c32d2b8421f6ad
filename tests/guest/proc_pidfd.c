/* proc_pidfd.c: pidfd_open and pidfd_send_signal: a pidfd is
 * close-on-exec, polls readable once the process has exited (and, once it
 * is reaped, POLLHUP too), names its process in /proc/self/fdinfo (Pid:,
 * -1 once reaped), delivers signals and refuses forged siginfo, and the
 * argument errors (ESRCH, EINVAL, EBADF, ENOENT for a thread without
 * PIDFD_THREAD). */
#include "proc_util.h"

#include <poll.h>

static long pidfd_open(long pid, long flags)
{
    return sc(SYS_pidfd_open, pid, flags);
}

static long pidfd_send(long fd, long sig, void *info, long flags)
{
    return sc(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static const char *revents(int r)
{
    static char b[64];
    snprintf(b, sizeof b, "%s%s%s%s", r & POLLIN ? "POLLIN " : "", r & POLLHUP ? "POLLHUP " : "",
             r & POLLERR ? "POLLERR " : "", r & ~(POLLIN | POLLHUP | POLLERR) ? "other " : "");
    if (!r)
        snprintf(b, sizeof b, "none");
    return b;
}

/* The Pid: line of /proc/self/fdinfo/FD, or -2 if there is none. */
static long fdinfo_pid(int fd)
{
    char path[64], buf[1024] = { 0 };
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = (int)sc(SYS_open, path, O_RDONLY);
    if (f < 0)
        return -2;
    sc(SYS_read, f, buf, sizeof buf - 1);
    sc(SYS_close, f);
    char *p = strstr(buf, "Pid:");
    return p ? strtol(p + 4, 0, 10) : -2;
}

static int block(void *arg)
{
    (void)arg;
    for (;;)
        sc(SYS_pause);
    return 0;
}

int main(void)
{
    require_clone();
    no_core();
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        wait_byte(p[0]);
        _exit(4);
    }
    int fd = (int)pidfd_open(pid, 0);
    check(fd >= 0, "pidfd_open of a child");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "a pidfd is close-on-exec");
    check_eq(fdinfo_pid(fd), pid, "fdinfo Pid: is the child");
    char link[64];
    fd_link(fd, link, sizeof link);
    check(strcmp(link, "anon_inode:[pidfd]") == 0, "its /proc/self/fd link: %s", link);
    struct pollfd pf = { fd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &pf, 1, 0), 0, "poll: nothing while it runs");
    check_ret(pidfd_send(fd, 0, 0, 0), 0, "pidfd_send_signal signal 0");
    send_byte(p[1]);
    check_ret(sc(SYS_poll, &pf, 1, 5000), 1, "poll once it has exited");
    out("revents of an exited child: %s\n", revents(pf.revents));
    check_ret(pidfd_send(fd, SIGTERM, 0, 0), 0, "pidfd_send_signal to a zombie");
    check_wait(pid, "exited 4", "the child");
    pf.revents = 0;
    check_ret(sc(SYS_poll, &pf, 1, 0), 1, "poll once reaped");
    out("revents of a reaped child: %s\n", revents(pf.revents));
    check_err(pidfd_send(fd, SIGTERM, 0, 0), ESRCH, "pidfd_send_signal once reaped");
    check_eq(fdinfo_pid(fd), -1, "fdinfo Pid: -1 once reaped");
    sc(SYS_close, fd);

    /* Signals through a pidfd. */
    pid = fork();
    if (pid == 0) {
        wait_byte(p[0]);
        _exit(0);
    }
    fd = (int)pidfd_open(pid, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_USER;
    si.si_pid = getpid();
    check_err(pidfd_send(fd, SIGUSR1, &si, 0), EPERM,
              "forged siginfo (SI_USER) to another process");
    si.si_code = SI_QUEUE;
    si.si_signo = SIGUSR2;
    check_err(pidfd_send(fd, SIGUSR1, &si, 0), EINVAL, "siginfo whose si_signo differs");
    check_err(pidfd_send(fd, SIGTERM, 0, 8), EINVAL, "pidfd_send_signal unknown flag 8");
    check_err(pidfd_send(fd, SIGTERM, 0, 3), EINVAL,
              "pidfd_send_signal PIDFD_SIGNAL_THREAD|PIDFD_SIGNAL_THREAD_GROUP");
    check_err(pidfd_send(fd, 65, 0, 0), EINVAL, "pidfd_send_signal signal 65");
    check_err(pidfd_send(fd, SIGTERM, BADPTR, 0), EFAULT, "pidfd_send_signal bad siginfo");
    check_ret(pidfd_send(fd, SIGTERM, 0, 0), 0, "pidfd_send_signal SIGTERM");
    check_wait(pid, "killed by SIGTERM", "the signalled child");
    sc(SYS_close, fd);

    /* A pidfd of oneself: never readable while one runs. */
    fd = (int)pidfd_open(getpid(), 0);
    check(fd >= 0, "pidfd_open(getpid())");
    pf.fd = fd;
    pf.revents = 0;
    check_ret(sc(SYS_poll, &pf, 1, 0), 0, "poll on one's own pidfd");
    int nfd = (int)sc(SYS_open, "/dev/null", O_RDONLY);
    check_err(pidfd_send(nfd, SIGTERM, 0, 0), EBADF, "pidfd_send_signal on /dev/null");
    sc(SYS_close, nfd);
    check_err(pidfd_send(999, SIGTERM, 0, 0), EBADF, "pidfd_send_signal on a closed fd");
    /* flags is an unsigned int: the register's upper half is not looked at. */
    check_ret(pidfd_send(fd, 0, 0, (long)(1ULL << 32)), 0, "pidfd_send_signal flags 1<<32");
    check_err(pidfd_send(fd, 0, 0, (long)(1ULL << 32 | 8)), EINVAL,
              "pidfd_send_signal flags 1<<32|8");
    sc(SYS_close, fd);
    fd = (int)pidfd_open(getpid(), (long)(1ULL << 32));
    check(fd >= 0, "pidfd_open flags 1<<32 (the upper half is not looked at)");
    sc(SYS_close, fd);

    /* pidfd_open's errors. */
    check_err(pidfd_open(4194305, 0), ESRCH, "pidfd_open past pid_max");
    check_err(pidfd_open(0, 0), EINVAL, "pidfd_open(0)");
    check_err(pidfd_open(-1, 0), EINVAL, "pidfd_open(-1)");
    check_err(pidfd_open(getpid(), 1), EINVAL, "pidfd_open flags 1");
    static int ptid, ctid;
    long tid = clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, block, 0);
    check_err(pidfd_open(tid, 0), ENOENT, "pidfd_open of a thread that is not a leader");
    close_pipe(p);
    return finish();
}
