/* System V shared memory (Linux's ipc/shm.c): shmget, shmat, shmdt,
 * shmctl. A segment's memory is a memfd of the sentry's internal tmpfs
 * (memfd_new), so it is a host memfd that every attaching stub maps
 * MAP_SHARED, as a MAP_SHARED mapping of a file: really shared between
 * processes and across fork.
 *
 * Each shmat opens a file of its own on the segment (Linux's shm file per
 * attach) and maps it; the mapping's VMAs hold references to that file,
 * so fork (a copy of the VMAs), a split and exec or exit (the VMAs go)
 * move the count of references, and shm_nattch is the sum of them, as
 * Linux's shm_open/shm_close count the VMAs. When the last reference of
 * an attach goes, the segment learns of the detach; a segment removed
 * with IPC_RMID while attached lives on (SHM_DEST, key IPC_PRIVATE) until
 * its last detach. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "fs/file/file.h"
#include "fs/procfs/procfs.h"
#include "fs/vfs/vfs.h"
#include "ipc/ipc.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/syscall.h"

/* Linux's defaults (include/uapi/linux/shm.h). */
#define SHMMIN 1UL
#define SHMMNI 4096
#define SHMMAX (~0UL - (1UL << 24))
#define SHMALL (~0UL - (1UL << 24))
#define SHMSEG SHMMNI
#define PAGE_ 4096UL

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_DEST
#define SHM_DEST 01000
#endif
#ifndef SHM_LOCKED
#define SHM_LOCKED 02000
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#define GCAP_IPC_LOCK_ 14

struct shm_attach {
    struct shm_attach *next;
    struct file *f;
};

struct shm_seg {
    struct ipc_obj perm; /* first */
    uint64_t segsz;
    int64_t atime, dtime;
    int cpid, lpid;
    struct file *backing;        /* the memfd (a reference) */
    struct dentry *dentry;       /* its name in /proc/PID/maps: "/SYSV%08x (deleted)" */
    struct shm_attach *attaches; /* the files of its attaches */
    int refs;                    /* the table and each attach file */
};

static pthread_mutex_t shm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc_ids shm_ids = { .last_idx = -1, .limit = SHMMNI };
static uint64_t shm_tot; /* pages */

struct shmid64_k {
    struct ipc64_perm_k perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch, unused4, unused5;
};
_Static_assert(sizeof(struct shmid64_k) == 112, "shmid64_ds");

struct shminfo64_k {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused1, unused2, unused3, unused4;
};

struct shm_info_k {
    int32_t used_ids, pad;
    uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

static struct shm_seg *seg_of(struct ipc_obj *p)
{
    return (struct shm_seg *)p;
}

static uint64_t seg_pages(const struct shm_seg *s)
{
    return (s->segsz + PAGE_ - 1) / PAGE_;
}

static void seg_put(struct shm_seg *s)
{
    if (--s->refs)
        return;
    shm_tot -= seg_pages(s);
    struct file *f = s->backing;
    struct dentry *d = s->dentry;
    free(s);
    /* Without shm_lock: the memfd's release takes the file system's locks. */
    pthread_mutex_unlock(&shm_lock);
    dput(d);
    file_put(f);
    pthread_mutex_lock(&shm_lock);
}

static uint64_t seg_nattch(const struct shm_seg *s)
{
    uint64_t n = 0;
    for (const struct shm_attach *a = s->attaches; a; a = a->next)
        n += (uint64_t)__atomic_load_n(&a->f->refs, __ATOMIC_RELAXED);
    return n;
}

/* Destroy s (out of the table) now if nothing is attached, else mark it. */
static void seg_rmid(struct ipc_obj *p)
{
    struct shm_seg *s = seg_of(p);
    if (seg_nattch(s) == 0) {
        ipc_ids_remove(&shm_ids, &s->perm);
        seg_put(s);
    } else {
        s->perm.mode |= SHM_DEST;
        s->perm.key = IPC_PRIVATE;
    }
}

static int attach_mmap_fd(struct file *f)
{
    struct shm_seg *s = f->priv;
    return s->backing->ops->mmap_fd(s->backing);
}

static int attach_stat(struct file *f, struct stat *st)
{
    return vfs_getattr(f->inode, st);
}

/* The last reference to an attach: a detach (Linux's shm_close). */
static void attach_release(struct file *f)
{
    struct shm_seg *s = f->priv;
    struct task *t = current_task;
    pthread_mutex_lock(&shm_lock);
    for (struct shm_attach **pp = &s->attaches; *pp; pp = &(*pp)->next)
        if ((*pp)->f == f) {
            struct shm_attach *a = *pp;
            *pp = a->next;
            free(a);
            break;
        }
    if (t)
        s->lpid = t->proc->pid;
    s->dtime = ipc_now();
    if ((s->perm.mode & SHM_DEST) && !s->perm.deleted && seg_nattch(s) == 0) {
        ipc_ids_remove(&shm_ids, &s->perm);
        s->refs--; /* the table's; the attach's own goes below */
    }
    seg_put(s);
    pthread_mutex_unlock(&shm_lock);
}

static const struct file_ops shm_attach_ops = {
    .name = "shm",
    .mmap_fd = attach_mmap_fd,
    .stat = attach_stat,
    .release = attach_release,
};

/* shmget of an existing segment: for no more than its size. */
static int shm_more(struct ipc_obj *p, uint64_t size)
{
    return seg_of(p)->segsz < size ? -EINVAL : 0;
}

SYSCALL_DEFINE3(shmget, int32_t, key, uint64_t, size, int, flag)
{
    const struct creds *c = t->cred;
    pthread_mutex_lock(&shm_lock);
    long r;
    if (!ipc_get_key(&shm_ids, key, flag, c, shm_more, size, &r)) {
        pthread_mutex_unlock(&shm_lock);
        return r;
    }
    uint64_t pages = (size + PAGE_ - 1) / PAGE_;
    if (size < SHMMIN || size > SHMMAX)
        r = -EINVAL;
    else if (pages * PAGE_ < size || shm_tot + pages < shm_tot || shm_tot + pages > SHMALL)
        r = -ENOSPC;
    else if (shm_ids.in_use >= shm_ids.limit)
        r = -ENOSPC;
    else
        r = 0;
    pthread_mutex_unlock(&shm_lock);
    if (r < 0)
        return r;
    /* The memory, made without shm_lock (the file system's locks). */
    char name[32];
    snprintf(name, sizeof(name), "SYSV%08x", (unsigned)key);
    struct file *f;
    r = memfd_new(c, name, 0, &f);
    if (r < 0)
        return r;
    struct iattr ia = { .valid = ATTR_SIZE, .size = (off_t)size };
    r = f->inode->ops->setattr(f->inode, &ia);
    if (r < 0) {
        file_put(f);
        return r;
    }
    char dname[40];
    snprintf(dname, sizeof(dname), "/SYSV%08x (deleted)", (unsigned)key);
    inode_get(f->inode);
    struct dentry *d = d_make_root(f->inode, dname); /* takes the inode reference */
    struct shm_seg *s = d ? calloc(1, sizeof(*s)) : NULL;
    if (!s) {
        if (d)
            dput(d);
        file_put(f);
        return -ENOMEM;
    }
    s->dentry = d;
    ipc_obj_init(&s->perm, key, flag, c);
    s->segsz = size;
    s->cpid = t->proc->pid;
    s->backing = f;
    s->refs = 1;
    pthread_mutex_lock(&shm_lock);
    /* Another one may have taken the key meanwhile. */
    if (key != IPC_PRIVATE && ipc_ids_find_key(&shm_ids, key))
        r = (flag & IPC_EXCL) ? -EEXIST : -EAGAIN;
    else
        r = ipc_ids_add(&shm_ids, &s->perm);
    if (r >= 0)
        shm_tot += pages;
    pthread_mutex_unlock(&shm_lock);
    if (r < 0) {
        free(s);
        dput(d);
        file_put(f);
        if (r == -EAGAIN)
            return do_sys_shmget(t, key, size, flag);
    }
    return r;
}

SYSCALL_DEFINE3(shmat, int, id, uint64_t, addr, int, flag)
{
    int mflags = MAP_SHARED;
    if (id < 0)
        return -EINVAL;
    if (addr) {
        if (addr & (PAGE_ - 1)) {
            if (!(flag & SHM_RND))
                return -EINVAL;
            addr &= ~(PAGE_ - 1);
            if (!addr && (flag & SHM_REMAP))
                return -EINVAL;
        }
        mflags |= MAP_FIXED;
    } else if (flag & SHM_REMAP) {
        return -EINVAL;
    }
    int prot, acc, oflags;
    if (flag & SHM_RDONLY) {
        prot = PROT_READ;
        acc = S_IRUGO;
        oflags = O_RDONLY;
    } else {
        prot = PROT_READ | PROT_WRITE;
        acc = S_IRUGO | S_IWUGO;
        oflags = O_RDWR;
    }
    if (flag & SHM_EXEC) {
        prot |= PROT_EXEC;
        acc |= S_IXUGO;
    }
    struct shm_attach *at = calloc(1, sizeof(*at));
    struct file *f = file_new(&shm_attach_ops, oflags);
    if (!at || !f) {
        free(at);
        if (f) {
            f->ops = NULL;
            file_put(f);
        }
        return -ENOMEM;
    }
    pthread_mutex_lock(&shm_lock);
    long r = 0;
    struct ipc_obj *p = ipc_ids_find(&shm_ids, id);
    if (!p)
        r = -EINVAL;
    else if (ipc_perms(t->cred, p, acc) < 0)
        r = -EACCES;
    if (r < 0) {
        pthread_mutex_unlock(&shm_lock);
        free(at);
        f->ops = NULL;
        file_put(f);
        return r;
    }
    struct shm_seg *s = seg_of(p);
    s->refs++;
    f->priv = s;
    inode_get(s->backing->inode);
    f->inode = s->backing->inode;
    f->dentry = dget(s->dentry);
    at->f = f;
    at->next = s->attaches;
    s->attaches = at;
    s->atime = ipc_now();
    s->lpid = t->proc->pid;
    uint64_t size = s->segsz;
    pthread_mutex_unlock(&shm_lock);

    /* The mapping, without shm_lock (mm->lock comes first: a detach runs
     * under it). */
    struct mm *mm = t->proc->mm;
    if (addr && !(flag & SHM_REMAP)) {
        r = -EINVAL;
        if (addr + size >= addr) {
            pthread_mutex_lock(&mm->view_lock);
            int busy = vma_overlaps(&mm->vmas, addr, addr + ((size + PAGE_ - 1) & ~(PAGE_ - 1)));
            pthread_mutex_unlock(&mm->view_lock);
            r = busy ? -EINVAL : 0;
        }
    }
    if (r == 0)
        r = mm_mmap_file(t, f, addr, size, prot, mflags, 0);
    file_put(f); /* the mapping holds its own */
    return r;
}

SYSCALL_DEFINE1(shmdt, uint64_t, addr)
{
    if (addr & (PAGE_ - 1))
        return -EINVAL;
    struct mm *mm = t->proc->mm;
    struct range {
        uint64_t start, end;
    } *rs = NULL;
    size_t n = 0;
    pthread_mutex_lock(&mm->view_lock);
    long i = vma_find_above(&mm->vmas, addr);
    struct file *file = NULL;
    uint64_t size = 0;
    for (; i >= 0 && (size_t)i < mm->vmas.n; i++) {
        struct vma *v = &mm->vmas.v[i];
        if (v->file && v->file->ops == &shm_attach_ops && v->start - addr == v->off) {
            file = v->file;
            size = (seg_of(file->priv)->segsz + PAGE_ - 1) & ~(PAGE_ - 1);
            break;
        }
    }
    if (file) {
        rs = malloc(mm->vmas.n * sizeof(*rs));
        for (; rs && (size_t)i < mm->vmas.n && mm->vmas.v[i].end - addr <= size; i++) {
            struct vma *v = &mm->vmas.v[i];
            if (v->file == file && v->start - addr == v->off)
                rs[n++] = (struct range){ v->start, v->end };
        }
    }
    pthread_mutex_unlock(&mm->view_lock);
    if (!file)
        return -EINVAL;
    if (!rs)
        return -ENOMEM;
    for (size_t k = 0; k < n; k++)
        mm_munmap(t, rs[k].start, rs[k].end - rs[k].start);
    free(rs);
    return 0;
}

static void shm_stat(struct ipc_obj *p, void *dsp)
{
    struct shmid64_k *ds = dsp;
    struct shm_seg *s = seg_of(p);
    ds->segsz = s->segsz;
    ds->atime = s->atime;
    ds->dtime = s->dtime;
    ds->ctime = p->ctime;
    ds->cpid = s->cpid;
    ds->lpid = s->lpid;
    ds->nattch = seg_nattch(s);
}

static size_t shm_info(int cmd, void *info)
{
    if (cmd == IPC_INFO) {
        struct shminfo64_k *si = info;
        *si = (struct shminfo64_k){
            .shmmax = SHMMAX, .shmmin = SHMMIN, .shmmni = SHMMNI, .shmseg = SHMSEG, .shmall = SHMALL
        };
        return sizeof(*si);
    }
    struct shm_info_k *si = info;
    si->used_ids = shm_ids.in_use;
    si->shm_tot = shm_tot;
    si->shm_rss = shm_tot;
    return sizeof(*si);
}

_Static_assert(sizeof(struct shmid64_k) <= IPC_DS_MAX && sizeof(struct shminfo64_k) <= IPC_DS_MAX &&
                   sizeof(struct shm_info_k) <= IPC_DS_MAX,
               "shmid64_k, shminfo64_k and shm_info_k fit ipc_ctl");

static const struct ipc_kind shm_kind = {
    .lock = &shm_lock,
    .ids = &shm_ids,
    .ds_size = sizeof(struct shmid64_k),
    .stat_cmd = SHM_STAT,
    .stat_any = SHM_STAT_ANY,
    .info_cmd = SHM_INFO,
    .info = shm_info,
    .stat = shm_stat,
    .remove = seg_rmid,
};

SYSCALL_DEFINE3(shmctl, int, id, int, cmd, uint64_t, buf)
{
    const struct creds *c = t->cred;
    if (cmd < 0 || id < 0)
        return -EINVAL;
    long r;
    switch (cmd) {
    case SHM_LOCK:
    case SHM_UNLOCK: {
        pthread_mutex_lock(&shm_lock);
        struct ipc_obj *p = ipc_ids_find(&shm_ids, id);
        if (!p)
            r = -EINVAL;
        else if (!creds_capable(c, GCAP_IPC_LOCK_) && c->euid != p->uid && c->euid != p->cuid)
            r = -EPERM;
        else if (cmd == SHM_LOCK && !creds_capable(c, GCAP_IPC_LOCK_) &&
                 t->proc->rlim[RLIMIT_MEMLOCK].cur == 0)
            r = -EPERM;
        else {
            if (cmd == SHM_LOCK)
                p->mode |= SHM_LOCKED;
            else
                p->mode &= ~(uint32_t)SHM_LOCKED;
            r = 0;
        }
        pthread_mutex_unlock(&shm_lock);
        return r;
    }
    default:
        return ipc_ctl(t, &shm_kind, cmd, id, buf);
    }
}

/* A segment as /proc/sysvipc/shm shows it, taken under shm_lock, with a
 * reference to its memfd's inode, whose pages (rss) are asked for once
 * shm_lock is dropped (no file system lock is taken under it). */
struct shm_row {
    struct ipc_obj perm;
    uint64_t segsz, nattch;
    int64_t atime, dtime;
    int cpid, lpid;
    struct inode *inode;
};

/* The segments in index order (*n of them, each with an inode reference),
 * or NULL without memory. */
static struct shm_row *shm_rows(int *n)
{
    pthread_mutex_lock(&shm_lock);
    struct shm_row *rows = calloc((size_t)shm_ids.in_use + 1, sizeof(*rows));
    int k = 0, i = 0;
    for (struct ipc_obj *p; rows && (p = ipc_ids_next(&shm_ids, &i)); i++) {
        const struct shm_seg *s = seg_of(p);
        rows[k] = (struct shm_row){ .perm = s->perm,
                                    .segsz = s->segsz,
                                    .nattch = seg_nattch(s),
                                    .atime = s->atime,
                                    .dtime = s->dtime,
                                    .cpid = s->cpid,
                                    .lpid = s->lpid,
                                    .inode = s->backing->inode };
        inode_get(rows[k++].inode);
    }
    pthread_mutex_unlock(&shm_lock);
    *n = k;
    return rows;
}

/* rss: the bytes of the pages the segment's host memfd holds (its
 * st_blocks, which the host counts whether a page is resident or
 * swapped out); swap: 0, as the host does not say which are swapped. */
int ipc_shm_proc_show(struct strbuf *out)
{
    strbuf_printf(out, "       key      shmid perms                  size  cpid  lpid nattch   uid "
                       "  gid  cuid  cgid      atime      dtime      ctime                   rss "
                       "                 swap\n");
    int n;
    struct shm_row *rows = shm_rows(&n);
    if (!rows)
        return -ENOMEM;
    for (int k = 0; k < n; k++) {
        const struct shm_row *r = &rows[k];
        struct stat st;
        uint64_t rss = vfs_getattr(r->inode, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
        inode_put(r->inode);
        strbuf_printf(out,
                      "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu "
                      "%21lu %21lu\n",
                      r->perm.key, r->perm.id, r->perm.mode, (unsigned long)r->segsz,
                      (unsigned)r->cpid, (unsigned)r->lpid, (unsigned long)r->nattch, r->perm.uid,
                      r->perm.gid, r->perm.cuid, r->perm.cgid, (unsigned long long)r->atime,
                      (unsigned long long)r->dtime, (unsigned long long)r->perm.ctime,
                      (unsigned long)rss, 0UL);
    }
    free(rows);
    return out->oom ? -ENOMEM : 0;
}
