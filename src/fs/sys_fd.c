/* Descriptors: open, openat, openat2, creat, close, close_range, dup,
 * dup2, dup3, fcntl, flock, ioctl, pipe, pipe2, memfd_create, fsync,
 * fdatasync, sync, syncfs, ftruncate and fallocate. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/pathop.h"
#include "fs/file/lock.h"
#include "fs/file/pipe.h"
#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

/* The kernel's O_LARGEFILE on x86-64: every open forces it (glibc's is 0). */
#define K_O_LARGEFILE 0100000
#define K_O_NOTIFICATION_PIPE O_EXCL

#define VALID_OPEN_FLAGS                                                                           \
    (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |         \
     O_ASYNC | O_DIRECT | K_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |       \
     O_PATH | O_TMPFILE | O_SYNC)
static long do_open(struct task *t, int dirfd, uint64_t upath, int flags, mode_t mode, int resolve)
{
    char *path;
    long r = getname_alloc(t, upath, 0, &path);
    if (r < 0)
        return r;
    if ((flags & O_CREAT) && (flags & O_DIRECTORY)) {
        free(path);
        return -EINVAL;
    }
    if ((flags & O_TMPFILE) == O_TMPFILE && (flags & O_ACCMODE) == O_RDONLY) {
        free(path);
        return -EINVAL;
    }
    flags &= VALID_OPEN_FLAGS; /* open and openat ignore unknown bits */
    if (flags & O_PATH)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    struct file *f = NULL;
    struct path_op op;
    path_op_init(t, dirfd, path, resolve, &op);
    r = vfs_open(&op, flags, mode & ~(mode_t)__atomic_load_n(&t->proc->fs->umask, __ATOMIC_RELAXED),
                 &f);
    path_op_done(&op);
    free(path);
    if (r < 0)
        return r;
    if (!(flags & O_PATH))
        f->flags |= K_O_LARGEFILE;
    return fd_install_new(t, f, !!(flags & O_CLOEXEC));
}

SYSCALL_DEFINE4(openat, int, dirfd, uint64_t, pathname, int, flags, mode_t, mode)
{
    return do_open(t, dirfd, pathname, flags, mode, 0);
}

SYSCALL_AS(open, sys_at_form, 1, 3, sys_openat)

SYSCALL_DEFINE2(creat, uint64_t, pathname, mode_t, mode)
{
    return do_open(t, AT_FDCWD, pathname, O_CREAT | O_WRONLY | O_TRUNC, mode, 0);
}

#define VALID_RESOLVE                                                                              \
    (RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |             \
     RESOLVE_IN_ROOT | RESOLVE_CACHED)

SYSCALL_DEFINE4(openat2, int, dirfd, uint64_t, pathname, uint64_t, uhow, size_t, size)
{
    struct open_how how;
    if (size < sizeof(how))
        return -EINVAL;
    if (size > 4096)
        return -E2BIG;
    memset(&how, 0, sizeof(how));
    if (copy_in(t, &how, uhow, sizeof(how)) < 0)
        return -EFAULT;
    /* A larger struct is fine if the part we do not know is zero. */
    for (size_t off = sizeof(how); off < size;) {
        char z[256];
        size_t n = size - off < sizeof(z) ? size - off : sizeof(z);
        if (copy_in(t, z, uhow + off, n) < 0)
            return -EFAULT;
        for (size_t i = 0; i < n; i++)
            if (z[i])
                return -E2BIG;
        off += n;
    }
    if (how.flags & ~(uint64_t)VALID_OPEN_FLAGS)
        return -EINVAL;
    if (how.resolve & ~(uint64_t)VALID_RESOLVE)
        return -EINVAL;
    if ((how.flags & O_CREAT) || (how.flags & O_TMPFILE) == O_TMPFILE) {
        if (how.mode & ~07777ULL)
            return -EINVAL;
    } else if (how.mode) {
        return -EINVAL;
    }
    if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
        return -EINVAL;
    if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_CREAT | O_TRUNC | O_TMPFILE)))
        return -EAGAIN;
    if ((how.flags & O_PATH) &&
        (how.flags & ~(uint64_t)(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)))
        return -EINVAL;
    int resolve = 0;
    if (how.resolve & RESOLVE_NO_XDEV)
        resolve |= LOOKUP_NO_XDEV;
    if (how.resolve & RESOLVE_NO_MAGICLINKS)
        resolve |= LOOKUP_NO_MAGICLINKS;
    if (how.resolve & RESOLVE_NO_SYMLINKS)
        resolve |= LOOKUP_NO_SYMLINKS;
    if (how.resolve & RESOLVE_BENEATH)
        resolve |= LOOKUP_BENEATH;
    if (how.resolve & RESOLVE_IN_ROOT)
        resolve |= LOOKUP_IN_ROOT;
    return do_open(t, dirfd, pathname, (int)how.flags, (mode_t)how.mode, resolve);
}

/* Close fd, dropping the process's POSIX locks on the file (POSIX says
 * any close does). */
static int close_fd(struct task *t, int fd)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    int r = fd_close(t->proc->files, fd);
    if (r == 0 && f->inode)
        lock_release_posix(t->proc, f);
    file_put(f);
    return r;
}

SYSCALL_DEFINE1(close, int, fd)
{
    return close_fd(t, fd);
}

SYSCALL_DEFINE3(close_range, unsigned, first, unsigned, last, unsigned, flags)
{
    if (flags & ~(unsigned)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
        return -EINVAL;
    if (first > last)
        return -EINVAL;
    struct fdtable *ft = t->proc->files;
    /* UNSHARE: a table shared with another process (CLONE_FILES) is
     * copied first, and the close works on the copy (threads of one
     * process always share theirs). */
    if ((flags & CLOSE_RANGE_UNSHARE) && __atomic_load_n(&ft->refs, __ATOMIC_ACQUIRE) > 1) {
        struct fdtable *copy = fdtable_copy(ft);
        if (!copy)
            return -ENOMEM;
        pthread_mutex_lock(&t->proc->lock);
        t->proc->files = copy;
        pthread_mutex_unlock(&t->proc->lock);
        fdtable_put(ft);
        ft = copy;
    }
    pthread_mutex_lock(&ft->lock);
    unsigned n = (unsigned)ft->n;
    pthread_mutex_unlock(&ft->lock);
    if (last >= n)
        last = n ? n - 1 : 0;
    for (unsigned fd = first; fd <= last && fd < n; fd++) {
        if (flags & CLOSE_RANGE_CLOEXEC) {
            pthread_mutex_lock(&ft->lock);
            if (ft->fd[fd].f)
                ft->fd[fd].cloexec = 1;
            pthread_mutex_unlock(&ft->lock);
        } else {
            close_fd(t, (int)fd);
        }
    }
    return 0;
}

SYSCALL_DEFINE1(dup, int, oldfd)
{
    struct file *f = fd_get(t->proc->files, oldfd);
    if (!f)
        return -EBADF;
    return fd_install_new(t, f, 0);
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags)
{
    struct file *f = fd_get(t->proc->files, oldfd);
    if (!f)
        return -EBADF;
    if (newfd < 0 || newfd >= fd_limit(t)) {
        file_put(f);
        return -EBADF;
    }
    struct file *old = fd_get(t->proc->files, newfd);
    int r = fd_install_at(t->proc->files, newfd, f, !!(flags & O_CLOEXEC));
    if (r < 0)
        file_put(f);
    if (old) {
        if (r >= 0 && old->inode)
            lock_release_posix(t->proc, old);
        file_put(old);
    }
    return r;
}

SYSCALL_DEFINE2(dup2, int, oldfd, int, newfd)
{
    if (oldfd == newfd) {
        struct file *f = fd_get(t->proc->files, oldfd);
        if (!f)
            return -EBADF;
        file_put(f);
        return newfd;
    }
    return do_dup3(t, oldfd, newfd, 0);
}

SYSCALL_DEFINE3(dup3, int, oldfd, int, newfd, int, flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    return do_dup3(t, oldfd, newfd, flags);
}

/* A descriptor and the file it referred to when a call began. */
struct fd_ref {
    struct task *t;
    int fd;
    struct file *f;
};

/* Does the descriptor still refer to the file (no racing close)? */
static int fd_still_open(void *arg)
{
    struct fd_ref *r = arg;
    if (!r->t->proc->files)
        return 1;
    struct file *cur = fd_get(r->t->proc->files, r->fd);
    if (cur)
        file_put(cur);
    return cur == r->f;
}

static long fcntl_lock(struct task *t, int fd, struct file *f, int cmd, uint64_t arg)
{
    struct flock fl;
    if (copy_in(t, &fl, arg, sizeof(fl)) < 0)
        return -EFAULT;
    struct fd_ref ref = { t, fd, f };
    long r = lock_fcntl(t, f, cmd, &fl, fd_still_open, &ref);
    if (r == 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK) && copy_out(t, arg, &fl, sizeof(fl)) < 0)
        return -EFAULT;
    return r;
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

SYSCALL_DEFINE3(fcntl, int, fd, int, cmd, uint64_t, arg)
{
    struct fdtable *ft = t->proc->files;
    struct file *f = fd_get(ft, fd);
    if (!f)
        return -EBADF;
    long r;
    int path = f->fmode & FMODE_PATH;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((int)arg < 0 || (int)arg >= fd_limit(t) || arg > INT32_MAX) {
            r = -EINVAL;
            break;
        }
        file_get(f);
        r = fd_install(ft, (int)arg, fd_limit(t), f, cmd == F_DUPFD_CLOEXEC);
        if (r < 0)
            file_put(f);
        break;
    case F_GETFD:
        pthread_mutex_lock(&ft->lock);
        r = fd < ft->n && ft->fd[fd].f == f ? (ft->fd[fd].cloexec ? FD_CLOEXEC : 0) : -EBADF;
        pthread_mutex_unlock(&ft->lock);
        break;
    case F_SETFD:
        pthread_mutex_lock(&ft->lock);
        if (fd < ft->n && ft->fd[fd].f == f) {
            ft->fd[fd].cloexec = arg & FD_CLOEXEC;
            r = 0;
        } else {
            r = -EBADF;
        }
        pthread_mutex_unlock(&ft->lock);
        break;
    case F_GETFL:
        r = f->flags;
        break;
    case F_SETFL:
        if (path) {
            r = -EBADF;
            break;
        }
        /* O_NOATIME only for the owner or with CAP_FOWNER. */
        if (((int)arg & O_NOATIME) && !(f->flags & O_NOATIME) && f->inode &&
            !vfs_owner_or_capable(t->cred, f->inode)) {
            r = -EPERM;
            break;
        }
        /* setfl: O_DIRECT is packet mode on a pipe, else it needs a file
         * that does direct I/O. */
        if (((int)arg & O_DIRECT) && !file_is_pipe(f) && !vfs_file_can_direct(f)) {
            r = -EINVAL;
            break;
        }
        {
            int nf = (f->flags & ~SETFL_MASK) | ((int)arg & SETFL_MASK);
            __atomic_store_n(&f->flags, nf, __ATOMIC_RELAXED);
        }
        r = 0;
        break;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        r = path ? -EBADF : fcntl_lock(t, fd, f, cmd, arg);
        break;
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        r = path ? -EBADF : pipe_fcntl(t, f, (unsigned)cmd, (unsigned)arg);
        break;
    case F_GETOWN:
    case F_SETOWN:
    case F_GETSIG:
    case F_SETSIG:
        r = path ? -EBADF : 0;
        break;
    case F_GETLEASE:
        r = path ? -EBADF : F_UNLCK;
        break;
    case F_GET_SEALS:
        r = path ? -EBADF : memfd_get_seals(f);
        break;
    case F_ADD_SEALS:
        r = path ? -EBADF : memfd_add_seals(f, (unsigned)arg);
        break;
    default:
        r = path ? -EBADF : -EINVAL;
        break;
    }
    file_put(f);
    return r;
}

SYSCALL_DEFINE2(flock, int, fd, unsigned, operation)
{
    /* The command is checked before the descriptor, as Linux does. */
    struct file *f = fd_get(t->proc->files, fd);
    long r = lock_flock(t, f, operation);
    if (f)
        file_put(f);
    return r;
}

/* The request is an unsigned int (Linux's do_vfs_ioctl), widened for the files. */
SYSCALL_DEFINE3(ioctl, int, fd, unsigned, cmd, uint64_t, arg)
{
    unsigned long req = cmd;
    struct file *f = fget(t, fd);
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
    case FIONBIO:
    case FIOASYNC: {
        int on;
        int bit = req == FIONBIO ? O_NONBLOCK : O_ASYNC;
        r = copy_in(t, &on, arg, sizeof(on)) < 0 ? -EFAULT : 0;
        if (r == 0 && on)
            __atomic_fetch_or(&f->flags, bit, __ATOMIC_RELAXED);
        else if (r == 0)
            __atomic_fetch_and(&f->flags, ~bit, __ATOMIC_RELAXED);
        break;
    }
    case FIONREAD:
        if (f->inode && S_ISREG(f->inode->mode)) {
            /* Regular files: the bytes between the position and the end. */
            struct stat st;
            r = f->ops->stat ? f->ops->stat(f, &st) : vfs_getattr(f->inode, &st);
            if (r == 0) {
                int n = (int)(st.st_size - f->pos); /* negative past the end, as Linux */
                r = copy_out(t, arg, &n, sizeof(n)) < 0 ? -EFAULT : 0;
            }
            break;
        }
        r = f->ops->ioctl ? f->ops->ioctl(f, req, arg) : -ENOTTY;
        break;
    default:
        r = f->ops->ioctl ? f->ops->ioctl(f, req, arg) : -ENOTTY;
        break;
    }
    file_put(f);
    return r;
}

static long do_pipe2(struct task *t, uint64_t ufds, int flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | K_O_NOTIFICATION_PIPE))
        return -EINVAL;
    if (flags & K_O_NOTIFICATION_PIPE)
        return -ENOPKG; /* no CONFIG_WATCH_QUEUE */
    struct file *rd, *wr;
    int r = pipe_create(t, flags, &rd, &wr);
    if (r < 0)
        return r;
    struct fdtable *ft = t->proc->files;
    int cloexec = !!(flags & O_CLOEXEC);
    /* Packet mode belongs to the pipe; only the write end shows O_DIRECT. */
    rd->flags &= ~O_DIRECT;
    int fds[2];
    fds[0] = fd_install(ft, 0, fd_limit(t), rd, cloexec);
    if (fds[0] < 0) {
        file_put(rd);
        file_put(wr);
        return fds[0];
    }
    fds[1] = fd_install(ft, 0, fd_limit(t), wr, cloexec);
    if (fds[1] < 0) {
        fd_close(ft, fds[0]);
        file_put(wr);
        return fds[1];
    }
    if (copy_out(t, ufds, fds, sizeof(fds)) < 0) {
        fd_close(ft, fds[0]);
        fd_close(ft, fds[1]);
        return -EFAULT;
    }
    return 0;
}

SYSCALL_DEFINE1(pipe, uint64_t, pipefd)
{
    return do_pipe2(t, pipefd, 0);
}

SYSCALL_DEFINE2(pipe2, uint64_t, pipefd, int, flags)
{
    return do_pipe2(t, pipefd, flags);
}

#define MFD_ALL                                                                                    \
    (MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | 0x0008U /* NOEXEC_SEAL */ | 0x0010U /* EXEC */)

SYSCALL_DEFINE2(memfd_create, uint64_t, uname, unsigned, flags)
{
    if (flags & ~(unsigned)MFD_ALL)
        return -EINVAL;
    if (flags & MFD_HUGETLB)
        return -EINVAL; /* no hugetlbfs */
    if ((flags & 0x18U) == 0x18U)
        return -EINVAL; /* MFD_NOEXEC_SEAL and MFD_EXEC contradict */
    char name[256];
    long n = strncpy_in(t, name, uname, 250);
    if (n == -ENAMETOOLONG)
        return -EINVAL; /* longer than MFD_NAME_MAX_LEN (249) */
    if (n < 0)
        return n;
    struct file *f;
    int r = memfd_new(t->cred, name, flags, &f);
    if (r < 0)
        return r;
    f->flags = O_RDWR | K_O_LARGEFILE;
    return fd_install_new(t, f, !!(flags & MFD_CLOEXEC));
}

/* ---- sync family ---- */

static long do_fsync(struct task *t, int fd, int datasync)
{
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r = f->ops->fsync ? f->ops->fsync(f, datasync) : -EINVAL;
    file_put(f);
    return r;
}

SYSCALL_DEFINE1(fsync, int, fd)
{
    return do_fsync(t, fd, 0);
}

SYSCALL_DEFINE1(fdatasync, int, fd)
{
    return do_fsync(t, fd, 1);
}

SYSCALL_DEFINE0(sync)
{
    /* hostfs writes go straight to the host's page cache; a guest may not
     * make the host flush every file system. */
    return 0;
}

SYSCALL_DEFINE1(syncfs, int, fd)
{
    return do_fsync(t, fd, 0) == -EBADF ? -EBADF : 0;
}

/* F_SEAL_SHRINK and F_SEAL_GROW refuse size changes with EPERM. */
static long seals_allow_size(struct file *f, off_t len)
{
    unsigned s = f->inode->seals;
    if (!(s & (F_SEAL_SHRINK | F_SEAL_GROW)))
        return 0;
    struct stat st;
    long r = f->ops->stat ? f->ops->stat(f, &st) : vfs_getattr(f->inode, &st);
    if (r < 0)
        return r;
    if ((len < st.st_size && (s & F_SEAL_SHRINK)) || (len > st.st_size && (s & F_SEAL_GROW)))
        return -EPERM;
    return 0;
}

SYSCALL_DEFINE2(ftruncate, int, fd, off_t, len)
{
    if (len < 0)
        return -EINVAL;
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r;
    if (!f->inode || !S_ISREG(f->inode->mode) || !file_writable(f))
        r = -EINVAL;
    else if (!f->inode->ops->setattr)
        r = -EPERM;
    else if ((r = seals_allow_size(f, len)) < 0)
        ;
    else if ((r = fsize_limit_grow(f->inode, len)) < 0)
        ;
    else {
        struct iattr ia = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_NOW | ATTR_CTIME,
                            .size = len };
        r = f->inode->ops->setattr(f->inode, &ia);
        if (r == 0)
            fsnotify_change(f->inode, f->dentry, ia.valid);
    }
    file_put(f);
    return r;
}

SYSCALL_DEFINE4(fallocate, int, fd, int, mode, off_t, off, off_t, len)
{
    if (off < 0 || len <= 0)
        return -EINVAL;
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r = 0;
    if (!file_writable(f))
        r = -EBADF;
    else if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
                      FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE))
        r = -EOPNOTSUPP;
    else if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
        r = -EOPNOTSUPP;
    else if (off > INT64_MAX - len)
        r = -EFBIG;
    else if (!f->inode)
        r = -ESPIPE;
    else if (S_ISFIFO(f->inode->mode))
        r = -ESPIPE;
    else if (S_ISDIR(f->inode->mode))
        r = -EISDIR;
    else if (!S_ISREG(f->inode->mode))
        r = -ENODEV;
    else if ((f->flags & O_APPEND) && (mode & ~FALLOC_FL_KEEP_SIZE))
        r = -EPERM;
    /* RLIMIT_FSIZE as the file systems check it: shmem for every
     * allocation, ext4 (taken for every host file system) only for one
     * that may grow the file. */
    else if ((!(mode & FALLOC_FL_KEEP_SIZE) || f->inode->sb->type == &tmpfs_type) &&
             (r = fsize_limit(off + len, NULL)) < 0)
        ;
    else
        r = f->ops->fallocate ? f->ops->fallocate(f, mode, off, len) : -EOPNOTSUPP;
    if (r == 0)
        fsnotify_modify(f); /* vfs_fallocate */
    file_put(f);
    return r;
}
