/* The epoll syscalls over the eventpoll object (fs/file/eventpoll.h):
 * epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
 * epoll_pwait2, with Linux's checks in Linux's order. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

#include "fs/file/eventpoll.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "sched/wait.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define GCAP_BLOCK_SUSPEND 36
#define EP_MAX_EVENTS (INT_MAX / (int)sizeof(struct ep_event))

static long do_epoll_create(struct task *t, int flags)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct file *f = eventpoll_new(0);
    if (!f)
        return -ENOMEM;
    return fd_install_new(t, f, (flags & EPOLL_CLOEXEC) != 0);
}

SYSCALL_DEFINE1(epoll_create, int, size)
{
    if (size <= 0)
        return -EINVAL;
    return do_epoll_create(t, 0);
}

SYSCALL_DEFINE1(epoll_create1, int, flags)
{
    return do_epoll_create(t, flags);
}

SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, uint64_t, uev)
{
    struct ep_event ev = { 0, 0 };
    if (op != EPOLL_CTL_DEL && copy_in(t, &ev, uev, sizeof(ev)) < 0)
        return -EFAULT;
    struct file *epf = fget(t, epfd);
    if (!epf)
        return -EBADF;
    struct file *tf = fget(t, fd);
    long r = -EBADF;
    if (tf) {
        r = -EPERM;
        if (file_can_poll(tf)) {
            /* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it, it is dropped. */
            if (op != EPOLL_CTL_DEL && (ev.events & EPOLLWAKEUP) &&
                !creds_capable(t->cred, GCAP_BLOCK_SUSPEND))
                ev.events &= ~(uint32_t)EPOLLWAKEUP;
            r = eventpoll_ctl(epf, op, tf, fd, op != EPOLL_CTL_DEL ? &ev : NULL);
        }
        file_put(tf);
    }
    file_put(epf);
    return r;
}

/* epoll_wait and the rest: the checks, the wait, the copy out. */
static long do_epoll_wait(struct task *t, int epfd, uint64_t uevents, int maxevents,
                          const struct timespec *deadline)
{
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
        return -EINVAL;
    /* access_ok: the whole array below the top of user space. */
    uint64_t end = uevents + (uint64_t)maxevents * sizeof(struct ep_event);
    if (end < uevents || end > 0x7ffffffff000ULL)
        return -EFAULT;
    struct file *f = fget(t, epfd);
    if (!f)
        return -EBADF;
    if (!file_is_eventpoll(f)) {
        file_put(f);
        return -EINVAL;
    }
    struct ep_event *ev = NULL;
    long r = eventpoll_wait(t, f, maxevents, deadline, &ev);
    file_put(f);
    if (r > 0 && copy_out(t, uevents, ev, (size_t)r * sizeof(*ev)) < 0) {
        /* As Linux: what was copied before the fault counts, else EFAULT. */
        long n = 0;
        while (n < r && copy_out(t, uevents + (uint64_t)n * sizeof(*ev), &ev[n], sizeof(*ev)) == 0)
            n++;
        r = n ? n : -EFAULT;
    }
    free(ev);
    return r;
}

/* epoll_pwait's and epoll_pwait2's arguments but the timeout. */
struct epoll_pwait_args {
    int epfd;
    uint64_t events;
    int maxevents;
    uint64_t sigmask, sigsetsize;
};

static long do_epoll_pwait(struct task *t, const struct epoll_pwait_args *w,
                           const struct timespec *deadline)
{
    uint64_t old = 0;
    long s = signal_wait_mask_set(t, w->sigmask, w->sigsetsize, &old);
    if (s < 0)
        return s;
    long r = do_epoll_wait(t, w->epfd, w->events, w->maxevents, deadline);
    if (s > 0)
        signal_wait_mask_restore(t, r == -EINTR, old);
    return r;
}

/* A timeout in milliseconds (negative: none) as a deadline in *d. */
static const struct timespec *ms_deadline(int ms, struct timespec *d)
{
    if (ms < 0)
        return NULL;
    wait_deadline_ns(d, (uint64_t)ms * 1000000ULL);
    return d;
}

SYSCALL_DEFINE4(epoll_wait, int, epfd, uint64_t, events, int, maxevents, int, timeout)
{
    struct timespec d;
    return do_epoll_wait(t, epfd, events, maxevents, ms_deadline(timeout, &d));
}

SYSCALL_DEFINE6(epoll_pwait, int, epfd, uint64_t, events, int, maxevents, int, timeout, uint64_t,
                sigmask, uint64_t, sigsetsize)
{
    struct timespec d;
    struct epoll_pwait_args w = { epfd, events, maxevents, sigmask, sigsetsize };
    return do_epoll_pwait(t, &w, ms_deadline(timeout, &d));
}

SYSCALL_DEFINE6(epoll_pwait2, int, epfd, uint64_t, events, int, maxevents, uint64_t, timeout,
                uint64_t, sigmask, uint64_t, sigsetsize)
{
    struct timespec d, *dl = NULL;
    if (timeout) {
        struct timespec rel;
        if (copy_in(t, &rel, timeout, sizeof(rel)) < 0)
            return -EFAULT;
        if (rel.tv_sec < 0 || rel.tv_nsec < 0 || rel.tv_nsec >= 1000000000L)
            return -EINVAL;
        uint64_t sec = (uint64_t)rel.tv_sec;
        if (sec > (1ULL << 33))
            sec = 1ULL << 33; /* far enough to be forever */
        wait_deadline_ns(&d, sec * 1000000000ULL + (uint64_t)rel.tv_nsec);
        dl = &d;
    }
    struct epoll_pwait_args w = { epfd, events, maxevents, sigmask, sigsetsize };
    return do_epoll_pwait(t, &w, dl);
}
