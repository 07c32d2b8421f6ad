/* Readiness: poll, ppoll, select and pselect6 over the files' poll
 * operations and the one wait primitive. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

struct pfd {
    int fd;
    short events, revents;
};

/* Fill revents for each entry; returns how many have some. */
static int poll_once(struct task *t, struct pfd *p, size_t n, struct poll_table *pt)
{
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        p[i].revents = 0;
        if (p[i].fd < 0)
            continue;
        struct file *f = fget(t, p[i].fd);
        if (!f) {
            p[i].revents = POLLNVAL;
            ready++;
            continue;
        }
        unsigned m = file_poll(f, pt);
        file_put(f);
        p[i].revents =
            (short)(m & ((unsigned)(unsigned short)p[i].events | POLLERR | POLLHUP | POLLNVAL));
        if (p[i].revents)
            ready++;
    }
    return ready;
}

/* Wait until something in p is ready or the deadline (NULL: none) passes. */
static long do_poll(struct task *t, struct pfd *p, size_t n, const struct timespec *deadline)
{
    struct poll_table pt;
    poll_table_init(&pt, t);
    task_sleep_prepare(t);
    int ready = poll_once(t, p, n, &pt);
    long r = ready;
    while (ready == 0) {
        if (pt.oom) {
            r = -ENOMEM;
            break;
        }
        if (deadline_passed(deadline))
            break;
        int s = task_sleep(t, deadline, WAIT_SPIN);
        if (s == -ERESTARTSYS) {
            r = -ERESTARTNOHAND; /* restarted unless a handler runs */
            break;
        }
        task_sleep_prepare(t);
        ready = poll_once(t, p, n, NULL);
        r = ready;
    }
    poll_table_free(&pt);
    return r;
}

static int deadline_after(struct timespec *d, const struct timespec *rel)
{
    if (rel->tv_sec < 0 || rel->tv_nsec < 0 || rel->tv_nsec >= 1000000000L)
        return -EINVAL;
    clock_gettime(CLOCK_MONOTONIC, d);
    if (rel->tv_sec > (time_t)1 << 40) {
        d->tv_sec = (time_t)1 << 40;
        return 0;
    }
    d->tv_sec += rel->tv_sec;
    d->tv_nsec += rel->tv_nsec;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
    return 0;
}

/* The guest's relative timespec at uaddr (kept in *rel) as a deadline. */
static long timespec_deadline(struct task *t, uint64_t uaddr, struct timespec *rel,
                              struct timespec *d)
{
    if (copy_in(t, rel, uaddr, sizeof(*rel)) < 0)
        return -EFAULT;
    return deadline_after(d, rel) < 0 ? -EINVAL : 0;
}

static long poll_user(struct task *t, uint64_t ufds, uint64_t nfds, const struct timespec *deadline)
{
    nfds = (unsigned)nfds; /* the kernel's argument is an unsigned int */
    if (nfds > t->proc->rlim[RLIMIT_NOFILE].cur || nfds > (1u << 20))
        return -EINVAL;
    struct pfd *p = nfds ? malloc(nfds * sizeof(*p)) : NULL;
    if (nfds && !p)
        return -ENOMEM;
    if (nfds && copy_in(t, p, ufds, nfds * sizeof(*p)) < 0) {
        free(p);
        return -EFAULT;
    }
    long r = do_poll(t, p, nfds, deadline);
    /* Every revents (and nothing else of the guest's array), in as few
     * host calls as copy_out_spans can. */
    struct guest_span one, *s = r >= 0 && nfds > 1 ? malloc(nfds * sizeof(*s)) : &one;
    if (r >= 0 && s) {
        for (size_t i = 0; i < nfds; i++)
            s[i] = (struct guest_span){ ufds + i * sizeof(*p) + 6, &p[i].revents, 2 };
        if (copy_out_spans(t, s, nfds) < 0)
            r = -EFAULT;
    } else if (r >= 0) {
        for (size_t i = 0; i < nfds; i++)
            if (copy_out(t, ufds + i * sizeof(*p) + 6, &p[i].revents, 2) < 0) {
                r = -EFAULT;
                break;
            }
    }
    if (s != &one)
        free(s);
    free(p);
    return r;
}

/* restart_syscall after an interrupted poll with a timeout: the same
 * descriptors until the same deadline (do_restart_poll). */
static long poll_restart(struct task *t)
{
    struct restart_block rb = t->restart;
    long r = poll_user(t, rb.arg[0], rb.arg[1], &rb.abs);
    if (r == -ERESTARTNOHAND) {
        t->restart = rb;
        r = -ERESTART_RESTARTBLOCK;
    }
    return r;
}

SYSCALL_DEFINE3(poll, uint64_t, fds, uint64_t, nfds, int, ms)
{
    struct timespec d;
    if (ms >= 0) {
        struct timespec rel = { ms / 1000, (long)(ms % 1000) * 1000000L };
        deadline_after(&d, &rel);
    }
    long r = poll_user(t, fds, nfds, ms >= 0 ? &d : NULL);
    if (r == -ERESTARTNOHAND && ms >= 0) {
        t->restart = (struct restart_block){
            .fn = poll_restart, .arg = { fds, nfds }, .clock = CLOCK_MONOTONIC, .abs = d
        };
        r = -ERESTART_RESTARTBLOCK;
    }
    return r;
}

/* Linux's poll_select_finish: after a wait that ended with r (a count or
 * -ERESTARTNOHAND) select, pselect6 and ppoll write the time left until the
 * deadline (zero once it passed) over the caller's timeout at utimeout (a
 * struct timeval if timeval), unless there was none, it was zero (rel) or
 * the process has STICKY_TIMEOUTS. A timeout the guest cannot write keeps
 * its old value: the result stands, but an interrupted call is then EINTR
 * (not restarted with its whole timeout again). Returns r. */
#define STICKY_TIMEOUTS 0x4000000U
static long time_left(struct task *t, long r, uint64_t utimeout, const struct timespec *rel,
                      const struct timespec *deadline, int timeval)
{
    if (!utimeout || (r < 0 && r != -ERESTARTNOHAND) || (rel->tv_sec == 0 && rel->tv_nsec == 0))
        return r;
    /* The restart must wait only for the time left: without it written
     * there is no restart (sticky). */
    if (t->proc->personality & STICKY_TIMEOUTS)
        return r == -ERESTARTNOHAND ? -EINTR : r;
    struct timespec now, left = { 0, 0 };
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec < deadline->tv_sec ||
        (now.tv_sec == deadline->tv_sec && now.tv_nsec < deadline->tv_nsec)) {
        left.tv_sec = deadline->tv_sec - now.tv_sec;
        left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
    }
    struct timeval tv = { left.tv_sec, left.tv_nsec / 1000 };
    if ((timeval ? copy_out(t, utimeout, &tv, sizeof(tv))
                 : copy_out(t, utimeout, &left, sizeof(left))) < 0 &&
        r == -ERESTARTNOHAND)
        r = -EINTR;
    return r;
}

/* A wait of ppoll/pselect6 under a timeout and a signal mask. */
struct masked_wait {
    uint64_t utimeout;
    struct timespec rel, deadline;
    uint64_t old;
    long masked;
};

/* Reads the timeout at utimeout (if any), then the signal mask: at umask
 * of size bytes, or (packed, pselect6's way) a {mask, size} pair at umask.
 * Returns 0 or the error. */
static long masked_wait_begin(struct task *t, struct masked_wait *w, uint64_t utimeout,
                              uint64_t umask, uint64_t size, int packed)
{
    w->utimeout = utimeout;
    w->old = 0;
    w->masked = 0;
    long r = utimeout ? timespec_deadline(t, utimeout, &w->rel, &w->deadline) : 0;
    if (r < 0 || !umask)
        return r;
    if (packed) {
        struct {
            uint64_t ss, len;
        } sig;
        if (copy_in(t, &sig, umask, sizeof(sig)) < 0)
            return -EFAULT;
        umask = sig.ss;
        size = sig.len;
    }
    w->masked = signal_wait_mask_set(t, umask, size, &w->old);
    return w->masked < 0 ? w->masked : 0;
}

/* After the wait that ended with r: the old mask back, the time left. */
static long masked_wait_end(struct task *t, struct masked_wait *w, long r)
{
    if (w->masked)
        signal_wait_mask_restore(t, r == -ERESTARTNOHAND, w->old);
    return time_left(t, r, w->utimeout, &w->rel, &w->deadline, 0);
}

/* The signal mask argument of ppoll/pselect6: accepted, applied once
 * signal delivery exists (no signal can arrive before then). */
SYSCALL_DEFINE5(ppoll, uint64_t, fds, uint64_t, nfds, uint64_t, tmo_p, uint64_t, sigmask, uint64_t,
                sigsetsize)
{
    struct masked_wait w;
    long r = masked_wait_begin(t, &w, tmo_p, sigmask, sigsetsize, 0);
    if (r < 0)
        return r;
    r = poll_user(t, fds, nfds, tmo_p ? &w.deadline : NULL);
    return masked_wait_end(t, &w, r);
}

/* select over three fd_set bitmaps of n bits. */
static long do_select(struct task *t, int n, uint64_t uin, uint64_t uout, uint64_t uex,
                      const struct timespec *deadline)
{
    if (n < 0)
        return -EINVAL;
    /* Bits past the descriptor table's size are ignored, as Linux clamps
     * n to its table's max_fds. */
    pthread_mutex_lock(&t->proc->files->lock);
    int max = t->proc->files->n > 64 ? t->proc->files->n : 64;
    pthread_mutex_unlock(&t->proc->files->lock);
    if (n > max)
        n = max;
    size_t bytes = ((size_t)n + 63) / 64 * 8;
    uint64_t *in = calloc(1, bytes + 8), *out = calloc(1, bytes + 8), *ex = calloc(1, bytes + 8);
    struct pfd *p = calloc((size_t)n + 1, sizeof(*p));
    long r = in && out && ex && p ? 0 : -ENOMEM;
    if (r == 0 &&
        ((uin && copy_in(t, in, uin, bytes) < 0) || (uout && copy_in(t, out, uout, bytes) < 0) ||
         (uex && copy_in(t, ex, uex, bytes) < 0)))
        r = -EFAULT;
    size_t np = 0;
    for (int fd = 0; r == 0 && fd < n; fd++) {
        uint64_t bit = 1ULL << (fd % 64);
        short ev = 0;
        if (in[fd / 64] & bit)
            ev |= POLLIN | POLLRDNORM | POLLHUP | POLLERR;
        if (out[fd / 64] & bit)
            ev |= POLLOUT | POLLWRNORM | POLLERR;
        if (ex[fd / 64] & bit)
            ev |= POLLPRI;
        if (!ev)
            continue;
        struct file *f = fget(t, fd);
        if (!f) {
            r = -EBADF;
            break;
        }
        file_put(f);
        p[np++] = (struct pfd){ fd, ev, 0 };
    }
    if (r == 0)
        r = do_poll(t, p, np, deadline);
    if (r >= 0) {
        memset(in, 0, bytes);
        memset(out, 0, bytes);
        memset(ex, 0, bytes);
        long count = 0;
        for (size_t i = 0; i < np; i++) {
            int fd = p[i].fd;
            uint64_t bit = 1ULL << (fd % 64);
            short rv = p[i].revents, ev = p[i].events;
            /* A descriptor closed while select waited (POLLNVAL) is
             * ready in every set it was asked for, as Linux's POLLIN_SET,
             * POLLOUT_SET and POLLEX_SET say. */
            if ((ev & POLLIN) && (rv & (POLLIN | POLLRDNORM | POLLHUP | POLLERR | POLLNVAL))) {
                in[fd / 64] |= bit;
                count++;
            }
            if ((ev & POLLOUT) && (rv & (POLLOUT | POLLWRNORM | POLLERR | POLLNVAL))) {
                out[fd / 64] |= bit;
                count++;
            }
            if ((ev & POLLPRI) && (rv & (POLLPRI | POLLNVAL))) {
                ex[fd / 64] |= bit;
                count++;
            }
        }
        r = count;
        if ((uin && copy_out(t, uin, in, bytes) < 0) ||
            (uout && copy_out(t, uout, out, bytes) < 0) || (uex && copy_out(t, uex, ex, bytes) < 0))
            r = -EFAULT;
    }
    free(in);
    free(out);
    free(ex);
    free(p);
    return r;
}

SYSCALL_DEFINE5(select, int, nfds, uint64_t, readfds, uint64_t, writefds, uint64_t, exceptfds,
                uint64_t, timeout)
{
    struct timespec rel, d;
    if (timeout) {
        struct timeval tv;
        if (copy_in(t, &tv, timeout, sizeof(tv)) < 0)
            return -EFAULT;
        if (tv.tv_sec < 0 || tv.tv_usec < 0)
            return -EINVAL;
        rel = (struct timespec){ tv.tv_sec + tv.tv_usec / 1000000, (tv.tv_usec % 1000000) * 1000 };
        deadline_after(&d, &rel);
    }
    long r = do_select(t, nfds, readfds, writefds, exceptfds, timeout ? &d : NULL);
    return time_left(t, r, timeout, &rel, &d, 1);
}

SYSCALL_DEFINE6(pselect6, int, nfds, uint64_t, readfds, uint64_t, writefds, uint64_t, exceptfds,
                uint64_t, timeout, uint64_t, sigmask)
{
    struct masked_wait w;
    long r = masked_wait_begin(t, &w, timeout, sigmask, 0, 1);
    if (r < 0)
        return r;
    r = do_select(t, nfds, readfds, writefds, exceptfds, timeout ? &w.deadline : NULL);
    return masked_wait_end(t, &w, r);
}
