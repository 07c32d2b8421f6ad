/* The timer thread (include/sched/timer.h): armed timers in a list sorted
 * by time; the thread sleeps on a condition variable until the first one
 * is due, runs its callback without the lock, and goes on. It is started
 * by the first arming and sleeps with no deadline while nothing is armed. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "sched/timer.h"
#include "sched/wait.h"

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond = PTHREAD_COND_INITIALIZER; /* the thread's */
static pthread_cond_t timer_done = PTHREAD_COND_INITIALIZER; /* a callback ended */
static struct ktimer *timer_first;
static struct ktimer *timer_running; /* whose callback runs now */
static int timer_started;

static void unlink_timer(struct ktimer *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        timer_first = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->prev = k->next = NULL;
    k->queued = 0;
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&timer_lock);
    for (;;) {
        struct ktimer *k = timer_first;
        if (!k) {
            pthread_cond_wait(&timer_cond, &timer_lock);
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timespec_before(&now, &k->when)) {
            struct timespec when = k->when;
            pthread_cond_clockwait(&timer_cond, &timer_lock, CLOCK_MONOTONIC, &when);
            continue;
        }
        unlink_timer(k);
        timer_running = k;
        pthread_mutex_unlock(&timer_lock);
        k->fn(k);
        pthread_mutex_lock(&timer_lock);
        timer_running = NULL;
        pthread_cond_broadcast(&timer_done);
    }
    return NULL;
}

void ktimer_init(struct ktimer *k, ktimer_fn fn, void *data)
{
    k->fn = fn;
    k->data = data;
    k->when.tv_sec = 0;
    k->when.tv_nsec = 0;
    k->queued = 0;
    k->prev = k->next = NULL;
}

int ktimer_arm(struct ktimer *k, const struct timespec *when)
{
    pthread_mutex_lock(&timer_lock);
    if (!timer_started) {
        int r = service_thread_start(timer_main, NULL, "timer");
        if (r < 0) {
            pthread_mutex_unlock(&timer_lock);
            return r;
        }
        timer_started = 1;
    }
    if (k->queued)
        unlink_timer(k);
    k->when = *when;
    struct ktimer *prev = NULL, *p = timer_first;
    while (p && !timespec_before(&k->when, &p->when)) {
        prev = p;
        p = p->next;
    }
    k->prev = prev;
    k->next = p;
    if (prev)
        prev->next = k;
    else
        timer_first = k;
    if (p)
        p->prev = k;
    k->queued = 1;
    /* Only a new first timer changes how long the thread sleeps. */
    if (!prev)
        pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
    return 0;
}

void ktimer_disarm(struct ktimer *k)
{
    pthread_mutex_lock(&timer_lock);
    if (k->queued)
        unlink_timer(k);
    pthread_mutex_unlock(&timer_lock);
}

void ktimer_cancel(struct ktimer *k)
{
    pthread_mutex_lock(&timer_lock);
    /* A running callback may arm k again: take it off once more after. */
    for (;;) {
        if (k->queued)
            unlink_timer(k);
        if (timer_running != k)
            break;
        pthread_cond_wait(&timer_done, &timer_lock);
    }
    pthread_mutex_unlock(&timer_lock);
}
