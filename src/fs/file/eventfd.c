/* eventfd (Linux's fs/eventfd.c): an 8-byte counter. A read takes the
 * whole count (1 in semaphore mode) and waits while it is 0; a write (of
 * exactly 8 bytes, as Linux 6.18 wants) adds and waits while the sum
 * would pass 0xfffffffffffffffe. Readers and writers sleep on one queue,
 * woken with the poll key of what changed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file/anon.h"
#include "fs/file/eventfd.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "sched/wait.h"

struct eventfd {
    pthread_mutex_t lock; /* count; the sleepers' condition lock */
    struct waitq wq;
    uint64_t count;
    int semaphore;
    int id;
};

/* Ids as Linux's eventfd_ida hands them out: the lowest free one. */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *id_used;
static size_t id_words;

static int id_alloc(void)
{
    pthread_mutex_lock(&id_lock);
    int id = -1;
    for (size_t w = 0; w < id_words && id < 0; w++)
        if (~id_used[w]) {
            int b = __builtin_ctzll(~id_used[w]);
            id_used[w] |= 1ULL << b;
            id = (int)(w * 64) + b;
        }
    if (id < 0) {
        uint64_t *n = realloc(id_used, (id_words + 1) * sizeof(*n));
        if (n) {
            id_used = n;
            id_used[id_words] = 1;
            id = (int)(id_words * 64);
            id_words++;
        }
    }
    pthread_mutex_unlock(&id_lock);
    return id;
}

static void id_free(int id)
{
    if (id < 0)
        return;
    pthread_mutex_lock(&id_lock);
    id_used[id / 64] &= ~(1ULL << (id % 64));
    pthread_mutex_unlock(&id_lock);
}

static int nonblocking(struct file *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static ssize_t eventfd_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct eventfd *e = f->priv;
    if (len < sizeof(uint64_t))
        return -EINVAL;
    pthread_mutex_lock(&e->lock);
    while (e->count == 0) {
        int r =
            nonblocking(f) ? -EAGAIN : waitq_wait(current_task, &e->wq, &e->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            pthread_mutex_unlock(&e->lock);
            return r;
        }
    }
    uint64_t cnt = e->semaphore ? 1 : e->count;
    e->count -= cnt;
    pthread_mutex_unlock(&e->lock);
    wake_up_key(&e->wq, 1, POLLOUT);
    memcpy(buf, &cnt, sizeof(cnt));
    return sizeof(cnt);
}

static ssize_t eventfd_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct eventfd *e = f->priv;
    uint64_t add;
    if (len != sizeof(add))
        return -EINVAL;
    memcpy(&add, buf, sizeof(add));
    if (add == UINT64_MAX)
        return -EINVAL;
    pthread_mutex_lock(&e->lock);
    while (UINT64_MAX - e->count <= add) {
        int r =
            nonblocking(f) ? -EAGAIN : waitq_wait(current_task, &e->wq, &e->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            pthread_mutex_unlock(&e->lock);
            return r;
        }
    }
    e->count += add;
    pthread_mutex_unlock(&e->lock);
    wake_up_key(&e->wq, 1, POLLIN);
    return sizeof(add);
}

static unsigned eventfd_poll(struct file *f, struct poll_table *pt)
{
    struct eventfd *e = f->priv;
    if (pt)
        poll_wait(pt, &e->wq);
    pthread_mutex_lock(&e->lock);
    uint64_t count = e->count;
    pthread_mutex_unlock(&e->lock);
    unsigned ev = 0;
    if (count > 0)
        ev |= POLLIN;
    if (count == UINT64_MAX)
        ev |= POLLERR;
    if (UINT64_MAX - 1 > count)
        ev |= POLLOUT;
    return ev;
}

static int eventfd_fdinfo(struct file *f, char *buf, size_t len)
{
    struct eventfd *e = f->priv;
    pthread_mutex_lock(&e->lock);
    unsigned long long count = e->count;
    pthread_mutex_unlock(&e->lock);
    return fdinfo_printf(buf, len, "eventfd-count: %16llx\neventfd-id: %d\neventfd-semaphore: %d\n",
                         count, e->id, e->semaphore);
}

static void eventfd_release(struct file *f)
{
    struct eventfd *e = f->priv;
    id_free(e->id);
    waitq_destroy(&e->wq);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static const struct file_ops eventfd_ops = {
    .name = "eventfd",
    .read = eventfd_read,
    .write = eventfd_write,
    .stat = anon_inode_stat,
    .poll = eventfd_poll,
    .release = eventfd_release,
    .fdinfo = eventfd_fdinfo,
    .read_empty = 1,
    .read_whole = 1,
    .write_segments = 1,
    .write_size = sizeof(uint64_t),
};

struct file *eventfd_file(unsigned count, int flags)
{
    struct eventfd *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    struct file *f = file_new(&eventfd_ops, O_RDWR | (flags & O_NONBLOCK));
    if (!f) {
        free(e);
        return NULL;
    }
    pthread_mutex_init(&e->lock, NULL);
    waitq_init(&e->wq);
    e->count = count;
    e->semaphore = !!(flags & EVENTFD_SEMAPHORE);
    e->id = id_alloc();
    f->fmode |= FMODE_STREAM | FMODE_NOOP_LLSEEK;
    f->priv = e;
    return f;
}
