/* Operations on names: open (with O_CREAT), mknod, mkdir, symlink, link,
 * unlink, rmdir, rename, readlink and attribute changes. Each checks what
 * Linux checks (types, permissions, read-only mounts, sticky directories)
 * before calling the file system's inode operations, then keeps the
 * dentry cache in step. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/devices.h"
#include "fs/pipe.h"
#include "fs/vfs.h"
#include "sentry/kernel.h"

static int mnt_ro(const struct path *p)
{
    return p->mnt && (p->mnt->flags & MNT_RDONLY);
}

/* Write and search permission on dir, for creating or removing in it. */
static int may_modify_dir(struct task *t, const struct path *dir)
{
    int r = vfs_permission(t, dir->d->inode, MAY_WRITE | MAY_EXEC);
    if (r < 0)
        return r;
    return mnt_ro(dir) ? -EROFS : 0;
}

/* The sticky bit: only the owner of the file or the directory (or root)
 * may remove or rename entries. */
static int check_sticky(struct task *t, struct inode *dir, struct inode *victim)
{
    uid_t fsuid = t->proc->creds.fsuid;
    if (!(dir->mode & S_ISVTX) || fsuid == 0)
        return 0;
    return fsuid == victim->uid || fsuid == dir->uid ? 0 : -EPERM;
}

/* Lookup the parent of path and check the last component is a plain name. */
static int lookup_create(struct task *t, int dirfd, const char *path, struct path *parent,
                         char *last, int *trailing)
{
    int type, fl = 0;
    int r = vfs_lookup_parent(t, dirfd, path, 0, parent, last, &type, &fl);
    if (r < 0)
        return r;
    if (trailing)
        *trailing = !!(fl & LOOKUP_TRAILING_SLASH);
    if (type != LAST_NORM) {
        path_put(parent);
        return -EEXIST;
    }
    return 0;
}

/* Is name present in dir? 1 with *out (a reference), 0 if not, or -errno. */
static int child(struct path *dir, const char *name, struct path *out)
{
    int r = vfs_lookup_one(dir, name, out);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : 1;
}

/* ---- open ---- */

static int may_open(struct task *t, const struct path *p, int flags)
{
    struct inode *i = p->d->inode;
    int acc = flags & O_ACCMODE;
    if (flags & O_PATH) {
        if ((flags & O_DIRECTORY) && !S_ISDIR(i->mode))
            return -ENOTDIR;
        return 0;
    }
    if (S_ISLNK(i->mode))
        return -ELOOP;
    if (S_ISDIR(i->mode) && (acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
        return -EISDIR;
    if ((flags & O_DIRECTORY) && !S_ISDIR(i->mode))
        return -ENOTDIR;
    if (S_ISSOCK(i->mode))
        return -ENXIO;
    if ((S_ISCHR(i->mode) || S_ISBLK(i->mode)) && p->mnt && (p->mnt->flags & MNT_NODEV))
        return -EACCES;
    int mask = 0;
    if (acc == O_RDONLY || acc == O_RDWR)
        mask |= MAY_READ;
    if (acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC))
        mask |= MAY_WRITE;
    if (acc == 3)
        mask = MAY_READ | MAY_WRITE;
    int r = vfs_permission(t, i, mask);
    if (r < 0)
        return r;
    if ((mask & MAY_WRITE) && (S_ISREG(i->mode) || S_ISDIR(i->mode)) && mnt_ro(p))
        return -EROFS;
    return 0;
}

/* A new open file description for what p names, holding references to
 * its inode and dentry; ops from the inode (the open may change them). */
static struct file *file_of_path(const struct path *p, int fflags)
{
    struct inode *i = p->d->inode;
    struct file *f = file_new(i->fops, fflags);
    if (!f)
        return NULL;
    inode_get(i);
    f->inode = i;
    f->mnt = p->mnt;
    f->dentry = dget(p->d);
    return f;
}

/* Linux's FMODE_CAN_ODIRECT: regular files of tmpfs (since 6.6) and of
 * the host's file systems. A hostfs file's I/O still goes through the
 * host's page cache (the host descriptor has no O_DIRECT, so the sentry's
 * buffers need no alignment); the transfer calls apply the host's
 * alignment rules to the guest's buffers and offsets (dio_align). */
int vfs_file_can_direct(const struct file *f)
{
    const struct inode *i = f->inode;
    return i && S_ISREG(i->mode) && f->ops == i->fops &&
           (i->sb->type == &tmpfs_type || i->sb->type == &hostfs_type);
}

int vfs_open_path(struct task *t, const struct path *p, int flags, struct file **out)
{
    int r = may_open(t, p, flags);
    if (r < 0)
        return r;
    struct inode *i = p->d->inode;
    int fflags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
    if (flags & O_PATH)
        fflags = O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW));
    struct file *f = file_of_path(p, fflags);
    if (!f)
        return -ENOMEM;
    f->opener = t->proc;
    if (flags & O_PATH) {
        static const struct file_ops path_ops = { .name = "path" };
        f->ops = &path_ops;
        f->fmode |= FMODE_PATH;
        *out = f;
        return 0;
    }
    if (i->ops->open_any_type) {
        r = i->ops->open(i, f, flags);
    } else if (S_ISFIFO(i->mode)) {
        r = fifo_open(t, i, f, flags);
    } else if (S_ISCHR(i->mode) && !i->fops) {
        const struct file_ops *ops = chrdev_fops(i->rdev);
        f->ops = ops;
        r = ops ? 0 : -ENXIO;
        if (ops && ops->open)
            r = ops->open(t, f);
    } else if (S_ISBLK(i->mode)) {
        r = -ENXIO;
    } else if (i->ops->open) {
        r = i->ops->open(i, f, flags);
    } else {
        r = f->ops ? 0 : -ENXIO;
    }
    if (r < 0) {
        f->ops = NULL; /* nothing to release */
        file_put(f);
        return r;
    }
    /* do_dentry_open: O_DIRECT needs a file that does direct I/O. */
    if ((flags & O_DIRECT) && !vfs_file_can_direct(f)) {
        file_put(f);
        return -EINVAL;
    }
    /* O_TRUNC truncates even with O_RDONLY (may_open asked for write). */
    if ((flags & O_TRUNC) && S_ISREG(i->mode)) {
        struct iattr ia = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_NOW | ATTR_CTIME, .size = 0 };
        r = i->ops->setattr ? i->ops->setattr(i, &ia) : -EPERM;
        if (r < 0) {
            file_put(f);
            return r;
        }
    }
    *out = f;
    return 0;
}

/* O_CREAT: create or open the last component of path; links counts the
 * symlinks followed to get here (a dangling one creates its target). */
static int open_create(struct task *t, int dirfd, const struct path *base, const char *path,
                       int flags, mode_t mode, int resolve, int links, struct file **out)
{
    char last[NAME_MAX_LEN + 1];
    int type, fl = 0;
    struct path dir;
    int r = vfs_lookup_parent_at(t, dirfd, base, path, resolve, &dir, last, &type, &fl);
    if (r < 0)
        return r;
    if (type != LAST_NORM || (fl & LOOKUP_TRAILING_SLASH)) {
        path_put(&dir);
        return -EISDIR;
    }
    struct path p;
    r = child(&dir, last, &p);
    if (r < 0)
        goto out;
    if (r == 1) {
        if (flags & O_EXCL) {
            path_put(&p);
            r = -EEXIST;
            goto out;
        }
        if (S_ISLNK(p.d->inode->mode) && !(flags & O_NOFOLLOW)) {
            if (++links > SYMLINK_MAX || (resolve & LOOKUP_NO_SYMLINKS)) {
                path_put(&p);
                r = -ELOOP;
                goto out;
            }
            struct inode *li = p.d->inode;
            char *buf = malloc(PATH_MAX_LEN);
            if (!buf) {
                path_put(&p);
                r = -ENOMEM;
                goto out;
            }
            struct mount *jm = NULL;
            struct dentry *jd = NULL;
            int magic = li->ops->get_link ? li->ops->get_link(t, li, &jm, &jd) : 0;
            if (magic == 1) {
                free(buf);
                path_put(&p);
                path_put(&dir);
                if (resolve & (LOOKUP_NO_MAGICLINKS | LOOKUP_BENEATH | LOOKUP_IN_ROOT)) {
                    dput(jd);
                    return -ELOOP;
                }
                struct path jp = { jm, jd };
                r = vfs_open_path(t, &jp, flags, out);
                path_put(&jp);
                return r;
            }
            int n = magic < 0 ? magic : li->ops->readlink ? li->ops->readlink(li, buf, PATH_MAX_LEN - 1) : -EINVAL;
            path_put(&p);
            if (n < 0) {
                free(buf);
                r = n;
                goto out;
            }
            buf[n] = 0;
            /* Resolve the target from the link's directory. */
            r = open_create(t, dirfd, &dir, buf, flags, mode, resolve, links, out);
            free(buf);
            goto out;
        }
        if (S_ISDIR(p.d->inode->mode))
            r = -EISDIR; /* O_CREAT never opens a directory */
        else
            r = vfs_open_path(t, &p, flags & ~O_CREAT, out);
        path_put(&p);
        goto out;
    }
    /* Create it. */
    r = may_modify_dir(t, &dir);
    if (r < 0)
        goto out;
    struct inode *di = dir.d->inode;
    if (!di->ops->mknod) {
        r = -EACCES;
        goto out;
    }
    struct fs_cred c;
    vfs_fs_cred(t, &c);
    if (di->mode & S_ISGID)
        c.gid = di->gid;
    struct inode *ni;
    r = di->ops->mknod(di, last, S_IFREG | (mode & 07777 & ~t->proc->umask), 0, &c, &ni);
    if (r < 0)
        goto out;
    struct dentry *nd;
    r = d_instantiate(dir.d, last, ni, &nd);
    if (r < 0)
        goto out;
    p.mnt = dir.mnt;
    p.d = nd;
    /* A new file opens without permission checks on its mode (O_RDWR of a
     * 0444 file works once), as Linux does. */
    struct inode *i = nd->inode;
    struct file *f = file_of_path(&p, flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC));
    if (!f) {
        path_put(&p);
        r = -ENOMEM;
        goto out;
    }
    r = i->ops->open ? i->ops->open(i, f, flags) : 0;
    path_put(&p);
    if (r < 0) {
        f->ops = NULL;
        file_put(f);
        goto out;
    }
    *out = f;
out:
    path_put(&dir);
    return r;
}

int vfs_open(struct task *t, int dirfd, const char *path, int flags, mode_t mode, int resolve,
             struct file **out)
{
    if (flags & O_CREAT)
        return open_create(t, dirfd, NULL, path, flags, mode, resolve, 0, out);
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        /* Unnamed files are not supported yet; a read-only mount refuses
         * them first, as Linux does. */
        struct path p;
        int r = vfs_lookup(t, dirfd, path, resolve | LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
        if (r < 0)
            return r;
        r = mnt_ro(&p) ? -EROFS : -EOPNOTSUPP;
        path_put(&p);
        return r;
    }
    int lf = resolve;
    if (!(flags & O_NOFOLLOW))
        lf |= LOOKUP_FOLLOW;
    if (flags & O_DIRECTORY)
        lf |= LOOKUP_DIRECTORY;
    struct path p;
    int r = vfs_lookup(t, dirfd, path, lf, &p);
    if (r < 0)
        return r;
    r = vfs_open_path(t, &p, flags, out);
    path_put(&p);
    return r;
}

/* ---- attributes ---- */

int vfs_getattr(struct inode *i, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    int r = i->ops->getattr(i, st);
    if (r == 0) {
        /* Keep the cached fields the permission checks use current. */
        i->mode = st->st_mode;
        i->uid = st->st_uid;
        i->gid = st->st_gid;
    }
    return r;
}

int vfs_setattr(struct task *t, const struct path *p, struct iattr *ia)
{
    struct inode *i = p->d->inode;
    const struct creds *c = &t->proc->creds;
    int owner = c->fsuid == 0 || c->fsuid == i->uid;
    if (mnt_ro(p))
        return -EROFS;
    if ((ia->valid & ATTR_MODE) && !owner)
        return -EPERM;
    if (ia->valid & (ATTR_UID | ATTR_GID | ATTR_CHOWN)) {
        if (c->fsuid != 0) {
            if ((ia->valid & ATTR_UID) && ia->uid != i->uid)
                return -EPERM;
            if ((ia->valid & ATTR_GID) && (!owner || (ia->gid != c->fsgid && ia->gid != i->gid &&
                                                       !creds_in_groups(c, ia->gid))))
                return -EPERM;
        }
        /* Any chown, even to -1, -1, clears set-user-ID, and set-group-ID
         * when group-executable. */
        if (S_ISREG(i->mode) && !(ia->valid & ATTR_MODE)) {
            mode_t m = i->mode & 07777 & ~S_ISUID;
            if (i->mode & S_IXGRP)
                m &= ~S_ISGID;
            if (m != (i->mode & 07777)) {
                ia->valid |= ATTR_MODE;
                ia->mode = m;
            }
        }
    }
    if (ia->valid & (ATTR_ATIME | ATTR_MTIME)) {
        int now = (ia->valid & (ATTR_ATIME | ATTR_ATIME_NOW)) != ATTR_ATIME &&
                  (ia->valid & (ATTR_MTIME | ATTR_MTIME_NOW)) != ATTR_MTIME;
        if (!owner) {
            if (!now)
                return -EPERM;
            int r = vfs_permission(t, i, MAY_WRITE);
            if (r < 0)
                return r;
        }
    }
    if ((ia->valid & ATTR_MODE) && c->fsuid != 0 && (ia->mode & S_ISGID) && i->gid != c->fsgid &&
        !creds_in_groups(c, i->gid))
        ia->mode &= ~S_ISGID; /* not in the file's group */
    ia->valid |= ATTR_CTIME;
    if (!i->ops->setattr)
        return -EPERM;
    int r = i->ops->setattr(i, ia);
    if (r == 0) {
        if (ia->valid & ATTR_MODE)
            i->mode = (i->mode & S_IFMT) | (ia->mode & 07777);
        if (ia->valid & ATTR_UID)
            i->uid = ia->uid;
        if (ia->valid & ATTR_GID)
            i->gid = ia->gid;
    }
    return r;
}

/* ---- creating names ---- */

/* The checks every creation makes: path's parent is a directory the
 * guest may write in, on a writable mount, and the name is free (a
 * trailing slash on a missing name is ENOENT unless dirs_ok). On success
 * *dir holds the parent, last the name and *c the new file's owner
 * (the directory's group if it is set-group-ID). */
static int prepare_create(struct task *t, int dirfd, const char *path, int dirs_ok, struct path *dir,
                          char *last, struct fs_cred *c)
{
    int trailing;
    int r = lookup_create(t, dirfd, path, dir, last, &trailing);
    if (r < 0)
        return r;
    struct path p;
    r = child(dir, last, &p);
    if (r == 1) {
        path_put(&p);
        r = -EEXIST;
    } else if (r == 0 && trailing && !dirs_ok) {
        r = -ENOENT;
    }
    if (r == 0)
        r = may_modify_dir(t, dir);
    if (r < 0) {
        path_put(dir);
        return r;
    }
    vfs_fs_cred(t, c);
    if (dir->d->inode->mode & S_ISGID)
        c->gid = dir->d->inode->gid;
    return 0;
}

int vfs_mknod(struct task *t, int dirfd, const char *path, mode_t mode, dev_t rdev)
{
    mode_t type = mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR && type != S_IFBLK)
        return -EINVAL;
    /* CAP_MKNOD, but for a whiteout (0:0 character device), which anyone
     * may make since Linux 5.8 and which is no device. */
    int whiteout = type == S_IFCHR && rdev == 0;
    if ((type == S_IFCHR || type == S_IFBLK) && !whiteout && t->proc->creds.euid != 0)
        return -EPERM;
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    struct fs_cred c;
    int r = prepare_create(t, dirfd, path, 0, &dir, last, &c);
    if (r < 0)
        return r;
    struct inode *di = dir.d->inode;
    if ((type == S_IFCHR || type == S_IFBLK) && !whiteout && (dir.mnt->flags & MNT_NODEV))
        r = -EPERM;
    else if (!di->ops->mknod)
        r = -EPERM;
    else {
        struct inode *ni;
        r = di->ops->mknod(di, last, type | (mode & 07777 & ~t->proc->umask), rdev, &c, &ni);
        if (r == 0)
            r = d_instantiate(dir.d, last, ni, NULL);
    }
    path_put(&dir);
    return r;
}

int vfs_mkdir(struct task *t, int dirfd, const char *path, mode_t mode)
{
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    struct fs_cred c;
    int r = prepare_create(t, dirfd, path, 1, &dir, last, &c);
    if (r < 0)
        return r;
    struct inode *di = dir.d->inode;
    mode_t m = mode & 01777 & ~t->proc->umask;
    if (di->mode & S_ISGID)
        m |= S_ISGID;
    if (!di->ops->mkdir)
        r = -EPERM;
    else {
        struct inode *ni;
        r = di->ops->mkdir(di, last, m, &c, &ni);
        if (r == 0)
            r = d_instantiate(dir.d, last, ni, NULL);
    }
    path_put(&dir);
    return r;
}

int vfs_symlink(struct task *t, const char *target, int dirfd, const char *path)
{
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    struct fs_cred c;
    int r = prepare_create(t, dirfd, path, 0, &dir, last, &c);
    if (r < 0)
        return r;
    struct inode *di = dir.d->inode;
    if (!di->ops->symlink)
        r = -EPERM;
    else {
        struct inode *ni;
        r = di->ops->symlink(di, last, target, &c, &ni);
        if (r == 0)
            r = d_instantiate(dir.d, last, ni, NULL);
    }
    path_put(&dir);
    return r;
}

int vfs_link(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath, int flags)
{
    struct path old;
    int lf = (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0;
    if (flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    int r = vfs_lookup(t, odirfd, opath, lf, &old);
    if (r < 0)
        return r;
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    int trailing;
    r = lookup_create(t, ndirfd, npath, &dir, last, &trailing);
    if (r < 0) {
        path_put(&old);
        return r;
    }
    struct path p;
    r = child(&dir, last, &p);
    if (r == 1) {
        path_put(&p);
        r = -EEXIST;
    } else if (r == 0 && trailing) {
        r = -ENOENT;
    }
    if (r == 0 && dir.mnt != old.mnt)
        r = -EXDEV;
    if (r == 0)
        r = may_modify_dir(t, &dir);
    struct inode *oi = old.d->inode, *di = dir.d->inode;
    if (r == 0 && S_ISDIR(oi->mode))
        r = -EPERM;
    if (r == 0 && old.d->deleted)
        r = -ENOENT;
    if (r == 0 && !di->ops->link)
        r = -EPERM;
    if (r == 0) {
        r = di->ops->link(oi, di, last);
        if (r == 0) {
            struct inode *ni;
            /* Look the new name up so that each name has its own dentry. */
            if (di->ops->lookup && di->ops->lookup(di, last, &ni) == 0)
                d_instantiate(dir.d, last, ni, NULL);
        }
    }
    path_put(&dir);
    path_put(&old);
    return r;
}

/* ---- removing names ---- */

static int lookup_victim(struct task *t, int dirfd, const char *path, int is_dir, struct path *dir,
                         char *last, struct path *victim)
{
    int type, fl = 0;
    int r = vfs_lookup_parent(t, dirfd, path, 0, dir, last, &type, &fl);
    if (r < 0)
        return r;
    if (type != LAST_NORM) {
        path_put(dir);
        if (!is_dir)
            return -EISDIR;
        return type == LAST_DOT ? -EINVAL : type == LAST_DOTDOT ? -ENOTEMPTY : -EBUSY;
    }
    r = vfs_lookup_one(dir, last, victim);
    if (r < 0) {
        path_put(dir);
        return r;
    }
    /* No follow_mounts for victims: rmdir of a mount point is EBUSY. */
    if (victim->mnt != dir->mnt) {
        path_put(victim);
        path_put(dir);
        return -EBUSY;
    }
    if (!is_dir && (fl & LOOKUP_TRAILING_SLASH)) {
        int d = S_ISDIR(victim->d->inode->mode);
        path_put(victim);
        path_put(dir);
        return d ? -EISDIR : -ENOTDIR;
    }
    return 0;
}

/* unlink (is_dir 0) and rmdir (1): the same checks but for the type and,
 * for rmdir, the process's own root. */
static int remove_name(struct task *t, int dirfd, const char *path, int is_dir)
{
    struct path dir, v;
    char last[NAME_MAX_LEN + 1];
    int r = lookup_victim(t, dirfd, path, is_dir, &dir, last, &v);
    if (r < 0)
        return r;
    struct inode *di = dir.d->inode, *vi = v.d->inode;
    if ((S_ISDIR(vi->mode) != 0) != is_dir)
        r = is_dir ? -ENOTDIR : -EISDIR;
    if (r == 0)
        r = may_modify_dir(t, &dir);
    if (r == 0)
        r = check_sticky(t, di, vi);
    if (r == 0 && v.d->mounted)
        r = -EBUSY;
    if (r == 0 && is_dir) {
        struct fs_struct *fs = t->proc->fs;
        pthread_mutex_lock(&fs->lock);
        if (v.d == fs->root.d && v.mnt == fs->root.mnt)
            r = -EBUSY;
        pthread_mutex_unlock(&fs->lock);
    }
    if (r == 0) {
        int (*op)(struct inode *, const char *, struct inode *) = is_dir ? di->ops->rmdir : di->ops->unlink;
        r = op ? op(di, last, vi) : -EPERM;
    }
    if (r == 0)
        d_delete_name(dir.d, last);
    path_put(&v);
    path_put(&dir);
    return r;
}

int vfs_unlink(struct task *t, int dirfd, const char *path)
{
    return remove_name(t, dirfd, path, 0);
}

int vfs_rmdir(struct task *t, int dirfd, const char *path)
{
    return remove_name(t, dirfd, path, 1);
}

/* 1 if a is d or one of its ancestors (same mount); vfs_lock not held. */
static int is_ancestor(struct dentry *a, struct dentry *d)
{
    pthread_mutex_lock(&vfs_lock);
    for (; d; d = d->parent)
        if (d == a) {
            pthread_mutex_unlock(&vfs_lock);
            return 1;
        }
    pthread_mutex_unlock(&vfs_lock);
    return 0;
}

int vfs_rename(struct task *t, int odirfd, const char *opath, int ndirfd, const char *npath,
               unsigned flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
        return -EINVAL;
    struct path odir, ndir, src, dst = { 0 };
    char olast[NAME_MAX_LEN + 1], nlast[NAME_MAX_LEN + 1];
    int otype, ntype, ofl = 0, nfl = 0;
    int r = vfs_lookup_parent(t, odirfd, opath, 0, &odir, olast, &otype, &ofl);
    if (r < 0)
        return r;
    r = vfs_lookup_parent(t, ndirfd, npath, 0, &ndir, nlast, &ntype, &nfl);
    if (r < 0) {
        path_put(&odir);
        return r;
    }
    int have_dst = 0;
    /* do_renameat2's order: another mount, then "." ".." or "/" as the old
     * name's last component (EBUSY), then as the new one's, where
     * RENAME_NOREPLACE says EEXIST (the name exists, after all); then a
     * read-only mount, before anything is looked up. */
    if (odir.mnt != ndir.mnt) {
        r = -EXDEV;
        goto out2;
    }
    if (otype != LAST_NORM || ntype != LAST_NORM) {
        r = (otype == LAST_NORM && (flags & RENAME_NOREPLACE)) ? -EEXIST : -EBUSY;
        goto out2;
    }
    if (mnt_ro(&odir)) {
        r = -EROFS;
        goto out2;
    }
    r = vfs_lookup_one(&odir, olast, &src);
    if (r < 0)
        goto out2;
    if (src.mnt != odir.mnt) {
        r = -EBUSY;
        goto out1;
    }
    r = child(&ndir, nlast, &dst);
    if (r < 0)
        goto out1;
    have_dst = r;
    r = 0;
    if (have_dst && dst.mnt != ndir.mnt) {
        r = -EBUSY;
        goto out1;
    }
    struct inode *si = src.d->inode, *di = have_dst ? dst.d->inode : NULL;
    int sdir = S_ISDIR(si->mode);
    if ((flags & RENAME_EXCHANGE) && !have_dst) {
        r = -ENOENT;
        goto out1;
    }
    if ((flags & RENAME_NOREPLACE) && have_dst) {
        r = -EEXIST;
        goto out1;
    }
    /* A trailing slash needs a directory. */
    if (((ofl & LOOKUP_TRAILING_SLASH) && !sdir) ||
        ((nfl & LOOKUP_TRAILING_SLASH) && !sdir && !(flags & RENAME_EXCHANGE))) {
        r = -ENOTDIR;
        goto out1;
    }
    if (have_dst && src.d == dst.d) {
        r = 0; /* the same file: nothing to do */
        goto out1;
    }
    if (have_dst && si == di) {
        r = 0; /* two hard links to one inode: POSIX says do nothing */
        goto out1;
    }
    if (have_dst && !(flags & RENAME_EXCHANGE)) {
        int ddir = S_ISDIR(di->mode);
        if (sdir && !ddir) {
            r = -ENOTDIR;
            goto out1;
        }
        if (!sdir && ddir) {
            r = -EISDIR;
            goto out1;
        }
    }
    /* Not into itself: the source may not be an ancestor of the target's
     * directory (and for exchange, nor the other way). */
    if (sdir && is_ancestor(src.d, ndir.d)) {
        r = -EINVAL;
        goto out1;
    }
    if (have_dst && (flags & RENAME_EXCHANGE) && S_ISDIR(di->mode) && is_ancestor(dst.d, odir.d)) {
        r = -EINVAL;
        goto out1;
    }
    if (have_dst && !(flags & RENAME_EXCHANGE) && is_ancestor(dst.d, odir.d)) {
        r = -ENOTEMPTY;
        goto out1;
    }
    if ((r = may_modify_dir(t, &odir)) < 0 || (r = may_modify_dir(t, &ndir)) < 0)
        goto out1;
    if ((r = check_sticky(t, odir.d->inode, si)) < 0)
        goto out1;
    if (have_dst && (r = check_sticky(t, ndir.d->inode, di)) < 0)
        goto out1;
    /* Moving a directory to a new parent rewrites its "..". */
    if (sdir && odir.d != ndir.d && (r = vfs_permission(t, si, MAY_WRITE)) < 0)
        goto out1;
    if (src.d->mounted || (have_dst && dst.d->mounted)) {
        r = -EBUSY;
        goto out1;
    }
    struct inode *odi = odir.d->inode;
    struct fs_cred c;
    vfs_fs_cred(t, &c); /* the whiteout's owner */
    if (odir.d->inode->mode & S_ISGID)
        c.gid = odir.d->inode->gid;
    r = odi->ops->rename ? odi->ops->rename(odi, olast, ndir.d->inode, nlast, flags, &c) : -EPERM;
    if (r == 0)
        d_move_name(odir.d, olast, ndir.d, nlast, flags);
out1:
    if (have_dst)
        path_put(&dst);
    path_put(&src);
out2:
    path_put(&ndir);
    path_put(&odir);
    return r;
}

int vfs_readlink(struct task *t, int dirfd, const char *path, char *buf, size_t len)
{
    struct path p;
    int r = vfs_lookup(t, dirfd, path, LOOKUP_EMPTY, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (!S_ISLNK(i->mode)) {
        path_put(&p);
        return path[0] ? -EINVAL : -ENOENT;
    }
    if (i->ops->get_link) {
        /* Magic links read as the path of where they lead. */
        struct mount *m = NULL;
        struct dentry *d = NULL;
        r = i->ops->get_link(t, i, &m, &d);
        if (r == 1) {
            struct path jp = { m, d };
            struct fs_struct *fs = t->proc->fs;
            pthread_mutex_lock(&fs->lock);
            struct path root = fs->root;
            path_get(&root);
            pthread_mutex_unlock(&fs->lock);
            char *tmp = malloc(PATH_MAX_LEN);
            r = tmp ? vfs_d_path(&jp, &root, tmp, PATH_MAX_LEN) : -ENOMEM;
            if (r >= 0) {
                if ((size_t)r > len)
                    r = (int)len;
                memcpy(buf, tmp, (size_t)r);
            }
            free(tmp);
            path_put(&root);
            path_put(&jp);
            path_put(&p);
            return r;
        }
        if (r < 0) {
            path_put(&p);
            return r;
        }
    }
    r = i->ops->readlink ? i->ops->readlink(i, buf, len) : -EINVAL;
    path_put(&p);
    return r;
}
