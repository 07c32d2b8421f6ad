/* File change notification (Linux's fs/notify/fsnotify.c): the hooks the
 * VFS calls where a file is opened, read, written, changed, closed, made,
 * removed or renamed, once each, and the marks that hang off watched
 * inodes. A listener (inotify, fs/file/inotify.h) is a group with its own
 * operations; this layer knows nothing of it beyond them. Event bits are
 * inotify's IN_* values, as Linux's FS_* bits are. */
#ifndef FS_VFS_FSNOTIFY_H
#define FS_VFS_FSNOTIFY_H

#include <pthread.h>
#include <stdint.h>

struct inode;
struct dentry;
struct fsnotify_mark;

/* Linux's FS_EVENT_ON_CHILD: a directory's mark takes events of its children. */
#define FSN_EVENT_ON_CHILD 0x08000000U
/* Mark flags. */
#define FSN_MARK_EXCL_UNLINK 1 /* no events of files unlinked from the directory */
#define FSN_MARK_ONESHOT 2     /* removed after its first event */

struct fsnotify_ops {
    /* An event for m (fsnotify_lock held): IN_* bits with IN_ISDIR, the
     * name of the entry for a directory's mark (NULL otherwise), the
     * rename cookie (0 but for IN_MOVED_FROM and IN_MOVED_TO). */
    void (*handle_event)(struct fsnotify_mark *m, uint32_t mask, const char *name, uint32_t cookie);
    /* m left its inode (removed, or the inode went: fsnotify_lock held):
     * the group says IN_IGNORED and drops the mark. */
    void (*freeing_mark)(struct fsnotify_mark *m);
};

struct fsnotify_group {
    const struct fsnotify_ops *ops;
};

/* One group's interest in one inode; embedded in the group's own struct.
 * All fields under fsnotify_lock. */
struct fsnotify_mark {
    struct fsnotify_group *group;
    struct inode *inode;        /* the inode holding the marks; NULL once detached */
    uint32_t mask;              /* IN_* events, FSN_EVENT_ON_CHILD for directories */
    unsigned flags;             /* FSN_MARK_* */
    struct fsnotify_mark *next; /* on the inode's list */
};

/* Guards every inode's marks and the marks' fields. Taken before a
 * group's own lock, never under vfs_lock. */
extern pthread_mutex_t fsnotify_lock;

/* ---- marks (fsnotify_lock held) ---- */
/* group's mark on i, or NULL. */
struct fsnotify_mark *fsnotify_find_mark(struct inode *i, struct fsnotify_group *group);
/* Attach m (group, mask, flags set) to the file i is (the inode that
 * holds its marks may be another struct inode of the same file). */
int fsnotify_add_mark(struct fsnotify_mark *m, struct inode *i);
/* Detach m from its inode and call the group's freeing_mark. The inode
 * reference of the last mark goes after the lock is dropped (fsnotify_reap). */
void fsnotify_destroy_mark(struct fsnotify_mark *m);
/* Drop the inode references detached marks left (fsnotify_lock not held). */
void fsnotify_reap(void);

/* ---- the hooks ---- */
/* An event of an open file's (IN_OPEN, IN_ACCESS, IN_MODIFY, IN_CLOSE_*):
 * on i and on its directory with d's name. The open file's hooks
 * (fsnotify_open and the rest, fs/file/file.h) call it. */
void fsnotify_path_event(struct inode *i, struct dentry *d, uint32_t mask);
/* Whether any mark exists (a close need not look further without). */
int fsnotify_watching(void);
/* An open file of i, named by d, closed: if it was the last user of an
 * unlinked inode, IN_DELETE_SELF. */
void fsnotify_last_close(struct inode *i, struct dentry *d);
/* Attributes of i (named by d, or NULL) changed: valid is the ATTR_* set of the
 * change (Linux's fsnotify_change); IN_ATTRIB for extended attributes. */
void fsnotify_change(struct inode *i, struct dentry *d, unsigned valid);
void fsnotify_xattr(struct inode *i, struct dentry *d);
/* Entry name of dir made (IN_CREATE) for the inode i, or i got a new link
 * (IN_ATTRIB on i, IN_CREATE in dir). */
void fsnotify_create(struct inode *dir, const char *name, struct inode *i);
void fsnotify_link(struct inode *dir, const char *name, struct inode *i);
/* Entry name (victim d) of dir removed: IN_ATTRIB on a non-directory,
 * IN_DELETE_SELF if d was the inode's last name and nothing else uses
 * it (else when that use ends), IN_DELETE in dir. Call before dropping d. */
void fsnotify_remove(struct inode *dir, const char *name, struct dentry *d);
/* A rename: moved (the dentry, now under its new name) went from oname in
 * odir to nname in ndir; target, if not NULL, was replaced (its dentry).
 * exchange: target went the other way (its own move is reported too). */
void fsnotify_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
                     struct dentry *moved, struct dentry *target, int exchange);

#endif
