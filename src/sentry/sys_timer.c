/* alarm, getitimer, setitimer (Linux's kernel/time/itimer.c) and
 * timer_create, timer_settime, timer_gettime, timer_getoverrun,
 * timer_delete (posix-timers.c): the checks and copies; the timers are
 * src/sentry/ptimer.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/ptimer.h"
#include "sentry/syscall.h"

#define NSEC_PER_USEC 1000L

/* struct __kernel_old_itimerval: interval, then value, each a timeval. */
struct k_itimerval {
    int64_t interval_sec, interval_usec, value_sec, value_usec;
};

/* struct sigevent as the kernel copies it (64 bytes). */
struct k_sigevent {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid; /* sigev_notify_thread_id */
    int32_t pad[11];
};

static int64_t tv_ns(int64_t sec, int64_t usec)
{
    if (sec >= INT64_MAX / NSEC_PER_SEC)
        return INT64_MAX;
    return sec * NSEC_PER_SEC + usec * NSEC_PER_USEC;
}

/* put_itimerval: microseconds, truncated. */
static long put_itimerval(struct task *t, uint64_t u, const struct itimer_val *v)
{
    struct k_itimerval k = { v->interval / NSEC_PER_SEC,
                             (v->interval % NSEC_PER_SEC) / NSEC_PER_USEC, v->value / NSEC_PER_SEC,
                             (v->value % NSEC_PER_SEC) / NSEC_PER_USEC };
    return copy_out(t, u, &k, sizeof(k)) < 0 ? -EFAULT : 0;
}

SYSCALL_DEFINE2(getitimer, int, which, uint64_t, uvalue)
{
    struct itimer_val cur;
    long r = ptimer_getitimer(t, which, &cur);
    if (r < 0)
        return r;
    return put_itimerval(t, uvalue, &cur);
}

SYSCALL_DEFINE3(setitimer, int, which, uint64_t, unew, uint64_t, uold)
{
    /* get_itimerval: a NULL value disarms (a misfeature Linux keeps). */
    struct itimer_val nv = { 0, 0 }, old;
    if (unew) {
        struct k_itimerval k;
        if (copy_in(t, &k, unew, sizeof(k)) < 0)
            return -EFAULT;
        if (k.value_sec < 0 || k.value_usec < 0 || k.value_usec >= 1000000 || k.interval_sec < 0 ||
            k.interval_usec < 0 || k.interval_usec >= 1000000)
            return -EINVAL;
        nv.value = tv_ns(k.value_sec, k.value_usec);
        nv.interval = tv_ns(k.interval_sec, k.interval_usec);
    }
    long r = ptimer_setitimer(t, which, &nv, &old);
    if (r < 0 || !uold)
        return r;
    return put_itimerval(t, uold, &old);
}

/* alarm_setitimer: the seconds left, rounded to the nearest, and never 0
 * for an alarm still due. */
SYSCALL_DEFINE1(alarm, unsigned, seconds)
{
    struct itimer_val nv = { (int64_t)seconds * NSEC_PER_SEC, 0 }, old;
    if (ptimer_setitimer(t, ITIMER_REAL, &nv, &old) < 0)
        return 0;
    int64_t sec = old.value / NSEC_PER_SEC, nsec = old.value % NSEC_PER_SEC;
    if ((!sec && nsec) || nsec >= NSEC_PER_SEC / 2)
        sec++;
    return (long)(unsigned)sec;
}

SYSCALL_DEFINE3(timer_create, int, clockid, uint64_t, usevp, uint64_t, uid)
{
    if (!usevp)
        return ptimer_create(t, clockid, NULL, uid);
    struct k_sigevent k;
    if (copy_in(t, &k, usevp, sizeof(k)) < 0)
        return -EFAULT;
    struct ptimer_sigevent ev = { k.value, k.signo, k.notify, k.tid };
    return ptimer_create(t, clockid, &ev, uid);
}

SYSCALL_DEFINE4(timer_settime, int, id, int, flags, uint64_t, unew, uint64_t, uold)
{
    if (!unew)
        return -EINVAL;
    struct itimerspec nv, old;
    long r = ktime_itimerspec_in(t, unew, &nv);
    if (r < 0)
        return r;
    memset(&old, 0, sizeof(old));
    r = ptimer_settime(t, id, flags, &nv, uold ? &old : NULL);
    if (r == 0 && uold)
        r = ktime_itimerspec_out(t, uold, &old);
    return r;
}

SYSCALL_DEFINE2(timer_gettime, int, id, uint64_t, usetting)
{
    struct itimerspec cur;
    memset(&cur, 0, sizeof(cur));
    long r = ptimer_gettime(t, id, &cur);
    if (r < 0)
        return r;
    return ktime_itimerspec_out(t, usetting, &cur);
}

SYSCALL_DEFINE1(timer_getoverrun, int, id)
{
    return ptimer_getoverrun(t, id);
}

SYSCALL_DEFINE1(timer_delete, int, id)
{
    return ptimer_delete(t, id);
}
