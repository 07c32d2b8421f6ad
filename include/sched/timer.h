/* Timers of the sentry: a callback at a CLOCK_MONOTONIC time, run by one
 * timer thread that sleeps until the earliest armed timer is due (and not
 * at all while none is armed), for what must happen at a time with no
 * task waiting for it: a timerfd's expiry, which wakes its pollers.
 *
 * Locking: arming and disarming take the timer lock only, so they may be
 * called under the owner's lock (the owner's lock, then the timer lock).
 * The callback runs on the timer thread with no lock held; it may take
 * the owner's lock and arm the timer again. ktimer_cancel waits for a
 * running callback, so it must not be called under a lock the callback
 * takes, nor from the callback itself. */
#ifndef SCHED_TIMER_H
#define SCHED_TIMER_H

#include <stdint.h>
#include <time.h>

struct ktimer;
typedef void (*ktimer_fn)(struct ktimer *k);

struct ktimer {
    ktimer_fn fn;
    void *data;           /* the callback's */
    struct timespec when; /* CLOCK_MONOTONIC; while queued */
    int queued;
    struct ktimer *prev, *next;
};

void ktimer_init(struct ktimer *k, ktimer_fn fn, void *data);
/* Run k's callback once at when (a CLOCK_MONOTONIC time; now if past).
 * An armed k is moved to the new time. 0, or -EAGAIN if the timer thread
 * could not be started. */
int ktimer_arm(struct ktimer *k, const struct timespec *when);
/* Take k off the queue if it is armed: its callback does not run for
 * that arming (a call already running goes on). */
void ktimer_disarm(struct ktimer *k);
/* ktimer_disarm, then wait until no call of k's callback runs, and
 * disarm k again if that call armed it: after this k may be freed (when
 * nothing else arms it any more). */
void ktimer_cancel(struct ktimer *k);

/* The timers' times: ns as Linux's ktime_t, saturating at KTIME_MAX (the
 * far future) instead of wrapping. */
#define KTIME_MAX INT64_MAX

/* ktime_set: ts (valid) in ns. */
static inline int64_t ktime_of_ts(const struct timespec *ts)
{
    if (ts->tv_sec >= KTIME_MAX / 1000000000LL)
        return KTIME_MAX;
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static inline struct timespec ktime_to_ts(int64_t ns)
{
    struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
    return ts;
}

/* ktime_add_safe: a + b (both >= 0). */
static inline int64_t ktime_add_safe(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r) || r < 0)
        return KTIME_MAX;
    return r;
}

/* hrtimer_forward: move *expiry past now by whole intervals (of at least
 * 1 ns); how many (0 when now is before *expiry). */
static inline int64_t ktime_forward(int64_t *expiry, int64_t interval, int64_t now)
{
    int64_t delta = now - *expiry, orun = 1;
    if (interval < 1)
        interval = 1;
    if (delta < 0)
        return 0;
    if (delta >= interval) {
        orun = delta / interval;
        *expiry = ktime_add_safe(*expiry, orun * interval);
        if (*expiry > now)
            return orun;
        orun++;
    }
    *expiry = ktime_add_safe(*expiry, interval);
    return orun;
}

#endif
