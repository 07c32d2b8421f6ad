/* Timeouts on the guest's clocks for the sleeps of futex waits and
 * nanosleep: an absolute time on a clock, turned step by step into the
 * CLOCK_MONOTONIC deadlines of the one wait primitive (sched/wait.h). */
#ifndef SENTRY_KTIME_H
#define SENTRY_KTIME_H

#include <stdint.h>
#include <time.h>

struct task;

/* The end of a sleep: abs on clock (CLOCK_MONOTONIC, CLOCK_REALTIME,
 * CLOCK_BOOTTIME or CLOCK_TAI). */
struct ktimeout {
    clockid_t clock;
    struct timespec abs;
};

#define NSEC_PER_SEC 1000000000L

/* Linux's timespec64_valid: tv_sec >= 0 and 0 <= tv_nsec < 1e9. */
static inline int ktime_valid(int64_t sec, int64_t nsec)
{
    return sec >= 0 && nsec >= 0 && nsec < NSEC_PER_SEC;
}

struct task;
/* A struct timespec argument from the guest (its 64-bit layout), checked as
 * Linux's get_timespec64 and timespec64_valid: 0, -EFAULT or -EINVAL. */
long ktime_copy_in(struct task *t, uint64_t u, struct timespec *ts);
/* The same for a struct itimerspec (interval, then value: Linux's
 * get_itimerspec64, then both checked as timespec64_valid). */
long ktime_itimerspec_in(struct task *t, uint64_t u, struct itimerspec *its);
/* put_itimerspec64: 0 or -EFAULT. */
long ktime_itimerspec_out(struct task *t, uint64_t u, const struct itimerspec *its);

/* a + b (b valid), saturating at the far future instead of wrapping. */
struct timespec ktime_add(struct timespec a, struct timespec b);
/* a - b, normalised (tv_nsec in [0, 1e9)); negative when a < b. */
struct timespec ktime_sub(struct timespec a, struct timespec b);
/* -1, 0, 1 as a <, ==, > b. */
int ktime_cmp(struct timespec a, struct timespec b);

/* A timeout rel from now, on CLOCK_MONOTONIC: Linux turns relative sleeps
 * on every clock into CLOCK_MONOTONIC ones (hrtimer_setup), so a change of
 * the realtime clock does not move them. */
void ktimeout_rel(struct ktimeout *to, struct timespec rel);

/* The CLOCK_MONOTONIC deadline of the next sleep toward to: 1 if the time
 * has come already, else 0 and *mono. On CLOCK_MONOTONIC that is to itself;
 * the other clocks can jump (settimeofday, suspend), so a sleep on them is
 * cut into steps of at most a second, each re-reading the clock: a change
 * of the clock shows within a second, where Linux reprograms its timers at
 * once (clock_was_set). */
int ktimeout_next(const struct ktimeout *to, struct timespec *mono);

/* Sleep until to (NULL: forever) or an interruption of t: 0 or
 * -ERESTARTSYS. Wake-ups of t in between are ignored. */
int ktimeout_sleep(struct task *t, const struct ktimeout *to);

/* A guest clock: one of the host's static clocks, or the CPU-time clock
 * of a guest process or thread, which is its stub's (or its stub
 * thread's) CPU time as the host counts it. */
struct process;
struct gclock {
    clockid_t host;       /* a static clock, when proc is NULL */
    int which;            /* a CPU clock's kind: 0 PROF, 1 VIRT, 2 SCHED */
    struct process *proc; /* a CPU clock's process (held) */
    struct task *task;    /* a thread clock's thread (held), or NULL */
    int64_t last;         /* the last CPU time read (a clock never goes back) */
};
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2

/* Resolve guest clock id for caller t, as Linux's clockid_to_kclock and
 * pid_for_clock: 0, or -EINVAL where Linux has no such clock (or no such
 * process or thread: a thread clock must name a thread of t's process).
 * gettime: for clock_gettime/getres, which also take t's own tid as a
 * process clock. Put it with gclock_put. */
long gclock_get(struct task *t, int id, int gettime, struct gclock *c);
/* A process clock of p (which as above), held. */
void gclock_process(struct gclock *c, struct process *p, int which);
void gclock_put(struct gclock *c);
/* Its time in ns (a CPU clock that cannot be read any more stays where
 * it was), and its resolution. */
int64_t gclock_now(struct gclock *c);
void gclock_res(const struct gclock *c, struct timespec *ts);
static inline int gclock_is_cpu(const struct gclock *c)
{
    return c->proc != NULL;
}

/* The time left until to (zero if past), on to's clock. */
struct timespec ktimeout_left(const struct ktimeout *to);

#endif
