/* The id tables and permission checks System V IPC objects share
 * (Linux's ipc/util.c), see include/ipc/ipc.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/procfs/procfs.h"
#include "ipc/ipc.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"

#define GCAP_IPC_OWNER 15

int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *p)
{
    if (ids->in_use >= ids->limit)
        return -ENOSPC;
    /* idr_alloc_cyclic: the first free index after the last one given. */
    int idx = -1;
    for (int n = 0; n < ids->limit; n++) {
        int i = (ids->last_idx + 1 + n) % ids->limit;
        if (i >= ids->cap || !ids->slot[i]) {
            idx = i;
            break;
        }
    }
    if (idx < 0)
        return -ENOSPC;
    if (idx >= ids->cap) {
        int ncap = ids->cap ? ids->cap : 16;
        while (ncap <= idx)
            ncap *= 2;
        struct ipc_obj **n = realloc(ids->slot, (size_t)ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        memset(n + ids->cap, 0, (size_t)(ncap - ids->cap) * sizeof(*n));
        ids->slot = n;
        ids->cap = ncap;
    }
    if (idx <= ids->last_idx) {
        ids->seq++;
        if (ids->seq >= IPC_SEQ_MAX)
            ids->seq = 0;
    }
    ids->last_idx = idx;
    ids->slot[idx] = p;
    ids->in_use++;
    p->seq = (uint16_t)ids->seq;
    p->id = (ids->seq << IPC_SEQ_SHIFT) + idx;
    p->deleted = 0;
    return p->id;
}

void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *p)
{
    int idx = p->id & ((1 << IPC_SEQ_SHIFT) - 1);
    if (idx < ids->cap && ids->slot[idx] == p) {
        ids->slot[idx] = NULL;
        ids->in_use--;
    }
    p->deleted = 1;
}

struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int32_t key)
{
    for (int i = 0; i < ids->cap; i++)
        if (ids->slot[i] && ids->slot[i]->key == key)
            return ids->slot[i];
    return NULL;
}

struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx)
{
    return idx >= 0 && idx < ids->cap ? ids->slot[idx] : NULL;
}

struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id)
{
    if (id < 0)
        return NULL;
    struct ipc_obj *p = ipc_ids_at(ids, id & ((1 << IPC_SEQ_SHIFT) - 1));
    if (!p || (id >> IPC_SEQ_SHIFT) != p->seq)
        return NULL;
    return p;
}

int ipc_ids_max_idx(const struct ipc_ids *ids)
{
    for (int i = ids->cap - 1; i >= 0; i--)
        if (ids->slot[i])
            return i;
    return -1;
}

struct ipc_obj *ipc_ids_next(struct ipc_ids *ids, int *idx)
{
    for (int i = *idx < 0 ? 0 : *idx; i < ids->cap; i++)
        if (ids->slot[i]) {
            *idx = i;
            return ids->slot[i];
        }
    return NULL;
}

int ipc_ids_show(struct strbuf *out, const char *header, struct ipc_ids *ids, pthread_mutex_t *lock,
                 void (*line)(struct strbuf *out, const struct ipc_obj *p))
{
    strbuf_printf(out, "%s", header);
    pthread_mutex_lock(lock);
    int i = 0;
    for (struct ipc_obj *p; (p = ipc_ids_next(ids, &i)); i++)
        line(out, p);
    pthread_mutex_unlock(lock);
    return out->oom ? -ENOMEM : 0;
}

int ipc_get_key(struct ipc_ids *ids, int32_t key, int flag, const struct creds *c,
                int (*more)(struct ipc_obj *p, uint64_t want), uint64_t want, long *r)
{
    struct ipc_obj *p = key == IPC_PRIVATE ? NULL : ipc_ids_find_key(ids, key);
    if (!p) {
        if (key == IPC_PRIVATE || (flag & IPC_CREAT))
            return 1;
        *r = -ENOENT;
    } else if ((flag & IPC_CREAT) && (flag & IPC_EXCL)) {
        *r = -EEXIST;
    } else if (!more || (*r = more(p, want)) == 0) {
        *r = ipc_perms(c, p, flag) < 0 ? -EACCES : p->id;
    }
    return 0;
}

void ipc_obj_init(struct ipc_obj *p, int32_t key, int flag, const struct creds *c)
{
    p->key = key;
    p->uid = p->cuid = c->euid;
    p->gid = p->cgid = c->egid;
    p->mode = (uint32_t)flag & 0777;
    p->ctime = ipc_now();
}

static int in_group(const struct creds *c, uint32_t gid)
{
    return c->fsgid == gid || creds_in_groups(c, gid);
}

int ipc_perms(const struct creds *c, const struct ipc_obj *p, int flag)
{
    int requested = (flag >> 6) | (flag >> 3) | flag;
    int granted = (int)p->mode;
    if (c->euid == p->cuid || c->euid == p->uid)
        granted >>= 6;
    else if (in_group(c, p->cgid) || in_group(c, p->gid))
        granted >>= 3;
    if ((requested & ~granted & 07) && !creds_capable(c, GCAP_IPC_OWNER))
        return -EACCES;
    return 0;
}

int ipc_may_change(const struct creds *c, const struct ipc_obj *p)
{
    if (c->euid == p->cuid || c->euid == p->uid || creds_capable(c, GCAP_SYS_ADMIN))
        return 0;
    return -EPERM;
}

void ipc_perm_out(const struct ipc_obj *p, struct ipc64_perm_k *out)
{
    memset(out, 0, sizeof(*out));
    out->key = p->key;
    out->uid = p->uid;
    out->gid = p->gid;
    out->cuid = p->cuid;
    out->cgid = p->cgid;
    out->mode = p->mode;
    out->seq = p->seq;
}

void ipc_perm_set(struct ipc_obj *p, const struct ipc64_perm_k *in)
{
    p->uid = in->uid;
    p->gid = in->gid;
    p->mode = (p->mode & ~0777u) | (in->mode & 0777u);
}

static long ipc_stat(const struct ipc_kind *k, const struct creds *c, int cmd, int id, void *ds)
{
    long r;
    memset(ds, 0, k->ds_size);
    pthread_mutex_lock(k->lock);
    struct ipc_obj *p = cmd == IPC_STAT ? ipc_ids_find(k->ids, id) : ipc_ids_at(k->ids, id);
    if (!p)
        r = -EINVAL;
    else if (cmd != k->stat_any && ipc_perms(c, p, S_IRUGO) < 0)
        r = -EACCES;
    else {
        ipc_perm_out(p, ds);
        k->stat(p, ds);
        r = cmd == IPC_STAT ? 0 : p->id;
    }
    pthread_mutex_unlock(k->lock);
    return r;
}

/* IPC_SET with ds, or IPC_RMID with ds NULL. */
static long ipc_set_rmid(const struct ipc_kind *k, const struct creds *c, int id, const void *ds)
{
    long r;
    pthread_mutex_lock(k->lock);
    struct ipc_obj *p = ipc_ids_find(k->ids, id);
    if (!p)
        r = -EINVAL;
    else if ((r = ipc_may_change(c, p)) < 0)
        ;
    else if (!ds)
        k->remove(p);
    else if (!k->set || (r = k->set(p, ds, c)) == 0) {
        ipc_perm_set(p, ds);
        p->ctime = ipc_now();
    }
    pthread_mutex_unlock(k->lock);
    return r;
}

static long ipc_info(struct task *t, const struct ipc_kind *k, int cmd, uint64_t ubuf)
{
    _Alignas(8) char info[IPC_DS_MAX] = { 0 };
    pthread_mutex_lock(k->lock);
    size_t size = k->info(cmd, info);
    int max = ipc_ids_max_idx(k->ids);
    pthread_mutex_unlock(k->lock);
    if (copy_out(t, ubuf, info, size) < 0)
        return -EFAULT;
    return max < 0 ? 0 : max;
}

long ipc_ctl(struct task *t, const struct ipc_kind *k, int cmd, int id, uint64_t ubuf)
{
    _Alignas(8) char ds[IPC_DS_MAX];
    switch (cmd) {
    case IPC_INFO:
        return ipc_info(t, k, cmd, ubuf);
    case IPC_RMID:
        return ipc_set_rmid(k, t->cred, id, NULL);
    case IPC_SET:
        if (copy_in(t, ds, ubuf, k->ds_size) < 0)
            return -EFAULT;
        return ipc_set_rmid(k, t->cred, id, ds);
    case IPC_STAT:
        break;
    default:
        if (cmd == k->info_cmd)
            return ipc_info(t, k, cmd, ubuf);
        if (cmd != k->stat_cmd && cmd != k->stat_any)
            return -EINVAL;
    }
    long r = ipc_stat(k, t->cred, cmd, id, ds);
    if (r >= 0 && copy_out(t, ubuf, ds, k->ds_size) < 0)
        r = -EFAULT;
    return r;
}

int64_t ipc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}
