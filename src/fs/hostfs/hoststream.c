/* Host streams: the guest's standard input, output and error, backed by
 * descriptors of the sentry (duplicated at start-up, so the guest closing
 * fd 1 closes only its own reference).
 *
 * What the guest learns of them is the sandbox's, not the host's: fstat
 * gives the host object's type, mode, owner, size and times but a device
 * and inode number of the sentry (a host pipe is a pipefs inode with a
 * number from pipefs's counter; anything else an inode of a "hoststream"
 * file system with an anonymous device), and /proc/PID/fd/N reads
 *   pipe:[N]     a host pipe or FIFO (N is the st_ino fstat gives),
 *   socket:[N]   a host socket,
 *   /dev/null    (zero, full, random, urandom, tty) a host character
 *                device that the guest's /dev has under that name,
 *   host:[N]     anything else: a terminal (the guest's /dev/pts has no
 *                such name), a regular file or a directory on the host,
 *                as gVisor names the host descriptors it is given.
 * Never the host's path: the sandbox may have been started with its
 * output going to a file anywhere on the host.
 *
 * A read, write or poll that must wait for a pipe, terminal or socket
 * sleeps on the host object's queue, which the host-readiness reactor
 * wakes (include/sched/reactor.h): never in a host call. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "base.h"
#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/file/poll.h"
#include "fs/vfs/vfs.h"
#include "sched/reactor.h"
#include "sentry/kernel.h"

/* The host descriptor's own offset is the position (it is shared with
 * whoever started sandbox-run, as a file's offset would be); pread and
 * pwrite (pos not the file's) use their explicit offset. */
static ssize_t hs_stream_io(struct file *f, char *buf, size_t len, int wr);
static unsigned hs_poll(struct file *f, struct poll_table *pt);

static ssize_t hs_io(struct file *f, void *buf, size_t len, off_t *pos, int wr)
{
    int positioned = pos != &f->pos && !(f->fmode & FMODE_STREAM);
    ssize_t n;
    /* A terminal, pipe or socket can keep the call waiting: it waits in
     * the sentry, where a signal ends it (hs_stream_io). */
    if (!positioned && !S_ISREG(f->inode->mode))
        return hs_stream_io(f, buf, len, wr);
    if (positioned)
        n = wr ? pwrite(f->host_fd, buf, len, *pos) : pread(f->host_fd, buf, len, *pos);
    else
        n = wr ? write(f->host_fd, buf, len) : read(f->host_fd, buf, len);
    if (n < 0)
        return -errno;
    if (positioned)
        *pos += n;
    return n;
}

static ssize_t hs_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    return hs_io(f, buf, len, pos, 0);
}

static ssize_t hs_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    return hs_io(f, (void *)buf, len, pos, 1);
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

/* The host's attributes with the sandbox's device and inode number. */
static int hs_fstat(int host_fd, const struct inode *i, struct stat *st)
{
    if (fstat(host_fd, st) < 0)
        return -errno;
    st->st_dev = i->sb->dev;
    st->st_ino = i->ino;
    return 0;
}

static int hs_stat(struct file *f, struct stat *st)
{
    return hs_fstat(f->host_fd, f->inode, st);
}

static long hs_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct task *t = current_task;
    switch (req) {
    case TCGETS: {
        struct termios
            tio; /* the kernel's struct termios (asm-generic) layout as glibc defines it */
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

/* What a wait for a host object needs: the reactor's watch of it and
 * whether the host takes RWF_NOWAIT there. */
struct hs_wait {
    struct host_watch watch;
    int no_nowait; /* the host refuses RWF_NOWAIT (a terminal); atomic */
};

static void hs_release(struct file *f)
{
    struct hs_wait *w = f->priv; /* a file of its own (hs_wait_of) */
    if (w) {
        host_watch_fini(&w->watch);
        free(w);
    }
    close(f->host_fd);
}

static const struct file_ops hoststream_ops = {
    .name = "hoststream",
    .read = hs_read,
    .write = hs_write,
    .poll = hs_poll,
    .llseek = hs_llseek,
    .fsync = hs_fsync,
    .stat = hs_stat,
    .ioctl = hs_ioctl,
    .release = hs_release,
};

/* A host object the host cannot poll (a regular file, /dev/null): no poll
 * operation, so that epoll refuses it (EPERM) and poll finds it always
 * ready, as natively. */
static const struct file_ops hoststream_nopoll_ops = {
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
 * access than the sandbox was given for it. One inode per host object, so
 * that fds 1 and 2 that are one host pipe or terminal (2>&1) are one file
 * to fstat, as natively. */
struct hs_inode {
    struct inode vfs;
    int fd;                  /* the sentry's descriptor */
    int may_read, may_write; /* what some stream of this object allows */
    dev_t host_dev;          /* the host object, to find it again */
    ino_t host_ino;
    struct hs_inode *next; /* in hs_list */
    struct hs_wait wait;   /* of fd: the reactor wakes its queue */
    int can_poll;          /* the host can wait for it (host_fd_can_poll) */
};

static pthread_mutex_t hs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hs_inode *hs_list;
static struct super_block *hs_sb;

static struct hs_inode *HSI(struct inode *i)
{
    return container_of(i, struct hs_inode, vfs);
}

/* ---- waiting for the host object ---- */

/* The host descriptor has one of events (or an error or hang-up, which
 * the host call then reports), by a poll with a zero timeout. */
static int hs_ready(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    return poll(&p, 1, 0) != 0;
}

static const struct inode_ops hs_iops;

/* The wait of f's host object: its inode's. A file of the host object
 * with an inode of another file system (the guest's /dev/tty opened on
 * the host terminal, src/sentry/tty.c) gets one of its own at its first
 * wait, kept in f->priv until its release. NULL without memory. */
static struct hs_wait *hs_wait_of(struct file *f)
{
    if (f->inode && f->inode->ops == &hs_iops)
        return &HSI(f->inode)->wait;
    void *have = __atomic_load_n(&f->priv, __ATOMIC_ACQUIRE);
    if (have)
        return have;
    struct hs_wait *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    host_watch_init(&w->watch, f->host_fd);
    if (!__atomic_compare_exchange_n(&f->priv, &have, w, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        host_watch_fini(&w->watch); /* another thread's came first */
        free(w);
        return have;
    }
    return w;
}

/* One host read or write that does not wait: -EAGAIN where it would. A
 * pipe or socket takes RWF_NOWAIT (whatever the shared host description's
 * O_NONBLOCK); a terminal refuses it (*no_nowait), and is asked with a
 * poll first. */
static ssize_t hs_try(int *no_nowait, int fd, char *buf, size_t len, int wr)
{
    ssize_t n;
    if (!__atomic_load_n(no_nowait, __ATOMIC_RELAXED)) {
        struct iovec v = { buf, len };
        n = wr ? pwritev2(fd, &v, 1, -1, RWF_NOWAIT) : preadv2(fd, &v, 1, -1, RWF_NOWAIT);
        if (n >= 0 || errno != EOPNOTSUPP)
            return n < 0 ? -errno : n;
        __atomic_store_n(no_nowait, 1, __ATOMIC_RELAXED);
    }
    if (!hs_ready(fd, wr ? POLLOUT : POLLIN))
        return -EAGAIN;
    n = wr ? write(fd, buf, len) : read(fd, buf, len);
    return n < 0 ? -errno : n;
}

/* Sleep on the object's reactor queue until it is woken (0: try again) or
 * the task is interrupted (-ERESTARTSYS); 1 if the host cannot watch the
 * object (the call may then wait in the host). Hooked and watched before
 * the last check, so a change after it is a wake-up (as Linux's poll).
 * WAIT_SPIN: while data flows through a host pipe, the other end's next
 * read or write comes soon, and a spin saves a sleep and a wake-up per
 * pipeful (once per wait: an idle stream still costs nothing). */
static int hs_wait(struct host_watch *hw, int fd, short events)
{
    struct task *t = current_task;
    struct waiter w;
    if (!hw)
        return 1;
    waiter_init_task(&w, t);
    task_sleep_prepare(t);
    waitq_add(&hw->wq, &w);
    int r = host_watch_start(hw) < 0 ? 1 : 0;
    if (r == 0 && !hs_ready(fd, events))
        r = task_sleep(t, NULL, WAIT_SPIN);
    waitq_remove(&w);
    return r;
}

/* A read or write of a terminal, pipe, socket or device, blocking unless
 * the file is O_NONBLOCK: tried without waiting, then after each wake-up
 * of the object's queue. A write goes on until all of it is written, as
 * Linux's pipe_write, and a signal ends it with what was written so far
 * (-ERESTARTSYS if nothing); a read returns what it got. */
static ssize_t hs_stream_io(struct file *f, char *buf, size_t len, int wr)
{
    struct hs_wait *hw = hs_wait_of(f);
    int nowait_none = 0; /* without a wait: ask the host each time */
    int *no_nowait = hw ? &hw->no_nowait : &nowait_none;
    size_t done = 0;
    for (;;) {
        ssize_t n = hs_try(no_nowait, f->host_fd, buf + done, len - done, wr);
        if (n >= 0) {
            done += (size_t)n;
            if (!wr || n == 0 || done == len)
                return (ssize_t)done;
            continue;
        }
        if (n == -EAGAIN && !(f->flags & O_NONBLOCK)) {
            int r = hs_wait(hw ? &hw->watch : NULL, f->host_fd, wr ? POLLOUT : POLLIN);
            if (r == 0)
                continue;
            if (r == 1) { /* nothing to wait on: the host call waits */
                n = wr ? write(f->host_fd, buf + done, len - done)
                       : read(f->host_fd, buf + done, len - done);
                if (n >= 0)
                    return (ssize_t)(done + (size_t)n);
                n = -errno;
            } else {
                n = r;
            }
        }
        return done ? (ssize_t)done : n;
    }
}

/* Readiness from the host (a zero-timeout poll, every event asked: the
 * caller masks); a poller is hooked on the object's reactor queue. */
static unsigned hs_poll(struct file *f, struct poll_table *pt)
{
    struct hs_wait *hw = hs_wait_of(f);
    unsigned always = 0;
    if (pt) {
        int r = -ENOMEM;
        if (hw) {
            poll_wait(pt, &hw->watch.wq);
            r = host_watch_start(&hw->watch);
        }
        /* Not watched for want of memory or a thread: ready, so that no
         * poller sleeps for ever (what the host refuses to watch, EPERM,
         * is ready by the host's poll). */
        if (r < 0 && r != -EPERM)
            always = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    }
    struct pollfd p = { .fd = f->host_fd,
                        .events = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND |
                                  POLLWRNORM | POLLWRBAND | POLLRDHUP };
    return (poll(&p, 1, 0) > 0 ? (unsigned)p.revents : 0) | always;
}

static int hsi_getattr(struct inode *i, struct stat *st)
{
    return hs_fstat(HSI(i)->fd, i, st);
}

static int hsi_open(struct inode *i, struct file *f, int flags)
{
    struct hs_inode *h = HSI(i);
    int acc = flags & O_ACCMODE;
    if ((acc != O_WRONLY && !h->may_read) || (acc != O_RDONLY && !h->may_write))
        return -EACCES;
    int fd = host_reopen(h->fd, (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY);
    if (fd < 0)
        return fd;
    f->host_fd = fd;
    f->ops = i->fops; /* the stream's, or a terminal's (src/sentry/tty.c) */
    if (lseek(fd, 0, SEEK_CUR) < 0)
        f->fmode |= FMODE_STREAM;
    return 0;
}

static void hsi_evict(struct inode *i)
{
    struct hs_inode *h = HSI(i);
    pthread_mutex_lock(&hs_lock);
    for (struct hs_inode **pp = &hs_list; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    pthread_mutex_unlock(&hs_lock);
    host_watch_fini(&h->wait.watch);
    close(h->fd);
    free(h);
}

static const struct inode_ops hs_iops = {
    .getattr = hsi_getattr,
    .open = hsi_open,
    .evict = hsi_evict,
};

static const struct fs_type hoststream_fs = { .name = "hoststream", .nodev = 1 };

/* Character devices the guest's /dev has by the same name. */
static const char *guest_dev_name(dev_t rdev)
{
    static const struct {
        unsigned ma, mi;
        const char *name;
    } devs[] = {
        { 1, 3, "/dev/null" },   { 1, 5, "/dev/zero" },    { 1, 7, "/dev/full" },
        { 1, 8, "/dev/random" }, { 1, 9, "/dev/urandom" }, { 5, 0, "/dev/tty" },
    };
    for (size_t k = 0; k < sizeof(devs) / sizeof(devs[0]); k++)
        if (major(rdev) == devs[k].ma && minor(rdev) == devs[k].mi)
            return devs[k].name;
    return NULL;
}

/* The inode for the host object of host_fd (st), found or made, with a
 * reference; NULL without memory. Under hs_lock. Streams are made at
 * start-up only, before any could be closed, so a listed inode is alive. */
static struct hs_inode *hs_inode_get(int host_fd, const struct stat *st, int acc)
{
    for (struct hs_inode *h = hs_list; h; h = h->next)
        if (h->host_dev == st->st_dev && h->host_ino == st->st_ino) {
            inode_get(&h->vfs);
            h->may_read |= acc != O_WRONLY;
            h->may_write |= acc != O_RDONLY;
            return h;
        }
    struct super_block *sb =
        S_ISFIFO(st->st_mode) ? pipefs_super() : sb_kern(&hoststream_fs, &hs_sb);
    struct hs_inode *h = sb ? calloc(1, sizeof(*h)) : NULL;
    if (!h)
        return NULL;
    h->fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 10);
    if (h->fd < 0) {
        free(h);
        return NULL;
    }
    host_watch_init(&h->wait.watch, h->fd);
    h->can_poll = host_fd_can_poll(h->fd);
    h->may_read = acc != O_WRONLY;
    h->may_write = acc != O_RDONLY;
    h->host_dev = st->st_dev;
    h->host_ino = st->st_ino;
    uint64_t ino = __atomic_fetch_add(&sb->next_ino, 1, __ATOMIC_RELAXED);
    inode_init(&h->vfs, sb, &hs_iops, h->can_poll ? &hoststream_ops : &hoststream_nopoll_ops, ino,
               st->st_mode);
    h->vfs.uid = st->st_uid;
    h->vfs.gid = st->st_gid;
    h->vfs.rdev = st->st_rdev;
    h->next = hs_list;
    hs_list = h;
    return h;
}

/* Give f its inode and an anonymous dentry named as described at the top. */
static int hoststream_name(struct file *f, int host_fd, int acc)
{
    struct stat st;
    if (fstat(host_fd, &st) < 0)
        return -errno;
    pthread_mutex_lock(&hs_lock);
    struct hs_inode *h = hs_inode_get(host_fd, &st, acc);
    pthread_mutex_unlock(&hs_lock);
    if (!h)
        return -ENOMEM;
    char name[64];
    const char *dev = S_ISCHR(st.st_mode) ? guest_dev_name(st.st_rdev) : NULL;
    unsigned long long ino = (unsigned long long)h->vfs.ino;
    if (S_ISFIFO(st.st_mode))
        snprintf(name, sizeof(name), "pipe:[%llu]", ino);
    else if (S_ISSOCK(st.st_mode))
        snprintf(name, sizeof(name), "socket:[%llu]", ino);
    else if (dev)
        snprintf(name, sizeof(name), "%s", dev);
    else
        snprintf(name, sizeof(name), "host:[%llu]", ino);
    inode_get(&h->vfs);
    struct dentry *d = d_make_root(&h->vfs, name); /* takes that reference */
    if (!d) {
        inode_put(&h->vfs); /* the one f would have held */
        return -ENOMEM;
    }
    f->inode = &h->vfs;
    f->dentry = d;
    f->ops = h->vfs.fops;
    return 0;
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
    /* Without its inode the stream would have nothing but the host's
     * numbers to show: not opened at all then. */
    if (hoststream_name(f, fd, flags & O_ACCMODE) < 0) {
        file_put(f);
        return NULL;
    }
    return f;
}
