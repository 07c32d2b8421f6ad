/* Data transfer: read, write, pread64, pwrite64, readv, writev, preadv,
 * pwritev, preadv2, pwritev2, lseek, getdents(64), sendfile,
 * copy_file_range, splice, tee and ioctl: validate, copy in, call the
 * file, copy out. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/vfs/vfs.h"
#include "net/socket.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define RW_CHUNK (64 * 1024)
#define SMALL_IO 8192       /* transfers up to this size use a stack buffer */
#define RWF_SUPPORTED 0x7fU /* HIPRI DSYNC SYNC NOWAIT APPEND NOAPPEND ATOMIC */
#define RWF_APPEND_FLAG 0x10U

/* The file at fd, open for reading (write = 0) or writing (write = 1) and
 * able to do it; else NULL with EBADF (not open that way) or EINVAL (the file
 * type cannot), as vfs_read and vfs_write check. */
static struct file *get_rw(struct task *t, int write, int fd, long *err)
{
    struct file *f = fget(t, fd);
    *err = -EBADF;
    if (!f)
        return NULL;
    if (write ? !file_writable(f) : !file_readable(f)) {
        file_put(f);
        return NULL;
    }
    if (write && f->inode && (f->inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
        *err = -EPERM; /* a sealed memfd */
        file_put(f);
        return NULL;
    }
    if (write ? !f->ops->write : !f->ops->read) {
        *err = (!write && f->inode && S_ISDIR(f->inode->mode)) ? -EISDIR : -EINVAL;
        file_put(f);
        return NULL;
    }
    return f;
}

/* The position a transfer uses: the file's (locked while in use) or an
 * explicit one (pread). Streams ignore it. */
struct rwpos {
    struct file *f;
    off_t local;
    off_t *pos;
    int locked;
};

static void pos_end(struct rwpos *p)
{
    if (p->locked)
        pthread_mutex_unlock(&p->f->pos_lock);
}

/* rw_verify_area: a count above SSIZE_MAX, or (files with positions) a
 * negative position or one where position + count passes the largest
 * offset is -EINVAL. */
static long verify_area(struct file *f, off_t pos, size_t count)
{
    off_t end;
    if ((ssize_t)count < 0)
        return -EINVAL;
    if (!(f->fmode & FMODE_STREAM) && (pos < 0 || __builtin_add_overflow(pos, (off_t)count, &end)))
        return -EINVAL;
    return 0;
}

/* Take the position for a transfer of count bytes and check it as
 * rw_verify_area does: a count above SSIZE_MAX, a negative position or one
 * where position + count passes the largest offset is -EINVAL (the
 * position is not taken then). */
static long pos_begin(struct rwpos *p, struct file *f, const off_t *explicit, size_t count)
{
    p->f = f;
    p->locked = 0;
    if (explicit) {
        p->local = *explicit;
        p->pos = &p->local;
    } else if (f->fmode & FMODE_STREAM) {
        p->local = 0;
        p->pos = &p->local;
    } else {
        pthread_mutex_lock(&f->pos_lock);
        p->locked = 1;
        p->pos = &f->pos;
    }
    long r = verify_area(f, *p->pos, count);
    if (r < 0)
        pos_end(p);
    return r;
}

/* fsize_limit without the signal. */
static long fsize_over(struct task *t, off_t pos, size_t *len)
{
    uint64_t lim = t ? t->proc->rlim[RLIMIT_FSIZE].cur : RLIM_INFINITY;
    if (lim == RLIM_INFINITY)
        return 0;
    if (!len)
        return (uint64_t)pos > lim ? -EFBIG : 0;
    if ((uint64_t)pos >= lim)
        return -EFBIG;
    if (*len > lim - (uint64_t)pos)
        *len = (size_t)(lim - (uint64_t)pos);
    return 0;
}

/* Past RLIMIT_FSIZE the caller gets SIGXFSZ with the EFBIG
 * (generic_write_check_limits, inode_newsize_ok). */
static long efbig(struct task *t)
{
    if (t)
        signal_thread(t, SIGXFSZ);
    return -EFBIG;
}

long fsize_limit(off_t pos, size_t *len)
{
    struct task *t = current_task;
    return fsize_over(t, pos, len) < 0 ? efbig(t) : 0;
}

long fsize_limit_grow(struct inode *i, off_t size)
{
    /* Only growth past the limit is refused: the file's size (a host
     * fstat on hostfs) is asked for only when size is past it. */
    struct task *t = current_task;
    if (fsize_over(t, size, NULL) == 0)
        return 0;
    struct stat st;
    return vfs_getattr(i, &st) == 0 && size <= st.st_size ? 0 : efbig(t);
}

/* The size of f, from its stat. */
static long file_size(struct file *f, off_t *size);

/* The largest offset of f's file system (s_maxbytes). */
static off_t max_bytes(struct file *f)
{
    return f->ops->max_bytes ? f->ops->max_bytes(f) : INT64_MAX;
}

/* O_DIRECT on a file whose direct I/O needs alignment: a buffer address,
 * a length or the position off it is EINVAL, as the host's direct I/O
 * gives (iomap checks every segment); a read from the end of the file on
 * returns 0 before that. */
static long dio_check(struct file *f, off_t pos, int write, const struct iovec *iov, uint64_t cnt)
{
    if (!(__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_DIRECT) || !f->ops->dio_align)
        return 0;
    unsigned mem, off;
    f->ops->dio_align(f, &mem, &off);
    uint64_t addrs = 0, lens = (uint64_t)pos, total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        addrs |= (uint64_t)(uintptr_t)iov[i].iov_base;
        lens |= iov[i].iov_len;
        total += iov[i].iov_len;
    }
    if (total == 0)
        return 0;
    off_t size;
    if (!write && file_size(f, &size) == 0 && pos >= size)
        return 0;
    if ((mem && (addrs & (mem - 1))) || (off && (lens & (off - 1))))
        return -EINVAL;
    return 0;
}

/* Every write to a file goes through here, so that the limits on where a
 * regular file may grow hold for all of them. A zero-length write is not
 * checked (generic_write_checks returns first). */
static ssize_t file_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    if (len && f->inode && S_ISREG(f->inode->mode)) {
        off_t at = *pos;
        if ((f->flags & O_APPEND) && file_size(f, &at) < 0)
            at = *pos;
        long r = fsize_limit(at, &len);
        if (r < 0)
            return r;
    }
    return f->ops->write(f, buf, len, pos);
}

/* How much of a transfer of len bytes goes to the file at once: a
 * datagram socket's message is one call, whole (up to 1 MiB, past any
 * SO_SNDBUF: EMSGSIZE); other files take RW_CHUNK bytes a call. */
static size_t rw_chunk(struct file *f, size_t len)
{
    struct socket *s = sock_of(f);
    size_t max = s && s->type != SOCK_STREAM ? 1 << 20 : RW_CHUNK;
    return len < max ? len : max;
}

/* The sentry buffer of one read or write: on the stack up to SMALL_IO. */
struct bounce {
    char small[SMALL_IO];
    char *p;
};

static char *bounce_get(struct bounce *b, size_t cap)
{
    b->p = cap <= sizeof(b->small) ? b->small : malloc(cap);
    return b->p;
}

static void bounce_put(struct bounce *b)
{
    if (b->p != b->small)
        free(b->p);
}

/* vfs_read and vfs_write: access_ok on the whole count, which then moves
 * at most MAX_RW_COUNT. */
static long rw_range(uint64_t buf, size_t *len)
{
    if (!guest_range_ok(buf, *len))
        return -EFAULT;
    if (*len > MAX_RW_COUNT)
        *len = MAX_RW_COUNT;
    return 0;
}

/* Read up to len bytes of f into guest memory at buf. */
static long do_read(struct task *t, struct file *f, uint64_t buf, size_t len, const off_t *at)
{
    size_t count = len;
    if (rw_range(buf, &len) < 0)
        return -EFAULT;
    size_t cap = rw_chunk(f, len);
    struct bounce b;
    char *tmp = bounce_get(&b, cap);
    if (!tmp)
        return -ENOMEM;
    struct rwpos p;
    long vr = pos_begin(&p, f, at, count);
    if (vr == 0 && len) {
        struct iovec one = { (void *)(uintptr_t)buf, len };
        if ((vr = dio_check(f, *p.pos, 0, &one, 1)) < 0)
            pos_end(&p);
    }
    if (vr < 0 || (len == 0 && !f->ops->read_empty)) {
        if (vr == 0)
            pos_end(&p);
        bounce_put(&b);
        return vr;
    }
    off_t start = *p.pos;
    ssize_t n = f->ops->read(f, tmp, cap, p.pos);
    if (n > 0) {
        /* Like copy_to_user: a short copy is a short read, none is EFAULT. */
        long c = copy_out_partial(t, buf, tmp, (size_t)n);
        if (c < n && !(f->fmode & FMODE_STREAM))
            *p.pos = start + (c > 0 ? c : 0);
        n = c > 0 && (c == n || !f->ops->read_whole) ? c : -EFAULT;
    }
    pos_end(&p);
    bounce_put(&b);
    return n;
}

/* The size of f, from its stat. */
static long file_size(struct file *f, off_t *size)
{
    struct stat st;
    long r = f->ops->stat ? f->ops->stat(f, &st) : f->inode ? vfs_getattr(f->inode, &st) : -EINVAL;
    if (r == 0)
        *size = st.st_size;
    return r;
}

/* F_SEAL_GROW: a write that would make a sealed memfd longer is EPERM. */
static long seal_grow_check(struct file *f, const off_t *at, size_t len)
{
    if (!f->inode || !(f->inode->seals & F_SEAL_GROW))
        return 0;
    off_t size = 0;
    long r = file_size(f, &size);
    if (r < 0)
        return r;
    off_t pos = at ? *at : (f->flags & O_APPEND) ? size : f->pos;
    return pos + (off_t)len > size ? -EPERM : 0;
}

/* Write len bytes of guest memory at buf to f, a chunk at a time. */
static long do_write(struct task *t, struct file *f, uint64_t buf, size_t len, const off_t *at)
{
    size_t count = len;
    if (rw_range(buf, &len) < 0)
        return -EFAULT;
    struct rwpos p;
    long sr = pos_begin(&p, f, at, count);
    if (sr < 0)
        return sr;
    pos_end(&p);
    if (f->ops->write_discards)
        return (long)len;
    if (f->ops->write_size) {
        /* One record: its length checked before the buffer is read. */
        char rec[16];
        if (len != f->ops->write_size || len > sizeof(rec))
            return -EINVAL;
        if (copy_in(t, rec, buf, len) < 0)
            return -EFAULT;
        if ((sr = pos_begin(&p, f, at, len)) < 0)
            return sr;
        long r = file_write(f, rec, len, p.pos);
        pos_end(&p);
        return r;
    }
    sr = seal_grow_check(f, at, len);
    if (sr < 0)
        return sr;
    if (len == 0) {
        /* The file still sees a zero-length write (/dev/full fails it). */
        char none;
        if ((sr = pos_begin(&p, f, at, 0)) < 0)
            return sr;
        long r = file_write(f, &none, 0, p.pos);
        pos_end(&p);
        return r;
    }
    size_t cap = rw_chunk(f, len);
    struct bounce b;
    char *tmp = bounce_get(&b, cap);
    if (!tmp)
        return -ENOMEM;
    if ((sr = pos_begin(&p, f, at, count)) == 0) {
        struct iovec one = { (void *)(uintptr_t)buf, len };
        if ((sr = dio_check(f, *p.pos, 1, &one, 1)) < 0)
            pos_end(&p);
    }
    if (sr < 0) {
        bounce_put(&b);
        return sr;
    }
    long done = 0;
    while ((size_t)done < len) {
        size_t n = len - (size_t)done < cap ? len - (size_t)done : cap;
        long c = copy_in_partial(t, tmp, buf + (uint64_t)done, n);
        if (c <= 0) {
            if (done == 0)
                done = -EFAULT;
            break;
        }
        ssize_t w = file_write(f, tmp, (size_t)c, p.pos);
        if (w < 0) {
            if (done == 0)
                done = w;
            break;
        }
        done += w;
        if ((size_t)w < n)
            break; /* short write, or the guest buffer ended in a fault */
    }
    pos_end(&p);
    bounce_put(&b);
    return done;
}

/* pread/pwrite and friends: the file must have positions. */
static struct file *get_prw(struct task *t, int write, int fd, long *err)
{
    struct file *f = fget(t, fd);
    if (!f) {
        *err = -EBADF;
        return NULL;
    }
    if (f->fmode & FMODE_STREAM) {
        *err = -ESPIPE;
        file_put(f);
        return NULL;
    }
    file_put(f);
    return get_rw(t, write, fd, err);
}

/* A vector call under way: its iovecs, a buffer to bounce the data
 * through (cap bytes) and the position. */
struct iov_io {
    struct iovec *iov;
    char *buf;
    size_t cap;
    struct rwpos p;
};

/* Start a vector call of f: the iovecs copied in and checked, a buffer
 * of up to chunk bytes, the position begun and O_DIRECT's alignment
 * checked. Returns the total (> 0: end with iov_end) or, with nothing
 * held, 0 or an error. */
static long iov_begin(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, const off_t *at,
                      int write, size_t chunk, struct iov_io *io)
{
    long total = import_iovec(t, uiov, cnt, &io->iov);
    if (total <= 0) {
        free(io->iov);
        return total;
    }
    io->cap = (size_t)total < chunk ? (size_t)total : chunk;
    io->buf = malloc(io->cap);
    long r = -ENOMEM;
    if (io->buf && (r = pos_begin(&io->p, f, at, (size_t)total)) == 0 &&
        (r = dio_check(f, *io->p.pos, write, io->iov, cnt)) < 0)
        pos_end(&io->p);
    if (r < 0) {
        free(io->buf);
        free(io->iov);
        return r;
    }
    return total;
}

static void iov_end(struct iov_io *io)
{
    pos_end(&io->p);
    free(io->buf);
    free(io->iov);
}

static long do_readv(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, const off_t *at)
{
    struct iov_io io;
    long r = iov_begin(t, f, uiov, cnt, at, 0, rw_chunk(f, SIZE_MAX), &io);
    if (r <= 0)
        return r;
    struct iovec *iov = io.iov;
    off_t start = *io.p.pos;
    r = f->ops->read(f, io.buf, io.cap, io.p.pos);
    /* Scatter what was read over the iovecs; like copy_to_iter, an
     * iovec that runs into an unmapped page ends the read short. */
    size_t off = 0;
    for (uint64_t i = 0; r > 0 && off < (size_t)r && i < cnt; i++) {
        size_t n = iov[i].iov_len < (size_t)r - off ? iov[i].iov_len : (size_t)r - off;
        long c = n ? copy_out_partial(t, (uint64_t)(uintptr_t)iov[i].iov_base, io.buf + off, n) : 0;
        off += c > 0 ? (size_t)c : 0;
        if (c < (long)n) {
            r = off && !f->ops->read_whole ? (long)off : -EFAULT;
            if (!(f->fmode & FMODE_STREAM))
                *io.p.pos = start + (off_t)off;
            break;
        }
    }
    iov_end(&io);
    return r;
}

/* writev of a file with write_segments (do_loop_readv_writev): one write
 * per iovec of the have bytes gathered, empty ones too, until one fails
 * or comes short. */
static long write_segments(struct file *f, struct iov_io *io, uint64_t cnt, size_t have)
{
    long done = 0;
    size_t pos = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        size_t n = io->iov[i].iov_len;
        ssize_t w = n > have - pos ? -EFAULT : file_write(f, io->buf + pos, n, io->p.pos);
        if (w < 0) {
            if (!done)
                done = w;
            break;
        }
        done += w;
        pos += (size_t)w;
        if ((size_t)w != n)
            break;
    }
    return done;
}

static long do_writev(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, const off_t *at)
{
    /* Gather into one buffer so the write is one host write (pipes, ttys). */
    struct iov_io io;
    long r = iov_begin(t, f, uiov, cnt, at, 1, 1 << 20, &io);
    if (r <= 0)
        return r;
    struct iovec *iov = io.iov;
    /* Like copy_from_iter: an iovec that runs into an unmapped page ends
     * the data there; none at all is EFAULT. */
    size_t off = 0;
    for (uint64_t i = 0; i < cnt && off < io.cap; i++) {
        size_t n = iov[i].iov_len < io.cap - off ? iov[i].iov_len : io.cap - off;
        long c = n ? copy_in_partial(t, io.buf + off, (uint64_t)(uintptr_t)iov[i].iov_base, n) : 0;
        off += c > 0 ? (size_t)c : 0;
        if (c < (long)n)
            break;
    }
    if (f->ops->write_segments)
        r = write_segments(f, &io, cnt, off);
    else
        r = off ? file_write(f, io.buf, off, io.p.pos) : -EFAULT;
    iov_end(&io);
    return r;
}

enum rw_kind { RW_READ, RW_WRITE, RW_READV, RW_WRITEV };

static long (*const rw_ops[])(struct task *t, struct file *f, uint64_t buf, size_t len,
                              const off_t *at) = {
    [RW_READ] = do_read,
    [RW_WRITE] = do_write,
    [RW_READV] = do_readv,
    [RW_WRITEV] = do_writev,
};

/* The I/O calls' one shape: the file at fd, open for reading or writing
 * and able to (with positions when at is given: ESPIPE for streams), then
 * the transfer with buf and len (an iovec array and its count for the
 * vector calls) at *at, or at the file position when at is NULL. */
static long rw_fd(struct task *t, enum rw_kind kind, int fd, uint64_t buf, uint64_t len, off_t *at)
{
    int write = kind == RW_WRITE || kind == RW_WRITEV;
    long r;
    struct file *f = at ? get_prw(t, write, fd, &r) : get_rw(t, write, fd, &r);
    if (!f)
        return r;
    r = rw_ops[kind](t, f, buf, len, at);
    if (r > 0 && write)
        fsnotify_modify(f);
    else if (r > 0)
        fsnotify_access(f);
    /* A write to a pipe or stream socket nobody reads: SIGPIPE too
     * (pipe_write, unix_stream_sendmsg); not for datagram sockets. */
    struct socket *s = sock_of(f);
    int sigpipe = r == -EPIPE && (!s || s->type == SOCK_STREAM);
    file_put(f);
    if (sigpipe)
        signal_thread(t, SIGPIPE);
    return r;
}

/* read, write, readv, writev: at the file position. */
static long rw_call(struct task *t, const struct sysargs *a, enum rw_kind kind)
{
    int fd = (int)a->a[0];
    uint64_t buf = a->a[1], count = a->a[2];
    return rw_fd(t, kind, fd, buf, count, NULL);
}

SYSCALL_AS(read, rw_call, RW_READ)
SYSCALL_AS(write, rw_call, RW_WRITE)
SYSCALL_AS(readv, rw_call, RW_READV)
SYSCALL_AS(writev, rw_call, RW_WRITEV)

/* pread64, pwrite64: at an offset, which may not be negative. */
static long prw_call(struct task *t, const struct sysargs *a, enum rw_kind kind)
{
    int fd = (int)a->a[0];
    uint64_t buf = a->a[1], count = a->a[2];
    off_t offset = (off_t)a->a[3];
    if (offset < 0)
        return -EINVAL;
    return rw_fd(t, kind, fd, buf, count, &offset);
}

SYSCALL_AS(pread64, prw_call, RW_READ)
SYSCALL_AS(pwrite64, prw_call, RW_WRITE)

/* preadv/pwritev(2): offset -1 with the v2 calls means the file position. */
static long prwv(struct task *t, const struct sysargs *a, int write, int v2)
{
    unsigned uflags = (unsigned)a->a[5];
    int fd = (int)a->a[0];
    uint64_t iov = a->a[1], iovcnt = a->a[2];
    off_t at = (off_t)a->a[3]; /* pos_l; on x86-64 pos_h adds nothing */
    unsigned flags = v2 ? uflags : 0;
    if (flags & ~RWF_SUPPORTED)
        return -EOPNOTSUPP;
    enum rw_kind kind = write ? RW_WRITEV : RW_READV;
    if (v2 && at == -1)
        return rw_fd(t, kind, fd, iov, iovcnt, NULL);
    if (at < 0)
        return -EINVAL;
    if (!(write && (flags & RWF_APPEND_FLAG)))
        return rw_fd(t, kind, fd, iov, iovcnt, &at);
    /* RWF_APPEND: this one write goes to the end, whatever the offset. */
    long err;
    struct file *f = get_prw(t, write, fd, &err);
    if (!f)
        return err;
    long r = file_size(f, &at);
    if (r == 0)
        r = do_writev(t, f, iov, iovcnt, &at);
    if (r > 0)
        fsnotify_modify(f);
    file_put(f);
    return r;
}

SYSCALL_AS(preadv, prwv, 0, 0)
SYSCALL_AS(pwritev, prwv, 1, 0)
SYSCALL_AS(preadv2, prwv, 0, 1)
SYSCALL_AS(pwritev2, prwv, 1, 1)

SYSCALL_DEFINE3(lseek, int, fd, off_t, off, int, whence)
{
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r;
    if (whence < 0 || whence > SEEK_HOLE) {
        r = -EINVAL;
    } else if (f->fmode & FMODE_STREAM) {
        r = f->fmode & FMODE_NOOP_LLSEEK ? 0 : -ESPIPE;
    } else {
        pthread_mutex_lock(&f->pos_lock);
        r = f->ops->llseek ? f->ops->llseek(f, off, whence) : file_generic_llseek(f, off, whence);
        if (r >= 0)
            f->pos = r;
        pthread_mutex_unlock(&f->pos_lock);
    }
    file_put(f);
    return r;
}

/* ---- getdents ---- */

struct dents_ctx {
    struct dir_context ctx;
    char *buf;
    size_t cap, used;
    size_t prev; /* offset of the previous record, or SIZE_MAX */
    int old;     /* struct linux_dirent (getdents) */
    int err;
};

static int dents_emit(struct dir_context *c, const char *name, size_t namelen, uint64_t ino,
                      unsigned type)
{
    struct dents_ctx *d = (struct dents_ctx *)c;
    size_t reclen = d->old ? (18 + namelen + 2 + 7) & ~7UL : (19 + namelen + 1 + 7) & ~7UL;
    if (d->used + reclen > d->cap) {
        if (d->used == 0)
            d->err = -EINVAL;
        return 1;
    }
    char *r = d->buf + d->used;
    memset(r, 0, reclen);
    /* The previous record's d_off is the cookie of what follows it: here. */
    if (d->prev != SIZE_MAX)
        memcpy(d->buf + d->prev + 8, &c->pos, 8);
    memcpy(r, &ino, 8);
    unsigned short rl = (unsigned short)reclen;
    memcpy(r + 16, &rl, 2);
    if (d->old) {
        memcpy(r + 18, name, namelen);
        r[reclen - 1] = (char)type;
    } else {
        r[18] = (char)type;
        memcpy(r + 19, name, namelen);
    }
    d->prev = d->used;
    d->used += reclen;
    return 0;
}

static long do_getdents(struct task *t, const struct sysargs *a, int old)
{
    int fd = (int)a->a[0];
    unsigned ucount = (unsigned)a->a[2];
    uint64_t ubuf = a->a[1];
    size_t count = (size_t)ucount;
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    if (!f->ops->iterate) {
        file_put(f);
        return -ENOTDIR;
    }
    if (count > INT_MAX)
        count = 0; /* Linux's int count is negative: no record fits (EINVAL; 0 at the end) */
    if (!guest_range_ok(ubuf, count)) {
        file_put(f);
        return -EFAULT;
    }
    if (count > RW_CHUNK * 4)
        count = RW_CHUNK * 4;
    struct dents_ctx d = {
        .ctx = { .emit = dents_emit }, .cap = count, .prev = SIZE_MAX, .old = old
    };
    d.buf = malloc(count ? count : 1);
    if (!d.buf) {
        file_put(f);
        return -ENOMEM;
    }
    pthread_mutex_lock(&f->pos_lock);
    d.ctx.pos = f->pos;
    int r = f->ops->iterate(f, &d.ctx);
    long ret;
    if (d.used == 0)
        ret = r < 0 ? r : d.err;
    else
        ret = (long)d.used;
    if (d.prev != SIZE_MAX)
        memcpy(d.buf + d.prev + 8, &d.ctx.pos, 8);
    if (ret > 0) {
        /* filldir copies record by record: a buffer that runs into an
         * unmapped page keeps the whole records before it, and the
         * position follows the last of them. */
        long c = copy_out_partial(t, ubuf, d.buf, d.used);
        if (c < (long)d.used) {
            size_t b = 0, last = SIZE_MAX;
            unsigned short rl;
            while (b < d.used) {
                memcpy(&rl, d.buf + b + 16, 2);
                if (c < 0 || b + rl > (size_t)c)
                    break;
                last = b;
                b += rl;
            }
            if (last == SIZE_MAX)
                ret = -EFAULT;
            else {
                ret = (long)b;
                memcpy(&d.ctx.pos, d.buf + last + 8, 8);
            }
        }
    }
    if (ret >= 0)
        f->pos = d.ctx.pos;
    pthread_mutex_unlock(&f->pos_lock);
    if (ret >= 0)
        fsnotify_access(f); /* iterate_dir: even at the end */
    free(d.buf);
    file_put(f);
    return ret;
}

SYSCALL_AS(getdents64, do_getdents, 0)
SYSCALL_AS(getdents, do_getdents, 1)

/* ---- copying between files ---- */

/* Give back n bytes read from in but not written, where we can. */
static void give_back(struct file *in, off_t *ipos, off_t n)
{
    if (in->fmode & FMODE_STREAM)
        return;
    if (ipos) {
        *ipos -= n;
    } else {
        pthread_mutex_lock(&in->pos_lock);
        in->pos -= n;
        pthread_mutex_unlock(&in->pos_lock);
    }
}

/* Move up to len bytes from in (at *ipos, or its own position) to out (at
 * *opos, or its own position) through a sentry buffer. Stops at EOF, at a
 * short write, or after a pipe read that returned less than asked. */
static long transfer(struct file *in, off_t *ipos, struct file *out, off_t *opos, size_t len)
{
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    size_t cap = len < RW_CHUNK ? len : RW_CHUNK;
    if (cap == 0)
        return 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    long done = 0;
    while ((size_t)done < len) {
        size_t want = len - (size_t)done < cap ? len - (size_t)done : cap;
        struct rwpos rp, wp;
        long vr = pos_begin(&rp, in, ipos, want);
        if (vr < 0) {
            if (done == 0)
                done = vr;
            break;
        }
        ssize_t n = in->ops->read(in, buf, want, rp.pos);
        if (ipos)
            *ipos = *rp.pos;
        pos_end(&rp);
        if (n <= 0) {
            if (done == 0)
                done = n;
            break;
        }
        if ((vr = pos_begin(&wp, out, opos, (size_t)n)) < 0) {
            if (done == 0)
                done = vr;
            give_back(in, ipos, n);
            break;
        }
        ssize_t w = 0;
        while (w < n) {
            ssize_t k = file_write(out, buf + w, (size_t)(n - w), wp.pos);
            if (k <= 0) {
                if (done == 0 && w == 0)
                    done = k;
                break;
            }
            w += k;
        }
        if (opos)
            *opos = *wp.pos;
        pos_end(&wp);
        if (w > 0)
            done += w;
        if (w < n) {
            give_back(in, ipos, n - w);
            break;
        }
        if ((size_t)n < want && (in->fmode & FMODE_STREAM))
            break;
    }
    free(buf);
    if (done > 0) {
        fsnotify_access(in);
        fsnotify_modify(out);
    }
    return done;
}

SYSCALL_DEFINE4(sendfile, int, out_fd, int, in_fd, uint64_t, uoffset, size_t, count)
{
    long err;
    struct file *out = get_rw(t, 1, out_fd, &err);
    if (!out)
        return err;
    struct file *in = get_rw(t, 0, in_fd, &err);
    if (!in) {
        file_put(out);
        return err;
    }
    long r = 0;
    off_t off = 0;
    if (out->flags & O_APPEND)
        r = -EINVAL;
    if (r == 0 && uoffset) {
        if (copy_in(t, &off, uoffset, sizeof(off)) < 0)
            r = -EFAULT;
        else if (off < 0)
            r = -EINVAL;
        else if (in->fmode & FMODE_STREAM)
            r = -ESPIPE;
    }
    /* do_sendfile: the whole count against the input's position, the
     * clamped one against the output's. */
    if (r == 0)
        r = verify_area(in, uoffset ? off : __atomic_load_n(&in->pos, __ATOMIC_RELAXED), count);
    if (count > MAX_RW_COUNT)
        count = MAX_RW_COUNT;
    if (r == 0)
        r = verify_area(out, __atomic_load_n(&out->pos, __ATOMIC_RELAXED), count);
    /* Past the smaller file system's largest offset: cut, or EOVERFLOW
     * when the input position is already there. */
    off_t ipos = uoffset ? off : __atomic_load_n(&in->pos, __ATOMIC_RELAXED);
    off_t max = max_bytes(in) < max_bytes(out) ? max_bytes(in) : max_bytes(out);
    if (r == 0 && ipos + (off_t)count > max) {
        if (ipos >= max)
            r = -EOVERFLOW;
        else
            count = (size_t)(max - ipos);
    }
    if (r == 0) {
        r = transfer(in, uoffset ? &off : NULL, out, NULL, count);
        if (uoffset && copy_out(t, uoffset, &off, sizeof(off)) < 0 && r >= 0)
            r = -EFAULT;
    }
    file_put(in);
    file_put(out);
    return r;
}

SYSCALL_DEFINE6(copy_file_range, int, fd_in, uint64_t, off_in, int, fd_out, uint64_t, off_out,
                size_t, len, uint64_t, uflags)
{
    if (uflags != 0)
        return -EINVAL;
    struct file *in = fget(t, fd_in);
    if (!in)
        return -EBADF;
    struct file *out = fget(t, fd_out);
    if (!out) {
        file_put(in);
        return -EBADF;
    }
    /* generic_file_rw_checks: the file types, then the access modes; then
     * (generic_copy_file_checks) both on one file system. */
    long r = 0;
    off_t ioff = 0, ooff = 0;
    if (!in->inode || !out->inode)
        r = -EINVAL;
    else if (S_ISDIR(in->inode->mode) || S_ISDIR(out->inode->mode))
        r = -EISDIR;
    else if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode) || !in->ops->read ||
             !out->ops->write)
        r = -EINVAL;
    else if (!file_readable(in) || !file_writable(out) || (out->flags & O_APPEND))
        r = -EBADF;
    else if (out->inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
        r = -EPERM;
    else if (in->inode->sb->dev != out->inode->sb->dev)
        r = -EXDEV;
    if (r == 0 && off_in && copy_in(t, &ioff, off_in, sizeof(ioff)) < 0)
        r = -EFAULT;
    if (r == 0 && off_out && copy_in(t, &ooff, off_out, sizeof(ooff)) < 0)
        r = -EFAULT;
    if (r == 0 && ((off_in && ioff < 0) || (off_out && ooff < 0)))
        r = -EOVERFLOW; /* as generic_copy_file_checks finds the range wrapping */
    /* generic_copy_file_checks: the copy ends at the input's end of file;
     * the output's limits cut it or refuse it; then the ranges are checked
     * as rw_verify_area does. */
    off_t is = off_in ? ioff : in->pos, os = off_out ? ooff : out->pos, isize = 0;
    if (r == 0)
        r = file_size(in, &isize);
    if (r == 0) {
        len = is >= isize ? 0 : len < (uint64_t)(isize - is) ? len : (size_t)(isize - is);
        r = fsize_limit(os, &len);
        /* generic_write_check_limits: the output file system's largest
         * offset refuses or cuts the copy. */
        off_t max = max_bytes(out);
        if (r == 0 && os >= max)
            r = -EFBIG;
        else if (r == 0 && len > (uint64_t)(max - os))
            len = (size_t)(max - os);
    }
    if (r == 0 && in->inode->sb == out->inode->sb && in->inode->ino == out->inode->ino) {
        /* The same file: the ranges may not overlap. */
        /* No overflow: len was cut to the input's end of file and the
         * output's largest offset above. */
        if (is < os + (off_t)len && os < is + (off_t)len)
            r = -EINVAL;
    }
    if (r == 0)
        r = verify_area(in, is, len);
    if (r == 0)
        r = verify_area(out, os, len);
    if (r == 0) {
        r = transfer(in, off_in ? &ioff : NULL, out, off_out ? &ooff : NULL, len);
        if (r > 0 && off_in && copy_out(t, off_in, &ioff, sizeof(ioff)) < 0)
            r = -EFAULT;
        if (r > 0 && off_out && copy_out(t, off_out, &ooff, sizeof(ooff)) < 0)
            r = -EFAULT;
    }
    file_put(in);
    file_put(out);
    return r;
}

#define SPLICE_F_ALL 0xfU /* MOVE NONBLOCK MORE GIFT */

/* A file and its position for the pipe side's callbacks. */
struct splice_end {
    struct file *f;
    off_t *pos;
};

static ssize_t splice_consume(void *ctx, const void *data, size_t len)
{
    struct splice_end *e = ctx;
    struct rwpos p;
    long r = pos_begin(&p, e->f, e->pos, len);
    if (r < 0)
        return r;
    ssize_t n = file_write(e->f, data, len, p.pos);
    if (e->pos)
        *e->pos = *p.pos;
    pos_end(&p);
    return n;
}

static ssize_t splice_produce(void *ctx, void *buf, size_t len)
{
    struct splice_end *e = ctx;
    struct rwpos p;
    long r = pos_begin(&p, e->f, e->pos, len);
    if (r < 0)
        return r;
    ssize_t n = e->f->ops->read(e->f, buf, len, p.pos);
    if (e->pos)
        *e->pos = *p.pos;
    pos_end(&p);
    return n;
}

/* An optional loff_t argument of splice: copied in and checked. */
static long splice_off(struct task *t, uint64_t uoff, struct file *f, off_t *off)
{
    if (!uoff)
        return 0;
    if (file_is_pipe(f))
        return -ESPIPE;
    if (copy_in(t, off, uoff, sizeof(*off)) < 0)
        return -EFAULT;
    if (f->fmode & FMODE_STREAM)
        return -ESPIPE;
    return *off < 0 ? -EINVAL : 0;
}

SYSCALL_DEFINE6(splice, int, fd_in, uint64_t, off_in, int, fd_out, uint64_t, off_out, uint64_t,
                ulen, unsigned, flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fget(t, fd_in);
    struct file *out = fget(t, fd_out);
    long r = 0;
    off_t ioff = 0, ooff = 0;
    if (!in || !out)
        r = -EBADF;
    else if (!file_readable(in) || !file_writable(out))
        r = -EBADF;
    else if (!file_is_pipe(in) && !file_is_pipe(out))
        r = -EINVAL;
    else if (out->flags & O_APPEND)
        r = -EINVAL;
    if (r == 0)
        r = splice_off(t, off_in, in, &ioff);
    if (r == 0)
        r = splice_off(t, off_out, out, &ooff);
    if (r == 0) {
        size_t len = ulen > MAX_RW_COUNT ? MAX_RW_COUNT : ulen;
        int nb = !!(flags & SPLICE_F_NONBLOCK);
        if (file_is_pipe(in) && file_is_pipe(out)) {
            r = pipe_splice_pipe(in, out, len, nb);
        } else if (file_is_pipe(in)) {
            if (!out->ops->write)
                r = -EINVAL;
            else {
                struct splice_end e = { out, off_out ? &ooff : NULL };
                r = pipe_splice_out(in, len, nb, splice_consume, &e);
            }
        } else {
            if (!in->ops->read)
                r = -EINVAL;
            else {
                struct splice_end e = { in, off_in ? &ioff : NULL };
                r = pipe_splice_in(out, len, nb, splice_produce, &e);
            }
        }
        if (r > 0) {
            fsnotify_access(in);
            fsnotify_modify(out);
        }
        if (r > 0 && off_in && copy_out(t, off_in, &ioff, sizeof(ioff)) < 0)
            r = -EFAULT;
        if (r > 0 && off_out && copy_out(t, off_out, &ooff, sizeof(ooff)) < 0)
            r = -EFAULT;
    }
    if (in)
        file_put(in);
    if (out)
        file_put(out);
    return r;
}

SYSCALL_DEFINE4(tee, int, fd_in, int, fd_out, uint64_t, len, unsigned, flags)
{
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fget(t, fd_in);
    struct file *out = fget(t, fd_out);
    long r;
    if (!in || !out)
        r = -EBADF;
    else if (!file_readable(in) || !file_writable(out))
        r = -EBADF;
    else
        r = pipe_tee(in, out, len > MAX_RW_COUNT ? MAX_RW_COUNT : len,
                     !!(flags & SPLICE_F_NONBLOCK));
    if (in)
        file_put(in);
    if (out)
        file_put(out);
    return r;
}
