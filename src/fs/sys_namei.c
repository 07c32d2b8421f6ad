/* Names and directories: mkdir, mkdirat, rmdir, unlink, unlinkat, rename,
 * renameat, renameat2, link, linkat, symlink, symlinkat, mknod, mknodat,
 * chdir, fchdir, getcwd, chroot and umask. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/pathop.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

/* Copy in one or two path arguments (count says how many the call takes:
 * a second path that is NULL is EFAULT, as every other bad pointer). */
struct names {
    char *p1, *p2;
};

static long names_in(struct task *t, int count, uint64_t u1, uint64_t u2, struct names *n,
                     int allow_empty1)
{
    n->p1 = malloc(PATH_MAX_LEN);
    n->p2 = count > 1 ? malloc(PATH_MAX_LEN) : NULL;
    if (!n->p1 || (count > 1 && !n->p2))
        return -ENOMEM;
    long r = getname(t, u1, n->p1, allow_empty1);
    if (r >= 0 && count > 1)
        r = getname(t, u2, n->p2, 0);
    return r < 0 ? r : 0;
}

static void names_free(struct names *n)
{
    free(n->p1);
    free(n->p2);
}

/* A new file's mode with the caller's umask applied. */
static mode_t umasked(struct task *t, mode_t mode)
{
    return mode & ~(mode_t)__atomic_load_n(&t->proc->fs->umask, __ATOMIC_RELAXED);
}

enum name_kind { NAME_MKDIR, NAME_MKNOD, NAME_UNLINK, NAME_RMDIR };

/* The calls on one name: copy the path in, build the path operation from
 * the caller, and call the VFS (mode with the umask applied). */
static long name_op(struct task *t, enum name_kind kind, int dirfd, uint64_t upath, mode_t mode,
                    dev_t dev)
{
    struct names n;
    long r = names_in(t, 1, upath, 0, &n, 0);
    if (r == 0) {
        struct path_op op;
        path_op_init(t, dirfd, n.p1, 0, &op);
        switch (kind) {
        case NAME_MKDIR:
            r = vfs_mkdir(&op, umasked(t, mode));
            break;
        case NAME_MKNOD:
            r = vfs_mknod(&op, umasked(t, mode), dev);
            break;
        case NAME_UNLINK:
            r = vfs_unlink(&op);
            break;
        case NAME_RMDIR:
            r = vfs_rmdir(&op);
            break;
        }
        path_op_done(&op);
    }
    names_free(&n);
    return r;
}

SYSCALL_DEFINE3(mkdirat, int, dirfd, uint64_t, pathname, mode_t, mode)
{
    return name_op(t, NAME_MKDIR, dirfd, pathname, mode, 0);
}

SYSCALL_AS(mkdir, sys_at_form, 1, 2, sys_mkdirat)

SYSCALL_DEFINE4(mknodat, int, dirfd, uint64_t, pathname, mode_t, mode, unsigned, dev)
{
    if (S_ISDIR(mode))
        return -EPERM;
    /* The old encoding of dev_t (new_decode_dev). */
    dev_t rdev = makedev((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    return name_op(t, NAME_MKNOD, dirfd, pathname, mode, rdev);
}

SYSCALL_AS(mknod, sys_at_form, 1, 3, sys_mknodat)

SYSCALL_DEFINE3(unlinkat, int, dirfd, uint64_t, pathname, int, flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return name_op(t, (flags & AT_REMOVEDIR) ? NAME_RMDIR : NAME_UNLINK, dirfd, pathname, 0, 0);
}

SYSCALL_AS(unlink, sys_at_form, 1, 1, sys_unlinkat)

SYSCALL_DEFINE1(rmdir, uint64_t, pathname)
{
    return name_op(t, NAME_RMDIR, AT_FDCWD, pathname, 0, 0);
}

SYSCALL_DEFINE5(renameat2, int, olddirfd, uint64_t, oldpath, int, newdirfd, uint64_t, newpath,
                unsigned, flags)
{
    struct names n;
    long r = names_in(t, 2, oldpath, newpath, &n, 0);
    if (r == 0) {
        struct path_op oop, nop;
        path_op_init(t, olddirfd, n.p1, 0, &oop);
        path_op_init(t, newdirfd, n.p2, 0, &nop);
        r = vfs_rename(&oop, &nop, flags);
        path_op_done(&oop);
        path_op_done(&nop);
    }
    names_free(&n);
    return r;
}

SYSCALL_AS(renameat, sys_at_form, 0, 4, sys_renameat2)
SYSCALL_AS(rename, sys_at_form, 1 << 0 | 1 << 2, 2, sys_renameat2)

SYSCALL_DEFINE5(linkat, int, olddirfd, uint64_t, oldpath, int, newdirfd, uint64_t, newpath, int,
                flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct names n;
    long r = names_in(t, 2, oldpath, newpath, &n, !!(flags & AT_EMPTY_PATH));
    if (r == 0 && n.p1[0] == 0 && !creds_capable(t->cred, GCAP_DAC_READ_SEARCH)) {
        /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, or (Linux 6.10 on) a
         * file opened with the caller's own credentials. */
        struct file *f = fget(t, olddirfd);
        if (f && f->opener != t->cred)
            r = -ENOENT;
        if (f)
            file_put(f);
    }
    if (r == 0) {
        struct path_op oop, nop;
        int lookup = ((flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0) |
                     ((flags & AT_EMPTY_PATH) ? LOOKUP_EMPTY : 0);
        path_op_init(t, olddirfd, n.p1, lookup, &oop);
        path_op_init(t, newdirfd, n.p2, 0, &nop);
        r = vfs_link(&oop, &nop);
        path_op_done(&oop);
        path_op_done(&nop);
    }
    names_free(&n);
    return r;
}

SYSCALL_AS(link, sys_at_form, 1 << 0 | 1 << 2, 2, sys_linkat)

SYSCALL_DEFINE3(symlinkat, uint64_t, target, int, newdirfd, uint64_t, linkpath)
{
    struct names n;
    long r = names_in(t, 2, target, linkpath, &n, 0);
    if (r == 0) {
        struct path_op op;
        path_op_init(t, newdirfd, n.p2, 0, &op);
        r = vfs_symlink(n.p1, &op);
        path_op_done(&op);
    }
    names_free(&n);
    return r;
}

SYSCALL_AS(symlink, sys_at_form, 1 << 1, 2, sys_symlinkat)

/* ---- cwd and root ---- */

static void set_fs_path(struct task *t, struct path *p, int root)
{
    struct fs_struct *fs = t->proc->fs;
    pthread_mutex_lock(&fs->lock);
    struct path old = root ? fs->root : fs->cwd;
    if (root)
        fs->root = *p;
    else
        fs->cwd = *p;
    pthread_mutex_unlock(&fs->lock);
    path_put(&old);
}

static long chdir_path(struct task *t, struct path *p, int root)
{
    long r = S_ISDIR(p->d->inode->mode) ? vfs_permission(t->cred, p->d->inode, MAY_EXEC) : -ENOTDIR;
    if (r == 0 && root && !creds_capable(t->cred, GCAP_SYS_CHROOT))
        r = -EPERM;
    if (r < 0) {
        path_put(p);
        return r;
    }
    set_fs_path(t, p, root);
    return 0;
}

static long chdir_user(struct task *t, uint64_t upath, int root)
{
    struct names n;
    long r = names_in(t, 1, upath, 0, &n, 0);
    struct path p;
    if (r == 0)
        r = task_lookup(t, AT_FDCWD, n.p1, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
    names_free(&n);
    if (r < 0)
        return r;
    return chdir_path(t, &p, root);
}

SYSCALL_DEFINE1(chdir, uint64_t, path)
{
    return chdir_user(t, path, 0);
}

SYSCALL_DEFINE1(chroot, uint64_t, path)
{
    return chdir_user(t, path, 1);
}

SYSCALL_DEFINE1(fchdir, int, fd)
{
    struct file *f = fd_get(t->proc->files, fd);
    if (!f)
        return -EBADF;
    if (!f->dentry) {
        file_put(f);
        return -ENOTDIR;
    }
    struct path p = { f->mnt, dget(f->dentry) };
    file_put(f);
    return chdir_path(t, &p, 0);
}

SYSCALL_DEFINE2(getcwd, uint64_t, ubuf, size_t, size)
{
    struct fs_struct *fs = t->proc->fs;
    pthread_mutex_lock(&fs->lock);
    struct path cwd = fs->cwd, root = fs->root;
    path_get(&cwd);
    path_get(&root);
    pthread_mutex_unlock(&fs->lock);
    char *buf = malloc(PATH_MAX_LEN + 16);
    long r = buf ? 0 : -ENOMEM;
    if (r == 0 && cwd.d->deleted)
        r = -ENOENT;
    if (r == 0) {
        int under;
        int n = vfs_d_path_reach(&cwd, &root, buf + 13, PATH_MAX_LEN, &under);
        if (n < 0) {
            r = n;
        } else {
            char *s = buf + 13;
            if (!under) {
                /* Outside the root (after chroot): Linux's "(unreachable)" prefix. */
                s = buf;
                memcpy(s, "(unreachable)", 13);
                n += 13;
            }
            if ((size_t)n + 1 > size)
                r = -ERANGE;
            else if (copy_out(t, ubuf, s, (size_t)n + 1) < 0)
                r = -EFAULT;
            else
                r = n + 1;
        }
    }
    free(buf);
    path_put(&cwd);
    path_put(&root);
    return r;
}

SYSCALL_DEFINE1(umask, uint32_t, mask)
{
    uint32_t old = __atomic_exchange_n(&t->proc->fs->umask, mask & 0777, __ATOMIC_RELAXED);
    return old;
}
