/* Wait queues and the interruptible sleep: a task sleeps on the condition
 * variable of its own sleeper; wake-ups, task_interrupt and the deadline
 * end the sleep. See include/sched/wait.h for the locking rule. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base.h"
#include "sched/wait.h"

__thread struct task *current_task;
#include "sentry/kernel.h"

/* The sleeper of host threads that run no task (tests, helper threads). */
static _Thread_local struct sleeper thread_sleeper = {
    PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_COND_INITIALIZER,
    0,
    0,
};

static struct sleeper *sleeper_of(struct task *t)
{
    return t ? &t->sleep : &thread_sleeper;
}

void sleeper_init(struct sleeper *s)
{
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->woken = 0;
    s->interrupt = 0;
}

void sleeper_destroy(struct sleeper *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* ---- queues ---- */

void waitq_init(struct waitq *wq)
{
    pthread_mutex_init(&wq->lock, NULL);
    wq->first = wq->last = NULL;
}

void waitq_destroy(struct waitq *wq)
{
    assert(!wq->first);
    pthread_mutex_destroy(&wq->lock);
}

void waiter_init(struct waiter *w, wake_fn fn, void *data)
{
    w->func = fn;
    w->data = data;
    w->flags = 0;
    w->wq = NULL;
    w->prev = w->next = NULL;
}

static int wake_task_fn(struct waiter *w, unsigned key)
{
    (void)key;
    struct sleeper *s = w->data;
    pthread_mutex_lock(&s->lock);
    /* Atomic: sleep_spin reads it without the lock. */
    __atomic_store_n(&s->woken, 1, __ATOMIC_RELEASE);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 1;
}

void waiter_init_task(struct waiter *w, struct task *t)
{
    /* The sleeper, not the task: thread sleepers have no task. */
    waiter_init(w, wake_task_fn, sleeper_of(t));
}

void waitq_add(struct waitq *wq, struct waiter *w)
{
    pthread_mutex_lock(&wq->lock);
    w->wq = wq;
    if (w->flags & WAITER_EXCLUSIVE) {
        /* At the tail: after everything. */
        w->next = NULL;
        w->prev = wq->last;
        if (wq->last)
            wq->last->next = w;
        else
            wq->first = w;
        wq->last = w;
    } else {
        /* Before the first exclusive waiter, after the other non-exclusive ones. */
        struct waiter *e = wq->first;
        while (e && !(e->flags & WAITER_EXCLUSIVE))
            e = e->next;
        w->next = e;
        w->prev = e ? e->prev : wq->last;
        if (w->prev)
            w->prev->next = w;
        else
            wq->first = w;
        if (e)
            e->prev = w;
        else
            wq->last = w;
    }
    pthread_mutex_unlock(&wq->lock);
}

void waitq_remove(struct waiter *w)
{
    /* Only the owner adds and removes w, so reading w->wq here is safe. */
    struct waitq *wq = w->wq;
    if (!wq)
        return;
    pthread_mutex_lock(&wq->lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        wq->first = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        wq->last = w->prev;
    w->prev = w->next = NULL;
    w->wq = NULL;
    pthread_mutex_unlock(&wq->lock);
}

int wake_up_key(struct waitq *wq, int nr_exclusive, unsigned key)
{
    int woken = 0;
    pthread_mutex_lock(&wq->lock);
    for (struct waiter *w = wq->first, *next; w; w = next) {
        next = w->next;
        int r = w->func(w, key);
        if (r)
            woken++;
        if (r && (w->flags & WAITER_EXCLUSIVE) && nr_exclusive > 0 && --nr_exclusive == 0)
            break;
    }
    pthread_mutex_unlock(&wq->lock);
    return woken;
}

void wake_up(struct waitq *wq)
{
    wake_up_key(wq, 1, 0);
}

void wake_up_all(struct waitq *wq)
{
    wake_up_key(wq, 0, 0);
}

/* ---- sleeping ---- */

void task_sleep_prepare(struct task *t)
{
    struct sleeper *s = sleeper_of(t);
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->woken, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->lock);
}

void (*task_block_hook)(struct task *t);

/* Before a task's sentry thread sleeps with no deadline on a wake-up that
 * usually comes soon (WAIT_SPIN), it spins a while on its sleeper: two
 * tasks that wake each other in turn (a futex or pipe ping-pong) each wait
 * only as long as the other's syscall takes, and a wake-up that finds its
 * sleeper still spinning costs no host futex wake and no scheduling.
 * Spinning pays only while the waker runs on another CPU: the spin takes
 * a permit of the spin budget (base.h) or does not happen, and gives way
 * as spin_round says, as the stub handoff's does. Its stub thread spins on
 * for the answer meanwhile (task_block_hook comes only once the spin
 * ends unanswered): a stub woken from its futex costs a host wake-up, on
 * an idle virtual CPU 25 us or more, where one still spinning takes the
 * answer at once. */
#define SLEEP_SPIN_ROUNDS 1000

static void sleep_yield(void)
{
    sched_yield();
}

/* Spin until s is woken or interrupted, or the spin ends. */
static void sleep_spin(struct sleeper *s)
{
    if (!spin_permit_take())
        return;
    for (unsigned i = 0; i < SLEEP_SPIN_ROUNDS && !__atomic_load_n(&s->woken, __ATOMIC_ACQUIRE) &&
                         !__atomic_load_n(&s->interrupt, __ATOMIC_ACQUIRE);
         i++)
        spin_round(i, sleep_yield);
    spin_permit_put();
}

int task_sleep(struct task *t, const struct timespec *deadline, int flags)
{
    struct sleeper *s = sleeper_of(t);
    int intr = t && !(flags & WAIT_NOINTR);
    int r = 0;
    if (deadline && (deadline->tv_nsec < 0 || deadline->tv_nsec >= 1000000000L))
        return -EINVAL;
    int spin = t && !deadline && (flags & WAIT_SPIN);
    if (spin)
        sleep_spin(s);
    if (t && task_block_hook &&
        !(spin && (__atomic_load_n(&s->woken, __ATOMIC_ACQUIRE) ||
                   (intr && __atomic_load_n(&s->interrupt, __ATOMIC_ACQUIRE)))))
        task_block_hook(t);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->woken)
            break;
        if (intr && s->interrupt) {
            r = -ERESTARTSYS;
            break;
        }
        if (!deadline) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else if (pthread_cond_clockwait(&s->cond, &s->lock, CLOCK_MONOTONIC, deadline) ==
                   ETIMEDOUT) {
            r = s->woken ? 0 : -ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void task_wake(struct task *t)
{
    struct waiter w;
    waiter_init_task(&w, t);
    wake_task_fn(&w, 0);
}

int waitq_wait(struct task *t, struct waitq *wq, pthread_mutex_t *lock,
               const struct timespec *deadline, int flags)
{
    if (t && !(flags & WAIT_NOINTR) && task_interrupt_pending(t))
        return -ERESTARTSYS;
    struct waiter w;
    waiter_init_task(&w, t);
    if (flags & WAIT_EXCLUSIVE)
        w.flags |= WAITER_EXCLUSIVE;
    task_sleep_prepare(t);
    waitq_add(wq, &w);
    pthread_mutex_unlock(lock);
    int r = task_sleep(t, deadline, flags);
    waitq_remove(&w);
    if (r < 0) {
        /* A wake-up between the timeout (or interrupt) and the removal
         * chose us: report it, so that an exclusive wake-up is consumed
         * by the caller's re-check instead of being lost. */
        struct sleeper *s = sleeper_of(t);
        pthread_mutex_lock(&s->lock);
        if (s->woken)
            r = 0;
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(lock);
    return r;
}

/* ---- interruption ---- */

void task_interrupt(struct task *t)
{
    struct sleeper *s = &t->sleep;
    pthread_mutex_lock(&s->lock);
    /* Sequentially consistent against the task loop's store of its
     * running flag and check of this one (task_kick): one of the two
     * sides sees the other's store. */
    __atomic_store_n(&s->interrupt, 1, __ATOMIC_SEQ_CST);
    /* One thread sleeps on a sleeper; broadcast costs nothing more. */
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void task_interrupt_clear(struct task *t)
{
    struct sleeper *s = &t->sleep;
    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->interrupt, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->lock);
}

int task_interrupt_pending(struct task *t)
{
    return __atomic_load_n(&t->sleep.interrupt, __ATOMIC_SEQ_CST);
}

void wait_deadline_ns(struct timespec *out, uint64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, out);
    uint64_t sec = ns / 1000000000ULL;
    long nsec = (long)(ns % 1000000000ULL) + out->tv_nsec;
    if (nsec >= 1000000000L) {
        nsec -= 1000000000L;
        sec++;
    }
    /* Far deadlines saturate rather than wrap into the past. */
    if (sec > (uint64_t)(INT64_MAX - out->tv_sec))
        out->tv_sec = INT64_MAX;
    else
        out->tv_sec += (time_t)sec;
    out->tv_nsec = nsec;
}

int deadline_passed(const struct timespec *deadline)
{
    struct timespec now;
    if (!deadline)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return !timespec_before(&now, deadline);
}

int service_thread_start(void *(*fn)(void *), void *arg, const char *name)
{
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&th, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (r != 0)
        return -EAGAIN;
    pthread_setname_np(th, name);
    return 0;
}
