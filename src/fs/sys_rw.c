/* Data transfer: read, write, pread64, pwrite64, readv, writev, preadv,
 * pwritev, preadv2, pwritev2, lseek, getdents(64), sendfile,
 * copy_file_range, splice, tee and ioctl: validate, copy in, call the
 * file, copy out. */
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
#include "fs/pipe.h"
#include "fs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define MAX_RW_COUNT (INT_MAX & ~4095L)
#define RW_CHUNK (64 * 1024)
#define SMALL_IO 8192 /* transfers up to this size use a stack buffer */
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define RWF_SUPPORTED 0x7fU /* HIPRI DSYNC SYNC NOWAIT APPEND NOAPPEND ATOMIC */
#define RWF_APPEND_FLAG 0x10U

struct file *fget(struct task *t, int fd)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (f && (f->fmode & FMODE_PATH)) {
        file_put(f);
        return NULL;
    }
    return f;
}

/* The file at fd, open for reading (write = 0) or writing (write = 1) and
 * able to do it; else NULL with EBADF (not open that way) or EINVAL (the file
 * type cannot), as vfs_read and vfs_write check. */
static struct file *get_rw(struct task *t, int write, int fd, long *err)
{
    struct file *f = fget(t, fd);
    *err = -EBADF;
    if (!f)
        return NULL;
    if ((f->flags & O_ACCMODE) == (write ? O_RDONLY : O_WRONLY)) {
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

static void pos_begin(struct rwpos *p, struct file *f, const off_t *explicit)
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
}

static void pos_end(struct rwpos *p)
{
    if (p->locked)
        pthread_mutex_unlock(&p->f->pos_lock);
}

/* Read up to len bytes of f into guest memory at buf. */
static long do_read(struct task *t, struct file *f, uint64_t buf, size_t len, const off_t *at)
{
    /* vfs_read/vfs_write check access_ok before clamping the count. */
    if (!guest_range_ok(buf, len))
        return -EFAULT;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (len == 0)
        return 0;
    size_t cap = len < RW_CHUNK ? len : RW_CHUNK;
    char small[SMALL_IO];
    char *tmp = cap <= sizeof(small) ? small : malloc(cap);
    if (!tmp)
        return -ENOMEM;
    struct rwpos p;
    pos_begin(&p, f, at);
    off_t start = *p.pos;
    ssize_t n = f->ops->read(f, tmp, cap, p.pos);
    if (n > 0) {
        /* Like copy_to_user: a short copy is a short read, none is EFAULT. */
        long c = copy_out_partial(t, buf, tmp, (size_t)n);
        if (c < n && !(f->fmode & FMODE_STREAM))
            *p.pos = start + (c > 0 ? c : 0);
        n = c > 0 ? c : -EFAULT;
    }
    pos_end(&p);
    if (tmp != small)
        free(tmp);
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
    off_t size;
    long r = file_size(f, &size);
    if (r < 0)
        return r;
    off_t pos = at ? *at : (f->flags & O_APPEND) ? size : f->pos;
    return pos + (off_t)len > size ? -EPERM : 0;
}

/* Write len bytes of guest memory at buf to f, a chunk at a time. */
static long do_write(struct task *t, struct file *f, uint64_t buf, size_t len, const off_t *at)
{
    if (!guest_range_ok(buf, len))
        return -EFAULT;
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (f->ops->write_discards)
        return (long)len;
    long sr = seal_grow_check(f, at, len);
    if (sr < 0)
        return sr;
    if (len == 0) {
        /* The file still sees a zero-length write (/dev/full fails it). */
        struct rwpos p;
        char none;
        pos_begin(&p, f, at);
        long r = f->ops->write(f, &none, 0, p.pos);
        pos_end(&p);
        return r;
    }
    size_t cap = len < RW_CHUNK ? len : RW_CHUNK;
    char small[SMALL_IO];
    char *tmp = cap <= sizeof(small) ? small : malloc(cap);
    if (!tmp)
        return -ENOMEM;
    struct rwpos p;
    pos_begin(&p, f, at);
    long done = 0;
    while ((size_t)done < len) {
        size_t n = len - (size_t)done < cap ? len - (size_t)done : cap;
        long c = copy_in_partial(t, tmp, buf + (uint64_t)done, n);
        if (c <= 0) {
            if (done == 0)
                done = -EFAULT;
            break;
        }
        ssize_t w = f->ops->write(f, tmp, (size_t)c, p.pos);
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
    if (tmp != small)
        free(tmp);
    return done;
}

long sys_read(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 0, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_read(t, f, a->a[1], a->a[2], NULL);
    file_put(f);
    return r;
}

long sys_write(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 1, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_write(t, f, a->a[1], a->a[2], NULL);
    file_put(f);
    return r;
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

long sys_pread64(struct task *t, const struct sysargs *a)
{
    off_t at = (off_t)a->a[3];
    if (at < 0)
        return -EINVAL;
    long err;
    struct file *f = get_prw(t, 0, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_read(t, f, a->a[1], a->a[2], &at);
    file_put(f);
    return r;
}

long sys_pwrite64(struct task *t, const struct sysargs *a)
{
    off_t at = (off_t)a->a[3];
    if (at < 0)
        return -EINVAL;
    long err;
    struct file *f = get_prw(t, 1, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_write(t, f, a->a[1], a->a[2], &at);
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

static long do_readv(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, const off_t *at)
{
    struct iovec *iov;
    long total = import_iov(t, uiov, cnt, &iov);
    if (total <= 0) {
        free(iov);
        return total;
    }
    size_t cap = (size_t)total < RW_CHUNK ? (size_t)total : RW_CHUNK;
    char *tmp = malloc(cap);
    long r = -ENOMEM;
    if (tmp) {
        struct rwpos p;
        pos_begin(&p, f, at);
        off_t start = *p.pos;
        r = f->ops->read(f, tmp, cap, p.pos);
        /* Scatter what was read over the iovecs. */
        size_t off = 0;
        for (uint64_t i = 0; r > 0 && off < (size_t)r && i < cnt; i++) {
            size_t n = iov[i].iov_len < (size_t)r - off ? iov[i].iov_len : (size_t)r - off;
            if (n && copy_out(t, (uint64_t)(uintptr_t)iov[i].iov_base, tmp + off, n) < 0) {
                r = off ? (long)off : -EFAULT;
                if (!(f->fmode & FMODE_STREAM))
                    *p.pos = start + (off_t)off;
                break;
            }
            off += n;
        }
        pos_end(&p);
    }
    free(tmp);
    free(iov);
    return r;
}

static long do_writev(struct task *t, struct file *f, uint64_t uiov, uint64_t cnt, const off_t *at)
{
    struct iovec *iov;
    long total = import_iov(t, uiov, cnt, &iov);
    if (total <= 0) {
        free(iov);
        return total;
    }
    /* Gather into one buffer so the write is one host write (pipes, ttys). */
    size_t cap = (size_t)total < (1 << 20) ? (size_t)total : (1 << 20);
    char *tmp = malloc(cap);
    long r = -ENOMEM;
    if (tmp) {
        size_t off = 0;
        r = 0;
        for (uint64_t i = 0; i < cnt && off < cap; i++) {
            size_t n = iov[i].iov_len < cap - off ? iov[i].iov_len : cap - off;
            if (n && copy_in(t, tmp + off, (uint64_t)(uintptr_t)iov[i].iov_base, n) < 0) {
                if (off == 0)
                    r = -EFAULT;
                break;
            }
            off += n;
        }
        if (r == 0 && off > 0) {
            struct rwpos p;
            pos_begin(&p, f, at);
            r = f->ops->write(f, tmp, off, p.pos);
            pos_end(&p);
        }
    }
    free(tmp);
    free(iov);
    return r;
}

long sys_readv(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 0, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_readv(t, f, a->a[1], a->a[2], NULL);
    file_put(f);
    return r;
}

long sys_writev(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *f = get_rw(t, 1, (int)a->a[0], &err);
    if (!f)
        return err;
    long r = do_writev(t, f, a->a[1], a->a[2], NULL);
    file_put(f);
    return r;
}

/* preadv/pwritev(2): offset -1 with the v2 calls means the file position. */
static long prwv(struct task *t, const struct sysargs *a, int write, int v2)
{
    off_t at = (off_t)a->a[3]; /* pos_l; on x86-64 pos_h adds nothing */
    unsigned flags = v2 ? (unsigned)a->a[5] : 0;
    if (flags & ~RWF_SUPPORTED)
        return -EOPNOTSUPP;
    long err;
    struct file *f;
    if (v2 && at == -1) {
        f = get_rw(t, write, (int)a->a[0], &err);
        if (!f)
            return err;
        long r = write ? do_writev(t, f, a->a[1], a->a[2], NULL) : do_readv(t, f, a->a[1], a->a[2], NULL);
        file_put(f);
        return r;
    }
    if (at < 0)
        return -EINVAL;
    f = get_prw(t, write, (int)a->a[0], &err);
    if (!f)
        return err;
    /* RWF_APPEND: this one write goes to the end, whatever the offset. */
    if (write && (flags & RWF_APPEND_FLAG)) {
        long sr = file_size(f, &at);
        if (sr < 0) {
            file_put(f);
            return sr;
        }
    }
    long r = write ? do_writev(t, f, a->a[1], a->a[2], &at) : do_readv(t, f, a->a[1], a->a[2], &at);
    file_put(f);
    return r;
}

long sys_preadv(struct task *t, const struct sysargs *a)
{
    return prwv(t, a, 0, 0);
}

long sys_pwritev(struct task *t, const struct sysargs *a)
{
    return prwv(t, a, 1, 0);
}

long sys_preadv2(struct task *t, const struct sysargs *a)
{
    return prwv(t, a, 0, 1);
}

long sys_pwritev2(struct task *t, const struct sysargs *a)
{
    return prwv(t, a, 1, 1);
}

long sys_lseek(struct task *t, const struct sysargs *a)
{
    struct file *f = fget(t, (int)a->a[0]);
    if (!f)
        return -EBADF;
    off_t off = (off_t)a->a[1];
    int whence = (int)a->a[2];
    long r;
    if (whence < 0 || whence > SEEK_HOLE) {
        r = -EINVAL;
    } else if (f->fmode & FMODE_STREAM) {
        r = -ESPIPE;
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
    size_t prev;              /* offset of the previous record, or SIZE_MAX */
    int old;                  /* struct linux_dirent (getdents) */
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
    uint64_t ubuf = a->a[1];
    size_t count = (size_t)(unsigned)a->a[2];
    struct file *f = fget(t, (int)a->a[0]);
    if (!f)
        return -EBADF;
    if (!guest_range_ok(ubuf, count)) {
        file_put(f);
        return -EFAULT;
    }
    if (!f->ops->iterate) {
        file_put(f);
        return -ENOTDIR;
    }
    if (count > RW_CHUNK * 4)
        count = RW_CHUNK * 4;
    struct dents_ctx d = { .ctx = { .emit = dents_emit }, .cap = count, .prev = SIZE_MAX, .old = old };
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
    if (ret > 0 && copy_out(t, ubuf, d.buf, d.used) < 0)
        ret = -EFAULT;
    if (ret >= 0)
        f->pos = d.ctx.pos;
    pthread_mutex_unlock(&f->pos_lock);
    free(d.buf);
    file_put(f);
    return ret;
}

long sys_getdents64(struct task *t, const struct sysargs *a)
{
    return do_getdents(t, a, 0);
}

long sys_getdents(struct task *t, const struct sysargs *a)
{
    return do_getdents(t, a, 1);
}

/* ---- copying between files ---- */

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
        pos_begin(&rp, in, ipos);
        ssize_t n = in->ops->read(in, buf, want, rp.pos);
        if (ipos)
            *ipos = *rp.pos;
        pos_end(&rp);
        if (n <= 0) {
            if (done == 0)
                done = n;
            break;
        }
        pos_begin(&wp, out, opos);
        ssize_t w = 0;
        while (w < n) {
            ssize_t k = out->ops->write(out, buf + w, (size_t)(n - w), wp.pos);
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
            /* Give back what was read but not written, where we can. */
            if (!(in->fmode & FMODE_STREAM)) {
                if (ipos)
                    *ipos -= n - w;
                else {
                    pthread_mutex_lock(&in->pos_lock);
                    in->pos -= n - w;
                    pthread_mutex_unlock(&in->pos_lock);
                }
            }
            break;
        }
        if ((size_t)n < want && (in->fmode & FMODE_STREAM))
            break;
    }
    free(buf);
    return done;
}

long sys_sendfile(struct task *t, const struct sysargs *a)
{
    long err;
    struct file *out = get_rw(t, 1, (int)a->a[0], &err);
    if (!out)
        return err;
    struct file *in = get_rw(t, 0, (int)a->a[1], &err);
    if (!in) {
        file_put(out);
        return err;
    }
    long r = 0;
    off_t off = 0;
    if (out->flags & O_APPEND)
        r = -EINVAL;
    if (r == 0 && a->a[2]) {
        if (copy_in(t, &off, a->a[2], sizeof(off)) < 0)
            r = -EFAULT;
        else if (off < 0)
            r = -EINVAL;
        else if (in->fmode & FMODE_STREAM)
            r = -ESPIPE;
    }
    if (r == 0) {
        r = transfer(in, a->a[2] ? &off : NULL, out, NULL, a->a[3]);
        if (a->a[2] && copy_out(t, a->a[2], &off, sizeof(off)) < 0 && r >= 0)
            r = -EFAULT;
    }
    file_put(in);
    file_put(out);
    return r;
}

long sys_copy_file_range(struct task *t, const struct sysargs *a)
{
    if (a->a[5] != 0)
        return -EINVAL;
    long err;
    struct file *in = get_rw(t, 0, (int)a->a[0], &err);
    if (!in)
        return err == -EINVAL ? -EINVAL : err;
    struct file *out = get_rw(t, 1, (int)a->a[2], &err);
    if (!out) {
        file_put(in);
        return err;
    }
    long r = 0;
    off_t ioff = 0, ooff = 0;
    if (!in->inode || !out->inode)
        r = -EINVAL;
    else if (S_ISDIR(in->inode->mode) || S_ISDIR(out->inode->mode))
        r = -EISDIR;
    else if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode))
        r = -EINVAL;
    else if (out->flags & O_APPEND)
        r = -EBADF;
    if (r == 0 && a->a[1] && copy_in(t, &ioff, a->a[1], sizeof(ioff)) < 0)
        r = -EFAULT;
    if (r == 0 && a->a[3] && copy_in(t, &ooff, a->a[3], sizeof(ooff)) < 0)
        r = -EFAULT;
    if (r == 0 && ((a->a[1] && ioff < 0) || (a->a[3] && ooff < 0)))
        r = -EOVERFLOW; /* as generic_copy_file_checks finds the range wrapping */
    if (r == 0 && in->inode->sb == out->inode->sb && in->inode->ino == out->inode->ino) {
        /* The same file: the ranges may not overlap. */
        off_t is = a->a[1] ? ioff : in->pos, os = a->a[3] ? ooff : out->pos;
        off_t len = (off_t)(a->a[4] > MAX_RW_COUNT ? MAX_RW_COUNT : a->a[4]);
        /* Ends saturate at the largest offset: both starts are >= 0 here,
         * but either may be within len of it, and a signed overflow is
         * undefined. */
        off_t ie = is > INT64_MAX - len ? INT64_MAX : is + len;
        off_t oe = os > INT64_MAX - len ? INT64_MAX : os + len;
        if (is < oe && os < ie)
            r = -EINVAL;
    }
    if (r == 0) {
        r = transfer(in, a->a[1] ? &ioff : NULL, out, a->a[3] ? &ooff : NULL, a->a[4]);
        if (r > 0 && a->a[1] && copy_out(t, a->a[1], &ioff, sizeof(ioff)) < 0)
            r = -EFAULT;
        if (r > 0 && a->a[3] && copy_out(t, a->a[3], &ooff, sizeof(ooff)) < 0)
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
    pos_begin(&p, e->f, e->pos);
    ssize_t n = e->f->ops->write(e->f, data, len, p.pos);
    if (e->pos)
        *e->pos = *p.pos;
    pos_end(&p);
    return n;
}

static ssize_t splice_produce(void *ctx, void *buf, size_t len)
{
    struct splice_end *e = ctx;
    struct rwpos p;
    pos_begin(&p, e->f, e->pos);
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

long sys_splice(struct task *t, const struct sysargs *a)
{
    unsigned flags = (unsigned)a->a[5];
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fget(t, (int)a->a[0]);
    struct file *out = fget(t, (int)a->a[2]);
    long r = 0;
    off_t ioff = 0, ooff = 0;
    if (!in || !out)
        r = -EBADF;
    else if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY)
        r = -EBADF;
    else if (!file_is_pipe(in) && !file_is_pipe(out))
        r = -EINVAL;
    else if (out->flags & O_APPEND)
        r = -EINVAL;
    if (r == 0)
        r = splice_off(t, a->a[1], in, &ioff);
    if (r == 0)
        r = splice_off(t, a->a[3], out, &ooff);
    if (r == 0) {
        size_t len = a->a[4] > MAX_RW_COUNT ? MAX_RW_COUNT : a->a[4];
        int nb = !!(flags & SPLICE_F_NONBLOCK);
        if (file_is_pipe(in) && file_is_pipe(out)) {
            r = pipe_splice_pipe(in, out, len, nb);
        } else if (file_is_pipe(in)) {
            if (!out->ops->write)
                r = -EINVAL;
            else {
                struct splice_end e = { out, a->a[3] ? &ooff : NULL };
                r = pipe_splice_out(in, len, nb, splice_consume, &e);
            }
        } else {
            if (!in->ops->read)
                r = -EINVAL;
            else {
                struct splice_end e = { in, a->a[1] ? &ioff : NULL };
                r = pipe_splice_in(out, len, nb, splice_produce, &e);
            }
        }
        if (r > 0 && a->a[1] && copy_out(t, a->a[1], &ioff, sizeof(ioff)) < 0)
            r = -EFAULT;
        if (r > 0 && a->a[3] && copy_out(t, a->a[3], &ooff, sizeof(ooff)) < 0)
            r = -EFAULT;
    }
    if (in)
        file_put(in);
    if (out)
        file_put(out);
    return r;
}

long sys_tee(struct task *t, const struct sysargs *a)
{
    unsigned flags = (unsigned)a->a[3];
    if (flags & ~SPLICE_F_ALL)
        return -EINVAL;
    struct file *in = fget(t, (int)a->a[0]);
    struct file *out = fget(t, (int)a->a[1]);
    long r;
    if (!in || !out)
        r = -EBADF;
    else if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY)
        r = -EBADF;
    else
        r = pipe_tee(in, out, a->a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a->a[2], !!(flags & SPLICE_F_NONBLOCK));
    if (in)
        file_put(in);
    if (out)
        file_put(out);
    return r;
}
