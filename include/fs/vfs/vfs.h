/* The virtual file system: super blocks, inodes, directory entries, mounts
 * and path lookup. Three levels of static const operation tables, as in
 * Linux: fs_type (the file system), inode_ops (names and attributes), and
 * file_ops (an open file description, include/fs/file/file.h). */
#ifndef FS_VFS_H
#define FS_VFS_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include "fs/file/file.h"

#define NAME_MAX_LEN 255
#define PATH_MAX_LEN 4096
#define SYMLINK_MAX 40

struct creds;
struct inode;
struct dentry;
struct super_block;
struct mount;

/* The file system: one per type. A NULL member means: statfs reports
 * zeros with the type's magic; kill_sb frees nothing. */
struct fs_type {
    const char *name;    /* "tmpfs", as /proc/filesystems shows it */
    unsigned long magic; /* f_type of statfs */
    int nodev;           /* "nodev" in /proc/filesystems */
    int (*statfs)(struct super_block *sb, struct statfs *st);
    void (*kill_sb)(struct super_block *sb);
};

struct super_block {
    const struct fs_type *type;
    dev_t dev;            /* st_dev of its inodes (the host's for hostfs) */
    int refs;             /* atomic; mounts hold one each */
    pthread_mutex_t lock; /* for the file system's own use */
    uint64_t next_ino;
    char *source;  /* "tmpfs", "proc", a host path */
    char *options; /* "size=...,mode=..." for /proc/mounts, or NULL */
    void *fs_info; /* the file system's per-mount state */
};

/* Attribute changes: chmod, chown, truncate, utimes. */
#define ATTR_MODE 1
#define ATTR_UID 2
#define ATTR_GID 4
#define ATTR_SIZE 8
#define ATTR_ATIME 16
#define ATTR_MTIME 32
#define ATTR_ATIME_NOW 64 /* with ATTR_ATIME: the current time */
#define ATTR_MTIME_NOW 128
#define ATTR_CTIME 256 /* set ctime to now (always with any of the above) */
#define ATTR_CHOWN 512 /* a chown call (clears set-id bits) */

struct iattr {
    unsigned valid;
    mode_t mode; /* permission bits only */
    uid_t uid;
    gid_t gid;
    off_t size;
    struct timespec atime, mtime;
};

/* What statx adds to getattr (inode_ops.statx). */
#define STATX_MTIME_BIT 0x40U
#define STATX_CTIME_BIT 0x80U
#define STATX_BTIME_BIT 0x800U
#define STATX_DIOALIGN_BIT 0x2000U
struct statx_extra {
    unsigned mask; /* which of mtime, ctime, btime, dio alignment it reports */
    uint64_t attributes, attributes_mask;
    struct timespec btime;
    uint32_t dio_mem_align, dio_offset_align;
};

/* Who is asking: the guest's file-system identity. */
struct fs_cred {
    uid_t uid;
    gid_t gid;
};

/* Inode operations. Every directory operation names its entry by parent
 * inode and name; the VFS has checked the name (not "." or "..", no '/',
 * at most NAME_MAX_LEN), write access, and that the mount is writable.
 * All return 0 or -errno. NULL members: lookup/create/mkdir/... give
 * -ENOTDIR on non-directories and -EPERM otherwise; getattr is required;
 * setattr gives -EPERM; readlink gives -EINVAL; open uses i->fops. */
struct inode_ops {
    /* The inode called name in dir, with a reference; -ENOENT if none. */
    int (*lookup)(struct inode *dir, const char *name, struct inode **out);
    /* Make a regular file, FIFO, socket or device node (mode has the type). */
    int (*mknod)(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
                 const struct fs_cred *c, struct inode **out);
    int (*mkdir)(struct inode *dir, const char *name, mode_t mode, const struct fs_cred *c,
                 struct inode **out);
    int (*symlink)(struct inode *dir, const char *name, const char *target, const struct fs_cred *c,
                   struct inode **out);
    /* A new name for old (never a directory) in dir; same super block. */
    int (*link)(struct inode *old, struct inode *dir, const char *name);
    /* Remove name, which is victim (not a directory for unlink, an empty
     * one for rmdir: the file system checks emptiness, -ENOTEMPTY). */
    int (*unlink)(struct inode *dir, const char *name, struct inode *victim);
    int (*rmdir)(struct inode *dir, const char *name, struct inode *victim);
    /* Same super block; flags RENAME_NOREPLACE / RENAME_EXCHANGE /
     * RENAME_WHITEOUT (the whiteout left under oname is c's). The VFS has
     * checked the type rules (dir over non-dir and so on) but the file
     * system checks that a replaced directory is empty. */
    int (*rename)(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
                  unsigned flags, const struct fs_cred *c);
    /* Link text into buf (not NUL-terminated); returns its length. */
    int (*readlink)(struct inode *i, char *buf, size_t len);
    /* Magic links (procfs): set *out to where the link leads and return
     * 1; or return 0 to be read with readlink; or -errno. */
    int (*get_link)(struct inode *i, struct mount **mnt, struct dentry **out);
    int (*getattr)(struct inode *i, struct stat *st);
    /* statx beyond getattr for the caller's request mask, into x (zeroed).
     * NULL: mtime and ctime always, nothing more. A file system with
     * multigrain timestamps (tmpfs, ext4) leaves mtime and ctime out
     * unless asked for one, as Linux. */
    int (*statx)(struct inode *i, unsigned request, struct statx_extra *x);
    int (*setattr)(struct inode *i, const struct iattr *ia);
    /* Prepare f (opened with flags) for i: f->ops defaults to i->fops.
     * Not called when i->fops has an open of its own (special files). */
    int (*open)(struct inode *i, struct file *f, int flags);
    /* Extended attributes; NULL members give -EOPNOTSUPP. */
    ssize_t (*getxattr)(struct inode *i, const char *name, void *buf, size_t len);
    int (*setxattr)(struct inode *i, const char *name, const void *buf, size_t len, int flags);
    ssize_t (*listxattr)(struct inode *i, char *buf, size_t len);
    int (*removexattr)(struct inode *i, const char *name);
    /* The last reference is gone: free the file system's struct (which
     * embeds i), or keep it cached for later lookups (tmpfs keeps inodes
     * that still have links; reviving one, it takes a super block
     * reference again). NULL: the VFS frees i. The VFS then drops the super
     * block reference the inode held. */
    void (*evict)(struct inode *i);
    /* For a tree that others change behind the dentry cache's back (hostfs:
     * other host processes rename and remove). NULL members: the cache is
     * the truth (tmpfs, procfs).
     * revalidate: is the cached entry name of dir still the inode i? 1 yes,
     * 0 no (the VFS forgets that entry and looks name up again). */
    int (*revalidate)(struct inode *dir, const char *name, struct inode *i);
    /* ".." from dir (dir_name in the cache) to parent, its parent in the
     * dentry cache, whose path from the file system's root (cached names,
     * "a/b") is parent_path, or NULL when too long. 0 when the file system
     * agrees that parent is dir's parent (or dir is gone) and that parent
     * lies beneath the file system's root; -ENOENT when not: Linux's
     * path_connected(), which keeps ".." of a directory moved out of a
     * bind mount from leaving the mount. With dir NULL: only whether
     * parent lies beneath the root (d_path). */
    int (*dotdot)(struct inode *dir, const char *dir_name, struct inode *parent,
                  const char *parent_path);
};

/* An inode as the VFS sees it. File systems embed it in their own struct
 * and reach that with container_of. The cached fields are what the VFS
 * uses for permission and type checks; getattr gives the full truth. */
struct inode {
    const struct inode_ops *ops;
    const struct file_ops *fops; /* for open() */
    struct super_block *sb;
    int refs; /* atomic */
    uint64_t ino;
    mode_t mode; /* type and permission bits */
    uid_t uid;
    gid_t gid;
    dev_t rdev;     /* device nodes */
    int sealable;   /* tmpfs files: F_GET_SEALS and F_ADD_SEALS work */
    unsigned seals; /* F_SEAL_* (F_SEAL_SEAL but for memfds) */
    /* Linux's i_writecount (atomic): above 0, the open file descriptions
     * with write access (execve gives ETXTBSY); below 0, the address
     * spaces running it as their program (opening it for writing gives
     * ETXTBSY). */
    int writers;
    /* The watches on this inode (fs/vfs/fsnotify.h), under fsnotify_lock;
     * NULL when none. */
    void *fsnotify;
};

/* A name in the directory tree. Dentries live while referenced (by files,
 * cwds, mounts, lookups in progress) and sit in their parent's child list
 * so that a name maps to one dentry; the file system holds the real
 * directory. All fields but refs are protected by vfs_lock. */
struct dentry {
    int refs; /* atomic */
    char *name;
    struct dentry *parent; /* NULL for a file system's root */
    struct inode *inode;
    struct dentry *child, *next; /* children; sibling link */
    int mounted;                 /* mounts on this dentry */
    int deleted;                 /* unlinked or replaced */
};

#define MNT_RDONLY 1
#define MNT_NOSUID 2
#define MNT_NODEV 4
#define MNT_NOEXEC 8
/* The atime mode: relatime unless one of these (Linux's default too). */
#define MNT_NOATIME 16
#define MNT_NODIRATIME 32
#define MNT_STRICTATIME 64

struct mount {
    int id;
    int flags;                 /* MNT_* */
    struct mount *parent;      /* itself for the namespace root */
    struct dentry *mountpoint; /* in parent */
    struct dentry *root;
    struct super_block *sb;
    struct mount *next; /* in the namespace's list, mount order */
};

struct mnt_ns {
    struct mount *root;
    struct mount *list;
    int next_id;
};

/* A place in the tree: both halves hold a reference when owned. */
struct path {
    struct mount *mnt;
    struct dentry *d;
};

/* A process's root and working directory (shared under CLONE_FS). */
struct fs_struct {
    int refs;
    pthread_mutex_t lock;
    struct path root, cwd;
    uint32_t umask; /* shared with them, as Linux's fs->umask (atomics) */
};

/* Protects the dentry tree and the mount table. */
extern pthread_mutex_t vfs_lock;
extern struct mnt_ns *vfs_ns;

/* ---- objects ---- */
struct super_block *sb_new(const struct fs_type *type, dev_t dev, const char *source);
/* The super block of a file system the sentry mounts for itself (Linux's
 * kern_mount: pipefs, sockfs...), made at the first call into *slot and
 * kept as long as the sentry; NULL without memory (a later call tries
 * again). */
struct super_block *sb_kern(const struct fs_type *type, struct super_block **slot);
void sb_get(struct super_block *sb);
void sb_put(struct super_block *sb);
/* A fresh st_dev for a file system without a host device (0:N, as Linux). */
dev_t vfs_anon_dev(void);
/* Initialise an inode the file system allocated (refs = 1; it holds a
 * reference to sb until its last inode_put). */
void inode_init(struct inode *i, struct super_block *sb, const struct inode_ops *ops,
                const struct file_ops *fops, uint64_t ino, mode_t mode);
void inode_get(struct inode *i);
/* Linux's generic_fillattr: *st cleared, then i's device, number, mode,
 * owner and rdev, one link and blksize; the caller adds the rest. */
void inode_fillattr(const struct inode *i, struct stat *st, blksize_t blksize);
void inode_put(struct inode *i);
/* A root dentry over inode (takes the reference). */
struct dentry *d_make_root(struct inode *i, const char *name);
/* The inode's attributes from its file system (getattr), refreshing the
 * cached mode and ids the permission checks use. */
int vfs_getattr(struct inode *i, struct stat *st);
/* Copy the mode and ids an attribute change sets into the cached fields of
 * i (Linux's setattr_copy): file systems call it from setattr. */
void setattr_copy(struct inode *i, const struct iattr *ia);
struct dentry *dget(struct dentry *d);
void dput(struct dentry *d);
void path_get(const struct path *p);
void path_put(struct path *p);

/* Dentry cache upkeep after the file system changed a name (namei.c). */
int d_instantiate(struct dentry *dir, const char *name, struct inode *i, struct dentry **out);
void d_delete_name(struct dentry *dir, const char *name);
int d_move_name(struct dentry *odir, const char *oname, struct dentry *ndir, const char *nname,
                unsigned flags);

/* ---- mounts ---- */
/* Mount sb's root dentry at path (or as the namespace root when at is
 * NULL); takes a reference to root. */
int vfs_mount(struct dentry *root, const struct path *at, int flags, struct mount **out);

/* A mount of root outside the namespace's table (Linux's kern_mount), for
 * a file system the sentry itself opens files in (the mqueue file system,
 * for mq_open); it lives as long as the sandbox. */
int vfs_kern_mount(struct dentry *root, struct mount **out);

/* ---- lookup ---- */
#define LOOKUP_FOLLOW 1       /* follow a final symlink */
#define LOOKUP_DIRECTORY 2    /* the result must be a directory */
#define LOOKUP_EMPTY 4        /* "" means dirfd itself (AT_EMPTY_PATH) */
#define LOOKUP_BENEATH 8      /* openat2 RESOLVE_BENEATH */
#define LOOKUP_NO_SYMLINKS 16 /* RESOLVE_NO_SYMLINKS */
#define LOOKUP_NO_MAGICLINKS 32
#define LOOKUP_IN_ROOT 64 /* RESOLVE_IN_ROOT: dirfd acts as root */
#define LOOKUP_NO_XDEV 128
#define LOOKUP_TRAILING_SLASH 256 /* internal: the path ended in '/' */

/* A path operation: everything the VFS needs from the caller, so that it
 * never sees the task (gVisor's PathOperation, the start of Linux's
 * nameidata). The syscall layer builds it (path_op_init, fs/pathop.h)
 * from the caller's root and cwd, taken together under their lock, the
 * directory open at dirfd, the path it copied in, and the credentials. */
struct path_op {
    struct path root;         /* where "/" and ".." stop (IN_ROOT: the start); a reference */
    struct path start;        /* where a relative name starts: cwd or dirfd; a reference */
    int start_err;            /* nonzero: dirfd was no starting point (EBADF, ENOTDIR) */
    const char *name;         /* the path, in sentry memory */
    int flags;                /* LOOKUP_* */
    const struct creds *cred; /* the credentials to check with */
};

/* Resolve op->name into *out with references. */
int vfs_lookup(const struct path_op *op, struct path *out);
/* Resolve all but the last component: *parent gets the directory, last the
 * final name (NAME_MAX_LEN + 1 bytes), *type LAST_NORM/LAST_DOT/LAST_DOTDOT/
 * LAST_ROOT. A trailing '/' sets LOOKUP_TRAILING_SLASH in *flags_out. */
#define LAST_NORM 0
#define LAST_ROOT 1
#define LAST_DOT 2
#define LAST_DOTDOT 3
int vfs_lookup_parent(const struct path_op *op, struct path *parent, char *last, int *type,
                      int *flags_out);
/* The same for path (a symlink's target) from the directory from (when
 * not NULL and path is relative) within op's root and rules. */
int vfs_lookup_parent_at(const struct path_op *op, const struct path *from, const char *path,
                         struct path *parent, char *last, int *type, int *flags_out);
/* Follow the symlink i once, for the walk and for open with O_CREAT:
 * counts *links (-ELOOP past SYMLINK_MAX or with LOOKUP_NO_SYMLINKS in
 * flags). A magic link gives 1 with *magic (references) where it leads
 * (-ELOOP if flags forbid magic links: NO_MAGICLINKS, BENEATH, IN_ROOT);
 * another gives 0 with *text, its target (malloc'd), to resolve from the
 * link's directory (-ENOENT if empty). */
int vfs_follow_link(struct inode *i, int flags, int *links, struct path *magic, char **text);
/* The child called name of dir, crossing mounts; -ENOENT if none. */
int vfs_lookup_one(struct path *dir, const char *name, struct path *out);

/* The path of p as seen from root, into buf; returns its length or
 * -ENAMETOOLONG. Unlinked files end in " (deleted)". A directory that
 * another host process moved out of its mount's host directory is
 * disconnected, as on Linux: its path is the one from its file system's
 * root (the cached names, nothing of the host's), not reaching root. */
int vfs_d_path(const struct path *p, const struct path *root, char *buf, size_t len);
/* The same; *reached_root tells whether the walk met root (else the
 * path is from the namespace's root: getcwd's "(unreachable)" case). */
int vfs_d_path_reach(const struct path *p, const struct path *root, char *buf, size_t len,
                     int *reached_root);

/* ---- permission ---- */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4
int vfs_permission(const struct creds *c, struct inode *i, int mask);
/* Linux's inode_owner_or_capable: c's fsuid owns i, or c has CAP_FOWNER. */
int vfs_owner_or_capable(const struct creds *c, const struct inode *i);
void vfs_fs_cred(const struct creds *cred, struct fs_cred *c);

/* ---- operations the syscalls use (all 0 / >= 0 or -errno) ----
 * The modes of new files come with the caller's umask already applied. */
int vfs_open(const struct path_op *op, int flags, mode_t mode, struct file **out);
/* An open flag of vfs_open_path only (Linux's __FMODE_EXEC): open a
 * program for execve, which needs exec permission, not read permission
 * (the caller checked it). Not in f->flags. */
#define VFS_OPEN_EXEC 0x20
/* Open what p names (an existing inode) with flags for cred. */
int vfs_open_path(const struct creds *cred, const struct path *p, int flags, struct file **out);
/* Can f be open with O_DIRECT (open and fcntl F_SETFL)? */
int vfs_file_can_direct(const struct file *f);
int vfs_setattr(const struct creds *cred, const struct path *p, struct iattr *ia);
int vfs_mknod(const struct path_op *op, mode_t mode, dev_t rdev);
int vfs_mkdir(const struct path_op *op, mode_t mode);
int vfs_symlink(const char *target, const struct path_op *op);
/* link: old is what oop names (looked up with its flags). */
int vfs_link(const struct path_op *oop, const struct path_op *nop);
int vfs_unlink(const struct path_op *op);
int vfs_rmdir(const struct path_op *op);
int vfs_rename(const struct path_op *oop, const struct path_op *nop, unsigned flags);
int vfs_readlink(const struct path_op *op, char *buf, size_t len);

/* ---- process state ---- */
struct fs_struct *fs_struct_new(const struct path *root, const struct path *cwd);
struct fs_struct *fs_struct_copy(struct fs_struct *fs);
void fs_struct_put(struct fs_struct *fs);

/* ---- the file systems ---- */
/* hostfs: host directory (or file) dir as a file system; rdonly refuses writes. */
int hostfs_mount(const char *hostpath, int rdonly, struct dentry **root);
/* The atime mode (MNT_NOATIME, MNT_NODIRATIME, MNT_STRICTATIME or none for
 * relatime) of the host mount under a hostfs root: the host updates atimes
 * by its own mount's rules, so the guest's mount must say the same. */
int hostfs_atime_flags(struct dentry *root);
/* tmpfs with a size limit in bytes (0: half of RAM, as Linux). */
int tmpfs_mount(uint64_t size, mode_t mode, struct dentry **root);
/* devfs: a tmpfs holding the device nodes. */
int devfs_mount(struct dentry **root);
int procfs_mount(struct dentry **root);
extern const struct fs_type hostfs_type, tmpfs_type, devfs_type, procfs_type;
/* Newer than some libc headers (glibc 2.36). */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
/* memfd_create's file (O_RDWR), named NAME for /proc; mfd_flags: the
 * MFD_ALLOW_SEALING and MFD_NOEXEC_SEAL of memfd_create (checked). */
int memfd_new(const struct creds *cred, const char *name, unsigned mfd_flags, struct file **out);
/* fcntl F_ADD_SEALS and F_GET_SEALS: 0 / the seals, or -errno as Linux. */
long memfd_add_seals(struct file *f, unsigned seals);
long memfd_get_seals(struct file *f);
/* Add seals to a tmpfs file (a memfd's: memfd_add_seals checked the
 * caller): its record and its host memfd's together, under its data lock.
 * -EPERM once F_SEAL_SEAL is there, the host's -EBUSY for F_SEAL_WRITE
 * while a mapping could write. */
int tmpfs_add_seals(struct inode *i, unsigned seals);

#endif
