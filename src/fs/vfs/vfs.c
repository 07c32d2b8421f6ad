/* VFS objects and names: super blocks, inodes, the dentry tree, mounts,
 * path lookup (symlinks, "..", mount crossing, openat2 RESOLVE_* rules),
 * d_path and permission checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fs/vfs/vfs.h"
#include "sentry/creds.h"

pthread_mutex_t vfs_lock = PTHREAD_MUTEX_INITIALIZER;
struct mnt_ns *vfs_ns;

/* ---- super blocks and inodes ---- */

struct super_block *sb_new(const struct fs_type *type, dev_t dev, const char *source)
{
    struct super_block *sb = calloc(1, sizeof(*sb));
    if (!sb)
        return NULL;
    sb->type = type;
    sb->dev = dev;
    sb->refs = 1;
    sb->next_ino = 1;
    sb->source = strdup(source ? source : type->name);
    pthread_mutex_init(&sb->lock, NULL);
    if (!sb->source) {
        free(sb);
        return NULL;
    }
    return sb;
}

struct super_block *sb_kern(const struct fs_type *type, struct super_block **slot)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct super_block *sb = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (sb)
        return sb;
    pthread_mutex_lock(&lock);
    sb = *slot;
    if (!sb) {
        sb = sb_new(type, vfs_anon_dev(), type->name);
        __atomic_store_n(slot, sb, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
    return sb;
}

void sb_get(struct super_block *sb)
{
    __atomic_add_fetch(&sb->refs, 1, __ATOMIC_RELAXED);
}

void sb_put(struct super_block *sb)
{
    if (!sb || __atomic_sub_fetch(&sb->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (sb->type->kill_sb)
        sb->type->kill_sb(sb);
    pthread_mutex_destroy(&sb->lock);
    free(sb->source);
    free(sb->options);
    free(sb);
}

dev_t vfs_anon_dev(void)
{
    /* Linux hands out 0:N from an IDA; N starts low and grows. */
    static unsigned next = 40;
    unsigned n = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
    return makedev(0, n);
}

void inode_init(struct inode *i, struct super_block *sb, const struct inode_ops *ops,
                const struct file_ops *fops, uint64_t ino, mode_t mode)
{
    i->ops = ops;
    i->fops = fops;
    i->sb = sb;
    i->refs = 1;
    i->ino = ino;
    i->mode = mode;
    sb_get(sb);
}

void inode_get(struct inode *i)
{
    __atomic_add_fetch(&i->refs, 1, __ATOMIC_RELAXED);
}

void inode_put(struct inode *i)
{
    if (!i || __atomic_sub_fetch(&i->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    struct super_block *sb = i->sb;
    if (i->ops->evict)
        i->ops->evict(i); /* frees the file system's struct, which embeds i */
    else
        free(i);
    sb_put(sb);
}

/* ---- dentries ---- */

static struct dentry *d_alloc(struct dentry *parent, const char *name, struct inode *i)
{
    struct dentry *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->name = strdup(name);
    if (!d->name) {
        free(d);
        return NULL;
    }
    d->refs = 1;
    d->inode = i;
    d->parent = parent;
    return d;
}

struct dentry *d_make_root(struct inode *i, const char *name)
{
    struct dentry *d = d_alloc(NULL, name ? name : "/", i);
    if (!d)
        inode_put(i);
    return d;
}

struct dentry *dget(struct dentry *d)
{
    if (d)
        __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
    return d;
}

/* Unhook d from its parent's child list; vfs_lock held. */
static void d_unhash(struct dentry *d)
{
    if (!d->parent)
        return;
    for (struct dentry **pp = &d->parent->child; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    d->next = NULL;
}

void dput(struct dentry *d)
{
    while (d) {
        pthread_mutex_lock(&vfs_lock);
        if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0) {
            pthread_mutex_unlock(&vfs_lock);
            return;
        }
        /* Children hold their parent; a dentry with refs 0 has none. */
        d_unhash(d);
        pthread_mutex_unlock(&vfs_lock);
        struct dentry *parent = d->parent;
        inode_put(d->inode);
        free(d->name);
        free(d);
        d = parent;
    }
}

void path_get(const struct path *p)
{
    dget(p->d);
    (void)p->mnt; /* mounts live as long as the namespace */
}

void path_put(struct path *p)
{
    if (p->d)
        dput(p->d);
    p->d = NULL;
    p->mnt = NULL;
}

/* The child of parent called name in the dentry cache, with a reference;
 * vfs_lock held. */
static struct dentry *d_find_child(struct dentry *parent, const char *name)
{
    for (struct dentry *c = parent->child; c; c = c->next)
        if (!c->deleted && strcmp(c->name, name) == 0)
            return dget(c);
    return NULL;
}

/* Is d, found in the cache as name in dir, still what the file system has
 * there? Mount points and placeholders (another file system's inode) are
 * the cache's own and always are. */
static int d_revalidate(struct dentry *dir, const char *name, struct dentry *d)
{
    struct inode *di = dir->inode, *i = d->inode;
    if (!di->ops->revalidate || i->sb != di->sb)
        return 1;
    pthread_mutex_lock(&vfs_lock);
    int mounted = d->mounted;
    pthread_mutex_unlock(&vfs_lock);
    if (mounted)
        return 1;
    return di->ops->revalidate(di, name, i);
}

/* The dentry for name in dir: cached, or looked up in the file system. */
static int d_lookup(struct dentry *dir, const char *name, struct dentry **out)
{
    pthread_mutex_lock(&vfs_lock);
    struct dentry *d = d_find_child(dir, name);
    pthread_mutex_unlock(&vfs_lock);
    if (d) {
        if (d_revalidate(dir, name, d)) {
            *out = d;
            return 0;
        }
        /* Another host process renamed or removed it: the name is no longer
         * d's. Unhash d (those holding it keep it, disconnected: ".." from
         * it is the file system's to refuse) and look the name up afresh. */
        pthread_mutex_lock(&vfs_lock);
        if (d->parent == dir && !d->deleted)
            d_unhash(d);
        pthread_mutex_unlock(&vfs_lock);
        dput(d);
    }
    struct inode *di = dir->inode;
    if (!S_ISDIR(di->mode))
        return -ENOTDIR;
    if (!di->ops->lookup)
        return -ENOENT;
    struct inode *i;
    int r = di->ops->lookup(di, name, &i);
    if (r < 0)
        return r;
    pthread_mutex_lock(&vfs_lock);
    d = d_find_child(dir, name); /* someone else may have been faster */
    if (!d && !dir->deleted) {
        d = d_alloc(dget(dir), name, i);
        if (d) {
            d->next = dir->child;
            dir->child = d;
            i = NULL;
        } else {
            __atomic_sub_fetch(&dir->refs, 1, __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&vfs_lock);
    if (i)
        inode_put(i);
    if (!d)
        return dir->deleted ? -ENOENT : -ENOMEM;
    *out = d;
    return 0;
}

/* After a successful create in dir: a dentry for the new inode. Takes the
 * inode reference. */
int d_instantiate(struct dentry *dir, const char *name, struct inode *i, struct dentry **out)
{
    pthread_mutex_lock(&vfs_lock);
    struct dentry *old = d_find_child(dir, name);
    if (old) {
        /* A stale cached name (the host changed under us): replace it. */
        old->deleted = 1;
        d_unhash(old);
    }
    struct dentry *d = d_alloc(dget(dir), name, i);
    if (d) {
        d->next = dir->child;
        dir->child = d;
    } else {
        __atomic_sub_fetch(&dir->refs, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&vfs_lock);
    if (old)
        dput(old);
    if (!d) {
        inode_put(i);
        return -ENOMEM;
    }
    if (out)
        *out = d;
    else
        dput(d);
    return 0;
}

/* After unlink/rmdir of name in dir: the cached dentry no longer names anything. */
void d_delete_name(struct dentry *dir, const char *name)
{
    pthread_mutex_lock(&vfs_lock);
    struct dentry *d = d_find_child(dir, name);
    if (d) {
        d->deleted = 1;
        d_unhash(d);
    }
    pthread_mutex_unlock(&vfs_lock);
    if (d)
        dput(d);
}

/* d (vfs_lock held) takes *name, which it now owns, and goes into dir;
 * returns the parent it left, for the caller to put after the lock, or NULL. */
static struct dentry *d_rehome(struct dentry *d, char **name, struct dentry *dir)
{
    d_unhash(d);
    free(d->name);
    d->name = *name;
    *name = NULL;
    struct dentry *left = NULL;
    if (d->parent != dir) {
        left = d->parent;
        d->parent = dget(dir);
    }
    d->next = dir->child;
    dir->child = d;
    return left;
}

/* After a rename: move the cached dentry (and its subtree) to its new name. */
int d_move_name(struct dentry *odir, const char *oname, struct dentry *ndir, const char *nname,
                unsigned flags)
{
    char *nn = strdup(nname), *on = strdup(oname);
    if (!nn || !on) {
        free(nn);
        free(on);
        return -ENOMEM;
    }
    pthread_mutex_lock(&vfs_lock);
    struct dentry *src = d_find_child(odir, oname);
    struct dentry *dst = d_find_child(ndir, nname);
    struct dentry *put_old = NULL, *put_new = NULL;
    if (dst && !(flags & RENAME_EXCHANGE)) {
        dst->deleted = 1;
        d_unhash(dst);
    } else if (dst) {
        put_new = d_rehome(dst, &on, odir);
    }
    if (src)
        put_old = d_rehome(src, &nn, ndir);
    pthread_mutex_unlock(&vfs_lock);
    free(nn);
    free(on);
    if (src)
        dput(src);
    if (dst)
        dput(dst);
    if (put_old)
        dput(put_old);
    if (put_new)
        dput(put_new);
    return 0;
}

/* ---- mounts ---- */

int vfs_mount(struct dentry *root, const struct path *at, int flags, struct mount **out)
{
    struct mount *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    pthread_mutex_lock(&vfs_lock);
    if (!vfs_ns) {
        vfs_ns = calloc(1, sizeof(*vfs_ns));
        if (!vfs_ns) {
            pthread_mutex_unlock(&vfs_lock);
            free(m);
            return -ENOMEM;
        }
        vfs_ns->next_id = 21;
    }
    m->id = vfs_ns->next_id++;
    m->flags = flags;
    m->root = dget(root);
    m->sb = root->inode->sb;
    sb_get(m->sb);
    if (at) {
        m->parent = at->mnt;
        m->mountpoint = dget(at->d);
        at->d->mounted++;
    } else {
        m->parent = m;
        m->mountpoint = dget(root);
        vfs_ns->root = m;
    }
    struct mount **pp = &vfs_ns->list;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
    pthread_mutex_unlock(&vfs_lock);
    if (out)
        *out = m;
    return 0;
}

int vfs_kern_mount(struct dentry *root, struct mount **out)
{
    struct mount *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    pthread_mutex_lock(&vfs_lock);
    m->id = vfs_ns ? vfs_ns->next_id++ : 0;
    pthread_mutex_unlock(&vfs_lock);
    m->root = dget(root);
    m->sb = root->inode->sb;
    sb_get(m->sb);
    m->parent = m;
    m->mountpoint = dget(root);
    *out = m;
    return 0;
}

/* The mount most recently put on (mnt, d), or NULL; vfs_lock held. */
static struct mount *mount_on(struct mount *mnt, struct dentry *d)
{
    struct mount *found = NULL;
    if (!d->mounted)
        return NULL;
    for (struct mount *m = vfs_ns->list; m; m = m->next)
        if (m->parent == mnt && m->mountpoint == d && m != mnt)
            found = m;
    return found;
}

/* Step down through any mounts on p (p keeps owning its references). */
static void follow_mounts(struct path *p)
{
    for (;;) {
        pthread_mutex_lock(&vfs_lock);
        struct mount *m = mount_on(p->mnt, p->d);
        struct dentry *root = m ? dget(m->root) : NULL;
        pthread_mutex_unlock(&vfs_lock);
        if (!m)
            return;
        dput(p->d);
        p->mnt = m;
        p->d = root;
    }
}

/* ---- attributes ---- */

void setattr_copy(struct inode *i, const struct iattr *ia)
{
    if (ia->valid & ATTR_MODE)
        i->mode = (i->mode & S_IFMT) | (ia->mode & 07777);
    if (ia->valid & ATTR_UID)
        i->uid = ia->uid;
    if (ia->valid & ATTR_GID)
        i->gid = ia->gid;
}

void inode_fillattr(const struct inode *i, struct stat *st, blksize_t blksize)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = i->sb->dev;
    st->st_ino = i->ino;
    st->st_mode = i->mode;
    st->st_nlink = 1;
    st->st_uid = i->uid;
    st->st_gid = i->gid;
    st->st_rdev = i->rdev;
    st->st_blksize = blksize;
}

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

/* ---- lookup ---- */

struct nameidata {
    const struct creds *cred; /* whose permissions */
    struct path root;         /* the process's root (or the dirfd for IN_ROOT) */
    struct path start;        /* for BENEATH: the starting directory */
    int flags;
    int links; /* symlinks followed so far */
};

/* The path of d from its file system's root dentry, from the cached names
 * ("" for the root itself), or NULL when it does not fit; malloc'ed. */
static char *d_fs_path(struct dentry *d)
{
    char *buf = malloc(PATH_MAX_LEN);
    if (!buf)
        return NULL;
    size_t pos = PATH_MAX_LEN - 1;
    buf[pos] = 0;
    pthread_mutex_lock(&vfs_lock);
    for (; d->parent; d = d->parent) {
        size_t n = strlen(d->name);
        if (n + 1 > pos) {
            pthread_mutex_unlock(&vfs_lock);
            free(buf);
            return NULL;
        }
        if (pos != PATH_MAX_LEN - 1)
            buf[--pos] = '/';
        pos -= n;
        memcpy(buf + pos, d->name, n);
    }
    pthread_mutex_unlock(&vfs_lock);
    memmove(buf, buf + pos, PATH_MAX_LEN - pos);
    return buf;
}

/* May ".." lead from d to parent, its cached parent in the same mount?
 * The dentry cache only learns of the sentry's own renames; another host
 * process may have moved d or an ancestor out of the host directory the
 * mount was made from, and then parent, whose host descriptor moved with
 * it, is outside every tree the guest was given. The file system checks
 * with the host (-ENOENT, as Linux's path_connected()). */
static int d_check_dotdot(struct dentry *d, struct dentry *parent)
{
    struct inode *i = d->inode, *pi = parent->inode;
    if (d == parent || !pi->ops->dotdot || i->sb != pi->sb)
        return 0; /* a placeholder mount point is the cache's own */
    char name[NAME_MAX_LEN + 1];
    pthread_mutex_lock(&vfs_lock); /* a rename may change d->name */
    snprintf(name, sizeof(name), "%s", d->name);
    pthread_mutex_unlock(&vfs_lock);
    char *ppath = d_fs_path(parent);
    int r = pi->ops->dotdot(i, name, pi, ppath);
    free(ppath);
    return r;
}

/* Resolve the ".." step from p, staying inside nd->root. */
static int step_dotdot(struct nameidata *nd, struct path *p)
{
    for (;;) {
        if (p->mnt == nd->root.mnt && p->d == nd->root.d)
            return 0;
        if (!p->mnt)
            return -ENOENT; /* an anonymous file reached through a magic link */
        if ((nd->flags & LOOKUP_BENEATH) && p->mnt == nd->start.mnt && p->d == nd->start.d)
            return -EXDEV;
        pthread_mutex_lock(&vfs_lock);
        if (p->d == p->mnt->root) {
            if (p->mnt->parent == p->mnt) {
                pthread_mutex_unlock(&vfs_lock);
                return 0; /* the namespace root */
            }
            if (nd->flags & LOOKUP_NO_XDEV) {
                pthread_mutex_unlock(&vfs_lock);
                return -EXDEV;
            }
            struct dentry *old = p->d;
            p->d = dget(p->mnt->mountpoint);
            p->mnt = p->mnt->parent;
            pthread_mutex_unlock(&vfs_lock);
            dput(old);
            continue; /* then ".." from the mount point */
        }
        struct dentry *old = p->d;
        struct dentry *parent = dget(old->parent ? old->parent : old);
        pthread_mutex_unlock(&vfs_lock);
        int r = d_check_dotdot(old, parent);
        if (r < 0) {
            dput(parent);
            return r;
        }
        p->d = parent;
        dput(old);
        return 0;
    }
}

static int walk(struct nameidata *nd, const char *path, struct path *cur, int final_follow,
                char *last, int *last_type, int stop_at_last);

int vfs_follow_link(struct inode *i, int flags, int *links, struct path *magic, char **text)
{
    if (++*links > SYMLINK_MAX || (flags & LOOKUP_NO_SYMLINKS))
        return -ELOOP;
    if (i->ops->get_link) {
        struct mount *m = NULL;
        struct dentry *d = NULL;
        int r = i->ops->get_link(i, &m, &d);
        if (r < 0)
            return r;
        if (r == 1) {
            if (flags & (LOOKUP_NO_MAGICLINKS | LOOKUP_BENEATH | LOOKUP_IN_ROOT)) {
                dput(d);
                return -ELOOP;
            }
            magic->mnt = m;
            magic->d = d;
            return 1;
        }
    }
    char *buf = malloc(PATH_MAX_LEN);
    if (!buf)
        return -ENOMEM;
    int n = i->ops->readlink ? i->ops->readlink(i, buf, PATH_MAX_LEN - 1) : -EINVAL;
    if (n <= 0) {
        free(buf);
        return n < 0 ? n : -ENOENT;
    }
    buf[n] = 0;
    *text = buf;
    return 0;
}

/* Replace *cur (a symlink's dentry, whose parent is dir) by its target. */
static int follow_link(struct nameidata *nd, struct path *dir, struct path *cur)
{
    struct path magic;
    char *text;
    int r = vfs_follow_link(cur->d->inode, nd->flags, &nd->links, &magic, &text);
    if (r < 0)
        return r;
    if (r == 1) {
        path_put(cur);
        *cur = magic;
        return 0;
    }
    struct path next = *dir;
    path_get(&next);
    r = walk(nd, text, &next, 1, NULL, NULL, 0);
    free(text);
    if (r < 0) {
        path_put(&next);
        return r;
    }
    path_put(cur);
    *cur = next;
    return 0;
}

/* Walk path from *cur (owned), component by component. With stop_at_last,
 * stops before the last component, leaving it in last and *last_type.
 * final_follow: follow a symlink in the last component. */
static int walk(struct nameidata *nd, const char *path, struct path *cur, int final_follow,
                char *last, int *last_type, int stop_at_last)
{
    if (*path == '/') {
        if (nd->flags & LOOKUP_BENEATH)
            return -EXDEV;
        path_put(cur);
        *cur = nd->root;
        path_get(cur);
        while (*path == '/')
            path++;
    }
    if (last_type)
        *last_type = LAST_ROOT;
    if (last)
        last[0] = 0;
    while (*path) {
        const char *end = strchr(path, '/');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > NAME_MAX_LEN)
            return -ENAMETOOLONG;
        char name[NAME_MAX_LEN + 1];
        memcpy(name, path, len);
        name[len] = 0;
        const char *rest = path + len;
        while (*rest == '/')
            rest++;
        int is_last = *rest == 0;
        int type = LAST_NORM;
        if (strcmp(name, ".") == 0)
            type = LAST_DOT;
        else if (strcmp(name, "..") == 0)
            type = LAST_DOTDOT;
        /* Every step needs search permission on the directory. */
        struct inode *di = cur->d->inode;
        if (!S_ISDIR(di->mode))
            return -ENOTDIR;
        int r = vfs_permission(nd->cred, di, MAY_EXEC);
        if (r < 0)
            return r;
        if (is_last && stop_at_last) {
            if (last)
                strcpy(last, name);
            if (last_type)
                *last_type = type;
            if (end && (nd->flags & LOOKUP_TRAILING_SLASH) == 0)
                nd->flags |= LOOKUP_TRAILING_SLASH;
            return 0;
        }
        if (type == LAST_DOT) {
            path = rest;
            continue;
        }
        if (type == LAST_DOTDOT) {
            if ((r = step_dotdot(nd, cur)) < 0)
                return r;
            path = rest;
            continue;
        }
        struct dentry *d;
        r = d_lookup(cur->d, name, &d);
        if (r < 0)
            return r;
        struct path next = { cur->mnt, d };
        follow_mounts(&next);
        if (next.mnt != cur->mnt && (nd->flags & LOOKUP_NO_XDEV)) {
            path_put(&next);
            return -EXDEV;
        }
        if (S_ISLNK(next.d->inode->mode) && (!is_last || final_follow || end)) {
            r = follow_link(nd, cur, &next);
            if (r < 0) {
                path_put(&next);
                return r;
            }
            follow_mounts(&next);
        }
        path_put(cur);
        *cur = next;
        if (end && is_last && !S_ISDIR(cur->d->inode->mode))
            return -ENOTDIR; /* "file/" */
        path = rest;
    }
    return 0;
}

/* Start a walk of name for op: nd borrows op's root and start (op holds
 * the references); *cur gets where the walk begins, with a reference:
 * from (a symlink's directory) for a relative name when given, the root
 * for an absolute one (unless BENEATH or IN_ROOT, which start at the
 * start and judge the '/' there), else the start. A bad starting point
 * (dirfd) is reported now, where Linux's path_init reports it, and an
 * empty name unless empty_ok. Under IN_ROOT, *name moves past its
 * leading slashes: the root is where the walk starts anyway. */
static int nd_init(struct nameidata *nd, const struct path_op *op, const struct path *from,
                   const char **namep, struct path *cur, int empty_ok)
{
    const char *name = *namep;
    if (!name[0] && !empty_ok)
        return -ENOENT;
    if (op->start_err)
        return op->start_err;
    memset(nd, 0, sizeof(*nd));
    nd->cred = op->cred;
    nd->flags = op->flags;
    nd->root = op->root;
    nd->start = op->start;
    if (from && name[0] != '/')
        *cur = *from;
    else if (name[0] == '/' && !(op->flags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT)))
        *cur = op->root;
    else
        *cur = op->start;
    path_get(cur);
    if (op->flags & LOOKUP_IN_ROOT)
        while (**namep == '/')
            (*namep)++;
    return 0;
}

int vfs_lookup(const struct path_op *op, struct path *out)
{
    const char *path = op->name;
    struct nameidata nd;
    struct path cur;
    int r = nd_init(&nd, op, NULL, &path, &cur, op->flags & LOOKUP_EMPTY);
    if (r < 0)
        return r;
    r = walk(&nd, path, &cur, op->flags & LOOKUP_FOLLOW, NULL, NULL, 0);
    if (r == 0 && (op->flags & LOOKUP_DIRECTORY) && !S_ISDIR(cur.d->inode->mode))
        r = -ENOTDIR;
    if (r == 0 && path[0] && path[strlen(path) - 1] == '/' && !S_ISDIR(cur.d->inode->mode))
        r = -ENOTDIR;
    if (r < 0) {
        path_put(&cur);
        return r;
    }
    *out = cur;
    return 0;
}

int vfs_lookup_parent(const struct path_op *op, struct path *parent, char *last, int *type,
                      int *flags_out)
{
    return vfs_lookup_parent_at(op, NULL, op->name, parent, last, type, flags_out);
}

int vfs_lookup_parent_at(const struct path_op *op, const struct path *from, const char *path,
                         struct path *parent, char *last, int *type, int *flags_out)
{
    struct nameidata nd;
    struct path cur;
    int r = nd_init(&nd, op, from, &path, &cur, 0);
    if (r < 0)
        return r;
    r = walk(&nd, path, &cur, 0, last, type, 1);
    if (r == 0 && !S_ISDIR(cur.d->inode->mode))
        r = -ENOTDIR;
    if (flags_out)
        *flags_out = nd.flags;
    if (r < 0) {
        path_put(&cur);
        return r;
    }
    *parent = cur;
    return 0;
}

int vfs_lookup_one(struct path *dir, const char *name, struct path *out)
{
    struct dentry *d;
    int r = d_lookup(dir->d, name, &d);
    if (r < 0)
        return r;
    out->mnt = dir->mnt;
    out->d = d;
    follow_mounts(out);
    return 0;
}

/* ---- d_path ---- */

/* A directory of a mount that the file system says is no longer beneath
 * the mount's root (see d_check_dotdot). Files are not asked: that would
 * cost host calls for every /proc/PID/maps line. */
static int d_disconnected(const struct path *p)
{
    struct dentry *d = p->d;
    struct inode *i = d->inode;
    if (!p->mnt || !S_ISDIR(i->mode) || !i->ops->dotdot)
        return 0;
    pthread_mutex_lock(&vfs_lock);
    int skip = d->deleted || d == p->mnt->root || !d->parent || d->parent->inode->sb != i->sb;
    pthread_mutex_unlock(&vfs_lock);
    if (skip)
        return 0;
    char *path = d_fs_path(d);
    int r = i->ops->dotdot(NULL, NULL, i, path);
    free(path);
    return r < 0;
}

int vfs_d_path(const struct path *p, const struct path *root, char *buf, size_t len)
{
    return vfs_d_path_reach(p, root, buf, len, NULL);
}

int vfs_d_path_reach(const struct path *p, const struct path *root, char *buf, size_t len,
                     int *reached_root)
{
    /* Build right to left. */
    if (len < 2)
        return -ENAMETOOLONG;
    size_t pos = len - 1;
    buf[pos] = 0;
    int deleted = 0;
    int disconnected = d_disconnected(p);
    pthread_mutex_lock(&vfs_lock);
    struct mount *m = p->mnt;
    struct dentry *d = p->d;
    if (d->deleted)
        deleted = 1;
    int reached = 0;
    for (;;) {
        if (disconnected && d == m->root)
            break; /* Linux's prepend_path() "escaped" case */
        if (root && m == root->mnt && d == root->d) {
            reached = 1;
            break;
        }
        if (!m) {
            /* Anonymous: the dentry's own name ("pipe:[12]"). */
            size_t n = strlen(d->name);
            if (n + 1 > pos) {
                pthread_mutex_unlock(&vfs_lock);
                return -ENAMETOOLONG;
            }
            memmove(buf, d->name, n);
            memmove(buf + n, buf + pos, len - pos);
            pthread_mutex_unlock(&vfs_lock);
            if (reached_root)
                *reached_root = 0;
            return (int)(n + (len - 1 - pos));
        }
        if (d == m->root) {
            if (m->parent == m)
                break;
            d = m->mountpoint;
            m = m->parent;
            continue;
        }
        if (!d->parent)
            break;
        size_t n = strlen(d->name);
        if (n + 1 > pos) {
            pthread_mutex_unlock(&vfs_lock);
            return -ENAMETOOLONG;
        }
        pos -= n;
        memcpy(buf + pos, d->name, n);
        buf[--pos] = '/';
        d = d->parent;
    }
    pthread_mutex_unlock(&vfs_lock);
    if (reached_root)
        *reached_root = reached;
    if (pos == len - 1)
        buf[--pos] = '/';
    size_t n = len - 1 - pos;
    memmove(buf, buf + pos, n + 1);
    if (deleted) {
        if (n + 11 >= len)
            return -ENAMETOOLONG;
        strcpy(buf + n, " (deleted)");
        n += 10;
    }
    return (int)n;
}

/* ---- permission ---- */

void vfs_fs_cred(const struct creds *cred, struct fs_cred *c)
{
    c->uid = cred->fsuid;
    c->gid = cred->fsgid;
}

/* Linux's generic_permission: the owner, group or other bits (the first
 * class that matches decides), then the capabilities that override them:
 * CAP_DAC_READ_SEARCH to read any file and to read or search any
 * directory, CAP_DAC_OVERRIDE for everything but executing a file without
 * any x bit. From the fs ids and the effective set: an fsuid of 0 without
 * those capabilities is refused like anyone else. */
int vfs_permission(const struct creds *c, struct inode *i, int mask)
{
    mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
    mode_t m = i->mode;
    int bits;
    if (i->uid == c->fsuid)
        bits = (m >> 6) & 7;
    else if (i->gid == c->fsgid || creds_in_groups(c, i->gid))
        bits = (m >> 3) & 7;
    else
        bits = m & 7;
    if ((bits & mask) == mask)
        return 0;
    if (S_ISDIR(m)) {
        if (!(mask & MAY_WRITE) && creds_capable(c, GCAP_DAC_READ_SEARCH))
            return 0;
        return creds_capable(c, GCAP_DAC_OVERRIDE) ? 0 : -EACCES;
    }
    if (mask == MAY_READ && creds_capable(c, GCAP_DAC_READ_SEARCH))
        return 0;
    if ((!(mask & MAY_EXEC) || (m & 0111)) && creds_capable(c, GCAP_DAC_OVERRIDE))
        return 0;
    return -EACCES;
}

int vfs_owner_or_capable(const struct creds *c, const struct inode *i)
{
    return c->fsuid == i->uid || creds_capable(c, GCAP_FOWNER);
}

/* ---- fs_struct ---- */

struct fs_struct *fs_struct_new(const struct path *root, const struct path *cwd)
{
    struct fs_struct *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return NULL;
    fs->refs = 1;
    fs->umask = 022;
    pthread_mutex_init(&fs->lock, NULL);
    fs->root = *root;
    path_get(&fs->root);
    fs->cwd = *cwd;
    path_get(&fs->cwd);
    return fs;
}

struct fs_struct *fs_struct_copy(struct fs_struct *fs)
{
    pthread_mutex_lock(&fs->lock);
    struct fs_struct *n = fs_struct_new(&fs->root, &fs->cwd);
    if (n)
        n->umask = __atomic_load_n(&fs->umask, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&fs->lock);
    return n;
}

void fs_struct_put(struct fs_struct *fs)
{
    if (!fs || __atomic_sub_fetch(&fs->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    path_put(&fs->root);
    path_put(&fs->cwd);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}
