/* Special files: the character devices the sandbox provides (/dev/null,
 * zero, full, random, urandom, tty; src/fs/file/devices.c), the file
 * operations of FIFOs, devices and sockets, and the magic number devfs and
 * tmpfs report. The device nodes themselves live in a tmpfs (devfs). */
#ifndef FS_DEVICES_H
#define FS_DEVICES_H

#include <sys/types.h>

struct file;
struct file_ops;
struct inode;

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994 /* as <linux/magic.h> */
#endif

/* The open file operations of character device rdev (1:3 null, 1:5 zero,
 * 1:7 full, 1:8 random, 1:9 urandom, 5:0 tty), or NULL if the sandbox has
 * no such device. Their open hook refuses what cannot be opened. */
const struct file_ops *chrdev_fops(dev_t rdev);

/* /dev/tty's open: the caller's controlling terminal, which the terminal
 * code (src/sentry/tty.c) registers here when the sandbox has one; until
 * then, and for a caller without one, -ENXIO. */
void devices_set_ctty_open(int (*open)(struct file *f, int flags));

/* 1 if f is open on /dev/zero: mmap treats a mapping of it as anonymous
 * memory (MAP_SHARED as shared anonymous), since its mmap_fd gives -ENODEV. */
int dev_is_zero(const struct file *f);

/* Give a FIFO, device or socket inode its file operations, as Linux's
 * init_special_inode: file systems call it when they make such an inode,
 * so that open never asks the file type. A FIFO's open is the rendezvous
 * of src/fs/file/pipe.c; a device the sandbox lacks, a block device or a
 * socket opens with -ENXIO. Sets i->rdev. */
void init_special_inode(struct inode *i, mode_t mode, dev_t rdev);

#endif
