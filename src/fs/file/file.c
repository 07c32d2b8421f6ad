/* Open file descriptions and their reference counting. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/inotify.h>
#include <sys/stat.h>

#include "fs/file/file.h"
#include "fs/file/lock.h"
#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"
#include "sentry/creds.h"

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

/* Move *count one step by delta unless its sign forbids it (a writer
 * while denied, a denial while written). */
static int step_unless(int *count, int delta)
{
    int v = __atomic_load_n(count, __ATOMIC_RELAXED);
    do {
        if (delta > 0 ? v < 0 : v > 0)
            return -ETXTBSY;
    } while (
        !__atomic_compare_exchange_n(count, &v, v + delta, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    return 0;
}

int file_count_writer(struct file *f)
{
    int acc = f->flags & O_ACCMODE;
    if (!f->inode || !S_ISREG(f->inode->mode) || (acc != O_WRONLY && acc != O_RDWR) ||
        (f->fmode & FMODE_WRITER))
        return 0;
    int r = step_unless(&f->inode->writers, 1);
    if (r == 0)
        f->fmode |= FMODE_WRITER;
    return r;
}

int inode_deny_write(struct inode *i)
{
    return step_unless(&i->writers, -1);
}

void inode_allow_write(struct inode *i)
{
    __atomic_add_fetch(&i->writers, 1, __ATOMIC_RELAXED);
}

int inode_has_writers(const struct inode *i)
{
    return __atomic_load_n(&i->writers, __ATOMIC_RELAXED) > 0;
}

void file_get(struct file *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

static void notify_file(struct file *f, uint32_t mask)
{
    if (f->inode && (f->fmode & FMODE_NOTIFY))
        fsnotify_path_event(f->inode, f->dentry, mask);
}

void fsnotify_open(struct file *f)
{
    if (!f->inode || (f->fmode & FMODE_PATH))
        return;
    f->fmode |= FMODE_NOTIFY;
    notify_file(f, IN_OPEN);
}

void fsnotify_access(struct file *f)
{
    notify_file(f, IN_ACCESS);
}

void fsnotify_modify(struct file *f)
{
    notify_file(f, IN_MODIFY);
}

void fsnotify_close(struct file *f)
{
    if (!(f->fmode & FMODE_NOTIFY) || !fsnotify_watching())
        return;
    notify_file(f, file_writable(f) ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
    fsnotify_last_close(f->inode, f->dentry);
}

void file_put(struct file *f)
{
    if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    fsnotify_close(f); /* first, as Linux's __fput */
    if (f->ep_release)
        f->ep_release(f); /* epoll items go with the open file description */
    if (f->inode)
        lock_release_file(f); /* its OFD and flock locks go with it */
    if (f->ops && f->ops->release)
        f->ops->release(f);
    else if (f->host_fd >= 0)
        close(f->host_fd);
    if (f->dentry)
        dput(f->dentry);
    if (f->fmode & FMODE_WRITER)
        __atomic_sub_fetch(&f->inode->writers, 1, __ATOMIC_RELAXED);
    if (f->inode)
        inode_put(f->inode);
    creds_put(f->opener);
    pthread_mutex_destroy(&f->pos_lock);
    free(f);
}

off_t file_llseek_size(struct file *f, off_t off, int whence, off_t size, off_t maxbytes)
{
    off_t base;
    switch (whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = f->pos;
        break;
    case SEEK_END:
        base = size;
        break;
    case SEEK_DATA:
    case SEEK_HOLE:
        /* Without holes: data everywhere below the size, one hole at the end. */
        if (off < 0 || off >= size)
            return -ENXIO;
        return whence == SEEK_DATA ? off : size;
    default:
        return -EINVAL;
    }
    off_t r;
    if (__builtin_add_overflow(base, off, &r) || r < 0 || r > maxbytes)
        return -EINVAL;
    return r;
}

off_t file_generic_llseek(struct file *f, off_t off, int whence)
{
    off_t size = 0;
    if (whence == SEEK_END || whence == SEEK_DATA || whence == SEEK_HOLE) {
        struct stat st;
        int r = f->ops->stat ? f->ops->stat(f, &st)
                : f->inode   ? vfs_getattr(f->inode, &st)
                             : -EINVAL;
        if (r < 0)
            return r;
        size = st.st_size;
    }
    off_t r = file_llseek_size(f, off, whence, size, INT64_MAX);
    if (r >= 0)
        f->pos = r;
    return r;
}

int host_reopen(int host_fd, int flags)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", host_fd);
    int fd = open(p, flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int fdinfo_printf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? 0 : n;
}

int file_noop_fsync(struct file *f, int datasync)
{
    (void)f, (void)datasync;
    return 0;
}
