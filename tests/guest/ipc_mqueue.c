/* ipc_mqueue.c: POSIX message queues through their system calls:
 * mq_open's names, flags and attributes, mq_unlink, priorities,
 * mq_timedsend and mq_timedreceive (O_NONBLOCK, absolute CLOCK_REALTIME
 * timeouts, ETIMEDOUT, EMSGSIZE), mq_getsetattr, mq_notify with
 * SIGEV_NONE and SIGEV_SIGNAL, the descriptor as a file (fstat,
 * close-on-exec, read, poll, epoll, fork), permissions, bad pointers, and
 * senders and receivers woken by another process. Names are this run's
 * own and removed at the end. */
#include "ipc_util.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>

static char qname[3][64];

static long snd(long fd, const char *text, unsigned prio)
{
    return sc(SYS_mq_timedsend, fd, text, strlen(text), prio, 0);
}

static long rcv(long fd, char *buf, size_t len, unsigned *prio)
{
    memset(buf, 0, len);
    return sc(SYS_mq_timedreceive, fd, buf, len, prio, 0);
}

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    if (ms < 0)
        ts->tv_sec += ms / 1000 - 1;
    else
        add_ms(ts, ms);
}

static void test_open(void)
{
    const char *n = qname[0];
    check_err(mq_open_(n, O_RDWR, 0600, 0), ENOENT, "mq_open of a missing queue");
    long fd = mq_open_(n, O_RDWR | O_CREAT | O_EXCL, 0666, 0);
    check(fd >= 0, "mq_open(O_CREAT|O_EXCL)");
    struct k_mq_attr a = getattr(fd);
    check(a.maxmsg == 10 && a.msgsize == 8192 && a.curmsgs == 0 && a.flags == 0,
          "default attributes: maxmsg %ld msgsize %ld curmsgs %ld flags %ld", a.maxmsg, a.msgsize,
          a.curmsgs, a.flags);
    struct stat st;
    long fr = fstat((int)fd, &st);
    check(fr == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 && st.st_uid == geteuid(),
          "fstat: a regular file, mode %o (umask applied), owned by the caller",
          st.st_mode & 07777);
    check(fcntl((int)fd, F_GETFD) == FD_CLOEXEC, "the descriptor is close-on-exec");
    check_err(mq_open_(n, O_RDWR | O_CREAT | O_EXCL, 0600, 0), EEXIST,
              "mq_open(O_CREAT|O_EXCL) of an existing queue");
    long fd2 = mq_open_(n, O_RDONLY | O_CREAT, 0600, 0);
    check(fd2 >= 0 && fd2 != fd, "mq_open(O_CREAT) of an existing queue opens it");
    check_err(mq_open_(n, O_ACCMODE, 0, 0), EINVAL, "mq_open with access mode 3");
    check_err(mq_open_("a/b", O_RDWR | O_CREAT, 0600, 0), EACCES, "a name with a slash");
    check_err(mq_open_("/lead", O_RDWR | O_CREAT, 0600, 0), EACCES,
              "a leading slash (libc strips it)");
    check_err(mq_open_(".", O_RDWR | O_CREAT, 0600, 0), EACCES, "the name .");
    check_err(mq_open_("..", O_RDWR | O_CREAT, 0600, 0), EACCES, "the name ..");
    check_err(mq_open_("", O_RDWR | O_CREAT, 0600, 0), ENOENT, "an empty name");
    char longname[300];
    memset(longname, 'q', sizeof longname);
    longname[256] = 0;
    check_err(mq_open_(longname, O_RDWR | O_CREAT, 0600, 0), ENAMETOOLONG, "a name of 256 bytes");
    check_err(mq_open_(BADPTR, O_RDWR | O_CREAT, 0600, 0), EFAULT, "a bad name pointer");
    check_err(mq_open_(qname[1], O_RDWR | O_CREAT, 0600, BADPTR), EFAULT, "a bad attr pointer");
    struct k_mq_attr at = { 0, 0, 64, 0, { 0 } };
    check_err(mq_open_(qname[1], O_RDWR | O_CREAT, 0600, &at), EINVAL, "maxmsg 0");
    at.maxmsg = 4;
    at.msgsize = 0;
    check_err(mq_open_(qname[1], O_RDWR | O_CREAT, 0600, &at), EINVAL, "msgsize 0");
    at.maxmsg = 100000;
    at.msgsize = 64;
    check_err(mq_open_(qname[1], O_RDWR | O_CREAT, 0600, &at), EINVAL, "maxmsg 100000");
    at.maxmsg = 4;
    at.msgsize = 32 * 1024 * 1024;
    check_err(mq_open_(qname[1], O_RDWR | O_CREAT, 0600, &at), EINVAL, "msgsize 32 MiB");
    check_err(sc(SYS_mq_unlink, qname[1]), ENOENT, "none of those made a queue");
    check_err(sc(SYS_mq_getsetattr, 0, 0, &a), EBADF, "mq_getsetattr of a descriptor not a queue");
    check_err(sc(SYS_mq_getsetattr, 999, 0, &a), EBADF, "mq_getsetattr of a closed descriptor");
    struct k_mq_attr nb = { O_NONBLOCK, 0, 0, 0, { 0 } };
    check_ret(sc(SYS_mq_getsetattr, fd, &nb, &a), 0, "mq_getsetattr sets O_NONBLOCK");
    check(a.flags == 0, "the old flags come back");
    check(getattr(fd).flags == O_NONBLOCK && (fcntl((int)fd, F_GETFL) & O_NONBLOCK),
          "the descriptor is non-blocking now");
    nb.flags = O_NONBLOCK | O_APPEND;
    check_err(sc(SYS_mq_getsetattr, fd, &nb, 0), EINVAL, "mq_getsetattr with other flags");
    check_err(sc(SYS_mq_getsetattr, fd, BADPTR, 0), EFAULT, "mq_getsetattr from a bad pointer");
    check_err(sc(SYS_mq_getsetattr, fd, 0, BADPTR), EFAULT, "mq_getsetattr to a bad pointer");

    check_ret(sc(SYS_mq_unlink, n), 0, "mq_unlink");
    check_err(sc(SYS_mq_unlink, n), ENOENT, "mq_unlink again");
    check_err(sc(SYS_mq_unlink, "a/b"), EACCES, "mq_unlink of a name with a slash");
    check_ret(snd(fd, "still", 0), 0, "an unlinked queue still works through its descriptor");
    char buf[8192];
    check_ret(rcv(fd2, buf, sizeof buf, 0), 5, "and the other descriptor receives");
    fr = fstat((int)fd, &st);
    check(fr == 0 && st.st_nlink == 0, "fstat: no link once unlinked");
    long fd3 = mq_open_(n, O_RDWR | O_CREAT | O_EXCL, 0600, 0);
    check(fd3 >= 0, "the name can be made anew");
    check(getattr(fd3).curmsgs == 0, "a new queue under the old name");
    close((int)fd);
    close((int)fd2);
    close((int)fd3);
    sc(SYS_mq_unlink, n);
}

static void test_msgs(void)
{
    struct k_mq_attr at = { 0, 3, 16, 0, { 0 } };
    long fd = mq_open_(qname[0], O_RDWR | O_CREAT | O_NONBLOCK, 0600, &at);
    struct k_mq_attr a = getattr(fd);
    check(fd >= 0 && a.maxmsg == 3 && a.msgsize == 16 && a.flags == O_NONBLOCK,
          "mq_open with attributes: maxmsg %ld msgsize %ld", a.maxmsg, a.msgsize);
    char buf[64];
    unsigned prio = 99;
    check_err(rcv(fd, buf, 16, &prio), EAGAIN, "receive from an empty non-blocking queue");
    struct pollfd pf = { (int)fd, POLLIN | POLLOUT, 0 };
    poll(&pf, 1, 0);
    check(pf.revents == POLLOUT, "poll: empty, writable (revents %#x)", pf.revents);
    check_ret(snd(fd, "low", 1), 0, "send at priority 1");
    check_ret(snd(fd, "high", 5), 0, "send at priority 5");
    check_ret(snd(fd, "high2", 5), 0, "another at priority 5");
    check_err(snd(fd, "full", 0), EAGAIN, "send to a full non-blocking queue");
    poll(&pf, 1, 0);
    check(pf.revents == POLLIN, "poll: full, readable (revents %#x)", pf.revents);
    check(getattr(fd).curmsgs == 3, "curmsgs 3");
    char line[128] = { 0 };
    long n = read((int)fd, line, sizeof line - 1);
    check(n > 0, "read of the queue's status line");
    out("status: %s", line);
    check_err(sc(SYS_mq_timedsend, fd, "x", 17, 0, 0), EMSGSIZE, "send of more than msgsize");
    check_err(sc(SYS_mq_timedsend, fd, "x", 1, 32768, 0), EINVAL, "send at priority 32768");
    check_err(sc(SYS_mq_timedreceive, fd, buf, 15, 0, 0), EMSGSIZE,
              "receive into less than msgsize");
    check_ret(rcv(fd, buf, 16, &prio), 4, "the highest priority first");
    check(strcmp(buf, "high") == 0 && prio == 5, "\"%s\" at %u", buf, prio);
    check_ret(rcv(fd, buf, 16, &prio), 5, "then the next one of it");
    check(strcmp(buf, "high2") == 0 && prio == 5, "\"%s\" at %u", buf, prio);
    check_ret(snd(fd, "zero", 0), 0, "send at priority 0");
    check_ret(rcv(fd, buf, 16, &prio), 3, "then priority 1");
    check(strcmp(buf, "low") == 0 && prio == 1, "\"%s\" at %u", buf, prio);
    check_ret(rcv(fd, buf, 16, 0), 4, "then priority 0, without asking for it");
    check_err(sc(SYS_mq_timedsend, fd, BADPTR, 4, 0, 0), EFAULT, "send from a bad pointer");
    snd(fd, "lost", 0);
    check_err(sc(SYS_mq_timedreceive, fd, BADPTR, 16, 0, 0), EFAULT, "receive into a bad pointer");
    check_err(sc(SYS_mq_timedsend, 0, "x", 1, 0, 0), EBADF, "send to a descriptor not a queue");

    /* Timeouts: absolute, on CLOCK_REALTIME. */
    struct k_mq_attr blk = { 0, 0, 0, 0, { 0 } };
    sc(SYS_mq_getsetattr, fd, &blk, 0);
    struct timespec ts;
    deadline_in(&ts, -1000);
    check_err(sc(SYS_mq_timedreceive, fd, buf, 16, 0, &ts), ETIMEDOUT,
              "receive from an empty queue, deadline past");
    deadline_in(&ts, 50);
    check_err(sc(SYS_mq_timedreceive, fd, buf, 16, 0, &ts), ETIMEDOUT,
              "receive from an empty queue, deadline 50 ms ahead");
    struct timespec badts = { 0, 1000000000L };
    check_err(sc(SYS_mq_timedreceive, fd, buf, 16, 0, &badts), EINVAL,
              "a timeout with tv_nsec 1e9");
    check_err(sc(SYS_mq_timedreceive, fd, buf, 16, 0, BADPTR), EFAULT, "a bad timeout pointer");
    snd(fd, "a", 0);
    deadline_in(&ts, -1000);
    check_ret(sc(SYS_mq_timedreceive, fd, buf, 16, 0, &ts), 1,
              "a deadline past does not matter when a message is there");
    snd(fd, "1", 0);
    snd(fd, "2", 0);
    snd(fd, "3", 0);
    deadline_in(&ts, 30);
    check_err(sc(SYS_mq_timedsend, fd, "4", 1, 0, &ts), ETIMEDOUT,
              "send to a full queue times out");

    /* Access modes. */
    long ro = mq_open_(qname[0], O_RDONLY, 0, 0), wo = mq_open_(qname[0], O_WRONLY, 0, 0);
    check_err(snd(ro, "x", 0), EBADF, "send on a read-only descriptor");
    check_err(rcv(wo, buf, 16, 0), EBADF, "receive on a write-only descriptor");
    close((int)ro);
    close((int)wo);
    close((int)fd);
    sc(SYS_mq_unlink, qname[0]);
}

static void test_blocking(void)
{
    struct k_mq_attr at = { 0, 2, 32, 0, { 0 } };
    long fd = mq_open_(qname[0], O_RDWR | O_CREAT, 0600, &at);
    char buf[64];
    unsigned prio = 0;
    pid_t c = fork_checked();
    if (c == 0) {
        long r = rcv(fd, buf, 32, &prio);
        check(r == 5 && strcmp(buf, "hello") == 0 && prio == 3,
              "child: a blocked receive gets the parent's message");
        child_done();
    }
    ms_sleep(100);
    snd(fd, "hello", 3);
    check_wait(c, "exited 0", "receiver woken");

    snd(fd, "a", 0);
    snd(fd, "b", 0);
    c = fork_checked();
    if (c == 0) {
        struct timespec ts;
        deadline_in(&ts, 60000);
        check_ret(sc(SYS_mq_timedsend, fd, "c", 1, 0, &ts), 0, "child: a blocked send goes on");
        child_done();
    }
    ms_sleep(100);
    long r = rcv(fd, buf, 32, 0);
    check_wait(c, "exited 0", "sender woken");
    check(r == 1 && buf[0] == 'a', "the parent received the first");
    rcv(fd, buf, 32, 0);
    check_ret(rcv(fd, buf, 32, 0), 1, "then the child's");

    /* epoll wakes on a message from another process. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { EPOLLIN, { .u64 = 7 } };
    check_ret(epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev), 0, "epoll_ctl(ADD) of a queue");
    c = fork();
    if (c == 0) {
        ms_sleep(100);
        snd(fd, "poll", 1);
        _exit(0);
    }
    struct epoll_event got = { 0, { 0 } };
    r = epoll_wait(ep, &got, 1, 30000);
    check(r == 1 && got.events == EPOLLIN && got.data.u64 == 7, "epoll_wait: readable");
    check_wait(c, "exited 0", "sender child");
    close(ep);
    close((int)fd);
    sc(SYS_mq_unlink, qname[0]);
}

static volatile int sig_got, sig_code, sig_val, sig_pid;
static void *volatile sig_ptr;
static void on_sig(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    sig_got = s;
    sig_code = si->si_code;
    sig_val = si->si_value.sival_int;
    sig_ptr = si->si_value.sival_ptr;
    sig_pid = si->si_pid;
}

static void test_notify(void)
{
    long fd = mq_open_(qname[0], O_RDWR | O_CREAT, 0600, 0);
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    struct k_sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.notify = SIGEV_SIGNAL_;
    sev.signo = SIGUSR1;
    sev.value.i = 42;
    check_ret(sc(SYS_mq_notify, fd, &sev), 0, "mq_notify(SIGEV_SIGNAL)");
    char line[128] = { 0 };
    pread((int)fd, line, 0, 0);
    lseek((int)fd, 0, SEEK_SET);
    read((int)fd, line, sizeof line - 1);
    int kind = -1, signo = -1, pid = -1;
    char *p = strstr(line, "NOTIFY:");
    if (p)
        sscanf(p, "NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &kind, &signo, &pid);
    check(kind == 0 && signo == SIGUSR1 && pid == getpid(),
          "the status line shows the registration");
    check_err(sc(SYS_mq_notify, fd, &sev), EBUSY, "a second registration");
    snd(fd, "x", 0);
    check(sig_got == SIGUSR1 && sig_code == SI_MESGQ_ && sig_val == 42 && sig_pid == getpid(),
          "the signal came with SI_MESGQ, the value and the sender");
    sig_got = 0;
    snd(fd, "y", 0);
    check(sig_got == 0, "only once: the registration is gone");
    check_ret(sc(SYS_mq_notify, fd, &sev), 0, "register again");
    snd(fd, "z", 0);
    check(sig_got == 0, "no signal when the queue was not empty");
    char buf[8192];
    struct timespec zero = { 0, 0 };
    while (sc(SYS_mq_timedreceive, fd, buf, sizeof buf, 0, &zero) >= 0)
        ;
    check_ret(sc(SYS_mq_notify, fd, 0), 0, "mq_notify(NULL) unregisters");
    snd(fd, "w", 0);
    check(sig_got == 0, "no signal after unregistering");
    rcv(fd, buf, sizeof buf, 0);
    sev.value.p = (void *)0x1234567800000042UL;
    sc(SYS_mq_notify, fd, &sev);
    snd(fd, "p", 0);
    check(sig_got == SIGUSR1 && sig_ptr == (void *)0x1234567800000042UL,
          "the whole sigev_value arrives as si_value");
    rcv(fd, buf, sizeof buf, 0);
    sev.value.i = 42;

    /* Another process's registration; it goes with its death. */
    int pp[2], back[2];
    two_pipes(pp, back);
    pid_t c = fork();
    if (c == 0) {
        struct k_sigevent none;
        memset(&none, 0, sizeof none);
        none.notify = SIGEV_NONE_;
        long r = sc(SYS_mq_notify, fd, &none);
        send_byte(back[1]);
        wait_byte(pp[0]);
        _exit(r == 0 ? 0 : 1);
    }
    wait_byte(back[0]);
    check_err(sc(SYS_mq_notify, fd, &sev), EBUSY, "registered by another process: EBUSY");
    check_ret(sc(SYS_mq_notify, fd, 0), 0, "mq_notify(NULL) of another's registration is a no-op");
    check_err(sc(SYS_mq_notify, fd, &sev), EBUSY, "still registered");
    send_byte(pp[1]);
    check_wait(c, "exited 0", "the child with SIGEV_NONE");
    close_pipe(pp);
    close_pipe(back);
    check_ret(sc(SYS_mq_notify, fd, &sev), 0, "its registration went with it");
    sc(SYS_mq_notify, fd, 0);

    sev.notify = 99;
    check_err(sc(SYS_mq_notify, fd, &sev), EINVAL, "an unknown sigev_notify");
    sev.notify = SIGEV_SIGNAL_;
    sev.signo = 65;
    check_err(sc(SYS_mq_notify, fd, &sev), EINVAL, "signal 65");
    check_err(sc(SYS_mq_notify, fd, BADPTR), EFAULT, "a bad sigevent pointer");
    sev.signo = SIGUSR1;
    check_err(sc(SYS_mq_notify, 0, &sev), EBADF, "mq_notify of a descriptor not a queue");
    close((int)fd);
    sc(SYS_mq_unlink, qname[0]);
}

static void test_perms(void)
{
    long fd = mq_open_(qname[2], O_RDWR | O_CREAT | O_EXCL, 0, 0);
    check(fd >= 0, "mq_open(O_CREAT) with mode 0 opens it for its creator");
    int root = geteuid() == 0;
    pid_t c = fork_checked();
    if (c == 0) {
        drop_to_nobody();
        check_err(mq_open_(qname[2], O_RDONLY, 0, 0), EACCES, "mode 0: open for reading");
        check_err(mq_open_(qname[2], O_WRONLY, 0, 0), EACCES, "mode 0: open for writing");
        if (root)
            check_err(sc(SYS_mq_unlink, qname[2]), EPERM, "mq_unlink of another user's queue");
        check_ret(snd(fd, "inherited", 0), 0, "the inherited descriptor still works");
        child_done();
    }
    check_wait(c, "exited 0", "an unprivileged child");
    char buf[8192];
    check_ret(rcv(fd, buf, sizeof buf, 0), 9, "the child's message arrived");
    close((int)fd);
    check_ret(sc(SYS_mq_unlink, qname[2]), 0, "mq_unlink");
}

int main(void)
{
    umask(022);
    for (int i = 0; i < 3; i++)
        snprintf(qname[i], sizeof qname[i], "sandbox_ipc_mqueue.%d.%d", (int)getpid(), i);
    test_open();
    test_msgs();
    test_blocking();
    test_notify();
    test_perms();
    return finish();
}
