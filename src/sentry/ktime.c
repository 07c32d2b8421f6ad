/* Timeouts on the guest's clocks (include/sentry/ktime.h): absolute times
 * turned into the CLOCK_MONOTONIC deadlines of the wait primitive; the
 * guest's clocks resolved, CPU-time clocks included. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "sched/wait.h"
#include "sentry/kernel.h"
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

/* struct __kernel_itimerspec: interval, then value. */
struct k_itimerspec {
    int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

long ktime_itimerspec_in(struct task *t, uint64_t u, struct itimerspec *its)
{
    struct k_itimerspec k;
    if (copy_in(t, &k, u, sizeof(k)) < 0)
        return -EFAULT;
    if (!ktime_valid(k.interval_sec, k.interval_nsec) || !ktime_valid(k.value_sec, k.value_nsec))
        return -EINVAL;
    its->it_interval.tv_sec = k.interval_sec;
    its->it_interval.tv_nsec = (long)k.interval_nsec;
    its->it_value.tv_sec = k.value_sec;
    its->it_value.tv_nsec = (long)k.value_nsec;
    return 0;
}

long ktime_itimerspec_out(struct task *t, uint64_t u, const struct itimerspec *its)
{
    struct k_itimerspec k = { its->it_interval.tv_sec, its->it_interval.tv_nsec,
                              its->it_value.tv_sec, its->it_value.tv_nsec };
    return copy_out(t, u, &k, sizeof(k)) < 0 ? -EFAULT : 0;
}

/* ---- the guest's clocks ---- */

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif
/* Linux's encoding of CPU-time clock ids (posix-timers_types.h): a negative
 * id is ~pid << 3 | which, with 4 set for a thread clock; pid 0 is the
 * caller. id & 7 == 3 instead names a posix clock by file descriptor. */
#define CPUCLOCK_PID(id) (~((id) >> 3))
#define CPUCLOCK_PERTHREAD(id) ((id)&4)
#define CPUCLOCK_WHICH(id) ((id)&3)
#define CPUCLOCK_MAX 3
#define CLOCKFD 3
#define CLOCKFD_MASK 7

void gclock_process(struct gclock *c, struct process *p, int which)
{
    c->host = 0;
    c->which = which;
    c->proc = process_get(p);
    c->task = NULL;
    c->last = 0;
}

long gclock_get(struct task *t, int id, int gettime, struct gclock *c)
{
    c->host = 0;
    c->which = CPUCLOCK_SCHED;
    c->proc = NULL;
    c->task = NULL;
    c->last = 0;
    if (id >= 0) {
        /* 10 was CLOCK_SGI_CYCLE; 16..23 are the auxiliary clocks, which
         * the sandbox does not offer. */
        if (id > CLOCK_TAI || id == 10)
            return -EINVAL;
        if (id == CLOCK_PROCESS_CPUTIME_ID) {
            c->proc = process_get(t->proc);
        } else if (id == CLOCK_THREAD_CPUTIME_ID) {
            c->proc = process_get(t->proc);
            c->task = task_get(t);
        } else {
            c->host = (clockid_t)id;
        }
        return 0;
    }
    /* No posix clock devices: every descriptor is not one (EINVAL, as
     * get_clock_desc gives for other files and for closed fds). */
    if ((id & CLOCKFD_MASK) == CLOCKFD || CPUCLOCK_WHICH(id) >= CPUCLOCK_MAX)
        return -EINVAL;
    c->which = CPUCLOCK_WHICH(id);
    int pid = CPUCLOCK_PID(id);
    struct sandbox *box = t->proc->sandbox;
    if (CPUCLOCK_PERTHREAD(id)) {
        /* A thread of the caller's own process. */
        struct task *k = pid ? pid_find_task(box, pid) : task_get(t);
        if (!k)
            return -EINVAL;
        if (k->proc != t->proc) {
            task_put(k);
            return -EINVAL;
        }
        c->task = k;
        c->proc = process_get(t->proc);
        return 0;
    }
    if (pid == 0 || (gettime && pid == t->tid)) {
        c->proc = process_get(t->proc);
        return 0;
    }
    c->proc = pid_find_process(box, pid);
    return c->proc ? 0 : -EINVAL;
}

void gclock_put(struct gclock *c)
{
    if (c->task)
        task_put(c->task);
    if (c->proc)
        process_put(c->proc);
    c->task = NULL;
    c->proc = NULL;
}

static int64_t cpu_read(struct gclock *c)
{
    struct process *p = c->proc;
    pid_t tid = 0;
    if (c->task) {
        pthread_mutex_lock(&p->lock);
        tid = c->task->exited ? 0 : mm_ctx_host_tid(c->task->ctx);
        pthread_mutex_unlock(&p->lock);
        if (!tid)
            return -1;
    }
    struct mm *mm = process_mm_get(p);
    int64_t ns = -1;
    if (mm) {
        ns = mm_host_cputime(mm, tid, c->which);
        mm_put(mm);
    }
    if (ns < 0 && !tid) {
        /* A process whose stub is gone: what its exit read. */
        pthread_mutex_lock(&p->sandbox->tasklist);
        struct proc_usage u = p->self_usage;
        pthread_mutex_unlock(&p->sandbox->tasklist);
        if (u.utime || u.stime)
            ns = (int64_t)(u.utime + (c->which == CPUCLOCK_VIRT ? 0 : u.stime)) * 10000000LL;
    }
    return ns;
}

int64_t gclock_now(struct gclock *c)
{
    if (!c->proc) {
        struct timespec ts;
        clock_gettime(__atomic_load_n(&c->host, __ATOMIC_RELAXED), &ts);
        return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
    }
    int64_t ns = cpu_read(c);
    int64_t last = __atomic_load_n(&c->last, __ATOMIC_RELAXED);
    if (ns > last)
        __atomic_store_n(&c->last, ns, __ATOMIC_RELAXED);
    return ns > last ? ns : last;
}

void gclock_res(const struct gclock *c, struct timespec *ts)
{
    if (!c->proc) {
        clock_getres(c->host, ts);
        return;
    }
    /* posix_cpu_clock_getres: a tick for the sampled clocks (the host's
     * own process clock of that kind says how long one is), 1 ns for the
     * scheduler's. */
    ts->tv_sec = 0;
    ts->tv_nsec = 1;
    if (c->which != CPUCLOCK_SCHED)
        clock_getres((clockid_t)((~0u << 3) | (unsigned)c->which), ts);
}
