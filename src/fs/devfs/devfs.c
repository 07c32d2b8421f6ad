/* devfs: the sandbox's /dev, a tmpfs populated at mount with the device
 * nodes, the /proc/self/fd links, and the shm and pts directories. The
 * devices themselves are src/fs/file/devices.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base.h"
#include "fs/file/devices.h"
#include "fs/vfs/vfs.h"

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
        { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
    };
    static const struct {
        const char *name, *target;
    } links[] = {
        { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
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
