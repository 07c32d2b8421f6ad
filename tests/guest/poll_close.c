/* A descriptor closed by another thread while a poll, select or
 * epoll_wait waits on it. Linux's poll holds each file it waits on until
 * the wait ends, so the wait goes on: to its timeout when the close wakes
 * nothing (a timerfd, a signalfd), or to a new scan when the file's
 * release wakes its queue (an eventfd, a pipe's read end); the scan after
 * the wake or the timeout finds the descriptors closed (POLLNVAL, which
 * select counts as ready too). The sandbox must do the same, without
 * touching the freed file's wait queue. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "guest.h"

static int fds[4];
static int nfds;

static void *closer(void *arg)
{
    (void)arg;
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    return NULL;
}

/* A timerfd and a signalfd, whose release wakes nobody. */
static void open_quiet(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    fds[0] = timerfd_create(CLOCK_MONOTONIC, 0);
    fds[1] = signalfd(-1, &s, 0);
    nfds = 2;
}

static long run_with_closer(long (*wait)(void))
{
    pthread_t th;
    pthread_create(&th, NULL, closer, NULL);
    long r = wait();
    pthread_join(th, NULL);
    return r;
}

static struct pollfd pfd[2];

static long do_poll(void)
{
    for (int i = 0; i < nfds; i++)
        pfd[i] = (struct pollfd){ fds[i], POLLIN, 0 };
    return poll(pfd, (nfds_t)nfds, 300);
}

static long do_select(void)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    FD_SET(fds[1], &rd);
    struct timeval tv = { 0, 300 * 1000 };
    return select((fds[0] > fds[1] ? fds[0] : fds[1]) + 1, &rd, NULL, NULL, &tv);
}

static int ep;

static long do_epoll(void)
{
    struct epoll_event ev[2];
    return epoll_wait(ep, ev, 2, 300);
}

int main(void)
{
    open_quiet();
    long r = run_with_closer(do_poll);
    check(r == 2 && pfd[0].revents == POLLNVAL && pfd[1].revents == POLLNVAL,
          "poll: a timerfd and a signalfd closed meanwhile: %ld at the timeout, revents %#x %#x", r,
          pfd[0].revents, pfd[1].revents);
    open_quiet();
    r = run_with_closer(do_select);
    check(r == 2, "select: the same: %ld", r);

    /* One descriptor whose release wakes the poll. */
    fds[0] = eventfd(0, 0);
    nfds = 1;
    r = run_with_closer(do_poll);
    check(r == 1 && pfd[0].revents == POLLNVAL,
          "poll: an eventfd closed meanwhile: %ld, revents %#x", r, pfd[0].revents);
    int p[2];
    pipe(p);
    fds[0] = p[0];
    r = run_with_closer(do_poll);
    close(p[1]);
    check(r == 1 && pfd[0].revents == POLLNVAL,
          "poll: a pipe's read end closed meanwhile: %ld, revents %#x", r, pfd[0].revents);

    /* The epoll set itself closed while a thread waits in it, and the
     * descriptors it watches. */
    open_quiet();
    ep = epoll_create1(0);
    struct epoll_event e = { .events = EPOLLIN };
    for (int i = 0; i < 2; i++) {
        e.data.fd = fds[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
    }
    fds[nfds++] = ep;
    r = run_with_closer(do_epoll);
    check(r == 0, "epoll_wait: runs to its timeout with its set and items closed meanwhile (%ld)",
          r);
    return finish();
}
