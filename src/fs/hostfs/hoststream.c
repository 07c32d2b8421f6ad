/* Host streams: the guest's standard input, output and error, backed by
 * descriptors of the sentry (duplicated at start-up, so the guest closing
 * fd 1 closes only its own reference). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <stdio.h>
#include <string.h>

#include "base.h"
#include "fs/file.h"
#include "fs/vfs.h"
#include "sentry/kernel.h"

/* The host descriptor's own offset is the position (it is shared with
 * whoever started sandbox-run, as a file's offset would be); pread and
 * pwrite (pos not the file's) use their explicit offset. */
static ssize_t hs_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    ssize_t n;
    if (pos != &f->pos && !(f->fmode & FMODE_STREAM)) {
        n = pread(f->host_fd, buf, len, *pos);
        if (n > 0)
            *pos += n;
        return n < 0 ? -errno : n;
    }
    n = read(f->host_fd, buf, len);
    return n < 0 ? -errno : n;
}

static ssize_t hs_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    ssize_t n;
    if (pos != &f->pos && !(f->fmode & FMODE_STREAM)) {
        n = pwrite(f->host_fd, buf, len, *pos);
        if (n > 0)
            *pos += n;
        return n < 0 ? -errno : n;
    }
    n = write(f->host_fd, buf, len);
    return n < 0 ? -errno : n;
}

static int hs_fsync(struct file *f, int datasync)
{
    int r = datasync ? fdatasync(f->host_fd) : fsync(f->host_fd);
    return r < 0 ? -errno : 0;
}

static off_t hs_llseek(struct file *f, off_t off, int whence)
{
    off_t r = lseek(f->host_fd, off, whence);
    return r < 0 ? -errno : r;
}

static int hs_stat(struct file *f, struct stat *st)
{
    return fstat(f->host_fd, st) < 0 ? -errno : 0;
}

static long hs_ioctl(struct task *t, struct file *f, unsigned long req, uint64_t arg)
{
    switch (req) {
    case TCGETS: {
        struct termios tio; /* the kernel's struct termios (asm-generic) layout as glibc defines it */
        if (ioctl(f->host_fd, TCGETS, &tio) < 0)
            return -errno;
        return copy_out(t, arg, &tio, 36) < 0 ? -EFAULT : 0;
    }
    case TIOCGWINSZ: {
        struct winsize ws;
        if (ioctl(f->host_fd, TIOCGWINSZ, &ws) < 0)
            return -errno;
        return copy_out(t, arg, &ws, sizeof(ws)) < 0 ? -EFAULT : 0;
    }
    default:
        return -ENOTTY;
    }
}

static void hs_release(struct file *f)
{
    close(f->host_fd);
}

static const struct file_ops hoststream_ops = {
    .name = "hoststream",
    .read = hs_read,
    .write = hs_write,
    .llseek = hs_llseek,
    .fsync = hs_fsync,
    .stat = hs_stat,
    .ioctl = hs_ioctl,
    .release = hs_release,
};

/* The inode behind a host stream, so that /proc/self/fd/N and /dev/stdin
 * can be opened again: a reopen of the same host object, never with more
 * access than the sandbox was given. */
struct hs_inode {
    struct inode vfs;
    int fd;                   /* the sentry's descriptor */
    int acc;                  /* its O_ACCMODE */
};

static struct hs_inode *HSI(struct inode *i)
{
    return container_of(i, struct hs_inode, vfs);
}

static int hsi_getattr(struct inode *i, struct stat *st)
{
    return fstat(HSI(i)->fd, st) < 0 ? -errno : 0;
}

static int hsi_open(struct inode *i, struct file *f, int flags)
{
    struct hs_inode *h = HSI(i);
    int acc = flags & O_ACCMODE;
    if ((acc != O_RDONLY && h->acc == O_RDONLY) || (acc != O_WRONLY && h->acc == O_WRONLY))
        return -EACCES;
    int fd = host_reopen(h->fd, (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY);
    if (fd < 0)
        return fd;
    f->host_fd = fd;
    f->ops = &hoststream_ops;
    if (lseek(fd, 0, SEEK_CUR) < 0)
        f->fmode |= FMODE_STREAM;
    return 0;
}

static void hsi_evict(struct inode *i)
{
    close(HSI(i)->fd);
    free(HSI(i));
}

static const struct inode_ops hs_iops = {
    .getattr = hsi_getattr,
    .open = hsi_open,
    .evict = hsi_evict,
    .open_any_type = 1,
};

static const struct fs_type hoststream_fs = { .name = "hoststream", .nodev = 1 };

/* An anonymous dentry named as the host names the stream ("/dev/null",
 * "pipe:[123]"), over an inode that can reopen it. */
static void hoststream_name(struct file *f, int host_fd, int acc)
{
    static struct super_block *sb;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct stat st;
    if (fstat(host_fd, &st) < 0)
        return;
    pthread_mutex_lock(&lock);
    if (!sb)
        sb = sb_new(&hoststream_fs, st.st_dev, "hoststream");
    pthread_mutex_unlock(&lock);
    struct hs_inode *h = calloc(1, sizeof(*h));
    if (!sb || !h) {
        free(h);
        return;
    }
    h->fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 10);
    if (h->fd < 0) {
        free(h);
        return;
    }
    h->acc = acc;
    inode_init(&h->vfs, sb, &hs_iops, &hoststream_ops, st.st_ino, st.st_mode);
    h->vfs.uid = st.st_uid;
    h->vfs.gid = st.st_gid;
    h->vfs.rdev = st.st_rdev;
    char p[64], name[256];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", host_fd);
    ssize_t n = readlink(p, name, sizeof(name) - 1);
    name[n > 0 ? n : 0] = 0;
    struct dentry *d = d_make_root(&h->vfs, n > 0 ? name : "hoststream");
    if (!d)
        return;
    inode_get(&h->vfs);
    f->inode = &h->vfs;
    f->dentry = d;
}

struct file *hoststream_open(int host_fd)
{
    int flags = fcntl(host_fd, F_GETFL);
    if (flags < 0)
        return NULL;
    int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 10);
    if (fd < 0)
        return NULL;
    struct file *f = file_new(&hoststream_ops, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    if (!f) {
        close(fd);
        return NULL;
    }
    f->host_fd = fd;
    if (lseek(fd, 0, SEEK_CUR) < 0)
        f->fmode |= FMODE_STREAM; /* pipes, terminals, sockets */
    hoststream_name(f, fd, flags & O_ACCMODE);
    return f;
}
