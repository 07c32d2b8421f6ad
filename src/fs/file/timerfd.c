/* timerfd (Linux's fs/timerfd.c). Times are nanoseconds on the timer's
 * clock, saturating as Linux's ktime_t. The state follows Linux's
 * timerfd_ctx: a timer that runs toward its expiry (active), fires once
 * (expired, ticks + 1) and, when periodic, is moved past now by whole
 * intervals only when it is read (or its time asked), which counts the
 * periods missed in between.
 *
 * Firing is computed from the clock whenever the timer is looked at, so
 * reads, polls and gettime are exact; the timer thread (sched/timer.h)
 * only wakes the sleepers at the expiry. On CLOCK_MONOTONIC its deadline
 * is the expiry itself; the other clocks can jump, so it looks again at
 * least every second (as include/sentry/ktime.h's timeouts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fs/file/anon.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "fs/file/timerfd.h"
#include "sched/reactor.h"
#include "sched/timer.h"
#include "sched/wait.h"
#include "sentry/mm.h"

#ifndef CLOCK_BOOTTIME_ALARM
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#endif

#define NSEC 1000000000LL

struct timerfd {
    pthread_mutex_t lock; /* everything below; the sleepers' condition lock */
    struct waitq wq;
    struct ktimer timer;
    int clockid;     /* as made (fdinfo) */
    clockid_t clock; /* the clock expiry is on */
    int active;      /* running toward expiry */
    int expired;     /* fired, not yet moved on (periodic) */
    uint64_t ticks;  /* expirations not yet read */
    int64_t expiry;
    int64_t interval; /* 0: one-shot */
    int settime_flags;
    /* TFD_TIMER_CANCEL_ON_SET on an absolute CLOCK_REALTIME timer (set
     * under cancel_lock and lock, read under either): in cancel_list. */
    int might_cancel;
    int canceled;                /* the clock was set since (lock) */
    struct timerfd *cancel_next; /* cancel_list (cancel_lock) */
};

/* ---- the realtime clock set (Linux's timerfd_clock_was_set) ----
 * The host says when its CLOCK_REALTIME is set (a discontinuous change)
 * through a host timerfd armed with TFD_TIMER_CANCEL_ON_SET, which the
 * reactor watches: its callback cancels every timerfd in cancel_list. Lock
 * order: cancel_lock, then a timerfd's lock. */
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timerfd *cancel_list;
static struct host_watch clock_watch;
static struct waiter clock_waiter;
static int clock_watching; /* under cancel_lock: 1 watching, -1 cannot */

/* The host timer: absolute, far in the future, canceled by a clock set. */
static int clock_arm(int fd)
{
    struct itimerspec far = { { 0, 0 }, { (time_t)1 << 40, 0 } };
    return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL);
}

/* On the reactor thread: the host timerfd is readable (ECANCELED). */
static int clock_was_set(struct waiter *w, unsigned key)
{
    (void)w, (void)key;
    uint64_t v;
    int set = 0;
    ssize_t n;
    while ((n = read(clock_watch.fd, &v, sizeof(v))) != -1 || errno == ECANCELED)
        set |= n == -1;
    if (!set)
        return 1;
    clock_arm(clock_watch.fd);
    pthread_mutex_lock(&cancel_lock);
    for (struct timerfd *t = cancel_list; t; t = t->cancel_next) {
        pthread_mutex_lock(&t->lock);
        int wake = t->might_cancel && !t->canceled;
        if (wake) {
            t->canceled = 1;
            t->ticks++;
        }
        pthread_mutex_unlock(&t->lock);
        if (wake)
            wake_up_key(&t->wq, 1, POLLIN);
    }
    pthread_mutex_unlock(&cancel_lock);
    return 1;
}

/* Start watching the host's clock, once; under cancel_lock. */
static void clock_watch_start(void)
{
    if (clock_watching)
        return;
    clock_watching = -1;
    int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd < 0)
        return;
    if (clock_arm(fd) < 0) {
        close(fd);
        return;
    }
    host_watch_init(&clock_watch, fd);
    waiter_init(&clock_waiter, clock_was_set, NULL);
    waitq_add(&clock_watch.wq, &clock_waiter);
    if (host_watch_start(&clock_watch) == 0)
        clock_watching = 1;
}

/* timerfd_setup_cancel: t joins cancel_list for an absolute CLOCK_REALTIME
 * timer set with TFD_TIMER_CANCEL_ON_SET, or leaves it; either way not
 * canceled (the new setting is against the clock as it is now). */
static void setup_cancel(struct timerfd *t, int flags)
{
    int want = (t->clockid == CLOCK_REALTIME || t->clockid == CLOCK_REALTIME_ALARM) &&
               (flags & TIMERFD_ABSTIME) && (flags & TIMERFD_CANCEL_ON_SET);
    pthread_mutex_lock(&cancel_lock);
    if (want)
        clock_watch_start();
    pthread_mutex_lock(&t->lock);
    int was = t->might_cancel;
    t->might_cancel = want;
    t->canceled = 0;
    pthread_mutex_unlock(&t->lock);
    if (want && !was) {
        t->cancel_next = cancel_list;
        cancel_list = t;
    } else if (!want && was) {
        for (struct timerfd **pp = &cancel_list; *pp; pp = &(*pp)->cancel_next)
            if (*pp == t) {
                *pp = t->cancel_next;
                break;
            }
    }
    pthread_mutex_unlock(&cancel_lock);
}

/* timerfd_canceled: the clock was set since; taken (under t->lock). */
static int canceled(struct timerfd *t)
{
    if (!t->might_cancel || !t->canceled)
        return 0;
    t->canceled = 0;
    return 1;
}

int timerfd_clock_ok(int clockid)
{
    return clockid == CLOCK_REALTIME || clockid == CLOCK_MONOTONIC || clockid == CLOCK_BOOTTIME ||
           timerfd_clock_alarm(clockid);
}

int timerfd_clock_alarm(int clockid)
{
    return clockid == CLOCK_REALTIME_ALARM || clockid == CLOCK_BOOTTIME_ALARM;
}

/* The clock an alarm clock's timers run on (no suspend here to wake from). */
static clockid_t base_clock(int clockid)
{
    if (clockid == CLOCK_REALTIME_ALARM)
        return CLOCK_REALTIME;
    if (clockid == CLOCK_BOOTTIME_ALARM)
        return CLOCK_BOOTTIME;
    return clockid;
}

static int64_t now_on(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ktime_of_ts(&ts);
}

/* The timer fires if its time has come (Linux's timerfd_tmrproc): 1 if
 * it did now. Whoever finds it so before the timer thread does wakes the
 * queue (fire_found), so that epoll's items hear of it as they would of
 * Linux's hrtimer. */
static int update(struct timerfd *t, int64_t now)
{
    if (t->active && now >= t->expiry) {
        t->active = 0;
        t->expired = 1;
        t->ticks++;
        return 1;
    }
    return 0;
}

/* After update found the expiry (outside t->lock). */
static void fire_found(struct timerfd *t, int fired)
{
    if (fired)
        wake_up_key(&t->wq, 1, POLLIN);
}

/* hrtimer_forward_now: move the expiry past now by whole intervals;
 * how many. */
static uint64_t forward(struct timerfd *t, int64_t now)
{
    return (uint64_t)ktime_forward(&t->expiry, t->interval, now);
}

/* The timer thread's next look at t: at the expiry, or within a second on
 * a clock that can jump. */
static int schedule(struct timerfd *t)
{
    if (!t->active) {
        ktimer_disarm(&t->timer);
        return 0;
    }
    struct timespec mono;
    if (t->clock == CLOCK_MONOTONIC) {
        mono = ktime_to_ts(t->expiry);
    } else {
        int64_t left = t->expiry - now_on(t->clock);
        if (left > NSEC)
            left = NSEC;
        if (left < 0)
            left = 0;
        mono = ktime_to_ts(ktime_add_safe(now_on(CLOCK_MONOTONIC), left));
    }
    return ktimer_arm(&t->timer, &mono);
}

static void timerfd_fire(struct ktimer *k)
{
    struct timerfd *t = k->data;
    pthread_mutex_lock(&t->lock);
    update(t, now_on(t->clock));
    int ready = t->ticks > 0;
    if (t->active)
        schedule(t);
    pthread_mutex_unlock(&t->lock);
    if (ready)
        wake_up_key(&t->wq, 1, POLLIN);
}

/* A periodic timer that fired moves on to its next expiry, counting the
 * periods missed (timerfd_read, timerfd_gettime). */
static void rearm_periodic(struct timerfd *t, int64_t now)
{
    if (t->expired && t->interval) {
        t->ticks += forward(t, now) - 1;
        t->active = 1;
        schedule(t);
    }
    t->expired = 0;
}

static int nonblocking(struct file *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static ssize_t timerfd_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct timerfd *t = f->priv;
    if (len < sizeof(uint64_t))
        return -EINVAL;
    pthread_mutex_lock(&t->lock);
    int64_t now;
    for (;;) {
        update(t, now = now_on(t->clock));
        if (t->ticks)
            break;
        int r = nonblocking(f) ? -EAGAIN : waitq_wait(current_task, &t->wq, &t->lock, NULL, 0);
        if (r < 0) {
            pthread_mutex_unlock(&t->lock);
            return r;
        }
    }
    /* The clock was set: the ticks do not count and the timer is not
     * moved on; the caller must look at the clock again. */
    if (canceled(t)) {
        t->ticks = 0;
        t->expired = 0;
        pthread_mutex_unlock(&t->lock);
        return -ECANCELED;
    }
    uint64_t ticks = t->ticks;
    t->ticks = 0;
    rearm_periodic(t, now);
    ticks += t->ticks;
    t->ticks = 0;
    pthread_mutex_unlock(&t->lock);
    memcpy(buf, &ticks, sizeof(ticks));
    return sizeof(ticks);
}

static unsigned timerfd_poll(struct file *f, struct poll_table *pt)
{
    struct timerfd *t = f->priv;
    if (pt)
        poll_wait(pt, &t->wq);
    pthread_mutex_lock(&t->lock);
    int fired = update(t, now_on(t->clock));
    unsigned ev = t->ticks ? POLLIN : 0;
    pthread_mutex_unlock(&t->lock);
    fire_found(t, fired);
    return ev;
}

/* timerfd_get_remaining */
static int64_t remaining(struct timerfd *t, int64_t now)
{
    int64_t left = t->expiry - now;
    return left < 0 ? 0 : left;
}

static int timerfd_fdinfo(struct file *f, char *buf, size_t len)
{
    struct timerfd *t = f->priv;
    pthread_mutex_lock(&t->lock);
    int64_t now = now_on(t->clock);
    update(t, now);
    struct timespec value = ktime_to_ts(remaining(t, now)), interval = ktime_to_ts(t->interval);
    int n =
        fdinfo_printf(buf, len,
                      "clockid: %d\nticks: %llu\nsettime flags: 0%o\nit_value: (%llu, %llu)\n"
                      "it_interval: (%llu, %llu)\n",
                      t->clockid, (unsigned long long)t->ticks, (unsigned)t->settime_flags,
                      (unsigned long long)value.tv_sec, (unsigned long long)value.tv_nsec,
                      (unsigned long long)interval.tv_sec, (unsigned long long)interval.tv_nsec);
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* TFD_IOC_SET_TICKS (_IOW('T', 0, __u64)): the expirations a read will
 * report, as checkpoint/restore sets them; 0 is EINVAL. */
#define TFD_IOC_SET_TICKS_ 0x40085400UL

static long timerfd_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct timerfd *t = f->priv;
    if (req != TFD_IOC_SET_TICKS_)
        return -ENOTTY;
    uint64_t ticks;
    if (copy_in(current_task, &ticks, arg, sizeof(ticks)) < 0)
        return -EFAULT;
    if (!ticks)
        return -EINVAL;
    pthread_mutex_lock(&t->lock);
    int r = canceled(t) ? -ECANCELED : 0;
    if (r == 0)
        t->ticks = ticks;
    pthread_mutex_unlock(&t->lock);
    if (r == 0)
        wake_up_key(&t->wq, 1, POLLIN);
    return r;
}

static void timerfd_release(struct file *f)
{
    struct timerfd *t = f->priv;
    setup_cancel(t, 0);
    ktimer_cancel(&t->timer);
    waitq_destroy(&t->wq);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static const struct file_ops timerfd_ops = {
    .name = "timerfd",
    .read = timerfd_read,
    .stat = anon_inode_stat,
    .poll = timerfd_poll,
    .ioctl = timerfd_ioctl,
    .release = timerfd_release,
    .fdinfo = timerfd_fdinfo,
    .read_empty = 1,
};

struct file *timerfd_file(int clockid, int flags)
{
    struct timerfd *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    struct file *f = file_new(&timerfd_ops, O_RDWR | (flags & O_NONBLOCK));
    if (!f) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    waitq_init(&t->wq);
    ktimer_init(&t->timer, timerfd_fire, t);
    t->clockid = clockid;
    t->clock = base_clock(clockid);
    f->fmode |= FMODE_STREAM | FMODE_NOOP_LLSEEK;
    f->priv = t;
    return f;
}

int timerfd_clockid(struct file *f)
{
    return f && f->ops == &timerfd_ops ? ((struct timerfd *)f->priv)->clockid : -1;
}

int timerfd_set(struct file *f, int flags, const struct itimerspec *nv, struct itimerspec *old)
{
    struct timerfd *t = f->priv;
    setup_cancel(t, flags);
    pthread_mutex_lock(&t->lock);
    /* What it was: a periodic timer that fired first moves on, without
     * counting (do_timerfd_settime). */
    int64_t now = now_on(t->clock);
    update(t, now);
    if (t->expired && t->interval)
        forward(t, now);
    old->it_value = ktime_to_ts(remaining(t, now));
    old->it_interval = ktime_to_ts(t->interval);
    /* timerfd_setup. A relative CLOCK_REALTIME timer runs on
     * CLOCK_MONOTONIC (hrtimer_setup); the alarm clocks' do not. */
    int64_t value = ktime_of_ts(&nv->it_value);
    t->ticks = 0;
    t->expired = 0;
    t->interval = ktime_of_ts(&nv->it_interval);
    t->clock = base_clock(t->clockid);
    if (!(flags & TIMERFD_ABSTIME) && t->clockid == CLOCK_REALTIME)
        t->clock = CLOCK_MONOTONIC;
    t->active = value != 0;
    t->expiry =
        value == 0 || (flags & TIMERFD_ABSTIME) ? value : ktime_add_safe(now_on(t->clock), value);
    t->settime_flags = flags & (TIMERFD_ABSTIME | TIMERFD_CANCEL_ON_SET);
    int r = schedule(t);
    pthread_mutex_unlock(&t->lock);
    return r;
}

void timerfd_get(struct file *f, struct itimerspec *cur)
{
    struct timerfd *t = f->priv;
    pthread_mutex_lock(&t->lock);
    int64_t now = now_on(t->clock);
    update(t, now);
    rearm_periodic(t, now);
    cur->it_value = ktime_to_ts(remaining(t, now));
    cur->it_interval = ktime_to_ts(t->interval);
    pthread_mutex_unlock(&t->lock);
}
