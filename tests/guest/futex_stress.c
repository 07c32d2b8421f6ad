/* futex_stress.c: what libc builds on futexes, under many threads and
 * rounds (musl static; pthreads): mutexes (normal, recursive, error
 * checking), condition variables (signal, broadcast, timed waits on both
 * clocks), barriers, rwlocks, semaphores, pthread_join, and a robust
 * mutex whose owner exits holding it (EOWNERDEAD: the kernel's robust-list
 * walk at thread exit). Every total it prints is fixed by the program, so
 * native and sandboxed runs print the same lines; a lost wake-up shows as
 * a hang (the harness's timeout).
 *
 * Needs threads in the sandbox (clone with CLONE_THREAD, CLONE_CHILD_CLEARTID
 * and the exit release of futexes): built with the guest tests, run once
 * those exist (tests/guest/meson.build, pending_guest_names). */
#include "guest.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define ROUNDS 2000

static void die(const char *what, int e)
{
    out("FAIL %s: %s\n", what, errno_name(e));
    exit(1);
}

#define CK(call)                                                                                   \
    do {                                                                                           \
        int e_ = (call);                                                                           \
        if (e_)                                                                                    \
            die(#call, e_);                                                                        \
    } while (0)

static void run(void *(*fn)(void *), int n)
{
    pthread_t th[NTHREADS * 2];
    for (long i = 0; i < n; i++)
        CK(pthread_create(&th[i], NULL, fn, (void *)i));
    for (int i = 0; i < n; i++)
        CK(pthread_join(th[i], NULL));
}

/* ---- mutexes ---- */

static pthread_mutex_t mtx[4] = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                  PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static pthread_mutex_t rec, errchk;
static long counters[4], rec_count, err_count;

static void *mutex_main(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_t *m = &mtx[(id + i) % 4];
        CK(pthread_mutex_lock(m));
        counters[(id + i) % 4]++;
        CK(pthread_mutex_unlock(m));
        CK(pthread_mutex_lock(&rec));
        CK(pthread_mutex_lock(&rec));
        rec_count++;
        CK(pthread_mutex_unlock(&rec));
        CK(pthread_mutex_unlock(&rec));
        CK(pthread_mutex_lock(&errchk));
        if (pthread_mutex_lock(&errchk) != EDEADLK)
            die("error-checking relock", 0);
        err_count++;
        CK(pthread_mutex_unlock(&errchk));
    }
    return NULL;
}

/* ---- condition variables: a bounded queue ---- */

#define QCAP 4
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;
static long queue[QCAP];
static int qhead, qlen, producers_left;
static long consumed_sum, consumed_n;

static void *producer_main(void *arg)
{
    long id = (long)arg;
    for (long i = 0; i < ROUNDS; i++) {
        CK(pthread_mutex_lock(&qlock));
        while (qlen == QCAP)
            CK(pthread_cond_wait(&notfull, &qlock));
        queue[(qhead + qlen++) % QCAP] = id * ROUNDS + i;
        CK(pthread_cond_signal(&notempty));
        CK(pthread_mutex_unlock(&qlock));
    }
    CK(pthread_mutex_lock(&qlock));
    if (--producers_left == 0)
        CK(pthread_cond_broadcast(&notempty));
    CK(pthread_mutex_unlock(&qlock));
    return NULL;
}

static void *consumer_main(void *arg)
{
    (void)arg;
    for (;;) {
        CK(pthread_mutex_lock(&qlock));
        while (qlen == 0 && producers_left)
            CK(pthread_cond_wait(&notempty, &qlock));
        if (qlen == 0) {
            CK(pthread_mutex_unlock(&qlock));
            return NULL;
        }
        long v = queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qlen--;
        consumed_sum += v;
        consumed_n++;
        CK(pthread_cond_signal(&notfull));
        CK(pthread_mutex_unlock(&qlock));
    }
}

static void *queue_main(void *arg)
{
    long id = (long)arg;
    return id % 2 ? consumer_main(arg) : producer_main((void *)(id / 2));
}

/* ---- barriers ---- */

#define BROUNDS 300
static pthread_barrier_t bar;
static long slots[NTHREADS], barrier_serial, barrier_bad;

static void *barrier_main(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < BROUNDS; r++) {
        slots[id] = r;
        int s = pthread_barrier_wait(&bar);
        if (s == PTHREAD_BARRIER_SERIAL_THREAD) {
            barrier_serial++;
            for (int i = 0; i < NTHREADS; i++)
                if (slots[i] != r)
                    barrier_bad++;
        } else if (s) {
            die("pthread_barrier_wait", s);
        }
        s = pthread_barrier_wait(&bar);
        if (s && s != PTHREAD_BARRIER_SERIAL_THREAD)
            die("pthread_barrier_wait", s);
    }
    return NULL;
}

/* ---- rwlocks ---- */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b, rw_reads, rw_torn;

static void *rwlock_main(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if ((id + i) % 4 == 0) {
            CK(pthread_rwlock_wrlock(&rw));
            rw_a++;
            rw_b++;
            CK(pthread_rwlock_unlock(&rw));
        } else {
            CK(pthread_rwlock_rdlock(&rw));
            if (rw_a != rw_b)
                __atomic_add_fetch(&rw_torn, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&rw_reads, 1, __ATOMIC_RELAXED);
            CK(pthread_rwlock_unlock(&rw));
        }
    }
    return NULL;
}

/* ---- semaphores: a ping-pong ---- */

static sem_t ping, pong;
static long pings;

static void *pong_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        while (sem_wait(&ping))
            ;
        pings++;
        sem_post(&pong);
    }
    return NULL;
}

/* ---- a robust mutex whose owner exits holding it ---- */

static pthread_mutex_t robust;

static void *robust_main(void *arg)
{
    (void)arg;
    CK(pthread_mutex_lock(&robust));
    return NULL; /* exits holding it */
}

static int timedlock_ret;

static void *timedlock_main(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    add_ms(&ts, 20);
    timedlock_ret = pthread_mutex_timedlock(&mtx[0], &ts);
    return NULL;
}

int main(void)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    CK(pthread_mutex_init(&rec, &ma));
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    CK(pthread_mutex_init(&errchk, &ma));
    run(mutex_main, NTHREADS);
    out("mutexes: %ld %ld %ld %ld, recursive %ld, error-checking %ld\n", counters[0], counters[1],
        counters[2], counters[3], rec_count, err_count);

    producers_left = NTHREADS / 2;
    run(queue_main, NTHREADS);
    out("queue: %ld items, sum %ld\n", consumed_n, consumed_sum);

    CK(pthread_barrier_init(&bar, NULL, NTHREADS));
    run(barrier_main, NTHREADS);
    out("barrier: %ld serial, %ld out of step\n", barrier_serial, barrier_bad);

    run(rwlock_main, NTHREADS);
    out("rwlock: %ld writes, %ld reads, %ld torn\n", rw_a, rw_reads, rw_torn);

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_t th;
    CK(pthread_create(&th, NULL, pong_main, NULL));
    for (int i = 0; i < ROUNDS; i++) {
        sem_post(&ping);
        while (sem_wait(&pong))
            ;
    }
    CK(pthread_join(th, NULL));
    out("semaphores: %ld round trips\n", pings);

    /* Timed waits time out, on the realtime and the monotonic clock. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t cmono;
    CK(pthread_cond_init(&cmono, &ca));
    struct timespec ts;
    CK(pthread_mutex_lock(&qlock));
    clock_gettime(CLOCK_REALTIME, &ts);
    add_ms(&ts, 20);
    int r1 = pthread_cond_timedwait(&notempty, &qlock, &ts);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    add_ms(&ts, 20);
    int r2 = pthread_cond_timedwait(&cmono, &qlock, &ts);
    CK(pthread_mutex_unlock(&qlock));
    out("timed waits: %s %s\n", errno_name(r1), errno_name(r2));
    CK(pthread_mutex_lock(&mtx[0]));
    pthread_t locker;
    CK(pthread_create(&locker, NULL, timedlock_main, NULL));
    CK(pthread_join(locker, NULL));
    CK(pthread_mutex_unlock(&mtx[0]));
    out("timed lock of a held mutex: %s\n", errno_name(timedlock_ret));

    /* The robust mutex: the next locker learns its owner died. */
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    CK(pthread_mutex_init(&robust, &ma));
    CK(pthread_create(&th, NULL, robust_main, NULL));
    CK(pthread_join(th, NULL));
    int r = pthread_mutex_lock(&robust);
    out("robust mutex after its owner exited: %s\n",
        r == EOWNERDEAD ? "EOWNERDEAD" : errno_name(r));
    if (r == EOWNERDEAD)
        CK(pthread_mutex_consistent(&robust));
    CK(pthread_mutex_unlock(&robust));
    CK(pthread_mutex_lock(&robust));
    CK(pthread_mutex_unlock(&robust));
    out("robust mutex usable again\n");
    return 0;
}
