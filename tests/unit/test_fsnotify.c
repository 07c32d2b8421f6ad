/* Unit test of the fsnotify hook layer (src/fs/vfs/fsnotify.c) with a
 * recording group on tmpfs inodes: marks found through another struct
 * inode of the same file (as hostfs makes one per lookup), the directory's
 * mark with the entry's name, interest masks, one-shot marks and the
 * freeing of every mark. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "base.h"
#include "fs/vfs/fsnotify.h"
#include "fs/vfs/vfs.h"

static const struct fs_cred cred = { 0, 0 };

/* What the group was told: mask and name of each event, in order. */
static struct {
    uint32_t mask;
    char name[64];
} seen[16];
static int nseen;

static void rec_event(struct fsnotify_mark *m, uint32_t mask, const char *name, uint32_t cookie)
{
    (void)m, (void)cookie;
    ck_assert_int_lt(nseen, 16);
    seen[nseen].mask = mask;
    snprintf(seen[nseen].name, sizeof seen[nseen].name, "%s", name ? name : "");
    nseen++;
}

static void rec_freeing(struct fsnotify_mark *m)
{
    rec_event(m, IN_IGNORED, NULL, 0);
    free(m);
}

static const struct fsnotify_ops rec_ops = { rec_event, rec_freeing };
static struct fsnotify_group group = { &rec_ops };

static struct fsnotify_mark *watch(struct inode *i, uint32_t mask, unsigned flags)
{
    struct fsnotify_mark *m = calloc(1, sizeof(*m));
    ck_assert_ptr_nonnull(m);
    m->group = &group;
    m->mask = mask;
    m->flags = flags;
    pthread_mutex_lock(&fsnotify_lock);
    ck_assert_int_eq(fsnotify_add_mark(m, i), 0);
    pthread_mutex_unlock(&fsnotify_lock);
    return m;
}

static void unwatch(struct fsnotify_mark *m)
{
    pthread_mutex_lock(&fsnotify_lock);
    fsnotify_destroy_mark(m);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_reap();
}

static struct dentry *root;
static struct inode *dir, *file;

static void setup(void)
{
    ck_assert_int_eq(tmpfs_mount(0, 01777, &root), 0);
    dir = root->inode;
    ck_assert_int_eq(dir->ops->mknod(dir, "f", S_IFREG | 0644, 0, &cred, &file), 0);
    nseen = 0;
}

static void teardown(void)
{
    ck_assert_ptr_null(file->fsnotify);
    ck_assert_ptr_null(dir->fsnotify);
    inode_put(file);
    dput(root);
}

/* Inodes as hostfs makes them: one struct per lookup, the file told by
 * the host's device and inode number (getattr). */
struct fake_inode {
    struct inode vfs;
    dev_t dev;
};

static int fake_getattr(struct inode *i, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = container_of(i, struct fake_inode, vfs)->dev;
    st->st_ino = i->ino;
    st->st_mode = i->mode;
    st->st_nlink = 1;
    return 0;
}

static void fake_evict(struct inode *i)
{
    (void)i; /* static */
}

static const struct inode_ops fake_ops = { .getattr = fake_getattr, .evict = fake_evict };

START_TEST(another_struct_inode)
{
    static struct fake_inode a, b, other_dev;
    inode_init(&a.vfs, file->sb, &fake_ops, NULL, 42, S_IFREG | 0644);
    inode_init(&b.vfs, file->sb, &fake_ops, NULL, 42, S_IFREG | 0644);
    inode_init(&other_dev.vfs, file->sb, &fake_ops, NULL, 42, S_IFREG | 0644);
    a.dev = b.dev = 7;
    other_dev.dev = 8;
    /* A second struct inode for the same file finds the marks. */
    struct fsnotify_mark *m = watch(&a.vfs, IN_ATTRIB | IN_MODIFY, 0);
    fsnotify_change(&b.vfs, NULL, ATTR_MODE | ATTR_CTIME);
    fsnotify_change(&b.vfs, NULL, ATTR_SIZE | ATTR_CTIME);
    fsnotify_change(&b.vfs, NULL, ATTR_ATIME | ATTR_CTIME); /* IN_ACCESS: not asked for */
    ck_assert_int_eq(nseen, 2);
    ck_assert_uint_eq(seen[0].mask, IN_ATTRIB);
    ck_assert_uint_eq(seen[1].mask, IN_MODIFY);
    /* The same number on another device is another file. */
    fsnotify_change(&other_dev.vfs, NULL, ATTR_MODE);
    ck_assert_int_eq(nseen, 2);
    /* Adding through the alias finds the same mark. */
    pthread_mutex_lock(&fsnotify_lock);
    ck_assert_ptr_eq(fsnotify_find_mark(&b.vfs, &group), m);
    ck_assert_ptr_null(fsnotify_find_mark(&other_dev.vfs, &group));
    pthread_mutex_unlock(&fsnotify_lock);
    unwatch(m);
    ck_assert_int_eq(nseen, 3);
    ck_assert_uint_eq(seen[2].mask, IN_IGNORED);
    ck_assert_ptr_null(a.vfs.fsnotify);
    ck_assert_int_eq(a.vfs.refs, 1); /* the mark's reference went */
    inode_put(&a.vfs);
    inode_put(&b.vfs);
    inode_put(&other_dev.vfs);
}
END_TEST

START_TEST(directory_entries)
{
    struct fsnotify_mark *m = watch(dir, IN_CREATE | IN_ATTRIB | FSN_EVENT_ON_CHILD, 0);
    fsnotify_create(dir, "g", file);
    fsnotify_link(dir, "h", file); /* IN_ATTRIB on the file: not watched */
    ck_assert_int_eq(nseen, 2);
    ck_assert_uint_eq(seen[0].mask, IN_CREATE);
    ck_assert_str_eq(seen[0].name, "g");
    ck_assert_str_eq(seen[1].name, "h");
    /* A change of the directory itself has IN_ISDIR and no name. */
    fsnotify_change(dir, NULL, ATTR_MODE);
    ck_assert_int_eq(nseen, 3);
    ck_assert_uint_eq(seen[2].mask, IN_ATTRIB | IN_ISDIR);
    ck_assert_str_eq(seen[2].name, "");
    unwatch(m);
}
END_TEST

START_TEST(oneshot)
{
    watch(file, IN_ATTRIB, FSN_MARK_ONESHOT);
    fsnotify_change(file, NULL, ATTR_UID);
    fsnotify_change(file, NULL, ATTR_UID);
    ck_assert_int_eq(nseen, 2);
    ck_assert_uint_eq(seen[0].mask, IN_ATTRIB);
    ck_assert_uint_eq(seen[1].mask, IN_IGNORED);
    fsnotify_reap();
}
END_TEST

START_TEST(two_marks)
{
    static struct fsnotify_group other = { &rec_ops };
    struct fsnotify_mark *a = watch(file, IN_MODIFY, 0);
    struct fsnotify_mark *b = calloc(1, sizeof(*b));
    b->group = &other;
    b->mask = IN_MODIFY;
    pthread_mutex_lock(&fsnotify_lock);
    ck_assert_int_eq(fsnotify_add_mark(b, file), 0);
    ck_assert_ptr_eq(fsnotify_find_mark(file, &other), b);
    ck_assert_ptr_eq(fsnotify_find_mark(file, &group), a);
    pthread_mutex_unlock(&fsnotify_lock);
    fsnotify_change(file, NULL, ATTR_SIZE);
    ck_assert_int_eq(nseen, 2);
    unwatch(a);
    fsnotify_change(file, NULL, ATTR_SIZE);
    ck_assert_int_eq(nseen, 4); /* IN_IGNORED, then b's event */
    unwatch(b);
}
END_TEST

UNIT_MAIN("fsnotify", "fsnotify", setup, teardown, 0, another_struct_inode, directory_entries,
          oneshot, two_marks)
