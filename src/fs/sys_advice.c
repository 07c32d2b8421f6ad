/* Page-cache advice on open files: readahead, fadvise64 and
 * sync_file_range. Each makes Linux's checks in Linux's order (the file
 * type from the sentry's model), then passes the advice on to the host
 * file of a hostfs regular file, whose pages live in the host's page cache.
 * tmpfs files (host memfds) get nothing passed: Linux's tmpfs ignores
 * the advice too (no backing device, nothing to read ahead or write back). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#ifndef SYNC_FILE_RANGE_WAIT_BEFORE
#define SYNC_FILE_RANGE_WAIT_BEFORE 1
#define SYNC_FILE_RANGE_WRITE 2
#define SYNC_FILE_RANGE_WAIT_AFTER 4
#endif

/* The file's S_IFMT type: the inode's, or what its stat says (host
 * streams, anonymous files); 0 if neither knows. */
static mode_t file_type(struct file *f)
{
    if (f->inode)
        return f->inode->mode & S_IFMT;
    struct stat st;
    memset(&st, 0, sizeof(st));
    if (f->ops->stat && f->ops->stat(f, &st) == 0)
        return st.st_mode & S_IFMT;
    return 0;
}

/* The host descriptor of a hostfs regular file, or -1. */
static int host_file(struct file *f, mode_t type)
{
    return type == S_IFREG && f->ops->mmap_fd && f->host_fd >= 0 ? f->host_fd : -1;
}

/* generic_fadvise's checks, after the caller's: ESPIPE for FIFOs, a negative
 * length, then the advice (POSIX_FADV_NORMAL ... POSIX_FADV_NOREUSE). */
static long fadvise_check(mode_t type, int64_t len, int advice)
{
    if (type == S_IFIFO)
        return -ESPIPE;
    if (len < 0)
        return -EINVAL;
    if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
        return -EINVAL;
    return 0;
}

/* The advice on the file at a->a[0] (EBADF), its reference dropped after. */
static long advise(struct task *t, const struct sysargs *a,
                   long (*fn)(struct file *f, const struct sysargs *a))
{
    struct file *f = fget(t, (int)a->a[0]);
    if (!f)
        return -EBADF;
    long r = fn(f, a);
    file_put(f);
    return r;
}

static long fadvise64_on(struct file *f, const struct sysargs *a)
{
    int64_t off = (int64_t)a->a[1], len = (int64_t)a->a[2];
    int advice = (int)a->a[3];
    mode_t type = file_type(f);
    long r = fadvise_check(type, len, advice);
    int hfd = host_file(f, type);
    /* Advice only: what the host makes of it changes no answer. */
    if (r == 0 && hfd >= 0)
        (void)posix_fadvise(hfd, off, len, advice);
    return r;
}

static long readahead_on(struct file *f, const struct sysargs *a)
{
    int64_t off = (int64_t)a->a[1];
    uint64_t count = a->a[2];
    long r = -EBADF;
    int acc = f->flags & O_ACCMODE;
    mode_t type = file_type(f);
    if (acc == O_RDONLY || acc == O_RDWR) {
        r = -EINVAL;
        if (type == S_IFREG || type == S_IFBLK)
            r = fadvise_check(type, (int64_t)count, POSIX_FADV_WILLNEED);
    }
    int hfd = host_file(f, type);
    if (r == 0 && hfd >= 0)
        (void)readahead(hfd, off, count);
    return r;
}

static long sync_file_range_on(struct file *f, const struct sysargs *a)
{
    int64_t off = (int64_t)a->a[1], n = (int64_t)a->a[2];
    unsigned flags = (unsigned)a->a[3];
    int64_t end = (int64_t)((uint64_t)off + (uint64_t)n);
    mode_t type = file_type(f);
    if (flags & ~(unsigned)(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER))
        return -EINVAL;
    if (off < 0 || end < 0 || end < off)
        return -EINVAL;
    if (type != S_IFREG && type != S_IFBLK && type != S_IFDIR && type != S_IFLNK)
        return -ESPIPE;
    /* Write-back errors of the host file (EIO, ENOSPC) are the guest's. */
    int hfd = host_file(f, type);
    if (hfd >= 0 && sync_file_range(hfd, off, n, flags) < 0)
        return -errno;
    return 0;
}

SYSCALL_AS(fadvise64, advise, fadvise64_on)
SYSCALL_AS(readahead, advise, readahead_on)
SYSCALL_AS(sync_file_range, advise, sync_file_range_on)
