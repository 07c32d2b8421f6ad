/* System V semaphores (Linux's ipc/sem.c): semget, semop, semtimedop,
 * semctl, and SEM_UNDO records applied at process exit. One lock for all
 * sets (sem_lock), the sleepers' condition lock; a change of a set wakes
 * all its sleepers, each of which tries its operations again (whole or
 * not at all, as Linux's perform_atomic_semop). Undo records belong to a
 * process (Linux shares them between the tasks of a CLONE_SYSVSEM group,
 * which is what threads are). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>

#include "fs/procfs/procfs.h"
#include "ipc/ipc.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/syscall.h"

/* Linux's defaults (include/uapi/linux/sem.h). */
#define SEMMNI 32000
#define SEMMSL 32000
#define SEMMNS (SEMMNI * SEMMSL)
#define SEMOPM 500
#define SEMVMX 32767
#define SEMAEM SEMVMX
#define SEMUSZ 20
/* The semaphores of all sets together live in the sentry's memory: at most
 * this many (Linux's semmns is 32000 * 32000); past it semget is ENOSPC,
 * as past semmns. */
#define SEM_SANDBOX_MAX (1L << 20)

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

struct sem_undo {
    struct sem_undo *next;
    struct process *owner;
    short adj[];
};

struct sem_waiter {
    struct sem_waiter *next;
    int semnum, zero; /* the operation it waits on: for zero, or to decrease */
};

struct sem_k {
    int val, pid;
};

struct sem_set {
    struct ipc_obj perm; /* first */
    int nsems;
    int64_t otime;
    struct sem_k *sems;
    struct sem_undo *undos;
    struct sem_waiter *waiters;
    struct waitq wq;
    int refs; /* the table and each sleeper */
};

static pthread_mutex_t sem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc_ids sem_ids = { .last_idx = -1, .limit = SEMMNI };
static long used_sems;

struct semid64_k {
    struct ipc64_perm_k perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems, unused3, unused4;
};
_Static_assert(sizeof(struct semid64_k) == 104, "semid64_ds");

struct seminfo_k {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

struct sembuf_k {
    uint16_t num;
    int16_t op, flg;
};

static struct sem_set *set_of(struct ipc_obj *p)
{
    return (struct sem_set *)p;
}

static void set_put(struct sem_set *s)
{
    if (--s->refs)
        return;
    while (s->undos) {
        struct sem_undo *u = s->undos;
        s->undos = u->next;
        free(u);
    }
    waitq_destroy(&s->wq);
    free(s->sems);
    free(s);
}

/* semget of an existing set: for no more semaphores than it has. */
static int sem_more(struct ipc_obj *p, uint64_t nsems)
{
    return nsems > (uint64_t)set_of(p)->nsems ? -EINVAL : 0;
}

SYSCALL_DEFINE3(semget, int32_t, key, int, nsems, int, flag)
{
    const struct creds *c = t->cred;
    if (nsems < 0 || nsems > SEMMSL)
        return -EINVAL;
    pthread_mutex_lock(&sem_lock);
    long r;
    if (!ipc_get_key(&sem_ids, key, flag, c, sem_more, (uint64_t)nsems, &r)) {
        /* r: the set with key, or why not */
    } else if (!nsems) {
        r = -EINVAL;
    } else if (used_sems + nsems > SEMMNS || used_sems + nsems > SEM_SANDBOX_MAX) {
        r = -ENOSPC;
    } else {
        struct sem_set *s = calloc(1, sizeof(*s));
        struct sem_k *v = calloc((size_t)nsems, sizeof(*v));
        if (!s || !v) {
            free(s);
            free(v);
            r = -ENOMEM;
        } else {
            ipc_obj_init(&s->perm, key, flag, c);
            s->nsems = nsems;
            s->sems = v;
            s->refs = 1;
            waitq_init(&s->wq);
            r = ipc_ids_add(&sem_ids, &s->perm);
            if (r < 0) {
                waitq_destroy(&s->wq);
                free(v);
                free(s);
            } else {
                used_sems += nsems;
            }
        }
    }
    pthread_mutex_unlock(&sem_lock);
    return r;
}

static struct sem_undo *undo_find(struct sem_set *s, struct process *p)
{
    for (struct sem_undo *u = s->undos; u; u = u->next)
        if (u->owner == p)
            return u;
    return NULL;
}

/* Linux's perform_atomic_semop on copies: 0 (done: values and undo
 * adjustments applied), 1 (would block; *blocking is the operation), or
 * -EAGAIN (it would block with IPC_NOWAIT) or -ERANGE. */
static int try_semop(struct sem_set *s, const struct sembuf_k *sops, unsigned n,
                     struct sem_undo *un, int pid, const struct sembuf_k **blocking)
{
    int *val = malloc((size_t)s->nsems * sizeof(int));
    int *adj = malloc((size_t)s->nsems * sizeof(int));
    if (!val || !adj) {
        free(val);
        free(adj);
        return -ENOMEM;
    }
    for (int i = 0; i < s->nsems; i++) {
        val[i] = s->sems[i].val;
        adj[i] = un ? un->adj[i] : 0;
    }
    int r = 0;
    for (unsigned i = 0; i < n && r == 0; i++) {
        const struct sembuf_k *op = &sops[i];
        int cur = val[op->num];
        if ((!op->op && cur) || cur + op->op < 0) {
            *blocking = op;
            r = (op->flg & IPC_NOWAIT) ? -EAGAIN : 1;
            break;
        }
        int res = cur + op->op;
        if (res > SEMVMX)
            r = -ERANGE;
        else if (op->flg & SEM_UNDO) {
            int u = adj[op->num] - op->op;
            if (u < -SEMAEM - 1 || u > SEMAEM)
                r = -ERANGE;
            else
                adj[op->num] = u;
        }
        val[op->num] = res;
    }
    if (r == 0) {
        for (int i = 0; i < s->nsems; i++) {
            s->sems[i].val = val[i];
            if (un)
                un->adj[i] = (short)adj[i];
        }
        for (unsigned i = 0; i < n; i++)
            s->sems[sops[i].num].pid = pid;
        s->otime = ipc_now();
    }
    free(val);
    free(adj);
    return r;
}

static long do_semtimedop(struct task *t, int id, uint64_t usops, unsigned nsops, uint64_t utimeout)
{
    struct timespec ts, deadline, *dl = NULL;
    if (utimeout && copy_in(t, &ts, utimeout, sizeof(ts)) < 0)
        return -EFAULT;
    if (nsops < 1 || id < 0)
        return -EINVAL;
    if (nsops > SEMOPM)
        return -E2BIG;
    struct sembuf_k sops[SEMOPM];
    if (copy_in(t, sops, usops, nsops * sizeof(sops[0])) < 0)
        return -EFAULT;
    if (utimeout) {
        if (!ktime_valid(ts.tv_sec, ts.tv_nsec))
            return -EINVAL;
        uint64_t ns = (uint64_t)ts.tv_sec > UINT64_MAX / 2000000000ULL
                          ? UINT64_MAX / 2
                          : (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        wait_deadline_ns(&deadline, ns);
        dl = &deadline;
    }
    int max = 0, undos = 0, alter = 0;
    for (unsigned i = 0; i < nsops; i++) {
        if (sops[i].num >= max)
            max = sops[i].num;
        if (sops[i].flg & SEM_UNDO)
            undos = 1;
        if (sops[i].op)
            alter = 1;
    }
    pthread_mutex_lock(&sem_lock);
    long r;
    struct ipc_obj *p = ipc_ids_find(&sem_ids, id);
    if (!p) {
        pthread_mutex_unlock(&sem_lock);
        return -EINVAL;
    }
    struct sem_set *s = set_of(p);
    if (max >= s->nsems) {
        pthread_mutex_unlock(&sem_lock);
        return -EFBIG;
    }
    if (ipc_perms(t->cred, p, alter ? S_IWUGO : S_IRUGO) < 0) {
        pthread_mutex_unlock(&sem_lock);
        return -EACCES;
    }
    struct sem_undo *un = NULL;
    if (undos) {
        un = undo_find(s, t->proc);
        if (!un) {
            un = calloc(1, sizeof(*un) + (size_t)s->nsems * sizeof(short));
            if (!un) {
                pthread_mutex_unlock(&sem_lock);
                return -ENOMEM;
            }
            un->owner = t->proc;
            un->next = s->undos;
            s->undos = un;
        }
    }
    s->refs++;
    int timed_out = 0;
    for (;;) {
        if (s->perm.deleted) {
            r = -EIDRM;
            break;
        }
        const struct sembuf_k *blk = NULL;
        r = try_semop(s, sops, nsops, un, t->proc->pid, &blk);
        if (r == 0) {
            wake_up_all(&s->wq);
            break;
        }
        if (r < 0)
            break;
        if (timed_out) {
            r = -EAGAIN;
            break;
        }
        struct sem_waiter w = { s->waiters, blk->num, blk->op == 0 };
        s->waiters = &w;
        int wr = waitq_wait(t, &s->wq, &sem_lock, dl, 0);
        for (struct sem_waiter **pp = &s->waiters; *pp; pp = &(*pp)->next)
            if (*pp == &w) {
                *pp = w.next;
                break;
            }
        if (wr == -ETIMEDOUT)
            timed_out = 1;
        else if (wr < 0) {
            r = s->perm.deleted ? -EIDRM : -EINTR;
            break;
        }
    }
    set_put(s);
    pthread_mutex_unlock(&sem_lock);
    return r;
}

SYSCALL_DEFINE3(semop, int, id, uint64_t, sops, unsigned, nsops)
{
    return do_semtimedop(t, id, sops, nsops, 0);
}

SYSCALL_DEFINE4(semtimedop, int, id, uint64_t, sops, unsigned, nsops, uint64_t, timeout)
{
    return do_semtimedop(t, id, sops, nsops, timeout);
}

static int count_waiters(struct sem_set *s, int semnum, int zero)
{
    int n = 0;
    for (struct sem_waiter *w = s->waiters; w; w = w->next)
        n += w->semnum == semnum && w->zero == zero;
    return n;
}

static void set_remove(struct ipc_obj *p)
{
    struct sem_set *s = set_of(p);
    used_sems -= s->nsems;
    ipc_ids_remove(&sem_ids, &s->perm);
    wake_up_all(&s->wq);
    set_put(s);
}

static void clear_adj(struct sem_set *s, int semnum)
{
    for (struct sem_undo *u = s->undos; u; u = u->next)
        for (int i = 0; i < s->nsems; i++)
            if (semnum < 0 || i == semnum)
                u->adj[i] = 0;
}

static long semctl_main(struct task *t, int id, int semnum, int cmd, uint64_t arg)
{
    pthread_mutex_lock(&sem_lock);
    struct ipc_obj *p = ipc_ids_find(&sem_ids, id);
    if (!p) {
        pthread_mutex_unlock(&sem_lock);
        return -EINVAL;
    }
    struct sem_set *s = set_of(p);
    int nsems = s->nsems;
    long r;
    if (ipc_perms(t->cred, p, cmd == SETALL ? S_IWUGO : S_IRUGO) < 0) {
        r = -EACCES;
        goto out;
    }
    if (cmd == GETALL || cmd == SETALL) {
        uint16_t *v = malloc((size_t)nsems * sizeof(*v));
        if (!v) {
            r = -ENOMEM;
            goto out;
        }
        if (cmd == GETALL) {
            for (int i = 0; i < nsems; i++)
                v[i] = (uint16_t)s->sems[i].val;
            /* The copy may fault: not under the lock another process may want. */
            pthread_mutex_unlock(&sem_lock);
            r = copy_out(t, arg, v, (size_t)nsems * sizeof(*v)) < 0 ? -EFAULT : 0;
            free(v);
            return r;
        }
        pthread_mutex_unlock(&sem_lock);
        if (copy_in(t, v, arg, (size_t)nsems * sizeof(*v)) < 0) {
            free(v);
            return -EFAULT;
        }
        r = 0;
        for (int i = 0; i < nsems; i++)
            if (v[i] > SEMVMX)
                r = -ERANGE;
        if (r < 0) {
            free(v);
            return r;
        }
        pthread_mutex_lock(&sem_lock);
        if (ipc_ids_find(&sem_ids, id) != p) {
            r = -EIDRM;
        } else {
            for (int i = 0; i < nsems; i++) {
                s->sems[i].val = v[i];
                s->sems[i].pid = t->proc->pid;
            }
            clear_adj(s, -1);
            s->perm.ctime = ipc_now();
            wake_up_all(&s->wq);
        }
        free(v);
        goto out;
    }
    if (semnum < 0 || semnum >= nsems) {
        r = -EINVAL;
        goto out;
    }
    switch (cmd) {
    case GETVAL:
        r = s->sems[semnum].val;
        break;
    case GETPID:
        r = s->sems[semnum].pid;
        break;
    case GETNCNT:
        r = count_waiters(s, semnum, 0);
        break;
    default: /* GETZCNT */
        r = count_waiters(s, semnum, 1);
        break;
    }
out:
    pthread_mutex_unlock(&sem_lock);
    return r;
}

static void sem_stat(struct ipc_obj *p, void *dsp)
{
    struct semid64_k *ds = dsp;
    struct sem_set *s = set_of(p);
    ds->otime = s->otime;
    ds->ctime = p->ctime;
    ds->nsems = (uint64_t)s->nsems;
}

static size_t sem_info(int cmd, void *info)
{
    struct seminfo_k *si = info;
    *si = (struct seminfo_k){ .semmni = SEMMNI,
                              .semmns = SEMMNS,
                              .semmsl = SEMMSL,
                              .semopm = SEMOPM,
                              .semvmx = SEMVMX,
                              .semmnu = SEMMNS,
                              .semmap = SEMMNS,
                              .semume = SEMOPM,
                              .semusz = SEMUSZ,
                              .semaem = SEMAEM };
    if (cmd == SEM_INFO) {
        si->semusz = sem_ids.in_use;
        si->semaem = (int32_t)used_sems;
    }
    return sizeof(*si);
}

_Static_assert(sizeof(struct semid64_k) <= IPC_DS_MAX && sizeof(struct seminfo_k) <= IPC_DS_MAX,
               "semid64_k and seminfo_k fit ipc_ctl");

static const struct ipc_kind sem_kind = {
    .lock = &sem_lock,
    .ids = &sem_ids,
    .ds_size = sizeof(struct semid64_k),
    .stat_cmd = SEM_STAT,
    .stat_any = SEM_STAT_ANY,
    .info_cmd = SEM_INFO,
    .info = sem_info,
    .stat = sem_stat,
    .remove = set_remove,
};

SYSCALL_DEFINE4(semctl, int, id, int, semnum, int, cmd, uint64_t, arg)
{
    const struct creds *c = t->cred;
    if (id < 0)
        return -EINVAL;
    long r;
    switch (cmd) {
    case GETALL:
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
    case SETALL:
        return semctl_main(t, id, semnum, cmd, arg);
    case SETVAL: {
        int val = (int)arg;
        if (val > SEMVMX || val < 0)
            return -ERANGE;
        pthread_mutex_lock(&sem_lock);
        struct ipc_obj *p = ipc_ids_find(&sem_ids, id);
        if (!p)
            r = -EINVAL;
        else if (semnum < 0 || semnum >= set_of(p)->nsems)
            r = -EINVAL;
        else if (ipc_perms(c, p, S_IWUGO) < 0)
            r = -EACCES;
        else {
            struct sem_set *s = set_of(p);
            s->sems[semnum].val = val;
            s->sems[semnum].pid = t->proc->pid;
            clear_adj(s, semnum);
            s->perm.ctime = ipc_now();
            wake_up_all(&s->wq);
            r = 0;
        }
        pthread_mutex_unlock(&sem_lock);
        return r;
    }
    default:
        return ipc_ctl(t, &sem_kind, cmd, id, arg);
    }
}

void ipc_sem_exit(struct process *p)
{
    pthread_mutex_lock(&sem_lock);
    for (int i = 0; i < sem_ids.cap; i++) {
        if (!sem_ids.slot[i])
            continue;
        struct sem_set *s = set_of(sem_ids.slot[i]);
        for (struct sem_undo **pp = &s->undos; *pp; pp = &(*pp)->next) {
            struct sem_undo *u = *pp;
            if (u->owner != p)
                continue;
            *pp = u->next;
            for (int k = 0; k < s->nsems; k++) {
                if (!u->adj[k])
                    continue;
                int v = s->sems[k].val + u->adj[k];
                s->sems[k].val = v < 0 ? 0 : v > SEMVMX ? SEMVMX : v;
                s->sems[k].pid = p->pid;
            }
            free(u);
            wake_up_all(&s->wq);
            break;
        }
    }
    pthread_mutex_unlock(&sem_lock);
}

static void sem_proc_line(struct strbuf *out, const struct ipc_obj *p)
{
    const struct sem_set *s = (const struct sem_set *)p;
    strbuf_printf(out, "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n", p->key, p->id,
                  p->mode, (unsigned)s->nsems, p->uid, p->gid, p->cuid, p->cgid,
                  (unsigned long long)s->otime, (unsigned long long)p->ctime);
}

int ipc_sem_proc_show(struct strbuf *out)
{
    return ipc_ids_show(out,
                        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime "
                        "     ctime\n",
                        &sem_ids, &sem_lock, sem_proc_line);
}
