/* A process's timers (include/sentry/ptimer.h), as Linux's itimer.c,
 * posix-timers.c and posix-cpu-timers.c.
 *
 * Every timer is a struct ptimer on a guest clock (sentry/ktime.h's
 * gclock), with its expiry and interval in ns on that clock, and a ktimer
 * of the sentry's one timer thread (sched/timer.h) that looks at it: at
 * the expiry on CLOCK_MONOTONIC, at least every second on the clocks that
 * can jump (as ktime.c's timeouts), and on a CPU-time clock, which the
 * host cannot wake us at, by polling: after the wall time the CPU time
 * left would take on every host CPU at once, and never more often than
 * every POLL_MIN_NS.
 *
 * A POSIX timer's signal is its own preallocated sigqueue entry (signal.c's
 * timer section): while it is pending the timer is not rearmed; taking it
 * (the dequeued hook) moves the expiry past now by whole intervals, which
 * counts the expirations missed as the overrun, and rearms, as Linux's
 * posixtimer_deliver_signal. A signal that cannot be queued (ignored)
 * rearms at once. timer_settime and timer_delete take a pending signal
 * back (Linux 6.13 on drops it when it would be delivered).
 *
 * The interval timers send SIGALRM, SIGVTALRM, SIGPROF as the kernel
 * (SI_KERNEL) and rearm at once (ITIMER_REAL by whole intervals past now;
 * the CPU ones by one interval, as Linux's check_cpu_itimer).
 *
 * Locking: set->lock guards every timer of the set; it comes after
 * process->lock (the dequeued hook runs under that) and before the timer
 * thread's lock. A timer's gen is changed under both, so signal.c checks
 * it under process->lock. Clocks are read with no lock held (a thread's
 * CPU clock takes process->lock); the hook, which holds one, uses the
 * CPU clock's last reading. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "sched/timer.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/ptimer.h"

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif
#ifndef CLOCK_BOOTTIME_ALARM
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#endif
#define GCAP_WAKE_ALARM 35
#define CLOCKFD 3
#define CLOCKFD_MASK 7

#define NSEC 1000000000LL
#define POLL_MIN_NS 4000000LL /* a CPU-time timer's clock is read at most this often */

#define SIGEV_SIGNAL_K 0
#define SIGEV_NONE_K 1
#define SIGEV_THREAD_K 2
#define SIGEV_THREAD_ID_K 4
#define SI_TIMER_K (-2)

enum { PT_DISARMED, PT_ARMED, PT_REQUEUE };

struct ptimers;

struct ptimer {
    struct ptimers *set;
    struct list_node node; /* set->posix, by id */
    struct ktimer kt;
    int id;     /* the POSIX timer's id; -1 for an interval timer */
    int itimer; /* ITIMER_*, or -1 */
    struct gclock clock;
    clockid_t base;      /* a static clock's own (CLOCK_REALTIME for a relative
                       CLOCK_REALTIME timer runs on CLOCK_MONOTONIC) */
    int notify;          /* SIGEV_* */
    struct task *target; /* SIGEV_THREAD_ID's thread (held) */
    int state;           /* PT_*: armed, or waiting for its signal's delivery */
    int64_t expiry, interval;
    int64_t overrun, overrun_last;
    unsigned gen; /* new with each setting and the deletion */
    int refs;     /* the set's list or slot, and each call using it (set->lock) */
    struct sigqueue sigq;
};

struct ptimers {
    pthread_mutex_t lock;
    struct process *p;      /* not held: the set goes before it */
    struct list_node posix; /* POSIX timers, by id */
    int next_id;            /* Linux's next_posix_timer_id */
    struct ptimer *it[3];   /* ITIMER_REAL, _VIRTUAL, _PROF once set */
};

/* ---- clocks (times in ns: sched/timer.h's ktime arithmetic) ---- */

/* The timer's clock now (no lock held), and under a lock: a CPU clock's
 * last reading. */
static int64_t clock_now(struct ptimer *k)
{
    return gclock_now(&k->clock);
}

static int64_t clock_now_locked(struct ptimer *k)
{
    if (gclock_is_cpu(&k->clock))
        return __atomic_load_n(&k->clock.last, __ATOMIC_RELAXED);
    return gclock_now(&k->clock);
}

/* hrtimer_forward: move the expiry past now by whole intervals; how many. */
static int64_t forward(struct ptimer *k, int64_t now)
{
    return ktime_forward(&k->expiry, k->interval, now);
}

/* The timer thread's next look at an armed k (under set->lock). */
static int schedule(struct ptimer *k, int64_t now)
{
    if (k->state != PT_ARMED || k->notify == SIGEV_NONE_K) {
        ktimer_disarm(&k->kt);
        return 0;
    }
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t left = k->expiry - now, step;
    if (left < 0)
        left = 0;
    if (gclock_is_cpu(&k->clock)) {
        static long ncpu;
        if (!ncpu) {
            long n = sysconf(_SC_NPROCESSORS_ONLN);
            __atomic_store_n(&ncpu, n > 0 ? n : 1, __ATOMIC_RELAXED);
        }
        step = left / __atomic_load_n(&ncpu, __ATOMIC_RELAXED);
        if (step < POLL_MIN_NS)
            step = POLL_MIN_NS;
    } else if (k->base == CLOCK_MONOTONIC) {
        mono = ktime_to_ts(k->expiry);
        return ktimer_arm(&k->kt, &mono);
    } else {
        step = left < NSEC ? left : NSEC;
    }
    mono = ktime_to_ts(ktime_add_safe(ktime_of_ts(&mono), step));
    return ktimer_arm(&k->kt, &mono);
}

/* ---- firing ---- */

/* A tick (TICK_NSEC): the resolution of the host's sampled CPU clocks. */
static int64_t tick_ns(void)
{
    struct timespec ts;
    if (clock_getres((clockid_t)((~0u << 3) | CPUCLOCK_PROF), &ts) < 0 || ts.tv_nsec <= 1)
        return 4000000;
    return ts.tv_nsec;
}

static const int itimer_sig[3] = { SIGALRM, SIGVTALRM, SIGPROF };

static void ptimer_fire(struct ktimer *kt)
{
    struct ptimer *k = kt->data;
    struct ptimers *set = k->set;
    struct process *p = set->p;
    int64_t now = clock_now(k);
    pthread_mutex_lock(&set->lock);
    if (k->state != PT_ARMED) {
        pthread_mutex_unlock(&set->lock);
        return;
    }
    if (now < k->expiry) {
        schedule(k, now);
        pthread_mutex_unlock(&set->lock);
        return;
    }
    if (k->itimer == ITIMER_VIRTUAL || k->itimer == ITIMER_PROF) {
        /* check_cpu_itimer: one interval on, at once. */
        if (!k->interval)
            k->state = PT_DISARMED;
        else
            k->expiry = ktime_add_safe(k->expiry, k->interval);
        schedule(k, now);
        int sig = itimer_sig[k->itimer];
        pthread_mutex_unlock(&set->lock);
        signal_process_info(p, sig, NULL);
        return;
    }
    unsigned gen = k->gen;
    int periodic = k->interval != 0;
    k->state = periodic ? PT_REQUEUE : PT_DISARMED;
    pthread_mutex_unlock(&set->lock);
    if (signal_timer_send(p, k->target, &k->sigq, &k->gen, gen) != 1 || !periodic)
        return;
    /* Not queued. ITIMER_REAL stops (Linux rearms it when SIGALRM is
     * taken, and an ignored one never is); a POSIX timer moves on to its
     * next period, at least a tick from now (Linux's posix_timer_fn
     * before 6.13, which bounds a timer whose signal is ignored). */
    pthread_mutex_lock(&set->lock);
    if (k->gen == gen && k->state == PT_REQUEUE) {
        if (k->itimer == ITIMER_REAL) {
            k->state = PT_DISARMED;
        } else {
            int64_t tick = tick_ns();
            k->overrun += forward(k, k->interval < tick ? ktime_add_safe(now, tick) : now);
            k->state = PT_ARMED;
            schedule(k, now);
        }
    }
    pthread_mutex_unlock(&set->lock);
}

/* The timer's signal was taken (under p->lock): its overrun, and the next
 * period (posixtimer_deliver_signal; for ITIMER_REAL
 * posixtimer_rearm_itimer, which counts no overrun). */
static void ptimer_dequeued(struct sigqueue *q, struct sig_info *info)
{
    struct ptimer *k = container_of(q, struct ptimer, sigq);
    struct ptimers *set = k->set;
    pthread_mutex_lock(&set->lock);
    if (k->interval && k->state == PT_REQUEUE) {
        int64_t now = clock_now_locked(k);
        if (now < k->expiry)
            now = k->expiry;
        k->overrun += forward(k, now);
        k->state = PT_ARMED;
        k->overrun_last = k->overrun;
        k->overrun = -1;
        schedule(k, now);
    }
    if (k->itimer < 0) {
        int64_t sum = k->overrun_last + info->overrun;
        info->overrun = sum > INT_MAX ? INT_MAX : (int32_t)sum;
    }
    pthread_mutex_unlock(&set->lock);
}

/* ---- the set ---- */

static struct ptimers *set_of(struct process *p)
{
    struct ptimers *set = __atomic_load_n(&p->timers, __ATOMIC_ACQUIRE);
    if (set)
        return set;
    set = calloc(1, sizeof(*set));
    if (!set)
        return NULL;
    pthread_mutex_init(&set->lock, NULL);
    set->p = p;
    list_init(&set->posix);
    struct ptimers *none = NULL;
    if (!__atomic_compare_exchange_n(&p->timers, &none, set, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        pthread_mutex_destroy(&set->lock);
        free(set);
        set = none;
    }
    return set;
}

static struct ptimer *ptimer_new(struct ptimers *set)
{
    struct ptimer *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->set = set;
    list_init(&k->node);
    ktimer_init(&k->kt, ptimer_fire, k);
    k->id = -1;
    k->itimer = -1;
    k->overrun = -1;
    k->refs = 1;
    return k;
}

/* Stop k for good and free it; it is off the set's list already. The
 * signal taken back under p->lock with a new gen, so that a firing under
 * way does not queue it again. */
static void ptimer_free(struct process *p, struct ptimer *k)
{
    pthread_mutex_lock(&p->lock);
    pthread_mutex_lock(&k->set->lock);
    k->gen++;
    k->state = PT_DISARMED;
    signal_timer_cancel_locked(p, &k->sigq);
    pthread_mutex_unlock(&k->set->lock);
    pthread_mutex_unlock(&p->lock);
    ktimer_cancel(&k->kt);
    if (k->id >= 0)
        signal_timer_unreserve(p);
    if (k->target)
        task_put(k->target);
    gclock_put(&k->clock);
    free(k);
}

/* Drop a reference to k; the last one frees it. Under nothing. */
static void ptimer_put(struct process *p, struct ptimer *k)
{
    pthread_mutex_lock(&k->set->lock);
    int last = --k->refs == 0;
    pthread_mutex_unlock(&k->set->lock);
    if (last)
        ptimer_free(p, k);
}

/* ---- interval timers ---- */

static struct ptimer *itimer_get(struct ptimers *set, int which)
{
    pthread_mutex_lock(&set->lock);
    struct ptimer *k = set->it[which];
    pthread_mutex_unlock(&set->lock);
    if (k)
        return k;
    k = ptimer_new(set);
    if (!k)
        return NULL;
    k->itimer = which;
    k->notify = SIGEV_SIGNAL_K;
    if (which == ITIMER_REAL) {
        /* SIGALRM as the kernel sends it (SEND_SIG_PRIV), from an entry of
         * its own so that taking it rearms the timer. */
        k->clock.host = CLOCK_MONOTONIC;
        k->base = CLOCK_MONOTONIC;
        k->sigq.dequeued = ptimer_dequeued;
        k->sigq.info.signo = SIGALRM;
        k->sigq.info.code = SI_KERNEL;
    } else {
        gclock_process(&k->clock, set->p, which == ITIMER_VIRTUAL ? CPUCLOCK_VIRT : CPUCLOCK_PROF);
    }
    pthread_mutex_lock(&set->lock);
    if (set->it[which]) {
        pthread_mutex_unlock(&set->lock);
        gclock_put(&k->clock);
        free(k);
        return set->it[which];
    }
    set->it[which] = k;
    pthread_mutex_unlock(&set->lock);
    return k;
}

/* getitimer's figures of k (under set->lock): itimer_get_remaining for
 * ITIMER_REAL (1 µs for one due but not yet fired), get_cpu_itimer (a
 * tick) for the CPU ones. */
static void itimer_read(struct ptimer *k, int64_t now, struct itimer_val *cur)
{
    cur->interval = k->interval;
    cur->value = 0;
    if (k->state != PT_ARMED)
        return;
    int64_t rem = k->expiry - now;
    if (rem <= 0)
        rem = k->itimer == ITIMER_REAL ? 1000 : tick_ns();
    cur->value = rem;
}

long ptimer_getitimer(struct task *t, int which, struct itimer_val *cur)
{
    if (which < ITIMER_REAL || which > ITIMER_PROF)
        return -EINVAL;
    cur->value = cur->interval = 0;
    struct ptimers *set = __atomic_load_n(&t->proc->timers, __ATOMIC_ACQUIRE);
    if (!set)
        return 0;
    pthread_mutex_lock(&set->lock);
    struct ptimer *k = set->it[which];
    pthread_mutex_unlock(&set->lock);
    if (!k)
        return 0;
    int64_t now = clock_now(k);
    pthread_mutex_lock(&set->lock);
    itimer_read(k, now, cur);
    pthread_mutex_unlock(&set->lock);
    return 0;
}

long ptimer_setitimer(struct task *t, int which, const struct itimer_val *nv,
                      struct itimer_val *old)
{
    if (which < ITIMER_REAL || which > ITIMER_PROF)
        return -EINVAL;
    struct itimer_val none;
    if (!old)
        old = &none;
    old->value = old->interval = 0;
    struct ptimers *set = __atomic_load_n(&t->proc->timers, __ATOMIC_ACQUIRE);
    if (!set && nv->value == 0 && (which == ITIMER_REAL || nv->interval == 0))
        return 0; /* nothing to change, nothing was set */
    set = set_of(t->proc);
    struct ptimer *k = set ? itimer_get(set, which) : NULL;
    if (!k)
        return -ENOMEM;
    int64_t now = clock_now(k);
    pthread_mutex_lock(&set->lock);
    itimer_read(k, now, old);
    int r = 0;
    if (which == ITIMER_REAL) {
        /* do_setitimer: the interval only with a value. */
        k->interval = nv->value ? nv->interval : 0;
        k->state = nv->value ? PT_ARMED : PT_DISARMED;
        k->expiry = nv->value ? ktime_add_safe(now, nv->value) : 0;
    } else {
        /* set_cpu_itimer: a tick more than asked, the interval kept even
         * without a value. */
        k->interval = nv->interval;
        k->state = nv->value ? PT_ARMED : PT_DISARMED;
        k->expiry = nv->value ? ktime_add_safe(now, ktime_add_safe(nv->value, tick_ns())) : 0;
    }
    r = schedule(k, now);
    pthread_mutex_unlock(&set->lock);
    return r;
}

/* ---- POSIX timers ---- */

/* clockid_to_kclock, and whether that clock has timers: 0, -EINVAL or
 * -EOPNOTSUPP. */
static long clock_has_timers(int id)
{
    if (id < 0)
        return (id & CLOCKFD_MASK) == CLOCKFD ? -EOPNOTSUPP : 0;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
    case CLOCK_TAI:
        return 0;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
        return -EOPNOTSUPP;
    default:
        return -EINVAL;
    }
}

/* The timer id in t's process, or NULL; under set->lock. */
static struct ptimer *find_locked(struct ptimers *set, int id)
{
    list_for_each (k, &set->posix, struct ptimer, node)
        if (k->id == id)
            return k;
    return NULL;
}

/* posix_timer_add: the next id of the process, from 0, never one in use. */
static int id_alloc_locked(struct ptimers *set)
{
    for (;;) {
        int id = set->next_id;
        set->next_id = (set->next_id + 1) & INT_MAX;
        if (!find_locked(set, id))
            return id;
    }
}

static void insert_locked(struct ptimers *set, struct ptimer *k)
{
    list_for_each (o, &set->posix, struct ptimer, node)
        if (o->id > k->id) {
            list_add_before(&k->node, &o->node);
            return;
        }
    list_add_tail(&set->posix, &k->node);
}

long ptimer_create(struct task *t, int clockid, const struct ptimer_sigevent *ev, uint64_t uid)
{
    struct process *p = t->proc;
    long r = clock_has_timers(clockid);
    if (r < 0)
        return r;
    struct ptimers *set = set_of(p);
    if (!set)
        return -EAGAIN;
    /* alloc_posix_timer: the signal's entry, within RLIMIT_SIGPENDING. */
    if (signal_timer_reserve(p) < 0)
        return -EAGAIN;
    struct ptimer *k = ptimer_new(set);
    if (!k) {
        signal_timer_unreserve(p);
        return -EAGAIN;
    }
    pthread_mutex_lock(&set->lock);
    k->id = id_alloc_locked(set);
    pthread_mutex_unlock(&set->lock);
    k->sigq.dequeued = ptimer_dequeued;
    k->sigq.info.code = SI_TIMER_K;
    k->sigq.info.timer_id = k->id;
    /* good_sigevent */
    r = 0;
    if (ev) {
        k->notify = ev->notify;
        k->sigq.info.signo = ev->signo;
        k->sigq.info.timer_value = ev->value;
        switch (ev->notify) {
        case SIGEV_SIGNAL_K | SIGEV_THREAD_ID_K:
            k->target = ev->tid > 0 ? pid_find_task(p->sandbox, ev->tid) : NULL;
            if (!k->target || k->target->proc != p)
                r = -EINVAL;
            /* fall through */
        case SIGEV_SIGNAL_K:
        case SIGEV_THREAD_K:
            if (ev->signo <= 0 || ev->signo > GUEST_NSIG)
                r = -EINVAL;
            break;
        case SIGEV_NONE_K:
            break;
        default:
            r = -EINVAL;
        }
    } else {
        k->notify = SIGEV_SIGNAL_K;
        k->sigq.info.signo = SIGALRM;
        k->sigq.info.timer_value = (uint64_t)k->id;
    }
    int32_t id32 = k->id;
    if (r == 0 && copy_out(t, uid, &id32, sizeof(id32)) < 0)
        r = -EFAULT;
    /* The clock's own timer_create. */
    if (r == 0) {
        int base = clockid;
        if (clockid == CLOCK_REALTIME_ALARM || clockid == CLOCK_BOOTTIME_ALARM) {
            /* alarm_timer_create: a host without a wake-up device has no
             * alarm clocks (its clock_getres says so); then the
             * capability. They run on their base clock here. */
            struct timespec res;
            if (clock_getres(clockid, &res) < 0)
                r = -EOPNOTSUPP;
            else if (!creds_capable(t->cred, GCAP_WAKE_ALARM))
                r = -EPERM;
            base = clockid == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
        }
        if (r == 0)
            r = gclock_get(t, base, 0, &k->clock);
        k->base = gclock_is_cpu(&k->clock) ? 0 : (clockid_t)base;
    }
    if (r < 0) {
        if (k->target)
            task_put(k->target);
        gclock_put(&k->clock);
        free(k);
        signal_timer_unreserve(p);
        return r;
    }
    pthread_mutex_lock(&set->lock);
    insert_locked(set, k);
    pthread_mutex_unlock(&set->lock);
    return 0;
}

/* common_timer_get and posix_cpu_timer_get (under set->lock). */
static void posix_read(struct ptimer *k, int64_t now, struct itimerspec *cur)
{
    int none = k->notify == SIGEV_NONE_K;
    memset(cur, 0, sizeof(*cur));
    cur->it_interval = ktime_to_ts(k->interval);
    if (!k->interval && k->state == PT_DISARMED && !none)
        return;
    if (!k->expiry)
        return;
    if (k->interval && k->state != PT_ARMED)
        k->overrun += forward(k, now);
    int64_t rem = k->expiry - now;
    if (rem <= 0) {
        if (!none)
            cur->it_value.tv_nsec = 1;
    } else {
        cur->it_value = ktime_to_ts(rem);
    }
}

/* The timer id of t's process, returned with its set's lock held (*setp),
 * or NULL (no such timer: EINVAL) with no lock held. */
static struct ptimer *find_lock(struct task *t, int id, struct ptimers **setp)
{
    struct ptimers *set = __atomic_load_n(&t->proc->timers, __ATOMIC_ACQUIRE);
    if (!set || id < 0)
        return NULL;
    pthread_mutex_lock(&set->lock);
    struct ptimer *k = find_locked(set, id);
    if (!k) {
        pthread_mutex_unlock(&set->lock);
        return NULL;
    }
    *setp = set;
    return k;
}

/* The timer id of t's process (set and timer, with a reference), or
 * -EINVAL. */
static long lookup(struct task *t, int id, struct ptimers **setp, struct ptimer **kp)
{
    struct ptimer *k = find_lock(t, id, setp);
    if (!k)
        return -EINVAL;
    k->refs++;
    pthread_mutex_unlock(&(*setp)->lock);
    *kp = k;
    return 0;
}

/* A timer another thread deletes meanwhile stays until the last call
 * using it is done; a call that finds it gone under the lock fails with
 * EINVAL, as if it had come later. */
long ptimer_settime(struct task *t, int id, int flags, const struct itimerspec *nv,
                    struct itimerspec *old)
{
    struct process *p = t->proc;
    struct ptimers *set;
    struct ptimer *k;
    long r = lookup(t, id, &set, &k);
    if (r < 0)
        return r;
    int abs = flags & TIMER_ABSTIME;
    int64_t value = ktime_of_ts(&nv->it_value);
    /* A relative CLOCK_REALTIME timer runs on CLOCK_MONOTONIC
     * (common_hrtimer_arm), the others on their own clock. */
    if (!gclock_is_cpu(&k->clock))
        __atomic_store_n(&k->clock.host,
                         (!abs && k->base == CLOCK_REALTIME) ? CLOCK_MONOTONIC : k->base,
                         __ATOMIC_RELAXED);
    int64_t now = clock_now(k);
    pthread_mutex_lock(&p->lock);
    pthread_mutex_lock(&set->lock);
    if (find_locked(set, id) != k) {
        pthread_mutex_unlock(&set->lock);
        pthread_mutex_unlock(&p->lock);
        ptimer_put(p, k);
        return -EINVAL;
    }
    if (old)
        posix_read(k, now, old);
    k->gen++;
    signal_timer_cancel_locked(p, &k->sigq);
    k->state = PT_DISARMED;
    /* posix_timer_set_common */
    k->interval = value ? ktime_of_ts(&nv->it_interval) : 0;
    k->overrun_last = 0;
    k->overrun = -1;
    k->expiry = 0;
    if (value) {
        k->expiry = abs ? value : ktime_add_safe(now, value);
        if (k->notify != SIGEV_NONE_K)
            k->state = PT_ARMED;
    }
    r = schedule(k, now);
    pthread_mutex_unlock(&set->lock);
    pthread_mutex_unlock(&p->lock);
    ptimer_put(p, k);
    return r;
}

long ptimer_gettime(struct task *t, int id, struct itimerspec *cur)
{
    struct ptimers *set;
    struct ptimer *k;
    long r = lookup(t, id, &set, &k);
    if (r < 0)
        return r;
    int64_t now = clock_now(k);
    pthread_mutex_lock(&set->lock);
    if (find_locked(set, id) == k)
        posix_read(k, now, cur);
    else
        r = -EINVAL;
    pthread_mutex_unlock(&set->lock);
    ptimer_put(t->proc, k);
    return r;
}

long ptimer_getoverrun(struct task *t, int id)
{
    struct ptimers *set;
    struct ptimer *k = find_lock(t, id, &set);
    if (!k)
        return -EINVAL;
    long r = k->overrun_last > INT_MAX ? INT_MAX : (long)k->overrun_last;
    pthread_mutex_unlock(&set->lock);
    return r;
}

long ptimer_delete(struct task *t, int id)
{
    struct ptimers *set;
    struct ptimer *k = find_lock(t, id, &set);
    if (!k)
        return -EINVAL;
    list_del(&k->node);
    pthread_mutex_unlock(&set->lock);
    ptimer_put(t->proc, k);
    return 0;
}

void ptimers_exec(struct process *p)
{
    struct ptimers *set = __atomic_load_n(&p->timers, __ATOMIC_ACQUIRE);
    if (!set)
        return;
    for (;;) {
        pthread_mutex_lock(&set->lock);
        struct ptimer *k = NULL;
        if (!list_empty(&set->posix)) {
            k = list_entry(set->posix.next, struct ptimer, node);
            list_del(&k->node);
        }
        pthread_mutex_unlock(&set->lock);
        if (!k)
            break;
        ptimer_put(p, k);
    }
}

void ptimers_exit(struct process *p)
{
    struct ptimers *set = __atomic_load_n(&p->timers, __ATOMIC_ACQUIRE);
    if (!set)
        return;
    ptimers_exec(p);
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&set->lock);
        struct ptimer *k = set->it[i];
        set->it[i] = NULL;
        pthread_mutex_unlock(&set->lock);
        if (k)
            ptimer_free(p, k);
    }
    __atomic_store_n(&p->timers, NULL, __ATOMIC_RELEASE);
    pthread_mutex_destroy(&set->lock);
    free(set);
}
