/* Unit test of hostfs's answers about a tree that other host processes
 * change behind the dentry cache: revalidate (is a cached name still that
 * inode?) and dotdot (may ".." lead from a directory to its cached parent:
 * is that still its host parent, and is it beneath the mounted directory?),
 * for renames inside the tree, moves out of it, removed directories and a
 * directory replaced by a symlink. The VFS side (the walk, d_path) is
 * tested end to end by tests/e2e/rename_escape.sh. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/vfs/vfs.h"

static char top[PATH_MAX / 2]; /* TOP/h is mounted; TOP/out is outside */

static void at(char *buf, const char *rel)
{
    snprintf(buf, PATH_MAX, "%s/%s", top, rel);
}

static void hmkdir(const char *rel)
{
    char p[PATH_MAX];
    at(p, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void hmv(const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    at(a, from);
    at(b, to);
    ck_assert_msg(rename(a, b) == 0, "rename %s %s", from, to);
}

static void hrmdir(const char *rel)
{
    char p[PATH_MAX];
    at(p, rel);
    ck_assert_int_eq(rmdir(p), 0);
}

static void setup(void)
{
    snprintf(top, sizeof(top), "%s/hostfs-unit.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(top));
    hmkdir("h");
    hmkdir("out");
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    ck_assert_int_eq(system(cmd), 0);
}

static struct dentry *mount_h(void)
{
    char p[PATH_MAX];
    at(p, "h");
    struct dentry *r = NULL;
    ck_assert_int_eq(hostfs_mount(p, 0, &r), 0);
    return r;
}

static struct inode *look(struct inode *dir, const char *name)
{
    struct inode *i = NULL;
    ck_assert_int_eq(dir->ops->lookup(dir, name, &i), 0);
    return i;
}

START_TEST(revalidate_names)
{
    hmkdir("h/a");
    struct dentry *root = mount_h();
    struct inode *ri = root->inode, *a = look(ri, "a");
    ck_assert_int_eq(ri->ops->revalidate(ri, "a", a), 1);
    hmv("h/a", "h/a2"); /* renamed inside: the old name is gone */
    ck_assert_int_eq(ri->ops->revalidate(ri, "a", a), 0);
    ck_assert_int_eq(ri->ops->revalidate(ri, "a2", a), 1);
    hmkdir("h/a"); /* another directory under the old name */
    ck_assert_int_eq(ri->ops->revalidate(ri, "a", a), 0);
    inode_put(a);
    dput(root);
}
END_TEST

/* The dotdot tests' tree: h/a/b on the host, h mounted, a and b looked up. */
static struct dentry *root;
static struct inode *ri, *a, *b;

static void mount_ab(void)
{
    hmkdir("h/a");
    hmkdir("h/a/b");
    root = mount_h();
    ri = root->inode;
    a = look(ri, "a");
    b = look(a, "b");
}

static void put_ab(void)
{
    inode_put(b);
    inode_put(a);
    dput(root);
}

START_TEST(dotdot_in_place_and_renamed_inside)
{
    mount_ab();
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    ck_assert_int_eq(a->ops->dotdot(a, "a", ri, ""), 0);
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, "a"), 0);
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, NULL), 0); /* no path: the walk up */
    /* b renamed in its parent: its cached name is stale, its parent is not. */
    hmv("h/a/b", "h/a/b2");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    hmv("h/a", "h/a3");
    ck_assert_int_eq(a->ops->dotdot(a, "a", ri, ""), 0);
    hmv("h/a3", "h/a");
    /* The cached names are stale but a is still beneath the root. */
    hmv("h/a", "h/c");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, "a"), 0);
    /* b moved to another parent inside: its cached parent is not its parent. */
    hmkdir("h/d");
    hmv("h/c/b2", "h/d/b");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), -ENOENT);
    put_ab();
}
END_TEST

START_TEST(dotdot_moved_out)
{
    mount_ab();
    hmv("h/a", "out/a");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), -ENOENT);
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, "a"), -ENOENT);
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, NULL), -ENOENT);
    ck_assert_int_eq(a->ops->dotdot(a, "a", ri, ""), -ENOENT); /* a's parent is out */
    /* The old name made a symlink to where a went: openat2 refuses the
     * symlink, and the walk up from a finds no root. */
    char target[PATH_MAX], link[PATH_MAX];
    at(target, "out/a");
    at(link, "h/a");
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), -ENOENT);
    /* Another directory under the old name: not a. */
    ck_assert_int_eq(unlink(link), 0);
    hmkdir("h/a");
    ck_assert_int_eq(a->ops->dotdot(NULL, NULL, a, "a"), -ENOENT);
    /* Moved back: fine again. */
    hrmdir("h/a");
    hmv("out/a", "h/a");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    put_ab();
}
END_TEST

START_TEST(dotdot_removed)
{
    mount_ab();
    /* A removed directory has no ".." on the host; its parent is checked. */
    hrmdir("h/a/b");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    /* A removed parent: nothing can be made in it; Linux goes there too. */
    hrmdir("h/a");
    ck_assert_int_eq(a->ops->dotdot(b, "b", a, "a"), 0);
    put_ab();
}
END_TEST

UNIT_MAIN("hostfs", "hostfs", setup, teardown, 0, revalidate_names,
          dotdot_in_place_and_renamed_inside, dotdot_moved_out, dotdot_removed)
