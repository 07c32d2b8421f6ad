/* The guest's file system at start-up: the root (hostfs, read-only unless
 * asked), /dev (devfs), /dev/shm, /dev/mqueue, /proc (procfs), a private /tmp, then the
 * user's bind mounts and tmpfs mounts in order, and the initial root and
 * working directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/setup.h"
#include "fs/vfs/vfs.h"
#include "ipc/ipc.h"

/* The child called name of dir (which must be a directory), made if
 * missing: a real directory where the file system can make one, else a
 * name that exists only in the dentry cache, pinned by what is mounted on
 * it (a read-only root without /proc still gets /proc). */
static int mountpoint_child(struct path *dir, const char *name, struct dentry *placeholder,
                            struct path *out)
{
    int r = vfs_lookup_one(dir, name, out);
    if (r != -ENOENT)
        return r;
    struct inode *di = dir->d->inode;
    if (!(dir->mnt->flags & MNT_RDONLY) && di->ops->mkdir) {
        struct fs_cred c = { di->uid, di->gid };
        struct inode *ni;
        if (di->ops->mkdir(di, name, 0755, &c, &ni) == 0) {
            struct dentry *d;
            r = d_instantiate(dir->d, name, ni, &d);
            if (r < 0)
                return r;
            out->mnt = dir->mnt;
            out->d = d;
            return 0;
        }
    }
    if (!placeholder)
        return -ENOENT;
    inode_get(placeholder->inode);
    struct dentry *d;
    r = d_instantiate(dir->d, name, placeholder->inode, &d);
    if (r < 0)
        return r;
    out->mnt = dir->mnt;
    out->d = d;
    return 0;
}

/* Walk an absolute guest path from the namespace root without following
 * symlinks, making missing components on the way. */
static int walk_mountpoint(const char *gpath, struct dentry *placeholder, struct path *out,
                           char *err, size_t errlen)
{
    if (gpath[0] != '/') {
        snprintf(err, errlen, "%s: mount points must be absolute paths", gpath);
        return -EINVAL;
    }
    struct path cur = { vfs_ns->root, dget(vfs_ns->root->root) };
    char *copy = strdup(gpath), *save = NULL;
    if (!copy)
        return -ENOMEM;
    int r = 0;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) {
            snprintf(err, errlen, "%s: '.' and '..' are not allowed in mount points", gpath);
            r = -EINVAL;
            break;
        }
        if (strlen(c) > NAME_MAX_LEN) {
            snprintf(err, errlen, "%s: name too long", gpath);
            r = -ENAMETOOLONG;
            break;
        }
        struct path next;
        /* A missing intermediate directory becomes an empty tmpfs root; the
         * last component takes the mounted root's place. */
        char *more = save;
        while (more && *more == '/')
            more++;
        struct dentry *ph = placeholder;
        if (more && *more) {
            r = tmpfs_mount(1 << 20, 0755, &ph);
            if (r < 0)
                break;
        }
        r = mountpoint_child(&cur, c, ph, &next);
        if (ph != placeholder)
            dput(ph);
        if (r < 0) {
            snprintf(err, errlen, "%s: cannot make the mount point: %s", gpath, strerror(-r));
            break;
        }
        path_put(&cur);
        cur = next;
        if (S_ISLNK(cur.d->inode->mode)) {
            snprintf(err, errlen, "%s: mount point is a symbolic link", gpath);
            r = -ELOOP;
            break;
        }
    }
    free(copy);
    if (r < 0) {
        path_put(&cur);
        return r;
    }
    *out = cur;
    return 0;
}

static int mount_at(const char *gpath, struct dentry *root, int flags, char *err, size_t errlen)
{
    struct path at;
    int r = walk_mountpoint(gpath, root, &at, err, errlen);
    if (r < 0) {
        dput(root);
        return r;
    }
    if (S_ISDIR(root->inode->mode) != S_ISDIR(at.d->inode->mode)) {
        snprintf(err, errlen, "%s: cannot mount a %s on a %s", gpath,
                 S_ISDIR(root->inode->mode) ? "directory" : "file",
                 S_ISDIR(at.d->inode->mode) ? "directory" : "file");
        path_put(&at);
        dput(root);
        return -ENOTDIR;
    }
    r = vfs_mount(root, &at, flags, NULL);
    path_put(&at);
    dput(root);
    if (r < 0)
        snprintf(err, errlen, "%s: cannot mount: %s", gpath, strerror(-r));
    return r;
}

static int user_binds_tmp(const struct fs_config *c)
{
    for (int i = 0; i < c->nmounts; i++) {
        const char *d = c->mounts[i].dst;
        while (d[0] == '/' && d[1] == '/')
            d++;
        if (strcmp(d, "/tmp") == 0 || strcmp(d, "/tmp/") == 0)
            return 1;
    }
    return 0;
}

int vfs_setup(const struct fs_config *c, struct fs_struct **fsout, char *err, size_t errlen)
{
    struct dentry *root;
    int r = hostfs_mount(c->root, !c->rw, &root);
    if (r < 0) {
        snprintf(err, errlen, "--root %s: %s", c->root, strerror(-r));
        return r;
    }
    if (!S_ISDIR(root->inode->mode)) {
        snprintf(err, errlen, "--root %s: not a directory", c->root);
        dput(root);
        return -ENOTDIR;
    }
    r = vfs_mount(root, NULL, (c->rw ? 0 : MNT_RDONLY) | MNT_NODEV | hostfs_atime_flags(root),
                  NULL);
    dput(root);
    if (r < 0)
        return r;

    struct dentry *d;
    if ((r = devfs_mount(&d)) < 0 ||
        (r = mount_at("/dev", d, MNT_NOSUID | MNT_NOEXEC, err, errlen)) < 0)
        goto fail;
    if ((r = tmpfs_mount(0, 01777, &d)) < 0 ||
        (r = mount_at("/dev/shm", d, MNT_NOSUID | MNT_NODEV, err, errlen)) < 0)
        goto fail;
    /* As container runtimes and systemd mount it. */
    if ((r = mqueue_mount(&d)) < 0 ||
        (r = mount_at("/dev/mqueue", d, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC, err, errlen)) < 0)
        goto fail;
    if ((r = procfs_mount(&d)) < 0 ||
        (r = mount_at("/proc", d, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC, err, errlen)) < 0)
        goto fail;
    if (!user_binds_tmp(c)) {
        if ((r = tmpfs_mount(0, 01777, &d)) < 0 ||
            (r = mount_at("/tmp", d, MNT_NOSUID | MNT_NODEV, err, errlen)) < 0)
            goto fail;
    }
    for (int i = 0; i < c->nmounts; i++) {
        const struct mount_opt *m = &c->mounts[i];
        if (m->src) {
            r = hostfs_mount(m->src, m->ro, &d);
            if (r < 0) {
                snprintf(err, errlen, "--bind %s: %s", m->src, strerror(-r));
                goto out;
            }
            r = mount_at(m->dst, d, (m->ro ? MNT_RDONLY : 0) | MNT_NODEV | hostfs_atime_flags(d),
                         err, errlen);
        } else {
            r = tmpfs_mount(m->size, 01777, &d);
            if (r < 0) {
                snprintf(err, errlen, "--tmpfs %s: %s", m->dst, strerror(-r));
                goto out;
            }
            r = mount_at(m->dst, d, MNT_NOSUID | MNT_NODEV, err, errlen);
        }
        if (r < 0)
            goto out;
    }

    struct path rootp = { vfs_ns->root, dget(vfs_ns->root->root) };
    *fsout = fs_struct_new(&rootp, &rootp);
    path_put(&rootp);
    return *fsout ? 0 : -ENOMEM;
fail:
    if (!err[0])
        snprintf(err, errlen, "cannot set up the file system: %s", strerror(-r));
out:
    return r;
}
