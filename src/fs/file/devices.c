/* Special files: the character devices the sandbox provides (null, zero,
 * full, random, urandom, tty) and init_special_inode, which gives FIFOs,
 * devices and sockets their file operations when their inode is made. */
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
#include "fs/file/devices.h"
#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/mm.h"

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

static long random_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    (void)f;
    switch (req) {
    case RNDGETENTCNT: {
        int bits = 256; /* a fully seeded pool, as on any modern kernel */
        return copy_out(current_task, arg, &bits, sizeof(bits)) < 0 ? -EFAULT : 0;
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

static int (*ctty_open)(struct file *f, int flags);

void devices_set_ctty_open(int (*open)(struct file *f, int flags))
{
    __atomic_store_n(&ctty_open, open, __ATOMIC_RELEASE);
}

static int tty_open(struct file *f, int flags)
{
    int (*open)(struct file *, int) = __atomic_load_n(&ctty_open, __ATOMIC_ACQUIRE);
    return open ? open(f, flags) : -ENXIO;
}

/* The memory devices of major 1 by minor (Linux's devlist in
 * drivers/char/mem.c). /dev/zero's mmap_fd is the default -ENODEV: mm maps
 * it as anonymous memory instead (dev_is_zero). /dev/random's write is
 * dropped: Linux mixes it into the pool, ours is the host's. */
#define MEM_DEV(n, rd, wr, seek, ...)                                                              \
    {                                                                                              \
        .name = n, .read = rd, .write = wr, .llseek = seek, __VA_ARGS__                            \
    }
#define MEM_ZERO 5
static const struct file_ops mem_fops[] = {
    [3] = MEM_DEV("null", null_read, sink_write, zero_llseek, .write_discards = 1),
    [MEM_ZERO] = MEM_DEV("zero", zeros_read, sink_write, zero_llseek),
    [7] = MEM_DEV("full", zeros_read, full_write, zero_llseek),
    [8] = MEM_DEV("random", random_read, sink_write, random_llseek, .ioctl = random_ioctl),
    [9] = MEM_DEV("urandom", random_read, sink_write, random_llseek, .ioctl = random_ioctl),
};

static const struct file_ops tty_fops = {
    .name = "tty",
    .open = tty_open,
};

const struct file_ops *chrdev_fops(dev_t rdev)
{
    unsigned ma = major(rdev), mi = minor(rdev);
    if (ma == 1) {
        if (mi < ARRAY_SIZE(mem_fops) && mem_fops[mi].name)
            return &mem_fops[mi];
    } else if (ma == 5 && mi == 0) {
        return &tty_fops;
    }
    return NULL;
}

int dev_is_zero(const struct file *f)
{
    return f && f->ops == &mem_fops[MEM_ZERO];
}

/* Block devices, sockets and character devices the sandbox does not
 * have: open gives -ENXIO (Linux: no driver; sockets are not opened). */
static int nodev_open(struct file *f, int flags)
{
    (void)f, (void)flags;
    return -ENXIO;
}

static const struct file_ops nodev_fops = {
    .name = "nodev",
    .open = nodev_open,
};

void init_special_inode(struct inode *i, mode_t mode, dev_t rdev)
{
    i->rdev = rdev;
    if (S_ISFIFO(mode)) {
        i->fops = &fifo_fops;
    } else if (S_ISCHR(mode)) {
        const struct file_ops *ops = chrdev_fops(rdev);
        i->fops = ops ? ops : &nodev_fops;
    } else {
        i->fops = &nodev_fops; /* block devices, sockets */
    }
}
