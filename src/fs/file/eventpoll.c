/* epoll's object. An item (epitem) hooks callback waiters on the wait
 * queues its file's poll operation names; a wake-up whose key matches the
 * item's events puts it on the ready list and wakes the epoll_wait
 * sleepers and whoever polls the epoll file (a parent epoll set). A wait
 * re-polls the items on the ready list only: level-triggered ones go back
 * on it after they are reported, edge-triggered ones wait for the next
 * wake-up, one-shot ones are disarmed until EPOLL_CTL_MOD.
 *
 * Locks, in order: epmutex (every item set and every file's item list,
 * the loop check; epoll_ctl and releases), an epoll's mtx (its items,
 * scans; a parent's before its children's), a file's own locks and wait
 * queues (in its poll operation), an epoll's lock (ready list and item
 * events; taken in wake callbacks, so never held around a poll or a
 * waitq_add/remove). An item holds no reference to its file: the file's
 * last file_put removes its items (ep_release_file) before it goes, and
 * that needs the mtx of each epoll set, so an item's file stays valid
 * while its set's mtx is held. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "fs/file/eventpoll.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "fs/vfs/vfs.h"
#include "list.h"
#include "sched/wait.h"

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS                                                                     \
    (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

static pthread_mutex_t epmutex = PTHREAD_MUTEX_INITIALIZER;

struct eventpoll {
    pthread_mutex_t mtx;
    pthread_mutex_t lock;
    struct waitq wq;      /* epoll_wait sleepers */
    struct waitq poll_wq; /* pollers of the epoll file (parent sets, poll) */
    struct list_node items;
    struct list_node rdllist; /* under lock */
    int nitems;               /* under mtx (and epmutex to change) */
    struct file *file;        /* its own (not held: it goes with the file) */
};

struct epitem {
    struct eventpoll *ep;
    struct file *file; /* not held, see above */
    int fd;
    uint32_t events;        /* under ep->lock */
    uint64_t data;          /* under ep->mtx */
    struct list_node node;  /* ep->items */
    struct list_node fnode; /* the file's item list (under epmutex) */
    struct list_node rdl;   /* ep->rdllist, when ready (under ep->lock) */
    int ready;
    struct list_node txl; /* a scan's list (under ep->mtx) */
    int ontx;
    struct waiter **w;
    size_t nw;
    int oom;
};

static const struct file_ops eventpoll_ops;

int file_is_eventpoll(const struct file *f)
{
    return f && f->ops == &eventpoll_ops;
}

int file_can_poll(const struct file *f)
{
    return f->ops->poll != NULL;
}

/* ---- wake-ups ---- */

/* How many epoll_wait callers it woke. */
static int ep_wake(struct eventpoll *ep)
{
    int n = wake_up_key(&ep->wq, 0, 0);
    wake_up_key(&ep->poll_wq, 0, POLLIN | POLLRDNORM);
    return n;
}

/* Put epi on the ready list; under ep->lock. */
static void ep_set_ready(struct eventpoll *ep, struct epitem *epi)
{
    if (!epi->ready) {
        list_add_tail(&ep->rdllist, &epi->rdl);
        epi->ready = 1;
    }
}

static int ep_poll_callback(struct waiter *w, unsigned key)
{
    struct epitem *epi = w->data;
    struct eventpoll *ep = epi->ep;
    int woke = 0;
    pthread_mutex_lock(&ep->lock);
    uint32_t events = epi->events;
    /* Disarmed (one-shot), or a wake-up for events the item does not want. */
    if ((events & ~EP_PRIVATE_BITS) && !(key && !(key & events))) {
        ep_set_ready(ep, epi);
        woke = 1;
    }
    pthread_mutex_unlock(&ep->lock);
    int waiters = woke ? ep_wake(ep) : 0;
    /* An exclusive item ends a wake-up (of one exclusive waiter) only
     * when a caller of epoll_wait was there to take it, as Linux's
     * ep_poll_callback (waitqueue_active): otherwise the next exclusive
     * item takes it too. */
    return (events & EPOLLEXCLUSIVE) ? woke && waiters > 0 : 1;
}

static void ep_queue_proc(struct poll_table *pt, struct waitq *wq)
{
    struct epitem *epi = pt->priv;
    struct waiter **v = realloc(epi->w, (epi->nw + 1) * sizeof(*v));
    struct waiter *w = v ? malloc(sizeof(*w)) : NULL;
    if (v)
        epi->w = v;
    if (!w) {
        epi->oom = 1;
        return;
    }
    waiter_init(w, ep_poll_callback, epi);
    if (epi->events & EPOLLEXCLUSIVE)
        w->flags |= WAITER_EXCLUSIVE;
    waitq_add(wq, w);
    epi->w[epi->nw++] = w;
}

/* ---- items ---- */

/* Every item of every set in the sandbox, against the host's
 * fs.epoll.max_user_watches (Linux counts a user's; here the sandbox's,
 * which also bounds what items cost the sentry): ENOSPC past it. */
static long ep_watches, ep_max_watches;

static long max_watches(void)
{
    long m = __atomic_load_n(&ep_max_watches, __ATOMIC_RELAXED);
    if (m)
        return m;
    m = 1L << 20; /* when the host does not say */
    FILE *fp = fopen("/proc/sys/fs/epoll/max_user_watches", "re");
    if (fp) {
        long v;
        if (fscanf(fp, "%ld", &v) == 1 && v > 0)
            m = v;
        fclose(fp);
    }
    __atomic_store_n(&ep_max_watches, m, __ATOMIC_RELAXED);
    return m;
}

void eventpoll_set_max_watches(long max)
{
    __atomic_store_n(&ep_max_watches, max, __ATOMIC_RELAXED);
}

/* Under epmutex and ep->mtx. */
static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
    /* After this no callback of epi runs. */
    for (size_t i = 0; i < epi->nw; i++) {
        waitq_remove(epi->w[i]);
        free(epi->w[i]);
    }
    free(epi->w);
    list_del(&epi->fnode);
    pthread_mutex_lock(&ep->lock);
    if (epi->ready)
        list_del(&epi->rdl);
    pthread_mutex_unlock(&ep->lock);
    list_del(&epi->node);
    ep->nitems--;
    __atomic_sub_fetch(&ep_watches, 1, __ATOMIC_RELAXED);
    free(epi);
}

/* The file's last reference is gone: its items go (file_put). */
static void ep_release_file(struct file *f)
{
    pthread_mutex_lock(&epmutex);
    struct list_node *h = f->ep_items;
    if (h) {
        list_for_each_safe (epi, h, struct epitem, fnode) {
            struct eventpoll *ep = epi->ep;
            pthread_mutex_lock(&ep->mtx);
            ep_remove(ep, epi);
            pthread_mutex_unlock(&ep->mtx);
        }
        free(h);
        f->ep_items = NULL;
    }
    pthread_mutex_unlock(&epmutex);
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *tf, int fd)
{
    list_for_each (epi, &ep->items, struct epitem, node)
        if (epi->file == tf && epi->fd == fd)
            return epi;
    return NULL;
}

/* Gather on *tx the items a scan polls: the ready list (taken off it
 * when take). Under ep->mtx. */
static void ep_gather(struct eventpoll *ep, struct list_node *tx, int take)
{
    list_init(tx);
    pthread_mutex_lock(&ep->lock);
    list_for_each_safe (epi, &ep->rdllist, struct epitem, rdl) {
        if (take) {
            list_del(&epi->rdl);
            epi->ready = 0;
        }
        list_add_tail(tx, &epi->txl);
        epi->ontx = 1;
    }
    pthread_mutex_unlock(&ep->lock);
}

static uint32_t item_events(struct eventpoll *ep, struct epitem *epi)
{
    pthread_mutex_lock(&ep->lock);
    uint32_t e = epi->events;
    pthread_mutex_unlock(&ep->lock);
    return e;
}

/* The item's events now (no hooking). */
static unsigned item_poll(struct epitem *epi, uint32_t events)
{
    return file_poll(epi->file, NULL) & events;
}

/* Report up to max ready items into out; under ep->mtx. With out NULL:
 * whether some item is ready (0 or 1), leaving every list as it was. */
static int ep_send_events(struct eventpoll *ep, struct ep_event *out, int max)
{
    struct list_node tx;
    int n = 0;
    ep_gather(ep, &tx, out != NULL);
    list_for_each_safe (epi, &tx, struct epitem, txl) {
        list_del(&epi->txl);
        epi->ontx = 0;
        if (!out) {
            if (!n && item_poll(epi, item_events(ep, epi)))
                n = 1;
            continue;
        }
        if (n >= max) {
            pthread_mutex_lock(&ep->lock);
            ep_set_ready(ep, epi);
            pthread_mutex_unlock(&ep->lock);
            continue;
        }
        uint32_t events = item_events(ep, epi);
        unsigned r = item_poll(epi, events);
        if (!r)
            continue;
        out[n].events = r;
        out[n].data = epi->data;
        n++;
        pthread_mutex_lock(&ep->lock);
        if (events & EPOLLONESHOT)
            epi->events &= EP_PRIVATE_BITS;
        else if (!(events & EPOLLET))
            ep_set_ready(ep, epi);
        pthread_mutex_unlock(&ep->lock);
    }
    return n;
}

/* Whether some item is ready, leaving every list as it was. */
static int ep_any_ready(struct eventpoll *ep)
{
    return ep_send_events(ep, NULL, 1);
}

/* ---- nesting ---- */

/* How deep the sets under ep go (0: no epoll item), EP_MAX_NESTS + 1 if
 * too deep or if into is among them. Under epmutex. */
static int ep_depth_down(struct eventpoll *ep, struct eventpoll *into, int depth)
{
    int result = 0;
    list_for_each (epi, &ep->items, struct epitem, node) {
        if (!file_is_eventpoll(epi->file))
            continue;
        struct eventpoll *child = epi->file->priv;
        int d;
        if (child == into || depth > EP_MAX_NESTS)
            d = EP_MAX_NESTS + 1;
        else
            d = ep_depth_down(child, into, depth + 1) + 1;
        if (d > result)
            result = d;
        if (result > EP_MAX_NESTS)
            break;
    }
    return result;
}

/* How many sets above the epoll file f at most. Under epmutex. */
static int ep_depth_up(struct file *f, int depth)
{
    int result = 0;
    struct list_node *h = f->ep_items;
    if (!h || depth > EP_MAX_NESTS)
        return 0;
    list_for_each (epi, h, struct epitem, fnode) {
        int d = ep_depth_up(epi->ep->file, depth + 1) + 1;
        if (d > result)
            result = d;
    }
    return result;
}

/* Linux's ep_loop_check: adding the set to into the set ep loops or
 * nests too deep. Under epmutex. */
static int ep_loop_check(struct eventpoll *ep, struct eventpoll *to)
{
    int down = ep_depth_down(to, ep, 0);
    if (down > EP_MAX_NESTS)
        return -ELOOP;
    return down + 1 + ep_depth_up(ep->file, 0) > EP_MAX_NESTS ? -ELOOP : 0;
}

/* ---- wake-up paths (Linux's reverse_path_check) ---- */

/* How many paths of each length may lead from one file up through nested
 * sets to a set that is in none: any number of length 0 (the file is in a
 * top set itself), then 500, 100, 50 and 10 (Linux's path_limits), which
 * bounds the work of one wake-up. */
static const int path_limits[EP_MAX_NESTS + 1] = { 0, 500, 100, 50, 10 };

/* Count f's paths from depth on: -1 past a limit or too deep. Under epmutex. */
static int path_count(struct file *f, int depth, int *count)
{
    if (depth > EP_MAX_NESTS)
        return -1;
    struct list_node *items = f->ep_items;
    if (!items)
        return 0;
    list_for_each (epi, items, struct epitem, fnode) {
        struct file *up = epi->ep->file;
        struct list_node *ups = up->ep_items;
        int r = 0;
        if (!ups || list_empty(ups))
            r = depth && ++count[depth] > path_limits[depth] ? -1 : 0;
        else
            r = path_count(up, depth + 1, count);
        if (r)
            return r;
    }
    return 0;
}

static int path_check_file(struct file *f)
{
    int count[EP_MAX_NESTS + 1] = { 0 };
    return path_count(f, 0, count);
}

/* Every file that is no set, under ep and the sets nested in it. */
static int path_check_under(struct eventpoll *ep, int depth)
{
    if (depth > EP_MAX_NESTS)
        return -1;
    list_for_each (epi, &ep->items, struct epitem, node) {
        int r = file_is_eventpoll(epi->file) ? path_check_under(epi->file->priv, depth + 1)
                                             : path_check_file(epi->file);
        if (r)
            return r;
    }
    return 0;
}

/* ---- epoll_ctl ---- */

/* Under epmutex and ep->mtx. */
static int ep_insert(struct eventpoll *ep, const struct ep_event *ev, struct file *tf, int fd)
{
    if (__atomic_add_fetch(&ep_watches, 1, __ATOMIC_RELAXED) > max_watches()) {
        __atomic_sub_fetch(&ep_watches, 1, __ATOMIC_RELAXED);
        return -ENOSPC;
    }
    struct epitem *epi = calloc(1, sizeof(*epi));
    if (!epi) {
        __atomic_sub_fetch(&ep_watches, 1, __ATOMIC_RELAXED);
        return -ENOMEM;
    }
    if (!tf->ep_items) {
        struct list_node *h = malloc(sizeof(*h));
        if (!h) {
            free(epi);
            __atomic_sub_fetch(&ep_watches, 1, __ATOMIC_RELAXED);
            return -ENOMEM;
        }
        list_init(h);
        tf->ep_items = h;
        tf->ep_release = ep_release_file;
    }
    epi->ep = ep;
    epi->file = tf;
    epi->fd = fd;
    epi->events = ev->events;
    epi->data = ev->data;
    list_init(&epi->rdl);
    list_init(&epi->txl);
    list_add_tail(tf->ep_items, &epi->fnode);
    list_add_tail(&ep->items, &epi->node);
    ep->nitems++;
    struct poll_table pt;
    poll_table_init(&pt, NULL);
    pt.qproc = ep_queue_proc;
    pt.priv = epi;
    unsigned r = file_poll(tf, &pt) & ev->events;
    if (epi->oom) {
        ep_remove(ep, epi);
        return -ENOMEM;
    }
    if (r) {
        pthread_mutex_lock(&ep->lock);
        ep_set_ready(ep, epi);
        pthread_mutex_unlock(&ep->lock);
        ep_wake(ep);
    }
    return 0;
}

/* Under ep->mtx. */
static int ep_modify(struct eventpoll *ep, struct epitem *epi, const struct ep_event *ev)
{
    pthread_mutex_lock(&ep->lock);
    epi->events = ev->events;
    pthread_mutex_unlock(&ep->lock);
    epi->data = ev->data;
    if (item_poll(epi, ev->events)) {
        pthread_mutex_lock(&ep->lock);
        ep_set_ready(ep, epi);
        pthread_mutex_unlock(&ep->lock);
        ep_wake(ep);
    }
    return 0;
}

int eventpoll_ctl(struct file *epf, int op, struct file *tf, int fd, const struct ep_event *ev)
{
    if (epf == tf || !file_is_eventpoll(epf))
        return -EINVAL;
    struct ep_event e = { 0, 0 };
    if (op != EPOLL_CTL_DEL) {
        e = *ev;
        if (e.events & EPOLLEXCLUSIVE) {
            if (op == EPOLL_CTL_MOD)
                return -EINVAL;
            if (op == EPOLL_CTL_ADD &&
                (file_is_eventpoll(tf) || (e.events & ~EPOLLEXCLUSIVE_OK_BITS)))
                return -EINVAL;
        }
    }
    struct eventpoll *ep = epf->priv;
    pthread_mutex_lock(&epmutex);
    int r = 0;
    struct list_node *containers = epf->ep_items;
    int nested = containers && !list_empty(containers);
    if (op == EPOLL_CTL_ADD && file_is_eventpoll(tf))
        r = ep_loop_check(ep, tf->priv);
    if (r == 0) {
        pthread_mutex_lock(&ep->mtx);
        struct epitem *epi = ep_find(ep, tf, fd);
        r = -EINVAL;
        switch (op) {
        case EPOLL_CTL_ADD:
            e.events |= EPOLLERR | EPOLLHUP;
            r = epi ? -EEXIST : ep_insert(ep, &e, tf, fd);
            /* A set that is nested, or a set added: the wake-up paths of
             * the files below it, counted with the new item (Linux's
             * full_check), which goes again if they are too many. */
            if (r == 0 && (nested || file_is_eventpoll(tf)) &&
                (file_is_eventpoll(tf) ? path_check_under(tf->priv, 0) : path_check_file(tf))) {
                ep_remove(ep, ep_find(ep, tf, fd));
                r = -EINVAL;
            }
            break;
        case EPOLL_CTL_DEL:
            r = epi ? 0 : -ENOENT;
            if (epi)
                ep_remove(ep, epi);
            break;
        case EPOLL_CTL_MOD:
            if (!epi) {
                r = -ENOENT;
            } else if (!(item_events(ep, epi) & EPOLLEXCLUSIVE)) {
                e.events |= EPOLLERR | EPOLLHUP;
                r = ep_modify(ep, epi, &e);
            }
            break;
        }
        pthread_mutex_unlock(&ep->mtx);
    }
    pthread_mutex_unlock(&epmutex);
    return r;
}

/* ---- epoll_wait ---- */

long eventpoll_wait(struct task *t, struct file *epf, int max, const struct timespec *deadline,
                    struct ep_event **out)
{
    struct eventpoll *ep = epf->priv;
    struct ep_event *buf = NULL;
    struct waiter w;
    waiter_init_task(&w, t);
    /* Hooked on the queue only once a scan found nothing (as Linux's
     * ep_poll): a wait with events ready takes them without it. */
    int hooked = 0;
    long r;
    for (;;) {
        pthread_mutex_lock(&ep->mtx);
        int cap = max < ep->nitems ? max : ep->nitems;
        struct ep_event *nb = cap ? realloc(buf, (size_t)cap * sizeof(*buf)) : buf;
        if (cap && !nb) {
            pthread_mutex_unlock(&ep->mtx);
            r = -ENOMEM;
            break;
        }
        buf = nb;
        r = cap ? ep_send_events(ep, buf, cap) : 0;
        pthread_mutex_unlock(&ep->mtx);
        if (r)
            break;
        if (deadline_passed(deadline))
            break;
        if (t && task_interrupt_pending(t)) {
            r = -EINTR;
            break;
        }
        if (!hooked) {
            /* Then scan again: what came before the hook is seen there,
             * what comes after it wakes the sleep. */
            task_sleep_prepare(t);
            waitq_add(&ep->wq, &w);
            hooked = 1;
            continue;
        }
        if (task_sleep(t, deadline, WAIT_SPIN) == -ERESTARTSYS) {
            r = -EINTR;
            break;
        }
        task_sleep_prepare(t);
    }
    if (hooked)
        waitq_remove(&w);
    if (r <= 0) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return r;
}

/* ---- the file ---- */

static unsigned eventpoll_poll(struct file *f, struct poll_table *pt)
{
    struct eventpoll *ep = f->priv;
    poll_wait(pt, &ep->poll_wq);
    pthread_mutex_lock(&ep->mtx);
    int ready = ep_any_ready(ep);
    pthread_mutex_unlock(&ep->mtx);
    return ready ? POLLIN | POLLRDNORM : 0;
}

static void eventpoll_release(struct file *f)
{
    struct eventpoll *ep = f->priv;
    pthread_mutex_lock(&epmutex);
    pthread_mutex_lock(&ep->mtx);
    list_for_each_safe (epi, &ep->items, struct epitem, node)
        ep_remove(ep, epi);
    pthread_mutex_unlock(&ep->mtx);
    pthread_mutex_unlock(&epmutex);
    waitq_destroy(&ep->wq);
    waitq_destroy(&ep->poll_wq);
    pthread_mutex_destroy(&ep->lock);
    pthread_mutex_destroy(&ep->mtx);
    free(ep);
}

static int eventpoll_fdinfo(struct file *f, char *buf, size_t len)
{
    struct eventpoll *ep = f->priv;
    size_t off = 0;
    pthread_mutex_lock(&ep->mtx);
    list_for_each (epi, &ep->items, struct epitem, node) {
        struct inode *i = epi->file->inode;
        int n = snprintf(
            buf + off, len - off, "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%llx sdev:%x\n",
            epi->fd, item_events(ep, epi), (unsigned long long)epi->data, (long long)epi->file->pos,
            i ? (unsigned long long)i->ino : 0ULL, i && i->sb ? (unsigned)i->sb->dev : 0U);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    pthread_mutex_unlock(&ep->mtx);
    return (int)off;
}

static const struct file_ops eventpoll_ops = {
    .name = "eventpoll",
    .poll = eventpoll_poll,
    .release = eventpoll_release,
    .fdinfo = eventpoll_fdinfo,
};

struct file *eventpoll_new(int flags)
{
    struct eventpoll *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return NULL;
    struct file *f = file_new(&eventpoll_ops, O_RDWR | flags);
    if (!f) {
        free(ep);
        return NULL;
    }
    pthread_mutex_init(&ep->mtx, NULL);
    pthread_mutex_init(&ep->lock, NULL);
    waitq_init(&ep->wq);
    waitq_init(&ep->poll_wq);
    list_init(&ep->items);
    list_init(&ep->rdllist);
    f->fmode |= FMODE_STREAM;
    f->priv = ep;
    ep->file = f;
    return f;
}
