/* Futexes (include/sentry/futex.h), in the shape of Linux's
 * kernel/futex/: a waiter queues a futex_q on the hash bucket of its key
 * under the bucket's lock and reads the futex word only then, so a waker
 * that changes the word and then calls FUTEX_WAKE always finds it. The
 * waker takes matching futex_qs off the list, marks them woken and wakes
 * their threads, all under the bucket lock; a waiter that times out or is
 * interrupted takes the bucket lock and, if it was woken meanwhile, counts
 * as woken (a wake-up is never lost, nor counted for nobody).
 *
 * Lock order: a bucket lock (two at once in address order), then a
 * sleeper's lock (sched/wait.c). The address space's lock is taken only
 * to find the VMA of a shared key, never with a bucket lock held, and no
 * lock is held across a sleep.
 *
 * FUTEX_REQUEUE moves a futex_q to another bucket while its owner sleeps;
 * the owner finds its bucket again with q_lock (Linux's futex_q_lock with
 * lock_ptr re-checks). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "list.h"
#include "sched/wait.h"
#include "sentry/futex.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"

/* What a key names. KEY_PRIVATE and KEY_MMSHARED both hold (mm, address)
 * but never match each other, as Linux's FUT_OFF_MMSHARED keeps them apart
 * (so a robust-list wake-up, always shared, misses private waiters: glibc
 * waits on robust mutexes with shared futexes for that reason). */
enum { KEY_PRIVATE = 1, KEY_MMSHARED, KEY_FILE, KEY_SHM };

struct futex_key {
    int type;
    uint64_t obj, obj2; /* the mm; the file's st_dev and st_ino; the shm id */
    uint64_t off;       /* the address, or the offset in the object */
};

struct futex_bucket;

/* A waiting thread, on its bucket's list while not woken. */
struct futex_q {
    struct futex_key key;
    uint32_t bitset;
    int woken;                   /* set by the waker, under the bucket lock */
    struct futex_bucket *bucket; /* changed by requeue under both buckets' locks */
    struct waiter waker;         /* wakes the sleeping thread (its wake callback) */
    struct list_node node;       /* on its bucket's list */
};

struct futex_bucket {
    pthread_mutex_t lock;   /* the list, the keys and the woken marks on it */
    struct list_node queue; /* futex_q.node, in arrival order */
};

#define FUTEX_HASH_BITS 8
static struct futex_bucket buckets[1 << FUTEX_HASH_BITS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void buckets_init(void)
{
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
        list_init(&buckets[i].queue);
    }
}

static struct futex_bucket *bucket_of(const struct futex_key *k)
{
    pthread_once(&buckets_once, buckets_init);
    uint64_t h = k->off >> 2;
    h = (h ^ k->obj) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ k->obj2 ^ (uint64_t)k->type) * 0x9e3779b97f4a7c15ULL;
    return &buckets[h >> (64 - FUTEX_HASH_BITS)];
}

static int key_eq(const struct futex_key *a, const struct futex_key *b)
{
    return a->type == b->type && a->obj == b->obj && a->obj2 == b->obj2 && a->off == b->off;
}

/* get_futex_key: the word must be 4-aligned (EINVAL) and in user space
 * (EFAULT). A private key needs nothing more. A shared one needs the page:
 * Linux takes it with get_user_pages, which fails for inaccessible memory,
 * and refuses read-only anonymous pages ("will never change"), and for a
 * word the call writes (FUTEX_WAKE_OP's second) read-only pages at all.
 * The VMA then names the memory object. */
static long get_key(struct task *t, uint64_t uaddr, int flags, int write, struct futex_key *k)
{
    unsigned size = flags & FUTEX_F_NUMA ? 8 : 4;
    if (uaddr % size)
        return -EINVAL;
    if (!guest_range_ok(uaddr, size))
        return -EFAULT;
    if (flags & FUTEX_F_NUMA) {
        /* The node only places Linux's hash bucket; it is checked, and
         * FUTEX_NO_NODE replaced by the caller's node, all the same. */
        int32_t node;
        if (copy_in(t, &node, uaddr + 4, sizeof(node)) < 0)
            return -EFAULT;
        if (node != -1 && node != 0)
            return -EINVAL;
        if (node == -1 && copy_out(t, uaddr + 4, &(int32_t){ 0 }, sizeof(node)) < 0)
            return -EFAULT;
    }
    struct mm *mm = t->proc->mm;
    *k = (struct futex_key){ .type = KEY_PRIVATE, .obj = (uintptr_t)mm, .off = uaddr };
    if (!(flags & FUTEX_F_SHARED))
        return 0;
    long r = -EFAULT;
    pthread_mutex_lock(&mm->lock);
    long i = vma_find(&mm->vmas, uaddr);
    if (i >= 0) {
        const struct vma *v = &mm->vmas.v[i];
        int file = v->kind == VMA_FILE || v->kind == VMA_IMAGE;
        int ok = v->kind != VMA_STUB && (v->prot & PROT_READ) &&
                 ((v->prot & PROT_WRITE) || (file && !write));
        if (ok) {
            r = 0;
            uint64_t off = uaddr - v->start + v->off;
            k->type = KEY_MMSHARED;
            if ((v->flags & MAP_SHARED) && v->file) {
                /* The file's identity, not the struct file: two opens of
                 * one file, in two processes, meet. */
                k->type = KEY_FILE;
                k->obj = v->dev;
                k->obj2 = v->ino;
                k->off = off;
                if (!v->dev && !v->ino) { /* no attributes: this open only */
                    k->obj = (uintptr_t)v->file;
                    k->obj2 = UINT64_MAX;
                }
            } else if ((v->flags & MAP_SHARED) && v->shm_id) {
                k->type = KEY_SHM;
                k->obj = v->shm_id;
                k->off = off;
            }
        }
    }
    pthread_mutex_unlock(&mm->lock);
    return r;
}

static void q_link(struct futex_bucket *b, struct futex_q *q)
{
    /* At the tail: wake-ups go in arrival order, as Linux's plist of
     * waiters of one priority. */
    list_add_tail(&b->queue, &q->node);
    __atomic_store_n(&q->bucket, b, __ATOMIC_RELEASE);
}

/* Wake q (its bucket locked): off the list, marked, its thread woken.
 * The owner cannot return before it gets that lock, so q is alive here. */
static void q_wake(struct futex_q *q)
{
    list_del(&q->node);
    q->woken = 1;
    q->waker.func(&q->waker, 0);
}

/* Lock the bucket q is on, following requeues. */
static struct futex_bucket *q_lock(struct futex_q *q)
{
    for (;;) {
        struct futex_bucket *b = __atomic_load_n(&q->bucket, __ATOMIC_ACQUIRE);
        pthread_mutex_lock(&b->lock);
        if (b == __atomic_load_n(&q->bucket, __ATOMIC_RELAXED))
            return b;
        pthread_mutex_unlock(&b->lock);
    }
}

/* The two words of requeue and wake_op: their keys (rw2 as get_key's
 * for the second: wake_op writes it) and buckets. */
struct futex_pair {
    struct futex_key k1, k2;
    struct futex_bucket *b1, *b2;
};

/* Fill p and lock both buckets (in address order; one lock if the same). */
static long pair_lock(struct task *t, uint64_t uaddr, uint64_t uaddr2, int flags, int rw2,
                      struct futex_pair *p)
{
    long r = get_key(t, uaddr, flags, 0, &p->k1);
    if (r >= 0)
        r = get_key(t, uaddr2, flags, rw2, &p->k2);
    if (r < 0)
        return r;
    p->b1 = bucket_of(&p->k1);
    p->b2 = bucket_of(&p->k2);
    struct futex_bucket *a = p->b1 < p->b2 ? p->b1 : p->b2, *b = p->b1 < p->b2 ? p->b2 : p->b1;
    pthread_mutex_lock(&a->lock);
    if (b != a)
        pthread_mutex_lock(&b->lock);
    return 0;
}

static void pair_unlock(struct futex_pair *p)
{
    pthread_mutex_unlock(&p->b1->lock);
    if (p->b2 != p->b1)
        pthread_mutex_unlock(&p->b2->lock);
}

/* Take q off its list unless it was woken: 1 if it was. */
static int q_unqueue(struct futex_q *q)
{
    struct futex_bucket *b = q_lock(q);
    int woken = q->woken;
    if (!woken)
        list_del(&q->node);
    pthread_mutex_unlock(&b->lock);
    return woken;
}

/* Linux's futex_unqueue_multiple: unqueue the first n, returning the
 * highest index that was woken, or -1. */
static long unqueue_multiple(struct futex_q *qs, unsigned n)
{
    long r = -1;
    for (unsigned i = 0; i < n; i++)
        if (q_unqueue(&qs[i]))
            r = i;
    return r;
}

static int any_woken(struct futex_q *qs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct futex_bucket *b = q_lock(&qs[i]);
        int w = qs[i].woken;
        pthread_mutex_unlock(&b->lock);
        if (w)
            return 1;
    }
    return 0;
}

/* The wait of futex_wait and futex_waitv (Linux's futex_wait_multiple):
 * qs[i] have their keys and bitsets. */
static long wait_queued(struct task *t, struct futex_q *qs, const struct futex_waitv_ent *v,
                        unsigned n, const struct ktimeout *to)
{
    /* Forget earlier wake-ups before the first waker can see us. */
    task_sleep_prepare(t);
    for (unsigned i = 0; i < n; i++) {
        struct futex_q *q = &qs[i];
        struct futex_bucket *b = bucket_of(&q->key);
        waiter_init_task(&q->waker, t);
        q->woken = 0;
        pthread_mutex_lock(&b->lock);
        q_link(b, q);
        uint32_t cur;
        int fault = copy_in(t, &cur, v[i].uaddr, sizeof(cur)) < 0;
        if (!fault && cur == v[i].val) {
            pthread_mutex_unlock(&b->lock);
            continue;
        }
        list_del(&q->node);
        pthread_mutex_unlock(&b->lock);
        /* Even then, one that was woken meanwhile is the answer. */
        long w = unqueue_multiple(qs, i);
        if (w >= 0)
            return w;
        return fault ? -EFAULT : -EAGAIN;
    }
    for (;;) {
        struct timespec dl;
        int passed = to && ktimeout_next(to, &dl);
        int r = passed ? -ETIMEDOUT : task_sleep(t, to ? &dl : NULL, WAIT_SPIN);
        if (passed || r == -ERESTARTSYS) {
            long w = unqueue_multiple(qs, n);
            return w >= 0 ? w : r;
        }
        /* Woken, or one step of a timeout on a clock that can jump ended:
         * prepare the next sleep, then look for our wake-up (a wake-up
         * after the prepare ends that sleep at once). */
        task_sleep_prepare(t);
        if (any_woken(qs, n))
            return unqueue_multiple(qs, n);
    }
}

long futex_wait(struct task *t, uint64_t uaddr, int flags, uint32_t val, uint32_t bitset,
                const struct ktimeout *to)
{
    if (!bitset)
        return -EINVAL;
    struct futex_q q = { .bitset = bitset };
    long r = get_key(t, uaddr, flags, 0, &q.key);
    if (r < 0)
        return r;
    struct futex_waitv_ent v = { .uaddr = uaddr, .val = val, .flags = flags };
    return wait_queued(t, &q, &v, 1, to); /* index 0: woken */
}

long futex_wait_multiple(struct task *t, const struct futex_waitv_ent *v, unsigned n,
                         const struct ktimeout *to)
{
    if (n == 0 || n > FUTEX_WAITV_MAX)
        return -EINVAL;
    struct futex_q *qs = calloc(n, sizeof(*qs));
    if (!qs)
        return -ENOMEM;
    long r = 0;
    for (unsigned i = 0; i < n && r == 0; i++) {
        qs[i].bitset = FUTEX_BITSET_MATCH_ANY;
        r = get_key(t, v[i].uaddr, v[i].flags, 0, &qs[i].key);
    }
    if (r == 0)
        r = wait_queued(t, qs, v, n, to);
    free(qs);
    return r;
}

/* Wake up to nr (at least one) waiters of key on b (locked). */
static int wake_locked(struct futex_bucket *b, const struct futex_key *key, int nr, uint32_t bitset)
{
    int woken = 0;
    list_for_each_safe (q, &b->queue, struct futex_q, node) {
        if (!key_eq(&q->key, key) || !(q->bitset & bitset))
            continue;
        q_wake(q);
        if (++woken >= nr)
            break;
    }
    return woken;
}

long futex_wake(struct task *t, uint64_t uaddr, int flags, int nr, uint32_t bitset)
{
    if (!bitset)
        return -EINVAL;
    struct futex_key key;
    long r = get_key(t, uaddr, flags, 0, &key);
    if (r < 0)
        return r;
    struct futex_bucket *b = bucket_of(&key);
    pthread_mutex_lock(&b->lock);
    r = wake_locked(b, &key, nr, bitset);
    pthread_mutex_unlock(&b->lock);
    return r;
}

int futex_wake_addr(struct task *t, uint64_t uaddr, int nr, int private)
{
    return (int)futex_wake(t, uaddr, private ? 0 : FUTEX_F_SHARED, nr, FUTEX_BITSET_MATCH_ANY);
}

long futex_requeue(struct task *t, uint64_t uaddr, uint64_t uaddr2, int flags, int nr_wake,
                   int nr_requeue, const uint32_t *cmpval)
{
    if (nr_wake < 0 || nr_requeue < 0)
        return -EINVAL;
    struct futex_pair p;
    long r = pair_lock(t, uaddr, uaddr2, flags, 0, &p);
    if (r < 0)
        return r;
    if (cmpval) {
        uint32_t cur;
        if (copy_in(t, &cur, uaddr, sizeof(cur)) < 0) {
            r = -EFAULT;
            goto out;
        }
        if (cur != *cmpval) {
            r = -EAGAIN;
            goto out;
        }
    }
    int count = 0;
    list_for_each_safe (q, &p.b1->queue, struct futex_q, node) {
        if (count - nr_wake >= nr_requeue)
            break;
        if (!key_eq(&q->key, &p.k1))
            continue;
        if (++count <= nr_wake) {
            q_wake(q);
            continue;
        }
        /* requeue_futex: the new key; another list only if another bucket. */
        q->key = p.k2;
        if (p.b2 != p.b1) {
            list_del(&q->node);
            q_link(p.b2, q);
        }
    }
    r = count;
out:
    pair_unlock(&p);
    return r;
}

/* FUTEX_OP encoding (uapi/linux/futex.h). */
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_ANDN 3
#define FUTEX_OP_XOR 4
#define FUTEX_OP_OPARG_SHIFT 8U
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_LT 2
#define FUTEX_OP_CMP_LE 3
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP_CMP_GE 5

static int sign_extend12(uint32_t v)
{
    return (int)(v << 20) >> 20;
}

/* futex_atomic_op_inuser: apply the operation to the word at uaddr (the
 * caller holds its bucket's lock) and compare the old value: 1 or 0, or
 * -ENOSYS for an unknown operation (nothing written) or comparison (the
 * write done, as Linux), -EFAULT. */
static int atomic_op(struct task *t, uint32_t encoded, uint64_t uaddr)
{
    unsigned op = (encoded & 0x70000000) >> 28;
    unsigned cmp = (encoded & 0x0f000000) >> 24;
    int oparg = sign_extend12((encoded & 0x00fff000) >> 12);
    int cmparg = sign_extend12(encoded & 0x00000fff);
    if (encoded & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28))
        oparg = (int)(1U << (oparg & 31)); /* Linux warns and masks a shift past 31 */
    if (op > FUTEX_OP_XOR)
        return -ENOSYS;
    uint32_t old;
    if (copy_in(t, &old, uaddr, sizeof(old)) < 0)
        return -EFAULT;
    uint32_t nv = (uint32_t)oparg;
    switch (op) {
    case FUTEX_OP_ADD:
        nv = old + (uint32_t)oparg;
        break;
    case FUTEX_OP_OR:
        nv = old | (uint32_t)oparg;
        break;
    case FUTEX_OP_ANDN:
        nv = old & ~(uint32_t)oparg;
        break;
    case FUTEX_OP_XOR:
        nv = old ^ (uint32_t)oparg;
        break;
    }
    if (copy_out(t, uaddr, &nv, sizeof(nv)) < 0)
        return -EFAULT;
    int o = (int)old;
    switch (cmp) {
    case FUTEX_OP_CMP_EQ:
        return o == cmparg;
    case FUTEX_OP_CMP_NE:
        return o != cmparg;
    case FUTEX_OP_CMP_LT:
        return o < cmparg;
    case FUTEX_OP_CMP_GE:
        return o >= cmparg;
    case FUTEX_OP_CMP_LE:
        return o <= cmparg;
    case FUTEX_OP_CMP_GT:
        return o > cmparg;
    }
    return -ENOSYS;
}

long futex_wake_op(struct task *t, uint64_t uaddr, uint64_t uaddr2, int flags, int nr_wake,
                   int nr_wake2, uint32_t op)
{
    struct futex_pair p;
    long r = pair_lock(t, uaddr, uaddr2, flags, 1, &p);
    if (r < 0)
        return r;
    int op_ret = atomic_op(t, op, uaddr2);
    if (op_ret < 0) {
        r = op_ret;
    } else {
        r = wake_locked(p.b1, &p.k1, nr_wake, FUTEX_BITSET_MATCH_ANY);
        if (op_ret > 0)
            r += wake_locked(p.b2, &p.k2, nr_wake2, FUTEX_BITSET_MATCH_ANY);
    }
    pair_unlock(&p);
    return r;
}

/* ---- thread exit ---- */

#define FUTEX_WAITERS 0x80000000U
#define FUTEX_OWNER_DIED 0x40000000U
#define FUTEX_TID_MASK 0x3fffffffU
#define ROBUST_LIST_LIMIT 2048

/* handle_futex_death: -1 stops the walk. */
static int futex_death(struct task *t, uint64_t uaddr, int pi, int pending)
{
    if (uaddr % 4)
        return -1;
    uint32_t uval;
    if (copy_in(t, &uval, uaddr, sizeof(uval)) < 0)
        return -1;
    uint32_t owner = uval & FUTEX_TID_MASK;
    /* An unlock or a woken waiter killed half-way: wake one, leave the word. */
    if (pending && !pi && !owner) {
        futex_wake(t, uaddr, FUTEX_F_SHARED, 1, FUTEX_BITSET_MATCH_ANY);
        return 0;
    }
    if (owner != (uint32_t)t->tid)
        return 0;
    /* Linux's cmpxchg, here under the word's bucket lock (see futex_wake_op). */
    struct futex_key key;
    if (get_key(t, uaddr, FUTEX_F_SHARED, 1, &key) < 0)
        return -1;
    struct futex_bucket *b = bucket_of(&key);
    int r = 0;
    pthread_mutex_lock(&b->lock);
    if (copy_in(t, &uval, uaddr, sizeof(uval)) < 0) {
        r = -1;
    } else if ((uval & FUTEX_TID_MASK) == (uint32_t)t->tid) {
        uint32_t mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (copy_out(t, uaddr, &mval, sizeof(mval)) < 0)
            r = -1;
        else if (!pi && (uval & FUTEX_WAITERS))
            wake_locked(b, &key, 1, FUTEX_BITSET_MATCH_ANY);
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

/* fetch_robust_entry: the pointer without its PI bit. */
static int fetch_entry(struct task *t, uint64_t at, uint64_t *entry, int *pi)
{
    uint64_t v;
    if (copy_in(t, &v, at, sizeof(v)) < 0)
        return -EFAULT;
    *entry = v & ~1ULL;
    *pi = (int)(v & 1);
    return 0;
}

/* exit_robust_list: struct robust_list_head { next; long futex_offset;
 * list_op_pending; }. */
static void exit_robust_list(struct task *t, uint64_t head)
{
    uint64_t entry, pending, next = 0;
    int64_t offset;
    int pi, pip, next_pi = 0;
    if (fetch_entry(t, head, &entry, &pi) < 0)
        return;
    if (copy_in(t, &offset, head + 8, sizeof(offset)) < 0)
        return;
    if (fetch_entry(t, head + 16, &pending, &pip) < 0)
        return;
    unsigned limit = ROBUST_LIST_LIMIT;
    while (entry != head) {
        int rc = fetch_entry(t, entry, &next, &next_pi);
        /* A pending lock may be on the list too: not twice. */
        if (entry != pending && futex_death(t, entry + (uint64_t)offset, pi, 0))
            return;
        if (rc)
            return;
        entry = next;
        pi = next_pi;
        if (!--limit)
            break;
    }
    if (pending)
        futex_death(t, pending + (uint64_t)offset, pip, 1);
}

void futex_exit_release(struct task *t)
{
    uint64_t head = t->robust_list;
    t->robust_list = 0;
    if (head)
        exit_robust_list(t, head);
    uint64_t ctid = t->clear_child_tid;
    t->clear_child_tid = 0;
    if (ctid) {
        uint32_t zero = 0;
        (void)copy_out(t, ctid, &zero, sizeof(zero)); /* "tough luck", as Linux */
        futex_wake(t, ctid, FUTEX_F_SHARED, 1, FUTEX_BITSET_MATCH_ANY);
    }
}
