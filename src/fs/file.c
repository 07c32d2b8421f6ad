/* Open file descriptions, reference counting, and the fd table. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file.h"

struct file *file_new(const struct file_ops *ops, int flags)
{
    struct file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ops = ops;
    f->refs = 1;
    f->flags = flags;
    f->host_fd = -1;
    pthread_mutex_init(&f->pos_lock, NULL);
    return f;
}

void file_get(struct file *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

void file_put(struct file *f)
{
    if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (f->ops->release)
        f->ops->release(f);
    pthread_mutex_destroy(&f->pos_lock);
    free(f);
}

struct fdtable *fdtable_new(void)
{
    struct fdtable *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->refs = 1;
    return t;
}

void fdtable_put(struct fdtable *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (int i = 0; i < t->n; i++)
        file_put(t->fd[i].f);
    free(t->fd);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct file *fd_get(struct fdtable *t, int fd)
{
    struct file *f = NULL;
    pthread_mutex_lock(&t->lock);
    if (fd >= 0 && fd < t->n && t->fd[fd].f) {
        f = t->fd[fd].f;
        file_get(f);
    }
    pthread_mutex_unlock(&t->lock);
    return f;
}

int fd_install_at(struct fdtable *t, int fd, struct file *f, int cloexec)
{
    if (fd < 0)
        return -EBADF;
    pthread_mutex_lock(&t->lock);
    if (fd >= t->n) {
        int n = t->n ? t->n : 64;
        while (n <= fd)
            n *= 2;
        struct fd_entry *e = realloc(t->fd, (size_t)n * sizeof(*e));
        if (!e) {
            pthread_mutex_unlock(&t->lock);
            return -ENOMEM;
        }
        memset(e + t->n, 0, (size_t)(n - t->n) * sizeof(*e));
        t->fd = e;
        t->n = n;
    }
    struct file *old = t->fd[fd].f;
    t->fd[fd].f = f;
    t->fd[fd].cloexec = cloexec;
    pthread_mutex_unlock(&t->lock);
    file_put(old);
    return fd;
}

int fd_close(struct fdtable *t, int fd)
{
    pthread_mutex_lock(&t->lock);
    if (fd < 0 || fd >= t->n || !t->fd[fd].f) {
        pthread_mutex_unlock(&t->lock);
        return -EBADF;
    }
    struct file *f = t->fd[fd].f;
    t->fd[fd].f = NULL;
    pthread_mutex_unlock(&t->lock);
    file_put(f);
    return 0;
}
