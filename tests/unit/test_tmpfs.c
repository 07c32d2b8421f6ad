/* Unit test of tmpfs and devfs through their inode and file operations:
 * names (create, lookup, unlink, rmdir, rename in all its forms, link,
 * symlink), link counts, getdents cookies under concurrent change, file
 * data, the size limit, and the devices. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs/file/devices.h"
#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/vfs/vfs.h"

#define P 4096

static const struct fs_cred cred = { 1000, 100 };

static struct dentry *mount_tmp(uint64_t size)
{
    struct dentry *r = NULL;
    ck_assert_int_eq(tmpfs_mount(size, 01777, &r), 0);
    ck_assert_ptr_nonnull(r);
    return r;
}

static struct inode *mk(struct inode *dir, const char *name)
{
    struct inode *i = NULL;
    ck_assert_int_eq(dir->ops->mknod(dir, name, S_IFREG | 0644, 0, &cred, &i), 0);
    return i;
}

static struct inode *mkd(struct inode *dir, const char *name)
{
    struct inode *i = NULL;
    ck_assert_int_eq(dir->ops->mkdir(dir, name, 0755, &cred, &i), 0);
    return i;
}

/* The inode called name (a reference), or NULL. */
static struct inode *look(struct inode *dir, const char *name)
{
    struct inode *i = NULL;
    int r = dir->ops->lookup(dir, name, &i);
    ck_assert(r == 0 || r == -ENOENT);
    return r == 0 ? i : NULL;
}

/* Drops the inode references given. */
static void put_inodes(struct inode *i, ...)
{
    va_list ap;
    va_start(ap, i);
    for (; i; i = va_arg(ap, struct inode *))
        inode_put(i);
    va_end(ap);
}

/* Most tests' tmpfs of 1 MiB (mounted before each, put after it) and its
 * root. */
static struct dentry *mnt;
static struct inode *root;

static void setup(void)
{
    mnt = mount_tmp(1 << 20);
    root = mnt->inode;
}

static void teardown(void)
{
    dput(mnt);
}

#define PUT_ALL(...) put_inodes(__VA_ARGS__, (struct inode *)NULL)

/* The inode called name in dir must be want. */
static void is_at(struct inode *dir, const char *name, struct inode *want)
{
    struct inode *x = look(dir, name);
    ck_assert_ptr_eq(x, want);
    inode_put(x);
}

static struct stat st_of(struct inode *i)
{
    struct stat st;
    ck_assert_int_eq(i->ops->getattr(i, &st), 0);
    return st;
}

static long nlink_of(struct inode *i)
{
    return (long)st_of(i).st_nlink;
}

static struct file *open_file(struct inode *i, int flags)
{
    struct file *f = file_new(i->fops, flags);
    ck_assert_ptr_nonnull(f);
    inode_get(i);
    f->inode = i;
    return f;
}

static struct statfs fs_of(struct inode *i)
{
    struct statfs s;
    ck_assert_int_eq(i->sb->type->statfs(i->sb, &s), 0);
    return s;
}

/* getdents into an array of names. */
struct collect {
    struct dir_context ctx;
    int n, max;
    char names[512][32];
    uint64_t ino[512];
    unsigned type[512];
};

static int collect_emit(struct dir_context *ctx, const char *name, size_t len, uint64_t ino,
                        unsigned type)
{
    struct collect *c = (struct collect *)ctx;
    if (c->n >= c->max)
        return 1;
    ck_assert_uint_lt(len, sizeof(c->names[0]));
    memcpy(c->names[c->n], name, len);
    c->names[c->n][len] = 0;
    c->ino[c->n] = ino;
    c->type[c->n] = type;
    c->n++;
    return 0;
}

static int list_dir(struct inode *dir, struct collect *c)
{
    memset(c, 0, sizeof(*c));
    c->ctx.emit = collect_emit;
    c->max = 512;
    struct file *f = open_file(dir, O_RDONLY | O_DIRECTORY);
    int r = f->ops->iterate(f, &c->ctx);
    file_put(f);
    return r;
}

static int has_name(const struct collect *c, const char *name)
{
    int k = 0;
    for (int j = 0; j < c->n; j++)
        k += strcmp(c->names[j], name) == 0;
    return k;
}

START_TEST(mount_and_root)
{
    struct stat st = st_of(root);
    ck_assert_uint_eq(st.st_ino, 1);
    ck_assert_uint_eq(st.st_mode, S_IFDIR | 01777);
    ck_assert_int_eq(st.st_nlink, 2);
    ck_assert_uint_eq(st.st_dev, root->sb->dev);
    ck_assert_int_eq(st.st_size, 40);
    ck_assert_str_eq(root->sb->type->name, "tmpfs");
    ck_assert_str_eq(root->sb->options, "size=1024k,inode64");
    struct statfs s = fs_of(root);
    ck_assert_uint_eq(s.f_type, 0x01021994);
    ck_assert_int_eq(s.f_bsize, 4096);
    ck_assert_uint_eq(s.f_blocks, 256);
    ck_assert_uint_eq(s.f_bfree, 256);
    ck_assert_int_eq(s.f_namelen, 255);
    ck_assert_uint_gt(s.f_files, 0);
    ck_assert_uint_eq(s.f_ffree, s.f_files - 1);
    struct collect c;
    ck_assert_int_eq(list_dir(root, &c), 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(c.names[0], ".");
    ck_assert_str_eq(c.names[1], "..");
    ck_assert_uint_eq(c.ino[1], 1); /* the root's ".." is itself */
}
END_TEST

START_TEST(create_lookup_unlink)
{
    struct inode *a = mk(root, "a"), *x;
    struct stat st = st_of(a);
    assert_new_stat(&st, S_IFREG | 0644, 1000, 100);
    ck_assert_int_eq(st.st_blocks, 0);
    ck_assert_uint_eq(st.st_dev, root->sb->dev);
    ck_assert_uint_gt(st.st_ino, 1);
    ck_assert_int_eq(st_of(root).st_size, 60);
    ck_assert_ptr_eq(look(root, "a"), a);
    inode_put(a);
    ck_assert_ptr_null(look(root, "b"));
    ck_assert_int_eq(root->ops->mknod(root, "a", S_IFREG | 0600, 0, &cred, &x), -EEXIST);
    ck_assert_int_eq(root->ops->mkdir(root, "a", 0700, &cred, &x), -EEXIST);
    struct inode *d = mkd(root, "d");
    ck_assert_int_eq(root->ops->unlink(root, "d", d), -EISDIR);
    struct inode *b = mk(root, "b");
    ck_assert_int_eq(root->ops->unlink(root, "a", b), -ENOENT); /* not the victim named */
    inode_put(b);
    ck_assert_int_eq(root->ops->unlink(root, "a", a), 0);
    ck_assert_int_eq(nlink_of(a), 0);
    ck_assert_ptr_null(look(root, "a"));
    ck_assert_int_eq(root->ops->unlink(root, "a", a), -ENOENT);
    inode_put(a);
    inode_put(d);
    /* A cached inode with no references survives until unlinked. */
    inode_put(mk(root, "c"));
    inode_put(look(root, "c"));
    inode_put(look(root, "c"));
    uint64_t before = fs_of(root).f_ffree;
    x = look(root, "c");
    ck_assert_int_eq(root->ops->unlink(root, "c", x), 0);
    inode_put(x);
    ck_assert_uint_eq(fs_of(root).f_ffree, before + 1);
}
END_TEST

START_TEST(mkdir_rmdir_nlink)
{
    struct inode *a = mkd(root, "a");
    ck_assert_int_eq(nlink_of(root), 3);
    ck_assert_int_eq(nlink_of(a), 2);
    ck_assert_uint_eq(st_of(a).st_mode, S_IFDIR | 0755);
    struct inode *b = mkd(a, "b");
    ck_assert_int_eq(nlink_of(a), 3);
    struct inode *f = mk(a, "f");
    ck_assert_int_eq(nlink_of(a), 3); /* files add no link */
    ck_assert_int_eq(root->ops->rmdir(root, "a", a), -ENOTEMPTY);
    ck_assert_int_eq(a->ops->rmdir(a, "f", f), -ENOTDIR);
    ck_assert_int_eq(a->ops->unlink(a, "f", f), 0);
    ck_assert_int_eq(root->ops->rmdir(root, "a", a), -ENOTEMPTY);
    ck_assert_int_eq(a->ops->rmdir(a, "b", b), 0);
    ck_assert_int_eq(nlink_of(b), 0);
    ck_assert_int_eq(nlink_of(a), 2);
    ck_assert_int_eq(root->ops->rmdir(root, "a", a), 0);
    ck_assert_int_eq(nlink_of(root), 2);
    ck_assert_int_eq(nlink_of(a), 0);
    /* A removed directory takes no new names and lists nothing. */
    struct inode *x;
    ck_assert_int_eq(a->ops->mknod(a, "g", S_IFREG | 0644, 0, &cred, &x), -ENOENT);
    ck_assert_int_eq(a->ops->mkdir(a, "g", 0755, &cred, &x), -ENOENT);
    ck_assert_ptr_null(look(a, "b"));
    struct collect c;
    ck_assert_int_eq(list_dir(a, &c), -ENOENT);
    PUT_ALL(f, b, a);
}
END_TEST

START_TEST(rename_plain)
{
    struct inode *f = mk(root, "f"), *d1 = mkd(root, "d1"), *d2 = mkd(root, "d2");
    /* Within a directory. */
    ck_assert_int_eq(root->ops->rename(root, "f", root, "g", 0, &cred), 0);
    ck_assert_ptr_null(look(root, "f"));
    is_at(root, "g", f);
    ck_assert_int_eq(root->ops->rename(root, "nope", root, "h", 0, &cred), -ENOENT);
    /* Across directories. */
    ck_assert_int_eq(root->ops->rename(root, "g", d1, "f", 0, &cred), 0);
    is_at(d1, "f", f);
    ck_assert_int_eq(nlink_of(d1), 2);
    /* A directory moving changes both parents' links and its "..". */
    ck_assert_int_eq(root->ops->rename(root, "d2", d1, "d2", 0, &cred), 0);
    ck_assert_int_eq(nlink_of(root), 3);
    ck_assert_int_eq(nlink_of(d1), 3);
    struct collect c;
    ck_assert_int_eq(list_dir(d2, &c), 0);
    ck_assert_str_eq(c.names[1], "..");
    ck_assert_uint_eq(c.ino[1], d1->ino);
    /* Not into itself. */
    ck_assert_int_eq(root->ops->rename(root, "d1", d2, "x", 0, &cred), -EINVAL);
    /* Same inode under both names: nothing happens. */
    ck_assert_int_eq(d1->ops->link(f, d1, "f2"), 0);
    ck_assert_int_eq(d1->ops->rename(d1, "f", d1, "f2", 0, &cred), 0);
    ck_assert_int_eq(nlink_of(f), 2);
    ck_assert_int_eq(d1->ops->rename(d1, "f", d1, "f", 0, &cred), 0);
    is_at(d1, "f", f);
    PUT_ALL(f, d1, d2);
}
END_TEST

START_TEST(rename_replace)
{
    struct inode *a = mk(root, "a"), *b = mk(root, "b");
    /* NOREPLACE refuses, plain replaces: the old target loses its link. */
    ck_assert_int_eq(root->ops->rename(root, "a", root, "b", RENAME_NOREPLACE, &cred), -EEXIST);
    ck_assert_int_eq(root->ops->rename(root, "a", root, "c", RENAME_NOREPLACE, &cred), 0);
    ck_assert_int_eq(root->ops->rename(root, "c", root, "b", 0, &cred), 0);
    ck_assert_int_eq(nlink_of(b), 0);
    ck_assert_int_eq(nlink_of(a), 1);
    is_at(root, "b", a);
    ck_assert_ptr_null(look(root, "c"));
    /* Type rules, checked again. */
    struct inode *d = mkd(root, "d"), *e = mkd(root, "e"), *sub = mkd(e, "sub");
    ck_assert_int_eq(root->ops->rename(root, "b", root, "d", 0, &cred), -EISDIR);
    ck_assert_int_eq(root->ops->rename(root, "d", root, "b", 0, &cred), -ENOTDIR);
    /* A directory over a non-empty one: ENOTEMPTY; over an empty one: replaced. */
    ck_assert_int_eq(root->ops->rename(root, "d", root, "e", 0, &cred), -ENOTEMPTY);
    ck_assert_int_eq(nlink_of(root), 4);
    ck_assert_int_eq(e->ops->rename(e, "sub", root, "d", 0, &cred), 0);
    ck_assert_int_eq(nlink_of(d), 0);
    ck_assert_int_eq(nlink_of(e), 2);
    ck_assert_int_eq(nlink_of(root), 4); /* d gone, sub arrived */
    is_at(root, "d", sub);
    /* Within one directory, over an empty directory. */
    ck_assert_int_eq(root->ops->rename(root, "e", root, "d", 0, &cred), 0);
    ck_assert_int_eq(nlink_of(root), 3);
    ck_assert_int_eq(nlink_of(sub), 0);
    PUT_ALL(a, b, d, e, sub);
}
END_TEST

START_TEST(rename_exchange)
{
    struct inode *d1 = mkd(root, "d1"), *d2 = mkd(root, "d2");
    struct inode *f = mk(d1, "f"), *sub = mkd(d2, "sub");
    ck_assert_int_eq(root->ops->rename(root, "d1", root, "none", RENAME_EXCHANGE, &cred), -ENOENT);
    ck_assert_int_eq(
        root->ops->rename(root, "d1", root, "d2", RENAME_EXCHANGE | RENAME_NOREPLACE, &cred),
        -EINVAL);
    /* A file and a directory trade places across directories. */
    ck_assert_int_eq(d1->ops->rename(d1, "f", d2, "sub", RENAME_EXCHANGE, &cred), 0);
    is_at(d1, "f", sub);
    is_at(d2, "sub", f);
    ck_assert_int_eq(nlink_of(d1), 3);
    ck_assert_int_eq(nlink_of(d2), 2);
    struct collect c;
    ck_assert_int_eq(list_dir(sub, &c), 0);
    ck_assert_uint_eq(c.ino[1], d1->ino);
    /* Two directories: both keep their links, their ".." swap. */
    ck_assert_int_eq(root->ops->rename(root, "d1", root, "d2", RENAME_EXCHANGE, &cred), 0);
    is_at(root, "d1", d2);
    ck_assert_int_eq(nlink_of(root), 4);
    ck_assert_int_eq(d1->ops->rename(d1, "f", d2, "sub", RENAME_EXCHANGE, &cred),
                     0); /* sub back into d2 */
    ck_assert_int_eq(list_dir(sub, &c), 0);
    ck_assert_uint_eq(c.ino[1], d2->ino);
    ck_assert_int_eq(nlink_of(d1), 2);
    ck_assert_int_eq(nlink_of(d2), 3);
    /* Not a directory with its own descendant. */
    ck_assert_int_eq(root->ops->rename(root, "d1", d2, "sub", RENAME_EXCHANGE, &cred), -EINVAL);
    PUT_ALL(d1, d2, f, sub);
}
END_TEST

START_TEST(links_and_symlinks)
{
    struct inode *f = mk(root, "f"), *d = mkd(root, "d"), *x;
    ck_assert_int_eq(root->ops->link(f, d, "g"), 0);
    ck_assert_int_eq(nlink_of(f), 2);
    ck_assert_int_eq(root->ops->link(f, d, "g"), -EEXIST);
    ck_assert_int_eq(root->ops->link(d, root, "dd"), -EPERM);
    is_at(d, "g", f);
    ck_assert_int_eq(root->ops->unlink(root, "f", f), 0);
    ck_assert_int_eq(nlink_of(f), 1);
    ck_assert_int_eq(d->ops->unlink(d, "g", f), 0);
    ck_assert_int_eq(nlink_of(f), 0);
    ck_assert_int_eq(root->ops->link(f, root, "back"), -ENOENT);
    inode_put(f);

    struct inode *l;
    ck_assert_int_eq(root->ops->symlink(root, "l", "/some/where", &cred, &l), 0);
    struct stat st = st_of(l);
    ck_assert_uint_eq(st.st_mode, S_IFLNK | 0777);
    ck_assert_int_eq(st.st_size, 11);
    ck_assert_ptr_null(l->fops);
    char buf[64];
    ck_assert_int_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
    ck_assert(memcmp(buf, "/some/where", 11) == 0);
    ck_assert_int_eq(l->ops->readlink(l, buf, 4), 4);
    ck_assert(memcmp(buf, "/som", 4) == 0);
    ck_assert_int_eq(root->ops->symlink(root, "l", "x", &cred, &x), -EEXIST);
    PUT_ALL(l, d);
}
END_TEST

START_TEST(special_nodes)
{
    struct inode *i;
    ck_assert_int_eq(root->ops->mknod(root, "fifo", S_IFIFO | 0600, 0, &cred, &i), 0);
    ck_assert_uint_eq(st_of(i).st_mode, S_IFIFO | 0600);
    ck_assert_ptr_eq(i->fops, &fifo_fops); /* init_special_inode */
    inode_put(i);
    ck_assert_int_eq(root->ops->mknod(root, "sock", S_IFSOCK | 0600, 0, &cred, &i), 0);
    ck_assert_ptr_nonnull(i->fops);
    ck_assert_int_eq(i->fops->open(NULL, O_RDONLY), -ENXIO);
    inode_put(i);
    ck_assert_int_eq(root->ops->mknod(root, "null", S_IFCHR | 0666, makedev(1, 3), &cred, &i), 0);
    struct stat st = st_of(i);
    ck_assert_uint_eq(st.st_mode, S_IFCHR | 0666);
    ck_assert_uint_eq(st.st_rdev, makedev(1, 3));
    ck_assert_uint_eq(i->rdev, makedev(1, 3));
    ck_assert_ptr_eq(i->fops, chrdev_fops(makedev(1, 3))); /* init_special_inode */
    inode_put(i);
    ck_assert_int_eq(root->ops->mknod(root, "mem", S_IFCHR | 0600, makedev(1, 1), &cred, &i),
                     -EPERM);
    ck_assert_int_eq(root->ops->mknod(root, "sda", S_IFBLK | 0600, makedev(8, 0), &cred, &i),
                     -EPERM);
    ck_assert_ptr_null(look(root, "mem"));
}
END_TEST

START_TEST(getdents_cookies)
{
    struct inode *d = mkd(root, "d");
    char name[32];
    for (int k = 0; k < 100; k++) {
        snprintf(name, sizeof(name), "f%d", k);
        inode_put(mk(d, name));
    }
    struct collect c;
    ck_assert_int_eq(list_dir(d, &c), 0);
    ck_assert_int_eq(c.n, 102);
    ck_assert_str_eq(c.names[0], ".");
    ck_assert_str_eq(c.names[1], "..");
    ck_assert_uint_eq(c.ino[1], root->ino);
    ck_assert_uint_eq(c.type[0], DT_DIR);
    ck_assert_uint_eq(c.type[2], DT_REG);
    ck_assert_str_eq(c.names[2], "f0"); /* creation order */
    ck_assert_str_eq(c.names[101], "f99");

    /* Ten at a time, changing the directory between batches. */
    struct file *f = open_file(d, O_RDONLY | O_DIRECTORY);
    struct collect all;
    memset(&all, 0, sizeof(all));
    all.ctx.emit = collect_emit;
    all.ctx.pos = 0;
    int batches = 0;
    for (;;) {
        int before = all.n;
        all.max = all.n + 10;
        ck_assert_int_eq(f->ops->iterate(f, &all.ctx), 0);
        if (all.n == before)
            break;
        if (++batches == 3) {
            /* Behind the cursor (already seen), ahead of it, and new. */
            for (int k = 0; k < 100; k += 2) {
                snprintf(name, sizeof(name), "f%d", k);
                struct inode *v = look(d, name);
                ck_assert_int_eq(d->ops->unlink(d, name, v), 0);
                inode_put(v);
            }
            inode_put(mk(d, "new"));
            /* Renamed in place keeps its position: not listed twice. */
            ck_assert_int_eq(d->ops->rename(d, "f1", d, "renamed1", 0, &cred), 0);
        }
    }
    file_put(f);
    /* f0..f27 seen before the removals; the even ones after that are skipped. */
    for (int k = 0; k < 100; k++) {
        snprintf(name, sizeof(name), "f%d", k);
        int expect = k < 28 || (k & 1);
        ck_assert_msg(has_name(&all, name) == expect, "%s seen %d times", name,
                      has_name(&all, name));
    }
    ck_assert_int_eq(has_name(&all, "f1") + has_name(&all, "renamed1"), 1);
    ck_assert_int_eq(has_name(&all, "new"), 1);
    ck_assert_int_eq(has_name(&all, "."), 1);
    ck_assert_int_eq(has_name(&all, ".."), 1);

    /* Seeking back to a saved position resumes there. */
    ck_assert_int_eq(list_dir(d, &c), 0);
    ck_assert_int_eq(c.n, 2 + 50 + 1);
    f = open_file(d, O_RDONLY);
    struct collect part;
    memset(&part, 0, sizeof(part));
    part.ctx.emit = collect_emit;
    part.max = 5;
    ck_assert_int_eq(f->ops->iterate(f, &part.ctx), 0);
    off_t mark = part.ctx.pos;
    part.max = 6;
    ck_assert_int_eq(f->ops->iterate(f, &part.ctx), 0);
    char sixth[32];
    strcpy(sixth, part.names[5]);
    part.n = 0;
    part.max = 1;
    part.ctx.pos = mark;
    ck_assert_int_eq(f->ops->iterate(f, &part.ctx), 0);
    ck_assert_str_eq(part.names[0], sixth);
    ck_assert_int_eq(f->ops->llseek(f, 0, SEEK_END), -EINVAL);
    ck_assert_int_eq(f->ops->llseek(f, 7, SEEK_SET), 7);
    char b[4];
    off_t pos = 0;
    ck_assert_int_eq(f->ops->read(f, b, sizeof(b), &pos), -EISDIR);
    file_put(f);
    inode_put(d);
}
END_TEST

START_TEST(file_data)
{
    struct inode *i = mk(root, "f");
    struct file *f = open_file(i, O_RDWR);
    char buf[64];
    static char big_a[2 * P];
    memset(big_a, 'a', sizeof(big_a));
    off_t pos = 0;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
    struct stat st0 = st_of(i);
    usleep(2000);
    ck_assert_int_eq(f->ops->write(f, "hello world", 11, &pos), 11);
    ck_assert_int_eq(pos, 11);
    struct stat st = st_of(i);
    ck_assert_int_eq(st.st_size, 11);
    ck_assert_int_eq(st.st_blocks, 8);
    ck_assert(st.st_mtim.tv_sec > st0.st_mtim.tv_sec || (st.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
                                                         st.st_mtim.tv_nsec > st0.st_mtim.tv_nsec));
    pos = 6;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 5);
    ck_assert(memcmp(buf, "world", 5) == 0);
    ck_assert_int_eq(pos, 11);
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
    pos = 100;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
    pos = -1;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), -EINVAL);

    /* O_APPEND goes to the end whatever the position. */
    struct file *a = open_file(i, O_WRONLY | O_APPEND);
    pos = 0;
    ck_assert_int_eq(a->ops->write(a, "!", 1, &pos), 1);
    ck_assert_int_eq(pos, 12);
    file_put(a);
    pos = 0;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 12);
    ck_assert(memcmp(buf, "hello world!", 12) == 0);

    /* Truncate down and up: the tail reads as zeros. */
    struct iattr ia = { .valid = ATTR_SIZE, .size = 5 };
    ck_assert_int_eq(i->ops->setattr(i, &ia), 0);
    ia.size = 8;
    ck_assert_int_eq(i->ops->setattr(i, &ia), 0);
    pos = 0;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 8);
    ck_assert(memcmp(buf, "hello\0\0\0", 8) == 0);
    ia.size = -1;
    ck_assert_int_eq(i->ops->setattr(i, &ia), -EINVAL);

    /* The memfd backs mmap and has the file's size. */
    int fd = f->ops->mmap_fd(f);
    ck_assert_int_ge(fd, 0);
    struct stat hs;
    ck_assert_int_eq(fstat(fd, &hs), 0);
    ck_assert_int_eq(hs.st_size, 8);

    /* Holes: a write far out leaves one. */
    pos = 3 * P;
    ck_assert_int_eq(f->ops->write(f, "x", 1, &pos), 1);
    f->pos = 0;
    ck_assert_int_eq(f->ops->llseek(f, 0, SEEK_DATA), 0);
    ck_assert_int_eq(f->ops->llseek(f, 0, SEEK_HOLE), P);
    ck_assert_int_eq(f->pos, P);
    ck_assert_int_eq(f->ops->llseek(f, P, SEEK_DATA), 3 * P);
    ck_assert_int_eq(f->ops->llseek(f, 3 * P + 1, SEEK_DATA), -ENXIO);
    ck_assert_int_eq(f->ops->llseek(f, 0, SEEK_END), 3 * P + 1);
    ck_assert_int_eq(f->ops->llseek(f, -2, SEEK_CUR), 3 * P - 1);

    /* fallocate: KEEP_SIZE adds pages, not size; other modes are refused. */
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 8 * P), 0);
    st = st_of(i);
    ck_assert_int_eq(st.st_size, 3 * P + 1);
    ck_assert_int_eq(st.st_blocks, 8 * P / 512);
    ck_assert_int_eq(f->ops->fallocate(f, 0, 0, 9 * P + 10), 0);
    ck_assert_int_eq(st_of(i).st_size, 9 * P + 10);
    ck_assert_int_eq(st_of(i).st_blocks, 10 * P / 512);
    pos = 0;
    ck_assert_int_eq(f->ops->write(f, big_a, 2 * P, &pos), 2 * P);
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, P), 0);
    pos = P - 1;
    ck_assert_int_eq(f->ops->read(f, buf, 2, &pos), 2);
    ck_assert(buf[0] == 0 && buf[1] == 'a');
    ck_assert_int_eq(st_of(i).st_size, 9 * P + 10);
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, P), -EOPNOTSUPP);
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_ZERO_RANGE, 0, P), -EOPNOTSUPP);
    ck_assert_int_eq(f->ops->fallocate(f, 0, 0, 0), -EINVAL);
    ia.size = 0;
    ck_assert_int_eq(i->ops->setattr(i, &ia), 0);
    ck_assert_int_eq(st_of(i).st_blocks, 0);
    ck_assert_int_eq(fs_of(root).f_bfree, 256);

    /* Attributes. */
    struct stat before = st_of(i);
    usleep(2000);
    struct iattr ch = {
        .valid = ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_CTIME, .mode = 04711, .uid = 7, .gid = 8
    };
    ck_assert_int_eq(i->ops->setattr(i, &ch), 0);
    st = st_of(i);
    ck_assert_uint_eq(st.st_mode, S_IFREG | 04711);
    ck_assert_int_eq(st.st_uid, 7);
    ck_assert_int_eq(st.st_gid, 8);
    ck_assert_int_eq(i->uid, 7);
    ck_assert(st.st_ctim.tv_sec != before.st_ctim.tv_sec ||
              st.st_ctim.tv_nsec != before.st_ctim.tv_nsec);
    ck_assert(st.st_mtim.tv_sec == before.st_mtim.tv_sec &&
              st.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    struct iattr tm = { .valid = ATTR_ATIME | ATTR_MTIME,
                        .atime = { 1000, 5 },
                        .mtime = { 2000, 6 } };
    ck_assert_int_eq(i->ops->setattr(i, &tm), 0);
    st = st_of(i);
    ck_assert_int_eq(st.st_atim.tv_sec, 1000);
    ck_assert_int_eq(st.st_atim.tv_nsec, 5);
    ck_assert_int_eq(st.st_mtim.tv_sec, 2000);
    struct inode *d = mkd(root, "dir");
    ia.size = 0;
    ck_assert_int_eq(d->ops->setattr(d, &ia), -EISDIR);
    inode_put(d);

    /* Unlinked while open: the data stays until the last reference. */
    pos = 0;
    ck_assert_int_eq(f->ops->write(f, "data", 4, &pos), 4);
    ck_assert_int_eq(root->ops->unlink(root, "f", i), 0);
    inode_put(i);
    pos = 0;
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 4);
    ck_assert_int_eq(fs_of(root).f_bfree, 255);
    file_put(f);
    ck_assert_int_eq(fs_of(root).f_bfree, 256);
}
END_TEST

START_TEST(size_limit)
{
    struct dentry *r = mount_tmp(4 * P);
    struct inode *root = r->inode, *i = mk(root, "f"), *j = mk(root, "g");
    struct file *f = open_file(i, O_RDWR), *g = open_file(j, O_RDWR);
    static char big[8 * P];
    memset(big, 'a', sizeof(big));
    off_t pos = 0;
    ck_assert_int_eq(g->ops->write(g, big, 100, &pos), 100); /* one page */
    pos = 0;
    ck_assert_int_eq(f->ops->write(f, big, 2 * P + 100, &pos), 2 * P + 100);
    ck_assert_int_eq(fs_of(root).f_bfree, 0);
    /* Only the rest of the last page fits: a short write. */
    ck_assert_int_eq(f->ops->write(f, big, P, &pos), P - 100);
    ck_assert_int_eq(pos, 3 * P);
    ck_assert_int_eq(f->ops->write(f, big, 1, &pos), -ENOSPC);
    ck_assert_int_eq(st_of(i).st_size, 3 * P);
    /* Rewriting what is allocated is fine. */
    pos = 0;
    ck_assert_int_eq(f->ops->write(f, big, 3 * P, &pos), 3 * P);
    /* Growing the apparent size costs nothing, as on shmem: a huge
     * truncate succeeds and leaves the blocks as they are. */
    struct iattr ia = { .valid = ATTR_SIZE, .size = (off_t)1 << 40 };
    ck_assert_int_eq(i->ops->setattr(i, &ia), 0);
    ck_assert_int_eq(st_of(i).st_size, (off_t)1 << 40);
    ck_assert_int_eq(st_of(i).st_blocks, 3 * P / 512);
    ck_assert_int_eq(fs_of(root).f_bfree, 0);
    /* Rewriting allocated pages near the end of the room is fine, a
     * write into a hole is not. */
    pos = P;
    ck_assert_int_eq(f->ops->write(f, big, 2 * P, &pos), 2 * P);
    pos = 20 * P;
    ck_assert_int_eq(f->ops->write(f, big, 1, &pos), -ENOSPC);
    /* fallocate needs room for the pages it adds, all or nothing. */
    ck_assert_int_eq(f->ops->fallocate(f, 0, 0, 4 * P), -ENOSPC);
    ck_assert_int_eq(f->ops->fallocate(f, 0, 0, 3 * P), 0); /* all there already */
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_KEEP_SIZE, 3 * P, 1), -ENOSPC);
    ck_assert_int_eq(st_of(i).st_blocks, 3 * P / 512);
    ck_assert_int_eq(fs_of(root).f_bfree, 0);
    /* Punching a hole gives its page back, for a write elsewhere. */
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, P, P), 0);
    ck_assert_int_eq(st_of(i).st_blocks, 2 * P / 512);
    ck_assert_int_eq(fs_of(root).f_bfree, 1);
    pos = 100 * P + 10;
    ck_assert_int_eq(f->ops->write(f, big, 2 * P, &pos), P - 10); /* one page fits */
    ck_assert_int_eq(fs_of(root).f_bfree, 0);
    /* Freeing space elsewhere lets it grow. */
    ia.size = 0;
    ck_assert_int_eq(j->ops->setattr(j, &ia), 0);
    ck_assert_int_eq(fs_of(root).f_bfree, 1);
    ck_assert_int_eq(f->ops->fallocate(f, FALLOC_FL_KEEP_SIZE, P, P), 0);
    ck_assert_int_eq(fs_of(root).f_bfree, 0);
    /* Shrinking gives back the pages past the new end. */
    ia.size = 2 * P;
    ck_assert_int_eq(i->ops->setattr(i, &ia), 0);
    ck_assert_int_eq(st_of(i).st_blocks, 2 * P / 512);
    ck_assert_int_eq(fs_of(root).f_bfree, 2);
    pos = 10 * P;
    ck_assert_int_eq(g->ops->write(g, big, 1, &pos), 1);
    ck_assert_int_eq(st_of(j).st_size, 10 * P + 1);
    ck_assert_int_eq(fs_of(root).f_bfree, 1);
    file_put(f);
    file_put(g);
    ck_assert_int_eq(root->ops->unlink(root, "f", i), 0);
    inode_put(i);
    inode_put(j);
    ck_assert_int_eq(fs_of(root).f_bfree, 3); /* g keeps its page */
    dput(r);
}
END_TEST

static void *append_worker(void *arg)
{
    struct inode *i = arg;
    struct file *f = open_file(i, O_WRONLY | O_APPEND);
    char rec[100];
    memset(rec, 'r', sizeof(rec));
    for (int k = 0; k < 200; k++) {
        off_t pos = 0;
        ck_assert_int_eq(f->ops->write(f, rec, sizeof(rec), &pos), 100);
    }
    file_put(f);
    return NULL;
}

struct churn {
    struct inode *dir;
    int id;
};

static void *churn_worker(void *arg)
{
    struct churn *c = arg;
    char name[32];
    for (int k = 0; k < 300; k++) {
        snprintf(name, sizeof(name), "t%d-%d", c->id, k % 10);
        struct inode *i;
        int r = c->dir->ops->mknod(c->dir, name, S_IFREG | 0600, 0, &cred, &i);
        if (r == 0) {
            inode_put(i);
        } else {
            ck_assert_int_eq(r, -EEXIST);
            struct inode *v = look(c->dir, name);
            if (v) {
                ck_assert_int_eq(c->dir->ops->unlink(c->dir, name, v), 0);
                inode_put(v);
            }
        }
    }
    return NULL;
}

START_TEST(concurrency)
{
    struct dentry *r = mount_tmp(0);
    struct inode *root = r->inode, *i = mk(root, "log");
    pthread_t th[4];
    for (int k = 0; k < 4; k++)
        pthread_create(&th[k], NULL, append_worker, i);
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    ck_assert_int_eq(st_of(i).st_size, 4 * 200 * 100);
    inode_put(i);

    struct inode *d = mkd(root, "d");
    struct churn cs[3];
    for (int k = 0; k < 3; k++) {
        cs[k].dir = d;
        cs[k].id = k;
        pthread_create(&th[k], NULL, churn_worker, &cs[k]);
    }
    /* Listings while it churns: never a name twice. */
    for (int n = 0; n < 50; n++) {
        struct collect c;
        ck_assert_int_eq(list_dir(d, &c), 0);
        for (int a = 0; a < c.n; a++)
            ck_assert_int_eq(has_name(&c, c.names[a]), 1);
    }
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    inode_put(d);
    dput(r);
}
END_TEST

START_TEST(devfs_population)
{
    struct dentry *r = NULL;
    ck_assert_int_eq(devfs_mount(&r), 0);
    struct inode *root = r->inode;
    ck_assert_uint_eq(st_of(root).st_mode, S_IFDIR | 0755);
    ck_assert_uint_eq(fs_of(root).f_type, 0x01021994);
    ck_assert_str_eq(devfs_type.name, "devtmpfs");
    ck_assert_uint_eq(devfs_type.magic, 0x01021994);
    static const struct {
        const char *name;
        unsigned ma, mi;
    } devs[] = { { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
                 { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
    for (size_t k = 0; k < sizeof(devs) / sizeof(devs[0]); k++) {
        struct inode *i = look(root, devs[k].name);
        ck_assert_ptr_nonnull(i);
        struct stat st = st_of(i);
        ck_assert_uint_eq(st.st_mode, S_IFCHR | 0666);
        ck_assert_uint_eq(st.st_rdev, makedev(devs[k].ma, devs[k].mi));
        ck_assert_int_eq(st.st_uid, 0);
        ck_assert_ptr_nonnull(chrdev_fops(st.st_rdev));
        inode_put(i);
    }
    static const struct {
        const char *name, *target;
    } links[] = { { "fd", "/proc/self/fd" },
                  { "stdin", "/proc/self/fd/0" },
                  { "stdout", "/proc/self/fd/1" },
                  { "stderr", "/proc/self/fd/2" },
                  { "ptmx", "pts/ptmx" } };
    for (size_t k = 0; k < sizeof(links) / sizeof(links[0]); k++) {
        struct inode *i = look(root, links[k].name);
        ck_assert_ptr_nonnull(i);
        char buf[64];
        int n = i->ops->readlink(i, buf, sizeof(buf));
        ck_assert_int_eq(n, (int)strlen(links[k].target));
        ck_assert(memcmp(buf, links[k].target, (size_t)n) == 0);
        inode_put(i);
    }
    struct inode *shm = look(root, "shm"), *pts = look(root, "pts");
    ck_assert_uint_eq(st_of(shm).st_mode, S_IFDIR | 01777);
    ck_assert_uint_eq(st_of(pts).st_mode, S_IFDIR | 0755);
    ck_assert_int_eq(nlink_of(root), 4);
    struct collect c;
    ck_assert_int_eq(list_dir(pts, &c), 0);
    ck_assert_int_eq(c.n, 2);
    inode_put(shm);
    inode_put(pts);
    ck_assert_int_eq(list_dir(root, &c), 0);
    ck_assert_int_eq(c.n, 2 + 6 + 5 + 2);
    dput(r);
}
END_TEST

static struct file *open_dev(unsigned ma, unsigned mi)
{
    const struct file_ops *ops = chrdev_fops(makedev(ma, mi));
    ck_assert_ptr_nonnull(ops);
    struct file *f = file_new(ops, O_RDWR);
    ck_assert_ptr_nonnull(f);
    return f;
}

START_TEST(device_ops)
{
    char buf[256];
    off_t pos = 0;
    ck_assert_ptr_null(chrdev_fops(makedev(1, 1)));
    ck_assert_ptr_null(chrdev_fops(makedev(5, 1)));
    ck_assert_ptr_null(chrdev_fops(makedev(4, 0)));

    struct file *f = open_dev(1, 3); /* null */
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
    ck_assert_int_eq(f->ops->write(f, "abc", 3, &pos), 3);
    ck_assert_int_eq(f->ops->llseek(f, 100, SEEK_SET), 0);
    ck_assert_ptr_null(f->ops->mmap_fd);
    ck_assert(!dev_is_zero(f));
    file_put(f);

    f = open_dev(1, 5); /* zero */
    memset(buf, 'x', sizeof(buf));
    ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), (int)sizeof(buf));
    for (size_t k = 0; k < sizeof(buf); k++)
        ck_assert_int_eq(buf[k], 0);
    ck_assert_int_eq(f->ops->write(f, "abc", 3, &pos), 3);
    ck_assert_int_eq(f->ops->llseek(f, 5, SEEK_CUR), 0);
    ck_assert(dev_is_zero(f));
    file_put(f);
    ck_assert(!dev_is_zero(NULL));

    f = open_dev(1, 7); /* full */
    memset(buf, 'x', sizeof(buf));
    ck_assert_int_eq(f->ops->read(f, buf, 10, &pos), 10);
    ck_assert_int_eq(buf[9], 0);
    ck_assert_int_eq(f->ops->write(f, "abc", 3, &pos), -ENOSPC);
    ck_assert_int_eq(f->ops->llseek(f, 0, SEEK_END), 0);
    file_put(f);

    for (unsigned mi = 8; mi <= 9; mi++) { /* random, urandom */
        f = open_dev(1, mi);
        memset(buf, 0, sizeof(buf));
        ck_assert_int_eq(f->ops->read(f, buf, sizeof(buf), &pos), (int)sizeof(buf));
        int nonzero = 0;
        for (size_t k = 0; k < sizeof(buf); k++)
            nonzero += buf[k] != 0;
        ck_assert_int_gt(nonzero, 0);
        ck_assert_int_eq(f->ops->write(f, "seed", 4, &pos), 4);
        ck_assert_int_eq(f->ops->llseek(f, 10, SEEK_SET), 0);
        ck_assert_int_eq(f->ops->ioctl(f, 0x5401 /* TCGETS */, 0), -EINVAL);
        file_put(f);
    }

    f = open_dev(5, 0); /* tty */
    ck_assert_ptr_nonnull(f->ops->open);
    ck_assert_int_eq(f->ops->open(f, O_RDONLY), -ENXIO);
    f->ops = NULL;
    file_put(f);
}
END_TEST

/* memfd seals reach the host memfd (tmpfs_add_seals), so the host kernel
 * refuses what the guest may not do through any mapping a stub makes,
 * whatever the guest does in the stub, and checks F_SEAL_WRITE against
 * every mapping of the memfd. */
START_TEST(seals_on_host_memfd)
{
    /* Seals added before the host memfd exists go to it when it is made. */
    /* A plain tmpfs file is sealed against seals, its host memfd too. */
    struct inode *e = mk(root, "early");
    ck_assert_int_eq(e->sealable, 1);
    ck_assert_uint_eq(e->seals, F_SEAL_SEAL);
    ck_assert_int_eq(tmpfs_add_seals(e, F_SEAL_WRITE), -EPERM);
    e->seals = 0; /* what memfd_new does for MFD_ALLOW_SEALING */
    ck_assert_int_eq(tmpfs_add_seals(e, F_SEAL_GROW | F_SEAL_WRITE), 0);
    struct file *ef = open_file(e, O_RDWR);
    int efd = ef->ops->mmap_fd(ef);
    ck_assert_int_ge(efd, 0);
    ck_assert_int_eq(fcntl(efd, F_GET_SEALS), F_SEAL_GROW | F_SEAL_WRITE);
    errno = 0;
    ck_assert_int_eq(ftruncate(efd, P), -1);
    ck_assert_int_eq(errno, EPERM);
    ck_assert_ptr_eq(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, efd, 0), MAP_FAILED);
    ck_assert_int_eq(errno, EPERM);
    file_put(ef);
    ck_assert_int_eq(root->ops->unlink(root, "early", e), 0);
    struct inode *plain = mk(root, "plain");
    struct file *pf = open_file(plain, O_RDWR);
    int pfd = pf->ops->mmap_fd(pf);
    ck_assert_int_ge(pfd, 0);
    ck_assert_int_eq(fcntl(pfd, F_GET_SEALS), F_SEAL_SEAL);
    file_put(pf);
    ck_assert_int_eq(root->ops->unlink(root, "plain", plain), 0);
    inode_put(plain);
    inode_put(e);

    /* Later: a shared mapping through the writable memfd, even read-only,
     * makes F_SEAL_WRITE EBUSY and changes nothing. */
    struct inode *i = mk(root, "late");
    i->seals = 0;
    struct file *f = open_file(i, O_RDWR);
    off_t pos = 0;
    ck_assert_int_eq(f->ops->write(f, "data", 4, &pos), 4);
    int fd = f->ops->mmap_fd(f);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0);
    void *m = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(tmpfs_add_seals(i, F_SEAL_WRITE), -EBUSY);
    ck_assert_uint_eq(i->seals, 0);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0);
    munmap(m, P);
    ck_assert_int_eq(tmpfs_add_seals(i, F_SEAL_WRITE), 0);
    ck_assert_uint_eq(i->seals, F_SEAL_WRITE);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
    ck_assert_ptr_eq(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
    ck_assert_int_eq(errno, EPERM);
    /* The sentry's own writes meet the host's seal too. */
    pos = 0;
    ck_assert_int_eq(f->ops->write(f, "x", 1, &pos), -EPERM);
    /* F_SEAL_EXEC stays the sentry's (the host memfd does not have the
     * guest's mode); on a file without exec bits it implies nothing. */
    ck_assert_int_eq(tmpfs_add_seals(i, 0x20), 0);
    ck_assert_uint_eq(i->seals, F_SEAL_WRITE | 0x20);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE);
    ck_assert_int_eq(tmpfs_add_seals(i, F_SEAL_SEAL), 0);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_WRITE | F_SEAL_SEAL);
    ck_assert_int_eq(tmpfs_add_seals(i, 0), -EPERM);
    file_put(f);
    ck_assert_int_eq(root->ops->unlink(root, "late", i), 0);
    inode_put(i);

    /* With an exec bit, F_SEAL_EXEC implies the write and size seals; the
     * host gets F_SEAL_FUTURE_WRITE for the implied F_SEAL_WRITE, which
     * Linux adds without looking at mappings: an existing writable
     * mapping keeps writing. */
    struct inode *x = NULL;
    ck_assert_int_eq(root->ops->mknod(root, "exec", S_IFREG | 0755, 0, &cred, &x), 0);
    x->seals = 0;
    f = open_file(x, O_RDWR);
    fd = f->ops->mmap_fd(f);
    ck_assert_int_eq(ftruncate(fd, P), 0);
    m = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(tmpfs_add_seals(x, 0x20), 0);
    ck_assert_uint_eq(x->seals,
                      0x20 | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
    ck_assert_int_eq(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
    ((char *)m)[0] = 'w';
    munmap(m, P);
    file_put(f);
    ck_assert_int_eq(root->ops->unlink(root, "exec", x), 0);
    inode_put(x);
}
END_TEST

UNIT_SUITE_MAIN("tmpfs", UNIT_CASE(s, "tmpfs", setup, teardown, 0, mount_and_root,
                                   create_lookup_unlink, mkdir_rmdir_nlink, rename_plain,
                                   rename_replace, rename_exchange, links_and_symlinks,
                                   special_nodes, getdents_cookies, file_data, seals_on_host_memfd);
                UNIT_CASE(s, "own-mounts", NULL, NULL, 0, size_limit, concurrency, devfs_population,
                          device_ops))
