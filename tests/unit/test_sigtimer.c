/* Unit test of the timers' preallocated signal entries (signal.c's timer
 * section, include/sentry/process.h): RLIMIT_SIGPENDING counts them while
 * they live, one is queued at most once, a stale generation or an ignored
 * signal queues nothing, taking it calls its hook and leaves it the
 * timer's, and cancelling or flushing takes it off without freeing it. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>

#include "unit.h"
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "sentry/kernel.h"
#include "sentry/process.h"

#define RT 34 /* SIGRTMIN as the kernel numbers it */

static struct sandbox box;
static struct process *p;
static struct task *t;
static struct sigqueue q;
static int hook_calls;

static void hook(struct sigqueue *sq, struct sig_info *info)
{
    ck_assert_ptr_eq(sq, &q);
    ck_assert_ptr_null(sq->on);
    hook_calls++;
    info->overrun = 7;
}

static void set_handler(int sig, uint64_t h)
{
    pthread_mutex_lock(&p->sighand->lock);
    p->sighand->act[sig - 1].handler = h;
    pthread_mutex_unlock(&p->sighand->lock);
}

static void setup(void)
{
    memset(&box, 0, sizeof(box));
    pthread_mutex_init(&box.tasklist, NULL);
    pthread_mutex_init(&box.lock, NULL);
    waitq_init(&box.wait_signalfd);
    p = process_alloc(&box);
    ck_assert_ptr_nonnull(p);
    p->sighand = sighand_new();
    p->rlim[RLIMIT_SIGPENDING].cur = p->rlim[RLIMIT_SIGPENDING].max = 100;
    t = task_alloc(p);
    ck_assert_ptr_nonnull(t);
    list_add_tail(&p->threads, &t->thread_node);
    memset(&q, 0, sizeof(q));
    q.dequeued = hook;
    q.info.signo = RT;
    q.info.code = -2; /* SI_TIMER */
    hook_calls = 0;
    set_handler(RT, 0x1000); /* handled */
}

static void teardown(void)
{
    list_del(&t->thread_node);
    task_put(t); /* its reference to p, then ours */
    process_put(p);
    waitq_destroy(&box.wait_signalfd);
}

static int pending(int sig)
{
    return (signal_pending_set(t) & SIGBIT(sig)) != 0;
}

START_TEST(reserve_counts_against_the_limit)
{
    p->rlim[RLIMIT_SIGPENDING].cur = 2;
    ck_assert_int_eq(signal_timer_reserve(p), 0);
    ck_assert_int_eq(signal_timer_reserve(p), 0);
    ck_assert_int_eq(signal_timer_reserve(p), -EAGAIN);
    signal_timer_unreserve(p);
    ck_assert_int_eq(signal_timer_reserve(p), 0);
    ck_assert_int_eq(p->sigq_count, 2);
}
END_TEST

START_TEST(queued_once_and_taken_through_the_hook)
{
    unsigned gen = 1;
    int count = p->sigq_count;
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 1), 0);
    ck_assert_ptr_eq(q.on, &p->shared_pending);
    ck_assert(pending(RT));
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 1), 2);
    gen = 2;
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 1), 1);
    struct sig_info info;
    ck_assert_int_eq(signal_dequeue(t, SIGBIT(RT), &info), RT);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(info.overrun, 7);
    ck_assert_int_eq(info.code, -2);
    ck_assert_ptr_null(q.on);
    ck_assert(!pending(RT));
    ck_assert_int_eq(p->sigq_count, count);
    /* Queued again after it was taken. */
    ck_assert_int_eq(signal_timer_send(p, t, &q, &gen, 2), 0);
    ck_assert_ptr_eq(q.on, &t->pending);
    ck_assert_int_eq(signal_dequeue(t, SIGBIT(RT), &info), RT);
    ck_assert_int_eq(hook_calls, 2);
}
END_TEST

START_TEST(ignored_queues_nothing)
{
    unsigned gen = 0;
    set_handler(RT, (uint64_t)(uintptr_t)SIG_IGN);
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 0), 1);
    ck_assert_ptr_null(q.on);
    ck_assert(!pending(RT));
}
END_TEST

START_TEST(cancel_and_flush_leave_it_the_timers)
{
    unsigned gen = 0;
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 0), 0);
    /* Another entry of the same real-time signal keeps it pending. */
    struct sig_info other;
    memset(&other, 0, sizeof(other));
    other.code = -1; /* SI_QUEUE */
    ck_assert_int_eq(signal_process_info(p, RT, &other), 0);
    pthread_mutex_lock(&p->lock);
    signal_timer_cancel_locked(p, &q);
    pthread_mutex_unlock(&p->lock);
    ck_assert_ptr_null(q.on);
    ck_assert(pending(RT));
    struct sig_info info;
    ck_assert_int_eq(signal_dequeue(t, SIGBIT(RT), &info), RT);
    ck_assert_int_eq(info.code, -1);
    ck_assert(!pending(RT));
    ck_assert_int_eq(hook_calls, 0);
    /* A flush (the signal ignored, the process gone) unlinks it only. */
    int count = p->sigq_count;
    ck_assert_int_eq(signal_timer_send(p, NULL, &q, &gen, 0), 0);
    pthread_mutex_lock(&p->lock);
    sigpending_flush(p, &p->shared_pending, ~0ULL);
    pthread_mutex_unlock(&p->lock);
    ck_assert_ptr_null(q.on);
    ck_assert_int_eq(p->sigq_count, count);
    ck_assert(!pending(RT));
}
END_TEST

UNIT_MAIN("sigtimer", "core", setup, teardown, 30, reserve_counts_against_the_limit,
          queued_once_and_taken_through_the_hook, ignored_queues_nothing,
          cancel_and_flush_leave_it_the_timers)
