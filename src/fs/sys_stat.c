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

#include "abi/statx.h"
#include "base.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/pathop.h"
#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define ST_VALID 0x20 /* f_flags is meaningful */

/* Look up a path argument (copied in) with lookup flags. */
static long lookup_user(struct task *t, int dirfd, uint64_t upath, int lflags, struct path *out)
{
    char *path;
    long r = getname_alloc(t, upath, !!(lflags & LOOKUP_EMPTY), &path);
    if (r < 0)
        return r;
    r = task_lookup(t, dirfd, path, lflags, out);
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

/* What statx needs beyond struct stat: the mount (its id, and whether the
 * file is its root) and the file system's statx extras for request. */
struct statx_more {
    unsigned request;
    int mnt_id; /* 0 for an anonymous file */
    int mount_root;
    int have_extra; /* extra came from the file system */
    struct statx_extra extra;
};

static void statx_more_of(struct statx_more *sx, struct mount *mnt, struct dentry *d,
                          struct inode *i)
{
    sx->mnt_id = mnt ? mnt->id : 0;
    sx->mount_root = mnt && d && mnt->root == d;
    if (i && i->ops->statx && i->ops->statx(i, sx->request, &sx->extra) == 0)
        sx->have_extra = 1;
}

/* stat of dirfd/path with AT_* flags into st; with sx, statx's extras. */
static long stat_at_mnt(struct task *t, int dirfd, uint64_t upath, int flags, struct stat *st,
                        struct statx_more *sx)
{
    char *path;
    long r = getname_alloc(t, upath, !!(flags & AT_EMPTY_PATH), &path);
    if (r < 0)
        return r;
    if (path[0] == 0 && dirfd != AT_FDCWD) {
        free(path);
        struct file *f = fd_get(t->proc->files, dirfd);
        if (!f)
            return -EBADF;
        r = stat_file(f, st);
        if (r == 0 && sx) /* the file system's extras when its inode answered stat */
            statx_more_of(sx, f->mnt, f->dentry,
                          f->ops->stat && !(f->fmode & FMODE_PATH) ? NULL : f->inode);
        file_put(f);
        return r;
    }
    struct path p;
    int lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    r = task_lookup(t, dirfd, path, lf | LOOKUP_EMPTY, &p);
    free(path);
    if (r < 0)
        return r;
    r = vfs_getattr(p.d->inode, st);
    if (r == 0 && sx)
        statx_more_of(sx, p.mnt, p.d, p.d->inode);
    path_put(&p);
    return r;
}

static long stat_at(struct task *t, int dirfd, uint64_t upath, int flags, struct stat *st)
{
    return stat_at_mnt(t, dirfd, upath, flags, st, NULL);
}

static long stat_out(struct task *t, long r, const struct stat *st, uint64_t ubuf)
{
    if (r < 0)
        return r;
    return copy_out(t, ubuf, st, sizeof(*st)) < 0 ? -EFAULT : 0;
}

SYSCALL_AS(stat, sys_at_form, 1, 2, sys_newfstatat)

SYSCALL_DEFINE2(lstat, uint64_t, pathname, uint64_t, statbuf)
{
    struct stat st;
    return stat_out(t, stat_at(t, AT_FDCWD, pathname, AT_SYMLINK_NOFOLLOW, &st), &st, statbuf);
}

SYSCALL_DEFINE2(fstat, int, fd, uint64_t, statbuf)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    struct stat st;
    long r = stat_file(f, &st);
    file_put(f);
    return stat_out(t, r, &st, statbuf);
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, uint64_t, pathname, uint64_t, statbuf, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
        return -EINVAL;
    struct stat st;
    return stat_out(t, stat_at(t, dirfd, pathname, flags, &st), &st, statbuf);
}

#define STATX_MNT_ID_BIT 0x1000U
#define STATX_MNT_ID_UNIQUE_BIT 0x4000U
#define MNT_UNIQUE_ID_OFFSET (1ULL << 31)
#define STATX_ATTR_AUTOMOUNT_BIT 0x1000U
#define STATX_ATTR_MOUNT_ROOT_BIT 0x2000U
#define STATX_ATTR_DAX_BIT 0x200000U

SYSCALL_DEFINE5(statx, int, dirfd, uint64_t, pathname, int, flags, unsigned, mask, uint64_t,
                statxbuf)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (mask & 0x80000000U) /* STATX__RESERVED */
        return -EINVAL;
    struct stat st;
    struct statx_more sx;
    memset(&sx, 0, sizeof(sx));
    sx.request = mask;
    long r = stat_at_mnt(t, dirfd, pathname, flags, &st, &sx);
    if (r < 0)
        return r;
    int mnt_id = sx.mnt_id;
    struct kstatx x;
    memset(&x, 0, sizeof(x));
    /* The mount id whether asked for or not, as Linux: mountinfo's, or
     * with STATX_MNT_ID_UNIQUE (which wins) the 64-bit id that is never
     * reused. Linux counts those from 2^31 for all mounts of the system;
     * ours are never reused either, so an offset of the same makes one. */
    if (mask & STATX_MNT_ID_UNIQUE_BIT) {
        x.mask = 0x7ff | STATX_MNT_ID_UNIQUE_BIT; /* STATX_BASIC_STATS too */
        x.mnt_id = MNT_UNIQUE_ID_OFFSET + (uint64_t)mnt_id;
    } else {
        x.mask = 0x7ff | STATX_MNT_ID_BIT;
        x.mnt_id = (uint64_t)mnt_id;
    }
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
    /* The file system's part: which times it gives (multigrain ones leave
     * mtime and ctime out when neither is asked for), the creation time,
     * attribute flags, direct I/O alignment. Every statx knows the
     * automount, DAX and mount-root attributes (vfs_getattr_nosec). */
    x.attributes_mask = STATX_ATTR_AUTOMOUNT_BIT | STATX_ATTR_MOUNT_ROOT_BIT | STATX_ATTR_DAX_BIT;
    if (sx.mount_root)
        x.attributes |= STATX_ATTR_MOUNT_ROOT_BIT;
    if (sx.have_extra) {
        struct statx_extra *e = &sx.extra;
        x.mask &= ~(STATX_MTIME_BIT | STATX_CTIME_BIT);
        x.mask |= e->mask & (STATX_MTIME_BIT | STATX_CTIME_BIT | STATX_BTIME_BIT);
        if (!(e->mask & STATX_MTIME_BIT))
            x.mtime = (struct kstatx_ts){ 0, 0, 0 };
        if (!(e->mask & STATX_CTIME_BIT))
            x.ctime = (struct kstatx_ts){ 0, 0, 0 };
        if (e->mask & STATX_BTIME_BIT)
            x.btime = (struct kstatx_ts){ e->btime.tv_sec, (uint32_t)e->btime.tv_nsec, 0 };
        if ((e->mask & STATX_DIOALIGN_BIT) && (mask & STATX_DIOALIGN_BIT)) {
            x.mask |= STATX_DIOALIGN_BIT;
            x.dio_mem_align = e->dio_mem_align;
            x.dio_offset_align = e->dio_offset_align;
        }
        x.attributes |= e->attributes & ~(uint64_t)STATX_ATTR_MOUNT_ROOT_BIT;
        x.attributes_mask |= e->attributes_mask;
    }
    x.rdev_major = major(st.st_rdev);
    x.rdev_minor = minor(st.st_rdev);
    x.dev_major = major(st.st_dev);
    x.dev_minor = minor(st.st_dev);
    return copy_out(t, statxbuf, &x, sizeof(x)) < 0 ? -EFAULT : 0;
}

/* statfs of p, out to ubuf; a path with no dentry is an anonymous file's
 * (pipefs and friends). */
static long statfs_path(struct task *t, const struct path *p, uint64_t ubuf)
{
    struct super_block *sb = p->d ? p->d->inode->sb : NULL;
    struct statfs st;
    memset(&st, 0, sizeof(st));
    long r = 0;
    if (sb && sb->type->statfs)
        r = sb->type->statfs(sb, &st);
    else {
        st.f_bsize = 4096;
        st.f_namelen = NAME_MAX_LEN;
        st.f_frsize = 4096;
    }
    if (r < 0)
        return r;
    if (!sb) {
        st.f_type = 0x50495045; /* PIPEFS_MAGIC */
        st.f_flags = ST_VALID;
    } else if (sb->type != &hostfs_type) {
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

/* statfs, fstatfs (by_fd: O_PATH and anonymous files too) */
static long do_statfs(struct task *t, const struct sysargs *a, int by_fd)
{
    uint64_t arg = a->a[0], buf = a->a[1];
    struct path p;
    struct file *f = NULL;
    long r =
        by_fd ? fd_path(t, (int)arg, &p, &f) : lookup_user(t, AT_FDCWD, arg, LOOKUP_FOLLOW, &p);
    if (r < 0)
        return r;
    if (f)
        file_put(f);
    r = statfs_path(t, &p, buf);
    path_put(&p);
    return r;
}

SYSCALL_AS(statfs, do_statfs, 0)
SYSCALL_AS(fstatfs, do_statfs, 1)

/* ---- access ---- */

/* access() checks with the real ids (and the capabilities a real root
 * has) for the walk as for the file, as Linux's access_override_creds;
 * AT_EACCESS with the caller's own creds. */
SYSCALL_DEFINE4(faccessat2, int, dirfd, uint64_t, upath, int, mode, int, flags)
{
    if (mode & ~(F_OK | R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    int lf = at_lookup_flags(flags);
    char *path;
    long r = getname_alloc(t, upath, !!(lf & LOOKUP_EMPTY), &path);
    if (r < 0)
        return r;
    const struct creds *cred =
        flags & AT_EACCESS ? creds_get(t->cred) : creds_access_override(t->cred);
    if (!cred) {
        free(path);
        return -ENOMEM;
    }
    struct path p;
    struct path_op op;
    path_op_init(t, dirfd, path, lf, &op);
    op.cred = cred;
    r = vfs_lookup(&op, &p);
    path_op_done(&op);
    free(path);
    if (r == 0) {
        struct inode *i = p.d->inode;
        int mask = ((mode & R_OK) ? MAY_READ : 0) | ((mode & W_OK) ? MAY_WRITE : 0) |
                   ((mode & X_OK) ? MAY_EXEC : 0);
        r = mode ? vfs_permission(cred, i, mask) : 0;
        if (r == 0 && (mode & W_OK) && p.mnt && (p.mnt->flags & MNT_RDONLY) &&
            (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode)))
            r = -EROFS;
        path_put(&p);
    }
    creds_put(cred);
    return r;
}

SYSCALL_AS(faccessat, sys_at_form, 0, 3, sys_faccessat2)
SYSCALL_AS(access, sys_at_form, 1, 2, sys_faccessat2)

/* ---- readlink ---- */

SYSCALL_DEFINE4(readlinkat, int, dirfd, uint64_t, upath, uint64_t, ubuf, int, bufsiz)
{
    if (bufsiz <= 0)
        return -EINVAL;
    char *path = malloc(PATH_MAX_LEN);
    char *buf = malloc(PATH_MAX_LEN);
    long r = path && buf ? getname(t, upath, path, 1) : -ENOMEM;
    if (r >= 0) {
        if (path[0] == 0 && dirfd == AT_FDCWD)
            r = -ENOENT;
        else {
            struct path_op op;
            path_op_init(t, dirfd, path, LOOKUP_EMPTY, &op);
            r = vfs_readlink(&op, buf, PATH_MAX_LEN);
            path_op_done(&op);
        }
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

SYSCALL_AS(readlink, sys_at_form, 1, 3, sys_readlinkat)

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
    r = vfs_setattr(t->cred, &p, ia);
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
        r = vfs_setattr(t->cred, &p, ia);
    }
    file_put(f);
    return r;
}

SYSCALL_DEFINE4(fchmodat2, int, dirfd, uint64_t, upath, mode_t, mode, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct iattr ia = { .valid = ATTR_MODE, .mode = mode & 07777 };
    int lf = at_lookup_flags(flags);
    struct path p;
    long r = lookup_user(t, dirfd, upath, lf, &p);
    if (r < 0)
        return r;
    if (S_ISLNK(p.d->inode->mode))
        r = -EOPNOTSUPP;
    else
        r = vfs_setattr(t->cred, &p, &ia);
    path_put(&p);
    return r;
}

SYSCALL_AS(fchmodat, sys_at_form, 0, 3, sys_fchmodat2)
SYSCALL_AS(chmod, sys_at_form, 1, 2, sys_fchmodat2)

SYSCALL_DEFINE2(fchmod, int, fd, mode_t, umode)
{
    struct iattr ia = { .valid = ATTR_MODE, .mode = umode & 07777 };
    return setattr_fd(t, fd, &ia);
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

static long chown_at(struct task *t, int dirfd, uint64_t upath, uint64_t uid, uint64_t gid,
                     int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct iattr ia;
    chown_attr(&ia, uid, gid);
    int lf = at_lookup_flags(flags);
    return setattr_at(t, dirfd, upath, lf, &ia);
}

SYSCALL_DEFINE3(lchown, uint64_t, pathname, uint64_t, owner, uint64_t, group)
{
    return chown_at(t, AT_FDCWD, pathname, owner, group, AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE5(fchownat, int, dirfd, uint64_t, pathname, uint64_t, owner, uint64_t, group, int,
                flags)
{
    return chown_at(t, dirfd, pathname, owner, group, flags);
}

SYSCALL_AS(chown, sys_at_form, 1, 3, sys_fchownat)

SYSCALL_DEFINE3(fchown, int, fd, uint64_t, owner, uint64_t, group)
{
    struct iattr ia;
    chown_attr(&ia, owner, group);
    return setattr_fd(t, fd, &ia);
}

SYSCALL_DEFINE2(truncate, uint64_t, upath, off_t, len)
{
    if (len < 0)
        return -EINVAL;
    struct path p;
    long r = lookup_user(t, AT_FDCWD, upath, LOOKUP_FOLLOW, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (S_ISDIR(i->mode))
        r = -EISDIR;
    else if (!S_ISREG(i->mode))
        r = -EINVAL;
    else if ((r = vfs_permission(t->cred, i, MAY_WRITE)) == 0) {
        if (p.mnt && (p.mnt->flags & MNT_RDONLY))
            r = -EROFS;
        else if ((r = fsize_limit_grow(i, len)) < 0)
            ;
        else {
            struct iattr ia = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_NOW | ATTR_CTIME,
                                .size = len };
            r = i->ops->setattr ? i->ops->setattr(i, &ia) : -EPERM;
            if (r == 0)
                fsnotify_change(i, p.d, ia.valid);
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

static long utimes_common(struct task *t, int dirfd, uint64_t upath, const struct timespec *ts,
                          int flags)
{
    struct iattr ia;
    /* Nothing to change: Linux returns before looking anything up. */
    if (ts && ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
        return 0;
    long r = times_attr(ts, &ia);
    if (r < 0)
        return r;
    int lf = at_lookup_flags(flags);
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
        r = vfs_setattr(t->cred, &p, &ia);
    path_put(&p);
    return r;
}

SYSCALL_DEFINE4(utimensat, int, dirfd, uint64_t, pathname, uint64_t, times, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    if (times && copy_in(t, ts, times, sizeof(ts)) < 0)
        return -EFAULT;
    return utimes_common(t, dirfd, pathname, times ? ts : NULL, flags);
}

SYSCALL_DEFINE3(futimesat, int, dirfd, uint64_t, upath, uint64_t, utv)
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

SYSCALL_AS(utimes, sys_at_form, 1, 2, sys_futimesat)

SYSCALL_DEFINE2(utime, uint64_t, filename, uint64_t, times)
{
    struct timespec ts[2];
    if (times) {
        struct utimbuf ub;
        if (copy_in(t, &ub, times, sizeof(ub)) < 0)
            return -EFAULT;
        ts[0] = (struct timespec){ ub.actime, 0 };
        ts[1] = (struct timespec){ ub.modtime, 0 };
    }
    return utimes_common(t, AT_FDCWD, filename, times ? ts : NULL, 0);
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
    for (size_t k = 0; k < ARRAY_SIZE(pfx); k++)
        if (strncmp(name, pfx[k], strlen(pfx[k])) == 0)
            return name[strlen(pfx[k])] ? 0 : -EINVAL;
    return -EOPNOTSUPP;
}

static int has_cap(struct task *t, int cap)
{
    return creds_capable(t->cred, cap);
}

/* Linux's xattr_permission, then the capability hooks for security.*
 * (cap_inode_setxattr/removexattr), for every file system: the host only
 * sees the sentry's own credentials. user.* only on regular files and
 * directories (EPERM to change, ENODATA to read elsewhere) and, in a
 * sticky directory, changed by its owner; trusted.* needs CAP_SYS_ADMIN
 * (EPERM to change, ENODATA to read); changing security.* needs
 * CAP_SYS_ADMIN, security.capability CAP_SETFCAP. */
static int xattr_permission(struct task *t, struct inode *i, const char *name, int mask)
{
    int write = mask & MAY_WRITE;
    if (strncmp(name, "security.", 9) == 0) {
        if (!write)
            return 0;
        int cap = strcmp(name, "security.capability") == 0 ? GCAP_SETFCAP : GCAP_SYS_ADMIN;
        return has_cap(t, cap) ? 0 : -EPERM;
    }
    if (strncmp(name, "system.", 7) == 0)
        return 0;
    if (strncmp(name, "trusted.", 8) == 0)
        return has_cap(t, GCAP_SYS_ADMIN) ? 0 : write ? -EPERM : -ENODATA;
    if (strncmp(name, "user.", 5) == 0) {
        if (!S_ISREG(i->mode) && !S_ISDIR(i->mode))
            return write ? -EPERM : -ENODATA;
        if (S_ISDIR(i->mode) && (i->mode & S_ISVTX) && write && t->cred->fsuid != i->uid &&
            !has_cap(t, GCAP_FOWNER))
            return -EPERM;
    }
    return vfs_permission(t->cred, i, mask);
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

/* The three forms of each xattr call, on a path (following symlinks), on
 * a path (not following them) and on a descriptor: <op>xattr,
 * l<op>xattr and f<op>xattr are do_<op>xattr(t, a, by_fd, follow). */
#define XATTR_CALLS(op)                                                                            \
    SYSCALL_AS(op##xattr, do_##op##xattr, 0, 1)                                                    \
    SYSCALL_AS(l##op##xattr, do_##op##xattr, 0, 0)                                                 \
    SYSCALL_AS(f##op##xattr, do_##op##xattr, 1, 0)

/* vfs_setxattr's and vfs_removexattr's order: read-only mount, permission,
 * the name's namespace (resolved by the handler lookup), the file system
 * (has_op: it has the operation). 0 to go on. */
static int xattr_change_check(struct task *t, const struct path *p, const char *name, int has_op)
{
    if (p->mnt && (p->mnt->flags & MNT_RDONLY))
        return -EROFS;
    int r = xattr_permission(t, p->d->inode, name, MAY_WRITE);
    if (r < 0)
        return r;
    return has_op ? xattr_prefix_check(name) : -EOPNOTSUPP;
}

static long do_setxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    uint64_t upath = a->a[0], uname = a->a[1], value = a->a[2];
    int flags = (int)a->a[4];
    size_t size = a->a[3];
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        return -EINVAL;
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, uname, name);
    if (r < 0)
        return r;
    if (size > XATTR_SIZE_MAX_LEN)
        return -E2BIG;
    void *val = malloc(size ? size : 1);
    if (!val)
        return -ENOMEM;
    if (size && copy_in(t, val, value, size) < 0) {
        free(val);
        return -EFAULT;
    }
    struct path p;
    r = xattr_target(t, by_fd, upath, follow, &p);
    if (r == 0) {
        struct inode *i = p.d->inode;
        r = xattr_change_check(t, &p, name, i->ops->setxattr != NULL);
        if (r == 0)
            r = i->ops->setxattr(i, name, val, size, flags);
        if (r == 0)
            fsnotify_xattr(i, p.d);
        path_put(&p);
    }
    free(val);
    return r;
}

XATTR_CALLS(set)

static long do_getxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    uint64_t upath = a->a[0], uname = a->a[1], value = a->a[2];
    size_t size = a->a[3];
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, uname, name);
    if (r < 0)
        return r;
    if (size > XATTR_SIZE_MAX_LEN)
        size = XATTR_SIZE_MAX_LEN;
    struct path p;
    r = xattr_target(t, by_fd, upath, follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    void *val = malloc(size ? size : 1);
    if (!val)
        r = -ENOMEM;
    else if ((r = xattr_permission(t, i, name, MAY_READ)) < 0)
        ;
    else if (!i->ops->getxattr)
        r = -EOPNOTSUPP;
    else if ((r = xattr_prefix_check(name)) == 0)
        r = i->ops->getxattr(i, name, size ? val : NULL, size);
    if (r > 0 && size && copy_out(t, value, val, (size_t)r) < 0)
        r = -EFAULT;
    free(val);
    path_put(&p);
    return r;
}

XATTR_CALLS(get)

/* Drop the trusted.* names from a list of n bytes: Linux lists them only
 * to a caller with CAP_SYS_ADMIN. Returns the new length. */
static size_t xattr_list_filter(char *buf, size_t n)
{
    size_t out = 0;
    for (size_t k = 0; k < n;) {
        size_t len = strnlen(buf + k, n - k) + 1;
        if (strncmp(buf + k, "trusted.", 8) != 0) {
            memmove(buf + out, buf + k, len);
            out += len;
        }
        k += len;
    }
    return out;
}

static long do_listxattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    uint64_t upath = a->a[0], list = a->a[1];
    size_t size = a->a[2];
    if (size > XATTR_SIZE_MAX_LEN)
        size = XATTR_SIZE_MAX_LEN;
    struct path p;
    long r = xattr_target(t, by_fd, upath, follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    /* The whole list (at most XATTR_LIST_MAX), filtered, then measured
     * against the caller's buffer. */
    char *buf = malloc(XATTR_SIZE_MAX_LEN);
    if (!buf)
        r = -ENOMEM;
    else if (!i->ops->listxattr)
        r = 0;
    else if ((r = i->ops->listxattr(i, buf, XATTR_SIZE_MAX_LEN)) == -ERANGE)
        r = -E2BIG; /* longer than any buffer may be */
    if (r > 0 && !has_cap(t, GCAP_SYS_ADMIN))
        r = (long)xattr_list_filter(buf, (size_t)r);
    if (r > 0 && size && (size_t)r > size)
        r = -ERANGE;
    else if (r > 0 && size && copy_out(t, list, buf, (size_t)r) < 0)
        r = -EFAULT;
    free(buf);
    path_put(&p);
    return r;
}

XATTR_CALLS(list)

static long do_removexattr(struct task *t, const struct sysargs *a, int by_fd, int follow)
{
    uint64_t upath = a->a[0], uname = a->a[1];
    char name[XATTR_NAME_MAX_LEN + 1];
    long r = xattr_name(t, uname, name);
    if (r < 0)
        return r;
    struct path p;
    r = xattr_target(t, by_fd, upath, follow, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    r = xattr_change_check(t, &p, name, i->ops->removexattr != NULL);
    if (r == 0)
        r = i->ops->removexattr(i, name);
    if (r == 0)
        fsnotify_xattr(i, p.d);
    path_put(&p);
    return r;
}

XATTR_CALLS(remove)

/* ---- file handles ---- */

SYSCALL_DEFINE5(name_to_handle_at, int, dirfd, uint64_t, pathname, uint64_t, handle, uint64_t,
                mount_id, int, flags)
{
    (void)handle, (void)mount_id; /* never filled: see below */
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH | 0x200 /* AT_HANDLE_FID */))
        return -EINVAL;
    struct path p;
    int lf = (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    long r = lookup_user(t, dirfd, pathname, lf, &p);
    if (r < 0)
        return r;
    path_put(&p);
    /* Handles would name host inodes; no sandbox file system exports them. */
    return -EOPNOTSUPP;
}

#define MAX_HANDLE_SZ 128

SYSCALL_DEFINE2(open_by_handle_at, int, mount_fd, uint64_t, handle)
{
    (void)mount_fd;
    uint32_t bytes;
    if (copy_in(t, &bytes, handle, sizeof(bytes)) < 0)
        return -EFAULT;
    if (bytes == 0 || bytes > MAX_HANDLE_SZ)
        return -EINVAL;
    return -EPERM; /* needs CAP_DAC_READ_SEARCH, which the guest never has */
}
