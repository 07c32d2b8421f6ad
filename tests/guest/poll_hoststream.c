/* poll_hoststream.c: readiness of the standard streams the program was
 * started with, when the host cannot wait for them (compare.sh gives
 * /dev/null as stdin and regular files as stdout and stderr): epoll
 * refuses them (EPERM, as a file without a poll operation), poll and
 * select find them always ready, with or without O_NONBLOCK, and so do a
 * dup and a reopen through /proc/self/fd. Reads and writes never wait. A
 * stream the host can wait for (a pipe or terminal, when run by hand) is
 * accepted by epoll and polled for what it has. */
#include "guest.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ALL (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDBAND | POLLWRBAND)

/* The host cannot wait for it: a regular file or /dev/null. */
static int never_waits(int fd, const char **what)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *what = "closed";
        return 0;
    }
    if (S_ISREG(st.st_mode)) {
        *what = "a regular file";
        return 1;
    }
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
        *what = "/dev/null";
        return 1;
    }
    *what = S_ISFIFO(st.st_mode) ? "a pipe" : S_ISCHR(st.st_mode) ? "a terminal" : "other";
    return 0;
}

static void check_fd(int fd, const char *name)
{
    const char *what;
    int never = never_waits(fd, &what);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event e = { .events = EPOLLIN | EPOLLOUT, .data.u64 = 1 };
    long r = sc(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &e);
    if (never) {
        check(r == -EPERM, "%s (%s): epoll_ctl ADD is EPERM (%s)", name, what, ret_name(r));
        struct pollfd p = { fd, ALL, 0 };
        r = sc(SYS_poll, &p, 1, 0);
        check(r == 1 && p.revents == (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM),
              "%s: poll finds it ready for anything (%s, revents %#x)", name, ret_name(r),
              (unsigned)p.revents);
        p.events = POLLIN;
        r = sc(SYS_poll, &p, 1, 1000);
        check(r == 1 && p.revents == POLLIN, "%s: poll for POLLIN alone: POLLIN (revents %#x)",
              name, (unsigned)p.revents);
        fd_set rd, wr;
        struct timeval tv = { 1, 0 };
        r = select_rw(fd, &rd, &wr, &tv);
        check(r == 2 && FD_ISSET(fd, &rd) && FD_ISSET(fd, &wr),
              "%s: select finds it readable and writable (%s)", name, ret_name(r));
        r = sc(SYS_epoll_wait, ep, &e, 1, 0);
        check(r == 0, "%s: the epoll set stays empty (%s)", name, ret_name(r));
    } else {
        /* Run by hand on a pipe or terminal: accepted, nothing more asked
         * (what is ready depends on who is at the other end). */
        check(r == 0, "%s (%s): epoll_ctl ADD accepts it (%s)", name, what, ret_name(r));
    }
    close(ep);
}

int main(void)
{
    check_fd(0, "stdin");
    check_fd(1, "stdout");
    check_fd(2, "stderr");

    /* With O_NONBLOCK too (the same answers). */
    int fl = fcntl(0, F_GETFL);
    check(fcntl(0, F_SETFL, fl | O_NONBLOCK) == 0, "stdin: O_NONBLOCK set");
    check_fd(0, "stdin, O_NONBLOCK");
    const char *what;
    if (never_waits(0, &what)) {
        char c;
        long n = sc(SYS_read, 0, &c, 1);
        check(n == 0, "stdin (%s): a non-blocking read is end of file (%s)", what, ret_name(n));
        check(fcntl(0, F_SETFL, fl) == 0, "stdin: O_NONBLOCK cleared");
        n = sc(SYS_read, 0, &c, 1);
        check(n == 0, "stdin (%s): a blocking read is end of file at once (%s)", what, ret_name(n));
    } else {
        fcntl(0, F_SETFL, fl);
    }

    /* A dup and a reopen of stdout are the same to poll. */
    int d = dup(1);
    check(d > 2, "dup(1) = %d", d);
    check_fd(d, "dup of stdout");
    close(d);
    int o = open("/proc/self/fd/1", O_WRONLY | O_APPEND);
    check(o >= 0, "stdout reopened through /proc/self/fd/1 (%d)", o >= 0 ? 0 : errno);
    if (o >= 0) {
        check_fd(o, "reopened stdout");
        close(o);
    }
    out("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
