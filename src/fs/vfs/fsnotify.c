/* File change notification (include/fs/vfs/fsnotify.h), after Linux's
 * fs/notify/fsnotify.c and include/linux/fsnotify.h: the VFS calls one hook
 * per change; the hook finds the marks of the inode and, for events of a
 * directory's entries, of its directory, and hands each interested mark
 * the event through its group's operations. The marks of an inode hang
 * off it in one connector, which holds the inode; the connectors are also
 * found by file system and inode number, because a file system may make
 * more than one struct inode for a file (hostfs makes one per lookup: a
 * hard link, or a name looked up again after its dentry went). An unlinked
 * inode's IN_DELETE_SELF comes when its last user goes: at the unlink
 * itself, or at the close of the last open file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"

pthread_mutex_t fsnotify_lock = PTHREAD_MUTEX_INITIALIZER;

/* The marks of an inode (inode->fsnotify), under fsnotify_lock. */
struct fsn_conn {
    struct fsnotify_mark *marks;
    struct inode *inode; /* with a reference; its fsnotify is this */
    int delete_pending;  /* unlinked, in use: IN_DELETE_SELF when the use ends */
    struct fsn_conn *hnext;
};

/* Every connector by (super block, inode number). */
#define CONN_BUCKETS 256
static struct fsn_conn *conns[CONN_BUCKETS];

static struct fsn_conn **bucket(const struct inode *i)
{
    uintptr_t h = (uintptr_t)i->sb / 64 ^ (uintptr_t)i->ino * 0x9e3779b97f4a7c15ULL;
    return &conns[(h >> 24) % CONN_BUCKETS];
}

/* Are a and b, two struct inodes with one number in one file system, the
 * same file? A hostfs mount may span host file systems, whose inode
 * numbers can meet: their devices tell. */
static int same_file(struct inode *a, struct inode *b)
{
    struct stat sa, sb;
    if (vfs_getattr(a, &sa) < 0 || vfs_getattr(b, &sb) < 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The connector of the file i is, or NULL (fsnotify_lock held). */
static struct fsn_conn *conn_of(struct inode *i)
{
    if (!i)
        return NULL;
    if (i->fsnotify)
        return i->fsnotify;
    for (struct fsn_conn *c = *bucket(i); c; c = c->hnext)
        if (c->inode->sb == i->sb && c->inode->ino == i->ino && same_file(c->inode, i))
            return c;
    return NULL;
}

/* Attached marks in the whole sandbox: no hook does anything while 0. */
static int nr_marks;

/* Connectors whose last mark went, unhooked from their inode: the inode
 * reference is dropped (and the connector freed) once fsnotify_lock is
 * released, since the inode's end may call into its file system. Linked
 * by hnext. */
static struct fsn_conn *reap_list;

static int any_marks(void)
{
    return __atomic_load_n(&nr_marks, __ATOMIC_ACQUIRE) != 0;
}

void fsnotify_reap(void)
{
    pthread_mutex_lock(&fsnotify_lock);
    struct fsn_conn *c = reap_list;
    reap_list = NULL;
    pthread_mutex_unlock(&fsnotify_lock);
    while (c) {
        struct fsn_conn *next = c->hnext;
        inode_put(c->inode);
        free(c);
        c = next;
    }
}

struct fsnotify_mark *fsnotify_find_mark(struct inode *i, struct fsnotify_group *group)
{
    struct fsn_conn *c = conn_of(i);
    for (struct fsnotify_mark *m = c ? c->marks : NULL; m; m = m->next)
        if (m->group == group)
            return m;
    return NULL;
}

int fsnotify_add_mark(struct fsnotify_mark *m, struct inode *i)
{
    struct fsn_conn *c = conn_of(i);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return -ENOMEM;
        inode_get(i);
        c->inode = i;
        i->fsnotify = c;
        c->hnext = *bucket(i);
        *bucket(i) = c;
    }
    m->inode = c->inode;
    m->next = c->marks;
    c->marks = m;
    __atomic_add_fetch(&nr_marks, 1, __ATOMIC_RELEASE);
    return 0;
}

void fsnotify_destroy_mark(struct fsnotify_mark *m)
{
    struct inode *i = m->inode;
    if (!i)
        return;
    struct fsn_conn *c = i->fsnotify;
    for (struct fsnotify_mark **pp = &c->marks; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    m->inode = NULL;
    m->next = NULL;
    __atomic_sub_fetch(&nr_marks, 1, __ATOMIC_RELEASE);
    if (!c->marks) {
        for (struct fsn_conn **pp = bucket(i); *pp; pp = &(*pp)->hnext)
            if (*pp == c) {
                *pp = c->hnext;
                break;
            }
        i->fsnotify = NULL;
        c->hnext = reap_list;
        reap_list = c;
    }
    m->group->ops->freeing_mark(m);
}

/* Hand the event to i's marks (fsnotify_lock held). as_parent: i is the
 * directory of the entry the event is about (marks need EVENT_ON_CHILD);
 * unlinked: the event is about an open file whose name is gone. */
static void send(struct inode *i, uint32_t mask, const char *name, uint32_t cookie, int as_parent,
                 int unlinked)
{
    struct fsn_conn *c = conn_of(i);
    struct fsnotify_mark *m = c ? c->marks : NULL;
    while (m) {
        struct fsnotify_mark *next = m->next;
        if ((!as_parent || (m->mask & FSN_EVENT_ON_CHILD)) &&
            !(unlinked && (m->flags & FSN_MARK_EXCL_UNLINK)) && (mask & m->mask & IN_ALL_EVENTS)) {
            m->group->ops->handle_event(m, mask, name, cookie);
            if (m->flags & FSN_MARK_ONESHOT)
                fsnotify_destroy_mark(m);
        }
        m = next;
    }
}

/* The inode went: IN_DELETE_SELF, then every mark goes (IN_IGNORED). */
static void inode_gone(struct inode *i)
{
    send(i, IN_DELETE_SELF, NULL, 0, 0, 0);
    struct fsn_conn *c;
    while ((c = conn_of(i))) /* freed with the last mark */
        fsnotify_destroy_mark(c->marks);
}

/* The directory of d (a reference) and d's name, or NULL; *unlinked says
 * whether d's name was removed. */
static struct inode *parent_of(struct dentry *d, char *name, int *unlinked)
{
    struct inode *pi = NULL;
    pthread_mutex_lock(&vfs_lock);
    *unlinked = d->deleted;
    if (d->parent) {
        pi = d->parent->inode;
        inode_get(pi);
        strncpy(name, d->name, NAME_MAX_LEN);
        name[NAME_MAX_LEN] = 0;
    }
    pthread_mutex_unlock(&vfs_lock);
    return pi;
}

/* An event about what d names (i): to its directory with the name, then
 * to i itself (Linux's fsnotify_parent). d may be NULL. */
static void notify_entry(struct inode *i, struct dentry *d, uint32_t mask, int path_event)
{
    if (!any_marks())
        return;
    char name[NAME_MAX_LEN + 1];
    int unlinked = 0;
    struct inode *pi = d ? parent_of(d, name, &unlinked) : NULL;
    if (S_ISDIR(i->mode))
        mask |= IN_ISDIR;
    if (!path_event)
        unlinked = 0; /* IN_EXCL_UNLINK is about open files */
    pthread_mutex_lock(&fsnotify_lock);
    if (pi)
        send(pi, mask, name, 0, 1, unlinked);
    send(i, mask, NULL, 0, 0, unlinked);
    pthread_mutex_unlock(&fsnotify_lock);
    if (pi)
        inode_put(pi);
    fsnotify_reap();
}

void fsnotify_path_event(struct inode *i, struct dentry *d, uint32_t mask)
{
    notify_entry(i, d, mask, 1);
}

int fsnotify_watching(void)
{
    return any_marks();
}

void fsnotify_last_close(struct inode *i, struct dentry *d)
{
    if (!d)
        return;
    /* The last user of an unlinked inode: its file's dentry reference is
     * the only one left (the caller drops it next). */
    pthread_mutex_lock(&vfs_lock);
    int last = d->deleted && __atomic_load_n(&d->refs, __ATOMIC_ACQUIRE) == 1;
    pthread_mutex_unlock(&vfs_lock);
    if (!last)
        return;
    pthread_mutex_lock(&fsnotify_lock);
    struct fsn_conn *c = conn_of(i);
    if (c && c->delete_pending)
        inode_gone(i);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}

void fsnotify_change(struct inode *i, struct dentry *d, unsigned valid)
{
    uint32_t mask = 0;
    if (valid & (ATTR_UID | ATTR_GID | ATTR_MODE))
        mask |= IN_ATTRIB;
    if (valid & ATTR_SIZE)
        mask |= IN_MODIFY;
    if ((valid & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME))
        mask |= IN_ATTRIB; /* both times: a utimes call */
    else if (valid & ATTR_ATIME)
        mask |= IN_ACCESS;
    else if (valid & ATTR_MTIME)
        mask |= IN_MODIFY;
    if (mask)
        notify_entry(i, d, mask, 0);
}

void fsnotify_xattr(struct inode *i, struct dentry *d)
{
    notify_entry(i, d, IN_ATTRIB, 0);
}

/* An event on i alone (link count, IN_MOVE_SELF): no IN_ISDIR, as Linux
 * reports self events. fsnotify_lock held. */
static void send_self(struct inode *i, uint32_t mask)
{
    send(i, mask, NULL, 0, 0, 0);
}

static void send_dirent(struct inode *dir, uint32_t mask, const char *name, struct inode *i,
                        uint32_t cookie)
{
    if (S_ISDIR(i->mode))
        mask |= IN_ISDIR;
    send(dir, mask, name, cookie, 0, 0);
}

void fsnotify_create(struct inode *dir, const char *name, struct inode *i)
{
    if (!any_marks())
        return;
    pthread_mutex_lock(&fsnotify_lock);
    send_dirent(dir, IN_CREATE, name, i, 0);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}

void fsnotify_link(struct inode *dir, const char *name, struct inode *i)
{
    if (!any_marks())
        return;
    pthread_mutex_lock(&fsnotify_lock);
    send_self(i, IN_ATTRIB);
    send_dirent(dir, IN_CREATE, name, i, 0);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}

/* Whether i, one of whose names was just removed, still has a link
 * (fsnotify_lock not held: this asks the file system). */
static int links_left(struct inode *i)
{
    if (S_ISDIR(i->mode))
        return 0; /* a removed directory has no name left */
    struct stat st;
    return vfs_getattr(i, &st) == 0 ? st.st_nlink > 0 : 0;
}

/* The name d of i is gone (fsnotify_lock held); left: i still has links.
 * Without links, i goes now (IN_DELETE_SELF) if d has no user but the
 * caller, else at the close of the last file that uses it. */
static void name_gone(struct inode *i, struct dentry *d, int left)
{
    struct fsn_conn *c = conn_of(i);
    if (!c || left)
        return;
    if (__atomic_load_n(&d->refs, __ATOMIC_ACQUIRE) <= 1)
        inode_gone(i);
    else
        c->delete_pending = 1;
}

void fsnotify_remove(struct inode *dir, const char *name, struct dentry *d)
{
    if (!any_marks())
        return;
    struct inode *i = d->inode;
    pthread_mutex_lock(&fsnotify_lock);
    int watched = conn_of(i) != NULL;
    pthread_mutex_unlock(&fsnotify_lock);
    int left = watched ? links_left(i) : 1;
    pthread_mutex_lock(&fsnotify_lock);
    if (!S_ISDIR(i->mode))
        send_self(i, IN_ATTRIB);
    name_gone(i, d, left);
    send_dirent(dir, IN_DELETE, name, i, 0);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}

static uint32_t next_cookie;

void fsnotify_rename(struct inode *odir, const char *oname, struct inode *ndir, const char *nname,
                     struct dentry *moved, struct dentry *target, int exchange)
{
    if (!any_marks())
        return;
    struct inode *src = moved->inode, *ti = target ? target->inode : NULL;
    pthread_mutex_lock(&fsnotify_lock);
    int watched = ti && !exchange && conn_of(ti);
    pthread_mutex_unlock(&fsnotify_lock);
    int left = watched ? links_left(ti) : 1;
    pthread_mutex_lock(&fsnotify_lock);
    uint32_t cookie = ++next_cookie;
    if (!cookie)
        cookie = ++next_cookie;
    send_dirent(odir, IN_MOVED_FROM, oname, src, cookie);
    send_dirent(ndir, IN_MOVED_TO, nname, src, cookie);
    if (ti && !exchange)
        send_self(ti, IN_ATTRIB);
    send_self(src, IN_MOVE_SELF);
    if (ti && exchange) {
        cookie = ++next_cookie;
        if (!cookie)
            cookie = ++next_cookie;
        send_dirent(ndir, IN_MOVED_FROM, nname, ti, cookie);
        send_dirent(odir, IN_MOVED_TO, oname, ti, cookie);
        send_self(ti, IN_MOVE_SELF);
    } else if (ti) {
        name_gone(ti, target, left);
    }
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}
