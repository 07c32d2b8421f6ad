/* Advisory file locks: POSIX record locks, OFD locks and flock locks kept
 * per file identity in a global registry, with the list manipulation,
 * conflict rules, blocking and deadlock detection of Linux's fs/locks.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fs/file/file.h"
#include "fs/file/lock.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/kernel.h"

#ifndef LOCK_MAND
#define LOCK_MAND 32
#endif

/* The guest's struct flock is x86-64 Linux's; the host's has its layout. */
_Static_assert(sizeof(struct flock) == 32, "struct flock layout");
_Static_assert(offsetof(struct flock, l_whence) == 2, "struct flock layout");
_Static_assert(offsetof(struct flock, l_start) == 8, "struct flock layout");
_Static_assert(offsetof(struct flock, l_len) == 16, "struct flock layout");
_Static_assert(offsetof(struct flock, l_pid) == 24, "struct flock layout");

/* Linux gives up following a wait-for chain after this many links. */
#define MAX_DEADLK_ITERATIONS 10

/* One lock, or a list head (circular, with the head as sentinel). */
struct lk {
    struct lk *prev, *next;
    const void *owner; /* struct process * (POSIX) or struct file * */
    int kind;          /* LOCK_KIND_* */
    short type;        /* F_RDLCK, F_WRLCK (F_UNLCK in requests) */
    off_t start, end;  /* inclusive */
    int pid;           /* POSIX: the owner's pid, for F_GETLK */
};

/* The lock state of one file identity. */
struct lock_ctx {
    struct lock_ctx *hnext;
    const void *sb;
    uint64_t ino;
    struct lk posix; /* POSIX and OFD locks: owners grouped, each by start */
    struct lk flocks;
    int waiters; /* sleeping on wq: keeps the context alive */
    struct waitq wq;
};

/* A POSIX or OFD request asleep behind a POSIX lock: what deadlock
 * detection follows (Linux's blocked_hash). */
struct lk_waiter {
    struct lk_waiter *prev, *next;
    const void *owner;
    const void *blocker; /* the owner of the lock it waits on */
    struct lock_ctx *ctx;
    int linked;
};

#define LOCK_HASH_SIZE 256

/* Protects everything below and every lock list. Sleepers drop it through
 * waitq_wait. */
static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lock_ctx *lock_hash[LOCK_HASH_SIZE];
static int lock_nctx;
static struct lk_waiter blocked = { &blocked, &blocked, NULL, NULL, NULL, 0 };

/* ---- lists ---- */

static void lk_list_init(struct lk *h)
{
    h->prev = h->next = h;
}

static int lk_list_empty(const struct lk *h)
{
    return h->next == h;
}

/* Insert n just before pos (at the tail when pos is the head). */
static void lk_insert_before(struct lk *n, struct lk *pos)
{
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
}

static void lk_unlink(struct lk *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

static void lk_copy(struct lk *dst, const struct lk *src)
{
    *dst = *src;
    dst->prev = dst->next = NULL;
}

static int lk_overlap(const struct lk *a, const struct lk *b)
{
    return a->end >= b->start && b->end >= a->start;
}

/* posix_locks_conflict: another owner's overlapping lock, one of the two a
 * write lock. */
static int lk_posix_conflict(const struct lk *req, const struct lk *sys)
{
    if (req->owner == sys->owner || !lk_overlap(req, sys))
        return 0;
    return req->type == F_WRLCK || sys->type == F_WRLCK;
}

/* ---- registry ---- */

static void key_of(struct file *f, const void **sb, uint64_t *ino)
{
    if (f->inode) {
        *sb = f->inode->sb;
        *ino = f->inode->ino;
    } else {
        /* No inode (anonymous files): the description is the identity. */
        *sb = NULL;
        *ino = (uint64_t)(uintptr_t)f;
    }
}

static unsigned hash_of(const void *sb, uint64_t ino)
{
    uint64_t h = (((uint64_t)(uintptr_t)sb >> 4) ^ ino) * 0x9e3779b97f4a7c15ULL;
    return (unsigned)(h >> 56) % LOCK_HASH_SIZE;
}

/* The context of f's identity (lock_mu held); a new one if create. */
static struct lock_ctx *ctx_get(struct file *f, int create)
{
    const void *sb;
    uint64_t ino;
    key_of(f, &sb, &ino);
    unsigned h = hash_of(sb, ino);
    for (struct lock_ctx *c = lock_hash[h]; c; c = c->hnext)
        if (c->sb == sb && c->ino == ino)
            return c;
    if (!create)
        return NULL;
    struct lock_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->sb = sb;
    c->ino = ino;
    lk_list_init(&c->posix);
    lk_list_init(&c->flocks);
    waitq_init(&c->wq);
    c->hnext = lock_hash[h];
    lock_hash[h] = c;
    lock_nctx++;
    return c;
}

/* Free c once it holds no lock and nobody sleeps on it (lock_mu held). */
static void ctx_release(struct lock_ctx *c)
{
    if (!c || !lk_list_empty(&c->posix) || !lk_list_empty(&c->flocks) || c->waiters)
        return;
    struct lock_ctx **pp = &lock_hash[hash_of(c->sb, c->ino)];
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    waitq_destroy(&c->wq);
    free(c);
    lock_nctx--;
}

/* ---- waiting ---- */

static void waiter_link(struct lk_waiter *w)
{
    /* At the head: Linux's hash buckets find the newest waiter first. */
    w->next = blocked.next;
    w->prev = &blocked;
    blocked.next->prev = w;
    blocked.next = w;
    w->linked = 1;
}

static void waiter_unlink(struct lk_waiter *w)
{
    if (!w->linked)
        return;
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->linked = 0;
}

/* Locks on c went or shrank: everyone asleep on it retries. They leave the
 * wait-for graph now, as Linux's wake-up unhashes them, so that nobody
 * sees a stale edge before they run. */
static void ctx_wake(struct lock_ctx *c)
{
    for (struct lk_waiter *w = blocked.next, *next; w != &blocked; w = next) {
        next = w->next;
        if (w->ctx == c)
            waiter_unlink(w);
    }
    wake_up_all(&c->wq);
}

/* The owner that owner waits for, or NULL (what_owner_is_waiting_for). */
static const void *owner_waiting_for(const void *owner)
{
    for (struct lk_waiter *w = blocked.next; w != &blocked; w = w->next)
        if (w->owner == owner)
            return w->blocker;
    return NULL;
}

/* posix_locks_deadlock: would caller waiting for blocker's owner close a
 * cycle? OFD owners are not followed from the caller's side. */
static int posix_deadlock(const struct lk *caller, const struct lk *blocker)
{
    if (caller->kind == LOCK_KIND_OFD)
        return 0;
    const void *o = blocker->owner;
    int i = 0;
    while ((o = owner_waiting_for(o))) {
        if (i++ > MAX_DEADLK_ITERATIONS)
            return 0;
        if (o == caller->owner)
            return 1;
    }
    return 0;
}

/* ---- POSIX and OFD locks ---- */

static void lk_delete(struct lk *fl, int *changed)
{
    lk_unlink(fl);
    free(fl);
    *changed = 1;
}

/* posix_update's work in progress: the request (which becomes the lock
 * that absorbed it), where the scan stopped, the spare locks allocated up
 * front, and the old locks the request cuts on its left and right. */
struct posix_edit {
    struct lk *request, *fl, *new_fl, *new_fl2, *left, *right;
    int added;
    int *changed;
};

/* The scan over the owner's locks (contiguous in the list): merges with
 * locks of the same type, notes or replaces those of the other type. */
static int posix_scan(struct lock_ctx *c, struct posix_edit *e)
{
    struct lk *head = &c->posix, *fl, *tmp;
    struct lk *request = e->request;
    for (fl = head->next; fl != head; fl = fl->next)
        if (fl->owner == request->owner)
            break;
    for (; fl != head; fl = tmp) {
        tmp = fl->next;
        if (fl->owner != request->owner)
            break;
        if (request->type == fl->type) {
            /* start - 1, never end + 1: end may be LOCK_OFFSET_MAX. */
            if (fl->end < request->start - 1)
                continue;
            if (fl->start - 1 > request->end)
                break;
            /* Adjacent or overlapping, same type: one lock over both. */
            if (fl->start > request->start)
                fl->start = request->start;
            else
                request->start = fl->start;
            if (fl->end < request->end)
                fl->end = request->end;
            else
                request->end = fl->end;
            if (e->added) {
                lk_delete(fl, e->changed);
                continue;
            }
            request = fl;
            e->added = 1;
        } else {
            if (fl->end < request->start)
                continue;
            if (fl->start > request->end)
                break;
            if (request->type == F_UNLCK)
                e->added = 1;
            if (fl->start < request->start)
                e->left = fl;
            if (fl->end > request->end) {
                e->right = fl;
                break;
            }
            if (fl->start >= request->start) {
                /* Entirely covered by the request. */
                if (e->added) {
                    lk_delete(fl, e->changed);
                    continue;
                }
                if (!e->new_fl) {
                    e->request = request;
                    return -ENOLCK;
                }
                lk_copy(e->new_fl, request);
                request = e->new_fl;
                e->new_fl = NULL;
                lk_insert_before(request, fl);
                lk_delete(fl, e->changed);
                e->added = 1;
            }
        }
    }
    e->request = request;
    e->fl = fl;
    return 0;
}

/* After the scan: insert the request if nothing absorbed it, and trim (or
 * split) the old locks it cut. */
static int posix_apply(struct posix_edit *e)
{
    struct lk *request = e->request, *fl = e->fl, *left = e->left, *right = e->right;
    /* Nothing inserted yet, so failing here leaves the list consistent. */
    if (right && left == right && !e->new_fl2)
        return -ENOLCK;
    if (!e->added) {
        if (request->type == F_UNLCK)
            return 0;
        if (!e->new_fl)
            return -ENOLCK;
        lk_copy(e->new_fl, request);
        lk_insert_before(e->new_fl, fl);
        fl = e->new_fl;
        e->new_fl = NULL;
    }
    if (right) {
        if (left == right) {
            /* The request cuts one old lock in two. */
            left = e->new_fl2;
            e->new_fl2 = NULL;
            lk_copy(left, right);
            lk_insert_before(left, fl);
        }
        right->start = request->end + 1;
        *e->changed = 1;
    }
    if (left) {
        left->end = request->start - 1;
        *e->changed = 1;
    }
    return 0;
}

/* Apply request (no conflict left) to the owner's locks: Linux's
 * posix_lock_inode after its conflict scan, step for step, so that merges,
 * splits and the list order come out the same. Sets *changed when a lock
 * went or shrank (waiters must retry). */
static int posix_update(struct lock_ctx *c, struct lk *request, int *changed)
{
    struct posix_edit e = { .request = request, .changed = changed };
    /* Allocate up front: at most two new locks (a split of one lock). */
    if (request->type != F_UNLCK || request->start != 0 || request->end != LOCK_OFFSET_MAX) {
        e.new_fl = malloc(sizeof(*e.new_fl));
        e.new_fl2 = malloc(sizeof(*e.new_fl2));
    }
    int error = posix_scan(c, &e);
    if (error == 0)
        error = posix_apply(&e);
    free(e.new_fl);
    free(e.new_fl2);
    return error;
}

/* Set (or clear) req's range for its owner on f's identity, sleeping while
 * it conflicts if wait (t sleeps). */
static int posix_setlk(struct task *t, struct file *f, struct lk *req, int wait)
{
    int r = 0, changed = 0;
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, req->type != F_UNLCK);
    if (!c) {
        pthread_mutex_unlock(&lock_mu);
        return req->type == F_UNLCK ? 0 : -ENOLCK;
    }
    for (;;) {
        struct lk *conflict = NULL;
        if (req->type != F_UNLCK) {
            for (struct lk *fl = c->posix.next; fl != &c->posix; fl = fl->next) {
                if (lk_posix_conflict(req, fl)) {
                    conflict = fl;
                    break;
                }
            }
        }
        if (!conflict) {
            r = posix_update(c, req, &changed);
            break;
        }
        if (!wait) {
            r = -EAGAIN;
            break;
        }
        if (posix_deadlock(req, conflict)) {
            r = -EDEADLK;
            break;
        }
        /* Only waits behind POSIX locks enter the wait-for graph (Linux). */
        struct lk_waiter w = { .owner = req->owner, .blocker = conflict->owner, .ctx = c };
        if (conflict->kind == LOCK_KIND_POSIX)
            waiter_link(&w);
        c->waiters++;
        r = waitq_wait(t, &c->wq, &lock_mu, NULL, 0);
        c->waiters--;
        waiter_unlink(&w);
        if (r < 0)
            break;
    }
    if (changed)
        ctx_wake(c);
    ctx_release(c);
    pthread_mutex_unlock(&lock_mu);
    return r;
}

static int can_read(const struct file *f)
{
    int acc = f->flags & O_ACCMODE;
    return !(f->fmode & FMODE_PATH) && (acc == O_RDONLY || acc == O_RDWR);
}

static int can_write(const struct file *f)
{
    int acc = f->flags & O_ACCMODE;
    return !(f->fmode & FMODE_PATH) && (acc == O_WRONLY || acc == O_RDWR);
}

/* The file size for SEEK_END, as stat reports it. */
static int file_size(struct file *f, off_t *size)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    int r = 0;
    if (f->ops && f->ops->stat)
        r = f->ops->stat(f, &st);
    else if (f->inode && f->inode->ops && f->inode->ops->getattr)
        r = f->inode->ops->getattr(f->inode, &st);
    if (r < 0)
        return r;
    *size = st.st_size;
    return 0;
}

/* flock64_to_posix_lock: the range and type of l, with its checks in
 * Linux's order. */
static int flock_to_lk(struct file *f, const struct flock *l, struct lk *out)
{
    off_t base;
    switch (l->l_whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        pthread_mutex_lock(&f->pos_lock);
        base = f->pos;
        pthread_mutex_unlock(&f->pos_lock);
        break;
    case SEEK_END: {
        int r = file_size(f, &base);
        if (r < 0)
            return r;
        break;
    }
    default:
        return -EINVAL;
    }
    if (l->l_start > LOCK_OFFSET_MAX - base)
        return -EOVERFLOW;
    off_t start = base + l->l_start, end;
    if (start < 0)
        return -EINVAL;
    if (l->l_len > 0) {
        if (l->l_len - 1 > LOCK_OFFSET_MAX - start)
            return -EOVERFLOW;
        end = start + (l->l_len - 1);
    } else if (l->l_len < 0) {
        /* POSIX-2001: the l_len bytes before l_start. */
        if (start + l->l_len < 0)
            return -EINVAL;
        end = start - 1;
        start += l->l_len;
    } else {
        end = LOCK_OFFSET_MAX;
    }
    if (l->l_type != F_RDLCK && l->l_type != F_WRLCK && l->l_type != F_UNLCK)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->type = l->l_type;
    out->start = start;
    out->end = end;
    return 0;
}

/* F_GETLK: the first lock in list order that req conflicts with (for an
 * F_UNLCK probe, the owner's own lock over the range: F_OFD_GETLK). */
static void posix_test(struct file *f, const struct lk *req, struct flock *l)
{
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, 0);
    const struct lk *found = NULL;
    if (c) {
        for (const struct lk *fl = c->posix.next; fl != &c->posix; fl = fl->next) {
            int hit = req->type == F_UNLCK ? fl->owner == req->owner && lk_overlap(req, fl)
                                           : lk_posix_conflict(req, fl);
            if (hit) {
                found = fl;
                break;
            }
        }
    }
    if (found) {
        l->l_type = found->type;
        l->l_whence = SEEK_SET;
        l->l_start = found->start;
        l->l_len = found->end == LOCK_OFFSET_MAX ? 0 : found->end - found->start + 1;
        l->l_pid = found->kind == LOCK_KIND_OFD ? -1 : found->pid;
    } else {
        /* Nothing else of *l changes then (Linux). */
        l->l_type = F_UNLCK;
    }
    pthread_mutex_unlock(&lock_mu);
}

int lock_fcntl(struct task *t, struct file *f, int cmd, struct flock *l, int (*still_open)(void *),
               void *arg)
{
    int getlk = 0, ofd = 0, wait = 0;
    switch (cmd) {
    case F_GETLK:
        getlk = 1;
        break;
    case F_SETLK:
        break;
    case F_SETLKW:
        wait = 1;
        break;
    case F_OFD_GETLK:
        getlk = ofd = 1;
        break;
    case F_OFD_SETLK:
        ofd = 1;
        break;
    case F_OFD_SETLKW:
        ofd = wait = 1;
        break;
    default:
        return -EINVAL;
    }
    if (f->fmode & FMODE_PATH)
        return -EBADF;
    if (getlk && !ofd && l->l_type != F_RDLCK && l->l_type != F_WRLCK)
        return -EINVAL;

    struct lk req;
    int r = flock_to_lk(f, l, &req);
    if (r < 0)
        return r;
    if (!getlk) {
        if ((req.type == F_RDLCK && !can_read(f)) || (req.type == F_WRLCK && !can_write(f)))
            return -EBADF;
    }
    if (ofd && l->l_pid != 0)
        return -EINVAL;
    if (ofd) {
        req.owner = f;
        req.kind = LOCK_KIND_OFD;
        req.pid = -1;
    } else {
        req.owner = t->proc;
        req.kind = LOCK_KIND_POSIX;
        req.pid = t->proc->pid;
    }

    if (getlk) {
        posix_test(f, &req, l);
        return 0;
    }

    r = posix_setlk(t, f, &req, wait);
    if (r == 0 && !ofd && req.type != F_UNLCK && still_open && !still_open(arg)) {
        /* A close of the descriptor raced with us: its release hook ran
         * before the lock existed, so drop the lock again. Like Linux, this
         * unlocks req as posix_update left it (widened by a merge). */
        req.type = F_UNLCK;
        posix_setlk(t, f, &req, 0);
        r = -EBADF;
    }
    return r;
}

/* ---- flock ---- */

int lock_flock(struct task *t, struct file *f, unsigned cmd)
{
    /* LOCK_MAND was never enforced; Linux now ignores it. */
    if (cmd & LOCK_MAND)
        return 0;
    short type;
    switch (cmd & ~(unsigned)LOCK_NB) {
    case LOCK_SH:
        type = F_RDLCK;
        break;
    case LOCK_EX:
        type = F_WRLCK;
        break;
    case LOCK_UN:
        type = F_UNLCK;
        break;
    default:
        return -EINVAL;
    }
    if (!f || (f->fmode & FMODE_PATH))
        return -EBADF;
    if (type != F_UNLCK && !can_read(f) && !can_write(f))
        return -EBADF;
    int wait = !(cmd & LOCK_NB);

    struct lk *nl = NULL;
    if (type != F_UNLCK) {
        nl = calloc(1, sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        nl->owner = f;
        nl->kind = LOCK_KIND_FLOCK;
        nl->type = type;
        nl->start = 0;
        nl->end = LOCK_OFFSET_MAX;
        nl->pid = -1;
    }

    int r = 0;
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, type != F_UNLCK);
    if (!c) {
        r = type == F_UNLCK ? 0 : -ENOMEM;
        goto out;
    }
    /* Linux's flock_lock_inode, retried from the top after each sleep. */
    for (;;) {
        struct lk *fl;
        for (fl = c->flocks.next; fl != &c->flocks; fl = fl->next)
            if (fl->owner == f)
                break;
        if (fl != &c->flocks) {
            if (fl->type == type)
                break;
            /* A conversion drops the old lock first: others may get in. */
            int changed = 0;
            lk_delete(fl, &changed);
            ctx_wake(c);
        }
        if (type == F_UNLCK)
            break;
        struct lk *conflict = NULL;
        for (fl = c->flocks.next; fl != &c->flocks; fl = fl->next) {
            if (fl->owner != f && (fl->type == F_WRLCK || type == F_WRLCK)) {
                conflict = fl;
                break;
            }
        }
        if (!conflict) {
            lk_insert_before(nl, &c->flocks);
            nl = NULL;
            break;
        }
        if (!wait) {
            r = -EWOULDBLOCK;
            break;
        }
        c->waiters++;
        r = waitq_wait(t, &c->wq, &lock_mu, NULL, 0);
        c->waiters--;
        if (r < 0)
            break;
    }
    ctx_release(c);
out:
    pthread_mutex_unlock(&lock_mu);
    free(nl);
    return r;
}

/* ---- release hooks ---- */

/* Remove from list the locks of owner (of kind, or any kind if < 0). */
static int remove_owned(struct lk *list, const void *owner, int kind)
{
    int changed = 0;
    for (struct lk *fl = list->next, *next; fl != list; fl = next) {
        next = fl->next;
        if (fl->owner == owner && (kind < 0 || fl->kind == kind))
            lk_delete(fl, &changed);
    }
    return changed;
}

void lock_release_posix(struct process *p, struct file *f)
{
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, 0);
    if (c) {
        if (remove_owned(&c->posix, p, LOCK_KIND_POSIX))
            ctx_wake(c);
        ctx_release(c);
    }
    pthread_mutex_unlock(&lock_mu);
}

void lock_release_file(struct file *f)
{
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, 0);
    if (c) {
        int changed = remove_owned(&c->posix, f, LOCK_KIND_OFD);
        changed |= remove_owned(&c->flocks, f, LOCK_KIND_FLOCK);
        if (changed)
            ctx_wake(c);
        ctx_release(c);
    }
    pthread_mutex_unlock(&lock_mu);
}

void lock_release_process(struct process *p)
{
    pthread_mutex_lock(&lock_mu);
    for (int h = 0; h < LOCK_HASH_SIZE; h++) {
        for (struct lock_ctx *c = lock_hash[h], *next; c; c = next) {
            next = c->hnext;
            if (remove_owned(&c->posix, p, LOCK_KIND_POSIX))
                ctx_wake(c);
            ctx_release(c);
        }
    }
    pthread_mutex_unlock(&lock_mu);
}

/* ---- inspection ---- */

int lock_snapshot(struct file *f, struct lock_info *out, int max)
{
    int n = 0;
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, 0);
    if (c) {
        struct lk *lists[2] = { &c->posix, &c->flocks };
        for (int i = 0; i < 2; i++) {
            for (struct lk *fl = lists[i]->next; fl != lists[i]; fl = fl->next, n++) {
                if (n >= max)
                    continue;
                out[n] = (struct lock_info){
                    .kind = fl->kind,
                    .type = fl->type,
                    .start = fl->start,
                    .end = fl->end,
                    .owner = fl->owner,
                    .pid = fl->kind == LOCK_KIND_POSIX ? fl->pid : -1,
                };
            }
        }
    }
    pthread_mutex_unlock(&lock_mu);
    return n;
}

int lock_registry_count(void)
{
    pthread_mutex_lock(&lock_mu);
    int n = lock_nctx;
    pthread_mutex_unlock(&lock_mu);
    return n;
}

int lock_waiting(struct file *f)
{
    pthread_mutex_lock(&lock_mu);
    struct lock_ctx *c = ctx_get(f, 0);
    int n = c ? c->waiters : 0;
    pthread_mutex_unlock(&lock_mu);
    return n;
}
