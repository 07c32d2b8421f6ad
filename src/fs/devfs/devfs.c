/* devfs: the sandbox's /dev, a tmpfs populated at mount with the device
 * nodes, the /proc/self/fd links, and the shm and pts directories; and the
 * file operations of those character devices (null, zero, full, random,
 * urandom, tty). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/random.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base.h"
#include "fs/devices.h"
#include "fs/vfs.h"
#include "sentry/mm.h"

/* ---- the devices ---- */

static ssize_t zeros_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)f, (void)pos;
    memset(buf, 0, len);
    return (ssize_t)len;
}

static ssize_t null_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)f, (void)buf, (void)len, (void)pos;
    return 0;
}

static ssize_t sink_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)f, (void)buf, (void)pos;
    return (ssize_t)len;
}

static ssize_t full_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)f, (void)buf, (void)len, (void)pos;
    return -ENOSPC;
}

/* null, zero and full: every seek lands at 0, as Linux's null_lseek. */
static off_t zero_llseek(struct file *f, off_t off, int whence)
{
    (void)off, (void)whence;
    f->pos = 0;
    return 0;
}

static ssize_t random_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)f, (void)pos;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom((char *)buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return done ? (ssize_t)done : -errno;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* random and urandom: noop_llseek, the position stays where it is. */
static off_t random_llseek(struct file *f, off_t off, int whence)
{
    (void)off, (void)whence;
    return f->pos;
}

static long random_ioctl(struct task *t, struct file *f, unsigned long req, uint64_t arg)
{
    (void)f;
    switch (req) {
    case RNDGETENTCNT: {
        int bits = 256; /* a fully seeded pool, as on any modern kernel */
        return copy_out(t, arg, &bits, sizeof(bits)) < 0 ? -EFAULT : 0;
    }
    case RNDADDTOENTCNT:
    case RNDADDENTROPY:
    case RNDZAPENTCNT:
    case RNDCLEARPOOL:
    case RNDRESEEDCRNG:
        return -EPERM; /* CAP_SYS_ADMIN, which the guest never has over the host pool */
    default:
        return -EINVAL; /* random_ioctl's answer, even for TCGETS */
    }
}

static int tty_open(struct task *t, struct file *f)
{
    (void)t, (void)f;
    return -ENXIO; /* no controlling terminal yet */
}

static const struct file_ops null_fops = {
    .name = "null",
    .read = null_read,
    .write = sink_write,
    .llseek = zero_llseek,
    .write_discards = 1,
};

/* mmap_fd: the default -ENODEV; mm maps /dev/zero as anonymous memory
 * instead (dev_is_zero). */
static const struct file_ops zero_fops = {
    .name = "zero",
    .read = zeros_read,
    .write = sink_write,
    .llseek = zero_llseek,
};

static const struct file_ops full_fops = {
    .name = "full",
    .read = zeros_read,
    .write = full_write,
    .llseek = zero_llseek,
};

static const struct file_ops random_fops = {
    .name = "random",
    .read = random_read,
    .write = sink_write, /* Linux mixes it into the pool; ours is the host's */
    .llseek = random_llseek,
    .ioctl = random_ioctl,
};

static const struct file_ops urandom_fops = {
    .name = "urandom",
    .read = random_read,
    .write = sink_write,
    .llseek = random_llseek,
    .ioctl = random_ioctl,
};

static const struct file_ops tty_fops = {
    .name = "tty",
    .open = tty_open,
};

const struct file_ops *chrdev_fops(dev_t rdev)
{
    unsigned ma = major(rdev), mi = minor(rdev);
    if (ma == 1) {
        switch (mi) {
        case 3:
            return &null_fops;
        case 5:
            return &zero_fops;
        case 7:
            return &full_fops;
        case 8:
            return &random_fops;
        case 9:
            return &urandom_fops;
        }
    } else if (ma == 5 && mi == 0) {
        return &tty_fops;
    }
    return NULL;
}

int dev_is_zero(const struct file *f)
{
    return f && f->ops == &zero_fops;
}

/* ---- the file system ---- */

/* Only for the registry (/proc/filesystems lists "nodev devtmpfs", and
 * mount -t devtmpfs reaches devfs_mount). The mounted /dev itself is a
 * tmpfs, as in a container: its super block has tmpfs_type, so statfs and
 * /proc/mounts say tmpfs. */
const struct fs_type devfs_type = {
    .name = "devtmpfs",
    .magic = TMPFS_MAGIC,
    .nodev = 1,
};

int devfs_mount(struct dentry **root)
{
    static const struct {
        const char *name;
        unsigned ma, mi;
    } devs[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
    };
    static const struct {
        const char *name, *target;
    } links[] = {
        { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        { "ptmx", "pts/ptmx" },
    };
    static const struct {
        const char *name;
        mode_t mode;
    } dirs[] = {
        { "shm", 01777 }, /* Linux mounts its own tmpfs here; a directory will do */
        { "pts", 0755 },
    };
    static const struct fs_cred root_cred = { 0, 0 };
    struct dentry *r;
    int err = tmpfs_mount(0, 0755, &r);
    if (err < 0)
        return err;
    struct inode *dir = r->inode, *i;
    for (size_t k = 0; k < ARRAY_SIZE(devs) && err == 0; k++) {
        err = dir->ops->mknod(dir, devs[k].name, S_IFCHR | 0666, makedev(devs[k].ma, devs[k].mi),
                              &root_cred, &i);
        if (err == 0)
            inode_put(i);
    }
    for (size_t k = 0; k < ARRAY_SIZE(links) && err == 0; k++) {
        err = dir->ops->symlink(dir, links[k].name, links[k].target, &root_cred, &i);
        if (err == 0)
            inode_put(i);
    }
    for (size_t k = 0; k < ARRAY_SIZE(dirs) && err == 0; k++) {
        err = dir->ops->mkdir(dir, dirs[k].name, dirs[k].mode, &root_cred, &i);
        if (err == 0)
            inode_put(i);
    }
    if (err < 0) {
        dput(r);
        return err;
    }
    *root = r;
    return 0;
}
