/* inotify (Linux's fs/notify/inotify/inotify_user.c and
 * inotify_fsnotify.c): an instance is an fsnotify group whose marks are the
 * watches, numbered from 1 upwards as Linux's cyclic idr numbers them
 * (a removed number is not reused until the numbers wrap), and whose events
 * wait in a queue of at most max_queued_events, then one IN_Q_OVERFLOW. An
 * event identical to the last one queued (mask, wd, name) is dropped, as
 * Linux's inotify_merge does. Readers sleep on one queue; a read takes
 * whole events only (EINVAL when the first does not fit). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base.h"
#include "fs/file/anon.h"
#include "fs/file/file.h"
#include "fs/file/inotify.h"
#include "fs/file/poll.h"
#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/mm.h"

struct ievent {
    struct ievent *next;
    int32_t wd;
    uint32_t mask, cookie;
    uint32_t len; /* of name, padded with NULs to a multiple of 16 (0: no name) */
    char name[];
};

struct inotify_group {
    struct fsnotify_group fsn;
    pthread_mutex_t lock; /* the queue, the watch list; under fsnotify_lock if both */
    struct waitq wq;
    struct ievent *head, **tail;
    unsigned q_len, max_events;
    int overflow_queued;
    int shutdown; /* being released: no more events */
    struct inotify_mark *marks;
    int last_wd; /* the idr's cursor */
    uid_t uid;
};

struct inotify_mark {
    struct fsnotify_mark fsn;
    int wd;
    struct inotify_mark *gnext; /* in the group's list */
};

/* Instances and watches per user (Linux's ucounts), for the limits. */
struct user_count {
    uid_t uid;
    int instances, watches;
    struct user_count *next;
};
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct user_count *users;

/* Add delta to uid's count (instances or watches) unless that passes max:
 * 1 if done. */
static int user_charge(uid_t uid, int watches, int delta, int max)
{
    pthread_mutex_lock(&users_lock);
    struct user_count *u = users;
    while (u && u->uid != uid)
        u = u->next;
    if (!u) {
        u = calloc(1, sizeof(*u));
        if (!u) {
            pthread_mutex_unlock(&users_lock);
            return 0;
        }
        u->uid = uid;
        u->next = users;
        users = u;
    }
    int *n = watches ? &u->watches : &u->instances;
    int ok = delta < 0 || *n + delta <= max;
    if (ok)
        *n += delta;
    pthread_mutex_unlock(&users_lock);
    return ok;
}

static const struct file_ops inotify_ops;

int inotify_max_user_watches(void)
{
    /* Linux's inotify_user_setup: 1% of memory at about 1 KiB a watch,
     * between 8192 and 1048576. */
    long pages = sysconf(_SC_PHYS_PAGES);
    long v = pages > 0 ? pages / 100 * 4096 / 1080 : 0;
    return v < 8192 ? 8192 : v > 1048576 ? 1048576 : (int)v;
}

int is_inotify_file(const struct file *f)
{
    return f->ops == &inotify_ops;
}

static size_t event_size(const struct ievent *e)
{
    return sizeof(struct inotify_event) + e->len;
}

/* Queue an event (g->lock held): Linux's fsnotify_add_event with
 * inotify_merge. */
static void queue_event(struct inotify_group *g, int wd, uint32_t mask, const char *name,
                        uint32_t cookie)
{
    if (g->shutdown)
        return;
    size_t nlen = name ? strlen(name) : 0;
    if (g->q_len >= g->max_events) {
        if (g->overflow_queued)
            return;
        wd = -1;
        mask = IN_Q_OVERFLOW;
        cookie = 0;
        nlen = 0;
        name = NULL;
    } else if (g->head) {
        struct ievent *last = container_of(g->tail, struct ievent, next);
        if (!(last->mask & IN_IGNORED) && last->mask == mask && last->wd == wd &&
            (nlen ? last->len && strcmp(last->name, name) == 0 : last->len == 0))
            return;
    }
    size_t len = nlen ? (nlen + 1 + sizeof(struct inotify_event) - 1) /
                            sizeof(struct inotify_event) * sizeof(struct inotify_event)
                      : 0;
    struct ievent *e = calloc(1, sizeof(*e) + len);
    if (!e)
        return; /* Linux drops the event too when it cannot allocate */
    e->wd = wd;
    e->mask = mask;
    e->cookie = cookie;
    e->len = (uint32_t)len;
    if (nlen)
        memcpy(e->name, name, nlen);
    if (mask == IN_Q_OVERFLOW)
        g->overflow_queued = 1;
    *g->tail = e;
    g->tail = &e->next;
    g->q_len++;
    wake_up_key(&g->wq, 1, POLLIN);
}

static void inotify_handle_event(struct fsnotify_mark *m, uint32_t mask, const char *name,
                                 uint32_t cookie)
{
    struct inotify_mark *im = container_of(m, struct inotify_mark, fsn);
    struct inotify_group *g = container_of(m->group, struct inotify_group, fsn);
    pthread_mutex_lock(&g->lock);
    queue_event(g, im->wd, mask & ~FSN_EVENT_ON_CHILD, name, cookie);
    pthread_mutex_unlock(&g->lock);
}

static void inotify_freeing_mark(struct fsnotify_mark *m)
{
    struct inotify_mark *im = container_of(m, struct inotify_mark, fsn);
    struct inotify_group *g = container_of(m->group, struct inotify_group, fsn);
    pthread_mutex_lock(&g->lock);
    queue_event(g, im->wd, IN_IGNORED, NULL, 0);
    for (struct inotify_mark **pp = &g->marks; *pp; pp = &(*pp)->gnext)
        if (*pp == im) {
            *pp = im->gnext;
            break;
        }
    pthread_mutex_unlock(&g->lock);
    user_charge(g->uid, 1, -1, 0);
    free(im);
}

static const struct fsnotify_ops inotify_fsn_ops = {
    .handle_event = inotify_handle_event,
    .freeing_mark = inotify_freeing_mark,
};

static int nonblocking(struct file *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static ssize_t inotify_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct inotify_group *g = f->priv;
    size_t done = 0;
    pthread_mutex_lock(&g->lock);
    while (!g->head) {
        int r =
            nonblocking(f) ? -EAGAIN : waitq_wait(current_task, &g->wq, &g->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            pthread_mutex_unlock(&g->lock);
            return r;
        }
    }
    while (g->head) {
        struct ievent *e = g->head;
        size_t sz = event_size(e);
        if (sz > len - done) {
            if (!done) {
                pthread_mutex_unlock(&g->lock);
                return -EINVAL;
            }
            break;
        }
        g->head = e->next;
        if (!g->head)
            g->tail = &g->head;
        g->q_len--;
        if (e->mask == IN_Q_OVERFLOW)
            g->overflow_queued = 0;
        struct inotify_event h = {
            .wd = e->wd, .mask = e->mask, .cookie = e->cookie, .len = e->len
        };
        memcpy((char *)buf + done, &h, sizeof(h));
        memcpy((char *)buf + done + sizeof(h), e->name, e->len);
        done += sz;
        free(e);
    }
    pthread_mutex_unlock(&g->lock);
    return (ssize_t)done;
}

static unsigned inotify_poll(struct file *f, struct poll_table *pt)
{
    struct inotify_group *g = f->priv;
    if (pt)
        poll_wait(pt, &g->wq);
    pthread_mutex_lock(&g->lock);
    unsigned ev = g->head ? POLLIN | POLLRDNORM : 0;
    pthread_mutex_unlock(&g->lock);
    return ev;
}

/* _IOW('I', 0, __s32): where the next watch descriptor is looked for (for
 * checkpoint and restore; Linux's idr_set_cursor). */
#define INOTIFY_IOC_SETNEXTWD 0x40044900UL

static long inotify_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct inotify_group *g = f->priv;
    if (req == INOTIFY_IOC_SETNEXTWD) {
        if (arg < 1 || arg > INT_MAX)
            return -EINVAL;
        pthread_mutex_lock(&g->lock);
        g->last_wd = (int)arg - 1;
        pthread_mutex_unlock(&g->lock);
        return 0;
    }
    if (req != FIONREAD)
        return -ENOTTY;
    pthread_mutex_lock(&g->lock);
    size_t n = 0;
    for (struct ievent *e = g->head; e; e = e->next)
        n += event_size(e);
    pthread_mutex_unlock(&g->lock);
    int v = (int)n;
    return copy_out(current_task, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

/* /proc/PID/fdinfo: a line per watch, newest first, as Linux's
 * inotify_fdinfo prints them (the file handle part is left out: the
 * sandbox makes no file handles, name_to_handle_at is EOPNOTSUPP). As many
 * whole lines as fit in len. */
static int inotify_fdinfo(struct file *f, char *buf, size_t len)
{
    struct inotify_group *g = f->priv;
    size_t n = 0;
    pthread_mutex_lock(&fsnotify_lock);
    for (struct inotify_mark *m = g->marks; m; m = m->gnext) {
        struct inode *i = m->fsn.inode;
        uint32_t mask = m->fsn.mask & IN_ALL_EVENTS;
        if (m->fsn.flags & FSN_MARK_EXCL_UNLINK)
            mask |= IN_EXCL_UNLINK;
        if (m->fsn.flags & FSN_MARK_ONESHOT)
            mask |= IN_ONESHOT;
        /* The kernel's dev_t: major in the bits from 20 up. */
        unsigned sdev = (unsigned)(major(i->sb->dev) << 20 | minor(i->sb->dev));
        int w =
            snprintf(buf + n, len - n, "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:0\n",
                     m->wd, (unsigned long long)i->ino, sdev, mask);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    pthread_mutex_unlock(&fsnotify_lock);
    return (int)n;
}

static void inotify_release(struct file *f)
{
    struct inotify_group *g = f->priv;
    /* Linux's fsnotify_destroy_group: no more events, then the marks go. */
    pthread_mutex_lock(&fsnotify_lock);
    pthread_mutex_lock(&g->lock);
    g->shutdown = 1;
    pthread_mutex_unlock(&g->lock);
    while (g->marks)
        fsnotify_destroy_mark(&g->marks->fsn);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
    while (g->head) {
        struct ievent *e = g->head;
        g->head = e->next;
        free(e);
    }
    user_charge(g->uid, 0, -1, 0);
    waitq_destroy(&g->wq);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static const struct file_ops inotify_ops = {
    .name = "inotify",
    .read = inotify_read,
    .stat = anon_inode_stat,
    .poll = inotify_poll,
    .ioctl = inotify_ioctl,
    .release = inotify_release,
    .fdinfo = inotify_fdinfo,
    .read_empty = 1,
    .read_whole = 1,
};

int inotify_file(uid_t uid, int flags, struct file **out)
{
    if (!user_charge(uid, 0, 1, INOTIFY_MAX_USER_INSTANCES))
        return -EMFILE;
    struct inotify_group *g = calloc(1, sizeof(*g));
    struct file *f = g ? file_new(&inotify_ops, O_RDONLY | (flags & O_NONBLOCK)) : NULL;
    if (!f) {
        free(g);
        user_charge(uid, 0, -1, 0);
        return -ENOMEM;
    }
    g->fsn.ops = &inotify_fsn_ops;
    pthread_mutex_init(&g->lock, NULL);
    waitq_init(&g->wq);
    g->tail = &g->head;
    g->max_events = INOTIFY_MAX_QUEUED_EVENTS;
    g->uid = uid;
    f->fmode |= FMODE_STREAM | FMODE_NOOP_LLSEEK;
    f->priv = g;
    *out = f;
    return 0;
}

#define INOTIFY_MARK_FLAGS (IN_EXCL_UNLINK | IN_ONESHOT)

static unsigned arg_to_flags(uint32_t arg)
{
    return ((arg & IN_EXCL_UNLINK) ? FSN_MARK_EXCL_UNLINK : 0) |
           ((arg & IN_ONESHOT) ? FSN_MARK_ONESHOT : 0);
}

static uint32_t arg_to_mask(const struct inode *i, uint32_t arg)
{
    return (S_ISDIR(i->mode) ? FSN_EVENT_ON_CHILD : 0) | (arg & IN_ALL_EVENTS);
}

/* The next free watch descriptor after the cursor (g->lock held). */
static int next_wd(struct inotify_group *g)
{
    for (;;) {
        int wd = g->last_wd >= INT_MAX ? 1 : g->last_wd + 1;
        g->last_wd = wd;
        struct inotify_mark *m = g->marks;
        while (m && m->wd != wd)
            m = m->gnext;
        if (!m)
            return wd;
    }
}

int inotify_watch_add(struct file *f, struct inode *i, uint32_t mask)
{
    struct inotify_group *g = f->priv;
    int r;
    pthread_mutex_lock(&fsnotify_lock);
    struct fsnotify_mark *m = fsnotify_find_mark(i, &g->fsn);
    if (m) {
        if (mask & IN_MASK_CREATE) {
            r = -EEXIST;
        } else {
            if (!(mask & IN_MASK_ADD)) {
                m->mask = 0;
                m->flags = 0;
            }
            m->mask |= arg_to_mask(i, mask);
            m->flags |= arg_to_flags(mask);
            r = container_of(m, struct inotify_mark, fsn)->wd;
        }
        pthread_mutex_unlock(&fsnotify_lock);
        return r;
    }
    struct inotify_mark *im = calloc(1, sizeof(*im));
    if (!im) {
        pthread_mutex_unlock(&fsnotify_lock);
        return -ENOMEM;
    }
    im->fsn.group = &g->fsn;
    im->fsn.mask = arg_to_mask(i, mask);
    im->fsn.flags = arg_to_flags(mask);
    pthread_mutex_lock(&g->lock);
    im->wd = next_wd(g);
    pthread_mutex_unlock(&g->lock);
    if (!user_charge(g->uid, 1, 1, inotify_max_user_watches())) {
        r = -ENOSPC;
    } else if ((r = fsnotify_add_mark(&im->fsn, i)) < 0) {
        user_charge(g->uid, 1, -1, 0);
    } else {
        pthread_mutex_lock(&g->lock);
        im->gnext = g->marks;
        g->marks = im;
        pthread_mutex_unlock(&g->lock);
        r = im->wd;
    }
    pthread_mutex_unlock(&fsnotify_lock);
    if (r < 0)
        free(im);
    return r;
}

int inotify_watch_rm(struct file *f, int wd)
{
    struct inotify_group *g = f->priv;
    pthread_mutex_lock(&fsnotify_lock);
    pthread_mutex_lock(&g->lock);
    struct inotify_mark *m = g->marks;
    while (m && m->wd != wd)
        m = m->gnext;
    pthread_mutex_unlock(&g->lock);
    if (m)
        fsnotify_destroy_mark(&m->fsn);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
    return m ? 0 : -EINVAL;
}
