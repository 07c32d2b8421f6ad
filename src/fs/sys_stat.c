/* Attributes: stat, lstat, fstat, newfstatat, statx, statfs, fstatfs,
 * access, faccessat, faccessat2, readlink, readlinkat, chmod, fchmod,
 * fchmodat, fchmodat2, chown, fchown, lchown, fchownat, truncate, utime,
 * utimes, futimesat, utimensat, the xattr family, name_to_handle_at and
 * open_by_handle_at. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "fs/file.h"
#include "fs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define ST_VALID 0x20 /* f_flags is meaningful */

/* Look up a path argument (copied in) with lookup flags. */
static long lookup_user(struct task *t, int dirfd, uint64_t upath, int lflags, struct path *out)
{
    char *path = malloc(PATH_MAX_LEN);
    if (!path)
        return -ENOMEM;
    long r = vfs_getname(t, upath, path, !!(lflags & LOOKUP_EMPTY));
    if (r >= 0)
        r = vfs_lookup(t, dirfd, path, lflags, out);
    free(path);
    return r;
}

/* The file at fd as a path (O_PATH files too), for the f*() calls. */
static long fd_path(struct task *t, int fd, struct path *out, struct file **fout)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    if (!f->dentry) {
        if (fout) {
            *fout = f;
            out->mnt = NULL;
            out->d = NULL;
            return 0;
        }
        file_put(f);
        return -EBADF;
    }
    out->mnt = f->mnt;
    out->d = dget(f->dentry);
    if (fout)
        *fout = f;
    else
        file_put(f);
    return 0;
}

/* ---- stat ---- */

static long stat_file(struct file *f, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    if (f->ops->stat && !(f->fmode & FMODE_PATH))
        return f->ops->stat(f, st);
    if (f->inode)
        return vfs_getattr(f->inode, st);
    return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

/* stat of dirfd/path with AT_* flags into st. */
static long stat_at(struct task *t, int dirfd, uint64_t upath, int flags, struct stat *st)
{
    char *path = malloc(PATH_MAX_LEN);
    if (!path)
        return -ENOMEM;
    long r = vfs_getname(t, upath, path, !!(flags & AT_EMPTY_PATH));
    if (r < 0) {
        free(path);
        return r;
    }
    if (path[0] == 0 && dirfd != AT_FDCWD) {
        free(path);
        struct file *f = fd_get(t->proc->files, dirfd);
        if (!f)
            return -EBADF;
        r = stat_file(f, st);
        file_put(f);
        return r;
    }
    struct path p;
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    r = vfs_lookup(t, dirfd, path, lf | LOOKUP_EMPTY, &p);
    free(path);
    if (r < 0)
        return r;
    r = vfs_getattr(p.d->inode, st);
    path_put(&p);
    return r;
}

static long stat_out(struct task *t, long r, const struct stat *st, uint64_t ubuf)
{
    if (r < 0)
        return r;
    return copy_out(t, ubuf, st, sizeof(*st)) < 0 ? -EFAULT : 0;
}

long sys_stat(struct task *t, const struct sysargs *a)
{
    struct stat st;
    return stat_out(t, stat_at(t, AT_FDCWD, a->a[0], 0, &st), &st, a->a[1]);
}

long sys_lstat(struct task *t, const struct sysargs *a)
{
    struct stat st;
    return stat_out(t, stat_at(t, AT_FDCWD, a->a[0], AT_SYMLINK_NOFOLLOW, &st), &st, a->a[1]);
}

long sys_fstat(struct task *t, const struct sysargs *a)
{
    struct file *f = fd_get(t->proc->files, (int)a->a[0]);
    if (!f)
        return -EBADF;
    struct stat st;
    long r = stat_file(f, &st);
    file_put(f);
    return stat_out(t, r, &st, a->a[1]);
}

long sys_newfstatat(struct task *t, const struct sysargs *a)
{
    int flags = (int)a->a[3];
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
        return -EINVAL;
    struct stat st;
    return stat_out(t, stat_at(t, (int)a->a[0], a->a[1], flags, &st), &st, a->a[2]);
}

/* struct statx as the kernel defines it (256 bytes). */
struct kstatx_ts {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t pad;
};
struct kstatx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, pad1;
    uint64_t ino, size, blocks, attributes_mask;
    struct kstatx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t spare[12];
};

long sys_statx(struct task *t, const struct sysargs *a)
{
    int dirfd = (int)a->a[0], flags = (int)a->a[2];
    unsigned mask = (unsigned)a->a[3];
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (mask & 0x80000000U) /* STATX__RESERVED */
        return -EINVAL;
    struct stat st;
    long r = stat_at(t, dirfd, a->a[1], flags, &st);
    if (r < 0)
        return r;
    struct kstatx x;
    memset(&x, 0, sizeof(x));
    x.mask = 0x7ff | 0x1000; /* STATX_BASIC_STATS | STATX_MNT_ID */
    x.blksize = (uint32_t)st.st_blksize;
    x.nlink = (uint32_t)st.st_nlink;
    x.uid = st.st_uid;
    x.gid = st.st_gid;
    x.mode = (uint16_t)st.st_mode;
    x.ino = st.st_ino;
    x.size = (uint64_t)st.st_size;
    x.blocks = (uint64_t)st.st_blocks;
    x.atime = (struct kstatx_ts){ st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0 };
    x.mtime = (struct kstatx_ts){ st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0 };
    x.ctime = (struct kstatx_ts){ st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0 };
    x.rdev_major = major(st.st_rdev);
    x.rdev_minor = minor(st.st_rdev);
    x.dev_major = major(st.st_dev);
    x.dev_minor = minor(st.st_dev);
    return copy_out(t, a->a[4], &x, sizeof(x)) < 0 ? -EFAULT : 0;
}

static long statfs_path(struct task *t, const struct path *p, uint64_t ubuf)
{
    struct super_block *sb = p->d->inode->sb;
    struct statfs st;
    memset(&st, 0, sizeof(st));
    long r = 0;
    if (sb->type->statfs)
        r = sb->type->statfs(sb, &st);
    else {
        st.f_bsize = 4096;
        st.f_namelen = NAME_MAX_LEN;
        st.f_frsize = 4096;
    }
    if (r < 0)
        return r;
    if (sb->type != &hostfs_type) {
        st.f_type = (long)sb->type->magic;
        st.f_fsid.__val[0] = (int)sb->dev;
        st.f_flags = ST_VALID;
    }
    int mf = p->mnt ? p->mnt->flags : 0;
    if (mf & MNT_RDONLY)
        st.f_flags |= ST_RDONLY;
    if (mf & MNT_NOSUID)
        st.f_flags |= ST_NOSUID;
    if (mf & MNT_NODEV)
        st.f_flags |= ST_NODEV;
    if (mf & MNT_NOEXEC)
        st.f_flags |= ST_NOEXEC;
    return copy_out(t, ubuf, &st, sizeof(st)) < 0 ? -EFAULT : 0;
}

long sys_statfs(struct task *t, const struct sysargs *a)
{
    struct path p;
    long r = lookup_user(t, AT_FDCWD, a->a[0], LOOKUP_FOLLOW, &p);
    if (r < 0)
        return r;
    r = statfs_path(t, &p, a->a[1]);
    path_put(&p);
    return r;
}

long sys_fstatfs(struct task *t, const struct sysargs *a)
{
    struct path p;
    struct file *f;
    long r = fd_path(t, (int)a->a[0], &p, &f);
    if (r < 0)
        return r;
    if (!p.d) {
        /* Anonymous files: pipefs and friends. */
        struct statfs st;
        memset(&st, 0, sizeof(st));
        st.f_type = 0x50495045; /* PIPEFS_MAGIC */
        st.f_bsize = 4096;
        st.f_namelen = NAME_MAX_LEN;
        st.f_frsize = 4096;
        st.f_flags = ST_VALID;
        file_put(f);
        return copy_out(t, a->a[1], &st, sizeof(st)) < 0 ? -EFAULT : 0;
    }
    file_put(f);
    r = statfs_path(t, &p, a->a[1]);
    path_put(&p);
    return r;
}

/* ---- access ---- */

static long do_access(struct task *t, int dirfd, uint64_t upath, int mode, int flags)
{
    if (mode & ~(F_OK | R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct path p;
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    long r = lookup_user(t, dirfd, upath, lf, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    int mask = ((mode & R_OK) ? MAY_READ : 0) | ((mode & W_OK) ? MAY_WRITE : 0) |
               ((mode & X_OK) ? MAY_EXEC : 0);
    if (!(flags & AT_EACCESS))
        mask |= MAY_ACCESS;
    r = mode ? vfs_permission(t, i, mask) : 0;
    if (r == 0 && (mode & W_OK) && p.mnt && (p.mnt->flags & MNT_RDONLY) &&
        (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode)))
        r = -EROFS;
    path_put(&p);
    return r;
}

long sys_access(struct task *t, const struct sysargs *a)
{
    return do_access(t, AT_FDCWD, a->a[0], (int)a->a[1], 0);
}

long sys_faccessat(struct task *t, const struct sysargs *a)
{
    return do_access(t, (int)a->a[0], a->a[1], (int)a->a[2], 0);
}

long sys_faccessat2(struct task *t, const struct sysargs *a)
{
    return do_access(t, (int)a->a[0], a->a[1], (int)a->a[2], (int)a->a[3]);
}

/* ---- readlink ---- */

static long do_readlink(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf, int bufsiz)
{
    if (bufsiz <= 0)
        return -EINVAL;
    char *path = malloc(PATH_MAX_LEN);
    char *buf = malloc(PATH_MAX_LEN);
    long r = path && buf ? vfs_getname(t, upath, path, 1) : -ENOMEM;
    if (r >= 0) {
        if (path[0] == 0 && dirfd == AT_FDCWD)
            r = -ENOENT;
        else
            r = vfs_readlink(t, dirfd, path, buf, PATH_MAX_LEN);
    }
    if (r >= 0) {
        if (r > bufsiz)
            r = bufsiz;
        if (copy_out(t, ubuf, buf, (size_t)r) < 0)
            r = -EFAULT;
    }
    free(path);
    free(buf);
    return r;
}

long sys_readlink(struct task *t, const struct sysargs *a)
{
    return do_readlink(t, AT_FDCWD, a->a[0], a->a[1], (int)a->a[2]);
}

long sys_readlinkat(struct task *t, const struct sysargs *a)
{
    return do_readlink(t, (int)a->a[0], a->a[1], a->a[2], (int)a->a[3]);
}

/* ---- chmod, chown, truncate, times ---- */

static long setattr_at(struct task *t, int dirfd, uint64_t upath, int lflags, struct iattr *ia)
{
    struct path p;
    long r;
    if (upath == 0 && dirfd != AT_FDCWD)
        r = fd_path(t, dirfd, &p, NULL);
    else
        r = lookup_user(t, dirfd, upath, lflags, &p);
    if (r < 0)
        return r;
    r = vfs_setattr(t, &p, ia);
    path_put(&p);
    return r;
}

static long setattr_fd(struct task *t, int fd, struct iattr *ia)
{
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r;
    if (!f->dentry) {
        r = -EPERM; /* anonymous files: pipes have no owner to change here */
    } else {
        struct path p = { f->mnt, f->dentry };
        r = vfs_setattr(t, &p, ia);
    }
    file_put(f);
    return r;
}

static long chmod_at(struct task *t, int dirfd, uint64_t upath, mode_t mode, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct iattr ia = { .valid = ATTR_MODE, .mode = mode & 07777 };
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    struct path p;
    long r = lookup_user(t, dirfd, upath, lf, &p);
    if (r < 0)
        return r;
    if (S_ISLNK(p.d->inode->mode))
        r = -EOPNOTSUPP;
    else
        r = vfs_setattr(t, &p, &ia);
    path_put(&p);
    return r;
}

long sys_chmod(struct task *t, const struct sysargs *a)
{
    return chmod_at(t, AT_FDCWD, a->a[0], (mode_t)a->a[1], 0);
}

long sys_fchmodat(struct task *t, const struct sysargs *a)
{
    return chmod_at(t, (int)a->a[0], a->a[1], (mode_t)a->a[2], 0);
}

long sys_fchmodat2(struct task *t, const struct sysargs *a)
{
    return chmod_at(t, (int)a->a[0], a->a[1], (mode_t)a->a[2], (int)a->a[3]);
}

long sys_fchmod(struct task *t, const struct sysargs *a)
{
    struct iattr ia = { .valid = ATTR_MODE, .mode = (mode_t)a->a[1] & 07777 };
    return setattr_fd(t, (int)a->a[0], &ia);
}

static void chown_attr(struct iattr *ia, uint64_t uid, uint64_t gid)
{
    ia->valid = ATTR_CHOWN;
    if ((uint32_t)uid != (uint32_t)-1) {
        ia->valid |= ATTR_UID;
        ia->uid = (uid_t)uid;
    }
    if ((uint32_t)gid != (uint32_t)-1) {
        ia->valid |= ATTR_GID;
        ia->gid = (gid_t)gid;
    }
}

static long chown_at(struct task *t, int dirfd, uint64_t upath, uint64_t uid, uint64_t gid, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct iattr ia;
    chown_attr(&ia, uid, gid);
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    return setattr_at(t, dirfd, upath, lf, &ia);
}

long sys_chown(struct task *t, const struct sysargs *a)
{
    return chown_at(t, AT_FDCWD, a->a[0], a->a[1], a->a[2], 0);
}

long sys_lchown(struct task *t, const struct sysargs *a)
{
    return chown_at(t, AT_FDCWD, a->a[0], a->a[1], a->a[2], AT_SYMLINK_NOFOLLOW);
}

long sys_fchownat(struct task *t, const struct sysargs *a)
{
    return chown_at(t, (int)a->a[0], a->a[1], a->a[2], a->a[3], (int)a->a[4]);
}

long sys_fchown(struct task *t, const struct sysargs *a)
{
    struct iattr ia;
    chown_attr(&ia, a->a[1], a->a[2]);
    return setattr_fd(t, (int)a->a[0], &ia);
}

long sys_truncate(struct task *t, const struct sysargs *a)
{
    off_t len = (off_t)a->a[1];
    if (len < 0)
        return -EINVAL;
    struct path p;
    long r = lookup_user(t, AT_FDCWD, a->a[0], LOOKUP_FOLLOW, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (S_ISDIR(i->mode))
        r = -EISDIR;
    else if (!S_ISREG(i->mode))
        r = -EINVAL;
    else if ((r = vfs_permission(t, i, MAY_WRITE)) == 0) {
        if (p.mnt && (p.mnt->flags & MNT_RDONLY))
            r = -EROFS;
        else {
            struct iattr ia = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_NOW | ATTR_CTIME, .size = len };
            r = i->ops->setattr ? i->ops->setattr(i, &ia) : -EPERM;
        }
    }
    path_put(&p);
    return r;
}

/* times[2] (NULL: now) into ia; -EINVAL for a bad nanosecond field. */
static long times_attr(const struct timespec *ts, struct iattr *ia)
{
    ia->valid = 0;
    if (!ts) {
        ia->valid = ATTR_ATIME | ATTR_ATIME_NOW | ATTR_MTIME | ATTR_MTIME_NOW;
        return 0;
    }
    for (int k = 0; k < 2; k++) {
        long ns = ts[k].tv_nsec;
        if (ns == UTIME_OMIT)
            continue;
        unsigned bit = k ? ATTR_MTIME : ATTR_ATIME, now = k ? ATTR_MTIME_NOW : ATTR_ATIME_NOW;
        if (ns == UTIME_NOW) {
            ia->valid |= bit | now;
            continue;
        }
        if (ns < 0 || ns > 999999999)
            return -EINVAL;
        ia->valid |= bit;
        if (k)
            ia->mtime = ts[k];
        else
            ia->atime = ts[k];
    }
    return 0;
}

static long utimes_common(struct task *t, int dirfd, uint64_t upath, const struct timespec *ts, int flags)
{
    struct iattr ia;
    /* Nothing to change: Linux returns before looking anything up. */
    if (ts && ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
        return 0;
    long r = times_attr(ts, &ia);
    if (r < 0)
        return r;
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    if (upath == 0) {
        if (dirfd == AT_FDCWD)
            return -EFAULT;
        struct file *f = fget(t, dirfd);
        if (!f)
            return -EBADF;
        file_put(f);
        if (ia.valid == 0)
            return 0;
        return setattr_at(t, dirfd, 0, lf, &ia);
    }
    struct path p;
    r = lookup_user(t, dirfd, upath, lf, &p);
    if (r < 0)
        return r;
    if (ia.valid)
        r = vfs_setattr(t, &p, &ia);
    path_put(&p);
    return r;
}

long sys_utimensat(struct task *t, const struct sysargs *a)
{
    int flags = (int)a->a[3];
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    if (a->a[2] && copy_in(t, ts, a->a[2], sizeof(ts)) < 0)
        return -EFAULT;
    return utimes_common(t, (int)a->a[0], a->a[1], a->a[2] ? ts : NULL, flags);
}

static long timeval_times(struct task *t, int dirfd, uint64_t upath, uint64_t utv)
{
    struct timeval tv[2];
    struct timespec ts[2];
    if (utv) {
        if (copy_in(t, tv, utv, sizeof(tv)) < 0)
            return -EFAULT;
        for (int k = 0; k < 2; k++) {
            if (tv[k].tv_usec < 0 || tv[k].tv_usec >= 1000000)
                return -EINVAL;
            ts[k].tv_sec = tv[k].tv_sec;
            ts[k].tv_nsec = tv[k].tv_usec * 1000;
        }
    }
    return utimes_common(t, dirfd, upath, utv ? ts : NULL, 0);
}

long sys_utimes(struct task *t, const struct sysargs *a)
{
    return timeval_times(t, AT_FDCWD, a->a[0], a->a[1]);
}

long sys_futimesat(struct task *t, const struct sysargs *a)
{
    return timeval_times(t, (int)a->a[0], a->a[1], a->a[2]);
}

long sys_utime(struct task *t, const struct sysargs *a)
{
    struct timespec ts[2];
    if (a->a[1]) {
        struct utimbuf ub;
        if (copy_in(t, &ub, a->a[1], sizeof(ub)) < 0)
            return -EFAULT;
        ts[0] = (struct timespec){ ub.actime, 0 };
        ts[1] = (struct timespec){ ub.modtime, 0 };
    }
    return utimes_common(t, AT_FDCWD, a->a[0], a->a[1] ? ts : NULL, 0);
}

/* ---- extended attributes ---- */

#define XATTR_NAME_MAX_LEN 255
#define XATTR_SIZE_MAX_LEN 65536

static long xattr_name(struct task *t, uint64_t uname, char *name)
{
    long n = strncpy_in(t, name, uname, XATTR_NAME_MAX_LEN + 1);
    if (n == -ENAMETOOLONG)
        return -ERANGE;
    if (n < 0)
        return n;
    if (n == 0)
        return -ERANGE;
    return n;
}

/* 0 for a name in a known namespace, -EINVAL for a bare prefix
 * ("user."), -EOPNOTSUPP for no known namespace. */
static int xattr_prefix_check(const char *name)
{
    static const char *const pfx[] = { "user.", "trusted.", "security.", "system." };
    for (size_t k = 0; k < sizeof(pfx) / sizeof(pfx[0]); k++)
        if (strncmp(name, pfx[k], strlen(pfx[k])) == 0)
            return name[strlen(pfx[k])] ? 0 : -EINVAL;
    return -EOPNOTSUPP;
}

/* Resolve the target of an xattr call: path (follow or not) or fd. */
static long xattr_target(struct task *t, int by_fd, uint64_t arg, int follow, struct path *p)
{
    if (by_fd) {
        struct file *f = fget(t, (int)arg);
        if (!f)
            return -EBADF;
        if (!f->dentry) {
            file_put(f);
            return -EOPNOTSUPP;
        }
        p->mnt = f->mnt; /* NULL for memfds and host streams */
        p->d = dget(f->dentry);
        file_put(f);
        return 0;
    }
    return lookup_user(t, AT_FDCWD, arg, follow ? LOOKUP_FOLLOW : 0, p);
}

static long do_setxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    int flags = (int)a->a[4];
    size_t size = a->a[3];
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, a->a[1], name);
    if (r < 0)
        return r;
    if (size > XATTR_SIZE_MAX_LEN)
        return -E2BIG;
    void *val = malloc(size ? size : 1);
    if (!val)
        return -ENOMEM;
    if (size && copy_in(t, val, a->a[2], size) < 0) {
        free(val);
        return -EFAULT;
    }
    struct path p;
    r = xattr_target(t, by_fd, a->a[0], follow, &p);
    if (r == 0) {
        struct inode *i = p.d->inode;
        if ((r = xattr_prefix_check(name)) < 0)
            ;
        else if (p.mnt && (p.mnt->flags & MNT_RDONLY))
            r = -EROFS;
        else if (!i->ops->setxattr)
            r = -EOPNOTSUPP;
        else if ((r = vfs_permission(t, i, MAY_WRITE)) == 0)
            r = i->ops->setxattr(i, name, val, size, flags);
        path_put(&p);
    }
    free(val);
    return r;
}

static long do_getxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    size_t size = a->a[3];
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, a->a[1], name);
    if (r < 0)
        return r;
    if (size > XATTR_SIZE_MAX_LEN)
        size = XATTR_SIZE_MAX_LEN;
    struct path p;
    r = xattr_target(t, by_fd, a->a[0], follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    void *val = malloc(size ? size : 1);
    if (!val)
        r = -ENOMEM;
    else if ((r = xattr_prefix_check(name)) < 0)
        ;
    else if (!i->ops->getxattr)
        r = -EOPNOTSUPP;
    else if ((r = vfs_permission(t, i, MAY_READ)) == 0)
        r = i->ops->getxattr(i, name, size ? val : NULL, size);
    if (r > 0 && size && copy_out(t, a->a[2], val, (size_t)r) < 0)
        r = -EFAULT;
    free(val);
    path_put(&p);
    return r;
}

static long do_listxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    size_t size = a->a[2];
    if (size > XATTR_SIZE_MAX_LEN)
        size = XATTR_SIZE_MAX_LEN;
    struct path p;
    long r = xattr_target(t, by_fd, a->a[0], follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        r = -ENOMEM;
    else if (!i->ops->listxattr)
        r = 0;
    else
        r = i->ops->listxattr(i, size ? buf : NULL, size);
    if (r > 0 && size && copy_out(t, a->a[1], buf, (size_t)r) < 0)
        r = -EFAULT;
    free(buf);
    path_put(&p);
    return r;
}

static long do_removexattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, a->a[1], name);
    if (r < 0)
        return r;
    struct path p;
    r = xattr_target(t, by_fd, a->a[0], follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if ((r = xattr_prefix_check(name)) < 0)
        ;
    else if (p.mnt && (p.mnt->flags & MNT_RDONLY))
        r = -EROFS;
    else if (!i->ops->removexattr)
        r = -EOPNOTSUPP;
    else if ((r = vfs_permission(t, i, MAY_WRITE)) == 0)
        r = i->ops->removexattr(i, name);
    path_put(&p);
    return r;
}

long sys_setxattr(struct task *t, const struct sysargs *a) { return do_setxattr(t, a, 0, 1); }
long sys_lsetxattr(struct task *t, const struct sysargs *a) { return do_setxattr(t, a, 0, 0); }
long sys_fsetxattr(struct task *t, const struct sysargs *a) { return do_setxattr(t, a, 1, 0); }
long sys_getxattr(struct task *t, const struct sysargs *a) { return do_getxattr(t, a, 0, 1); }
long sys_lgetxattr(struct task *t, const struct sysargs *a) { return do_getxattr(t, a, 0, 0); }
long sys_fgetxattr(struct task *t, const struct sysargs *a) { return do_getxattr(t, a, 1, 0); }
long sys_listxattr(struct task *t, const struct sysargs *a) { return do_listxattr(t, a, 0, 1); }
long sys_llistxattr(struct task *t, const struct sysargs *a) { return do_listxattr(t, a, 0, 0); }
long sys_flistxattr(struct task *t, const struct sysargs *a) { return do_listxattr(t, a, 1, 0); }
long sys_removexattr(struct task *t, const struct sysargs *a) { return do_removexattr(t, a, 0, 1); }
long sys_lremovexattr(struct task *t, const struct sysargs *a) { return do_removexattr(t, a, 0, 0); }
long sys_fremovexattr(struct task *t, const struct sysargs *a) { return do_removexattr(t, a, 1, 0); }

/* ---- file handles ---- */

long sys_name_to_handle_at(struct task *t, const struct sysargs *a)
{
    int flags = (int)a->a[4];
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH | 0x200 /* AT_HANDLE_FID */))
        return -EINVAL;
    struct path p;
    int lf = (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    long r = lookup_user(t, (int)a->a[0], a->a[1], lf, &p);
    if (r < 0)
        return r;
    path_put(&p);
    /* Handles would name host inodes; no sandbox file system exports them. */
    return -EOPNOTSUPP;
}

#define MAX_HANDLE_SZ 128

long sys_open_by_handle_at(struct task *t, const struct sysargs *a)
{
    uint32_t bytes;
    if (copy_in(t, &bytes, a->a[1], sizeof(bytes)) < 0)
        return -EFAULT;
    if (bytes == 0 || bytes > MAX_HANDLE_SZ)
        return -EINVAL;
    return -EPERM; /* needs CAP_DAC_READ_SEARCH, which the guest never has */
}
