/* Unit test of the futex core (sentry/futex.h) with host threads standing
 * in for guest tasks, whose "guest memory" is this process (their stub's
 * pid is ours): wake counts, bitsets, requeue, wake_op, waitv, timeouts,
 * interruption, which keys meet (private, shared, across address spaces
 * through a file or shared anonymous memory), the exit release (robust
 * list, clear_child_tid) and no lost wake-ups under a stress of threads. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fs/file/file.h"
#include "platform/platform.h"
#include "sched/wait.h"
#include "sentry/futex.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/syscall.h"

#define ANY FUTEX_BITSET_MATCH_ANY
#define SHARED FUTEX_F_SHARED

static struct stub stub;

/* An address space whose memory is this process's. */
static struct mm *fake_mm_new(void)
{
    struct mm *mm = calloc(1, sizeof(*mm));
    ck_assert_ptr_nonnull(mm);
    pthread_mutex_init(&mm->lock, NULL);
    vma_set_init(&mm->vmas);
    stub.pid = stub.mem_pid = getpid();
    mm->stub = &stub;
    return mm;
}

static struct task *task_new(struct mm *mm, int tid)
{
    struct process *p = calloc(1, sizeof(*p));
    struct task *t = calloc(1, sizeof(*t));
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(t);
    p->mm = mm;
    p->pid = tid;
    t->proc = p;
    t->tid = tid;
    sleeper_init(&t->sleep);
    return t;
}

static void task_free(struct task *t)
{
    sleeper_destroy(&t->sleep);
    free(t->proc);
    free(t);
}

/* A VMA over the page(s) of [addr, addr + len) in mm. */
static void map(struct mm *mm, void *addr, size_t len, int flags, struct file *f, uint64_t off,
                uint64_t shm_id)
{
    uint64_t start = (uintptr_t)addr & ~4095ULL;
    uint64_t end = ((uintptr_t)addr + len + 4095) & ~4095ULL;
    struct vma v = { .start = start,
                     .end = end,
                     .prot = PROT_READ | PROT_WRITE,
                     .flags = flags,
                     .kind = f ? VMA_FILE : VMA_ANON,
                     .file = f,
                     .off = off,
                     .dev = f ? 99 : 0,
                     .ino = f ? 1234 : 0,
                     .shm_id = shm_id };
    if (mm->vmas.n)
        vma_remove(&mm->vmas, start, end);
    ck_assert_int_eq(vma_insert_vma(&mm->vmas, &v), 0);
}

static struct mm *mm0;
static struct task *t0;

static void setup(void)
{
    mm0 = fake_mm_new();
    t0 = task_new(mm0, 100);
}

static void teardown(void)
{
    vma_set_free(&mm0->vmas);
    task_free(t0);
    free(mm0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct ktimeout rel_ms(int ms)
{
    struct ktimeout to;
    ktimeout_rel(&to, (struct timespec){ ms / 1000, (long)(ms % 1000) * 1000000 });
    return to;
}

/* How many waiters wait on uaddr (key of t, flags): a requeue of them all
 * onto their own word, which moves nothing. */
static long nwaiters(struct task *t, uint32_t *uaddr, int flags)
{
    return futex_requeue(t, (uintptr_t)uaddr, (uintptr_t)uaddr, flags, 0, INT_MAX, NULL);
}

static void wait_for_waiters(struct task *t, uint32_t *uaddr, int flags, long n)
{
    int64_t end = now_ms() + 5000;
    while (nwaiters(t, uaddr, flags) != n) {
        ck_assert_int_lt(now_ms(), end);
        msleep(1);
    }
}

/* A waiter thread: one futex_wait (or futex_wait_multiple). */
struct waiter_arg {
    struct task *t;
    uint32_t *uaddr;
    uint32_t val, bitset;
    int flags;
    int timeout_ms; /* 0: none */
    struct futex_waitv_ent v[4];
    unsigned nv;
    long ret;
    pthread_t th;
};

static void *waiter_main(void *p)
{
    struct waiter_arg *w = p;
    struct ktimeout to = rel_ms(w->timeout_ms);
    if (w->nv)
        w->ret = futex_wait_multiple(w->t, w->v, w->nv, w->timeout_ms ? &to : NULL);
    else
        w->ret = futex_wait(w->t, (uintptr_t)w->uaddr, w->flags, w->val,
                            w->bitset ? w->bitset : ANY, w->timeout_ms ? &to : NULL);
    return NULL;
}

static struct waiter_arg *start_waiter(struct task *t, uint32_t *uaddr, int flags, uint32_t bitset)
{
    struct waiter_arg *w = calloc(1, sizeof(*w));
    w->t = t;
    w->uaddr = uaddr;
    w->val = *uaddr;
    w->flags = flags;
    w->bitset = bitset;
    w->ret = 1000;
    pthread_create(&w->th, NULL, waiter_main, w);
    return w;
}

static long join(struct waiter_arg *w)
{
    pthread_join(w->th, NULL);
    long r = w->ret;
    task_free(w->t);
    free(w);
    return r;
}

/* ---- single-threaded answers ---- */

START_TEST(errors_and_timeouts)
{
    static uint32_t word = 5;
    uint64_t a = (uintptr_t)&word;
    ck_assert_int_eq(futex_wait(t0, a, 0, 6, ANY, NULL), -EAGAIN);
    ck_assert_int_eq(futex_wait(t0, a, 0, 5, 0, NULL), -EINVAL);
    ck_assert_int_eq(futex_wait(t0, a + 1, 0, 5, ANY, NULL), -EINVAL);
    ck_assert_int_eq(futex_wait(t0, 4096, 0, 5, ANY, NULL), -EFAULT);
    ck_assert_int_eq(futex_wake(t0, a, 0, 1, 0), -EINVAL);
    ck_assert_int_eq(futex_wake(t0, a, 0, 1, ANY), 0);
    ck_assert_int_eq(futex_wake(t0, 0xffff800000000000ULL, 0, 1, ANY), -EFAULT);
    /* Shared on memory without a VMA: no page. */
    ck_assert_int_eq(futex_wake(t0, a, SHARED, 1, ANY), -EFAULT);
    map(mm0, &word, 4, MAP_PRIVATE, NULL, 0, 0);
    ck_assert_int_eq(futex_wake(t0, a, SHARED, 1, ANY), 0);
    /* Relative timeout. */
    int64_t t = now_ms();
    struct ktimeout to = rel_ms(30);
    ck_assert_int_eq(futex_wait(t0, a, 0, 5, ANY, &to), -ETIMEDOUT);
    ck_assert_int_ge(now_ms() - t, 30);
    /* Absolute, on the realtime clock, in the past and soon. */
    struct ktimeout rt = { CLOCK_REALTIME, { 1, 0 } };
    ck_assert_int_eq(futex_wait(t0, a, SHARED, 5, ANY, &rt), -ETIMEDOUT);
    clock_gettime(CLOCK_REALTIME, &rt.abs);
    rt.abs = ktime_add(rt.abs, (struct timespec){ 0, 20000000L });
    t = now_ms();
    ck_assert_int_eq(futex_wait(t0, a, 0, 5, ANY, &rt), -ETIMEDOUT);
    ck_assert_int_ge(now_ms() - t, 19);
    /* Requeue and wake_op argument errors. */
    static uint32_t w2 = 7;
    uint64_t b = (uintptr_t)&w2;
    ck_assert_int_eq(futex_requeue(t0, a, b, 0, -1, 1, NULL), -EINVAL);
    ck_assert_int_eq(futex_requeue(t0, a, b, 0, 1, -1, NULL), -EINVAL);
    ck_assert_int_eq(futex_requeue(t0, a, b + 2, 0, 1, 1, NULL), -EINVAL);
    uint32_t cmp = 6;
    ck_assert_int_eq(futex_requeue(t0, a, b, 0, 1, 1, &cmp), -EAGAIN);
    cmp = 5;
    ck_assert_int_eq(futex_requeue(t0, a, b, 0, 1, 1, &cmp), 0);
    ck_assert_int_eq(futex_wake_op(t0, a, b + 1, 0, 1, 1, 0), -EINVAL);
    ck_assert_int_eq(futex_wake_op(t0, a, 4096, 0, 1, 1, 0), -EFAULT);
}
END_TEST

/* FUTEX_OP: op << 28 | cmp << 24 | oparg << 12 | cmparg. */
#define OP(op, cmp, oparg, cmparg)                                                                 \
    ((uint32_t)(op) << 28 | (uint32_t)(cmp) << 24 | ((uint32_t)(oparg)&0xfff) << 12 |              \
     ((uint32_t)(cmparg)&0xfff))

START_TEST(wake_op_arithmetic)
{
    static uint32_t a = 0, b = 10;
    uint64_t ua = (uintptr_t)&a, ub = (uintptr_t)&b;
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(1, 0, 3, 10)), 0); /* ADD 3, old == 10 */
    ck_assert_uint_eq(b, 13);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(0, 0, 7, 0)), 0); /* SET 7 */
    ck_assert_uint_eq(b, 7);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(2, 0, 8, 0)), 0); /* OR 8 */
    ck_assert_uint_eq(b, 15);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(3, 0, 3, 0)), 0); /* ANDN 3 */
    ck_assert_uint_eq(b, 12);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(4, 0, 5, 0)), 0); /* XOR 5 */
    ck_assert_uint_eq(b, 9);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(8, 0, 4, 0)), 0); /* SET 1 << 4 */
    ck_assert_uint_eq(b, 16);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(1, 0, -1, 0)), 0); /* ADD -1 */
    ck_assert_uint_eq(b, 15);
    /* An unknown operation writes nothing; an unknown comparison comes
     * after the write (Linux's order). */
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(5, 0, 1, 0)), -ENOSYS);
    ck_assert_uint_eq(b, 15);
    ck_assert_int_eq(futex_wake_op(t0, ua, ub, 0, 1, 1, OP(1, 6, 1, 0)), -ENOSYS);
    ck_assert_uint_eq(b, 16);
}
END_TEST

/* ---- with waiters ---- */

START_TEST(wake_counts)
{
    static uint32_t word = 1;
    struct waiter_arg *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = start_waiter(task_new(mm0, 200 + i), &word, 0, 0);
    wait_for_waiters(t0, &word, 0, 5);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 2, ANY), 2);
    wait_for_waiters(t0, &word, 0, 3);
    /* Not the shared key. */
    map(mm0, &word, 4, MAP_PRIVATE, NULL, 0, 0);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, SHARED, 10, ANY), 0);
    /* nr 0 wakes one, as Linux. */
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 0, ANY), 1);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, INT_MAX, ANY), 2);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(join(w[i]), 0);
}
END_TEST

START_TEST(bitsets)
{
    static uint32_t word = 1;
    struct waiter_arg *w1 = start_waiter(task_new(mm0, 201), &word, 0, 1);
    wait_for_waiters(t0, &word, 0, 1);
    struct waiter_arg *w2 = start_waiter(task_new(mm0, 202), &word, 0, 2);
    wait_for_waiters(t0, &word, 0, 2);
    struct waiter_arg *w3 = start_waiter(task_new(mm0, 203), &word, 0, 3);
    wait_for_waiters(t0, &word, 0, 3);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 10, 4), 0);
    /* Bit 1: the waiters with 2 and 3, in arrival order. */
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 1, 2), 1);
    ck_assert_int_eq(join(w2), 0);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 10, 2), 1);
    ck_assert_int_eq(join(w3), 0);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&word, 0, 10, ANY), 1);
    ck_assert_int_eq(join(w1), 0);
}
END_TEST

START_TEST(requeue)
{
    static uint32_t a = 1, b = 2;
    struct waiter_arg *w[4];
    for (int i = 0; i < 4; i++)
        w[i] = start_waiter(task_new(mm0, 200 + i), &a, 0, 0);
    wait_for_waiters(t0, &a, 0, 4);
    uint32_t cmp = 9;
    ck_assert_int_eq(futex_requeue(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 1, 2, &cmp), -EAGAIN);
    cmp = 1;
    ck_assert_int_eq(futex_requeue(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 1, 2, &cmp), 3);
    wait_for_waiters(t0, &a, 0, 1);
    ck_assert_int_eq(nwaiters(t0, &b, 0), 2);
    /* nr_wake 0 wakes none; nr_requeue 0 moves none. */
    ck_assert_int_eq(futex_requeue(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 0, 0, NULL), 0);
    ck_assert_int_eq(futex_requeue(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 0, 5, NULL), 1);
    ck_assert_int_eq(nwaiters(t0, &b, 0), 3);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&a, 0, 10, ANY), 0);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&b, 0, 10, ANY), 3);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(join(w[i]), 0);
}
END_TEST

START_TEST(wake_op_wakes)
{
    static uint32_t a = 1, b = 5;
    struct waiter_arg *wa = start_waiter(task_new(mm0, 201), &a, 0, 0);
    struct waiter_arg *wb = start_waiter(task_new(mm0, 202), &b, 0, 0);
    wait_for_waiters(t0, &a, 0, 1);
    wait_for_waiters(t0, &b, 0, 1);
    /* The comparison fails: only a's waiter. */
    ck_assert_int_eq(futex_wake_op(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 1, 1, OP(1, 0, 1, 99)), 1);
    ck_assert_int_eq(join(wa), 0);
    ck_assert_uint_eq(b, 6);
    /* b's waiter wakes though the word changed under it: it was queued. */
    ck_assert_int_eq(futex_wake_op(t0, (uintptr_t)&a, (uintptr_t)&b, 0, 1, 1, OP(1, 0, 1, 6)), 1);
    ck_assert_int_eq(join(wb), 0);
    ck_assert_uint_eq(b, 7);
}
END_TEST

START_TEST(waitv)
{
    static uint32_t w[3] = { 1, 2, 3 };
    struct waiter_arg *x = calloc(1, sizeof(*x));
    x->t = task_new(mm0, 201);
    x->nv = 3;
    for (int i = 0; i < 3; i++)
        x->v[i] = (struct futex_waitv_ent){ (uintptr_t)&w[i], w[i], 0 };
    x->v[2].flags = SHARED;
    map(mm0, &w[2], 4, MAP_PRIVATE, NULL, 0, 0);
    pthread_create(&x->th, NULL, waiter_main, x);
    wait_for_waiters(t0, &w[0], 0, 1);
    wait_for_waiters(t0, &w[2], SHARED, 1);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&w[1], 0, 1, ANY), 1);
    ck_assert_int_eq(join(x), 1);
    ck_assert_int_eq(nwaiters(t0, &w[0], 0), 0);
    ck_assert_int_eq(nwaiters(t0, &w[2], SHARED), 0);
    /* A differing value, a fault, a timeout. */
    struct futex_waitv_ent v[2] = { { (uintptr_t)&w[0], 1, 0 }, { (uintptr_t)&w[1], 9, 0 } };
    ck_assert_int_eq(futex_wait_multiple(t0, v, 2, NULL), -EAGAIN);
    v[1].uaddr = 4096;
    ck_assert_int_eq(futex_wait_multiple(t0, v, 2, NULL), -EFAULT);
    v[1].uaddr = 4097;
    ck_assert_int_eq(futex_wait_multiple(t0, v, 2, NULL), -EINVAL);
    v[1] = (struct futex_waitv_ent){ (uintptr_t)&w[1], 2, 0 };
    struct ktimeout to = { CLOCK_MONOTONIC, { 0, 0 } };
    clock_gettime(CLOCK_MONOTONIC, &to.abs);
    to.abs = ktime_add(to.abs, (struct timespec){ 0, 20000000L });
    int64_t t = now_ms();
    ck_assert_int_eq(futex_wait_multiple(t0, v, 2, &to), -ETIMEDOUT);
    ck_assert_int_ge(now_ms() - t, 19);
    ck_assert_int_eq(futex_wait_multiple(t0, v, 0, NULL), -EINVAL);
}
END_TEST

START_TEST(interrupted)
{
    static uint32_t word = 1;
    struct waiter_arg *w = start_waiter(task_new(mm0, 201), &word, 0, 0);
    wait_for_waiters(t0, &word, 0, 1);
    task_interrupt(w->t);
    ck_assert_int_eq(join(w), -ERESTARTSYS);
    ck_assert_int_eq(nwaiters(t0, &word, 0), 0);
}
END_TEST

/* Two address spaces map one file page at different addresses (here: the
 * same host memory, as a host MAP_SHARED page would be): shared futexes
 * meet, private ones do not. The same for shared anonymous memory. */
START_TEST(shared_across_mms)
{
    struct mm *mm1 = fake_mm_new();
    struct task *t1 = task_new(mm1, 300);
    uint32_t *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(page, MAP_FAILED);
    struct file *f = file_new(NULL, O_RDWR);
    /* mm0 maps file offset 0 at page, mm1 maps file offset 0 at page + 4096:
     * the word at page[1] (mm0) and page[1025] (mm1) are the same word of
     * the file. Both live in this process, so mm1's view reads page[1025]. */
    map(mm0, page, 4096, MAP_SHARED, f, 0, 0);
    map(mm1, page + 1024, 4096, MAP_SHARED, f, 0, 0);
    page[1] = page[1025] = 4;
    struct waiter_arg *w = start_waiter(task_new(mm0, 201), &page[1], SHARED, 0);
    wait_for_waiters(t0, &page[1], SHARED, 1);
    ck_assert_int_eq(futex_wake(t1, (uintptr_t)&page[1025], 0, 1, ANY), 0);
    ck_assert_int_eq(futex_wake(t1, (uintptr_t)&page[1], SHARED, 1, ANY),
                     -EFAULT); /* unmapped in mm1 */
    ck_assert_int_eq(futex_wake(t1, (uintptr_t)&page[1025], SHARED, 1, ANY), 1);
    ck_assert_int_eq(join(w), 0);
    /* Shared anonymous memory: the same object (as after fork), at
     * different addresses. */
    map(mm0, page, 4096, MAP_SHARED, NULL, 0, 77);
    map(mm1, page + 1024, 4096, MAP_SHARED, NULL, 0, 77);
    w = start_waiter(task_new(mm0, 202), &page[1], SHARED, 0);
    wait_for_waiters(t0, &page[1], SHARED, 1);
    ck_assert_int_eq(nwaiters(t1, &page[1025], SHARED), 1);
    ck_assert_int_eq(futex_wake(t1, (uintptr_t)&page[1025], SHARED, 1, ANY), 1);
    ck_assert_int_eq(join(w), 0);
    /* A private mapping is the address space's own. */
    map(mm0, page, 4096, MAP_PRIVATE, NULL, 0, 0);
    map(mm1, page, 4096, MAP_PRIVATE, NULL, 0, 0);
    w = start_waiter(task_new(mm0, 203), &page[1], SHARED, 0);
    wait_for_waiters(t0, &page[1], SHARED, 1);
    ck_assert_int_eq(futex_wake(t1, (uintptr_t)&page[1], SHARED, 1, ANY), 0);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&page[1], SHARED, 1, ANY), 1);
    ck_assert_int_eq(join(w), 0);
    /* Read-only anonymous memory has no shared futex; for a write (the
     * second word of WAKE_OP) neither has a read-only file page. */
    vma_protect(&mm0->vmas, (uintptr_t)page, (uintptr_t)page + 4096, PROT_READ);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&page[1], SHARED, 1, ANY), -EFAULT);
    map(mm0, page, 4096, MAP_SHARED, f, 0, 0);
    vma_protect(&mm0->vmas, (uintptr_t)page, (uintptr_t)page + 4096, PROT_READ);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&page[1], SHARED, 1, ANY), 0);
    ck_assert_int_eq(futex_wake_op(t0, (uintptr_t)&page[2], (uintptr_t)&page[1], SHARED, 1, 1, 0),
                     -EFAULT);
    vma_set_free(&mm0->vmas);
    vma_set_free(&mm1->vmas);
    file_put(f);
    munmap(page, 8192);
    task_free(t1);
    free(mm1);
}
END_TEST

/* ---- thread exit ---- */

struct robust_entry {
    uint64_t next;
    uint32_t lock;
};

START_TEST(exit_release)
{
    struct task *dying = task_new(mm0, 4242);
    static uint64_t head[3];
    static struct robust_entry e[3];
    static uint32_t ctid = 4242;
    map(mm0, e, sizeof e, MAP_PRIVATE, NULL, 0, 0);
    map(mm0, &ctid, 4, MAP_PRIVATE, NULL, 0, 0);
    /* head -> e0 (ours, waiters) -> e1 (another owner) -> e2 (ours, PI bit
     * in the link, no waiters) -> head; list_op_pending e0 again. */
    head[0] = (uintptr_t)&e[0];
    head[1] = offsetof(struct robust_entry, lock);
    head[2] = (uintptr_t)&e[0];
    e[0].next = (uintptr_t)&e[1];
    e[0].lock = 4242 | 0x80000000U;
    e[1].next = (uintptr_t)&e[2] | 1;
    e[1].lock = 77 | 0x80000000U;
    e[2].next = (uintptr_t)head;
    e[2].lock = 4242;
    dying->robust_list = (uintptr_t)head;
    dying->clear_child_tid = (uintptr_t)&ctid;
    struct waiter_arg *w0 = start_waiter(task_new(mm0, 201), &e[0].lock, SHARED, 0);
    struct waiter_arg *w1 = start_waiter(task_new(mm0, 202), &e[1].lock, SHARED, 0);
    struct waiter_arg *wc = start_waiter(task_new(mm0, 203), &ctid, SHARED, 0);
    wait_for_waiters(t0, &e[0].lock, SHARED, 1);
    wait_for_waiters(t0, &e[1].lock, SHARED, 1);
    wait_for_waiters(t0, &ctid, SHARED, 1);
    futex_exit_release(dying);
    ck_assert_int_eq(join(w0), 0);
    ck_assert_int_eq(join(wc), 0);
    ck_assert_uint_eq(e[0].lock, 0x80000000U | 0x40000000U);
    ck_assert_uint_eq(e[1].lock, 77 | 0x80000000U);
    ck_assert_uint_eq(e[2].lock, 0x40000000U);
    ck_assert_uint_eq(ctid, 0);
    ck_assert_uint_eq(dying->robust_list, 0);
    ck_assert_uint_eq(dying->clear_child_tid, 0);
    ck_assert_int_eq(nwaiters(t0, &e[1].lock, SHARED), 1);
    ck_assert_int_eq(futex_wake(t0, (uintptr_t)&e[1].lock, SHARED, 1, ANY), 1);
    ck_assert_int_eq(join(w1), 0);
    /* A circular list stops after ROBUST_LIST_LIMIT entries; a bad head
     * or a bad clear_child_tid is ignored. */
    e[0].next = (uintptr_t)&e[0];
    e[0].lock = 4242;
    head[2] = 0;
    dying->robust_list = (uintptr_t)head;
    dying->clear_child_tid = 4096;
    futex_exit_release(dying);
    ck_assert_uint_eq(e[0].lock, 0x40000000U);
    dying->robust_list = 4096;
    futex_exit_release(dying);
    ck_assert_int_eq(futex_wake_addr(t0, (uintptr_t)&ctid, 1, 1), 0);
    vma_set_free(&mm0->vmas);
    task_free(dying);
}
END_TEST

/* ---- stress: no lost wake-ups ---- */

/* Drepper's mutex ("Futexes are tricky", mutex 2) on the futex core. */
struct smutex {
    uint32_t v; /* 0 free, 1 locked, 2 locked with waiters */
};

static void smutex_lock(struct task *t, struct smutex *m)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(&m->v, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    if (c != 2)
        c = __atomic_exchange_n(&m->v, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        long r = futex_wait(t, (uintptr_t)&m->v, 0, 2, ANY, NULL);
        ck_assert(r == 0 || r == -EAGAIN);
        c = __atomic_exchange_n(&m->v, 2, __ATOMIC_ACQUIRE);
    }
}

static void smutex_unlock(struct task *t, struct smutex *m)
{
    if (__atomic_fetch_sub(&m->v, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&m->v, 0, __ATOMIC_RELEASE);
        futex_wake(t, (uintptr_t)&m->v, 0, 1, ANY);
    }
}

#define STRESS_THREADS 6
#define STRESS_ROUNDS 3000

static struct smutex smu;
static long counter;
/* A sequence word: each round a thread waits for its turn (requeue and
 * bitset paths too). */
static uint32_t turn;

static void *stress_main(void *p)
{
    struct task *t = p;
    for (int i = 0; i < STRESS_ROUNDS; i++) {
        smutex_lock(t, &smu);
        counter++;
        smutex_unlock(t, &smu);
    }
    return NULL;
}

/* Round robin of turns among threads: thread k waits (waitv on the turn
 * word and a dummy) until turn % n == k, then advances it and wakes all. */
struct rr_arg {
    struct task *t;
    int k, n, rounds;
};

static void *rr_main(void *p)
{
    struct rr_arg *a = p;
    static uint32_t dummy = 0;
    for (int i = 0; i < a->rounds; i++) {
        for (;;) {
            uint32_t v = __atomic_load_n(&turn, __ATOMIC_ACQUIRE);
            if ((int)(v % (uint32_t)a->n) == a->k)
                break;
            struct futex_waitv_ent e[2] = { { (uintptr_t)&dummy, 0, 0 },
                                            { (uintptr_t)&turn, v, 0 } };
            long r = i % 2 ? futex_wait_multiple(a->t, e, 2, NULL)
                           : futex_wait(a->t, (uintptr_t)&turn, 0, v, 1U << a->k | 1U << 31, NULL);
            ck_assert(r == 0 || r == 1 || r == -EAGAIN);
        }
        __atomic_add_fetch(&turn, 1, __ATOMIC_RELEASE);
        futex_wake(a->t, (uintptr_t)&turn, 0, INT_MAX, ANY);
    }
    return NULL;
}

/* Wake-ups and requeues racing with timeouts: every wake-up counted by a
 * waker is a waiter that returned woken (none lost, none counted for
 * nobody), whatever requeue did to it meanwhile. */
static uint32_t ra_word, rb_word, rc_word;
static long woken_seen;
static int racers_left;
static long woken_seen_multi; /* by futex_wait_multiple, of two futexes */

static void *racer_main(void *p)
{
    struct task *t = p;
    for (int i = 0; i < 300; i++) {
        struct ktimeout to = rel_ms(i % 3);
        long r;
        if (i % 4 == 3) {
            struct futex_waitv_ent e[2] = { { (uintptr_t)&ra_word, 0, 0 },
                                            { (uintptr_t)&rb_word, 0, 0 } };
            r = futex_wait_multiple(t, e, 2, &to);
            ck_assert(r == 0 || r == 1 || r == -ETIMEDOUT);
            if (r >= 0) {
                __atomic_add_fetch(&woken_seen_multi, 1, __ATOMIC_RELAXED);
                continue;
            }
        } else {
            r = futex_wait(t, (uintptr_t)(i % 2 ? &ra_word : &rb_word), 0, 0, ANY, &to);
            ck_assert(r == 0 || r == -ETIMEDOUT);
        }
        if (r >= 0)
            __atomic_add_fetch(&woken_seen, 1, __ATOMIC_RELAXED);
    }
    __atomic_sub_fetch(&racers_left, 1, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(wake_requeue_race)
{
    enum { N = 6 };
    pthread_t th[N];
    struct task *ts[N];
    racers_left = N;
    for (int i = 0; i < N; i++) {
        ts[i] = task_new(mm0, 700 + i);
        pthread_create(&th[i], NULL, racer_main, ts[i]);
    }
    long woken = 0;
    uint64_t a = (uintptr_t)&ra_word, b = (uintptr_t)&rb_word;
    for (unsigned k = 0; __atomic_load_n(&racers_left, __ATOMIC_ACQUIRE); k++) {
        switch (k % 5) {
        case 0:
            woken += futex_wake(t0, k & 8 ? a : b, 0, 1 + (int)(k % 3), ANY);
            break;
        case 1: /* moves only */
            ck_assert_int_ge(futex_requeue(t0, a, b, 0, 0, (int)(k % 4), NULL), 0);
            break;
        case 2:
            ck_assert_int_ge(futex_requeue(t0, b, a, 0, 0, INT_MAX, NULL), 0);
            break;
        case 3: /* SET 0 on a third word, old == 0: wakes on both */
            woken += futex_wake_op(t0, a, (uintptr_t)&rc_word, 0, 1, 1, OP(0, 0, 0, 0));
            break;
        default:
            sched_yield();
        }
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        task_free(ts[i]);
    }
    /* Each futex of a waitv counts when woken (as Linux): a waitv that
     * returns may have taken two wake-ups. */
    ck_assert_int_ge(woken, woken_seen + woken_seen_multi);
    ck_assert_int_le(woken, woken_seen + 2 * woken_seen_multi);
    ck_assert_int_eq(nwaiters(t0, &ra_word, 0), 0);
    ck_assert_int_eq(nwaiters(t0, &rb_word, 0), 0);
}
END_TEST

START_TEST(stress)
{
    pthread_t th[STRESS_THREADS];
    struct task *ts[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        ts[i] = task_new(mm0, 500 + i);
        pthread_create(&th[i], NULL, stress_main, ts[i]);
    }
    for (int i = 0; i < STRESS_THREADS; i++) {
        pthread_join(th[i], NULL);
        task_free(ts[i]);
    }
    ck_assert_int_eq(counter, (long)STRESS_THREADS * STRESS_ROUNDS);
    struct rr_arg ra[4];
    for (int i = 0; i < 4; i++) {
        ra[i] = (struct rr_arg){ task_new(mm0, 600 + i), i, 4, 500 };
        pthread_create(&th[i], NULL, rr_main, &ra[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        task_free(ra[i].t);
    }
    ck_assert_uint_eq(turn, 2000);
}
END_TEST

/* ---- sleeps and their interruption (the syscalls, on this process's memory) ---- */

struct call_arg {
    struct task *t;
    long (*fn)(struct task *, const struct sysargs *);
    struct sysargs a;
    long ret;
    pthread_t th;
};

static void *call_main(void *p)
{
    struct call_arg *c = p;
    c->ret = c->fn(c->t, &c->a);
    return NULL;
}

/* Run fn in a thread, interrupt its task after ms, return its result. */
static long call_interrupted(long (*fn)(struct task *, const struct sysargs *), struct sysargs a,
                             int ms)
{
    struct call_arg c = { .t = task_new(mm0, 201), .fn = fn, .a = a };
    pthread_create(&c.th, NULL, call_main, &c);
    msleep(ms);
    task_interrupt(c.t);
    pthread_join(c.th, NULL);
    task_free(c.t);
    return c.ret;
}

START_TEST(sleeps_interrupted)
{
    struct timespec rq = { 10, 0 }, rem = { 77, 77 };
    int64_t t = now_ms();
    /* nanosleep: the time left in rem, restarted later with it. */
    struct sysargs a = { .a = { (uintptr_t)&rq, (uintptr_t)&rem } };
    ck_assert_int_eq(call_interrupted(sys_nanosleep, a, 30), -ERESTART_RESTARTBLOCK);
    ck_assert_int_lt(now_ms() - t, 5000);
    ck_assert(rem.tv_sec == 9 || rem.tv_sec == 10);
    ck_assert(rem.tv_sec < 10 || rem.tv_nsec == 0);
    /* No rem: the same code, nothing written; a bad rem: EFAULT. */
    a.a[1] = 0;
    ck_assert_int_eq(call_interrupted(sys_nanosleep, a, 10), -ERESTART_RESTARTBLOCK);
    a.a[1] = 4096;
    ck_assert_int_eq(call_interrupted(sys_nanosleep, a, 10), -EFAULT);
    /* An absolute sleep is not given the time left. */
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += 10;
    rem = (struct timespec){ 77, 77 };
    struct sysargs c = { .a = { CLOCK_REALTIME, TIMER_ABSTIME, (uintptr_t)&abs, (uintptr_t)&rem } };
    ck_assert_int_eq(call_interrupted(sys_clock_nanosleep, c, 10), -ERESTARTNOHAND);
    ck_assert_int_eq(rem.tv_sec, 77);
    /* A relative one on CLOCK_BOOTTIME is. */
    c = (struct sysargs){ .a = { CLOCK_BOOTTIME, 0, (uintptr_t)&rq, (uintptr_t)&rem } };
    ck_assert_int_eq(call_interrupted(sys_clock_nanosleep, c, 10), -ERESTART_RESTARTBLOCK);
    ck_assert(rem.tv_sec == 9 || rem.tv_sec == 10);
    /* A futex wait: ERESTARTSYS, or with a timeout ERESTART_RESTARTBLOCK. */
    static uint32_t word = 3;
    struct sysargs f = { .a = { (uintptr_t)&word, 128 /* FUTEX_WAIT_PRIVATE */, 3, 0 } };
    ck_assert_int_eq(call_interrupted(sys_futex, f, 10), -ERESTARTSYS);
    f.a[3] = (uintptr_t)&rq;
    ck_assert_int_eq(call_interrupted(sys_futex, f, 10), -ERESTART_RESTARTBLOCK);
    ck_assert_int_eq(nwaiters(t0, &word, 0), 0);
}
END_TEST

/* An absolute sleep on the realtime clock longer than one step of
 * ktimeout_next (a second) ends at its time. */
START_TEST(realtime_steps)
{
    struct timespec abs, now;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs = ktime_add(abs, (struct timespec){ 1, 200000000L });
    struct sysargs c = { .a = { CLOCK_REALTIME, TIMER_ABSTIME, (uintptr_t)&abs, 0 } };
    ck_assert_int_eq(sys_clock_nanosleep(t0, &c), 0);
    clock_gettime(CLOCK_REALTIME, &now);
    ck_assert_int_ge(ktime_cmp(now, abs), 0);
    ck_assert_int_lt(ktime_sub(now, abs).tv_sec, 1);
    /* A futex wait with such a deadline times out then too. */
    static uint32_t word = 3;
    struct ktimeout to = { CLOCK_REALTIME, abs };
    to.abs = ktime_add(now, (struct timespec){ 1, 100000000L });
    ck_assert_int_eq(futex_wait(t0, (uintptr_t)&word, 0, 3, ANY, &to), -ETIMEDOUT);
    clock_gettime(CLOCK_REALTIME, &now);
    ck_assert_int_ge(ktime_cmp(now, to.abs), 0);
}
END_TEST

UNIT_SUITE_MAIN("futex",
                UNIT_CASE(s, "calls", setup, teardown, 30, errors_and_timeouts, wake_op_arithmetic);
                UNIT_CASE(s, "waiters", setup, teardown, 30, wake_counts, bitsets, requeue,
                          wake_op_wakes, waitv, interrupted, shared_across_mms, exit_release);
                UNIT_CASE(s, "sleeps", setup, teardown, 30, sleeps_interrupted, realtime_steps);
                UNIT_CASE(s, "stress", setup, teardown, 120, stress, wake_requeue_race))
