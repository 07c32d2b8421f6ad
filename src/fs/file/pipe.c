/* Pipes and FIFOs with Linux's semantics: a ring of page-sized slots
 * (capacity in slots, so partly filled pages count whole, as in Linux),
 * small writes merged into the last page, PIPE_BUF atomicity, packet mode,
 * the FIFO open rendezvous, F_SETPIPE_SZ, anonymous pipes on pipefs, and
 * the pipe halves of splice and tee. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "base.h"
#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/file/poll.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"

#define PIPEFS_MAGIC 0x50495045
#define O_NOTIFICATION_PIPE O_EXCL /* linux/watch_queue.h */

#define BUF_CAN_MERGE 1 /* later small writes may append */
#define BUF_PACKET 2    /* O_DIRECT write: one read takes it whole */

unsigned int pipe_max_size = PIPE_MAX_SIZE_DEFAULT;

struct pipe_buf {
    char *page;
    unsigned off, len, flags;
};

/* Everything but the registry fields is protected by lock. */
struct pipe {
    pthread_mutex_t lock;
    struct waitq rd_wait;          /* readers, and FIFO opens waiting for a partner */
    struct waitq wr_wait;          /* writers */
    struct pipe_buf *bufs;         /* ring of slots entries */
    unsigned head, tail;           /* free-running slot counters; head - tail in use */
    unsigned slots;                /* capacity in pages, a power of two */
    unsigned reserved;             /* slots a splice fills once its source has answered */
    unsigned readers, writers;     /* open files of each direction (O_RDWR is both) */
    unsigned r_counter, w_counter; /* opens ever: a FIFO open waits for a change */
    char *spare;                   /* a free page kept for the next write */
    /* Registry (fifo_lock): key, users (open files and opens in progress), chain. */
    struct super_block *sb;
    uint64_t ino;
    unsigned files;
    struct pipe *hnext;
};

static const struct file_ops pipe_fops;

/* ---- the ring ---- */

static int pipe_empty(const struct pipe *p)
{
    return p->head == p->tail;
}

static int pipe_full(const struct pipe *p)
{
    return p->head - p->tail + p->reserved >= p->slots;
}

static struct pipe_buf *slot(struct pipe *p, unsigned n)
{
    return &p->bufs[n & (p->slots - 1)];
}

static char *page_get(struct pipe *p)
{
    char *page = p->spare;
    if (page) {
        p->spare = NULL;
        return page;
    }
    return aligned_alloc(PIPE_PAGE, PIPE_PAGE);
}

static void page_put(struct pipe *p, char *page)
{
    if (!p->spare)
        p->spare = page;
    else
        free(page);
}

/* Free the slot at the tail (its bytes are consumed). */
static void pop_tail(struct pipe *p)
{
    struct pipe_buf *b = slot(p, p->tail);
    page_put(p, b->page);
    b->page = NULL;
    b->len = 0;
    p->tail++;
}

static size_t pipe_bytes(struct pipe *p)
{
    size_t n = 0;
    for (unsigned i = p->tail; i != p->head; i++)
        n += slot(p, i)->len;
    return n;
}

static void wake_readers(struct pipe *p)
{
    wake_up_key(&p->rd_wait, 1, POLLIN | POLLRDNORM);
}

static void wake_writers(struct pipe *p)
{
    wake_up_key(&p->wr_wait, 1, POLLOUT | POLLWRNORM);
}

static int cap_sys_resource(struct task *t)
{
    return t && t->cred && creds_capable(t->cred, GCAP_SYS_RESOURCE);
}

static struct pipe *pipe_alloc(struct task *t)
{
    struct pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    unsigned slots = PIPE_DEF_SLOTS;
    /* Linux: a lowered pipe-max-size also caps new pipes of the unprivileged. */
    if (slots * PIPE_PAGE > pipe_max_size && !cap_sys_resource(t))
        slots = pipe_max_size / PIPE_PAGE ? pipe_max_size / PIPE_PAGE : 1;
    p->bufs = calloc(slots, sizeof(*p->bufs));
    if (!p->bufs) {
        free(p);
        return NULL;
    }
    p->slots = slots;
    pthread_mutex_init(&p->lock, NULL);
    waitq_init(&p->rd_wait);
    waitq_init(&p->wr_wait);
    return p;
}

static void pipe_free(struct pipe *p)
{
    while (!pipe_empty(p))
        pop_tail(p);
    free(p->spare);
    free(p->bufs);
    waitq_destroy(&p->rd_wait);
    waitq_destroy(&p->wr_wait);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ---- the registry: one pipe per FIFO inode, (sb, ino) -> pipe ---- */

#define FIFO_HASH 64
static pthread_mutex_t fifo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe *fifo_hash[FIFO_HASH];

static unsigned fifo_bucket(struct super_block *sb, uint64_t ino)
{
    uint64_t h = (uint64_t)(uintptr_t)sb * 0x9e3779b97f4a7c15ULL ^ ino * 0xff51afd7ed558ccdULL;
    return (unsigned)(h >> 32) % FIFO_HASH;
}

/* The pipe of (sb, ino), created if none, with a user counted. */
static struct pipe *pipe_lookup(struct task *t, struct super_block *sb, uint64_t ino)
{
    unsigned b = fifo_bucket(sb, ino);
    pthread_mutex_lock(&fifo_lock);
    struct pipe *p = fifo_hash[b];
    while (p && !(p->sb == sb && p->ino == ino))
        p = p->hnext;
    if (p) {
        p->files++;
    } else if ((p = pipe_alloc(t))) {
        p->sb = sb;
        p->ino = ino;
        p->files = 1;
        p->hnext = fifo_hash[b];
        fifo_hash[b] = p;
    }
    pthread_mutex_unlock(&fifo_lock);
    return p;
}

/* Drop a user; the last one frees the pipe (its content goes too). */
static void pipe_release_user(struct pipe *p)
{
    pthread_mutex_lock(&fifo_lock);
    if (--p->files) {
        pthread_mutex_unlock(&fifo_lock);
        return;
    }
    struct pipe **pp = &fifo_hash[fifo_bucket(p->sb, p->ino)];
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    pthread_mutex_unlock(&fifo_lock);
    pipe_free(p);
}

/* ---- pipefs: the inodes of anonymous pipes ---- */

struct pipefs_inode {
    struct inode vfs;
    pthread_mutex_t lock; /* the times and the cached attributes */
    struct timespec atime, mtime, ctime;
};

static struct pipefs_inode *pipefs_i(struct inode *i)
{
    return container_of(i, struct pipefs_inode, vfs);
}

static const struct fs_type pipefs_type = {
    .name = "pipefs",
    .magic = PIPEFS_MAGIC,
    .nodev = 1,
};

/* Like Linux's kern_mount: lives as long as the sentry. */
static struct super_block *pipefs_sb;

struct super_block *pipefs_super(void)
{
    return sb_kern(&pipefs_type, &pipefs_sb);
}

static int pipefs_getattr(struct inode *i, struct stat *st)
{
    struct pipefs_inode *pi = pipefs_i(i);
    pthread_mutex_lock(&pi->lock);
    inode_fillattr(i, st, PIPE_PAGE);
    st->st_atim = pi->atime;
    st->st_mtim = pi->mtime;
    st->st_ctim = pi->ctime;
    pthread_mutex_unlock(&pi->lock);
    return 0;
}

/* fchmod/fchown/futimens of a pipe work on Linux (simple_setattr). */
static int pipefs_setattr(struct inode *i, const struct iattr *ia)
{
    struct pipefs_inode *pi = pipefs_i(i);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (ia->valid & ATTR_SIZE)
        return -EINVAL;
    pthread_mutex_lock(&pi->lock);
    setattr_copy(i, ia);
    if (ia->valid & ATTR_ATIME)
        pi->atime = (ia->valid & ATTR_ATIME_NOW) ? now : ia->atime;
    if (ia->valid & ATTR_MTIME)
        pi->mtime = (ia->valid & ATTR_MTIME_NOW) ? now : ia->mtime;
    pi->ctime = now;
    pthread_mutex_unlock(&pi->lock);
    return 0;
}

static void pipefs_evict(struct inode *i)
{
    struct pipefs_inode *pi = pipefs_i(i);
    pthread_mutex_destroy(&pi->lock);
    free(pi);
}

static const struct inode_ops pipefs_iops = {
    .getattr = pipefs_getattr,
    .setattr = pipefs_setattr,
    .evict = pipefs_evict,
};

/* Reads set atime, writes mtime and ctime, on pipefs inodes only (a FIFO's
 * own file system keeps its times). */
static void pipefs_touch(struct file *f, int write)
{
    if (!f->inode || f->inode->sb != pipefs_sb)
        return;
    struct pipefs_inode *pi = pipefs_i(f->inode);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&pi->lock);
    if (write)
        pi->mtime = pi->ctime = now;
    else
        pi->atime = now;
    pthread_mutex_unlock(&pi->lock);
}

/* ---- reading and writing ---- */

static struct pipe *pipe_of(struct file *f)
{
    return f && f->ops == &pipe_fops ? f->priv : NULL;
}

int file_is_pipe(struct file *f)
{
    return pipe_of(f) != NULL;
}

static int can_read(struct file *f)
{
    return (f->flags & O_ACCMODE) != O_WRONLY;
}

static int can_write(struct file *f)
{
    return (f->flags & O_ACCMODE) != O_RDONLY;
}

static int nonblocking(struct file *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

/* pipe_read's loop: take up to len bytes from the tail into consume. Waits
 * only while nothing has been taken; packets (read(2) only) end the read
 * and drop what the reader had no room for. */
static ssize_t pipe_drain(struct pipe *p, size_t len, int nonblock, int packets,
                          pipe_consume_fn consume, void *ctx)
{
    struct task *t = current_task;
    ssize_t ret = 0;
    int freed = 0;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int was_full = pipe_full(p);
        while (len && !pipe_empty(p)) {
            struct pipe_buf *b = slot(p, p->tail);
            size_t n = b->len < len ? b->len : len;
            ssize_t c = consume(ctx, b->page + b->off, n);
            if (c < 0) {
                if (!ret)
                    ret = c;
                len = 0;
                break;
            }
            ret += c;
            len -= (size_t)c;
            b->off += (unsigned)c;
            b->len -= (unsigned)c;
            if (packets && (b->flags & BUF_PACKET)) {
                b->len = 0;
                len = 0;
            }
            if (!b->len) {
                pop_tail(p);
                freed |= was_full;
            }
            if ((size_t)c < n)
                len = 0; /* the consumer is full */
        }
        if (ret || !len || !p->writers)
            break;
        if (nonblock) {
            ret = -EAGAIN;
            break;
        }
        int r = waitq_wait(t, &p->rd_wait, &p->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            ret = r;
            break;
        }
    }
    /* Writers wait only for a full pipe to have a free slot. (Every wait
     * on a pipe is non-exclusive, so no wake-up has to be passed on.) */
    if (freed)
        wake_writers(p);
    pthread_mutex_unlock(&p->lock);
    return ret;
}

/* pipe_write: all of len unless nonblock (then what fits, or -EAGAIN),
 * an interruption (what was written, or -ERESTARTSYS), or the readers
 * leaving (-EPIPE if nothing was written). A write of at most PIPE_PAGE
 * bytes lands in one slot or merges whole into the last: atomic. */
static ssize_t pipe_fill(struct pipe *p, const char *buf, size_t len, int nonblock, int packet)
{
    struct task *t = current_task;
    ssize_t ret = 0;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    if (!p->readers) {
        ret = -EPIPE; /* the caller sends SIGPIPE */
        goto out;
    }
    /* Merge the odd part into the last page, so the rest is page-aligned. */
    size_t chars = len & (PIPE_PAGE - 1);
    if (chars && !pipe_empty(p)) {
        struct pipe_buf *b = slot(p, p->head - 1);
        if ((b->flags & BUF_CAN_MERGE) && !packet && b->off + b->len + chars <= PIPE_PAGE) {
            memcpy(b->page + b->off + b->len, buf, chars);
            b->len += (unsigned)chars;
            ret = (ssize_t)chars;
            if ((size_t)ret == len)
                goto out;
        }
    }
    for (;;) {
        if (!p->readers) {
            if (!ret)
                ret = -EPIPE; /* the caller sends SIGPIPE */
            break;
        }
        if (!pipe_full(p)) {
            char *page = page_get(p);
            if (!page) {
                if (!ret)
                    ret = -ENOMEM;
                break;
            }
            size_t n = len - (size_t)ret < PIPE_PAGE ? len - (size_t)ret : PIPE_PAGE;
            memcpy(page, buf + ret, n);
            *slot(p, p->head) = (struct pipe_buf){
                .page = page,
                .off = 0,
                .len = (unsigned)n,
                .flags = packet ? BUF_PACKET : BUF_CAN_MERGE,
            };
            p->head++;
            ret += (ssize_t)n;
            if ((size_t)ret == len)
                break;
            continue;
        }
        if (nonblock) {
            if (!ret)
                ret = -EAGAIN;
            break;
        }
        /* Full: let the readers at what is there, then wait for room. */
        if (ret > 0)
            wake_readers(p);
        int r = waitq_wait(t, &p->wr_wait, &p->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            if (!ret)
                ret = r;
            break;
        }
    }
out:
    if (ret > 0)
        wake_readers(p);
    pthread_mutex_unlock(&p->lock);
    return ret;
}

struct membuf {
    char *p;
};

static ssize_t copy_to_membuf(void *ctx, const void *data, size_t len)
{
    struct membuf *m = ctx;
    memcpy(m->p, data, len);
    m->p += len;
    return (ssize_t)len;
}

static ssize_t copy_from_membuf(void *ctx, void *buf, size_t len)
{
    struct membuf *m = ctx;
    memcpy(buf, m->p, len);
    m->p += len;
    return (ssize_t)len;
}

static ssize_t pipe_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct membuf m = { buf };
    ssize_t r = pipe_drain(f->priv, len, nonblocking(f), 1, copy_to_membuf, &m);
    if (r > 0)
        pipefs_touch(f, 0);
    return r;
}

static ssize_t pipe_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)pos;
    int packet = (__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_DIRECT) != 0;
    ssize_t r = pipe_fill(f->priv, buf, len, nonblocking(f), packet);
    if (r > 0)
        pipefs_touch(f, 1);
    return r;
}

/* An anonymous pipe's file has its pipefs inode; a FIFO's, the inode on
 * its own file system. */
static int pipe_stat(struct file *f, struct stat *st)
{
    if (!f->inode)
        return -EBADF;
    return f->inode->ops->getattr(f->inode, st);
}

static long pipe_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct pipe *p = f->priv;
    if (req != FIONREAD)
        return -ENOTTY;
    pthread_mutex_lock(&p->lock);
    int count = (int)pipe_bytes(p);
    pthread_mutex_unlock(&p->lock);
    return copy_out(current_task, arg, &count, sizeof(count)) < 0 ? -EFAULT : 0;
}

static void pipe_release(struct file *f)
{
    struct pipe *p = f->priv;
    pthread_mutex_lock(&p->lock);
    if (can_read(f))
        p->readers--;
    if (can_write(f))
        p->writers--;
    /* One side gone: readers see EOF, writers EPIPE (and poll HUP/ERR). */
    if (!p->readers != !p->writers) {
        wake_up_key(&p->rd_wait, 0, POLLIN | POLLRDNORM | POLLHUP);
        wake_up_key(&p->wr_wait, 0, POLLOUT | POLLWRNORM | POLLERR);
    }
    pthread_mutex_unlock(&p->lock);
    pipe_release_user(p);
}

/* No llseek: FMODE_STREAM makes it -ESPIPE. poll comes with the poll op:
 * rd_wait and wr_wait are woken with poll keys already. */
/* Readable with data or at end; writable with a free slot; POLLHUP once
 * the writers are gone, POLLERR once the readers are, as pipe_poll. */
static unsigned pipe_poll(struct file *f, struct poll_table *pt)
{
    struct pipe *p = f->priv;
    int acc = f->flags & O_ACCMODE;
    if (acc != O_WRONLY)
        poll_wait(pt, &p->rd_wait);
    if (acc != O_RDONLY)
        poll_wait(pt, &p->wr_wait);
    pthread_mutex_lock(&p->lock);
    unsigned m = 0;
    if (acc != O_WRONLY) {
        if (!pipe_empty(p))
            m |= POLLIN | POLLRDNORM;
        if (!p->writers)
            m |= POLLHUP;
    }
    if (acc != O_RDONLY) {
        if (!pipe_full(p))
            m |= POLLOUT | POLLWRNORM;
        if (!p->readers)
            m |= POLLERR;
    }
    pthread_mutex_unlock(&p->lock);
    return m;
}

static const struct file_ops pipe_fops = {
    .name = "pipe",
    .poll = pipe_poll,
    .read = pipe_read,
    .write = pipe_write,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

/* ---- creating and opening ---- */

static struct file *pipe_file(struct pipe *p, struct inode *i, int flags)
{
    struct file *f = file_new(&pipe_fops, flags);
    if (!f)
        return NULL;
    f->fmode |= FMODE_STREAM;
    f->priv = p;
    inode_get(i);
    f->inode = i;
    return f;
}

int pipe_create(struct task *t, int flags, struct file **rd, struct file **wr)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE))
        return -EINVAL;
    if (flags & O_NOTIFICATION_PIPE)
        return -ENOPKG;
    struct super_block *sb = pipefs_super();
    struct pipefs_inode *pi = sb ? calloc(1, sizeof(*pi)) : NULL;
    if (!pi)
        return -ENOMEM;
    uint64_t ino = __atomic_fetch_add(&sb->next_ino, 1, __ATOMIC_RELAXED);
    inode_init(&pi->vfs, sb, &pipefs_iops, &fifo_fops, ino, S_IFIFO | 0600);
    pthread_mutex_init(&pi->lock, NULL);
    pi->vfs.uid = t && t->cred ? t->cred->fsuid : 0;
    pi->vfs.gid = t && t->cred ? t->cred->fsgid : 0;
    clock_gettime(CLOCK_REALTIME, &pi->ctime);
    pi->atime = pi->mtime = pi->ctime;

    struct pipe *p = pipe_lookup(t, pipefs_sb, ino);
    if (!p) {
        inode_put(&pi->vfs);
        return -ENOMEM;
    }
    /* The two files are the pipe's users: lookup counted one. */
    p->readers = p->writers = 1;
    p->r_counter = p->w_counter = 1;
    int fl = flags & (O_NONBLOCK | O_DIRECT);
    struct file *r = pipe_file(p, &pi->vfs, O_RDONLY | fl);
    if (!r) {
        pipe_release_user(p);
        inode_put(&pi->vfs);
        return -ENOMEM;
    }
    pthread_mutex_lock(&fifo_lock);
    p->files++;
    pthread_mutex_unlock(&fifo_lock);
    struct file *w = pipe_file(p, &pi->vfs, O_WRONLY | fl);
    if (!w) {
        pthread_mutex_lock(&p->lock);
        p->writers = 0;
        pthread_mutex_unlock(&p->lock);
        file_put(r); /* releases its reader and one user */
        pipe_release_user(p);
        inode_put(&pi->vfs);
        return -ENOMEM;
    }
    inode_put(&pi->vfs); /* the files hold it now */
    *rd = r;
    *wr = w;
    return 0;
}

/* Wait until *cnt moves (a partner opened, even if it closed again). No
 * spin: another process's open of the FIFO is not a wake-up that comes
 * soon, as a peer's next read or write is. */
static int wait_partner(struct task *t, struct pipe *p, unsigned *cnt)
{
    unsigned cur = *cnt;
    while (cur == *cnt) {
        int r = waitq_wait(t, &p->rd_wait, &p->lock, NULL, 0);
        if (r < 0)
            return cur == *cnt ? r : 0;
    }
    return 0;
}

int fifo_open(struct task *t, struct inode *i, struct file *f, int flags)
{
    /* A pipefs inode (reopened through /proc) is a pipe: never waits. */
    int is_pipe = pipefs_sb && i->sb == pipefs_sb;
    struct pipe *p = pipe_lookup(t, i->sb, i->ino);
    if (!p)
        return -ENOMEM;
    int r = 0;
    pthread_mutex_lock(&p->lock);
    switch (flags & O_ACCMODE) {
    case O_RDONLY:
        p->r_counter++;
        if (p->readers++ == 0)
            wake_up_all(&p->rd_wait); /* writers waiting in open */
        /* O_NONBLOCK: open now; reads see EOF until a writer comes. (Poll
         * will have to hide POLLHUP until then, as Linux's f_version.) */
        if (!is_pipe && !p->writers && !(flags & O_NONBLOCK)) {
            r = wait_partner(t, p, &p->w_counter);
            if (r < 0 && --p->readers == 0)
                wake_writers(p);
        }
        break;
    case O_WRONLY:
        if (!is_pipe && (flags & O_NONBLOCK) && !p->readers) {
            r = -ENXIO;
            break;
        }
        p->w_counter++;
        if (p->writers++ == 0)
            wake_up_all(&p->rd_wait); /* readers waiting in open or read */
        if (!is_pipe && !p->readers) {
            r = wait_partner(t, p, &p->r_counter);
            if (r < 0 && --p->writers == 0)
                wake_readers(p);
        }
        break;
    case O_RDWR:
        /* Never waits: it is its own partner. */
        p->readers++;
        p->writers++;
        p->r_counter++;
        p->w_counter++;
        if (p->readers == 1 || p->writers == 1)
            wake_up_all(&p->rd_wait);
        break;
    default:
        r = -EINVAL;
        break;
    }
    pthread_mutex_unlock(&p->lock);
    if (r < 0) {
        pipe_release_user(p);
        return r;
    }
    f->ops = &pipe_fops;
    f->priv = p;
    f->fmode |= FMODE_STREAM;
    return 0;
}

static int fifo_file_open(struct file *f, int flags)
{
    return fifo_open(current_task, f->inode, f, flags);
}

const struct file_ops fifo_fops = {
    .name = "fifo",
    .open = fifo_file_open,
};

/* ---- fcntl ---- */

static long pipe_set_size(struct task *t, struct pipe *p, unsigned int arg)
{
    /* round_pipe_size: at least a page, a power of two, at most 2^31. */
    if (arg > (1U << 31))
        return -EINVAL;
    unsigned size = PIPE_PAGE;
    while (size < arg)
        size <<= 1;
    unsigned slots = size / PIPE_PAGE;
    pthread_mutex_lock(&p->lock);
    /* Shrinking is always allowed; growing past the limit takes the cap. */
    if (slots > p->slots && size > pipe_max_size && !cap_sys_resource(t)) {
        pthread_mutex_unlock(&p->lock);
        return -EPERM;
    }
    /* Linux counts slots in use, not bytes: a partly read page is a slot
     * (and a splice's reserved ones are in use). */
    if (slots < p->head - p->tail + p->reserved) {
        pthread_mutex_unlock(&p->lock);
        return -EBUSY;
    }
    if (slots != p->slots) {
        struct pipe_buf *nb = calloc(slots, sizeof(*nb));
        if (!nb) {
            pthread_mutex_unlock(&p->lock);
            return -ENOMEM;
        }
        for (unsigned n = p->tail; n != p->head; n++)
            nb[n & (slots - 1)] = *slot(p, n);
        free(p->bufs);
        p->bufs = nb;
        p->slots = slots;
        /* This might have made room for writers. */
        wake_writers(p);
    }
    pthread_mutex_unlock(&p->lock);
    return (long)size;
}

long pipe_fcntl(struct task *t, struct file *f, unsigned int cmd, unsigned int arg)
{
    struct pipe *p = pipe_of(f);
    if (!p)
        return -EBADF;
    switch (cmd) {
    case F_GETPIPE_SZ: {
        pthread_mutex_lock(&p->lock);
        long size = (long)p->slots * PIPE_PAGE;
        pthread_mutex_unlock(&p->lock);
        return size;
    }
    case F_SETPIPE_SZ:
        return pipe_set_size(t, p, arg);
    default:
        return -EINVAL;
    }
}

/* ---- splice and tee ---- */

ssize_t pipe_splice_out(struct file *pf, size_t len, int nonblock, pipe_consume_fn consume,
                        void *ctx)
{
    struct pipe *p = pipe_of(pf);
    if (!p)
        return -EINVAL;
    if (!can_read(pf))
        return -EBADF;
    /* Packets are a read(2) notion: splice takes the bytes as they come. */
    return pipe_drain(p, len, nonblock, 0, consume, ctx);
}

#define SPLICE_IN_MAX_PAGES 256u

/* Splice from a file into the pipe: Linux holds the pipe's mutex across
 * the read from the source, which may block for as long as the source has
 * nothing (a terminal, a host pipe). Here the pipe's lock is not held
 * meanwhile: the splice reserves the free slots it may fill (other writers
 * see them taken), reads once from the source into a buffer of its own,
 * as Linux's single read_iter, and then fills them. So a reader or a
 * writer of the pipe never waits for the source, and one that must wait
 * for room sleeps interruptibly. */
ssize_t pipe_splice_in(struct file *pf, size_t len, int nonblock, pipe_produce_fn produce,
                       void *ctx)
{
    struct task *t = current_task;
    struct pipe *p = pipe_of(pf);
    if (!p)
        return -EINVAL;
    if (!can_write(pf))
        return -EBADF;
    if (len == 0)
        return 0;
    ssize_t ret = 0;
    pthread_mutex_lock(&p->lock);
    /* wait_for_space */
    for (;;) {
        if (!p->readers) {
            ret = -EPIPE; /* the caller sends SIGPIPE */
            goto out;
        }
        if (!pipe_full(p))
            break;
        if (nonblock) {
            ret = -EAGAIN;
            goto out;
        }
        int r = waitq_wait(t, &p->wr_wait, &p->lock, NULL, WAIT_SPIN);
        if (r < 0) {
            ret = r;
            goto out;
        }
    }
    /* At most 1 MiB a call (the buffer is the sentry's): a splice may
     * move less than asked. */
    unsigned k = p->slots - (p->head - p->tail) - p->reserved;
    if (k > SPLICE_IN_MAX_PAGES)
        k = SPLICE_IN_MAX_PAGES;
    if ((size_t)k * PIPE_PAGE > len)
        k = (unsigned)((len + PIPE_PAGE - 1) / PIPE_PAGE);
    size_t n = (size_t)k * PIPE_PAGE < len ? (size_t)k * PIPE_PAGE : len;
    p->reserved += k;
    pthread_mutex_unlock(&p->lock);

    char *buf = malloc(n);
    ssize_t c = buf ? produce(ctx, buf, n) : -ENOMEM;

    pthread_mutex_lock(&p->lock);
    p->reserved -= k;
    /* Spliced pages are not merged into, as Linux's. */
    for (size_t at = 0; c > 0 && at < (size_t)c; at += PIPE_PAGE) {
        size_t m = (size_t)c - at < PIPE_PAGE ? (size_t)c - at : PIPE_PAGE;
        char *page = page_get(p);
        if (!page)
            break; /* the rest is lost, as with a failed page allocation on Linux */
        memcpy(page, buf + at, m);
        *slot(p, p->head) = (struct pipe_buf){ .page = page, .len = (unsigned)m };
        p->head++;
        ret += (ssize_t)m;
    }
    if (c <= 0)
        ret = c;
    else if (ret == 0)
        ret = -ENOMEM;
    free(buf);
    if (ret > 0)
        wake_readers(p);
    /* Slots it reserved and did not fill are free again. */
    wake_writers(p);
out:
    pthread_mutex_unlock(&p->lock);
    if (ret > 0)
        pipefs_touch(pf, 1);
    return ret;
}

ssize_t pipe_read_buf(struct file *pf, void *buf, size_t len, int nonblock)
{
    struct membuf m = { buf };
    return pipe_splice_out(pf, len, nonblock, copy_to_membuf, &m);
}

ssize_t pipe_write_buf(struct file *pf, const void *buf, size_t len, int nonblock)
{
    struct membuf m = { (char *)buf };
    return pipe_splice_in(pf, len, nonblock, copy_from_membuf, &m);
}

/* pipe_link's waits, as ipipe_prep and opipe_prep: for input, 0 once p has data
 * or no writers; for output, 0 once p has a free slot, -EPIPE without
 * readers (the caller sends SIGPIPE). */
static int wait_pipe(struct task *t, struct pipe *p, int nonblock, int output)
{
    int r = 0;
    pthread_mutex_lock(&p->lock);
    while (output ? pipe_full(p) : (pipe_empty(p) && p->writers)) {
        if (output && !p->readers) {
            r = -EPIPE;
            break;
        }
        if (nonblock) {
            r = -EAGAIN;
            break;
        }
        if ((r = waitq_wait(t, output ? &p->wr_wait : &p->rd_wait, &p->lock, NULL, WAIT_SPIN)) < 0)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* Two pipes locked in address order: tee A->B and B->A cannot deadlock. */
static void lock_two(struct pipe *a, struct pipe *b)
{
    if ((uintptr_t)a > (uintptr_t)b) {
        struct pipe *x = a;
        a = b;
        b = x;
    }
    pthread_mutex_lock(&a->lock);
    pthread_mutex_lock(&b->lock);
}

/* splice_pipe_to_pipe (move) and link_pipe (tee, !move): one output slot
 * per input slot, retried while nothing could be done. */
static ssize_t pipe_link(struct file *in, struct file *out, size_t len, int nonblock, int move)
{
    struct task *t = current_task;
    struct pipe *ip = pipe_of(in), *op = pipe_of(out);
    if (!ip || !op || ip == op)
        return -EINVAL;
    if (!can_read(in) || !can_write(out))
        return -EBADF;
    if (len == 0)
        return 0;
    nonblock |= nonblocking(in) || nonblocking(out);
    for (;;) {
        int r = wait_pipe(t, ip, nonblock, 0);
        if (r == 0)
            r = wait_pipe(t, op, nonblock, 1);
        if (r < 0)
            return r;
        ssize_t ret = 0;
        int again = 0, consumed = 0;
        lock_two(ip, op);
        unsigned itail = ip->tail;
        while (len) {
            if (!op->readers) {
                if (!ret)
                    ret = -EPIPE; /* the caller sends SIGPIPE */
                break;
            }
            int iempty = itail == ip->head;
            if (iempty && !ip->writers)
                break; /* end of input */
            if (iempty || pipe_full(op)) {
                /* Raced with another reader or writer. */
                if (!ret && nonblock)
                    ret = -EAGAIN;
                again = !ret;
                break;
            }
            struct pipe_buf *ib = slot(ip, itail);
            struct pipe_buf *ob = slot(op, op->head);
            if (move && len >= ib->len) {
                *ob = *ib; /* the page changes pipes */
                ib->page = NULL;
                ib->len = 0;
                ip->tail = ++itail;
                consumed = 1;
            } else {
                size_t n = ib->len < len ? ib->len : len;
                char *page = page_get(op);
                if (!page) {
                    if (!ret)
                        ret = -ENOMEM;
                    break;
                }
                memcpy(page, ib->page + ib->off, n);
                /* A copy is not merged into: later writes take new slots. */
                *ob = (struct pipe_buf){ .page = page,
                                         .len = (unsigned)n,
                                         .flags = ib->flags & ~BUF_CAN_MERGE };
                if (move) {
                    ib->off += (unsigned)n;
                    ib->len -= (unsigned)n;
                } else {
                    itail++;
                }
            }
            op->head++;
            ret += ob->len;
            len -= ob->len;
        }
        if (ret > 0)
            wake_readers(op);
        if (consumed)
            wake_writers(ip);
        pthread_mutex_unlock(&ip->lock);
        pthread_mutex_unlock(&op->lock);
        if (ret > 0) {
            pipefs_touch(out, 1);
            if (move)
                pipefs_touch(in, 0);
        }
        if (!again)
            return ret;
    }
}

ssize_t pipe_splice_pipe(struct file *in, struct file *out, size_t len, int nonblock)
{
    return pipe_link(in, out, len, nonblock, 1);
}

ssize_t pipe_tee(struct file *in, struct file *out, size_t len, int nonblock)
{
    return pipe_link(in, out, len, nonblock, 0);
}
