/* Unit test of the wait primitive: wake-ups before the sleep are not lost,
 * deadlines, interruption, exclusive and callback waiters, many sleepers. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include "unit_task.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "sched/wait.h"
#include "sentry/kernel.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- no lost wake-ups ---- */

/* A new wq with w queued on it for t (NULL: the calling host thread),
 * which is about to sleep. */
static void queue_one(struct waitq *wq, struct waiter *w, struct task *t)
{
    waitq_init(wq);
    waiter_init_task(w, t);
    task_sleep_prepare(t);
    waitq_add(wq, w);
}

START_TEST(wake_before_sleep_is_kept)
{
    struct task *t = unit_task_new();
    struct waitq wq;
    struct waiter w;
    queue_one(&wq, &w, t);
    wake_up(&wq); /* before the sleep */
    struct timespec dl;
    wait_deadline_ns(&dl, 2000000000ULL);
    int64_t t0 = now_ns();
    ck_assert_int_eq(task_sleep(t, &dl, 0), 0);
    ck_assert_int_lt(now_ns() - t0, 1000000000);
    waitq_remove(&w);
    waitq_remove(&w); /* a second removal is a no-op */
    waitq_destroy(&wq);
    /* A wake-up before prepare is forgotten: the sleep times out. */
    task_wake(t);
    task_sleep_prepare(t);
    wait_deadline_ns(&dl, 20000000ULL);
    ck_assert_int_eq(task_sleep(t, &dl, 0), -ETIMEDOUT);
    free(t);
}
END_TEST

/* Ping-pong under the locking rule: any lost wake-up shows as a timeout. */
struct pingpong {
    pthread_mutex_t lock;
    struct waitq wq;
    int turn; /* 0: the main thread's, 1: the helper's */
    int rounds;
    int err;
};

static void *pong(void *arg)
{
    struct pingpong *pp = arg;
    struct task *t = unit_task_new();
    current_task = t;
    for (int i = 0; i < pp->rounds; i++) {
        struct timespec dl;
        wait_deadline_ns(&dl, 5000000000ULL);
        pthread_mutex_lock(&pp->lock);
        int r = WAIT_EVENT(t, &pp->wq, &pp->lock, pp->turn == 1, &dl, 0);
        if (r < 0)
            pp->err = r;
        pp->turn = 0;
        pthread_mutex_unlock(&pp->lock);
        wake_up_all(&pp->wq);
        if (r < 0)
            break;
    }
    free(t);
    return NULL;
}

START_TEST(ping_pong_no_lost_wakeups)
{
    struct pingpong pp = { .rounds = 20000 };
    pthread_mutex_init(&pp.lock, NULL);
    waitq_init(&pp.wq);
    struct task *t = unit_task_new();
    pthread_t th;
    pthread_create(&th, NULL, pong, &pp);
    for (int i = 0; i < pp.rounds && !pp.err; i++) {
        struct timespec dl;
        wait_deadline_ns(&dl, 5000000000ULL);
        pthread_mutex_lock(&pp.lock);
        pp.turn = 1;
        /* Wake under the lock this time; the helper wakes after unlocking. */
        wake_up(&pp.wq);
        int r = WAIT_EVENT(t, &pp.wq, &pp.lock, pp.turn == 0, &dl, 0);
        pthread_mutex_unlock(&pp.lock);
        ck_assert_int_eq(r, 0);
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(pp.err, 0);
    waitq_destroy(&pp.wq);
    free(t);
}
END_TEST

/* ---- deadlines ---- */

START_TEST(deadline_expires)
{
    struct task *t = unit_task_new();
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct waitq wq;
    waitq_init(&wq);
    struct timespec dl;
    wait_deadline_ns(&dl, 50000000ULL);
    int64_t t0 = now_ns();
    pthread_mutex_lock(&lock);
    ck_assert_int_eq(waitq_wait(t, &wq, &lock, &dl, 0), -ETIMEDOUT);
    pthread_mutex_unlock(&lock);
    int64_t el = now_ns() - t0;
    ck_assert_int_ge(el, 50000000);
    ck_assert_int_lt(el, 2000000000);
    ck_assert_ptr_null(wq.first); /* the waiter left the queue */
    /* A deadline in the past: at once. */
    struct timespec past = { 0, 0 };
    pthread_mutex_lock(&lock);
    ck_assert_int_eq(waitq_wait(t, &wq, &lock, &past, 0), -ETIMEDOUT);
    /* A condition true at the deadline counts as success. */
    int cond = 1;
    ck_assert_int_eq(WAIT_EVENT(t, &wq, &lock, cond, &past, 0), 0);
    pthread_mutex_unlock(&lock);
    struct timespec bad = { 0, 1000000000L };
    ck_assert_int_eq(task_sleep(t, &bad, 0), -EINVAL);
    waitq_destroy(&wq);
    free(t);
}
END_TEST

/* ---- interruption ---- */

struct sleeper_arg {
    struct task *t;
    pthread_mutex_t lock;
    struct waitq wq;
    int cond;
    int flags;
    int done;
    int result;
};

static void *sleep_thread(void *arg)
{
    struct sleeper_arg *a = arg;
    current_task = a->t;
    struct timespec dl, *dlp = NULL;
    if (a->flags & WAIT_NOINTR) {
        wait_deadline_ns(&dl, 200000000ULL);
        dlp = &dl;
    }
    pthread_mutex_lock(&a->lock);
    a->result = WAIT_EVENT(current_task, &a->wq, &a->lock, a->cond, dlp, a->flags);
    a->done = 1;
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static int is_done(struct sleeper_arg *a)
{
    pthread_mutex_lock(&a->lock);
    int d = a->done;
    pthread_mutex_unlock(&a->lock);
    return d;
}

START_TEST(interrupt_wakes_sleeper)
{
    struct sleeper_arg a = { .t = unit_task_new() };
    pthread_mutex_init(&a.lock, NULL);
    waitq_init(&a.wq);
    pthread_t th;
    pthread_create(&th, NULL, sleep_thread, &a);
    msleep(50);
    ck_assert_int_eq(is_done(&a), 0);
    /* A wake-up with the condition false: it sleeps again. */
    wake_up_all(&a.wq);
    msleep(20);
    ck_assert_int_eq(is_done(&a), 0);
    task_interrupt(a.t);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.result, -ERESTARTSYS);
    ck_assert_int_eq(task_interrupt_pending(a.t), 1);

    /* Still pending: the next interruptible wait returns at once. */
    a.done = 0;
    pthread_create(&th, NULL, sleep_thread, &a);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.result, -ERESTARTSYS);

    /* Cleared: sleeps until the condition holds. */
    task_interrupt_clear(a.t);
    ck_assert_int_eq(task_interrupt_pending(a.t), 0);
    a.done = 0;
    pthread_create(&th, NULL, sleep_thread, &a);
    msleep(30);
    ck_assert_int_eq(is_done(&a), 0);
    pthread_mutex_lock(&a.lock);
    a.cond = 1;
    pthread_mutex_unlock(&a.lock);
    wake_up(&a.wq);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.result, 0);
    waitq_destroy(&a.wq);
    free(a.t);
}
END_TEST

START_TEST(nointr_ignores_interrupt)
{
    struct sleeper_arg a = { .t = unit_task_new(), .flags = WAIT_NOINTR };
    pthread_mutex_init(&a.lock, NULL);
    waitq_init(&a.wq);
    task_interrupt(a.t);
    pthread_t th;
    pthread_create(&th, NULL, sleep_thread, &a);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.result, -ETIMEDOUT);
    waitq_destroy(&a.wq);
    free(a.t);
}
END_TEST

/* A host thread with no task sleeps uninterruptibly on its own sleeper. */
START_TEST(taskless_thread_sleeps)
{
    ck_assert_ptr_null(current_task);
    struct waitq wq;
    struct waiter w;
    queue_one(&wq, &w, NULL);
    ck_assert_int_eq(wake_up_key(&wq, 0, 0), 1);
    ck_assert_int_eq(task_sleep(NULL, NULL, 0), 0);
    waitq_remove(&w);
    waitq_destroy(&wq);
}
END_TEST

/* ---- many waiters, exclusive and callback waiters ---- */

#define NSLEEPERS 16

struct crowd {
    pthread_mutex_t lock;
    struct waitq wq;
    int tokens;     /* each exclusive sleeper takes one */
    int generation; /* non-exclusive sleepers wait for a change */
    int woke;
    int exclusive;
};

static void *crowd_thread(void *arg)
{
    struct crowd *c = arg;
    struct task *t = unit_task_new();
    pthread_mutex_lock(&c->lock);
    int r;
    if (c->exclusive) {
        r = WAIT_EVENT(t, &c->wq, &c->lock, c->tokens > 0, NULL, WAIT_EXCLUSIVE);
        c->tokens--;
    } else {
        int gen = c->generation;
        r = WAIT_EVENT(t, &c->wq, &c->lock, c->generation != gen, NULL, 0);
    }
    if (r == 0)
        c->woke++;
    pthread_mutex_unlock(&c->lock);
    free(t);
    return NULL;
}

static int queued(struct waitq *wq)
{
    int n = 0;
    pthread_mutex_lock(&wq->lock);
    for (struct waiter *w = wq->first; w; w = w->next)
        n++;
    pthread_mutex_unlock(&wq->lock);
    return n;
}

static void wait_queued(struct waitq *wq, int n)
{
    for (int i = 0; i < 500 && queued(wq) != n; i++)
        msleep(2);
    ck_assert_int_eq(queued(wq), n);
}

/* NSLEEPERS crowd threads, all queued on c->wq before it returns. */
static void crowd_start(struct crowd *c, pthread_t *th)
{
    pthread_mutex_init(&c->lock, NULL);
    waitq_init(&c->wq);
    for (int i = 0; i < NSLEEPERS; i++)
        pthread_create(&th[i], NULL, crowd_thread, c);
    wait_queued(&c->wq, NSLEEPERS);
}

static void crowd_end(struct crowd *c, pthread_t *th)
{
    for (int i = 0; i < NSLEEPERS; i++)
        pthread_join(th[i], NULL);
    waitq_destroy(&c->wq);
}

START_TEST(many_waiters_wake_all)
{
    struct crowd c = { .exclusive = 0 };
    pthread_t th[NSLEEPERS];
    crowd_start(&c, th);
    pthread_mutex_lock(&c.lock);
    c.generation++;
    pthread_mutex_unlock(&c.lock);
    wake_up_all(&c.wq);
    crowd_end(&c, th);
    ck_assert_int_eq(c.woke, NSLEEPERS);
}
END_TEST

START_TEST(many_waiters_exclusive)
{
    struct crowd c = { .exclusive = 1 };
    pthread_t th[NSLEEPERS];
    crowd_start(&c, th);
    /* One token, one wake-up: exactly one sleeper leaves. */
    for (int round = 1; round <= NSLEEPERS; round++) {
        pthread_mutex_lock(&c.lock);
        c.tokens++;
        pthread_mutex_unlock(&c.lock);
        wake_up(&c.wq);
        wait_queued(&c.wq, NSLEEPERS - round);
        for (int i = 0; i < 500; i++) {
            pthread_mutex_lock(&c.lock);
            int woke = c.woke;
            pthread_mutex_unlock(&c.lock);
            if (woke >= round)
                break;
            msleep(2);
        }
        msleep(5); /* time for a wrong second leaver to show */
        pthread_mutex_lock(&c.lock);
        ck_assert_int_eq(c.woke, round);
        ck_assert_int_eq(c.tokens, 0);
        pthread_mutex_unlock(&c.lock);
    }
    crowd_end(&c, th);
}
END_TEST

struct cb_rec {
    char log[16];
    int n;
    unsigned key;
};

struct cb_waiter {
    struct waiter w;
    struct cb_rec *rec;
    char name;
    int ret;
};

static int cb_fn(struct waiter *w, unsigned key)
{
    struct cb_waiter *cw = (struct cb_waiter *)w;
    cw->rec->log[cw->rec->n++] = cw->name;
    cw->rec->key = key;
    return cw->ret;
}

START_TEST(callback_waiters)
{
    struct waitq wq;
    waitq_init(&wq);
    struct cb_rec rec = { .n = 0 };
    struct cb_waiter a = { .rec = &rec, .name = 'a', .ret = 1 };
    struct cb_waiter x = { .rec = &rec, .name = 'x', .ret = 1 };
    struct cb_waiter y = { .rec = &rec, .name = 'y', .ret = 1 };
    struct cb_waiter b = { .rec = &rec, .name = 'b', .ret = 0 };
    waiter_init(&a.w, cb_fn, NULL);
    waiter_init(&x.w, cb_fn, NULL);
    waiter_init(&y.w, cb_fn, NULL);
    waiter_init(&b.w, cb_fn, NULL);
    x.w.flags = y.w.flags = WAITER_EXCLUSIVE;
    waitq_add(&wq, &x.w);
    waitq_add(&wq, &a.w);
    waitq_add(&wq, &y.w);
    waitq_add(&wq, &b.w);
    /* Non-exclusive first (a, b), then exclusive until one woke (x). */
    ck_assert_int_eq(wake_up_key(&wq, 1, 0x41), 2);
    rec.log[rec.n] = 0;
    ck_assert_str_eq(rec.log, "abx");
    ck_assert_uint_eq(rec.key, 0x41);
    /* An exclusive waiter that declines does not count. */
    rec.n = 0;
    x.ret = 0;
    ck_assert_int_eq(wake_up_key(&wq, 1, 0), 2);
    rec.log[rec.n] = 0;
    ck_assert_str_eq(rec.log, "abxy");
    rec.n = 0;
    waitq_remove(&a.w);
    waitq_remove(&y.w);
    ck_assert_int_eq(wake_up_key(&wq, 0, 0), 0);
    rec.log[rec.n] = 0;
    ck_assert_str_eq(rec.log, "bx");
    waitq_remove(&b.w);
    waitq_remove(&x.w);
    ck_assert_ptr_null(wq.first);
    ck_assert_ptr_null(wq.last);
    waitq_destroy(&wq);
}
END_TEST

/* One task sleeping on several queues at once, as poll will. */
START_TEST(sleep_on_two_queues)
{
    struct task *t = unit_task_new();
    struct waitq q1, q2;
    waitq_init(&q1);
    waitq_init(&q2);
    struct waiter w1, w2;
    waiter_init_task(&w1, t);
    waiter_init_task(&w2, t);
    task_sleep_prepare(t);
    waitq_add(&q1, &w1);
    waitq_add(&q2, &w2);
    wake_up(&q2);
    struct timespec dl;
    wait_deadline_ns(&dl, 2000000000ULL);
    ck_assert_int_eq(task_sleep(t, &dl, 0), 0);
    waitq_remove(&w1);
    waitq_remove(&w2);
    waitq_destroy(&q1);
    waitq_destroy(&q2);
    free(t);
}
END_TEST

START_TEST(deadline_arithmetic)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    wait_deadline_ns(&b, 1500000000ULL);
    int64_t d = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    ck_assert_int_ge(d, 1500000000LL);
    ck_assert_int_lt(d, 1600000000LL);
    ck_assert_int_lt(b.tv_nsec, 1000000000L);
    wait_deadline_ns(&b, UINT64_MAX);
    ck_assert_int_gt(b.tv_sec, a.tv_sec);
}
END_TEST

/* ---- the block hook and the sleep's spin ---- */

static int hook_calls;
static void count_hook(struct task *t)
{
    (void)t;
    __atomic_add_fetch(&hook_calls, 1, __ATOMIC_RELAXED);
}

static void *wake_later(void *arg)
{
    msleep(300);
    task_wake(arg);
    return NULL;
}

/* The hook (which stops the stub's spin for the answer) runs before a
 * sleep, but a sleep that spins (WAIT_SPIN, no deadline) calls it only
 * once its spin ended without a wake-up or an interruption. */
START_TEST(block_hook_after_spin)
{
    struct task *t = unit_task_new();
    int spins = spin_permits() > 0;
    task_block_hook = count_hook;

    /* Woken already: no sleep, and a spin sees it at once. */
    hook_calls = 0;
    task_sleep_prepare(t);
    task_wake(t);
    ck_assert_int_eq(task_sleep(t, NULL, WAIT_SPIN), 0);
    ck_assert_int_eq(hook_calls, spins ? 0 : 1);

    /* Interrupted already: the same, -ERESTARTSYS. */
    hook_calls = 0;
    task_sleep_prepare(t);
    task_interrupt(t);
    ck_assert_int_eq(task_sleep(t, NULL, WAIT_SPIN), -ERESTARTSYS);
    ck_assert_int_eq(hook_calls, spins ? 0 : 1);
    task_interrupt_clear(t);

    /* No spin (a deadline, or no WAIT_SPIN): the hook first, always. */
    hook_calls = 0;
    task_sleep_prepare(t);
    struct timespec dl;
    wait_deadline_ns(&dl, 20000000ULL);
    ck_assert_int_eq(task_sleep(t, &dl, WAIT_SPIN), -ETIMEDOUT);
    ck_assert_int_eq(hook_calls, 1);
    hook_calls = 0;
    task_sleep_prepare(t);
    task_wake(t);
    ck_assert_int_eq(task_sleep(t, NULL, 0), 0);
    ck_assert_int_eq(hook_calls, 1);

    /* A wake-up that comes long after: once at most (the spin ended). */
    hook_calls = 0;
    task_sleep_prepare(t);
    pthread_t th;
    pthread_create(&th, NULL, wake_later, t);
    ck_assert_int_eq(task_sleep(t, NULL, WAIT_SPIN), 0);
    pthread_join(th, NULL);
    ck_assert_int_le(hook_calls, 1);

    task_block_hook = NULL;
    free(t);
}
END_TEST

UNIT_MAIN("wait", "core", NULL, NULL, 30, wake_before_sleep_is_kept, ping_pong_no_lost_wakeups,
          deadline_expires, interrupt_wakes_sleeper, nointr_ignores_interrupt,
          taskless_thread_sleeps, many_waiters_wake_all, many_waiters_exclusive, callback_waiters,
          sleep_on_two_queues, deadline_arithmetic, block_hook_after_spin)
