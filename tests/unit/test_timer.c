/* Unit test of the timer thread (sched/timer.h): order of firing, not
 * before the time, disarming and moving, a cancel that waits for the
 * running callback and takes off what that callback armed again; and the
 * timers' ns arithmetic (saturation, moving an expiry on by intervals). */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "sched/timer.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int order[8], nfired;
static int64_t fired_at[8];

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec in_ms(long ms)
{
    int64_t t = now_ns() + (int64_t)ms * 1000000;
    struct timespec ts = { t / 1000000000, t % 1000000000 };
    return ts;
}

static void record(struct ktimer *k)
{
    pthread_mutex_lock(&mu);
    fired_at[nfired] = now_ns();
    order[nfired++] = (int)(intptr_t)k->data;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_fired(int n, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000 + 1;
    pthread_mutex_lock(&mu);
    while (nfired < n && pthread_cond_timedwait(&cv, &mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&mu);
}

START_TEST(fire_in_order)
{
    struct ktimer k[3];
    int64_t start = now_ns();
    long ms[3] = { 60, 20, 40 };
    for (int i = 0; i < 3; i++) {
        ktimer_init(&k[i], record, (void *)(intptr_t)i);
        int64_t t = start + (int64_t)ms[i] * 1000000;
        struct timespec when = { t / 1000000000, t % 1000000000 };
        ck_assert_int_eq(ktimer_arm(&k[i], &when), 0);
    }
    wait_fired(3, 5000);
    ck_assert_int_eq(nfired, 3);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 0);
    ck_assert_int_ge(fired_at[0] - start, 20000000);
    ck_assert_int_ge(fired_at[2] - start, 60000000);
}
END_TEST

START_TEST(disarm_and_move)
{
    struct ktimer a, b;
    ktimer_init(&a, record, (void *)1);
    ktimer_init(&b, record, (void *)2);
    struct timespec soon = in_ms(20), late = in_ms(100000);
    ktimer_arm(&a, &soon);
    ktimer_disarm(&a);
    ktimer_arm(&b, &late);
    ktimer_arm(&b, &soon); /* moved */
    wait_fired(1, 5000);
    usleep(50000);
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq(order[0], 2);
}
END_TEST

static int slow_started, slow_done; /* atomic */

static void slow(struct ktimer *k)
{
    (void)k;
    __atomic_store_n(&slow_started, 1, __ATOMIC_RELEASE);
    usleep(100000);
    __atomic_store_n(&slow_done, 1, __ATOMIC_RELEASE);
}

START_TEST(cancel_waits_for_callback)
{
    struct ktimer k;
    ktimer_init(&k, slow, NULL);
    struct timespec now = in_ms(0);
    ktimer_arm(&k, &now);
    while (!__atomic_load_n(&slow_started, __ATOMIC_ACQUIRE))
        usleep(1000);
    ktimer_cancel(&k);
    ck_assert_int_eq(__atomic_load_n(&slow_done, __ATOMIC_ACQUIRE), 1);
}
END_TEST

static int rearms; /* atomic */

static void rearm_self(struct ktimer *k)
{
    __atomic_add_fetch(&rearms, 1, __ATOMIC_RELAXED);
    usleep(1000);
    struct timespec when = in_ms(1);
    ktimer_arm(k, &when);
}

START_TEST(cancel_takes_off_rearmed)
{
    struct ktimer k;
    ktimer_init(&k, rearm_self, NULL);
    struct timespec now = in_ms(0);
    ktimer_arm(&k, &now);
    while (__atomic_load_n(&rearms, __ATOMIC_RELAXED) < 5)
        usleep(1000);
    ktimer_cancel(&k);
    int n = __atomic_load_n(&rearms, __ATOMIC_RELAXED);
    usleep(50000);
    ck_assert_int_eq(__atomic_load_n(&rearms, __ATOMIC_RELAXED), n);
}
END_TEST

START_TEST(ktime_arithmetic)
{
    struct timespec ts = { 3, 5 };
    ck_assert_int_eq(ktime_of_ts(&ts), 3000000005LL);
    ts.tv_sec = INT64_MAX / 1000000000LL;
    ck_assert_int_eq(ktime_of_ts(&ts), KTIME_MAX);
    struct timespec back = ktime_to_ts(3000000005LL);
    ck_assert_int_eq(back.tv_sec, 3);
    ck_assert_int_eq(back.tv_nsec, 5);
    ck_assert_int_eq(ktime_add_safe(1, 2), 3);
    ck_assert_int_eq(ktime_add_safe(KTIME_MAX - 1, 2), KTIME_MAX);
}
END_TEST

START_TEST(ktime_forward_by_intervals)
{
    int64_t expiry = 100;
    /* Not yet due: nothing. */
    ck_assert_int_eq(ktime_forward(&expiry, 10, 99), 0);
    ck_assert_int_eq(expiry, 100);
    /* Due at once: one interval. */
    ck_assert_int_eq(ktime_forward(&expiry, 10, 100), 1);
    ck_assert_int_eq(expiry, 110);
    /* Periods missed: past now, counting each. */
    ck_assert_int_eq(ktime_forward(&expiry, 10, 145), 4);
    ck_assert_int_eq(expiry, 150);
    ck_assert_int_eq(ktime_forward(&expiry, 10, 170), 3);
    ck_assert_int_eq(expiry, 180);
    /* An interval of 0 counts as 1 ns. */
    ck_assert_int_eq(ktime_forward(&expiry, 0, 182), 3);
    ck_assert_int_eq(expiry, 183);
    /* Near the end of time: the expiry saturates. */
    expiry = KTIME_MAX - 5;
    ck_assert_int_eq(ktime_forward(&expiry, 10, KTIME_MAX - 5), 1);
    ck_assert_int_eq(expiry, KTIME_MAX);
}
END_TEST

UNIT_MAIN("timer", "core", NULL, NULL, 30, fire_in_order, disarm_and_move,
          cancel_waits_for_callback, cancel_takes_off_rearmed, ktime_arithmetic,
          ktime_forward_by_intervals)
