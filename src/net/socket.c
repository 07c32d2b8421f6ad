/* The generic socket (include/net/socket.h): sockfs and its inodes, the
 * socket file's operations (read and write as recv and send with no
 * flags, poll, the socket ioctls, fstat, release), and the option and
 * timeout helpers every family uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "base.h"
#include "fs/file/devices.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "fs/vfs/vfs.h"
#include "net/socket.h"
#include "sched/wait.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"

#define SOCKFS_MAGIC 0x534F434B

/* ---- sockfs ---- */

static const struct fs_type sockfs_type = {
    .name = "sockfs",
    .magic = SOCKFS_MAGIC,
    .nodev = 1,
};

static struct super_block *sockfs_sb;

/* fstat of a socket: S_IFSOCK | 0777, owned by its creator's fsuid and
 * fsgid, one link, no size, no times (sockfs sets none). */
static int sockfs_getattr(struct inode *i, struct stat *st)
{
    inode_fillattr(i, st, 4096);
    return 0;
}

static void sockfs_evict(struct inode *i)
{
    free(i);
}

static const struct inode_ops sockfs_iops = {
    .getattr = sockfs_getattr,
    .evict = sockfs_evict,
};

/* ---- the socket file ---- */

static const struct file_ops socket_fops;

struct socket *sock_of(struct file *f)
{
    return f && f->ops == &socket_fops ? f->priv : NULL;
}

static int nonblocking(struct file *f)
{
    return (__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK) != 0;
}

/* What the task sending has as credentials: its pid and real ids. */
static void current_cred(struct sock_cred *c)
{
    struct task *t = current_task;
    memset(c, 0, sizeof(*c));
    if (t && t->proc && t->cred) {
        c->pid = t->proc->pid;
        c->uid = t->cred->uid;
        c->gid = t->cred->gid;
    }
}

/* read(2): recv with no flags; SCM_RIGHTS files that came with the data
 * are closed (no control buffer). */
static ssize_t sock_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct socket *s = f->priv;
    if (!s->ops->recvmsg)
        return -EINVAL;
    struct sock_msg m = { .buf = buf, .cap = len };
    ssize_t r = s->ops->recvmsg(s, &m, 0, nonblocking(f));
    for (int i = 0; i < m.nfds; i++)
        file_put(m.fds[i]);
    free(m.fds);
    return r;
}

/* write(2): send with no flags (the caller sends SIGPIPE for -EPIPE). */
static ssize_t sock_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct socket *s = f->priv;
    if (!s->ops->sendmsg)
        return -EINVAL;
    struct sock_msg m = { .buf = (char *)buf, .len = len };
    current_cred(&m.cred);
    return s->ops->sendmsg(s, &m, 0, nonblocking(f));
}

static unsigned sock_poll(struct file *f, struct poll_table *pt)
{
    struct socket *s = f->priv;
    return s->ops->poll ? s->ops->poll(s, pt) : 0;
}

static long sock_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct socket *s = f->priv;
    long v;
    switch (req) {
    case SIOCINQ:
        v = s->ops->inq ? s->ops->inq(s) : -ENOTTY;
        break;
    case SIOCOUTQ:
        v = s->ops->outq ? s->ops->outq(s) : -ENOTTY;
        break;
    default:
        return -ENOTTY;
    }
    if (v < 0)
        return v;
    int val = (int)v;
    return copy_out(current_task, arg, &val, sizeof(val)) < 0 ? -EFAULT : 0;
}

static int sock_stat(struct file *f, struct stat *st)
{
    return f->inode->ops->getattr(f->inode, st);
}

static void sock_release(struct file *f)
{
    struct socket *s = f->priv;
    if (s->ops->release)
        s->ops->release(s);
    sock_free(s);
}

static const struct file_ops socket_fops = {
    .name = "socket",
    .read = sock_read,
    .write = sock_write,
    .poll = sock_poll,
    .ioctl = sock_ioctl,
    .stat = sock_stat,
    .release = sock_release,
};

struct socket *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops)
{
    struct socket *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->family = family;
    s->type = type;
    s->protocol = protocol;
    s->ops = ops;
    s->sndbuf = SOCK_WMEM_DEFAULT;
    s->rcvbuf = SOCK_RMEM_DEFAULT;
    return s;
}

void sock_free(struct socket *s)
{
    free(s);
}

struct file *sock_file_new(struct socket *s, uint32_t fsuid, uint32_t fsgid, int nonblock)
{
    struct super_block *sb = sb_kern(&sockfs_type, &sockfs_sb);
    struct inode *i = sb ? calloc(1, sizeof(*i)) : NULL;
    if (!i)
        return NULL;
    uint64_t ino = __atomic_fetch_add(&sb->next_ino, 1, __ATOMIC_RELAXED);
    inode_init(i, sb, &sockfs_iops, NULL, ino, S_IFSOCK | 0777);
    /* Opening it again (/proc/PID/fd/N) is ENXIO, as Linux's sock_no_open. */
    init_special_inode(i, S_IFSOCK, 0);
    i->uid = fsuid;
    i->gid = fsgid;
    struct file *f = file_new(&socket_fops, O_RDWR | (nonblock ? O_NONBLOCK : 0));
    if (!f) {
        inode_put(i);
        return NULL;
    }
    f->fmode |= FMODE_STREAM;
    f->priv = s;
    f->inode = i; /* takes the reference inode_init made */
    s->file = f;
    return f;
}

/* ---- timeouts ---- */

const struct timespec *sock_deadline(int64_t ns, struct timespec *buf)
{
    if (ns <= 0)
        return NULL;
    wait_deadline_ns(buf, (uint64_t)ns);
    return buf;
}

int sock_wait_error(int r, int64_t timeo_ns)
{
    if (r == -ETIMEDOUT)
        return -EAGAIN;
    if (r == -ERESTARTSYS && timeo_ns > 0)
        return -EINTR;
    return r;
}
