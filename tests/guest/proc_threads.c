/* proc_threads.c: pthreads as libc builds them on clone, futex and
 * CLONE_CHILD_CLEARTID (pthread_join): many threads created and joined,
 * distinct tids, gettid vs getpid, return values, thread-local storage, a
 * mutex and a condition variable under contention, /proc/self/task and
 * Threads: listing every thread, a non-leader's pthread_exit, exit from a
 * thread ending the whole process, a blocked signal pending for one thread
 * only (tgkill), and nanosleep in threads and its argument errors. Built
 * with musl and glibc (proc_threads.glibc). */
#include "proc_util.h"

#include <dirent.h>
#include <pthread.h>
#include <time.h>

#define N 16

static __thread int tls_var = 7;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int release;

struct info {
    long tid, pid, idx;
    int tls_ok;
};

static void *worker(void *arg)
{
    struct info *in = arg;
    in->tid = sc(SYS_gettid);
    in->pid = sc(SYS_getpid);
    in->tls_ok = tls_var == 7;
    tls_var = 100 + (int)in->idx;
    in->tls_ok &= tls_var == 100 + (int)in->idx;
    return (void *)(in->idx * 3);
}

static void test_create_join(void)
{
    pthread_t t[N];
    static struct info in[N];
    long me = getpid();
    check(sc(SYS_gettid) == me, "main thread: gettid == getpid");
    int created = 0;
    for (int i = 0; i < N; i++) {
        in[i].idx = i;
        int e = pthread_create(&t[i], 0, worker, &in[i]);
        if (e && i == 0) {
            /* Nothing below could work (the sandbox before clone). */
            out("FAIL pthread_create -> -%s: giving up\n", errno_name(e));
            exit(1);
        }
        created += e == 0;
    }
    check(created == N, "%d threads created", N);
    int joined = 0, rets = 1, pids = 1, tls = 1, distinct = 1;
    for (int i = 0; i < N; i++) {
        void *r = 0;
        joined += pthread_join(t[i], &r) == 0;
        rets &= (long)r == i * 3;
        pids &= in[i].pid == me;
        tls &= in[i].tls_ok;
        distinct &= in[i].tid != me && in[i].tid > 0;
        for (int j = 0; j < i; j++)
            distinct &= in[j].tid != in[i].tid;
    }
    check(joined == N, "all joined");
    check(rets, "each thread's return value came back through pthread_join");
    check(pids, "every thread's getpid is the process's");
    check(distinct, "tids distinct, none the pid");
    check(tls, "thread-local storage starts from its initial value in each thread");
    check(tls_var == 7, "the main thread's TLS is untouched");
}

static void *adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    return 0;
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&mu);
    while (!release)
        pthread_cond_wait(&cv, &mu);
    (*(int *)arg)++;
    pthread_mutex_unlock(&mu);
    return 0;
}

static void test_sync(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], 0, adder, 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    check(counter == 80000, "4 threads x 20000 increments under a mutex: %ld", counter);

    static int woken;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], 0, waiter, &woken);
    pthread_mutex_lock(&mu);
    release = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    check(woken == 4, "pthread_cond_broadcast woke the 4 waiters");
}

static int gate[2];
static long task_tids[4];

static void *blocked(void *arg)
{
    __atomic_store_n(&task_tids[(long)arg], sc(SYS_gettid), __ATOMIC_RELEASE);
    wait_byte(gate[0]);
    return 0;
}

static int count_tasks(long *found_all)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0, seen = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        long t = strtol(e->d_name, 0, 10);
        for (int i = 0; i < 4; i++)
            seen += task_tids[i] == t;
    }
    closedir(d);
    *found_all = seen;
    return n;
}

static int status_threads(void)
{
    int fd = (int)sc(SYS_open, "/proc/self/status", O_RDONLY);
    char buf[4096] = { 0 };
    sc(SYS_read, fd, buf, sizeof buf - 1);
    sc(SYS_close, fd);
    char *t = strstr(buf, "\nThreads:");
    return t ? atoi(t + 9) : -1;
}

static void *exiter(void *arg)
{
    (void)arg;
    pthread_exit((void *)55);
    return 0;
}

static void test_proc_task(void)
{
    pipe(gate);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], 0, blocked, (void *)i);
    /* Wait until each thread has stored its tid. */
    for (;;) {
        int all = 1;
        for (int i = 0; i < 4; i++)
            all &= __atomic_load_n(&task_tids[i], __ATOMIC_ACQUIRE) != 0;
        if (all)
            break;
        struct timespec ms = { 0, 1000000 };
        sc(SYS_nanosleep, &ms, 0);
    }
    long found = 0;
    check(count_tasks(&found) == 5, "/proc/self/task lists 5 threads");
    check(found == 4, "... the 4 new ones by their tids");
    check(status_threads() == 5, "/proc/self/status Threads: 5");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", task_tids[0]);
    int fd = open(path, O_RDONLY);
    check(fd >= 0, "/proc/self/task/TID/stat opens");
    close(fd);
    close(gate[1]); /* EOF releases all four */
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    close(gate[0]);
    /* pthread_join returns once the kernel cleared the thread's tid word,
     * a moment before the thread leaves /proc (natively too, under load):
     * give it up to a second. */
    int n = 0;
    for (int i = 0; i < 100 && (n = count_tasks(&found)) != 1; i++)
        usleep(10000);
    check(n == 1, "/proc/self/task lists 1 thread after the joins");
    for (int i = 0; i < 100 && status_threads() != 1; i++)
        usleep(10000);
    check(status_threads() == 1, "/proc/self/status Threads: 1");

    pthread_t x;
    void *r = 0;
    pthread_create(&x, 0, exiter, 0);
    check(pthread_join(x, &r) == 0 && (long)r == 55, "pthread_exit's value reaches the joiner");
}

static void *group_exit(void *arg)
{
    (void)arg;
    exit(7);
}

static void *wait_forever(void *arg)
{
    (void)arg;
    for (;;)
        sc(SYS_pause);
    return 0;
}

static void test_exit_from_thread(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        for (int i = 0; i < 3; i++)
            pthread_create(&t, 0, wait_forever, 0);
        pthread_create(&t, 0, group_exit, 0);
        for (;;)
            sc(SYS_pause);
    }
    check_wait(pid, "exited 7", "exit(7) from a thread ends every thread");
}

static void *pend_thread(void *arg)
{
    (void)arg;
    /* The mask is per thread; SIGUSR1 is blocked since creation. */
    __atomic_store_n(&task_tids[0], sc(SYS_gettid), __ATOMIC_RELEASE);
    wait_byte(gate[0]);
    sigset_t p;
    sigpending(&p);
    long r = sigismember(&p, SIGUSR1);
    /* Discard it before the mask is gone. */
    signal(SIGUSR1, SIG_IGN);
    return (void *)r;
}

static void test_tgkill_pending(void)
{
    pipe(gate);
    sigset_t m, old;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &m, &old);
    pthread_t t;
    long tid;
    task_tids[0] = 0;
    pthread_create(&t, 0, pend_thread, 0);
    while ((tid = __atomic_load_n(&task_tids[0], __ATOMIC_ACQUIRE)) == 0)
        sched_yield();
    check_ret(sc(SYS_tgkill, getpid(), tid, SIGUSR1), 0, "tgkill to the other thread");
    sigset_t p;
    sigpending(&p);
    check(!sigismember(&p, SIGUSR1), "not pending for the main thread");
    send_byte(gate[1]);
    void *r = 0;
    pthread_join(t, &r);
    check((long)r == 1, "pending for the thread it was sent to");
    close_pipe(gate);
    signal(SIGUSR1, SIG_DFL);
    pthread_sigmask(SIG_SETMASK, &old, 0);
}

static void *sleeper(void *arg)
{
    struct timespec ts = { 0, 30 * 1000000L };
    return (void *)sc(SYS_nanosleep, &ts, arg);
}

static void test_sleep(void)
{
    struct timespec t0, t1, rem;
    pthread_t t[3];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], 0, sleeper, &rem);
    long ok = 0;
    for (int i = 0; i < 3; i++) {
        void *r = (void *)-1;
        pthread_join(t[i], &r);
        ok += r == 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = elapsed_ms(&t0, &t1);
    check(ok == 3, "3 threads nanosleep 30 ms each, returning 0");
    check(ms >= 29 && ms < 5000, "... concurrently: the joins took from 30 ms to 5 s");

    struct timespec bad = { 0, 1000000000L }, neg = { -1, 0 }, zero = { 0, 0 };
    check_err(sc(SYS_nanosleep, &bad, 0), EINVAL, "nanosleep tv_nsec 1e9");
    check_err(sc(SYS_nanosleep, &neg, 0), EINVAL, "nanosleep negative");
    check_err(sc(SYS_nanosleep, BADPTR, 0), EFAULT, "nanosleep bad pointer");
    check_ret(sc(SYS_nanosleep, &zero, BADPTR), 0, "nanosleep 0 (rem not written)");
    struct timespec past = { 1, 0 };
    check_ret(sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, 1 /* TIMER_ABSTIME */, &past, 0), 0,
              "clock_nanosleep TIMER_ABSTIME in the past");
    check_err(sc(SYS_clock_nanosleep, 99, 0, &zero, 0), EINVAL, "clock_nanosleep clock 99");
    check_err(sc(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &zero, 0), ENOTSUP,
              "clock_nanosleep CLOCK_THREAD_CPUTIME_ID");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct timespec rel = { 0, 20 * 1000000L };
    check_ret(sc(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &rel, 0), 0, "clock_nanosleep 20 ms");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = elapsed_ms(&t0, &t1);
    check(ms >= 19 && ms < 5000, "... slept from 20 ms to 5 s");
}

int main(void)
{
    test_create_join();
    test_sync();
    test_proc_task();
    test_exit_from_thread();
    test_tgkill_pending();
    test_sleep();
    return finish();
}
