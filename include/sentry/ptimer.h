/* A process's timers (src/sentry/ptimer.c): the interval timers of alarm
 * and setitimer (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF) and the POSIX
 * timers of timer_create, as Linux's kernel/time/itimer.c, posix-timers.c
 * and posix-cpu-timers.c. All run on the sentry's timer thread
 * (sched/timer.h); CPU-time timers poll their clock from it. */
#ifndef SENTRY_PTIMER_H
#define SENTRY_PTIMER_H

#include <stdint.h>
#include <time.h>

struct process;
struct task;

/* setitimer and getitimer of which (ITIMER_*, checked here: -EINVAL) for
 * t's process; times in ns, Linux's rounding. old may be NULL. */
struct itimer_val {
    int64_t value, interval;
};
long ptimer_setitimer(struct task *t, int which, const struct itimer_val *nv,
                      struct itimer_val *old);
long ptimer_getitimer(struct task *t, int which, struct itimer_val *cur);

/* timer_create's struct sigevent, as copied in. */
struct ptimer_sigevent {
    uint64_t value;
    int32_t signo, notify, tid;
};
/* timer_create for t on clock id (ev NULL: SIGALRM with the id as value):
 * the new id is written to uid (which may fault: -EFAULT, as Linux, after
 * the id is taken). 0 or -errno. */
long ptimer_create(struct task *t, int clockid, const struct ptimer_sigevent *ev, uint64_t uid);
/* timer_settime, timer_gettime (-EINVAL for an id t's process has not),
 * timer_getoverrun and timer_delete. nv is valid (checked by the caller). */
long ptimer_settime(struct task *t, int id, int flags, const struct itimerspec *nv,
                    struct itimerspec *old);
long ptimer_gettime(struct task *t, int id, struct itimerspec *cur);
long ptimer_getoverrun(struct task *t, int id);
long ptimer_delete(struct task *t, int id);

/* execve: the POSIX timers are deleted (the interval timers stay). */
void ptimers_exec(struct process *p);
/* The process's end (its last thread): every timer stops and goes. */
void ptimers_exit(struct process *p);

#endif
