/* Timeouts on the guest's clocks (include/sentry/ktime.h): absolute times
 * turned into the CLOCK_MONOTONIC deadlines of the wait primitive. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "sched/wait.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"

struct timespec ktime_add(struct timespec a, struct timespec b)
{
    struct timespec r = { a.tv_sec, a.tv_nsec + b.tv_nsec };
    if (r.tv_nsec >= NSEC_PER_SEC) {
        r.tv_nsec -= NSEC_PER_SEC;
        r.tv_sec++;
    }
    /* Far deadlines saturate rather than wrap into the past. */
    if (b.tv_sec > INT64_MAX - r.tv_sec) {
        r.tv_sec = INT64_MAX;
        r.tv_nsec = NSEC_PER_SEC - 1;
    } else {
        r.tv_sec += b.tv_sec;
    }
    return r;
}

struct timespec ktime_sub(struct timespec a, struct timespec b)
{
    struct timespec r = { a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec };
    if (r.tv_nsec < 0) {
        r.tv_nsec += NSEC_PER_SEC;
        r.tv_sec--;
    }
    return r;
}

int ktime_cmp(struct timespec a, struct timespec b)
{
    if (a.tv_sec != b.tv_sec)
        return a.tv_sec < b.tv_sec ? -1 : 1;
    return a.tv_nsec < b.tv_nsec ? -1 : a.tv_nsec > b.tv_nsec;
}

void ktimeout_rel(struct ktimeout *to, struct timespec rel)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    to->clock = CLOCK_MONOTONIC;
    to->abs = ktime_add(now, rel);
}

int ktimeout_next(const struct ktimeout *to, struct timespec *mono)
{
    struct timespec now;
    clock_gettime(to->clock, &now);
    if (ktime_cmp(to->abs, now) <= 0)
        return 1;
    if (to->clock == CLOCK_MONOTONIC) {
        *mono = to->abs;
        return 0;
    }
    struct timespec left = ktime_sub(to->abs, now), step = { 1, 0 };
    if (ktime_cmp(left, step) > 0)
        left = step;
    clock_gettime(CLOCK_MONOTONIC, &now);
    *mono = ktime_add(now, left);
    return 0;
}

int ktimeout_sleep(struct task *t, const struct ktimeout *to)
{
    for (;;) {
        struct timespec dl;
        if (to && ktimeout_next(to, &dl))
            return 0;
        task_sleep_prepare(t);
        if (task_sleep(t, to ? &dl : NULL, 0) == -ERESTARTSYS)
            return -ERESTARTSYS;
    }
}

struct timespec ktimeout_left(const struct ktimeout *to)
{
    struct timespec now, zero = { 0, 0 };
    clock_gettime(to->clock, &now);
    struct timespec left = ktime_sub(to->abs, now);
    return left.tv_sec < 0 ? zero : left;
}

long ktime_copy_in(struct task *t, uint64_t u, struct timespec *ts)
{
    struct {
        int64_t sec, nsec;
    } k;
    if (copy_in(t, &k, u, sizeof(k)) < 0)
        return -EFAULT;
    if (!ktime_valid(k.sec, k.nsec))
        return -EINVAL;
    ts->tv_sec = k.sec;
    ts->tv_nsec = (long)k.nsec;
    return 0;
}
