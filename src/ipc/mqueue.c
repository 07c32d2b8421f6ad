/* POSIX message queues (Linux's ipc/mqueue.c): mq_open, mq_unlink,
 * mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr. The queues
 * live in the sandbox's one mqueue namespace: a table of names (the
 * mqueue file system's root directory, mode 01777 owned by root), each
 * naming a queue that lives while it has a name or an open descriptor.
 * A descriptor is a file (close, dup, fstat, read of the queue's status
 * line, poll and epoll readiness).
 *
 * One lock (mq_lock) guards every queue and is its sleepers' condition
 * lock; a change wakes all the sleepers and pollers of the queue.
 * mq_notify supports SIGEV_NONE and SIGEV_SIGNAL; SIGEV_THREAD (which
 * needs a netlink socket) is EINVAL. A registration goes with its
 * process's death or the queue's last descriptor, not with each close. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "fs/vfs/vfs.h"
#include "ipc/ipc.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define MQ_PRIO_MAX_ 32768
#define DFLT_MSGMAX 10
#define DFLT_MSGSIZEMAX 8192
#define HARD_MSGMAX 65536
#define HARD_MSGSIZEMAX (16 * 1024 * 1024)
#define QUEUES_MAX 256
#define NAME_MAX_ 255
#define FILENT_SIZE 80
#define MSG_OVERHEAD 48 /* struct msg_msg and a tree node, as Linux counts */
#define SI_MESGQ_ (-3)
#define SIGEV_SIGNAL_ 0
#define SIGEV_NONE_ 1
#define SIGEV_THREAD_ 2
/* All queues' messages together, in the sentry's memory (a root guest may
 * raise RLIMIT_MSGQUEUE): a send past it is ENOMEM. */
#define MQ_SANDBOX_BYTES (64UL << 20)
static uint64_t mq_total_bytes;

struct mq_msg {
    struct mq_msg *next;
    unsigned prio;
    size_t len;
    char text[];
};

struct mqueue {
    int refs; /* the name and each open file */
    char name[NAME_MAX_ + 1];
    int linked;
    uint32_t mode, uid, gid;
    uint32_t charged_uid;
    uint64_t charged;
    uint64_t ino;
    long maxmsg, msgsize, curmsgs;
    int receivers; /* sleeping in mq_timedreceive */
    uint64_t qsize;
    struct mq_msg *head; /* by priority, highest first; FIFO within one */
    struct waitq wq;     /* senders, receivers and pollers */
    struct timespec atime, mtime, ctime;
    struct process *notify_owner; /* a reference, or NULL */
    int notify_pid, notify_kind, notify_signo;
    uint64_t notify_value;
    struct mqueue *next_all;
};

static pthread_mutex_t mq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mqueue *mq_all; /* the named ones */
static int mq_count;
static uint64_t mq_next_ino = 1;

/* RLIMIT_MSGQUEUE's bytes per real uid (Linux's ucounts). */
struct mq_user {
    struct mq_user *next;
    uint32_t uid;
    uint64_t bytes;
};
static struct mq_user *mq_users;

static struct mq_user *user_of(uint32_t uid, int make)
{
    for (struct mq_user *u = mq_users; u; u = u->next)
        if (u->uid == uid)
            return u;
    if (!make)
        return NULL;
    struct mq_user *u = calloc(1, sizeof(*u));
    if (u) {
        u->uid = uid;
        u->next = mq_users;
        mq_users = u;
    }
    return u;
}

static void now_rt(struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
}

/* p has not died (its state is under tasklist; mq_lock comes first). */
static int proc_alive(struct process *p)
{
    pthread_mutex_lock(&p->sandbox->tasklist);
    int alive = p->state == PROC_ALIVE;
    pthread_mutex_unlock(&p->sandbox->tasklist);
    return alive;
}

static void notify_clear(struct mqueue *q)
{
    if (q->notify_owner)
        process_put(q->notify_owner);
    q->notify_owner = NULL;
    q->notify_pid = 0;
}

/* Drop a reference; mq_lock held. */
static void mq_put(struct mqueue *q)
{
    if (--q->refs)
        return;
    struct mq_user *u = user_of(q->charged_uid, 0);
    if (u)
        u->bytes -= q->charged;
    notify_clear(q);
    while (q->head) {
        struct mq_msg *m = q->head;
        q->head = m->next;
        mq_total_bytes -= m->len + sizeof(*m);
        free(m);
    }
    waitq_destroy(&q->wq);
    free(q);
}

static struct mqueue *mq_find(const char *name)
{
    for (struct mqueue *q = mq_all; q; q = q->next_all)
        if (!strcmp(q->name, name))
            return q;
    return NULL;
}

static void mq_unlink_locked(struct mqueue *q)
{
    for (struct mqueue **pp = &mq_all; *pp; pp = &(*pp)->next_all)
        if (*pp == q) {
            *pp = q->next_all;
            break;
        }
    q->linked = 0;
    mq_count--;
    mq_put(q);
}

/* ---- the descriptor ---- */

static ssize_t mq_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    struct mqueue *q = f->priv;
    char line[128];
    pthread_mutex_lock(&mq_lock);
    int kind = q->notify_owner ? q->notify_kind : 0;
    int signo = q->notify_owner && q->notify_kind == SIGEV_SIGNAL_ ? q->notify_signo : 0;
    int n =
        snprintf(line, sizeof(line), "QSIZE:%-10llu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
                 (unsigned long long)q->qsize, kind, signo, q->notify_owner ? q->notify_pid : 0);
    now_rt(&q->atime);
    pthread_mutex_unlock(&mq_lock);
    if (*pos < 0)
        return -EINVAL;
    if (*pos >= n)
        return 0;
    size_t k = (size_t)(n - *pos) < len ? (size_t)(n - *pos) : len;
    memcpy(buf, line + *pos, k);
    *pos += (off_t)k;
    return (ssize_t)k;
}

static unsigned mq_poll(struct file *f, struct poll_table *pt)
{
    struct mqueue *q = f->priv;
    if (pt)
        poll_wait(pt, &q->wq);
    unsigned ev = 0;
    pthread_mutex_lock(&mq_lock);
    if (q->curmsgs)
        ev |= POLLIN | POLLRDNORM;
    if (q->curmsgs < q->maxmsg)
        ev |= POLLOUT | POLLWRNORM;
    pthread_mutex_unlock(&mq_lock);
    return ev;
}

static dev_t mq_dev;
static pthread_once_t mq_dev_once = PTHREAD_ONCE_INIT;
static void mq_dev_init(void)
{
    mq_dev = vfs_anon_dev();
}

static int mq_stat(struct file *f, struct stat *st)
{
    struct mqueue *q = f->priv;
    pthread_once(&mq_dev_once, mq_dev_init);
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&mq_lock);
    st->st_dev = mq_dev;
    st->st_ino = q->ino;
    st->st_mode = S_IFREG | q->mode;
    st->st_nlink = q->linked ? 1 : 0;
    st->st_uid = q->uid;
    st->st_gid = q->gid;
    st->st_size = FILENT_SIZE;
    st->st_blksize = 4096;
    st->st_atim = q->atime;
    st->st_mtim = q->mtime;
    st->st_ctim = q->ctime;
    pthread_mutex_unlock(&mq_lock);
    return 0;
}

static void mq_release(struct file *f)
{
    struct mqueue *q = f->priv;
    pthread_mutex_lock(&mq_lock);
    mq_put(q);
    pthread_mutex_unlock(&mq_lock);
}

static const struct file_ops mq_ops = {
    .name = "mqueue",
    .read = mq_read,
    .poll = mq_poll,
    .stat = mq_stat,
    .release = mq_release,
};

/* The queue of descriptor fd (a reference to the file in *fp), or NULL. */
static struct mqueue *mq_fget(struct task *t, int fd, struct file **fp)
{
    struct file *f = fget(t, fd);
    if (!f)
        return NULL;
    if (f->ops != &mq_ops) {
        file_put(f);
        return NULL;
    }
    *fp = f;
    return f->priv;
}

/* mq_fget for a send (write) or a receive (!write): NULL (EBADF) also when
 * the descriptor is not open for it. */
static struct mqueue *mq_fget_mode(struct task *t, int fd, int write, struct file **fp)
{
    struct file *f;
    struct mqueue *q = mq_fget(t, fd, &f);
    if (!q)
        return NULL;
    if (!(write ? file_writable(f) : file_readable(f))) {
        file_put(f);
        return NULL;
    }
    *fp = f;
    return q;
}

/* ---- names ---- */

/* The name argument: 0, or getname's and lookup_one_len's errors. */
static long mq_name_in(struct task *t, uint64_t uname, char *name)
{
    char *buf = malloc(4096);
    if (!buf)
        return -ENOMEM;
    long n = strncpy_in(t, buf, uname, 4096);
    long r = 0;
    if (n < 0)
        r = n;
    else if (n == 0)
        r = -ENOENT;
    else if (strchr(buf, '/') || !strcmp(buf, ".") || !strcmp(buf, ".."))
        r = -EACCES;
    else if (n > NAME_MAX_)
        r = -ENAMETOOLONG;
    else
        memcpy(name, buf, (size_t)n + 1);
    free(buf);
    return r;
}

/* generic_permission on a queue for MAY_READ (4) / MAY_WRITE (2). */
static int mq_permission(const struct creds *c, const struct mqueue *q, int mask)
{
    uint32_t mode = q->mode;
    if (c->fsuid == q->uid)
        mode >>= 6;
    else if (c->fsgid == q->gid || creds_in_groups(c, q->gid))
        mode >>= 3;
    if (!(mask & ~mode & 7))
        return 0;
    if (creds_capable(c, GCAP_DAC_OVERRIDE))
        return 0;
    if (mask == 4 && creds_capable(c, GCAP_DAC_READ_SEARCH))
        return 0;
    return -EACCES;
}

struct mq_attr_k {
    int64_t flags, maxmsg, msgsize, curmsgs, reserved[4];
};

long sys_mq_open(struct task *t, const struct sysargs *a)
{
    uint64_t uname = a->a[0];
    int oflag = (int)a->a[1];
    uint32_t mode = (uint32_t)a->a[2];
    uint64_t uattr = a->a[3];
    const struct creds *c = t->cred;
    struct mq_attr_k attr;
    if (uattr && copy_in(t, &attr, uattr, sizeof(attr)) < 0)
        return -EFAULT;
    char name[NAME_MAX_ + 1];
    long r = mq_name_in(t, uname, name);
    if (r < 0)
        return r;
    struct file *f = file_new(&mq_ops, oflag & (O_ACCMODE | O_NONBLOCK));
    if (!f)
        return -ENOMEM;
    int created = 0;
    pthread_mutex_lock(&mq_lock);
    struct mqueue *q = mq_find(name);
    if (q) {
        static const int acc[3] = { 4, 2, 6 };
        if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            r = -EEXIST;
        else if ((oflag & O_ACCMODE) == O_ACCMODE)
            r = -EINVAL;
        else
            r = mq_permission(c, q, acc[oflag & O_ACCMODE]);
    } else if (!(oflag & O_CREAT)) {
        r = -ENOENT;
    } else if (mq_count >= QUEUES_MAX && !creds_capable(c, GCAP_SYS_RESOURCE)) {
        r = -ENOSPC;
    } else {
        long maxmsg = DFLT_MSGMAX, msgsize = DFLT_MSGSIZEMAX;
        if (uattr) {
            int big = creds_capable(c, GCAP_SYS_RESOURCE);
            if (attr.maxmsg <= 0 || attr.msgsize <= 0)
                r = -EINVAL;
            else if (attr.maxmsg > (big ? HARD_MSGMAX : DFLT_MSGMAX) ||
                     attr.msgsize > (big ? HARD_MSGSIZEMAX : DFLT_MSGSIZEMAX))
                r = -EINVAL;
            maxmsg = attr.maxmsg;
            msgsize = attr.msgsize;
        }
        uint64_t bytes = (uint64_t)maxmsg * MSG_OVERHEAD +
                         (uint64_t)(maxmsg < MQ_PRIO_MAX_ ? maxmsg : MQ_PRIO_MAX_) * MSG_OVERHEAD +
                         (uint64_t)maxmsg * (uint64_t)msgsize;
        struct mq_user *u = r < 0 ? NULL : user_of(c->uid, 1);
        if (r < 0)
            ;
        else if (!u)
            r = -ENOMEM;
        else if (u->bytes + bytes > t->proc->rlim[RLIMIT_MSGQUEUE].cur)
            r = -EMFILE;
        else if (!(q = calloc(1, sizeof(*q))))
            r = -ENOMEM;
        else {
            u->bytes += bytes;
            q->charged = bytes;
            q->charged_uid = c->uid;
            q->refs = 1;
            q->linked = 1;
            snprintf(q->name, sizeof(q->name), "%s", name);
            uint32_t umask = __atomic_load_n(&t->proc->fs->umask, __ATOMIC_RELAXED);
            q->mode = mode & 07777 & ~umask;
            q->uid = c->fsuid;
            q->gid = c->fsgid;
            q->maxmsg = maxmsg;
            q->msgsize = msgsize;
            q->ino = mq_next_ino++;
            now_rt(&q->ctime);
            q->atime = q->mtime = q->ctime;
            waitq_init(&q->wq);
            q->next_all = mq_all;
            mq_all = q;
            mq_count++;
            created = 1;
        }
    }
    if (r == 0) {
        q->refs += 1 + created; /* the file's, and ours while we install it */
        f->priv = q;
    }
    pthread_mutex_unlock(&mq_lock);
    if (r < 0) {
        f->ops = NULL;
        file_put(f);
        return r;
    }
    /* Linux's mq_open descriptors are always close-on-exec. */
    r = fd_install_new(t, f, 1);
    if (created) {
        /* Linux takes the descriptor first: no queue is made without one. */
        pthread_mutex_lock(&mq_lock);
        if (r < 0 && q->linked)
            mq_unlink_locked(q);
        mq_put(q);
        pthread_mutex_unlock(&mq_lock);
    }
    return r;
}

long sys_mq_unlink(struct task *t, const struct sysargs *a)
{
    uint64_t uname = a->a[0];
    const struct creds *c = t->cred;
    char name[NAME_MAX_ + 1];
    long r = mq_name_in(t, uname, name);
    if (r < 0)
        return r;
    pthread_mutex_lock(&mq_lock);
    struct mqueue *q = mq_find(name);
    if (!q)
        r = -ENOENT;
    else if (c->fsuid != q->uid && c->fsuid != 0 && !creds_capable(c, GCAP_FOWNER))
        r = -EPERM; /* the sticky root directory */
    else
        mq_unlink_locked(q);
    pthread_mutex_unlock(&mq_lock);
    return r;
}

/* An absolute CLOCK_REALTIME timeout argument: 0 (none: *to NULL), or
 * -EFAULT / -EINVAL. */
static long timeout_in(struct task *t, uint64_t u, struct ktimeout *kt, struct ktimeout **to)
{
    *to = NULL;
    if (!u)
        return 0;
    long r = ktime_copy_in(t, u, &kt->abs);
    if (r < 0)
        return r;
    kt->clock = CLOCK_REALTIME;
    *to = kt;
    return 0;
}

/* A sender or receiver on f that cannot go on yet, under mq_lock: -EAGAIN
 * if f is non-blocking, else one sleep on q toward to: 0 (look again),
 * -ETIMEDOUT or -ERESTARTSYS. */
static int mq_wait(struct task *t, struct mqueue *q, struct file *f, const struct ktimeout *to)
{
    if (__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK)
        return -EAGAIN;
    struct timespec mono;
    if (to && ktimeout_next(to, &mono))
        return -ETIMEDOUT;
    int r = waitq_wait(t, &q->wq, &mq_lock, to ? &mono : NULL, 0);
    return r == -ETIMEDOUT ? 0 : r;
}

/* Linux's __do_notify: the queue became non-empty with no receiver. */
static void mq_do_notify(struct task *t, struct mqueue *q)
{
    if (!q->notify_owner || q->curmsgs != 1 || q->receivers)
        return;
    struct process *p = q->notify_owner;
    q->notify_owner = NULL;
    if (q->notify_kind == SIGEV_SIGNAL_ && q->notify_signo && proc_alive(p)) {
        struct sig_info info;
        memset(&info, 0, sizeof(info));
        info.signo = q->notify_signo;
        info.code = SI_MESGQ_;
        info.pid = t->proc->pid;
        info.uid = t->cred->uid;
        info.value = q->notify_value;
        signal_process_info(p, q->notify_signo, &info);
    }
    process_put(p);
    q->notify_pid = 0;
}

long sys_mq_timedsend(struct task *t, const struct sysargs *a)
{
    int fd = (int)a->a[0];
    uint64_t uptr = a->a[1];
    size_t len = (size_t)a->a[2];
    unsigned prio = (unsigned)a->a[3];
    uint64_t utimeout = a->a[4];
    struct ktimeout kt, *to;
    long r = timeout_in(t, utimeout, &kt, &to);
    if (r < 0)
        return r;
    if (prio >= MQ_PRIO_MAX_)
        return -EINVAL;
    struct file *f;
    struct mqueue *q = mq_fget_mode(t, fd, 1, &f);
    if (!q)
        return -EBADF;
    if (len > (size_t)q->msgsize) {
        file_put(f);
        return -EMSGSIZE;
    }
    struct mq_msg *m = malloc(sizeof(*m) + len);
    if (!m) {
        file_put(f);
        return -ENOMEM;
    }
    m->prio = prio;
    m->len = len;
    if (len && copy_in(t, m->text, uptr, len) < 0) {
        free(m);
        file_put(f);
        return -EFAULT;
    }
    pthread_mutex_lock(&mq_lock);
    for (;;) {
        if (q->curmsgs < q->maxmsg) {
            if (mq_total_bytes + len + sizeof(*m) > MQ_SANDBOX_BYTES) {
                r = -ENOMEM;
                break;
            }
            mq_total_bytes += len + sizeof(*m);
            struct mq_msg **pp = &q->head;
            while (*pp && (*pp)->prio >= prio)
                pp = &(*pp)->next;
            m->next = *pp;
            *pp = m;
            m = NULL;
            q->curmsgs++;
            q->qsize += len;
            now_rt(&q->mtime);
            q->atime = q->ctime = q->mtime;
            mq_do_notify(t, q);
            wake_up_all(&q->wq);
            r = 0;
            break;
        }
        r = mq_wait(t, q, f, to);
        if (r < 0)
            break;
    }
    pthread_mutex_unlock(&mq_lock);
    free(m);
    file_put(f);
    return r;
}

long sys_mq_timedreceive(struct task *t, const struct sysargs *a)
{
    int fd = (int)a->a[0];
    uint64_t uptr = a->a[1];
    size_t len = (size_t)a->a[2];
    uint64_t uprio = a->a[3];
    uint64_t utimeout = a->a[4];
    struct ktimeout kt, *to;
    long r = timeout_in(t, utimeout, &kt, &to);
    if (r < 0)
        return r;
    struct file *f;
    struct mqueue *q = mq_fget_mode(t, fd, 0, &f);
    if (!q)
        return -EBADF;
    if (len < (size_t)q->msgsize) {
        file_put(f);
        return -EMSGSIZE;
    }
    struct mq_msg *m = NULL;
    pthread_mutex_lock(&mq_lock);
    for (;;) {
        if (q->curmsgs) {
            m = q->head;
            q->head = m->next;
            q->curmsgs--;
            mq_total_bytes -= m->len + sizeof(*m);
            q->qsize -= m->len;
            now_rt(&q->atime);
            q->ctime = q->atime;
            wake_up_all(&q->wq);
            r = 0;
            break;
        }
        q->receivers++;
        r = mq_wait(t, q, f, to);
        q->receivers--;
        if (r < 0)
            break;
    }
    pthread_mutex_unlock(&mq_lock);
    file_put(f);
    if (r < 0)
        return r;
    r = (long)m->len;
    if ((uprio && copy_out(t, uprio, &m->prio, sizeof(m->prio)) < 0) ||
        (m->len && copy_out(t, uptr, m->text, m->len) < 0))
        r = -EFAULT;
    free(m);
    return r;
}

/* struct sigevent of x86-64 (64 bytes): value, signo, notify, then the
 * thread id or SIGEV_THREAD's function and attributes. */
struct sigevent_k {
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};

long sys_mq_notify(struct task *t, const struct sysargs *a)
{
    int fd = (int)a->a[0];
    uint64_t usev = a->a[1];
    struct sigevent_k sev;
    if (usev) {
        if (copy_in(t, &sev, usev, sizeof(sev)) < 0)
            return -EFAULT;
        if (sev.notify != SIGEV_NONE_ && sev.notify != SIGEV_SIGNAL_ && sev.notify != SIGEV_THREAD_)
            return -EINVAL;
        if (sev.notify == SIGEV_SIGNAL_ && (sev.signo < 0 || sev.signo > 64))
            return -EINVAL;
        if (sev.notify == SIGEV_THREAD_)
            return -EINVAL; /* needs a netlink socket: not supported */
    }
    struct file *f;
    struct mqueue *q = mq_fget(t, fd, &f);
    if (!q)
        return -EBADF;
    long r = 0;
    pthread_mutex_lock(&mq_lock);
    /* A registration of a process that has died counts as none. */
    if (q->notify_owner && !proc_alive(q->notify_owner))
        notify_clear(q);
    if (!usev) {
        if (q->notify_owner == t->proc) {
            notify_clear(q);
            now_rt(&q->atime);
            q->ctime = q->atime;
        }
    } else if (q->notify_owner) {
        r = -EBUSY;
    } else {
        q->notify_owner = process_get(t->proc);
        q->notify_pid = t->proc->pid;
        q->notify_kind = sev.notify;
        q->notify_signo = sev.notify == SIGEV_SIGNAL_ ? sev.signo : 0;
        q->notify_value = sev.value;
        now_rt(&q->atime);
        q->ctime = q->atime;
    }
    pthread_mutex_unlock(&mq_lock);
    file_put(f);
    return r;
}

long sys_mq_getsetattr(struct task *t, const struct sysargs *a)
{
    int fd = (int)a->a[0];
    uint64_t unew = a->a[1];
    uint64_t uold = a->a[2];
    struct mq_attr_k nattr, oattr;
    if (unew) {
        if (copy_in(t, &nattr, unew, sizeof(nattr)) < 0)
            return -EFAULT;
        if (nattr.flags & ~(int64_t)O_NONBLOCK)
            return -EINVAL;
    }
    struct file *f;
    struct mqueue *q = mq_fget(t, fd, &f);
    if (!q)
        return -EBADF;
    memset(&oattr, 0, sizeof(oattr));
    pthread_mutex_lock(&mq_lock);
    oattr.flags = __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
    oattr.maxmsg = q->maxmsg;
    oattr.msgsize = q->msgsize;
    oattr.curmsgs = q->curmsgs;
    if (unew) {
        if (nattr.flags & O_NONBLOCK)
            __atomic_or_fetch(&f->flags, O_NONBLOCK, __ATOMIC_RELAXED);
        else
            __atomic_and_fetch(&f->flags, ~O_NONBLOCK, __ATOMIC_RELAXED);
        now_rt(&q->atime);
        q->ctime = q->atime;
    }
    pthread_mutex_unlock(&mq_lock);
    file_put(f);
    if (uold && copy_out(t, uold, &oattr, sizeof(oattr)) < 0)
        return -EFAULT;
    return 0;
}
