/* read, write, readv, writev, fstat, newfstatat, ioctl, readlink(at):
 * validate, copy in, call the file, copy out. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "fs/file.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define MAX_RW_COUNT (INT_MAX & ~4095L)
#define RW_CHUNK (64 * 1024)
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

/* The file at fd, open for reading (write = 0) or writing (write = 1) and
 * able to do it; else NULL with EBADF (not open that way) or EINVAL (the file
 * type cannot), as vfs_read and vfs_write check. */
static struct file *get_rw(struct task *t, int write, int fd, long *err)
{
    struct file *f = fd_get(t->proc->files, fd);
    *err = -EBADF;
    if (!f)
        return NULL;
    if ((f->flags & O_ACCMODE) == (write ? O_RDONLY : O_WRONLY)) {
        file_put(f);
        return NULL;
    }
    if (write ? !f->ops->write : !f->ops->read) {
        *err = -EINVAL;
        file_put(f);
        return NULL;
    }
    return f;
}

/* Read up to len bytes of f into guest memory at buf. */
static long do_read(struct task *t, struct file *f, uint64_t buf, size_t len)
{
    /* vfs_read/vfs_write check access_ok before clamping the count. */
    if (!guest_range_ok(buf, len))
        return -EFAULT;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (len == 0)
        return 0;
    size_t cap = len < RW_CHUNK ? len : RW_CHUNK;
    char *tmp = malloc(cap);
    if (!tmp)
        return -ENOMEM;
    ssize_t n = f->ops->read(f, tmp, cap);
    if (n > 0) {
        /* Like copy_to_user: a short copy is a short read, none is EFAULT. */
        long c = copy_out_partial(t, buf, tmp, (size_t)n);
        n = c > 0 ? c : -EFAULT;
    }
    free(tmp);
    return n;
}

/* Write len bytes of guest memory at buf to f, a chunk at a time. */
static long do_write(struct task *t, struct file *f, uint64_t buf, size_t len)
{
    /* vfs_read/vfs_write check access_ok before clamping the count. */
    if (!guest_range_ok(buf, len))
        return -EFAULT;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (len == 0)
        return 0;
    size_t cap = len < RW_CHUNK ? len : RW_CHUNK;
    char *tmp = malloc(cap);
    if (!tmp)
        return -ENOMEM;
    long done = 0;
    while ((size_t)done < len) {
        size_t n = len - (size_t)done < cap ? len - (size_t)done : cap;
        long c = copy_in_partial(t, tmp, buf + (uint64_t)done, n);
        if (c <= 0) {
            if (done == 0)
                done = -EFAULT;
            break;
        }
        ssize_t w = f->ops->write(f, tmp, (size_t)c);
        if (w < 0) {
            if (done == 0)
                done = w;
            break;
        }
        done += w;
        if ((size_t)w < n)
            break; /* short write, or the guest buffer ended in a fault */
    }
    free(tmp);
    return done;
}

long sys_read(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 0, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_read(t, f, a->a[1], a->a[2]);
    file_put(f);
    return r;
}

long sys_write(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 1, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_write(t, f, a->a[1], a->a[2]);
    file_put(f);
    return r;
}

/* Copy in and check an iovec array as import_iovec does; returns the total. */
static long import_iov(struct task *t, uint64_t uiov, uint64_t cnt, struct iovec **out)
{
    *out = NULL;
    if (cnt > UIO_MAXIOV)
        return -EINVAL;
    if (cnt == 0)
        return 0;
    struct iovec *iov = malloc(cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    if (copy_in(t, iov, uiov, cnt * sizeof(*iov)) < 0) {
        free(iov);
        return -EFAULT;
    }
    long total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((ssize_t)iov[i].iov_len < 0) {
            free(iov);
            return -EINVAL;
        }
        if (!guest_range_ok((uint64_t)(uintptr_t)iov[i].iov_base, iov[i].iov_len)) {
            free(iov);
            return -EFAULT;
        }
        if (iov[i].iov_len > (size_t)(MAX_RW_COUNT - total))
            iov[i].iov_len = (size_t)(MAX_RW_COUNT - total);
        total += (long)iov[i].iov_len;
    }
    *out = iov;
    return total;
}

long sys_readv(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 0, (int)a->a[0], &err);
    if (!f)
        return err;
    struct iovec *iov;
    long total = import_iov(t, a->a[1], a->a[2], &iov);
    if (total <= 0) {
        free(iov);
        file_put(f);
        return total;
    }
    size_t cap = (size_t)total < RW_CHUNK ? (size_t)total : RW_CHUNK;
    char *tmp = malloc(cap);
    long r = -ENOMEM;
    if (tmp) {
        r = f->ops->read(f, tmp, cap);
        /* Scatter what was read over the iovecs. */
        size_t off = 0;
        for (uint64_t i = 0; r > 0 && off < (size_t)r && i < a->a[2]; i++) {
            size_t n = iov[i].iov_len < (size_t)r - off ? iov[i].iov_len : (size_t)r - off;
            if (n && copy_out(t, (uint64_t)(uintptr_t)iov[i].iov_base, tmp + off, n) < 0) {
                r = off ? (long)off : -EFAULT;
                break;
            }
            off += n;
        }
    }
    free(tmp);
    free(iov);
    file_put(f);
    return r;
}

long sys_writev(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 1, (int)a->a[0], &err);
    if (!f)
        return err;
    struct iovec *iov;
    long total = import_iov(t, a->a[1], a->a[2], &iov);
    if (total <= 0) {
        free(iov);
        file_put(f);
        return total;
    }
    /* Gather into one buffer so the write is one host write (pipes, ttys). */
    size_t cap = (size_t)total < (1 << 20) ? (size_t)total : (1 << 20);
    char *tmp = malloc(cap);
    long r = -ENOMEM;
    if (tmp) {
        size_t off = 0;
        r = 0;
        for (uint64_t i = 0; i < a->a[2] && off < cap; i++) {
            size_t n = iov[i].iov_len < cap - off ? iov[i].iov_len : cap - off;
            if (n && copy_in(t, tmp + off, (uint64_t)(uintptr_t)iov[i].iov_base, n) < 0) {
                if (off == 0)
                    r = -EFAULT;
                break;
            }
            off += n;
        }
        if (r == 0 && off > 0)
            r = f->ops->write(f, tmp, off);
    }
    free(tmp);
    free(iov);
    file_put(f);
    return r;
}

static long stat_fd(struct task *t, int fd, uint64_t ubuf)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    struct stat st;
    memset(&st, 0, sizeof(st));
    long r = f->ops->stat ? f->ops->stat(f, &st) : -EINVAL;
    file_put(f);
    if (r < 0)
        return r;
    return copy_out(t, ubuf, &st, sizeof(st)) < 0 ? -EFAULT : 0;
}

long sys_fstat(struct task *t, const struct sysargs *a)
{
    return stat_fd(t, (int)a->a[0], a->a[1]);
}

long sys_newfstatat(struct task *t, const struct sysargs *a)
{
    int dirfd = (int)a->a[0];
    int flags = (int)a->a[3];
    char path[PATH_MAX];
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    long n = strncpy_in(t, path, a->a[1], sizeof(path));
    if (n < 0)
        return n;
    if (n == 0) {
        if (!(flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (dirfd == AT_FDCWD)
            return -ENOENT; /* no file system yet: the cwd is not modelled */
        return stat_fd(t, dirfd, a->a[2]);
    }
    return -ENOENT; /* paths come with the file system */
}

long sys_ioctl(struct task *t, const struct sysargs *a)
{
    int fd = (int)a->a[0];
    unsigned long req = (unsigned int)a->a[1];
    uint64_t arg = a->a[2];
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    long r;
    switch (req) {
    case FIOCLEX:
    case FIONCLEX: {
        struct fdtable *ft = t->proc->files;
        pthread_mutex_lock(&ft->lock);
        if (fd < ft->n && ft->fd[fd].f == f)
            ft->fd[fd].cloexec = req == FIOCLEX;
        pthread_mutex_unlock(&ft->lock);
        r = 0;
        break;
    }
    case FIONBIO: {
        int on;
        r = copy_in(t, &on, arg, sizeof(on)) < 0 ? -EFAULT : 0;
        if (r == 0 && on)
            __atomic_fetch_or(&f->flags, O_NONBLOCK, __ATOMIC_RELAXED);
        else if (r == 0)
            __atomic_fetch_and(&f->flags, ~O_NONBLOCK, __ATOMIC_RELAXED);
        break;
    }
    default:
        r = f->ops->ioctl ? f->ops->ioctl(t, f, req, arg) : -ENOTTY;
        break;
    }
    file_put(f);
    return r;
}

/* readlink of a path: only /proc/self/exe exists before the file system. */
static long do_readlink(struct task *t, uint64_t upath, uint64_t ubuf, int64_t bufsiz)
{
    char path[PATH_MAX];
    if (bufsiz <= 0)
        return -EINVAL;
    long n = strncpy_in(t, path, upath, sizeof(path));
    if (n < 0)
        return n;
    if (n == 0)
        return -ENOENT;
    char self[64];
    snprintf(self, sizeof(self), "/proc/%d/exe", t->proc->pid);
    if (strcmp(path, "/proc/self/exe") != 0 && strcmp(path, self) != 0 &&
        strcmp(path, "/proc/thread-self/exe") != 0)
        return -ENOENT;
    const char *exe = t->proc->mm->exe;
    size_t len = strlen(exe);
    if (len > (uint64_t)bufsiz)
        len = (size_t)bufsiz;
    if (copy_out(t, ubuf, exe, len) < 0)
        return -EFAULT;
    return (long)len;
}

long sys_readlink(struct task *t, const struct sysargs *a)
{
    return do_readlink(t, a->a[0], a->a[1], (int)a->a[2]);
}

long sys_readlinkat(struct task *t, const struct sysargs *a)
{
    return do_readlink(t, a->a[1], a->a[2], (int)a->a[3]);
}
