/* The fd table: which open file each descriptor of a process names, and
 * descriptor lookup for the syscalls (fget). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "sentry/kernel.h"

struct fdtable *fdtable_new(void)
{
    struct fdtable *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->refs = 1;
    return t;
}

struct fdtable *fdtable_get(struct fdtable *t)
{
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
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

/* Make room for fd in the table; t->lock held. */
static int fd_grow(struct fdtable *t, int fd)
{
    if (fd < t->n)
        return 0;
    int n = t->n ? t->n : 64;
    while (n <= fd)
        n *= 2;
    struct fd_entry *e = realloc(t->fd, (size_t)n * sizeof(*e));
    if (!e)
        return -ENOMEM;
    memset(e + t->n, 0, (size_t)(n - t->n) * sizeof(*e));
    t->fd = e;
    t->n = n;
    return 0;
}

int fd_install_at(struct fdtable *t, int fd, struct file *f, int cloexec)
{
    if (fd < 0)
        return -EBADF;
    pthread_mutex_lock(&t->lock);
    if (fd_grow(t, fd) < 0) {
        pthread_mutex_unlock(&t->lock);
        return -ENOMEM;
    }
    struct file *old = t->fd[fd].f;
    t->fd[fd].f = f;
    t->fd[fd].cloexec = cloexec;
    pthread_mutex_unlock(&t->lock);
    file_put(old);
    return fd;
}

int fd_install(struct fdtable *t, int min, int limit, struct file *f, int cloexec)
{
    pthread_mutex_lock(&t->lock);
    int fd = min;
    while (fd < t->n && t->fd[fd].f)
        fd++;
    if (fd >= limit) {
        pthread_mutex_unlock(&t->lock);
        return -EMFILE;
    }
    if (fd_grow(t, fd) < 0) {
        pthread_mutex_unlock(&t->lock);
        return -ENOMEM;
    }
    t->fd[fd].f = f;
    t->fd[fd].cloexec = cloexec;
    pthread_mutex_unlock(&t->lock);
    return fd;
}

struct fdtable *fdtable_copy(struct fdtable *t)
{
    struct fdtable *n = fdtable_new();
    if (!n)
        return NULL;
    pthread_mutex_lock(&t->lock);
    n->fd = calloc((size_t)(t->n ? t->n : 1), sizeof(*n->fd));
    if (!n->fd) {
        pthread_mutex_unlock(&t->lock);
        fdtable_put(n);
        return NULL;
    }
    n->n = t->n;
    for (int i = 0; i < t->n; i++) {
        n->fd[i] = t->fd[i];
        if (n->fd[i].f)
            file_get(n->fd[i].f);
    }
    pthread_mutex_unlock(&t->lock);
    return n;
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

int fd_limit(struct task *t)
{
    uint64_t n = t->proc->rlim[RLIMIT_NOFILE].cur;
    return n > (1 << 20) ? (1 << 20) : (int)n;
}

int fd_install_new(struct task *t, struct file *f, int cloexec)
{
    int fd = fd_install(t->proc->files, 0, fd_limit(t), f, cloexec);
    if (fd < 0)
        file_put(f);
    return fd;
}

struct file *fget(struct task *t, int fd)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (f && (f->fmode & FMODE_PATH)) {
        file_put(f);
        return NULL;
    }
    return f;
}
