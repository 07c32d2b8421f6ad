/* inotify_init, inotify_init1, inotify_add_watch and inotify_rm_watch
 * (Linux's fs/notify/inotify/inotify_user.c); the instances are in
 * src/fs/file/inotify.c, the events in src/fs/vfs/fsnotify.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/inotify.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/inotify.h"
#include "fs/pathop.h"
#include "fs/vfs/vfs.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

/* Every bit inotify_add_watch knows (Linux's ALL_INOTIFY_BITS). */
#define ALL_INOTIFY_BITS                                                                           \
    (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW |       \
     IN_EXCL_UNLINK | IN_MASK_ADD | IN_MASK_CREATE | IN_ISDIR | IN_ONESHOT)

static long do_inotify_init(struct task *t, int flags)
{
    if (flags & ~(IN_CLOEXEC | IN_NONBLOCK))
        return -EINVAL;
    struct file *f;
    int r = inotify_file(t->cred->euid, flags, &f);
    if (r < 0)
        return r;
    return fd_install_new(t, f, !!(flags & IN_CLOEXEC));
}

SYSCALL_DEFINE0(inotify_init)
{
    return do_inotify_init(t, 0);
}

SYSCALL_DEFINE1(inotify_init1, int, flags)
{
    return do_inotify_init(t, flags);
}

SYSCALL_DEFINE3(inotify_add_watch, int, fd, uint64_t, upath, uint32_t, mask)
{
    /* Linux's order: the mask, then the descriptor, then the path. */
    if (!(mask & ALL_INOTIFY_BITS))
        return -EINVAL;
    if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
        return -EINVAL;
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r = -EINVAL;
    if (!is_inotify_file(f))
        goto out;
    char *path;
    r = getname_alloc(t, upath, 0, &path);
    if (r < 0)
        goto out;
    int lflags = 0;
    if (!(mask & IN_DONT_FOLLOW))
        lflags |= LOOKUP_FOLLOW;
    if (mask & IN_ONLYDIR)
        lflags |= LOOKUP_DIRECTORY;
    struct path p;
    r = task_lookup(t, AT_FDCWD, path, lflags, &p);
    free(path);
    if (r < 0)
        goto out;
    /* Watching needs read permission on the inode. */
    r = vfs_permission(t->cred, p.d->inode, MAY_READ);
    if (r == 0)
        r = inotify_watch_add(f, p.d->inode, mask);
    path_put(&p);
out:
    file_put(f);
    return r;
}

SYSCALL_DEFINE2(inotify_rm_watch, int, fd, int, wd)
{
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    long r = is_inotify_file(f) ? inotify_watch_rm(f, wd) : -EINVAL;
    file_put(f);
    return r;
}
