/* System V message queues (Linux's ipc/msg.c): msgget, msgsnd, msgrcv,
 * msgctl. One lock for all queues (msg_lock), which is also the sleepers'
 * condition lock: a change wakes every sleeper of the queue, each of
 * which looks again. A removed queue lives on until its last sleeper has
 * left (refs), and its sleepers get EIDRM. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>

#include "fs/procfs/procfs.h"
#include "ipc/ipc.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/syscall.h"

/* Linux's defaults (include/uapi/linux/msg.h). */
#define MSGMNI 32000
#define MSGMAX 8192
#define MSGMNB 16384
#define MSGSSZ 16
#define MSGSEG 0xffff
#define MSGPOOL (MSGMNI * MSGMNB / 1024)
/* The sentry's memory is not the guest's to take: all queues together
 * hold at most this many bytes of messages; a send past it is ENOMEM (as
 * Linux's when the kernel has no memory for the message). */
#define MSG_SANDBOX_BYTES (64UL << 20)

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef MSG_EXCEPT
#define MSG_EXCEPT 020000
#endif
#define GCAP_SYS_RESOURCE_ 24

struct msg_msg {
    struct msg_msg *next;
    long type;
    size_t len;
    char text[];
};

struct msg_queue {
    struct ipc_obj perm; /* first: the table holds &perm */
    int64_t stime, rtime;
    uint64_t cbytes, qnum, qbytes;
    int lspid, lrpid;
    struct msg_msg *head, **tail;
    struct waitq wq; /* senders and receivers */
    int refs;        /* the table and each sleeper */
};

static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc_ids msg_ids = { .last_idx = -1, .limit = MSGMNI };
static uint64_t msg_total_msgs, msg_total_bytes;

/* struct msqid64_ds of x86-64. */
struct msqid64_k {
    struct ipc64_perm_k perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct msqid64_k) == 120, "msqid64_ds");

struct msginfo_k {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};

static void queue_put(struct msg_queue *q)
{
    if (--q->refs)
        return;
    struct msg_msg *m = q->head;
    while (m) {
        struct msg_msg *n = m->next;
        free(m);
        m = n;
    }
    waitq_destroy(&q->wq);
    free(q);
}

static struct msg_queue *queue_of(struct ipc_obj *p)
{
    return (struct msg_queue *)p;
}

/* A sender's (mode S_IWUGO) or receiver's (S_IRUGO) look at the queue, each
 * time round its wait loop: EACCES without the right, EIDRM once the queue
 * is removed, else 0. */
static long msg_check(struct task *t, struct msg_queue *q, int mode)
{
    if (ipc_perms(t->cred, &q->perm, mode) < 0)
        return -EACCES;
    return q->perm.deleted ? -EIDRM : 0;
}

/* A sender or receiver that cannot go on yet, under msg_lock: with
 * IPC_NOWAIT in flag, nowait_err; otherwise it sleeps on q->wq until the
 * queue changes (0: look again) or a signal comes (-ERESTARTNOHAND). */
static long msg_wait(struct task *t, struct msg_queue *q, int flag, long nowait_err)
{
    if (flag & IPC_NOWAIT)
        return nowait_err;
    return waitq_wait(t, &q->wq, &msg_lock, NULL, 0) < 0 ? -ERESTARTNOHAND : 0;
}

SYSCALL_DEFINE2(msgget, int32_t, key, int, flag)
{
    const struct creds *c = t->cred;
    pthread_mutex_lock(&msg_lock);
    long r;
    if (ipc_get_key(&msg_ids, key, flag, c, NULL, 0, &r)) {
        struct msg_queue *q = calloc(1, sizeof(*q));
        if (!q) {
            r = -ENOMEM;
        } else {
            ipc_obj_init(&q->perm, key, flag, c);
            q->qbytes = MSGMNB;
            q->tail = &q->head;
            q->refs = 1;
            waitq_init(&q->wq);
            r = ipc_ids_add(&msg_ids, &q->perm);
            if (r < 0) {
                waitq_destroy(&q->wq);
                free(q);
            }
        }
    }
    pthread_mutex_unlock(&msg_lock);
    return r;
}

SYSCALL_DEFINE4(msgsnd, int, id, uint64_t, msgp, size_t, msgsz, int, flag)
{
    long type;
    if (copy_in(t, &type, msgp, sizeof(type)) < 0)
        return -EFAULT;
    if (msgsz > MSGMAX || (long)msgsz < 0 || id < 0)
        return -EINVAL;
    if (type < 1)
        return -EINVAL;
    struct msg_msg *m = malloc(sizeof(*m) + msgsz);
    if (!m)
        return -ENOMEM;
    m->next = NULL;
    m->type = type;
    m->len = msgsz;
    if (msgsz && copy_in(t, m->text, msgp + sizeof(long), msgsz) < 0) {
        free(m);
        return -EFAULT;
    }
    pthread_mutex_lock(&msg_lock);
    long r;
    struct ipc_obj *p = ipc_ids_find(&msg_ids, id);
    if (!p) {
        r = -EINVAL;
        goto out;
    }
    struct msg_queue *q = queue_of(p);
    q->refs++;
    for (;;) {
        r = msg_check(t, q, S_IWUGO);
        if (r < 0)
            break;
        if (msgsz + q->cbytes <= q->qbytes && 1 + q->qnum <= q->qbytes) {
            if (msg_total_bytes + msgsz + sizeof(*m) * (msg_total_msgs + 1) > MSG_SANDBOX_BYTES) {
                r = -ENOMEM;
                break;
            }
            *q->tail = m;
            q->tail = &m->next;
            m = NULL;
            q->cbytes += msgsz;
            q->qnum++;
            msg_total_msgs++;
            msg_total_bytes += msgsz;
            q->lspid = t->proc->pid;
            q->stime = ipc_now();
            wake_up_all(&q->wq);
            r = 0;
            break;
        }
        r = msg_wait(t, q, flag, -EAGAIN);
        if (r < 0)
            break;
    }
    queue_put(q);
out:
    pthread_mutex_unlock(&msg_lock);
    free(m);
    return r;
}

enum { SEARCH_ANY, SEARCH_EQUAL, SEARCH_NOTEQUAL, SEARCH_LESSEQUAL, SEARCH_NUMBER };

static int testmsg(const struct msg_msg *m, long type, int mode)
{
    switch (mode) {
    case SEARCH_ANY:
    case SEARCH_NUMBER:
        return 1;
    case SEARCH_LESSEQUAL:
        return m->type <= type;
    case SEARCH_EQUAL:
        return m->type == type;
    case SEARCH_NOTEQUAL:
        return m->type != type;
    }
    return 0;
}

/* Linux's find_msg: the link that points to the message found, or NULL. */
static struct msg_msg **find_msg(struct msg_queue *q, long type, int mode)
{
    struct msg_msg **found = NULL;
    long count = 0;
    for (struct msg_msg **pp = &q->head; *pp; pp = &(*pp)->next) {
        struct msg_msg *m = *pp;
        if (!testmsg(m, type, mode))
            continue;
        if (mode == SEARCH_LESSEQUAL && m->type != 1) {
            type = m->type - 1;
            found = pp;
        } else if (mode == SEARCH_NUMBER) {
            if (type == count)
                return pp;
        } else {
            return pp;
        }
        count++;
    }
    return found;
}

SYSCALL_DEFINE5(msgrcv, int, id, uint64_t, msgp, size_t, bufsz, long, type, int, flag)
{
    if (id < 0 || (long)bufsz < 0)
        return -EINVAL;
    int mode;
    if (flag & MSG_COPY) {
        if ((flag & MSG_EXCEPT) || !(flag & IPC_NOWAIT))
            return -EINVAL;
        mode = SEARCH_NUMBER;
    } else if (type == 0) {
        mode = SEARCH_ANY;
    } else if (type < 0) {
        type = type == LONG_MIN ? LONG_MAX : -type;
        mode = SEARCH_LESSEQUAL;
    } else {
        mode = flag & MSG_EXCEPT ? SEARCH_NOTEQUAL : SEARCH_EQUAL;
    }
    pthread_mutex_lock(&msg_lock);
    long r;
    struct msg_msg *m = NULL;
    struct ipc_obj *p = ipc_ids_find(&msg_ids, id);
    if (!p) {
        pthread_mutex_unlock(&msg_lock);
        return -EINVAL;
    }
    struct msg_queue *q = queue_of(p);
    q->refs++;
    for (;;) {
        r = msg_check(t, q, S_IRUGO);
        if (r < 0)
            break;
        struct msg_msg **pp = find_msg(q, type, mode);
        if (pp) {
            struct msg_msg *f = *pp;
            if (bufsz < f->len && !(flag & MSG_NOERROR)) {
                r = -E2BIG;
                break;
            }
            if (flag & MSG_COPY) {
                size_t n = bufsz < f->len ? bufsz : f->len;
                m = malloc(sizeof(*m) + n);
                if (!m) {
                    r = -ENOMEM;
                    break;
                }
                m->type = f->type;
                m->len = n;
                memcpy(m->text, f->text, n);
            } else {
                *pp = f->next;
                if (q->tail == &f->next)
                    q->tail = pp;
                q->qnum--;
                q->cbytes -= f->len;
                msg_total_msgs--;
                msg_total_bytes -= f->len;
                q->lrpid = t->proc->pid;
                q->rtime = ipc_now();
                m = f;
                wake_up_all(&q->wq);
            }
            r = 0;
            break;
        }
        r = msg_wait(t, q, flag, -ENOMSG);
        if (r < 0)
            break;
    }
    queue_put(q);
    pthread_mutex_unlock(&msg_lock);
    if (r < 0)
        return r;
    size_t n = bufsz < m->len ? bufsz : m->len;
    if (copy_out(t, msgp, &m->type, sizeof(long)) < 0 ||
        (n && copy_out(t, msgp + sizeof(long), m->text, n) < 0))
        r = -EFAULT;
    else
        r = (long)n;
    free(m);
    return r;
}

static void msq_stat(struct ipc_obj *p, void *dsp)
{
    struct msqid64_k *ds = dsp;
    struct msg_queue *q = queue_of(p);
    ds->stime = q->stime;
    ds->rtime = q->rtime;
    ds->ctime = p->ctime;
    ds->cbytes = q->cbytes;
    ds->qnum = q->qnum;
    ds->qbytes = q->qbytes;
    ds->lspid = q->lspid;
    ds->lrpid = q->lrpid;
}

/* Raising msg_qbytes past msgmnb takes CAP_SYS_RESOURCE. */
static int msq_set(struct ipc_obj *p, const void *dsp, const struct creds *c)
{
    const struct msqid64_k *ds = dsp;
    if (ds->qbytes > MSGMNB && !creds_capable(c, GCAP_SYS_RESOURCE_))
        return -EPERM;
    struct msg_queue *q = queue_of(p);
    q->qbytes = ds->qbytes;
    wake_up_all(&q->wq);
    return 0;
}

static void queue_remove(struct ipc_obj *p)
{
    struct msg_queue *q = queue_of(p);
    for (struct msg_msg *m = q->head; m; m = m->next) {
        msg_total_msgs--;
        msg_total_bytes -= m->len;
    }
    ipc_ids_remove(&msg_ids, &q->perm);
    wake_up_all(&q->wq);
    queue_put(q);
}

_Static_assert(sizeof(struct msqid64_k) <= IPC_DS_MAX && sizeof(struct msginfo_k) <= IPC_DS_MAX,
               "msqid64_k and msginfo_k fit ipc_ctl");

static size_t msg_info(int cmd, void *info)
{
    struct msginfo_k *mi = info; /* zeroed, its padding too */
    mi->msgmni = MSGMNI;
    mi->msgmax = MSGMAX;
    mi->msgmnb = MSGMNB;
    mi->msgssz = MSGSSZ;
    mi->msgseg = MSGSEG;
    if (cmd == MSG_INFO) {
        mi->msgpool = msg_ids.in_use;
        mi->msgmap = (int32_t)msg_total_msgs;
        mi->msgtql = (int32_t)msg_total_bytes;
    } else {
        mi->msgpool = MSGPOOL;
        mi->msgmap = MSGMNB;
        mi->msgtql = MSGMNB;
    }
    return sizeof(*mi);
}

static const struct ipc_kind msg_kind = {
    .lock = &msg_lock,
    .ids = &msg_ids,
    .ds_size = sizeof(struct msqid64_k),
    .stat_cmd = MSG_STAT,
    .stat_any = MSG_STAT_ANY,
    .info_cmd = MSG_INFO,
    .info = msg_info,
    .stat = msq_stat,
    .set = msq_set,
    .remove = queue_remove,
};

SYSCALL_DEFINE3(msgctl, int, id, int, cmd, uint64_t, buf)
{
    if (id < 0 || cmd < 0)
        return -EINVAL;
    return ipc_ctl(t, &msg_kind, cmd, id, buf);
}

static void msg_proc_line(struct strbuf *out, const struct ipc_obj *p)
{
    const struct msg_queue *q = (const struct msg_queue *)p;
    strbuf_printf(out, "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n",
                  p->key, p->id, p->mode, (unsigned long)q->cbytes, (unsigned long)q->qnum,
                  (unsigned)q->lspid, (unsigned)q->lrpid, p->uid, p->gid, p->cuid, p->cgid,
                  (unsigned long long)q->stime, (unsigned long long)q->rtime,
                  (unsigned long long)p->ctime);
}

int ipc_msg_proc_show(struct strbuf *out)
{
    return ipc_ids_show(
        out,
        "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid "
        " cuid  cgid      stime      rtime      ctime\n",
        &msg_ids, &msg_lock, msg_proc_line);
}
