/* POSIX message queues (Linux's ipc/mqueue.c): the mqueue file system and
 * mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify,
 * mq_getsetattr. The sandbox has one IPC namespace, so one mqueue super
 * block: its root (mode 01777 owned by root) lists the queues; the sandbox
 * mounts it at /dev/mqueue, and the syscalls work on a mount of it of
 * their own outside the mount table (Linux's ipc_ns->mq_mnt). A queue is
 * the inode: mq_open is an open in that mount (with O_CREAT a create),
 * mq_unlink an unlink there, and open(2), unlink(2), stat, readdir in
 * /dev/mqueue reach the same queues. The root's entry holds one inode
 * reference, each open file and dentry one more; a queue goes with its
 * last (evict). A descriptor is a file (read of the status line, poll and
 * epoll readiness, fstat of the inode), whether mq_open or open made it.
 *
 * One lock (mq_lock) guards every queue and the root's table, and is the
 * queues' sleepers' condition lock; a change wakes all the sleepers and
 * pollers of the queue. No inode reference is dropped under it (evict
 * takes it). mq_notify supports SIGEV_NONE and SIGEV_SIGNAL; SIGEV_THREAD
 * (which needs a netlink socket) is EINVAL. A registration goes with its
 * process's death or the queue's end, not with each close. */
#define _GNU_SOURCE
#include <dirent.h>
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

#include "base.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "fs/procfs/procfs.h"
#include "fs/vfs/vfs.h"
#include "ipc/ipc.h"
#include "sched/wait.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define MQUEUE_MAGIC 0x19800202
#define MQ_PRIO_MAX_ 32768
#define HARD_MSGMAX 65536
#define HARD_MSGSIZEMAX (16 * 1024 * 1024)
#define MIN_MSGMAX 1
#define MIN_MSGSIZEMAX 128
#define NAME_MAX_ 255
#define FILENT_SIZE 80
#define DIRENT_SIZE 20  /* the root's st_size grows by this per queue */
#define MSG_OVERHEAD 48 /* struct msg_msg and a tree node, as Linux counts */
#define SI_MESGQ_ (-3)
#define SIGEV_SIGNAL_ 0
#define SIGEV_NONE_ 1
#define SIGEV_THREAD_ 2
/* All queues' messages together, in the sentry's memory (a root guest may
 * raise RLIMIT_MSGQUEUE): a send past it is ENOMEM. */
#define MQ_SANDBOX_BYTES (64UL << 20)
static uint64_t mq_total_bytes;

/* /proc/sys/fs/mqueue (Linux's defaults; the sandbox's root may change
 * them), in the order of enum procfs_mq_limit. */
static long mq_sysctl[PROCFS_MQ_NR] = { 10, 10, 8192, 8192, 256 };

struct mq_msg {
    struct mq_msg *next;
    unsigned prio;
    size_t len;
    char text[];
};

struct mqueue {
    struct inode vfs; /* mode, uid, gid and ino are the queue's */
    char name[NAME_MAX_ + 1];
    int linked;   /* in the root's table, which holds a reference */
    uint64_t seq; /* creation order: the root lists the newest first */
    off_t size;   /* st_size: FILENT_SIZE until truncated */
    uint32_t charged_uid;
    uint64_t charged;
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
static struct mqueue *mq_all; /* the named ones, newest first */
static int mq_count;
static uint64_t mq_next_seq = 1;

/* The file system: its root inode (times under mq_lock) and the mount the
 * syscalls use. */
static struct super_block *mq_sb;
static struct inode *mq_root_inode;
static struct timespec mq_root_atime, mq_root_mtime, mq_root_ctime;
static struct path mq_mnt_root;
static int mq_init_err;
static pthread_once_t mq_once = PTHREAD_ONCE_INIT;

/* RLIMIT_MSGQUEUE's bytes per real uid (Linux's ucounts). */
struct mq_user {
    struct mq_user *next;
    uint32_t uid;
    uint64_t bytes;
};
static struct mq_user *mq_users;

static struct mqueue *MQ(struct inode *i)
{
    return container_of(i, struct mqueue, vfs);
}

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

/* ---- the descriptor ---- */

static ssize_t mq_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    struct mqueue *q = MQ(f->inode);
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
    struct mqueue *q = MQ(f->inode);
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

static const struct file_ops mq_ops = {
    .name = "mqueue",
    .read = mq_read,
    .poll = mq_poll,
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
    return MQ(f->inode);
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

/* ---- the file system ---- */

struct mq_attr_k {
    int64_t flags, maxmsg, msgsize, curmsgs, reserved[4];
};

/* What mq_open hands the create below (Linux passes it down vfs_mkobj):
 * the attributes asked for (NULL: the defaults), and whether a queue was
 * made. Set on the calling thread around its vfs_open. */
struct mq_create {
    const struct mq_attr_k *attr;
    int created;
};
static __thread struct mq_create *mq_creating;

static const struct inode_ops mq_iops, mq_root_iops;

/* Linux's mq_attr_ok and the queue count: 0 or -errno; mq_lock held. */
static int mq_create_ok(const struct creds *c, const struct mq_attr_k *attr)
{
    int big = creds_capable(c, GCAP_SYS_RESOURCE);
    if (mq_count >= mq_sysctl[PROCFS_MQ_QUEUES_MAX] && !big)
        return -ENOSPC;
    if (!attr)
        return 0;
    if (attr->maxmsg <= 0 || attr->msgsize <= 0)
        return -EINVAL;
    if (attr->maxmsg > (big ? HARD_MSGMAX : mq_sysctl[PROCFS_MQ_MSG_MAX]) ||
        attr->msgsize > (big ? HARD_MSGSIZEMAX : mq_sysctl[PROCFS_MQ_MSGSIZE_MAX]))
        return -EINVAL;
    return 0;
}

/* A new queue called name, charged to the caller's real uid (Linux's
 * mqueue_get_inode), entered in the root's table; mq_lock held. */
static int mq_new(const char *name, mode_t mode, const struct fs_cred *fc,
                  const struct mq_attr_k *attr, struct mqueue **out)
{
    struct task *t = current_task;
    if (!t)
        return -EPERM;
    const struct creds *c = t->cred;
    int r = mq_create_ok(c, attr);
    if (r < 0)
        return r;
    long maxmsg = attr ? attr->maxmsg : mq_sysctl[PROCFS_MQ_MSG_DEFAULT];
    long msgsize = attr ? attr->msgsize : mq_sysctl[PROCFS_MQ_MSGSIZE_DEFAULT];
    if (!attr) {
        if (maxmsg > mq_sysctl[PROCFS_MQ_MSG_MAX])
            maxmsg = mq_sysctl[PROCFS_MQ_MSG_MAX];
        if (msgsize > mq_sysctl[PROCFS_MQ_MSGSIZE_MAX])
            msgsize = mq_sysctl[PROCFS_MQ_MSGSIZE_MAX];
    }
    uint64_t bytes = (uint64_t)maxmsg * MSG_OVERHEAD +
                     (uint64_t)(maxmsg < MQ_PRIO_MAX_ ? maxmsg : MQ_PRIO_MAX_) * MSG_OVERHEAD +
                     (uint64_t)maxmsg * (uint64_t)msgsize;
    struct mq_user *u = user_of(c->uid, 1);
    if (!u)
        return -ENOMEM;
    if (u->bytes + bytes > t->proc->rlim[RLIMIT_MSGQUEUE].cur)
        return -EMFILE;
    struct mqueue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    inode_init(&q->vfs, mq_sb, &mq_iops, &mq_ops, mq_sb->next_ino++, S_IFREG | (mode & 07777));
    q->vfs.uid = fc->uid;
    q->vfs.gid = fc->gid;
    u->bytes += bytes;
    q->charged = bytes;
    q->charged_uid = c->uid;
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->linked = 1;
    q->seq = mq_next_seq++;
    q->size = FILENT_SIZE;
    q->maxmsg = maxmsg;
    q->msgsize = msgsize;
    now_rt(&q->ctime);
    q->atime = q->mtime = q->ctime;
    mq_root_mtime = mq_root_ctime = mq_root_atime = q->ctime;
    waitq_init(&q->wq);
    q->next_all = mq_all;
    mq_all = q;
    mq_count++;
    *out = q;
    return 0;
}

static struct mqueue *mq_find(const char *name)
{
    for (struct mqueue *q = mq_all; q; q = q->next_all)
        if (!strcmp(q->name, name))
            return q;
    return NULL;
}

static int mq_lookup(struct inode *dir, const char *name, struct inode **out)
{
    (void)dir;
    pthread_mutex_lock(&mq_lock);
    struct mqueue *q = mq_find(name);
    if (q)
        inode_get(&q->vfs);
    pthread_mutex_unlock(&mq_lock);
    if (!q)
        return -ENOENT;
    *out = &q->vfs;
    return 0;
}

/* A regular file is a queue (open with O_CREAT, mq_open, mknod S_IFREG);
 * the root makes nothing else (Linux's mqueue has create only). */
static int mq_mknod(struct inode *dir, const char *name, mode_t mode, dev_t rdev,
                    const struct fs_cred *c, struct inode **out)
{
    (void)dir, (void)rdev;
    if (!S_ISREG(mode))
        return -EPERM;
    struct mq_create *cr = mq_creating;
    struct mqueue *q;
    pthread_mutex_lock(&mq_lock);
    int r = mq_find(name) ? -EEXIST : mq_new(name, mode, c, cr ? cr->attr : NULL, &q);
    if (r == 0)
        inode_get(&q->vfs); /* the caller's; the table keeps the first */
    pthread_mutex_unlock(&mq_lock);
    if (r < 0)
        return r;
    if (cr)
        cr->created = 1;
    *out = &q->vfs;
    return 0;
}

static int mq_unlink_op(struct inode *dir, const char *name, struct inode *victim)
{
    (void)dir, (void)name;
    struct mqueue *q = MQ(victim);
    pthread_mutex_lock(&mq_lock);
    int linked = q->linked;
    if (linked) {
        for (struct mqueue **pp = &mq_all; *pp; pp = &(*pp)->next_all)
            if (*pp == q) {
                *pp = q->next_all;
                break;
            }
        q->linked = 0;
        mq_count--;
        now_rt(&mq_root_mtime);
        mq_root_ctime = mq_root_atime = mq_root_mtime;
        q->ctime = mq_root_mtime;
    }
    pthread_mutex_unlock(&mq_lock);
    if (!linked)
        return -ENOENT;
    inode_put(victim); /* the table's */
    return 0;
}

static int mq_getattr(struct inode *i, struct stat *st)
{
    pthread_mutex_lock(&mq_lock);
    st->st_dev = i->sb->dev;
    st->st_ino = i->ino;
    st->st_mode = i->mode;
    st->st_uid = i->uid;
    st->st_gid = i->gid;
    st->st_blksize = 4096;
    if (i == mq_root_inode) {
        st->st_nlink = 2;
        st->st_size = (off_t)DIRENT_SIZE * (2 + mq_count);
        st->st_atim = mq_root_atime;
        st->st_mtim = mq_root_mtime;
        st->st_ctim = mq_root_ctime;
    } else {
        struct mqueue *q = MQ(i);
        st->st_nlink = q->linked ? 1 : 0;
        st->st_size = q->size;
        st->st_atim = q->atime;
        st->st_mtim = q->mtime;
        st->st_ctim = q->ctime;
    }
    pthread_mutex_unlock(&mq_lock);
    return 0;
}

/* Linux's simple_setattr: modes, owners, times, and a size (truncate). */
static int mq_setattr(struct inode *i, const struct iattr *ia)
{
    pthread_mutex_lock(&mq_lock);
    int root = i == mq_root_inode;
    struct timespec *at = root ? &mq_root_atime : &MQ(i)->atime;
    struct timespec *mt = root ? &mq_root_mtime : &MQ(i)->mtime;
    struct timespec *ct = root ? &mq_root_ctime : &MQ(i)->ctime;
    struct timespec now;
    now_rt(&now);
    setattr_copy(i, ia);
    if (ia->valid & ATTR_ATIME)
        *at = ia->valid & ATTR_ATIME_NOW ? now : ia->atime;
    if (ia->valid & ATTR_MTIME)
        *mt = ia->valid & ATTR_MTIME_NOW ? now : ia->mtime;
    if ((ia->valid & ATTR_SIZE) && !root)
        MQ(i)->size = ia->size;
    *ct = now;
    pthread_mutex_unlock(&mq_lock);
    return 0;
}

static void mq_evict(struct inode *i)
{
    struct mqueue *q = MQ(i);
    pthread_mutex_lock(&mq_lock);
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
    pthread_mutex_unlock(&mq_lock);
    waitq_destroy(&q->wq);
    free(q);
}

/* The root lists the queues newest first, as Linux's dcache_readdir;
 * position 2 + (MQ_SEQ_TOP - seq) is "from the queue made at seq on". */
#define MQ_SEQ_TOP (1LL << 48)
static int mq_iterate(struct file *f, struct dir_context *ctx)
{
    uint64_t ino = f->inode->ino;
    for (;;) {
        off_t pos = ctx->pos;
        int r;
        if (pos < 2) {
            r = ctx->emit(ctx, pos ? ".." : ".", (size_t)pos + 1, ino, DT_DIR);
            if (r)
                return 0;
            ctx->pos = pos + 1;
            continue;
        }
        char name[NAME_MAX_ + 1];
        uint64_t qino = 0;
        long long seq = 0;
        pthread_mutex_lock(&mq_lock);
        for (struct mqueue *q = mq_all; q; q = q->next_all)
            if ((long long)q->seq <= MQ_SEQ_TOP - (pos - 2)) {
                snprintf(name, sizeof(name), "%s", q->name);
                qino = q->vfs.ino;
                seq = (long long)q->seq;
                break;
            }
        now_rt(&mq_root_atime);
        pthread_mutex_unlock(&mq_lock);
        if (!qino || ctx->emit(ctx, name, strlen(name), qino, DT_REG))
            return 0;
        ctx->pos = 2 + (MQ_SEQ_TOP - seq) + 1;
    }
}

static const struct file_ops mq_root_ops = {
    .name = "mqueue-dir",
    .iterate = mq_iterate,
};

static const struct inode_ops mq_root_iops = {
    .lookup = mq_lookup,
    .mknod = mq_mknod,
    .unlink = mq_unlink_op,
    .getattr = mq_getattr,
    .setattr = mq_setattr,
};

static const struct inode_ops mq_iops = {
    .getattr = mq_getattr,
    .setattr = mq_setattr,
    .evict = mq_evict,
};

static int mq_statfs(struct super_block *sb, struct statfs *st)
{
    (void)sb;
    memset(st, 0, sizeof(*st));
    st->f_type = MQUEUE_MAGIC;
    st->f_bsize = 4096;
    st->f_frsize = 4096;
    st->f_namelen = NAME_MAX_;
    return 0;
}

static const struct fs_type mqueue_type = {
    .name = "mqueue",
    .magic = MQUEUE_MAGIC,
    .nodev = 1,
    .statfs = mq_statfs,
};

static long mq_sysctl_get(int which)
{
    pthread_mutex_lock(&mq_lock);
    long v = mq_sysctl[which];
    pthread_mutex_unlock(&mq_lock);
    return v;
}

/* Linux's ranges: the message limits between their floors and the hard
 * limits, queues_max any int. */
static int mq_sysctl_set(int which, long v)
{
    static const long lo[PROCFS_MQ_NR] = { MIN_MSGMAX, MIN_MSGMAX, MIN_MSGSIZEMAX, MIN_MSGSIZEMAX,
                                           0 };
    static const long hi[PROCFS_MQ_NR] = { HARD_MSGMAX, HARD_MSGMAX, HARD_MSGSIZEMAX,
                                           HARD_MSGSIZEMAX, INT32_MAX };
    if (which == PROCFS_MQ_QUEUES_MAX ? v < INT32_MIN || v > INT32_MAX
                                      : v < lo[which] || v > hi[which])
        return -EINVAL;
    pthread_mutex_lock(&mq_lock);
    mq_sysctl[which] = v;
    pthread_mutex_unlock(&mq_lock);
    return 0;
}

static const struct procfs_mq_sysctl mq_sysctl_ops = {
    .get = mq_sysctl_get,
    .set = mq_sysctl_set,
};

static void mq_fs_init(void)
{
    mq_init_err = -ENOMEM;
    mq_sb = sb_new(&mqueue_type, vfs_anon_dev(), "mqueue");
    struct inode *i = mq_sb ? calloc(1, sizeof(*i)) : NULL;
    if (!i)
        return;
    inode_init(i, mq_sb, &mq_root_iops, &mq_root_ops, mq_sb->next_ino++, S_IFDIR | 01777);
    now_rt(&mq_root_ctime);
    mq_root_atime = mq_root_mtime = mq_root_ctime;
    mq_root_inode = i;
    struct dentry *root = d_make_root(i, "/");
    if (!root)
        return;
    mq_init_err = vfs_kern_mount(root, &mq_mnt_root.mnt);
    if (mq_init_err == 0)
        mq_mnt_root.d = root;
    else
        dput(root);
    procfs_set_mq_sysctl(&mq_sysctl_ops);
}

/* The root of the syscalls' mount (borrowed: it lives as long as the
 * sandbox), or NULL. */
static const struct path *mq_root(void)
{
    pthread_once(&mq_once, mq_fs_init);
    return mq_init_err ? NULL : &mq_mnt_root;
}

int mqueue_mount(struct dentry **root)
{
    const struct path *p = mq_root();
    if (!p)
        return mq_init_err;
    *root = dget(p->d);
    return 0;
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

/* The name argument into name, and a path operation on it in the
 * syscalls' mount of the mqueue root: 0, or the name's error, or the
 * mount's. */
static long mq_path_op(struct task *t, uint64_t uname, char *name, struct path_op *op)
{
    long r = mq_name_in(t, uname, name);
    if (r < 0)
        return r;
    if (!mq_root())
        return mq_init_err;
    memset(op, 0, sizeof(*op));
    op->root = op->start = *mq_root();
    op->name = name;
    op->cred = t->cred;
    return 0;
}

SYSCALL_DEFINE4(mq_open, uint64_t, uname, int, oflag, uint32_t, mode, uint64_t, uattr)
{
    struct mq_attr_k attr;
    if (uattr && copy_in(t, &attr, uattr, sizeof(attr)) < 0)
        return -EFAULT;
    char name[NAME_MAX_ + 1];
    struct path_op op;
    long r = mq_path_op(t, uname, name, &op);
    if (r < 0)
        return r;
    /* Linux's prepare_open: what an existing queue refuses first. */
    struct path p;
    if (vfs_lookup_one(&mq_mnt_root, name, &p) == 0) {
        path_put(&p);
        if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            return -EEXIST;
        if ((oflag & O_ACCMODE) == O_ACCMODE)
            return -EINVAL;
    }
    struct mq_create cr = { uattr ? &attr : NULL, 0 };
    uint32_t umask = __atomic_load_n(&t->proc->fs->umask, __ATOMIC_RELAXED);
    struct file *f;
    mq_creating = &cr;
    r = vfs_open(&op, oflag & (O_ACCMODE | O_NONBLOCK | O_CREAT | O_EXCL), mode & 07777 & ~umask,
                 &f);
    mq_creating = NULL;
    if (r < 0)
        return r;
    /* Linux's mq_open descriptors are always close-on-exec. */
    r = fd_install_new(t, f, 1);
    if (r < 0 && cr.created)
        vfs_unlink(&op); /* Linux takes the descriptor first: no queue without one */
    return r;
}

SYSCALL_DEFINE1(mq_unlink, uint64_t, uname)
{
    char name[NAME_MAX_ + 1];
    struct path_op op;
    long r = mq_path_op(t, uname, name, &op);
    return r < 0 ? r : vfs_unlink(&op);
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

SYSCALL_DEFINE5(mq_timedsend, int, fd, uint64_t, uptr, size_t, len, unsigned, prio, uint64_t,
                utimeout)
{
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

SYSCALL_DEFINE5(mq_timedreceive, int, fd, uint64_t, uptr, size_t, len, uint64_t, uprio, uint64_t,
                utimeout)
{
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

SYSCALL_DEFINE2(mq_notify, int, fd, uint64_t, usev)
{
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

SYSCALL_DEFINE3(mq_getsetattr, int, fd, uint64_t, unew, uint64_t, uold)
{
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
