/* sig_signalfd.c: signalfd and signalfd4. The records of blocked signals
 * (kill, tgkill, sigqueue's value, SIGCHLD's status), several per read,
 * the real-time queue, O_NONBLOCK, poll and epoll readiness, a blocking
 * read woken by another process, a new mask on the same descriptor, the
 * descriptor's flags, fdinfo and link, and the errors. */
#include "proc_util.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#define SI_QUEUE_ (-1)

static long sfd(int fd, const sigset_t *m, int flags)
{
    return sc(SYS_signalfd4, fd, m, 8, flags);
}

static long rd(int fd, struct signalfd_siginfo *si, size_t n)
{
    memset(si, 0, n * sizeof(*si));
    return sc(SYS_read, fd, si, n * sizeof(*si));
}

static void test_errors(void)
{
    sigset_t m = sigset_of(SIGUSR1, 0);
    check_err(sc(SYS_signalfd4, -1, &m, 4, 0), EINVAL, "sizemask 4");
    check_err(sc(SYS_signalfd4, -1, &m, 16, 0), EINVAL, "sizemask 16");
    check_err(sc(SYS_signalfd4, -1, BADPTR, 8, 0), EFAULT, "bad mask");
    check_err(sc(SYS_signalfd4, -1, BADPTR, 4, 0), EINVAL, "bad size before bad mask");
    check_err(sc(SYS_signalfd4, -1, &m, 8, 1), EINVAL, "flag 1");
    check_err(sc(SYS_signalfd4, -1, BADPTR, 8, 1), EFAULT, "bad mask before bad flags");
    check_err(sc(SYS_signalfd4, 999, &m, 8, 0), EBADF, "fd 999");
    check_err(sc(SYS_signalfd4, -2, &m, 8, 0), EBADF, "fd -2");
    int p[2];
    pipe(p);
    check_err(sc(SYS_signalfd4, p[0], &m, 8, 0), EINVAL, "a pipe");
    close_pipe(p);
    check_err(sc(SYS_signalfd, -1, &m, 4), EINVAL, "signalfd sizemask 4");
    long fd = sc(SYS_signalfd, -1, &m, 8);
    check(fd >= 0, "signalfd (no flags)");
    char b[200];
    check_err(sc(SYS_read, fd, b, 127), EINVAL, "read of 127 bytes");
    check_err(sc(SYS_read, fd, b, 0), EINVAL, "read of 0 bytes");
    check_err(sc(SYS_write, fd, b, 128), EINVAL, "write");
    check_err(sc(SYS_pread64, fd, b, 128, 0), ESPIPE, "pread");
    check_ret(sc(SYS_lseek, fd, 10, SEEK_SET), 0, "lseek: position 0");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL O_RDWR");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), 0, "not close-on-exec");
    close((int)fd);
    fd = sfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "SFD_NONBLOCK");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "SFD_CLOEXEC");
    check_err(sc(SYS_read, fd, b, 128), EAGAIN, "nothing pending: EAGAIN");
    /* What the descriptor says of itself. */
    char path[64], link[64] = "";
    long n = fd_link((int)fd, link, sizeof link);
    check(n > 0 && strcmp(link, "anon_inode:[signalfd]") == 0, "link %s", link);
    struct stat st;
    fstat((int)fd, &st);
    check((st.st_mode & S_IFMT) == 0 && (st.st_mode & 07777) == 0600, "fstat: anonymous inode");
    snprintf(path, sizeof path, "/proc/self/fdinfo/%ld", fd);
    FILE *f = fopen(path, "r");
    char line[128];
    int seen = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "sigmask:", 8) == 0)
            seen = 1, out("fdinfo %s", line);
    if (f)
        fclose(f);
    check(seen, "fdinfo has the mask");
    close((int)fd);
}

static void test_read(void)
{
    sigset_t m = sigset_of(SIGUSR1, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &m, 0);
    long me = getpid();
    int fd = (int)sfd(-1, &m, SFD_NONBLOCK);
    struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
    check_ret(sc(SYS_poll, &p, 1, 0), 0, "poll: nothing pending");
    sc(SYS_kill, me, SIGUSR1);
    check_ret(sc(SYS_poll, &p, 1, 0), 1, "poll: readable after kill");
    check(p.revents == POLLIN, "... POLLIN only (%#x)", p.revents);
    struct signalfd_siginfo si[3];
    check_ret(rd(fd, si, 3), 128, "read: one record");
    check(si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_USER && si[0].ssi_pid == me &&
              si[0].ssi_uid == getuid(),
          "... SIGUSR1, SI_USER, the sender's pid and uid");
    check_ret(sc(SYS_rt_sigpending, &m, 8), 0, "rt_sigpending");
    check(!sigismember(&m, SIGUSR1), "... no longer pending");
    /* Several per read, the real-time queue in order with values. */
    siginfo_t q;
    for (int i = 1; i <= 3; i++) {
        memset(&q, 0, sizeof q);
        q.si_code = SI_QUEUE_;
        q.si_value.sival_int = i * 10;
        sc(SYS_rt_sigqueueinfo, me, SIGRTMIN + 2, &q);
    }
    sc(SYS_tgkill, me, sc(SYS_gettid), SIGUSR1);
    check_ret(rd(fd, si, 3), 3 * 128, "read of three records");
    check(si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL, "first the standard signal");
    check(si[1].ssi_signo == (unsigned)SIGRTMIN + 2 && si[1].ssi_code == SI_QUEUE_ &&
              si[1].ssi_int == 10 && si[2].ssi_int == 20,
          "then the real-time ones in order, with their values");
    check_ret(rd(fd, si, 3), 128, "the last one");
    check(si[0].ssi_int == 30 && si[0].ssi_ptr == 30, "... ssi_int and ssi_ptr 30");
    check_err(rd(fd, si, 1), EAGAIN, "then EAGAIN");
    /* Only the signals of the mask. */
    sigset_t two = sigset_of(SIGUSR2, 0);
    sigprocmask(SIG_BLOCK, &two, 0);
    sc(SYS_kill, me, SIGUSR2);
    check_err(rd(fd, si, 1), EAGAIN, "SIGUSR2 is not in the mask");
    /* A new mask on the same descriptor. */
    check_ret(sfd(fd, &two, 0), fd, "signalfd4 on itself: the same fd");
    check_ret(rd(fd, si, 1), 128, "now SIGUSR2 is read");
    check(si[0].ssi_signo == SIGUSR2, "... SIGUSR2");
    /* epoll readiness. */
    int ep = epoll_create1(0);
    struct epoll_event ev = { EPOLLIN, { .u32 = 7 } }, out_ev;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    check_ret(sc(SYS_epoll_wait, ep, &out_ev, 1, 0), 0, "epoll: nothing yet");
    sc(SYS_kill, me, SIGUSR2);
    check_ret(sc(SYS_epoll_wait, ep, &out_ev, 1, 1000), 1, "epoll: ready after kill");
    rd(fd, si, 1);
    check_ret(sc(SYS_epoll_wait, ep, &out_ev, 1, 0), 0, "epoll: not after the read");
    close(ep);
    close(fd);
    sigprocmask(SIG_UNBLOCK, &two, 0);
    sigprocmask(SIG_UNBLOCK, &m, 0);
}

static void test_block(void)
{
    sigset_t m = sigset_of(SIGUSR1, SIGCHLD);
    sigprocmask(SIG_BLOCK, &m, 0);
    int fd = (int)sfd(-1, &m, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        wait_byte(p[0]);
        kill(getppid(), SIGUSR1);
        _exit(7);
    }
    send_byte(p[1]);
    struct signalfd_siginfo si[2];
    int got_usr1 = 0, got_chld = 0;
    for (int i = 0; i < 2 && !(got_usr1 && got_chld); i++) {
        long n = rd(fd, si, 1);
        if (n != 128)
            break;
        if (si[0].ssi_signo == SIGUSR1)
            got_usr1 = si[0].ssi_pid == (unsigned)pid && si[0].ssi_code == SI_USER;
        if (si[0].ssi_signo == SIGCHLD)
            got_chld = si[0].ssi_pid == (unsigned)pid && si[0].ssi_code == CLD_EXITED &&
                       si[0].ssi_status == 7;
    }
    check(got_usr1, "a blocking read woken by the child's kill");
    check(got_chld, "SIGCHLD read: CLD_EXITED, status 7, the child's pid");
    check_wait(pid, "exited 7", "the child");
    close_pipe(p);
    close(fd);
    sigprocmask(SIG_UNBLOCK, &m, 0);
}

int main(void)
{
    test_errors();
    test_read();
    test_block();
    return finish();
}
