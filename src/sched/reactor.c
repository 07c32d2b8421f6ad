/* The host-readiness reactor (include/sched/reactor.h): one thread, one
 * host epoll set, a wait queue per watched host descriptor. Started by the
 * first watch; it sleeps in epoll_wait with no timeout, so a sandbox whose
 * guest waits for host input costs no CPU.
 *
 * Edge-triggered (EPOLLET), registered once for the watch's life. The
 * queue's sleepers never take their readiness from the reactor: each
 * hooks itself on the queue and then asks the host (poll with a zero
 * timeout), so all the reactor must give is a wake-up for every change
 * after that, which is what an edge is. Level-triggered would report a
 * descriptor again and again for as long as it stays ready, and a pipe
 * whose data the guest does not read yet would keep the reactor spinning;
 * level-triggered one-shot would need a re-arm (an epoll_ctl) before every
 * sleep, including by epoll items hooked for good on the queue, which have
 * no moment to do it. With edges no re-arm is needed, and an event the
 * reactor takes late only wakes sleepers that re-check.
 *
 * Two host items per descriptor, one for input (IN, PRI, RDHUP) and one
 * for output (OUT), the second on a duplicate of the descriptor (epoll
 * takes a file once per descriptor number): the host reports an edge with
 * the levels of the moment, so that one item for both would turn the
 * room that a terminal's echo leaves into another edge of input for an
 * edge-triggered guest item. Apart, each fires only on a wake-up of its
 * kind (the host's key), as the guest's own item would on Linux.
 *
 * Items carry an id, not a pointer: an event read by epoll_wait may be
 * handled after its watch went (host_watch_fini removes the item and the
 * watch under the reactor's lock, and the reactor looks ids up under it).
 * The thread lives as long as sandbox-run (as the timer thread): it holds
 * no memory of its own beyond the set, and once every watch has gone it
 * only sleeps. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sched/reactor.h"

static pthread_mutex_t reactor_lock = PTHREAD_MUTEX_INITIALIZER;
static int reactor_epfd = -1;           /* under reactor_lock once set */
static struct host_watch *reactor_list; /* the watched, under reactor_lock */
static uint64_t reactor_next_id = 1;

/* What the host reports, as poll's bits for the queue's key: the *NORM
 * bits with IN and OUT, as Linux's pipes and sockets wake with them. */
static unsigned reactor_key(uint32_t ev)
{
    unsigned key = ev & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM |
                         EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLRDHUP);
    if (key & POLLIN)
        key |= POLLRDNORM;
    if (key & POLLOUT)
        key |= POLLWRNORM;
    return key;
}

static void *reactor_main(void *arg)
{
    int epfd = (int)(intptr_t)arg;
    struct epoll_event ev[16];
    for (;;) {
        int n = epoll_wait(epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), -1);
        if (n < 0 && errno == EINTR)
            continue; /* its signals are blocked, but a stop and continue end the wait */
        if (n < 0)
            break; /* cannot be: the set lives as long as sandbox-run */
        pthread_mutex_lock(&reactor_lock);
        for (int i = 0; i < n; i++)
            for (struct host_watch *hw = reactor_list; hw; hw = hw->next)
                if (hw->id == ev[i].data.u64 >> 1) {
                    /* One exclusive waiter, as Linux's pipes and sockets
                     * wake (EPOLLEXCLUSIVE items); every other one. */
                    wake_up_key(&hw->wq, 1, reactor_key(ev[i].events));
                    break;
                }
        pthread_mutex_unlock(&reactor_lock);
    }
    return NULL;
}

/* The set and the thread, made once; under reactor_lock. */
static int reactor_start(void)
{
    if (reactor_epfd >= 0)
        return 0;
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -errno;
    int r = service_thread_start(reactor_main, (void *)(intptr_t)epfd, "reactor");
    if (r < 0) {
        close(epfd);
        return r;
    }
    reactor_epfd = epfd;
    return 0;
}

void host_watch_init(struct host_watch *hw, int fd)
{
    waitq_init(&hw->wq);
    hw->fd = fd;
    hw->fd_out = -1;
    hw->state = HOST_WATCH_IDLE;
    hw->err = 0;
    hw->id = 0;
    hw->next = NULL;
}

int host_watch_start(struct host_watch *hw)
{
    int state = __atomic_load_n(&hw->state, __ATOMIC_ACQUIRE);
    if (state == HOST_WATCH_ON)
        return 0;
    int r = 0;
    pthread_mutex_lock(&reactor_lock);
    state = hw->state;
    if (state == HOST_WATCH_NEVER) {
        r = hw->err;
    } else if (state == HOST_WATCH_IDLE && (r = reactor_start()) == 0) {
        uint64_t id = reactor_next_id;
        /* Without a duplicate (no descriptor left), one item for both. */
        int out = fcntl(hw->fd, F_DUPFD_CLOEXEC, 10);
        struct epoll_event ev = {
            .events = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET | (out < 0 ? EPOLLOUT : 0),
            .data.u64 = id << 1,
        };
        int added = epoll_ctl(reactor_epfd, EPOLL_CTL_ADD, hw->fd, &ev);
        if (added == 0 && out >= 0) {
            ev.events = EPOLLOUT | EPOLLET;
            ev.data.u64 = id << 1 | 1;
            if (epoll_ctl(reactor_epfd, EPOLL_CTL_ADD, out, &ev) < 0) {
                epoll_ctl(reactor_epfd, EPOLL_CTL_DEL, hw->fd, NULL);
                added = -1;
            }
        }
        if (added < 0 && out >= 0) {
            int e = errno;
            close(out);
            out = -1;
            errno = e;
        }
        if (added == 0) {
            hw->fd_out = out;
            hw->id = reactor_next_id++;
            hw->next = reactor_list;
            reactor_list = hw;
            __atomic_store_n(&hw->state, HOST_WATCH_ON, __ATOMIC_RELEASE);
        } else {
            r = -errno;
            /* EPERM: a regular file, a directory, a device without poll
             * (/dev/null): always ready, nothing to wait for. */
            if (r == -EPERM) {
                hw->err = r;
                __atomic_store_n(&hw->state, HOST_WATCH_NEVER, __ATOMIC_RELEASE);
            }
        }
    }
    pthread_mutex_unlock(&reactor_lock);
    return r;
}

int host_fd_can_poll(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return 1; /* cannot tell: a wait will find out */
    struct epoll_event ev = { .events = EPOLLIN };
    int r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EPERM;
    close(ep);
    return r;
}

void host_watch_fini(struct host_watch *hw)
{
    pthread_mutex_lock(&reactor_lock);
    if (hw->state == HOST_WATCH_ON) {
        epoll_ctl(reactor_epfd, EPOLL_CTL_DEL, hw->fd, NULL);
        if (hw->fd_out >= 0) {
            epoll_ctl(reactor_epfd, EPOLL_CTL_DEL, hw->fd_out, NULL);
            close(hw->fd_out);
            hw->fd_out = -1;
        }
        for (struct host_watch **pp = &reactor_list; *pp; pp = &(*pp)->next)
            if (*pp == hw) {
                *pp = hw->next;
                break;
            }
        hw->next = NULL;
        __atomic_store_n(&hw->state, HOST_WATCH_IDLE, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&reactor_lock);
    waitq_destroy(&hw->wq);
}
