/* tmpfs: a file system in sentry memory. Directories are name tables with
 * stable getdents cookies; regular file data lives in a host memfd per file
 * (made on first use, so that mmap can map it); a size limit counts the
 * pages files have (the memfd's), not their apparent sizes, as shmem.
 *
 * Lifetime: directory entries hold no inode references. An inode with no
 * references stays cached while it has links (evict keeps it) and is freed
 * when the last of links and references goes; kill_sb frees what is left.
 * Each referenced inode holds a reference to the super block (inode_init),
 * so the tree itself never keeps the super block alive.
 *
 * Locking: sb->lock protects the namespace (entries, nlink, parents), the
 * attributes, sizes and the page accounting. A file's data_lock serialises
 * its writes, truncates and fallocates; it nests outside sb->lock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "base.h"
#include "list.h"
#include "fs/file/devices.h"
#include "fs/vfs/vfs.h"

#define OFF_MAX INT64_MAX
#define BOGO_DIRENT_SIZE 20  /* Linux's st_size per tmpfs directory entry */
#define FIRST_COOKIE 2       /* 0 is ".", 1 is ".." */
#define BOGO_INODE_SIZE 1024 /* shmem's inode space per inode */

struct tmpfs_inode;

struct tmpfs_dirent {
    struct tmpfs_dirent *hnext; /* hash chain */
    struct tmpfs_inode *inode;  /* no reference: see the lifetime note */
    uint64_t cookie;            /* getdents position; never reused in a directory */
    uint32_t hash;
    uint32_t namelen;
    char name[];
};

/* A directory's entries in cookie order; e is NULL once removed (compacted
 * away later), so that a position survives removals. */
struct tmpfs_slot {
    uint64_t cookie;
    struct tmpfs_dirent *e;
};

/* An extended attribute; an inode keeps them sorted by name, descending,
 * the order shmem's tree lists them in. */
struct tmpfs_xattr {
    size_t size;
    char *name;
    char value[];
};

struct tmpfs_sbinfo {
    uint64_t limit, used; /* bytes, whole pages */
    /* Inode space, as shmem's free_ispace: BOGO_INODE_SIZE an inode, and
     * what xattr_space says an extended attribute takes. */
    uint64_t max_inodes, inodes;
    uint64_t xattr_bytes;
    struct list_node all; /* every inode (tmpfs_inode.all_node), for kill_sb */
};

struct tmpfs_inode {
    struct inode vfs;
    struct list_node all_node;
    int evicts_owed; /* evict calls still to come (see tmpfs_evict) */
    nlink_t nlink;
    struct timespec atime, mtime, ctime, btime;
    /* Regular files. */
    pthread_mutex_t data_lock;
    int memfd; /* -1 until the file first has data; size == memfd's */
    off_t size;
    uint64_t charged; /* bytes of the memfd's pages, as last counted */
    /* Directories. */
    struct tmpfs_inode *parent; /* for ".."; NULL for the root and once removed */
    int dead;                   /* removed: no lookups, creations or getdents */
    struct tmpfs_slot *slots;
    size_t nslots, cap, nlive;
    struct tmpfs_dirent **hash;
    size_t nbuckets; /* a power of two, or 0 */
    uint64_t next_cookie;
    /* Symlinks. */
    char *target;
    /* Extended attributes (sb->lock). */
    struct tmpfs_xattr **xattrs;
    size_t nxattrs;
    uint64_t xattr_bytes; /* their xattr_space */
};

static const struct inode_ops tmpfs_dir_iops, tmpfs_file_iops, tmpfs_link_iops;
static const struct file_ops tmpfs_file_fops, tmpfs_dir_fops;

static struct tmpfs_inode *TI(struct inode *i)
{
    return container_of(i, struct tmpfs_inode, vfs);
}

static struct tmpfs_sbinfo *SBI(struct super_block *sb)
{
    return sb->fs_info;
}

static struct timespec now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

/* ---- inodes ---- */

static struct tmpfs_inode *tnode_alloc(void)
{
    struct tmpfs_inode *ti = calloc(1, sizeof(*ti));
    if (!ti)
        return NULL;
    pthread_mutex_init(&ti->data_lock, NULL);
    ti->memfd = -1;
    return ti;
}

/* Free what ti holds and ti itself (not its entries' dirents). */
static void tnode_free(struct tmpfs_inode *ti)
{
    if (ti->memfd >= 0)
        close(ti->memfd);
    for (size_t k = 0; k < ti->nxattrs; k++) {
        free(ti->xattrs[k]->name);
        free(ti->xattrs[k]);
    }
    free(ti->xattrs);
    free(ti->target);
    free(ti->slots);
    free(ti->hash);
    pthread_mutex_destroy(&ti->data_lock);
    free(ti);
}

/* Make ti a new inode of sb (sb->lock held): number, owner, times, links. */
static void tnode_setup(struct super_block *sb, struct tmpfs_inode *ti, mode_t mode, dev_t rdev,
                        const struct fs_cred *c)
{
    const struct inode_ops *iops = &tmpfs_file_iops;
    const struct file_ops *fops = NULL; /* FIFOs, sockets, devices: init_special_inode */
    if (S_ISDIR(mode)) {
        iops = &tmpfs_dir_iops;
        fops = &tmpfs_dir_fops;
    } else if (S_ISREG(mode)) {
        iops = &tmpfs_file_iops;
        fops = &tmpfs_file_fops;
    } else if (S_ISLNK(mode)) {
        iops = &tmpfs_link_iops;
    }
    inode_init(&ti->vfs, sb, iops, fops, sb->next_ino++, mode);
    if (!fops && !S_ISLNK(mode))
        init_special_inode(&ti->vfs, mode, rdev);
    if (S_ISREG(mode)) {
        /* shmem files have seals: F_SEAL_SEAL unless memfd_create says
         * otherwise (memfd_new), so F_GET_SEALS is 1 and F_ADD_SEALS EPERM. */
        ti->vfs.sealable = 1;
        ti->vfs.seals = F_SEAL_SEAL;
    }
    ti->vfs.uid = c->uid;
    ti->vfs.gid = c->gid;
    ti->vfs.rdev = rdev;
    ti->nlink = S_ISDIR(mode) ? 2 : 1;
    ti->atime = ti->mtime = ti->ctime = ti->btime = now();
    ti->evicts_owed = 1;
    ti->next_cookie = FIRST_COOKIE;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    list_add_head(&sbi->all, &ti->all_node);
    sbi->inodes++;
}

/* Take a reference for a caller (sb->lock held). An inode with none holds
 * no super block reference and has an evict call settled: restore both. */
static void tnode_get(struct tmpfs_inode *ti)
{
    if (__atomic_fetch_add(&ti->vfs.refs, 1, __ATOMIC_ACQ_REL) == 0) {
        ti->evicts_owed++;
        sb_get(ti->vfs.sb);
    }
}

/* Free ti if nothing can reach it any more (sb->lock held). With no
 * references (stable under sb->lock: only tnode_get revives) and no evict
 * call on its way, an unlinked inode is gone. */
static void tnode_maybe_free(struct tmpfs_inode *ti)
{
    if (ti->nlink || ti->evicts_owed || __atomic_load_n(&ti->vfs.refs, __ATOMIC_ACQUIRE))
        return;
    struct tmpfs_sbinfo *sbi = SBI(ti->vfs.sb);
    list_del(&ti->all_node);
    sbi->inodes--;
    sbi->xattr_bytes -= ti->xattr_bytes;
    sbi->used -= ti->charged;
    tnode_free(ti);
}

static void tmpfs_evict(struct inode *i)
{
    struct tmpfs_inode *ti = TI(i);
    struct super_block *sb = i->sb;
    pthread_mutex_lock(&sb->lock);
    ti->evicts_owed--;
    tnode_maybe_free(ti); /* a linked inode stays cached for lookups */
    pthread_mutex_unlock(&sb->lock);
}

/* ---- directory tables ---- */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)s[k]) * 16777619u;
    return h;
}

static struct tmpfs_dirent *dirent_new(const char *name)
{
    size_t n = strlen(name);
    struct tmpfs_dirent *e = malloc(sizeof(*e) + n + 1);
    if (!e)
        return NULL;
    memcpy(e->name, name, n + 1);
    e->namelen = (uint32_t)n;
    e->hash = name_hash(name, n);
    e->hnext = NULL;
    e->inode = NULL;
    e->cookie = 0;
    return e;
}

static struct tmpfs_dirent *dir_find(struct tmpfs_inode *d, const char *name)
{
    if (!d->nbuckets)
        return NULL;
    size_t n = strlen(name);
    uint32_t h = name_hash(name, n);
    for (struct tmpfs_dirent *e = d->hash[h & (d->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->namelen == n && memcmp(e->name, name, n) == 0)
            return e;
    return NULL;
}

static void hash_add(struct tmpfs_inode *d, struct tmpfs_dirent *e)
{
    struct tmpfs_dirent **b = &d->hash[e->hash & (d->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
}

static void hash_del(struct tmpfs_inode *d, struct tmpfs_dirent *e)
{
    struct tmpfs_dirent **pp = &d->hash[e->hash & (d->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
}

/* The first slot whose cookie is >= cookie. */
static size_t slot_lower(const struct tmpfs_inode *d, uint64_t cookie)
{
    size_t lo = 0, hi = d->nslots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->slots[mid].cookie < cookie)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void dir_compact(struct tmpfs_inode *d)
{
    size_t j = 0;
    for (size_t k = 0; k < d->nslots; k++)
        if (d->slots[k].e)
            d->slots[j++] = d->slots[k];
    d->nslots = j;
}

/* Make room for one more entry so that dir_insert cannot fail. */
static int dir_reserve(struct tmpfs_inode *d)
{
    if (d->nbuckets == 0 || d->nlive + 1 > 2 * d->nbuckets) {
        size_t nb = d->nbuckets ? 2 * d->nbuckets : 8;
        struct tmpfs_dirent **h = calloc(nb, sizeof(*h));
        if (h) {
            free(d->hash);
            d->hash = h;
            d->nbuckets = nb;
            for (size_t k = 0; k < d->nslots; k++)
                if (d->slots[k].e)
                    hash_add(d, d->slots[k].e);
        } else if (d->nbuckets == 0) {
            return -ENOMEM;
        } /* else: longer chains will do */
    }
    if (d->nslots == d->cap) {
        if (d->nslots > d->nlive) {
            dir_compact(d);
        } else if (ARRAY_GROW(d->slots, d->cap, d->cap + 1, 8) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

/* Add e (pointing at its inode) after every existing entry. */
static void dir_insert(struct tmpfs_inode *d, struct tmpfs_dirent *e)
{
    e->cookie = d->next_cookie++;
    d->slots[d->nslots].cookie = e->cookie;
    d->slots[d->nslots].e = e;
    d->nslots++;
    d->nlive++;
    hash_add(d, e);
}

static void dir_remove(struct tmpfs_inode *d, struct tmpfs_dirent *e)
{
    hash_del(d, e);
    size_t k = slot_lower(d, e->cookie);
    d->slots[k].e = NULL;
    d->nlive--;
    size_t holes = d->nslots - d->nlive;
    if (holes > 32 && holes > d->nlive)
        dir_compact(d);
}

/* Put e in old's place: same position, new name (rename within d). */
static void dir_replace(struct tmpfs_inode *d, struct tmpfs_dirent *old, struct tmpfs_dirent *e)
{
    hash_del(d, old);
    e->cookie = old->cookie;
    d->slots[slot_lower(d, old->cookie)].e = e;
    hash_add(d, e);
}

static void touch_dir(struct tmpfs_inode *d, struct timespec t)
{
    d->mtime = d->ctime = t;
}

/* ---- directory operations ---- */

static int tmpfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
    struct tmpfs_inode *d = TI(dir);
    int r = -ENOENT;
    pthread_mutex_lock(&dir->sb->lock);
    struct tmpfs_dirent *e = d->dead ? NULL : dir_find(d, name);
    if (e) {
        tnode_get(e->inode);
        *out = &e->inode->vfs;
        r = 0;
    }
    pthread_mutex_unlock(&dir->sb->lock);
    return r;
}

/* Create name in dir: a new inode of mode (with its type), rdev for
 * devices, target for symlinks; *out gets the caller's reference. */
static int tmpfs_create(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
                        const char *target, const struct fs_cred *c, struct inode **out)
{
    if (strlen(name) > NAME_MAX_LEN)
        return -ENAMETOOLONG;
    struct tmpfs_inode *d = TI(dir), *ti = tnode_alloc();
    struct tmpfs_dirent *e = dirent_new(name);
    if (ti && target) {
        ti->target = strdup(target);
        ti->size = (off_t)strlen(target);
    }
    if (!ti || !e || (target && !ti->target)) {
        free(e);
        if (ti)
            tnode_free(ti);
        return -ENOMEM;
    }
    struct super_block *sb = dir->sb;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    pthread_mutex_lock(&sb->lock);
    int r = 0;
    if (d->dead)
        r = -ENOENT;
    else if (dir_find(d, name))
        r = -EEXIST;
    else if ((sbi->inodes + 1) * BOGO_INODE_SIZE + sbi->xattr_bytes >
             sbi->max_inodes * BOGO_INODE_SIZE)
        r = -ENOSPC;
    else
        r = dir_reserve(d);
    if (r < 0) {
        pthread_mutex_unlock(&sb->lock);
        free(e);
        tnode_free(ti);
        return r;
    }
    tnode_setup(sb, ti, mode, rdev, c);
    if (S_ISDIR(mode)) {
        ti->parent = d;
        d->nlink++;
    }
    e->inode = ti;
    dir_insert(d, e);
    touch_dir(d, ti->ctime);
    pthread_mutex_unlock(&sb->lock);
    if (out)
        *out = &ti->vfs;
    else
        inode_put(&ti->vfs); /* stays cached: it has a link */
    return 0;
}

static int tmpfs_mknod(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
                       const struct fs_cred *c, struct inode **out)
{
    switch (mode & S_IFMT) {
    case 0:
        mode |= S_IFREG;
        /* fall through */
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
        rdev = 0;
        break;
    case S_IFCHR:
        /* Only the devices the sandbox implements can have nodes, and
         * whiteouts (0:0), which open nothing. */
        if (rdev != 0 && !chrdev_fops(rdev))
            return -EPERM;
        break;
    case S_IFBLK:
        return -EPERM;
    case S_IFDIR:
        return -EPERM;
    default:
        return -EINVAL;
    }
    return tmpfs_create(dir, name, (mode & S_IFMT) | (mode & 07777), rdev, NULL, c, out);
}

static int tmpfs_mkdir(struct inode *dir, const char *name, mode_t mode, const struct fs_cred *c,
                       struct inode **out)
{
    return tmpfs_create(dir, name, S_IFDIR | (mode & 07777), 0, NULL, c, out);
}

static int tmpfs_symlink(struct inode *dir, const char *name, const char *target,
                         const struct fs_cred *c, struct inode **out)
{
    size_t n = strlen(target);
    if (n == 0)
        return -ENOENT;
    if (n >= PATH_MAX_LEN)
        return -ENAMETOOLONG;
    return tmpfs_create(dir, name, S_IFLNK | 0777, 0, target, c, out);
}

static int tmpfs_link(struct inode *old, struct inode *dir, const char *name)
{
    if (S_ISDIR(old->mode))
        return -EPERM;
    if (strlen(name) > NAME_MAX_LEN)
        return -ENAMETOOLONG;
    struct tmpfs_inode *d = TI(dir), *ti = TI(old);
    struct tmpfs_dirent *e = dirent_new(name);
    if (!e)
        return -ENOMEM;
    struct super_block *sb = dir->sb;
    pthread_mutex_lock(&sb->lock);
    int r = 0;
    if (d->dead || ti->nlink == 0)
        r = -ENOENT; /* no links to an unlinked file, as Linux without O_TMPFILE */
    else if (dir_find(d, name))
        r = -EEXIST;
    else
        r = dir_reserve(d);
    if (r == 0) {
        e->inode = ti;
        dir_insert(d, e);
        ti->nlink++;
        struct timespec t = now();
        ti->ctime = t;
        touch_dir(d, t);
        e = NULL;
    }
    pthread_mutex_unlock(&sb->lock);
    free(e);
    return r;
}

/* The entry name in d if it still names victim (sb->lock held). */
static int find_victim(struct tmpfs_inode *d, const char *name, struct inode *victim,
                       struct tmpfs_dirent **out)
{
    struct tmpfs_dirent *e = d->dead ? NULL : dir_find(d, name);
    if (!e || &e->inode->vfs != victim)
        return -ENOENT; /* gone or replaced since the VFS looked */
    *out = e;
    return 0;
}

/* A directory leaves the tree: no more names in it, its ".." is gone. */
static void dir_kill(struct tmpfs_inode *v, struct timespec t)
{
    v->nlink = 0;
    v->dead = 1;
    v->parent = NULL;
    v->ctime = t;
}

/* unlink and rmdir: the entry goes and the victim loses its link (a
 * directory all of them, and its parent the one its ".." held). */
static int remove_entry(struct inode *dir, const char *name, struct inode *victim, int isdir)
{
    struct tmpfs_inode *d = TI(dir), *v = TI(victim);
    struct super_block *sb = dir->sb;
    struct tmpfs_dirent *e = NULL;
    pthread_mutex_lock(&sb->lock);
    int r = find_victim(d, name, victim, &e);
    if (r == 0 && isdir && v->nlive)
        r = -ENOTEMPTY;
    if (r == 0) {
        dir_remove(d, e);
        struct timespec t = now();
        if (isdir) {
            d->nlink--;
            dir_kill(v, t);
        } else {
            v->nlink--;
            v->ctime = t;
        }
        touch_dir(d, t);
        tnode_maybe_free(v);
    }
    pthread_mutex_unlock(&sb->lock);
    if (r == 0)
        free(e);
    return r;
}

static int tmpfs_unlink(struct inode *dir, const char *name, struct inode *victim)
{
    if (S_ISDIR(victim->mode))
        return -EISDIR;
    return remove_entry(dir, name, victim, 0);
}

static int tmpfs_rmdir(struct inode *dir, const char *name, struct inode *victim)
{
    if (!S_ISDIR(victim->mode))
        return -ENOTDIR;
    return remove_entry(dir, name, victim, 1);
}

/* 1 if a is d or above it (sb->lock held). */
static int is_ancestor(struct tmpfs_inode *a, struct tmpfs_inode *d)
{
    for (; d; d = d->parent)
        if (d == a)
            return 1;
    return 0;
}

/* rename's checks once both names are looked up (sb->lock held): 0 to go
 * ahead, 1 when there is nothing to do, or -errno. */
static int rename_check(struct tmpfs_sbinfo *sbi, struct tmpfs_inode *od, struct tmpfs_inode *nd,
                        struct tmpfs_dirent *oe, struct tmpfs_dirent *ne, unsigned flags,
                        int whiteout)
{
    struct tmpfs_inode *src = oe ? oe->inode : NULL, *dst = ne ? ne->inode : NULL;
    int r = 0;
    if (!oe || nd->dead)
        r = -ENOENT;
    else if ((flags & RENAME_EXCHANGE) && !ne)
        r = -ENOENT;
    else if ((flags & RENAME_NOREPLACE) && ne)
        r = -EEXIST;
    else if (src == dst)
        r = 1; /* the same entry, or two links to one inode: nothing to do */
    else if (S_ISDIR(src->vfs.mode) && od != nd && is_ancestor(src, nd))
        r = -EINVAL; /* into itself */
    else if (dst && (flags & RENAME_EXCHANGE) && S_ISDIR(dst->vfs.mode) && od != nd &&
             is_ancestor(dst, od))
        r = -EINVAL;
    else if (dst && !(flags & RENAME_EXCHANGE)) {
        if (S_ISDIR(src->vfs.mode) && !S_ISDIR(dst->vfs.mode))
            r = -ENOTDIR;
        else if (!S_ISDIR(src->vfs.mode) && S_ISDIR(dst->vfs.mode))
            r = -EISDIR;
        else if (S_ISDIR(dst->vfs.mode) && dst->nlive)
            r = -ENOTEMPTY;
    } else if (!dst && (od != nd || whiteout)) {
        r = dir_reserve(nd);
    }
    if (r == 0 && whiteout &&
        (sbi->inodes + 1) * BOGO_INODE_SIZE + sbi->xattr_bytes > sbi->max_inodes * BOGO_INODE_SIZE)
        r = -ENOSPC;
    return r;
}

/* The inode a rename replaced in nd loses that name (sb->lock held). */
static void rename_drop(struct tmpfs_inode *nd, struct tmpfs_inode *dst, struct timespec t)
{
    if (S_ISDIR(dst->vfs.mode)) {
        dir_kill(dst, t);
        nd->nlink--;
    } else {
        dst->nlink--;
        dst->ctime = t;
    }
}

/* src now lives in nd: a directory's ".." and its parents' link counts. */
static void rename_reparent(struct tmpfs_inode *od, struct tmpfs_inode *nd, struct tmpfs_inode *src)
{
    if (!S_ISDIR(src->vfs.mode))
        return;
    if (od != nd) {
        od->nlink--;
        nd->nlink++;
    }
    src->parent = nd;
}

/* RENAME_EXCHANGE: swap the inodes under the two names; directories that
 * change parent move a link from one parent to the other. */
static void rename_exchange(struct tmpfs_inode *od, struct tmpfs_inode *nd, struct tmpfs_dirent *oe,
                            struct tmpfs_dirent *ne, struct timespec t)
{
    struct tmpfs_inode *src = oe->inode, *dst = ne->inode;
    int sdir = S_ISDIR(src->vfs.mode), ddir = S_ISDIR(dst->vfs.mode);
    oe->inode = dst;
    ne->inode = src;
    if (od != nd && sdir != ddir) {
        struct tmpfs_inode *from = sdir ? od : nd, *to = sdir ? nd : od;
        from->nlink--;
        to->nlink++;
    }
    if (sdir)
        src->parent = nd;
    if (ddir)
        dst->parent = od;
    dst->ctime = t;
}

static int tmpfs_rename(struct inode *odir, const char *oname, struct inode *ndir,
                        const char *nname, unsigned flags, const struct fs_cred *c)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
        return -EINVAL;
    if (strlen(nname) > NAME_MAX_LEN)
        return -ENAMETOOLONG;
    struct tmpfs_inode *od = TI(odir), *nd = TI(ndir);
    struct super_block *sb = odir->sb;
    /* Allocated up front so that nothing fails once the tree changes; with
     * RENAME_WHITEOUT, also the whiteout (a 0:0 character device, as
     * shmem_whiteout makes, c's) that stays under the old name. */
    struct tmpfs_dirent *fresh = dirent_new(nname), *gone = NULL;
    struct tmpfs_inode *wo = (flags & RENAME_WHITEOUT) ? tnode_alloc() : NULL;
    if (!fresh || ((flags & RENAME_WHITEOUT) && !wo)) {
        free(fresh);
        if (wo)
            tnode_free(wo);
        return -ENOMEM;
    }
    pthread_mutex_lock(&sb->lock);
    struct tmpfs_dirent *oe = od->dead ? NULL : dir_find(od, oname);
    struct tmpfs_dirent *ne = nd->dead ? NULL : dir_find(nd, nname);
    int r = rename_check(SBI(sb), od, nd, oe, ne, flags, wo != NULL);
    if (r != 0) {
        pthread_mutex_unlock(&sb->lock);
        free(fresh);
        if (wo)
            tnode_free(wo);
        return r > 0 ? 0 : r;
    }
    struct tmpfs_inode *src = oe->inode, *dst = ne ? ne->inode : NULL;
    struct timespec t = now();
    if (flags & RENAME_EXCHANGE) {
        rename_exchange(od, nd, oe, ne, t);
    } else if (wo) {
        /* The old entry stays, now the whiteout's; src goes to the new. */
        tnode_setup(sb, wo, S_IFCHR, 0 /* WHITEOUT_DEV */, c);
        oe->inode = wo;
        if (dst) {
            ne->inode = src;
            rename_drop(nd, dst, t);
        } else {
            fresh->inode = src;
            dir_insert(nd, fresh);
            fresh = NULL;
        }
        rename_reparent(od, nd, src);
    } else {
        if (dst) {
            /* The target's name (and position) now lead to src. */
            ne->inode = src;
            dir_remove(od, oe);
            rename_drop(nd, dst, t);
        } else if (od == nd) {
            /* Same place in the listing: a reader does not see it twice. */
            fresh->inode = src;
            dir_replace(od, oe, fresh);
            fresh = NULL;
        } else {
            dir_remove(od, oe);
            fresh->inode = src;
            dir_insert(nd, fresh);
            fresh = NULL;
        }
        gone = oe;
        rename_reparent(od, nd, src);
    }
    src->ctime = t;
    touch_dir(od, t);
    touch_dir(nd, t);
    if (dst && !(flags & RENAME_EXCHANGE))
        tnode_maybe_free(dst);
    pthread_mutex_unlock(&sb->lock);
    free(fresh);
    free(gone);
    return 0;
}

/* ---- attributes ---- */

static int tmpfs_readlink(struct inode *i, char *buf, size_t len)
{
    struct tmpfs_inode *ti = TI(i);
    size_t n = strlen(ti->target); /* fixed once made */
    if (n > len)
        n = len;
    memcpy(buf, ti->target, n);
    return (int)n;
}

static void charge_sync(struct tmpfs_sbinfo *sbi, struct tmpfs_inode *ti);

/* shmem_getattr's statx part: a creation time when asked, multigrain
 * mtime and ctime (only when asked for), and the attribute flags shmem
 * knows (none of which it sets here: no FS_IOC_SETFLAGS). */
#define K_STATX_ATTR_IMMUTABLE 0x10
#define K_STATX_ATTR_APPEND 0x20
#define K_STATX_ATTR_NODUMP 0x40
static int tmpfs_statx(struct inode *i, unsigned request, struct statx_extra *x)
{
    struct tmpfs_inode *ti = TI(i);
    if (request & (STATX_MTIME_BIT | STATX_CTIME_BIT))
        x->mask |= STATX_MTIME_BIT | STATX_CTIME_BIT;
    if (request & STATX_BTIME_BIT) {
        x->mask |= STATX_BTIME_BIT;
        pthread_mutex_lock(&i->sb->lock);
        x->btime = ti->btime;
        pthread_mutex_unlock(&i->sb->lock);
    }
    x->attributes_mask = K_STATX_ATTR_IMMUTABLE | K_STATX_ATTR_APPEND | K_STATX_ATTR_NODUMP;
    return 0;
}

static int tmpfs_getattr(struct inode *i, struct stat *st)
{
    struct tmpfs_inode *ti = TI(i);
    pthread_mutex_lock(&i->sb->lock);
    inode_fillattr(i, st, GUEST_PAGE);
    st->st_nlink = ti->nlink;
    if (S_ISDIR(i->mode))
        st->st_size = (off_t)(2 + ti->nlive) * BOGO_DIRENT_SIZE;
    else
        st->st_size = ti->size;
    if (S_ISREG(i->mode))
        charge_sync(SBI(i->sb), ti); /* pages a mapping touched since */
    st->st_blocks = (blkcnt_t)(ti->charged / 512);
    st->st_atim = ti->atime;
    st->st_mtim = ti->mtime;
    st->st_ctim = ti->ctime;
    pthread_mutex_unlock(&i->sb->lock);
    return 0;
}

/* The page accounting follows shmem: a file is charged for the pages its
 * memfd has (written, fallocated, or touched through a mapping), never for
 * its apparent size; truncating and punching holes give pages back. An
 * operation that may add pages reserves them first under sb->lock, and
 * charge_sync then charges what the memfd really has (the host counts its
 * pages in st_blocks). Pages a guest mapping touches are charged at the
 * next sync (a stat, a write) but not refused: the limit holds for write
 * and fallocate, while Linux would also fail such a page fault (SIGBUS). */

static uint64_t room(const struct tmpfs_sbinfo *sbi)
{
    return sbi->used >= sbi->limit ? 0 : sbi->limit - sbi->used;
}

/* Charge ti for what its memfd has now (sb->lock held). */
static void charge_sync(struct tmpfs_sbinfo *sbi, struct tmpfs_inode *ti)
{
    uint64_t have = 0;
    struct stat st;
    int fd = __atomic_load_n(&ti->memfd, __ATOMIC_ACQUIRE);
    if (fd >= 0 && fstat(fd, &st) == 0)
        have = (uint64_t)st.st_blocks * 512;
    sbi->used = sbi->used - ti->charged + have;
    ti->charged = have;
}

/* The bytes of pages in [start, end) (page-aligned) the memfd lacks, up to
 * cap: *cut is where the first page that would exceed cap starts (end when
 * all fit). SEEK_HOLE and SEEK_DATA walk the memfd's own page map (sb->lock
 * and data_lock held; only near the limit). */
static uint64_t holes_in(int fd, uint64_t start, uint64_t end, uint64_t cap, uint64_t *cut)
{
    uint64_t need = 0, pos = start;
    while (pos < end) {
        uint64_t hole = pos;
        if (fd >= 0) {
            off_t h = lseek(fd, (off_t)pos, SEEK_HOLE);
            hole = h < 0 ? pos : PAGE_UP(h); /* ENXIO: past the end, all hole */
        }
        if (hole >= end)
            break;
        off_t d = fd >= 0 ? lseek(fd, (off_t)hole, SEEK_DATA) : -1;
        uint64_t data = d < 0 || (uint64_t)d > end ? end : (uint64_t)d;
        if (need + (data - hole) > cap) {
            *cut = hole + (cap - need) / GUEST_PAGE * GUEST_PAGE;
            return need + (*cut - hole);
        }
        need += data - hole;
        pos = data;
    }
    *cut = end;
    return need;
}

/* Reserve the pages [off, off + len) may add (sb->lock held): all of the
 * range while the room allows, else exactly the missing ones that fit.
 * Returns the bytes reserved; *cut is where the reservation stops. */
static uint64_t reserve_range(struct tmpfs_sbinfo *sbi, struct tmpfs_inode *ti, uint64_t off,
                              uint64_t len, uint64_t *cut)
{
    uint64_t first = off & ~(GUEST_PAGE - 1), last = PAGE_UP(off + len), avail = room(sbi), need;
    if (last - first <= avail) {
        need = last - first;
        *cut = last;
    } else {
        need = holes_in(ti->memfd, first, last, avail, cut);
    }
    sbi->used += need;
    return need;
}

/* The file's memfd, made on first need (data_lock held), with the file's
 * seals: F_SEAL_SEAL for a plain tmpfs file, for a memfd the seals added
 * before then (there can be no mapping of it yet, so F_SEAL_WRITE cannot
 * fail). */
static int file_memfd(struct tmpfs_inode *ti)
{
    if (ti->memfd < 0) {
        int fd = memfd_create("tmpfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
            return -errno;
        unsigned seals = ti->vfs.seals & ~F_SEAL_EXEC;
        if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        __atomic_store_n(&ti->memfd, fd, __ATOMIC_RELEASE);
    }
    return ti->memfd;
}

/* memfd_add_seals from F_SEAL_SEAL on. The data lock covers the check, the
 * host memfd's seals and the record, and file_memfd, which copies the
 * record into a new host memfd. The host kernel checks F_SEAL_WRITE
 * against every mapping of the memfd (all made by stubs, through a
 * descriptor as writable as the guest's: Linux's rule, a shared mapping
 * that may become writable counts) and enforces the seals on the stubs'
 * mappings and the sentry's own reads and writes.
 * The host never gets F_SEAL_EXEC: it is about the guest's mode, which the
 * host memfd does not share; what it implies (for a file with an exec
 * bit) is given explicitly. Linux adds that implied F_SEAL_WRITE without
 * looking for writable mappings, so the host gets F_SEAL_FUTURE_WRITE for
 * it: new writable mappings and writes are refused, existing mappings keep
 * writing, as on Linux. Seals the file has already are not sent again. */
int tmpfs_add_seals(struct inode *i, unsigned seals)
{
    struct tmpfs_inode *ti = TI(i);
    pthread_mutex_lock(&ti->data_lock);
    unsigned old = i->seals;
    int r = 0;
    if (old & F_SEAL_SEAL) {
        r = -EPERM;
    } else {
        unsigned add = seals, host = seals & ~F_SEAL_EXEC;
        if ((seals & F_SEAL_EXEC) && (i->mode & 0111)) {
            add |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
            host |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;
        }
        host &= ~old;
        if (ti->memfd >= 0 && host && fcntl(ti->memfd, F_ADD_SEALS, host) < 0)
            r = -errno;
        else
            __atomic_store_n(&i->seals, old | add, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&ti->data_lock);
    return r;
}

/* Set the size of a regular file (data_lock held). */
static int file_truncate(struct tmpfs_inode *ti, off_t size)
{
    if (size < 0)
        return -EINVAL;
    struct super_block *sb = ti->vfs.sb;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    pthread_mutex_lock(&sb->lock);
    off_t old = ti->size;
    int r = 0;
    pthread_mutex_unlock(&sb->lock);
    /* Growing adds no pages (the size is apparent); shrinking (or the same
     * size) drops pages past the end, fallocated ones too, as shmem does;
     * the host memfd does the same. */
    if (r == 0 && (size > 0 || ti->memfd >= 0)) {
        int fd = file_memfd(ti);
        if (fd < 0)
            r = fd;
        else if (ftruncate(fd, size) < 0)
            r = -errno;
    }
    pthread_mutex_lock(&sb->lock);
    if (r == 0) {
        ti->size = size;
        if (size != old)
            ti->mtime = ti->ctime = now();
    }
    charge_sync(sbi, ti);
    pthread_mutex_unlock(&sb->lock);
    return r;
}

static int tmpfs_setattr(struct inode *i, const struct iattr *ia)
{
    struct tmpfs_inode *ti = TI(i);
    /* A memfd sealed with F_SEAL_EXEC keeps its exec bits (shmem_setattr). */
    if ((ia->valid & ATTR_MODE) && (__atomic_load_n(&i->seals, __ATOMIC_ACQUIRE) & F_SEAL_EXEC) &&
        ((i->mode ^ ia->mode) & 0111))
        return -EPERM;
    if (ia->valid & ATTR_SIZE) {
        if (S_ISDIR(i->mode))
            return -EISDIR;
        if (!S_ISREG(i->mode))
            return -EINVAL;
        pthread_mutex_lock(&ti->data_lock);
        int r = file_truncate(ti, ia->size);
        pthread_mutex_unlock(&ti->data_lock);
        if (r < 0)
            return r;
    }
    pthread_mutex_lock(&i->sb->lock);
    struct timespec t = now();
    setattr_copy(i, ia);
    if (ia->valid & (ATTR_ATIME | ATTR_ATIME_NOW))
        ti->atime = (ia->valid & ATTR_ATIME_NOW) ? t : ia->atime;
    if (ia->valid & (ATTR_MTIME | ATTR_MTIME_NOW))
        ti->mtime = (ia->valid & ATTR_MTIME_NOW) ? t : ia->mtime;
    if (ia->valid)
        ti->ctime = t; /* any change is a status change */
    pthread_mutex_unlock(&i->sb->lock);
    return 0;
}

/* Linux's file_accessed for a read or a directory listing
 * (atime_needs_update): no update with O_NOATIME or on a read-only or
 * noatime mount (nodiratime: for directories), and under relatime (the
 * default, as mountinfo says) only when atime is not after mtime or ctime,
 * or is a day old. */
static void tmpfs_accessed(struct file *f)
{
    int mf = f->mnt ? f->mnt->flags : 0;
    if ((f->flags & O_NOATIME) || (mf & (MNT_RDONLY | MNT_NOATIME)) ||
        ((mf & MNT_NODIRATIME) && S_ISDIR(f->inode->mode)))
        return;
    struct tmpfs_inode *ti = TI(f->inode);
    struct super_block *sb = ti->vfs.sb;
    struct timespec t = now();
    pthread_mutex_lock(&sb->lock);
    struct timespec a = ti->atime;
#define TS_LE(x, y)                                                                                \
    ((x).tv_sec < (y).tv_sec || ((x).tv_sec == (y).tv_sec && (x).tv_nsec <= (y).tv_nsec))
    if ((mf & MNT_STRICTATIME) || TS_LE(a, ti->mtime) || TS_LE(a, ti->ctime) ||
        t.tv_sec - a.tv_sec >= 24 * 3600)
        ti->atime = t;
#undef TS_LE
    pthread_mutex_unlock(&sb->lock);
}

/* ---- regular files ---- */

static ssize_t tf_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    struct tmpfs_inode *ti = TI(f->inode);
    if (*pos < 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    tmpfs_accessed(f); /* at EOF too, as shmem_file_read_iter */
    int fd = __atomic_load_n(&ti->memfd, __ATOMIC_ACQUIRE);
    if (fd < 0)
        return 0; /* never written: empty */
    ssize_t n;
    do
        n = pread(fd, buf, len, *pos);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    *pos += n;
    return n;
}

/* The end of a write or fallocate (ti->data_lock held, dropped here): if
 * it changed the data the size grows to end and the times move; the pages
 * reserved for it are settled against what the memfd now holds. */
static void data_done(struct tmpfs_inode *ti, int changed, off_t end, uint64_t reserved)
{
    struct super_block *sb = ti->vfs.sb;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    pthread_mutex_lock(&sb->lock);
    if (changed) {
        if (end > ti->size)
            ti->size = end;
        ti->mtime = ti->ctime = now();
    }
    sbi->used -= reserved;
    charge_sync(sbi, ti);
    pthread_mutex_unlock(&sb->lock);
    pthread_mutex_unlock(&ti->data_lock);
}

static ssize_t tf_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    struct tmpfs_inode *ti = TI(f->inode);
    struct super_block *sb = ti->vfs.sb;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    if (len == 0)
        return 0;
    pthread_mutex_lock(&ti->data_lock);
    off_t p = (f->flags & O_APPEND) ? ti->size : *pos;
    if (p < 0 || p >= OFF_MAX) {
        pthread_mutex_unlock(&ti->data_lock);
        return p < 0 ? -EINVAL : -EFBIG;
    }
    if (len > (uint64_t)(OFF_MAX - p))
        len = (size_t)(OFF_MAX - p);
    /* Reserve the pages first; what does not fit is not written (a short
     * write, as shmem's page-by-page writes end at the first page it
     * cannot allocate). */
    pthread_mutex_lock(&sb->lock);
    uint64_t reach, reserved = reserve_range(sbi, ti, (uint64_t)p, len, &reach);
    pthread_mutex_unlock(&sb->lock);
    size_t n = len;
    if (reach < (uint64_t)p + len)
        n = reach > (uint64_t)p ? (size_t)(reach - (uint64_t)p) : 0;
    ssize_t err = -ENOSPC, done = 0;
    int fd = n ? file_memfd(ti) : -1;
    if (n && fd < 0)
        err = fd;
    while (fd >= 0 && (size_t)done < n) {
        ssize_t w = pwrite(fd, (const char *)buf + done, n - (size_t)done, p + done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? -errno : -ENOSPC;
            break;
        }
        done += w;
    }
    off_t end = p + done;
    data_done(ti, done > 0, end, reserved);
    if (done == 0)
        return err;
    *pos = end;
    return done;
}

static off_t tf_llseek(struct file *f, off_t off, int whence)
{
    if (whence != SEEK_DATA && whence != SEEK_HOLE)
        return file_generic_llseek(f, off, whence);
    struct tmpfs_inode *ti = TI(f->inode);
    int fd = __atomic_load_n(&ti->memfd, __ATOMIC_ACQUIRE);
    if (off < 0 || fd < 0)
        return -ENXIO; /* no memfd: the file is empty */
    /* The memfd has the file's size and holes; only its own offset moves. */
    off_t r = lseek(fd, off, whence);
    if (r < 0)
        return -errno;
    f->pos = r;
    return r;
}

/* Punching a hole (shmem supports it): the memfd drops the pages, and
 * they are no longer charged. */
static int file_punch(struct tmpfs_inode *ti, off_t off, off_t len)
{
    pthread_mutex_lock(&ti->data_lock);
    int r = 0;
    if (ti->memfd >= 0 &&
        fallocate(ti->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0)
        r = -errno;
    if (r == 0) {
        pthread_mutex_lock(&ti->vfs.sb->lock);
        ti->mtime = ti->ctime = now();
        charge_sync(SBI(ti->vfs.sb), ti);
        pthread_mutex_unlock(&ti->vfs.sb->lock);
    }
    pthread_mutex_unlock(&ti->data_lock);
    return r;
}

static int tf_fallocate(struct file *f, int mode, off_t off, off_t len)
{
    if (off < 0 || len <= 0)
        return -EINVAL;
    if (off > OFF_MAX - len)
        return -EFBIG;
    struct tmpfs_inode *ti = TI(f->inode);
    if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
        return file_punch(ti, off, len);
    if (mode & ~FALLOC_FL_KEEP_SIZE)
        return -EOPNOTSUPP;
    struct super_block *sb = ti->vfs.sb;
    struct tmpfs_sbinfo *sbi = SBI(sb);
    off_t end = off + len;
    pthread_mutex_lock(&ti->data_lock);
    /* All or nothing: shmem undoes a fallocate that ran out of room. */
    pthread_mutex_lock(&sb->lock);
    uint64_t reach, reserved = reserve_range(sbi, ti, (uint64_t)off, (uint64_t)len, &reach);
    int r = reach < PAGE_UP(end) ? -ENOSPC : 0;
    pthread_mutex_unlock(&sb->lock);
    if (r == 0) {
        int fd = file_memfd(ti);
        if (fd < 0)
            r = fd;
        else if (fallocate(fd, mode, off, len) < 0)
            r = -errno;
    }
    data_done(ti, r == 0, (mode & FALLOC_FL_KEEP_SIZE) ? 0 : end, reserved);
    return r;
}

static int tf_mmap_fd(struct file *f)
{
    struct tmpfs_inode *ti = TI(f->inode);
    pthread_mutex_lock(&ti->data_lock);
    int fd = file_memfd(ti);
    pthread_mutex_unlock(&ti->data_lock);
    return fd;
}

static const struct file_ops tmpfs_file_fops = {
    .name = "tmpfs",
    .fsync = file_noop_fsync, /* nothing to write back */
    .read = tf_read,
    .write = tf_write,
    .llseek = tf_llseek,
    .fallocate = tf_fallocate,
    .mmap_fd = tf_mmap_fd,
};

/* ---- directories ---- */

static ssize_t td_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)f, (void)buf, (void)len, (void)pos;
    return -EISDIR;
}

static off_t td_llseek(struct file *f, off_t off, int whence)
{
    if (whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL; /* positions are cookies: no end to seek from */
    return file_generic_llseek(f, off, whence);
}

static int td_iterate(struct file *f, struct dir_context *ctx)
{
    struct tmpfs_inode *d = TI(f->inode);
    struct super_block *sb = d->vfs.sb;
    pthread_mutex_lock(&sb->lock);
    if (d->dead) {
        pthread_mutex_unlock(&sb->lock);
        return -ENOENT;
    }
    if (ctx->pos == 0) {
        if (ctx->emit(ctx, ".", 1, d->vfs.ino, DT_DIR))
            goto out;
        ctx->pos = 1;
    }
    if (ctx->pos == 1) {
        uint64_t up = d->parent ? d->parent->vfs.ino : d->vfs.ino;
        if (ctx->emit(ctx, "..", 2, up, DT_DIR))
            goto out;
        ctx->pos = FIRST_COOKIE;
    }
    for (size_t k = slot_lower(d, (uint64_t)ctx->pos); k < d->nslots; k++) {
        struct tmpfs_dirent *e = d->slots[k].e;
        if (!e)
            continue;
        if (ctx->emit(ctx, e->name, e->namelen, e->inode->vfs.ino, IFTODT(e->inode->vfs.mode)))
            break;
        ctx->pos = (off_t)(e->cookie + 1);
    }
out:
    pthread_mutex_unlock(&sb->lock);
    tmpfs_accessed(f); /* every listing, the last (empty) one too: iterate_dir */
    return 0;
}

static const struct file_ops tmpfs_dir_fops = {
    .fsync = file_noop_fsync,
    .name = "tmpfs-dir",
    .read = td_read,
    .llseek = td_llseek,
    .iterate = td_iterate,
};

/* ---- extended attributes ---- */

/* The VFS has checked the name (length, namespace, permission). tmpfs
 * keeps user.*, trusted.* and security.*; system.* (POSIX ACLs, which
 * shmem has) is not supported. Each value takes inode space as shmem's
 * simple_xattr_space says, so that f_ffree shows it and a full mount
 * refuses more (ENOSPC). */

static size_t xattr_space(const char *name, size_t size)
{
    return 40 + size + strlen(name);
}

static int xattr_ns_ok(const char *name)
{
    return strncmp(name, "user.", 5) == 0 || strncmp(name, "trusted.", 8) == 0 ||
           strncmp(name, "security.", 9) == 0;
}

/* The index of name in ti's attributes, or where it would go (*found 0). */
static size_t xattr_find(struct tmpfs_inode *ti, const char *name, int *found)
{
    size_t lo = 0, hi = ti->nxattrs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ti->xattrs[mid]->name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c > 0)
            lo = mid + 1; /* descending */
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static ssize_t tmpfs_getxattr(struct inode *i, const char *name, void *buf, size_t len)
{
    if (!xattr_ns_ok(name))
        return -EOPNOTSUPP;
    struct tmpfs_inode *ti = TI(i);
    pthread_mutex_lock(&i->sb->lock);
    int found;
    size_t k = xattr_find(ti, name, &found);
    ssize_t r = -ENODATA;
    if (found) {
        struct tmpfs_xattr *x = ti->xattrs[k];
        r = (ssize_t)x->size;
        if (buf && x->size > len)
            r = -ERANGE;
        else if (buf)
            memcpy(buf, x->value, x->size);
    }
    pthread_mutex_unlock(&i->sb->lock);
    return r;
}

/* Set (buf not NULL) or remove name: shmem_xattr_handler_set. */
static int xattr_set(struct inode *i, const char *name, const void *buf, size_t len, int flags)
{
    if (!xattr_ns_ok(name))
        return -EOPNOTSUPP;
    struct tmpfs_inode *ti = TI(i);
    struct tmpfs_sbinfo *sbi = SBI(i->sb);
    struct tmpfs_xattr *nx = NULL;
    if (buf) {
        nx = malloc(sizeof(*nx) + len);
        if (!nx || !(nx->name = strdup(name))) {
            free(nx);
            return -ENOMEM;
        }
        nx->size = len;
        memcpy(nx->value, buf, len);
    }
    pthread_mutex_lock(&i->sb->lock);
    int found, r = 0;
    size_t k = xattr_find(ti, name, &found);
    struct tmpfs_xattr *old = found ? ti->xattrs[k] : NULL;
    size_t space = nx ? xattr_space(name, len) : 0,
           freed = old ? xattr_space(old->name, old->size) : 0;
    uint64_t ispace = sbi->inodes * BOGO_INODE_SIZE + sbi->xattr_bytes;
    if (found && (flags & XATTR_CREATE))
        r = -EEXIST;
    else if (!found && ((flags & XATTR_REPLACE) || !nx))
        r = -ENODATA;
    else if (nx && ispace + space > sbi->max_inodes * BOGO_INODE_SIZE)
        r = -ENOSPC; /* checked before the old value's space returns, as shmem */
    else if (nx && !found && ti->nxattrs % 8 == 0) {
        struct tmpfs_xattr **v = realloc(ti->xattrs, (ti->nxattrs + 8) * sizeof(*v));
        if (!v)
            r = -ENOMEM;
        else
            ti->xattrs = v;
    }
    if (r == 0) {
        if (found && nx) {
            ti->xattrs[k] = nx;
        } else if (found) {
            memmove(ti->xattrs + k, ti->xattrs + k + 1,
                    (ti->nxattrs - k - 1) * sizeof(*ti->xattrs));
            ti->nxattrs--;
        } else {
            memmove(ti->xattrs + k + 1, ti->xattrs + k, (ti->nxattrs - k) * sizeof(*ti->xattrs));
            ti->xattrs[k] = nx;
            ti->nxattrs++;
        }
        nx = NULL;
        ti->xattr_bytes = ti->xattr_bytes + space - freed;
        sbi->xattr_bytes = sbi->xattr_bytes + space - freed;
        ti->ctime = now();
    }
    pthread_mutex_unlock(&i->sb->lock);
    if (r == 0 && old) {
        free(old->name);
        free(old);
    }
    if (nx) {
        free(nx->name);
        free(nx);
    }
    return r;
}

static int tmpfs_setxattr(struct inode *i, const char *name, const void *buf, size_t len, int flags)
{
    return xattr_set(i, name, buf ? buf : "", len, flags);
}

static int tmpfs_removexattr(struct inode *i, const char *name)
{
    return xattr_set(i, name, NULL, 0, XATTR_REPLACE);
}

static ssize_t tmpfs_listxattr(struct inode *i, char *buf, size_t len)
{
    struct tmpfs_inode *ti = TI(i);
    pthread_mutex_lock(&i->sb->lock);
    size_t total = 0;
    ssize_t r = 0;
    for (size_t k = 0; k < ti->nxattrs; k++) {
        size_t n = strlen(ti->xattrs[k]->name) + 1;
        if (buf && total + n > len) {
            r = -ERANGE;
            break;
        }
        if (buf)
            memcpy(buf + total, ti->xattrs[k]->name, n);
        total += n;
    }
    pthread_mutex_unlock(&i->sb->lock);
    return r < 0 ? r : (ssize_t)total;
}

/* ---- operation tables ---- */

/* What every tmpfs inode has: attributes, extended attributes, eviction. */
#define TMPFS_INODE_OPS                                                                            \
    .getattr = tmpfs_getattr, .statx = tmpfs_statx, .setattr = tmpfs_setattr,                      \
    .getxattr = tmpfs_getxattr, .setxattr = tmpfs_setxattr, .listxattr = tmpfs_listxattr,          \
    .removexattr = tmpfs_removexattr, .evict = tmpfs_evict

static const struct inode_ops tmpfs_dir_iops = {
    .lookup = tmpfs_lookup,
    .mknod = tmpfs_mknod,
    .mkdir = tmpfs_mkdir,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    TMPFS_INODE_OPS,
};

/* Regular files, and FIFOs, sockets and device nodes, whose file
 * operations init_special_inode gives them. */
static const struct inode_ops tmpfs_file_iops = {
    TMPFS_INODE_OPS,
};

static const struct inode_ops tmpfs_link_iops = {
    .readlink = tmpfs_readlink,
    TMPFS_INODE_OPS,
};

/* ---- the file system ---- */

static int tmpfs_statfs(struct super_block *sb, struct statfs *st)
{
    struct tmpfs_sbinfo *sbi = SBI(sb);
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&sb->lock);
    st->f_type = TMPFS_MAGIC;
    st->f_bsize = GUEST_PAGE;
    st->f_frsize = GUEST_PAGE;
    st->f_blocks = sbi->limit / GUEST_PAGE;
    st->f_bfree = st->f_bavail = room(sbi) / GUEST_PAGE;
    st->f_files = sbi->max_inodes;
    uint64_t ispace = sbi->inodes * BOGO_INODE_SIZE + sbi->xattr_bytes;
    st->f_ffree = ispace >= sbi->max_inodes * BOGO_INODE_SIZE
                      ? 0
                      : (sbi->max_inodes * BOGO_INODE_SIZE - ispace) / BOGO_INODE_SIZE;
    st->f_namelen = NAME_MAX_LEN;
    pthread_mutex_unlock(&sb->lock);
    return 0;
}

/* The last reference is gone: no inode is referenced any more (each would
 * hold one), so everything left is cached tree. */
static void tmpfs_kill_sb(struct super_block *sb)
{
    struct tmpfs_sbinfo *sbi = SBI(sb);
    if (!sbi)
        return;
    list_for_each_safe (ti, &sbi->all, struct tmpfs_inode, all_node) {
        for (size_t k = 0; k < ti->nslots; k++)
            free(ti->slots[k].e);
        tnode_free(ti);
    }
    free(sbi);
    sb->fs_info = NULL;
}

const struct fs_type tmpfs_type = {
    .name = "tmpfs",
    .magic = TMPFS_MAGIC,
    .nodev = 1,
    .statfs = tmpfs_statfs,
    .kill_sb = tmpfs_kill_sb,
};

int tmpfs_mount(uint64_t size, mode_t mode, struct dentry **root)
{
    struct tmpfs_sbinfo *sbi = calloc(1, sizeof(*sbi));
    if (!sbi)
        return -ENOMEM;
    list_init(&sbi->all);
    /* Linux's defaults: half of RAM, and as many inodes as half its pages. */
    long pages = sysconf(_SC_PHYS_PAGES);
    uint64_t ram_pages = pages > 0 ? (uint64_t)pages : (1ULL << 20);
    sbi->limit = size ? PAGE_UP(size) : ram_pages / 2 * GUEST_PAGE;
    sbi->max_inodes = ram_pages / 2;
    struct super_block *sb = sb_new(&tmpfs_type, vfs_anon_dev(), "tmpfs");
    if (!sb) {
        free(sbi);
        return -ENOMEM;
    }
    sb->fs_info = sbi;
    /* /proc/mounts shows what differs from the defaults, as shmem does. */
    char opts[64];
    int n = 0;
    if (size)
        n += snprintf(opts + n, sizeof(opts) - (size_t)n, "size=%lluk,",
                      (unsigned long long)(sbi->limit / 1024));
    if ((mode & 07777) != 01777)
        n += snprintf(opts + n, sizeof(opts) - (size_t)n, "mode=%03o,", (unsigned)(mode & 07777));
    snprintf(opts + n, sizeof(opts) - (size_t)n, "inode64");
    sb->options = strdup(opts);
    struct tmpfs_inode *ti = tnode_alloc();
    if (!ti || !sb->options) {
        if (ti)
            tnode_free(ti);
        sb_put(sb);
        return -ENOMEM;
    }
    static const struct fs_cred root_cred = { 0, 0 };
    pthread_mutex_lock(&sb->lock);
    tnode_setup(sb, ti, S_IFDIR | (mode & 07777), 0, &root_cred);
    pthread_mutex_unlock(&sb->lock);
    sb_put(sb); /* the root inode holds it now */
    *root = d_make_root(&ti->vfs, "/");
    return *root ? 0 : -ENOMEM;
}
