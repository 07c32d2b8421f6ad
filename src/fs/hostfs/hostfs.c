/* hostfs: a host directory as a guest file system (the root, or a bind
 * mount). Every inode holds an O_PATH|O_NOFOLLOW descriptor of its host
 * file, and every host call is relative to such a descriptor with a single
 * name component that is never followed if it is a symlink. The guest's
 * walker does "..", symlinks and mount crossing in the sentry, so no host
 * path resolution ever runs on guest-controlled text: nothing outside the
 * mounted directory can be named, even while other threads rename
 * directories. Files are reopened through /proc/self/fd/N, which names
 * exactly the inode already found. Owners, modes and times are the host's.
 * Other host processes rename and remove behind the dentry cache: a cached
 * name is checked against the host before it is used (host_revalidate), and
 * ".." asks the host whether the cached parent is still the parent and
 * still beneath the mounted directory (host_dotdot), so that a directory
 * moved out of the tree does not lead there. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "base.h"
#include "fs/file/devices.h"
#include "fs/vfs/vfs.h"

struct host_inode {
    struct inode vfs;
    int fd;         /* O_PATH | O_NOFOLLOW */
    dev_t dev;      /* the host's st_dev (host mounts inside the tree differ) */
    off_t maxbytes; /* the host file system's largest offset; 0 until asked */
};

struct hostfs_info {
    int root_fd;
    dev_t root_dev; /* the mounted host directory */
    ino_t root_ino;
    int rdonly;
};

static struct host_inode *HI(struct inode *i)
{
    return container_of(i, struct host_inode, vfs);
}

static void proc_fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static const struct inode_ops host_iops;
static const struct file_ops host_file_ops, host_dir_ops;

/* fstat of a descriptor the caller hands over: closed if it fails. */
static int fstat_or_close(int fd, struct stat *st)
{
    if (fstat(fd, st) == 0)
        return 0;
    int e = errno;
    close(fd);
    return -e;
}

/* An inode over fd (taken over). */
static int host_inode_new(struct super_block *sb, int fd, struct inode **out)
{
    struct stat st;
    int r = fstat_or_close(fd, &st);
    if (r < 0)
        return r;
    struct host_inode *h = calloc(1, sizeof(*h));
    if (!h) {
        close(fd);
        return -ENOMEM;
    }
    const struct file_ops *fops = S_ISDIR(st.st_mode)   ? &host_dir_ops
                                  : S_ISREG(st.st_mode) ? &host_file_ops
                                                        : NULL;
    inode_init(&h->vfs, sb, &host_iops, fops, st.st_ino, st.st_mode);
    if (!fops && !S_ISLNK(st.st_mode))
        init_special_inode(&h->vfs, st.st_mode, st.st_rdev); /* FIFOs are sentry pipes */
    h->vfs.uid = st.st_uid;
    h->vfs.gid = st.st_gid;
    h->vfs.rdev = st.st_rdev;
    h->fd = fd;
    h->dev = st.st_dev;
    *out = &h->vfs;
    return 0;
}

static int host_rdonly(struct inode *i)
{
    return ((struct hostfs_info *)i->sb->fs_info)->rdonly;
}

static int host_lookup(struct inode *dir, const char *name, struct inode **out)
{
    int fd = openat(HI(dir)->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return host_inode_new(dir->sb, fd, out);
}

static int host_mknod(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
                      const struct fs_cred *c, struct inode **out)
{
    (void)c;
    if (host_rdonly(dir))
        return -EROFS;
    int dfd = HI(dir)->fd;
    if (S_ISREG(mode)) {
        int fd =
            openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
        if (fd < 0)
            return -errno;
        close(fd);
    } else if (S_ISFIFO(mode) || S_ISSOCK(mode) || (S_ISCHR(mode) && rdev == 0)) {
        /* A 0:0 character device is a whiteout, which the host lets
         * anyone make and which opens no device. */
        if (mknodat(dfd, name, mode, 0) < 0)
            return -errno;
    } else {
        return -EPERM; /* device nodes: the host directory is nodev */
    }
    /* The host applied its own umask-free mode; set exactly ours. */
    int r = host_lookup(dir, name, out);
    return r;
}

static int host_mkdir(struct inode *dir, const char *name, mode_t mode, const struct fs_cred *c,
                      struct inode **out)
{
    (void)c;
    if (host_rdonly(dir))
        return -EROFS;
    if (mkdirat(HI(dir)->fd, name, mode) < 0)
        return -errno;
    return host_lookup(dir, name, out);
}

static int host_symlink(struct inode *dir, const char *name, const char *target,
                        const struct fs_cred *c, struct inode **out)
{
    (void)c;
    if (host_rdonly(dir))
        return -EROFS;
    if (symlinkat(target, HI(dir)->fd, name) < 0)
        return -errno;
    return host_lookup(dir, name, out);
}

static int host_link(struct inode *old, struct inode *dir, const char *name)
{
    if (host_rdonly(dir))
        return -EROFS;
    char p[64];
    proc_fd_path(HI(old)->fd, p, sizeof(p));
    /* Following the magic link names exactly old's inode; AT_EMPTY_PATH
     * would need CAP_DAC_READ_SEARCH. */
    if (linkat(AT_FDCWD, p, HI(dir)->fd, name, AT_SYMLINK_FOLLOW) < 0)
        return -errno;
    return 0;
}

static int host_unlink(struct inode *dir, const char *name, struct inode *victim)
{
    (void)victim;
    if (host_rdonly(dir))
        return -EROFS;
    return unlinkat(HI(dir)->fd, name, 0) < 0 ? -errno : 0;
}

static int host_rmdir(struct inode *dir, const char *name, struct inode *victim)
{
    (void)victim;
    if (host_rdonly(dir))
        return -EROFS;
    return unlinkat(HI(dir)->fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int host_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
                       unsigned flags, const struct fs_cred *c)
{
    (void)c; /* a whiteout is the sentry's, as every file it makes on the host */
    if (host_rdonly(odir))
        return -EROFS;
    return renameat2(HI(odir)->fd, oname, HI(ndir)->fd, nname, flags) < 0 ? -errno : 0;
}

static int host_readlink(struct inode *i, char *buf, size_t len)
{
    ssize_t n = readlinkat(HI(i)->fd, "", buf, len);
    return n < 0 ? -errno : (int)n;
}

static int host_getattr(struct inode *i, struct stat *st)
{
    return fstat(HI(i)->fd, st) < 0 ? -errno : 0;
}

/* The host file system's statx answer for what getattr lacks: which times
 * it reports (multigrain ones leave mtime and ctime out unless asked), the
 * creation time, the attribute flags and direct I/O alignment. Whether the
 * host file is a host mount's root is the host's business: the VFS says
 * whether it is one of the guest's. */
static int host_statx(struct inode *i, unsigned request, struct statx_extra *x)
{
    struct statx sx;
    unsigned want = request & (STATX_BASIC_STATS | STATX_BTIME | STATX_DIOALIGN);
    if (statx(HI(i)->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, want, &sx) < 0)
        return -errno;
    x->mask = sx.stx_mask & (STATX_MTIME | STATX_CTIME | STATX_BTIME | STATX_DIOALIGN);
    x->attributes = sx.stx_attributes & ~(uint64_t)STATX_ATTR_MOUNT_ROOT;
    x->attributes_mask = sx.stx_attributes_mask;
    x->btime = (struct timespec){ sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec };
    x->dio_mem_align = sx.stx_dio_mem_align;
    x->dio_offset_align = sx.stx_dio_offset_align;
    return 0;
}

static int host_setattr(struct inode *i, const struct iattr *ia)
{
    if (host_rdonly(i))
        return -EROFS;
    int fd = HI(i)->fd;
    char p[64];
    proc_fd_path(fd, p, sizeof(p));
    int lnk = S_ISLNK(i->mode);
    if (ia->valid & (ATTR_UID | ATTR_GID)) {
        uid_t u = (ia->valid & ATTR_UID) ? ia->uid : (uid_t)-1;
        gid_t g = (ia->valid & ATTR_GID) ? ia->gid : (gid_t)-1;
        if (fchownat(fd, "", u, g, AT_EMPTY_PATH) < 0)
            return -errno;
    }
    if (ia->valid & ATTR_MODE) {
        if (lnk)
            return -EOPNOTSUPP;
        if (chmod(p, ia->mode & 07777) < 0)
            return -errno;
    }
    if (ia->valid & ATTR_SIZE) {
        if (!S_ISREG(i->mode))
            return S_ISDIR(i->mode) ? -EISDIR : -EINVAL;
        if (truncate(p, ia->size) < 0)
            return -errno;
    }
    if (ia->valid & (ATTR_ATIME | ATTR_MTIME)) {
        struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
        if (ia->valid & ATTR_ATIME)
            ts[0] = (ia->valid & ATTR_ATIME_NOW) ? (struct timespec){ 0, UTIME_NOW } : ia->atime;
        if (ia->valid & ATTR_MTIME)
            ts[1] = (ia->valid & ATTR_MTIME_NOW) ? (struct timespec){ 0, UTIME_NOW } : ia->mtime;
        if (utimensat(fd, "", ts, AT_EMPTY_PATH) < 0) {
            if (errno != EINVAL && errno != EBADF)
                return -errno;
            if (lnk)
                return -EOPNOTSUPP;
            if (utimensat(AT_FDCWD, p, ts, 0) < 0)
                return -errno;
        }
    }
    return 0;
}

static int host_open(struct inode *i, struct file *f, int flags)
{
    if (!S_ISREG(i->mode) && !S_ISDIR(i->mode))
        return -ENXIO;
    int hflags =
        (flags & (O_ACCMODE | O_APPEND | O_DIRECTORY | O_SYNC | O_DSYNC | O_NOATIME)) | O_NOCTTY;
    if (host_rdonly(i) && (flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    /* Reads make the host update atime under its own mount's rules, which
     * match the guest's relatime for a writable mount; a read-only one
     * never updates atime on Linux, so the host must not either. O_NOATIME
     * needs the host file's owner or CAP_FOWNER: without, the host's
     * atime moves (a rootless sandbox over files it does not own). */
    int noatime = (flags & O_NOATIME) || host_rdonly(i) || (f->mnt && (f->mnt->flags & MNT_RDONLY));
    if (noatime)
        hflags |= O_NOATIME;
    int fd = host_reopen(HI(i)->fd, hflags);
    if (fd == -EPERM && noatime)
        fd = host_reopen(HI(i)->fd, hflags & ~O_NOATIME);
    if (fd < 0)
        return fd;
    f->host_fd = fd;
    return 0;
}

/* The /proc/self/fd/N path leads to the O_PATH file itself, symlinks
 * included, so the xattr calls act on exactly this inode. A change is
 * refused on a read-only mount (-EROFS) and on a symlink (-EPERM). */
static int xattr_path(struct inode *i, int change, char *p, size_t size)
{
    if (change && host_rdonly(i))
        return -EROFS;
    if (change && S_ISLNK(i->mode))
        return -EPERM;
    proc_fd_path(HI(i)->fd, p, size);
    return 0;
}

static ssize_t host_xget(struct inode *i, const char *name, void *buf, size_t len)
{
    char p[64];
    xattr_path(i, 0, p, sizeof(p));
    ssize_t n = getxattr(p, name, buf, len);
    return n < 0 ? -errno : n;
}

static int host_xset(struct inode *i, const char *name, const void *buf, size_t len, int flags)
{
    char p[64];
    int r = xattr_path(i, 1, p, sizeof(p));
    if (r < 0)
        return r;
    return setxattr(p, name, buf, len, flags) < 0 ? -errno : 0;
}

static ssize_t host_xlist(struct inode *i, char *buf, size_t len)
{
    char p[64];
    xattr_path(i, 0, p, sizeof(p));
    ssize_t n = listxattr(p, buf, len);
    return n < 0 ? -errno : n;
}

static int host_xremove(struct inode *i, const char *name)
{
    char p[64];
    int r = xattr_path(i, 1, p, sizeof(p));
    return r < 0 ? r : removexattr(p, name) < 0 ? -errno : 0;
}

/* The cached name in dir is still i on the host: one fstatat per cached
 * step of a walk, so that a directory another host process moved away is
 * not found under its old name (Linux's dentry cache sees every rename;
 * ours sees only the sentry's). */
static int host_revalidate(struct inode *dir, const char *name, struct inode *i)
{
    struct stat st;
    if (fstatat(HI(dir)->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return st.st_ino == i->ino && st.st_dev == HI(i)->dev;
}

static int same_file(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Is the directory open at fd beneath the mounted directory? Walk up the
 * host's ".." (the host resolves it from the inode, wherever that is now)
 * until the mount's directory (yes) or the host's root, where ".." is the
 * directory itself (no). Only the rare case: the cached names disagree
 * with the host. */
static int host_beneath_root(struct hostfs_info *hi, int fd)
{
    int cur = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    for (int depth = 0; cur >= 0 && depth < PATH_MAX_LEN / 2; depth++) {
        struct stat st;
        if (fstat(cur, &st) < 0)
            break;
        if (st.st_dev == hi->root_dev && st.st_ino == hi->root_ino) {
            close(cur);
            return 1;
        }
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        close(cur);
        if (up < 0 || same_file(up, st.st_dev, st.st_ino)) {
            if (up >= 0)
                close(up);
            return 0;
        }
        cur = up;
    }
    if (cur >= 0)
        close(cur);
    return 0;
}

/* Is dir's host parent the inode parent? (A directory has one parent.)
 * 1 yes, 0 no, or 1 too when dir was removed: nothing can be made in it
 * and Linux walks up from it to its last parent. */
static int host_parent_is(struct inode *dir, struct inode *parent)
{
    int fd = openat(HI(dir)->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    int same = same_file(fd, HI(parent)->dev, parent->ino);
    close(fd);
    return same;
}

/* ".." from dir (called dir_name in the cache) to parent (see
 * inode_ops.dotdot). Two questions for the host, answered from
 * descriptors and cached names, never from text the guest gave now: is
 * parent beneath the mount's directory, and is it still dir's parent?
 * The usual case costs four host calls (one when parent is the root):
 * openat2 of parent's cached path beneath the root (RESOLVE_BENEATH: the
 * host itself refuses to leave it; no symlinks) compared with parent's
 * inode, then fstatat of dir's cached name in it compared with dir's.
 * Only when the cached names are stale (a host rename inside the tree)
 * does it ask the host for dir's ".." and walk up parent's. A removed
 * parent is no way out either: nothing can be made in it.
 * What holds: ".." yields a directory that the host showed beneath the
 * mount's directory during the step. A host rename after that moves it
 * with whatever the guest then does in it, as on Linux, where lookup and
 * use are not atomic either. */
static int host_dotdot(struct inode *dir, const char *dir_name, struct inode *parent,
                       const char *parent_path)
{
    struct hostfs_info *hi = parent->sb->fs_info;
    struct host_inode *p = HI(parent);
    int pfd = -1, beneath = 0;
    if (p->dev == hi->root_dev && parent->ino == hi->root_ino) {
        pfd = hi->root_fd;
        beneath = 1;
    } else if (parent_path && parent_path[0]) {
        struct open_how how = {
            .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        pfd = (int)syscall(SYS_openat2, hi->root_fd, parent_path, &how, sizeof(how));
        beneath = pfd >= 0 && same_file(pfd, p->dev, parent->ino);
    }
    int here = 0; /* dir is at its cached name in parent */
    if (beneath && dir && dir_name) {
        struct stat st;
        here = fstatat(pfd, dir_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == dir->ino &&
               st.st_dev == HI(dir)->dev;
    }
    if (pfd >= 0 && pfd != hi->root_fd)
        close(pfd);
    if (dir && !here && !host_parent_is(dir, parent))
        return -ENOENT; /* dir moved: its new parent has no dentry here */
    if (beneath)
        return 0;
    struct stat st;
    if (fstat(p->fd, &st) == 0 && st.st_nlink == 0)
        return 0;
    return host_beneath_root(hi, p->fd) ? 0 : -ENOENT;
}

static void host_evict(struct inode *i)
{
    struct host_inode *h = HI(i);
    close(h->fd);
    free(h);
}

static const struct inode_ops host_iops = {
    .lookup = host_lookup,
    .mknod = host_mknod,
    .mkdir = host_mkdir,
    .symlink = host_symlink,
    .link = host_link,
    .unlink = host_unlink,
    .rmdir = host_rmdir,
    .rename = host_rename,
    .readlink = host_readlink,
    .getattr = host_getattr,
    .statx = host_statx,
    .setattr = host_setattr,
    .open = host_open,
    .getxattr = host_xget,
    .setxattr = host_xset,
    .listxattr = host_xlist,
    .removexattr = host_xremove,
    .revalidate = host_revalidate,
    .dotdot = host_dotdot,
    .evict = host_evict,
};

/* ---- open files ---- */

static ssize_t hf_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    ssize_t n = pread(f->host_fd, buf, len, *pos);
    if (n < 0)
        return -errno;
    *pos += n;
    return n;
}

static ssize_t hf_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    /* The host fd's O_APPEND follows the file's (fcntl F_SETFL changes
     * only the latter): with it write() appends atomically, without it
     * pwrite() writes where asked. */
    int want = __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_APPEND;
    int hfl = fcntl(f->host_fd, F_GETFL);
    if (hfl >= 0 && (hfl & O_APPEND) != want)
        fcntl(f->host_fd, F_SETFL, (hfl & ~O_APPEND) | want);
    if (want) {
        ssize_t n = write(f->host_fd, buf, len);
        if (n < 0)
            return -errno;
        off_t end = lseek(f->host_fd, 0, SEEK_CUR);
        if (end >= 0)
            *pos = end;
        return n;
    }
    ssize_t n = pwrite(f->host_fd, buf, len, *pos);
    if (n < 0)
        return -errno;
    *pos += n;
    return n;
}

/* The host file system decides: its largest offset (ext4's is below
 * 2^44), its holes, its size. SEEK_CUR is from the guest's position, which
 * the host descriptor's own does not follow. */
static off_t hf_llseek(struct file *f, off_t off, int whence)
{
    if (whence == SEEK_CUR) {
        if (__builtin_add_overflow(f->pos, off, &off))
            return -EINVAL;
        whence = SEEK_SET;
    }
    off_t r = lseek(f->host_fd, off, whence);
    return r < 0 ? -errno : r;
}

/* The sentry's I/O on the host file goes through the host's page cache
 * (its descriptor has no O_DIRECT, so that the sentry's buffers need no
 * alignment); the guest's direct I/O gets the host's alignment rules. */
static void hf_dio_align(struct file *f, unsigned *mem, unsigned *off)
{
    struct statx sx;
    *mem = *off = 0;
    if (statx(f->host_fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN)) {
        *mem = sx.stx_dio_mem_align;
        *off = sx.stx_dio_offset_align;
    }
}

/* The host file system's largest offset, which no call tells: the largest
 * that the host's lseek takes (generic_file_llseek_size refuses past
 * s_maxbytes), found once per inode. */
static off_t hf_max_bytes(struct file *f)
{
    struct host_inode *hi = HI(f->inode);
    off_t m = __atomic_load_n(&hi->maxbytes, __ATOMIC_RELAXED);
    if (m)
        return m;
    off_t lo = 0, hi_off = INT64_MAX;
    if (lseek(f->host_fd, hi_off, SEEK_SET) >= 0) {
        lo = hi_off;
    } else {
        while (lo < hi_off - 1) {
            off_t mid = lo + (hi_off - lo) / 2;
            if (lseek(f->host_fd, mid, SEEK_SET) >= 0)
                lo = mid;
            else
                hi_off = mid;
        }
    }
    __atomic_store_n(&hi->maxbytes, lo, __ATOMIC_RELAXED);
    return lo;
}

static int hf_stat(struct file *f, struct stat *st)
{
    return fstat(f->host_fd, st) < 0 ? -errno : 0;
}

static int hf_fsync(struct file *f, int datasync)
{
    int r = datasync ? fdatasync(f->host_fd) : fsync(f->host_fd);
    return r < 0 ? -errno : 0;
}

static int hf_fallocate(struct file *f, int mode, off_t off, off_t len)
{
    return fallocate(f->host_fd, mode, off, len) < 0 ? -errno : 0;
}

static int hf_mmap_fd(struct file *f)
{
    return f->host_fd;
}

static void hf_release(struct file *f)
{
    if (f->host_fd >= 0)
        close(f->host_fd);
}

/* Directory reading: the host's getdents64 cookies are our positions. */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int hd_iterate(struct file *f, struct dir_context *ctx)
{
    char buf[8192];
    if (lseek(f->host_fd, ctx->pos, SEEK_SET) < 0)
        return -errno;
    for (;;) {
        long n = getdents64(f->host_fd, buf, sizeof(buf));
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            if (ctx->emit(ctx, d->d_name, strlen(d->d_name), d->d_ino, d->d_type))
                return 0;
            ctx->pos = d->d_off;
            off += d->d_reclen;
        }
    }
}

static const struct file_ops host_file_ops = {
    .name = "hostfs",
    .read = hf_read,
    .write = hf_write,
    .llseek = hf_llseek,
    .stat = hf_stat,
    .dio_align = hf_dio_align,
    .max_bytes = hf_max_bytes,
    .fsync = hf_fsync,
    .fallocate = hf_fallocate,
    .mmap_fd = hf_mmap_fd,
    .release = hf_release,
};

static const struct file_ops host_dir_ops = {
    .name = "hostfs-dir",
    .iterate = hd_iterate,
    .stat = hf_stat,
    .fsync = hf_fsync,
    .release = hf_release,
};

/* ---- the file system ---- */

static int hostfs_statfs(struct super_block *sb, struct statfs *st)
{
    struct hostfs_info *hi = sb->fs_info;
    return fstatfs(hi->root_fd, st) < 0 ? -errno : 0;
}

static void hostfs_kill_sb(struct super_block *sb)
{
    struct hostfs_info *hi = sb->fs_info;
    if (hi) {
        close(hi->root_fd);
        free(hi);
    }
}

const struct fs_type hostfs_type = {
    .name = "hostfs",
    .magic = 0x00c0ffee,
    .nodev = 1,
    .statfs = hostfs_statfs,
    .kill_sb = hostfs_kill_sb,
};

int hostfs_atime_flags(struct dentry *root)
{
    struct statfs sf;
    if (fstatfs(HI(root->inode)->fd, &sf) < 0)
        return 0;
    if (sf.f_flags & ST_NOATIME)
        return MNT_NOATIME;
    return ((sf.f_flags & ST_NODIRATIME) ? MNT_NODIRATIME : 0) |
           ((sf.f_flags & ST_RELATIME) ? 0 : MNT_STRICTATIME);
}

int hostfs_mount(const char *hostpath, int rdonly, struct dentry **root)
{
    int fd = open(hostpath, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = fstat_or_close(fd, &st);
    if (r < 0)
        return r;
    struct hostfs_info *hi = calloc(1, sizeof(*hi));
    struct super_block *sb = hi ? sb_new(&hostfs_type, st.st_dev, hostpath) : NULL;
    int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (!sb || fd2 < 0) {
        free(hi);
        if (sb)
            sb_put(sb);
        close(fd);
        if (fd2 >= 0)
            close(fd2);
        return -ENOMEM;
    }
    hi->root_fd = fd2;
    hi->root_dev = st.st_dev;
    hi->root_ino = st.st_ino;
    hi->rdonly = rdonly;
    sb->fs_info = hi;
    struct inode *i;
    r = host_inode_new(sb, fd, &i);
    sb_put(sb); /* the inode holds it now */
    if (r < 0)
        return r;
    *root = d_make_root(i, "/");
    return *root ? 0 : -ENOMEM;
}
