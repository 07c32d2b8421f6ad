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

#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"
#include "sentry/creds.h"

static int mnt_ro(const struct path *p)
{
    return p->mnt && (p->mnt->flags & MNT_RDONLY);
}

/* Write and search permission on dir, for creating or removing in it. */
static int may_modify_dir(const struct creds *c, const struct path *dir)
{
    int r = vfs_permission(c, dir->d->inode, MAY_WRITE | MAY_EXEC);
    if (r < 0)
        return r;
    return mnt_ro(dir) ? -EROFS : 0;
}

/* The sticky bit: only the owner of the file or the directory (or a
 * caller with CAP_FOWNER) may remove or rename entries. */
static int check_sticky(const struct creds *c, struct inode *dir, struct inode *victim)
{
    uid_t fsuid = c->fsuid;
    if (!(dir->mode & S_ISVTX) || creds_capable(c, GCAP_FOWNER))
        return 0;
    return fsuid == victim->uid || fsuid == dir->uid ? 0 : -EPERM;
}

/* Linux's mode_strip_sgid: a new file (not a directory) that would be
 * set-group-ID and group-executable in a set-group-ID directory keeps the
 * bit only if its creator is in the directory's group (which it gets) or
 * has CAP_FSETID. mode includes the file type. */
static mode_t strip_sgid(const struct creds *c, const struct inode *dir, mode_t mode)
{
    if ((mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) || S_ISDIR(mode) ||
        !(dir->mode & S_ISGID))
        return mode;
    if (dir->gid == c->fsgid || creds_in_groups(c, dir->gid) || creds_capable(c, GCAP_FSETID))
        return mode;
    return mode & ~S_ISGID;
}

/* Lookup the parent of path and check the last component is a plain name. */
static int lookup_create(const struct path_op *op, struct path *parent, char *last, int *trailing)
{
    int type, fl = 0;
    int r = vfs_lookup_parent(op, parent, last, &type, &fl);
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

static int may_open(const struct creds *c, const struct path *p, int flags)
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
    if (flags & VFS_OPEN_EXEC)
        mask = MAY_EXEC;
    int r = vfs_permission(c, i, mask);
    if (r < 0)
        return r;
    if ((mask & MAY_WRITE) && (S_ISREG(i->mode) || S_ISDIR(i->mode)) && mnt_ro(p))
        return -EROFS;
    /* O_NOATIME only for the owner or with CAP_FOWNER. */
    if ((flags & O_NOATIME) && !vfs_owner_or_capable(c, i))
        return -EPERM;
    return 0;
}

/* The open itself: the special file's (init_special_inode gave it its
 * file operations), else the file system's for the inode. */
static int do_open(struct inode *i, struct file *f, int flags)
{
    if (f->ops && f->ops->open)
        return f->ops->open(f, flags);
    if (i->ops->open)
        return i->ops->open(i, f, flags);
    return f->ops ? 0 : -ENXIO;
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

int vfs_open_path(const struct creds *cred, const struct path *p, int flags, struct file **out)
{
    int r = may_open(cred, p, flags);
    if (r < 0)
        return r;
    struct inode *i = p->d->inode;
    int fflags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC | VFS_OPEN_EXEC);
    if (flags & O_PATH)
        fflags = O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW));
    struct file *f = file_of_path(p, fflags);
    if (!f)
        return -ENOMEM;
    f->opener = creds_get(cred);
    if (flags & O_PATH) {
        static const struct file_ops path_ops = { .name = "path" };
        f->ops = &path_ops;
        f->fmode |= FMODE_PATH;
        *out = f;
        return 0;
    }
    r = do_open(i, f, flags & ~VFS_OPEN_EXEC);
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
    r = file_count_writer(f);
    if (r < 0) {
        file_put(f);
        return r;
    }
    fsnotify_open(f);
    /* O_TRUNC truncates even with O_RDONLY (may_open asked for write). */
    if ((flags & O_TRUNC) && S_ISREG(i->mode)) {
        struct iattr ia = { .valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_NOW | ATTR_CTIME,
                            .size = 0 };
        r = i->ops->setattr ? i->ops->setattr(i, &ia) : -EPERM;
        if (r < 0) {
            file_put(f);
            return r;
        }
        fsnotify_change(i, p->d, ia.valid);
    }
    *out = f;
    return 0;
}

/* O_CREAT: create or open the last component of path; links counts the
 * symlinks followed to get here (a dangling one creates its target). */
static int open_create(const struct path_op *op, const struct path *base, const char *path,
                       int flags, mode_t mode, int links, struct file **out)
{
    char last[NAME_MAX_LEN + 1];
    int type, fl = 0;
    struct path dir;
    int resolve = op->flags;
    int r = vfs_lookup_parent_at(op, base, path, &dir, last, &type, &fl);
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
            struct path jp;
            char *text;
            r = vfs_follow_link(p.d->inode, resolve, &links, &jp, &text);
            path_put(&p);
            if (r == 1) {
                /* A magic link: open what it leads to. */
                r = vfs_open_path(op->cred, &jp, flags, out);
                path_put(&jp);
            } else if (r == 0) {
                /* Resolve the target from the link's directory. */
                r = open_create(op, &dir, text, flags, mode, links, out);
                free(text);
            }
            goto out;
        }
        if (S_ISDIR(p.d->inode->mode))
            r = -EISDIR; /* O_CREAT never opens a directory */
        else
            r = vfs_open_path(op->cred, &p, flags & ~O_CREAT, out);
        path_put(&p);
        goto out;
    }
    /* Create it. */
    r = may_modify_dir(op->cred, &dir);
    if (r < 0)
        goto out;
    struct inode *di = dir.d->inode;
    if (!di->ops->mknod) {
        r = -EACCES;
        goto out;
    }
    struct fs_cred c;
    vfs_fs_cred(op->cred, &c);
    if (di->mode & S_ISGID)
        c.gid = di->gid;
    struct inode *ni;
    r = di->ops->mknod(di, last, strip_sgid(op->cred, di, S_IFREG | (mode & 07777)), 0, &c, &ni);
    if (r < 0)
        goto out;
    struct dentry *nd;
    fsnotify_create(di, last, ni);
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
    r = do_open(i, f, flags);
    path_put(&p);
    if (r < 0) {
        f->ops = NULL;
        file_put(f);
        goto out;
    }
    r = file_count_writer(f);
    if (r < 0) {
        file_put(f);
        goto out;
    }
    fsnotify_open(f);
    *out = f;
out:
    path_put(&dir);
    return r;
}

int vfs_open(const struct path_op *op, int flags, mode_t mode, struct file **out)
{
    if (flags & O_CREAT)
        return open_create(op, NULL, op->name, flags, mode, 0, out);
    struct path_op o = *op; /* the same walk with open's lookup flags (borrowed references) */
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        /* Unnamed files are not supported yet; a read-only mount refuses
         * them first, as Linux does. */
        struct path p;
        o.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY;
        int r = vfs_lookup(&o, &p);
        if (r < 0)
            return r;
        r = mnt_ro(&p) ? -EROFS : -EOPNOTSUPP;
        path_put(&p);
        return r;
    }
    if (!(flags & O_NOFOLLOW))
        o.flags |= LOOKUP_FOLLOW;
    if (flags & O_DIRECTORY)
        o.flags |= LOOKUP_DIRECTORY;
    struct path p;
    int r = vfs_lookup(&o, &p);
    if (r < 0)
        return r;
    r = vfs_open_path(op->cred, &p, flags, out);
    path_put(&p);
    return r;
}

/* ---- attributes ---- */

int vfs_setattr(const struct creds *c, const struct path *p, struct iattr *ia)
{
    struct inode *i = p->d->inode;
    /* inode_owner_or_capable */
    int owner = vfs_owner_or_capable(c, i);
    if (mnt_ro(p))
        return -EROFS;
    if ((ia->valid & ATTR_MODE) && !owner)
        return -EPERM;
    if (ia->valid & (ATTR_UID | ATTR_GID | ATTR_CHOWN)) {
        /* chown_ok and chgrp_ok: the owner may "change" the owner to
         * itself and the group to one of its groups; CAP_CHOWN anything. */
        int chown_cap = creds_capable(c, GCAP_CHOWN), own = c->fsuid == i->uid;
        if ((ia->valid & ATTR_UID) && !(own && ia->uid == i->uid) && !chown_cap)
            return -EPERM;
        if ((ia->valid & ATTR_GID) &&
            !(own && (ia->gid == i->gid || ia->gid == c->fsgid || creds_in_groups(c, ia->gid))) &&
            !chown_cap)
            return -EPERM;
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
            int r = vfs_permission(c, i, MAY_WRITE);
            if (r < 0)
                return r;
        }
    }
    if ((ia->valid & ATTR_MODE) && (ia->mode & S_ISGID) && i->gid != c->fsgid &&
        !creds_in_groups(c, i->gid) && !creds_capable(c, GCAP_FSETID))
        ia->mode &= ~S_ISGID; /* not in the file's group */
    ia->valid |= ATTR_CTIME;
    if (!i->ops->setattr)
        return -EPERM;
    int r = i->ops->setattr(i, ia);
    if (r == 0) {
        setattr_copy(i, ia);
        fsnotify_change(i, p->d, ia->valid);
    }
    return r;
}

/* ---- creating names ---- */

/* A name being made: the parent directory (held), the last component,
 * the credentials the new inode gets, and the inode once made. */
struct creation {
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    struct fs_cred c;
    struct inode *di, *ni;
};

/* The checks every creation makes: path's parent is a directory the
 * guest may write in, on a writable mount, and the name is free (a
 * trailing slash on a missing name is ENOENT unless dirs_ok). On success
 * cr holds the parent, the name and the new file's owner (the directory's
 * group if it is set-group-ID). */
static int prepare_create(const struct path_op *op, int dirs_ok, struct creation *cr)
{
    int trailing;
    cr->ni = NULL;
    int r = lookup_create(op, &cr->dir, cr->last, &trailing);
    if (r < 0)
        return r;
    struct path p;
    r = child(&cr->dir, cr->last, &p);
    if (r == 1) {
        path_put(&p);
        r = -EEXIST;
    } else if (r == 0 && trailing && !dirs_ok) {
        r = -ENOENT;
    }
    if (r == 0)
        r = may_modify_dir(op->cred, &cr->dir);
    if (r < 0) {
        path_put(&cr->dir);
        return r;
    }
    cr->di = cr->dir.d->inode;
    vfs_fs_cred(op->cred, &cr->c);
    if (cr->di->mode & S_ISGID)
        cr->c.gid = cr->di->gid;
    return 0;
}

/* After the file system made the name (r 0, cr->ni the new inode): the
 * dentry cache learns it. Releases the directory. */
static int created(struct creation *cr, int r)
{
    if (r == 0) {
        fsnotify_create(cr->di, cr->last, cr->ni);
        r = d_instantiate(cr->dir.d, cr->last, cr->ni, NULL);
    }
    path_put(&cr->dir);
    return r;
}

int vfs_mknod(const struct path_op *op, mode_t mode, dev_t rdev)
{
    mode_t type = mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
        type != S_IFBLK)
        return -EINVAL;
    /* CAP_MKNOD, but for a whiteout (0:0 character device), which anyone
     * may make since Linux 5.8 and which is no device: checked after the
     * name and the directory's permissions, as vfs_mknod does. */
    int whiteout = type == S_IFCHR && rdev == 0;
    struct creation cr;
    int r = prepare_create(op, 0, &cr);
    if (r < 0)
        return r;
    if ((type == S_IFCHR || type == S_IFBLK) && !whiteout && !creds_capable(op->cred, GCAP_MKNOD))
        r = -EPERM;
    else if (((type == S_IFCHR || type == S_IFBLK) && !whiteout &&
              (cr.dir.mnt->flags & MNT_NODEV)) ||
             !cr.di->ops->mknod)
        r = -EPERM;
    else
        r = cr.di->ops->mknod(cr.di, cr.last, strip_sgid(op->cred, cr.di, type | (mode & 07777)),
                              rdev, &cr.c, &cr.ni);
    return created(&cr, r);
}

int vfs_mkdir(const struct path_op *op, mode_t mode)
{
    struct creation cr;
    int r = prepare_create(op, 1, &cr);
    if (r < 0)
        return r;
    mode_t m = mode & 01777;
    if (cr.di->mode & S_ISGID)
        m |= S_ISGID;
    r = cr.di->ops->mkdir ? cr.di->ops->mkdir(cr.di, cr.last, m, &cr.c, &cr.ni) : -EPERM;
    return created(&cr, r);
}

int vfs_symlink(const char *target, const struct path_op *op)
{
    struct creation cr;
    int r = prepare_create(op, 0, &cr);
    if (r < 0)
        return r;
    r = cr.di->ops->symlink ? cr.di->ops->symlink(cr.di, cr.last, target, &cr.c, &cr.ni) : -EPERM;
    return created(&cr, r);
}

int vfs_link(const struct path_op *oop, const struct path_op *nop)
{
    struct path old;
    int r = vfs_lookup(oop, &old);
    if (r < 0)
        return r;
    struct path dir;
    char last[NAME_MAX_LEN + 1];
    int trailing;
    r = lookup_create(nop, &dir, last, &trailing);
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
        r = may_modify_dir(nop->cred, &dir);
    struct inode *oi = old.d->inode, *di = dir.d->inode;
    if (r == 0 && S_ISDIR(oi->mode))
        r = -EPERM;
    if (r == 0 && old.d->deleted)
        r = -ENOENT;
    if (r == 0 && !di->ops->link)
        r = -EPERM;
    if (r == 0) {
        r = di->ops->link(oi, di, last);
        if (r == 0)
            fsnotify_link(di, last, oi);
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

static int lookup_victim(const struct path_op *op, int is_dir, struct path *dir, char *last,
                         struct path *victim)
{
    int type, fl = 0;
    int r = vfs_lookup_parent(op, dir, last, &type, &fl);
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
static int remove_name(const struct path_op *op, int is_dir)
{
    struct path dir, v;
    char last[NAME_MAX_LEN + 1];
    int r = lookup_victim(op, is_dir, &dir, last, &v);
    if (r < 0)
        return r;
    struct inode *di = dir.d->inode, *vi = v.d->inode;
    if ((S_ISDIR(vi->mode) != 0) != is_dir)
        r = is_dir ? -ENOTDIR : -EISDIR;
    if (r == 0)
        r = may_modify_dir(op->cred, &dir);
    if (r == 0)
        r = check_sticky(op->cred, di, vi);
    if (r == 0 && v.d->mounted)
        r = -EBUSY;
    if (r == 0 && is_dir && v.d == op->root.d && v.mnt == op->root.mnt)
        r = -EBUSY; /* the caller's root */
    if (r == 0) {
        int (*op)(struct inode *, const char *, struct inode *) =
            is_dir ? di->ops->rmdir : di->ops->unlink;
        r = op ? op(di, last, vi) : -EPERM;
    }
    if (r == 0) {
        d_delete_name(dir.d, last);
        fsnotify_remove(di, last, v.d);
    }
    path_put(&v);
    path_put(&dir);
    return r;
}

int vfs_unlink(const struct path_op *op)
{
    return remove_name(op, 0);
}

int vfs_rmdir(const struct path_op *op)
{
    return remove_name(op, 1);
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

/* rename's checks once both names are found (dst NULL when the new name
 * is free), in Linux's order: 0 to go ahead, 1 when there is nothing to
 * do (the same file under both names), or -errno. */
static int may_rename(const struct creds *c, const struct path *odir, const struct path *ndir,
                      const struct path *src, const struct path *dst, int ofl, int nfl,
                      unsigned flags)
{
    struct inode *si = src->d->inode, *di = dst ? dst->d->inode : NULL;
    int sdir = S_ISDIR(si->mode);
    if ((flags & RENAME_EXCHANGE) && !dst)
        return -ENOENT;
    if ((flags & RENAME_NOREPLACE) && dst)
        return -EEXIST;
    /* A trailing slash needs a directory. */
    if (((ofl & LOOKUP_TRAILING_SLASH) && !sdir) ||
        ((nfl & LOOKUP_TRAILING_SLASH) && !sdir && !(flags & RENAME_EXCHANGE)))
        return -ENOTDIR;
    if (dst && (src->d == dst->d || si == di))
        return 1; /* the same file, or two hard links to one inode: POSIX says do nothing */
    if (dst && !(flags & RENAME_EXCHANGE)) {
        int ddir = S_ISDIR(di->mode);
        if (sdir && !ddir)
            return -ENOTDIR;
        if (!sdir && ddir)
            return -EISDIR;
    }
    /* Not into itself: the source may not be an ancestor of the target's
     * directory (and for exchange, nor the other way). */
    if (sdir && is_ancestor(src->d, ndir->d))
        return -EINVAL;
    if (dst && (flags & RENAME_EXCHANGE) && S_ISDIR(di->mode) && is_ancestor(dst->d, odir->d))
        return -EINVAL;
    if (dst && !(flags & RENAME_EXCHANGE) && is_ancestor(dst->d, odir->d))
        return -ENOTEMPTY;
    int r;
    if ((r = may_modify_dir(c, odir)) < 0 || (r = may_modify_dir(c, ndir)) < 0)
        return r;
    if ((r = check_sticky(c, odir->d->inode, si)) < 0)
        return r;
    if (dst && (r = check_sticky(c, ndir->d->inode, di)) < 0)
        return r;
    /* Moving a directory to a new parent rewrites its "..". */
    if (sdir && odir->d != ndir->d && (r = vfs_permission(c, si, MAY_WRITE)) < 0)
        return r;
    if (src->d->mounted || (dst && dst->d->mounted))
        return -EBUSY;
    return 0;
}

int vfs_rename(const struct path_op *oop, const struct path_op *nop, unsigned flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
        return -EINVAL;
    struct path odir, ndir, src, dst = { 0 };
    char olast[NAME_MAX_LEN + 1], nlast[NAME_MAX_LEN + 1];
    int otype, ntype, ofl = 0, nfl = 0;
    int r = vfs_lookup_parent(oop, &odir, olast, &otype, &ofl);
    if (r < 0)
        return r;
    r = vfs_lookup_parent(nop, &ndir, nlast, &ntype, &nfl);
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
    r = may_rename(oop->cred, &odir, &ndir, &src, have_dst ? &dst : NULL, ofl, nfl, flags);
    if (r != 0) {
        r = r > 0 ? 0 : r;
        goto out1;
    }
    struct inode *odi = odir.d->inode;
    struct fs_cred c;
    vfs_fs_cred(oop->cred, &c); /* the whiteout's owner */
    if (odir.d->inode->mode & S_ISGID)
        c.gid = odir.d->inode->gid;
    r = odi->ops->rename ? odi->ops->rename(odi, olast, ndir.d->inode, nlast, flags, &c) : -EPERM;
    if (r == 0) {
        d_move_name(odir.d, olast, ndir.d, nlast, flags);
        fsnotify_rename(odi, olast, ndir.d->inode, nlast, src.d, have_dst ? dst.d : NULL,
                        !!(flags & RENAME_EXCHANGE));
    }
out1:
    if (have_dst)
        path_put(&dst);
    path_put(&src);
out2:
    path_put(&ndir);
    path_put(&odir);
    return r;
}

int vfs_readlink(const struct path_op *op, char *buf, size_t len)
{
    struct path p;
    int r = vfs_lookup(op, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (!S_ISLNK(i->mode)) {
        path_put(&p);
        return op->name[0] ? -EINVAL : -ENOENT;
    }
    if (i->ops->get_link) {
        /* Magic links read as the path of where they lead. */
        struct mount *m = NULL;
        struct dentry *d = NULL;
        r = i->ops->get_link(i, &m, &d);
        if (r == 1) {
            struct path jp = { m, d };
            char *tmp = malloc(PATH_MAX_LEN);
            r = tmp ? vfs_d_path(&jp, &op->root, tmp, PATH_MAX_LEN) : -ENOMEM;
            if (r >= 0) {
                if ((size_t)r > len)
                    r = (int)len;
                memcpy(buf, tmp, (size_t)r);
            }
            free(tmp);
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
