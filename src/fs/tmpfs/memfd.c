/* memfd_create: a regular file of an internal tmpfs that has no name in any
 * directory (so its data is a host memfd and can be mapped and shared);
 * /proc/PID/fd shows it as "/memfd:NAME (deleted)", as Linux does. Its
 * seals are the host memfd's seals too (tmpfs_add_seals), so the host
 * kernel enforces them on every mapping the stub makes, whatever the
 * guest does in the stub. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fs/vfs/vfs.h"

static pthread_mutex_t memfd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dentry *memfd_root;
static unsigned long memfd_seq;

int memfd_new(const struct creds *cred, const char *name, unsigned mfd_flags, struct file **out)
{
    /* MFD_NOEXEC_SEAL: no exec bits, sealed so (F_SEAL_EXEC), and sealable. */
    int noexec = !!(mfd_flags & MFD_NOEXEC_SEAL);
    pthread_mutex_lock(&memfd_lock);
    int r = memfd_root ? 0 : tmpfs_mount(0, 01777, &memfd_root);
    unsigned long seq = ++memfd_seq;
    pthread_mutex_unlock(&memfd_lock);
    if (r < 0)
        return r;
    struct inode *dir = memfd_root->inode;
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "memfd.%lu", seq);
    struct fs_cred c;
    vfs_fs_cred(cred, &c);
    struct inode *i;
    r = dir->ops->mknod(dir, tmp, S_IFREG | (noexec ? 0666 : 0777), 0, &c, &i);
    if (r < 0)
        return r;
    dir->ops->unlink(dir, tmp, i);
    /* A tmpfs file is sealable; without MFD_ALLOW_SEALING it is sealed
     * against seals, as every other tmpfs file. */
    i->seals = noexec ? F_SEAL_EXEC : (mfd_flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
    char *dname = malloc(strlen(name) + 32);
    if (!dname) {
        inode_put(i);
        return -ENOMEM;
    }
    sprintf(dname, "/memfd:%s (deleted)", name);
    struct dentry *d = d_make_root(i, dname); /* takes i */
    free(dname);
    if (!d)
        return -ENOMEM;
    struct file *f = file_new(i->fops, O_RDWR);
    if (!f) {
        dput(d);
        return -ENOMEM;
    }
    inode_get(i);
    f->inode = i;
    f->dentry = d;
    r = i->ops->open ? i->ops->open(i, f, O_RDWR) : 0;
    if (r < 0) {
        f->ops = NULL;
        file_put(f);
        return r;
    }
    *out = f;
    return 0;
}

#define SEALS_ALL                                                                                  \
    (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

/* memfd_add_seals, in Linux's order: the file must be open for writing
 * (any file: EPERM), the seals known, the file a memfd; then, under the
 * file's lock, F_SEAL_SEAL and the writable mappings (tmpfs_add_seals). */
long memfd_add_seals(struct file *f, unsigned seals)
{
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EPERM;
    if (seals & ~SEALS_ALL)
        return -EINVAL;
    if (!f->inode || !f->inode->sealable)
        return -EINVAL;
    return tmpfs_add_seals(f->inode, seals);
}

long memfd_get_seals(struct file *f)
{
    if (!f->inode || !f->inode->sealable)
        return -EINVAL;
    return __atomic_load_n(&f->inode->seals, __ATOMIC_ACQUIRE);
}
