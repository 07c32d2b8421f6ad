/* Path operations from the caller's side: the path copied in, and the
 * starting points and credentials of the calling task (fs/pathop.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/pathop.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"

long getname(struct task *t, uint64_t upath, char *buf, int allow_empty)
{
    long n = strncpy_in(t, buf, upath, PATH_MAX_LEN);
    if (n < 0)
        return n;
    if (n == 0 && !allow_empty)
        return -ENOENT;
    return n;
}

long getname_alloc(struct task *t, uint64_t upath, int allow_empty, char **out)
{
    *out = malloc(PATH_MAX_LEN);
    if (!*out)
        return -ENOMEM;
    long r = getname(t, upath, *out, allow_empty);
    if (r < 0) {
        free(*out);
        *out = NULL;
    }
    return r;
}

/* The directory open at dirfd as a starting point for name. */
static int dirfd_start(struct task *t, int dirfd, const char *name, struct path *out)
{
    struct file *f = fd_get(t->proc->files, dirfd);
    if (!f)
        return -EBADF;
    int r = 0;
    if (!f->dentry)
        r = name[0] ? -ENOTDIR : -EBADF;
    else if (name[0] && !S_ISDIR(f->dentry->inode->mode))
        r = -ENOTDIR;
    if (r == 0) {
        out->mnt = f->mnt;
        out->d = dget(f->dentry);
    }
    file_put(f);
    return r;
}

void path_op_init(struct task *t, int dirfd, const char *name, int flags, struct path_op *op)
{
    memset(op, 0, sizeof(*op));
    op->name = name;
    op->flags = flags;
    op->cred = t->cred;
    struct fs_struct *fs = t->proc->fs;
    int use_cwd =
        dirfd == AT_FDCWD || (name[0] == '/' && !(flags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT)));
    pthread_mutex_lock(&fs->lock);
    op->root = fs->root;
    path_get(&op->root);
    if (use_cwd) {
        op->start = fs->cwd;
        path_get(&op->start);
    }
    pthread_mutex_unlock(&fs->lock);
    if (!use_cwd)
        op->start_err = dirfd_start(t, dirfd, name, &op->start);
    if (flags & LOOKUP_IN_ROOT) {
        /* RESOLVE_IN_ROOT: the starting directory is the root as well. */
        path_put(&op->root);
        op->root = op->start;
        if (!op->start_err)
            path_get(&op->root);
    }
}

void path_op_done(struct path_op *op)
{
    if (op->root.d)
        path_put(&op->root);
    if (op->start.d)
        path_put(&op->start);
}

int at_lookup_flags(int at_flags)
{
    int lf = (at_flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
    if (at_flags & AT_EMPTY_PATH)
        lf |= LOOKUP_EMPTY;
    return lf;
}

int task_lookup(struct task *t, int dirfd, const char *name, int flags, struct path *out)
{
    struct path_op op;
    path_op_init(t, dirfd, name, flags, &op);
    int r = vfs_lookup(&op, out);
    path_op_done(&op);
    return r;
}
