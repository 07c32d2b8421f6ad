/* Sleeps: nanosleep and clock_nanosleep, as Linux's hrtimer_nanosleep and
 * the k_clock nsleep methods (kernel/time/posix-timers.c,
 * posix-cpu-timers.c), on the one wait primitive so that a signal ends
 * them.
 *
 * Interruption: a relative sleep returns -ERESTART_RESTARTBLOCK after
 * writing the time left to rem (when given; -EFAULT if that write
 * faults), an absolute one -ERESTARTNOHAND. Linux restarts the relative
 * one through restart_syscall with the absolute expiry it kept
 * (hrtimer_nanosleep_restart: clock, expiry, rem pointer), as here (a
 * sleep on a CPU-time clock is EINTR when restarted, as its restart block
 * is not kept). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/syscall.h"

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif
#define CLOCK_SGI_CYCLE 10
#define CLOCKFD 3
#define CLOCKFD_MASK 7
#define CPUCLOCK_PID(id) (~((id) >> 3))
#define CPUCLOCK_PERTHREAD(id) ((id)&4)

/* nanosleep_copyout. */
static long put_rem(struct task *t, uint64_t rmtp, struct timespec left)
{
    int64_t k[2] = { left.tv_sec, left.tv_nsec };
    return copy_out(t, rmtp, k, sizeof(k)) < 0 ? -EFAULT : -ERESTART_RESTARTBLOCK;
}

/* restart_syscall after an interrupted relative sleep: on to the expiry
 * it kept (hrtimer_nanosleep_restart), the time left again to rem. */
static long nsleep_restart(struct task *t)
{
    struct ktimeout to = { .clock = t->restart.clock, .abs = t->restart.abs };
    uint64_t rmtp = t->restart.arg[0];
    if (ktimeout_sleep(t, &to) == 0)
        return 0;
    t->restart.fn = nsleep_restart; /* kept for the next restart */
    if (!rmtp)
        return -ERESTART_RESTARTBLOCK;
    struct timespec left = ktimeout_left(&to);
    if (left.tv_sec == 0 && left.tv_nsec == 0)
        return 0;
    return put_rem(t, rmtp, left);
}

/* common_nsleep on CLOCK_REALTIME, MONOTONIC, BOOTTIME and TAI. */
static long common_nsleep(struct task *t, clockid_t clock, int abs, struct timespec ts,
                          uint64_t rmtp)
{
    struct ktimeout to;
    if (abs) {
        to.clock = clock;
        to.abs = ts;
    } else {
        ktimeout_rel(&to, ts);
    }
    if (ktimeout_sleep(t, &to) == 0)
        return 0;
    if (abs)
        return -ERESTARTNOHAND;
    t->restart = (struct restart_block){
        .fn = nsleep_restart, .arg = { rmtp }, .clock = to.clock, .abs = to.abs
    };
    if (!rmtp)
        return -ERESTART_RESTARTBLOCK;
    struct timespec left = ktimeout_left(&to);
    if (left.tv_sec == 0 && left.tv_nsec == 0)
        return 0; /* do_nanosleep: ended anyway */
    return put_rem(t, rmtp, left);
}

/* posix_cpu_nsleep on a CPU-time clock: until the clock reaches the time.
 * The guest's own sleeping thread does not advance it, so a single thread
 * sleeps until interrupted, as on Linux. The clock is polled: every 1 to
 * 50 ms, sooner near the end. */
static long cpu_nsleep(struct task *t, struct gclock *c, int abs, struct timespec ts, uint64_t rmtp)
{
    int64_t now = gclock_now(c), target;
    int64_t rel = ts.tv_sec >= INT64_MAX / NSEC_PER_SEC - 1 ? INT64_MAX / 2
                                                            : ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
    target = abs ? rel : now + rel;
    for (;;) {
        now = gclock_now(c);
        if (now >= target)
            return 0;
        int64_t step = target - now;
        if (step > 50000000L)
            step = 50000000L;
        if (step < 1000000L)
            step = 1000000L;
        struct ktimeout to;
        struct timespec st = { 0, (long)step };
        ktimeout_rel(&to, st);
        if (ktimeout_sleep(t, &to) < 0)
            break;
    }
    if (abs)
        return -ERESTARTNOHAND;
    if (!rmtp)
        return -ERESTART_RESTARTBLOCK;
    now = gclock_now(c);
    if (now >= target)
        return 0;
    struct timespec left = { (target - now) / NSEC_PER_SEC, (target - now) % NSEC_PER_SEC };
    return put_rem(t, rmtp, left);
}

SYSCALL_DEFINE2(nanosleep, uint64_t, rqtp, uint64_t, rmtp)
{
    struct timespec ts;
    long r = ktime_copy_in(t, rqtp, &ts);
    if (r < 0)
        return r;
    return common_nsleep(t, CLOCK_MONOTONIC, 0, ts, rmtp);
}

SYSCALL_DEFINE4(clock_nanosleep, int, id, int, flags, uint64_t, rqtp, uint64_t, rmtp)
{
    /* clockid_to_kclock, then whether the clock has nsleep (EOPNOTSUPP):
     * both before the time is read. */
    enum { COMMON, CPU, ALARM } kind = CPU;
    if (id >= 0) {
        switch (id) {
        case CLOCK_REALTIME:
        case CLOCK_MONOTONIC:
        case CLOCK_BOOTTIME:
        case CLOCK_TAI:
            kind = COMMON;
            break;
        case CLOCK_PROCESS_CPUTIME_ID:
            break;
        case CLOCK_THREAD_CPUTIME_ID:
        case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE:
        case CLOCK_MONOTONIC_COARSE:
            return -EOPNOTSUPP;
        case CLOCK_REALTIME_ALARM:
        case CLOCK_BOOTTIME_ALARM:
            kind = ALARM;
            break;
        default: /* CLOCK_SGI_CYCLE is gone; no auxiliary clocks */
            return -EINVAL;
        }
    } else if ((id & CLOCKFD_MASK) == CLOCKFD) {
        return -EOPNOTSUPP; /* posix clock devices cannot be slept on */
    } else if (CPUCLOCK_PID(id) != 0 && CPUCLOCK_PID(id) != t->tid &&
               CPUCLOCK_PID(id) != t->proc->pid) {
        /* A CPU clock of a task that does not exist: before the time is
         * read. (The caller's process is the only one the sandbox lets it
         * name so far, as in host_clock.) */
        return -EINVAL;
    }
    struct timespec ts;
    long r = ktime_copy_in(t, rqtp, &ts);
    if (r < 0)
        return r;
    int abs = flags & TIMER_ABSTIME;
    if (abs)
        rmtp = 0;
    if (kind == COMMON)
        return common_nsleep(t, id, abs, ts, rmtp);
    /* alarm_timer_nsleep without an RTC device to wake the machine: the
     * sandbox offers none. */
    if (kind == ALARM)
        return -EOPNOTSUPP;
    /* posix_cpu_nsleep: never on the caller's own thread clock. */
    if (id < 0 && CPUCLOCK_PERTHREAD(id) && (CPUCLOCK_PID(id) == 0 || CPUCLOCK_PID(id) == t->tid))
        return -EINVAL;
    struct gclock c;
    r = gclock_get(t, id, 0, &c);
    if (r < 0)
        return r;
    r = cpu_nsleep(t, &c, abs, ts, rmtp);
    gclock_put(&c);
    return r;
}
