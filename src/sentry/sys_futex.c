/* futex: FUTEX_WAIT, FUTEX_WAKE and their _BITSET forms, with Linux's
 * argument checks in Linux's order (kernel/futex/syscalls.c, waitwake.c,
 * core.c).
 *
 * Shape, as Linux's: a waiter queues a futex_q on the hash bucket of its
 * key under the bucket's lock, reads the futex word only then (so a waker
 * that changes the word and then calls FUTEX_WAKE always finds it), and
 * sleeps on the bucket's wait queue with the one wait primitive
 * (sched/wait.h). A waker takes matching futex_qs off the bucket's list,
 * marks them woken and wakes the bucket's queue; each sleeper re-checks its
 * own mark.
 *
 * Not yet (for threads and processes):
 *  - Shared keys are (address space, address), like private ones. Linux
 *    keys a shared futex in MAP_SHARED memory by (memory object, offset)
 *    so that processes mapping it at different addresses meet; that needs
 *    the VMA's file (memfd/tmpfs inode) and offset.
 *  - FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, the PI operations
 *    and futex_waitv are ENOSYS (a waiter can only be the caller today, so
 *    nothing yet needs them; glibc's condition variables and mutexes do).
 *  - CLONE_CHILD_CLEARTID's wake at thread exit and robust lists.
 *  - A timed wait interrupted by a signal returns ERESTART_RESTARTBLOCK;
 *    the restart (with the same absolute deadline) comes with signals.
 *  - FUTEX_CLOCK_REALTIME deadlines are turned into CLOCK_MONOTONIC ones
 *    when the call starts: a later change of the realtime clock does not
 *    move them, as it would on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffU

struct futex_key {
    const struct mm *mm;
    uint64_t addr;
};

/* A waiting task, on its bucket's list while not woken. */
struct futex_q {
    struct futex_key key;
    uint32_t bitset;
    int woken; /* set by the waker, under the bucket lock */
    struct futex_q *prev, *next;
};

struct futex_bucket {
    pthread_mutex_t lock; /* the list and every woken mark on it */
    struct futex_q *list;
    struct waitq wq; /* the sleepers of this bucket */
};

#define FUTEX_NBUCKETS 64
static struct futex_bucket buckets[FUTEX_NBUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
    for (int i = 0; i < FUTEX_NBUCKETS; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
        waitq_init(&buckets[i].wq);
    }
}

static struct futex_bucket *bucket_of(const struct futex_key *k)
{
    pthread_once(&buckets_once, buckets_init);
    uint64_t h = (k->addr >> 2) ^ ((uintptr_t)k->mm >> 4);
    h *= 0x9e3779b97f4a7c15ULL;
    return &buckets[h >> 58]; /* top 6 bits: 64 buckets */
}

static int key_eq(const struct futex_key *a, const struct futex_key *b)
{
    return a->mm == b->mm && a->addr == b->addr;
}

/* get_futex_key: the word must be 4-aligned (EINVAL) and in user space
 * (EFAULT). A private key needs nothing more; a shared one needs the page:
 * Linux takes it with get_user_pages, which fails for inaccessible memory,
 * and refuses read-only anonymous pages ("will never change"). */
static long futex_key(struct task *t, uint64_t uaddr, int shared, struct futex_key *k)
{
    if (uaddr % 4)
        return -EINVAL;
    if (!guest_range_ok(uaddr, 4))
        return -EFAULT;
    struct mm *mm = t->proc->mm;
    k->mm = mm;
    k->addr = uaddr;
    if (!shared)
        return 0;
    long r = -EFAULT;
    pthread_mutex_lock(&mm->lock);
    long i = vma_find(&mm->vmas, uaddr);
    if (i >= 0) {
        const struct vma *v = &mm->vmas.v[i];
        int file = v->kind == VMA_FILE || v->kind == VMA_IMAGE;
        if (v->kind != VMA_STUB && (v->prot & PROT_READ) && ((v->prot & PROT_WRITE) || file))
            r = 0;
    }
    pthread_mutex_unlock(&mm->lock);
    return r;
}

static void q_link(struct futex_bucket *b, struct futex_q *q)
{
    q->prev = NULL;
    q->next = b->list;
    if (b->list)
        b->list->prev = q;
    b->list = q;
}

static void q_unlink(struct futex_bucket *b, struct futex_q *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        b->list = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

/* futex_wait: 0 when woken, EAGAIN if the word is not val, ETIMEDOUT at
 * the deadline (absolute CLOCK_MONOTONIC; NULL: none). */
static long futex_wait(struct task *t, uint64_t uaddr, int shared, uint32_t val,
                       const struct timespec *deadline, uint32_t bitset)
{
    if (!bitset)
        return -EINVAL;
    struct futex_q q = { .bitset = bitset };
    long r = futex_key(t, uaddr, shared, &q.key);
    if (r < 0)
        return r;
    struct futex_bucket *b = bucket_of(&q.key);
    pthread_mutex_lock(&b->lock);
    q_link(b, &q);
    uint32_t cur;
    if (copy_in(t, &cur, uaddr, sizeof(cur)) < 0)
        r = -EFAULT;
    else if (cur != val)
        r = -EAGAIN;
    else
        r = WAIT_EVENT(t, &b->wq, &b->lock, q.woken, deadline, 0);
    if (!q.woken)
        q_unlink(b, &q);
    pthread_mutex_unlock(&b->lock);
    if (r == -ERESTARTSYS && deadline)
        r = -ERESTART_RESTARTBLOCK; /* Linux restarts timed waits with the time left */
    return r;
}

/* futex_wake: wake up to nr waiters on the word whose bitsets meet
 * bitset (at least one, as Linux counts); returns how many. */
static long futex_wake(struct task *t, uint64_t uaddr, int shared, int nr, uint32_t bitset)
{
    if (!bitset)
        return -EINVAL;
    struct futex_key key;
    long r = futex_key(t, uaddr, shared, &key);
    if (r < 0)
        return r;
    struct futex_bucket *b = bucket_of(&key);
    int woken = 0;
    pthread_mutex_lock(&b->lock);
    for (struct futex_q *q = b->list, *next; q; q = next) {
        next = q->next;
        if (!key_eq(&q->key, &key) || !(q->bitset & bitset))
            continue;
        q_unlink(b, q);
        q->woken = 1;
        if (++woken >= nr)
            break;
    }
    pthread_mutex_unlock(&b->lock);
    if (woken)
        wake_up_all(&b->wq); /* each sleeper re-checks its own mark */
    return woken;
}

int futex_wake_addr(struct task *t, uint64_t uaddr, int nr)
{
    long r = futex_wake(t, uaddr, 1, nr, FUTEX_BITSET_MATCH_ANY);
    return r < 0 ? (int)r : (int)r;
}

static int cmd_has_timeout(int cmd)
{
    return cmd == FUTEX_WAIT || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
           cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI;
}

static void ts_add(struct timespec *d, const struct timespec *a, int64_t sec, long nsec)
{
    d->tv_sec = a->tv_sec;
    d->tv_nsec = a->tv_nsec + nsec;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_nsec -= 1000000000L;
        d->tv_sec++;
    }
    /* Far deadlines saturate rather than wrap into the past. */
    d->tv_sec = sec > INT64_MAX - d->tv_sec ? INT64_MAX : d->tv_sec + sec;
}

/* futex_init_timeout: FUTEX_WAIT's timeout is relative to now, the others'
 * absolute on CLOCK_MONOTONIC or, with FUTEX_CLOCK_REALTIME, on
 * CLOCK_REALTIME. The result is an absolute CLOCK_MONOTONIC deadline. */
static long futex_timeout(struct task *t, int cmd, int op, uint64_t utime, struct timespec *d)
{
    struct {
        int64_t sec;
        int64_t nsec;
    } ts;
    if (copy_in(t, &ts, utime, sizeof(ts)) < 0)
        return -EFAULT;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000L)
        return -EINVAL;
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    if (cmd == FUTEX_WAIT) {
        ts_add(d, &mono, ts.sec, (long)ts.nsec);
    } else if (op & FUTEX_CLOCK_REALTIME) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        int64_t sec = ts.sec - rt.tv_sec;
        long nsec = (long)ts.nsec - rt.tv_nsec;
        if (nsec < 0) {
            nsec += 1000000000L;
            sec--;
        }
        if (sec < 0)
            *d = mono; /* already past */
        else
            ts_add(d, &mono, sec, nsec);
    } else {
        d->tv_sec = ts.sec;
        d->tv_nsec = (long)ts.nsec;
    }
    return 0;
}

long sys_futex(struct task *t, const struct sysargs *a)
{
    uint64_t uaddr = a->a[0], utime = a->a[3];
    int op = (int)a->a[1];
    uint32_t val = (uint32_t)a->a[2], val3 = (uint32_t)a->a[5];
    int cmd = op & FUTEX_CMD_MASK;
    int shared = !(op & FUTEX_PRIVATE_FLAG);
    struct timespec deadline, *dl = NULL;
    if (utime && cmd_has_timeout(cmd)) {
        long r = futex_timeout(t, cmd, op, utime, &deadline);
        if (r < 0)
            return r;
        dl = &deadline;
    }
    if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
        cmd != FUTEX_LOCK_PI2)
        return -ENOSYS;
    switch (cmd) {
    case FUTEX_WAIT:
        val3 = FUTEX_BITSET_MATCH_ANY;
        /* fall through */
    case FUTEX_WAIT_BITSET:
        return futex_wait(t, uaddr, shared, val, dl, val3);
    case FUTEX_WAKE:
        val3 = FUTEX_BITSET_MATCH_ANY;
        /* fall through */
    case FUTEX_WAKE_BITSET:
        return futex_wake(t, uaddr, shared, (int)val, val3);
    }
    return -ENOSYS; /* unknown, and the operations not here yet (see the top) */
}
