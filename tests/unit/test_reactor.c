/* Unit test of the host-readiness reactor: a watched host pipe's changes
 * (data, room, hang-up) wake its queue, edges only (data left unread
 * wakes no one again), a sleeper on the queue is still interrupted, what
 * the host cannot watch says so, and a watch can go (and its memory) while
 * its descriptor is busy. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include "unit_task.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched/reactor.h"
#include "sched/wait.h"
#include "sentry/kernel.h"

/* A callback waiter that counts its wake-ups and gathers their keys. */
struct counter {
    struct waiter w;
    int n;         /* atomic */
    unsigned keys; /* atomic */
};

static int count_fn(struct waiter *w, unsigned key)
{
    struct counter *c = w->data;
    __atomic_fetch_or(&c->keys, key, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c->n, 1, __ATOMIC_SEQ_CST);
    return 1;
}

static void counter_add(struct counter *c, struct host_watch *hw)
{
    c->n = 0;
    c->keys = 0;
    waiter_init(&c->w, count_fn, c);
    waitq_add(&hw->wq, &c->w);
}

/* Wait (10 s at most: a loaded machine) until c has more than n wake-ups. */
static int counter_wait(struct counter *c, int n)
{
    for (int i = 0; i < 1000; i++) {
        if (__atomic_load_n(&c->n, __ATOMIC_SEQ_CST) > n)
            return 1;
        msleep(10);
    }
    return 0;
}

static int ready(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    return poll(&p, 1, 0) > 0;
}

static void *write_later(void *arg)
{
    int fd = *(int *)arg;
    msleep(100);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    return NULL;
}

/* A task sleeping on the queue of a watched pipe is woken by data that
 * comes later, and still by an interrupt; the writer's close wakes the
 * queue with POLLHUP. */
START_TEST(pipe_data_and_hangup_wake)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct host_watch hw;
    host_watch_init(&hw, p[0]);
    struct task *t = unit_task_new();
    struct waiter w;
    waiter_init_task(&w, t);

    /* Hooked and watched before the check, as a host stream's read. */
    task_sleep_prepare(t);
    waitq_add(&hw.wq, &w);
    ck_assert_int_eq(host_watch_start(&hw), 0);
    ck_assert_int_eq(host_watch_start(&hw), 0); /* once is enough */
    ck_assert(!ready(p[0], POLLIN));
    pthread_t th;
    pthread_create(&th, NULL, write_later, &p[1]);
    struct timespec dl;
    wait_deadline_ns(&dl, 10000000000ULL);
    ck_assert_int_eq(task_sleep(t, &dl, 0), 0);
    ck_assert(ready(p[0], POLLIN));
    pthread_join(th, NULL);
    waitq_remove(&w);

    /* Not ready again, and interrupted: the sleep ends with -ERESTARTSYS. */
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    task_sleep_prepare(t);
    waitq_add(&hw.wq, &w);
    task_interrupt(t);
    ck_assert_int_eq(task_sleep(t, &dl, 0), -ERESTARTSYS);
    waitq_remove(&w);
    task_interrupt_clear(t);

    /* The writer goes: a hang-up. */
    struct counter k;
    counter_add(&k, &hw);
    close(p[1]);
    ck_assert(counter_wait(&k, 0));
    ck_assert_uint_ne(__atomic_load_n(&k.keys, __ATOMIC_SEQ_CST) & POLLHUP, 0);
    waitq_remove(&k.w);

    host_watch_fini(&hw);
    close(p[0]);
    sleeper_destroy(&t->sleep);
    free(t);
}
END_TEST

/* Edge-triggered: data left unread wakes the queue once, not for as long
 * as it stays; the next write wakes it again. A full pipe's write end is
 * woken with POLLOUT when the reader makes room. */
START_TEST(edges_not_levels)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    struct host_watch rd, wr;
    host_watch_init(&rd, p[0]);
    host_watch_init(&wr, p[1]);
    struct counter k;
    counter_add(&k, &rd);
    ck_assert_int_eq(host_watch_start(&rd), 0);
    ck_assert_int_eq(write(p[1], "a", 1), 1);
    ck_assert(counter_wait(&k, 0));
    msleep(200);
    ck_assert_int_eq(__atomic_load_n(&k.n, __ATOMIC_SEQ_CST), 1);
    ck_assert_uint_ne(__atomic_load_n(&k.keys, __ATOMIC_SEQ_CST) & POLLIN, 0);
    ck_assert_int_eq(write(p[1], "b", 1), 1);
    ck_assert(counter_wait(&k, 1));
    waitq_remove(&k.w);

    char buf[4096];
    memset(buf, 'x', sizeof(buf));
    while (write(p[1], buf, sizeof(buf)) > 0)
        ;
    ck_assert_int_eq(errno, EAGAIN);
    counter_add(&k, &wr);
    ck_assert_int_eq(host_watch_start(&wr), 0);
    int before = __atomic_load_n(&k.n, __ATOMIC_SEQ_CST);
    while (read(p[0], buf, sizeof(buf)) > 0)
        ;
    ck_assert(counter_wait(&k, before));
    ck_assert_uint_ne(__atomic_load_n(&k.keys, __ATOMIC_SEQ_CST) & POLLOUT, 0);
    waitq_remove(&k.w);

    host_watch_fini(&rd);
    host_watch_fini(&wr);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* A regular file and /dev/null cannot be waited for (always ready): EPERM,
 * every time, and their watch goes as any other. */
START_TEST(regular_file_is_never_watched)
{
    char name[] = "/tmp/test_reactor.XXXXXX";
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    unlink(name);
    struct host_watch hw;
    host_watch_init(&hw, fd);
    ck_assert_int_eq(host_watch_start(&hw), -EPERM);
    ck_assert_int_eq(host_watch_start(&hw), -EPERM);
    ck_assert_int_eq(hw.state, HOST_WATCH_NEVER);
    host_watch_fini(&hw);
    close(fd);

    int null = open("/dev/null", O_RDWR);
    ck_assert_int_ge(null, 0);
    host_watch_init(&hw, null);
    ck_assert_int_eq(host_watch_start(&hw), -EPERM);
    host_watch_fini(&hw);
    close(null);
}
END_TEST

struct spam {
    int fd[2];
    int stop; /* atomic */
};

static void *spam_thread(void *arg)
{
    struct spam *s = arg;
    char buf[512];
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
        if (write(s->fd[1], "x", 1) < 0)
            msleep(1);
        while (read(s->fd[0], buf, sizeof(buf)) > 0)
            ;
    }
    return NULL;
}

/* Watches come and go (their memory freed at once) while their pipe
 * changes all the time: the reactor never touches a watch after its
 * host_watch_fini (the sanitizer builds would see it). */
START_TEST(watch_goes_while_busy)
{
    struct spam s = { .stop = 0 };
    ck_assert_int_eq(pipe2(s.fd, O_NONBLOCK), 0);
    pthread_t th;
    pthread_create(&th, NULL, spam_thread, &s);
    for (int i = 0; i < 200; i++) {
        struct host_watch *hw = malloc(sizeof(*hw));
        ck_assert_ptr_nonnull(hw);
        int fd = dup(s.fd[0]);
        host_watch_init(hw, fd);
        struct counter k;
        counter_add(&k, hw);
        ck_assert_int_eq(host_watch_start(hw), 0);
        if (i % 20 == 0)
            ck_assert(counter_wait(&k, 0));
        waitq_remove(&k.w);
        host_watch_fini(hw);
        close(fd);
        memset(hw, 0xa5, sizeof(*hw));
        free(hw);
    }
    __atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    close(s.fd[0]);
    close(s.fd[1]);
}
END_TEST

UNIT_MAIN("reactor", "core", NULL, NULL, 60, pipe_data_and_hangup_wake, edges_not_levels,
          regular_file_is_never_watched, watch_goes_while_busy)
