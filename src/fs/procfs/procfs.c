/* procfs: the /proc tree, generated from sentry state on each open
 * (contents come from procfs_gen.c). Directories are tables of entries;
 * /proc/PID/{exe,cwd,root} and fd/N are magic links that lead to the
 * object itself, not to a path re-resolved by name. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "base.h"
#include "fs/file/fdtable.h"
#include "fs/file/inotify.h"
#include "fs/procfs/procfs.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"

#define PROC_SUPER_MAGIC 0x9fa0

enum proc_kind {
    PK_ROOT,    /* /proc */
    PK_DIR,     /* a static directory: sys, sys/kernel, ... */
    PK_FILE,    /* generated text */
    PK_SELF,    /* /proc/self, /proc/thread-self */
    PK_PID,     /* /proc/PID */
    PK_TASKDIR, /* /proc/PID/task */
    PK_PIDLINK, /* exe, cwd, root */
    PK_FDDIR,   /* fd/ and fdinfo/ */
    PK_FD,      /* fd/N (link) and fdinfo/N (file) */
    PK_TID,     /* /proc/PID/task/TID: PID's entries but "task" */
};

typedef int (*gen_fn)(struct strbuf *out, struct task *reader, struct process *p);

struct proc_entry {
    const char *name;
    int kind;
    mode_t mode;
    gen_fn gen;
    const struct proc_entry *children; /* PK_DIR: ends with name == NULL */
    int arg;                           /* PK_PIDLINK/PK_FDDIR/PK_SELF: which one */
};

struct proc_inode {
    struct inode vfs;
    const struct proc_entry *ent; /* NULL for PK_ROOT/PK_PID/PK_FD */
    int kind;
    int pid;  /* PK_PID and below */
    int fd;   /* PK_FD */
    int info; /* PK_FD/PK_FDDIR: fdinfo rather than fd */
    struct timespec ctime;
};

static struct proc_inode *PI(struct inode *i)
{
    return container_of(i, struct proc_inode, vfs);
}

/* ---- whose /proc ---- */

/* The process pid of the reader's sandbox, with a reference (put it). */
static struct process *find_process(int pid)
{
    struct task *t = current_task;
    if (!t)
        return NULL;
    /* By any task id: /proc/TID of a thread, and task/TID, show its
     * process's files, as Linux's (hidden) /proc/TID does. */
    struct task *k = pid_find_task(t->proc->sandbox, pid);
    struct process *p = k ? process_get(k->proc) : NULL;
    task_put(k);
    return p;
}

static int process_exists(int pid)
{
    struct process *p = find_process(pid);
    process_put(p);
    return p != NULL;
}

/* ---- generators that need the VFS ---- */

/* The name a mount's source shows. The sandbox never shows where a file
 * system comes from on the host: a hostfs mount (the --root or a --bind
 * of a host directory) is "hostfs", as a container's bind mounts name
 * no host path; the sentry's own file systems keep the names they were
 * made with: "tmpfs" (also /dev, a tmpfs as in a container), "proc". */
static const char *mount_source(const struct super_block *sb)
{
    return sb->type == &hostfs_type ? "hostfs" : sb->source;
}

/* The mount's root within its file system ("/" for a whole file system),
 * as Linux's show_path(mnt_root). Under vfs_lock. */
static int mount_root_path(const struct mount *m, char *buf, size_t len)
{
    size_t pos = len - 1;
    buf[pos] = 0;
    for (const struct dentry *d = m->root; d->parent; d = d->parent) {
        size_t n = strlen(d->name);
        if (n + 1 > pos)
            return -ENAMETOOLONG;
        pos -= n;
        memcpy(buf + pos, d->name, n);
        buf[--pos] = '/';
    }
    if (pos == len - 1)
        buf[--pos] = '/';
    memmove(buf, buf + pos, len - pos);
    return 0;
}

/* /proc/PID/mounts and mountinfo: the mounts p can reach from its root,
 * with mount points relative to that root; a mount whose root lies
 * outside it (after chroot) is left out, as Linux's seq_path_root skips. */
static int gen_mounts(struct strbuf *out, struct task *reader, struct process *p, int info)
{
    (void)reader;
    struct fs_struct *fs = p->fs;
    pthread_mutex_lock(&fs->lock);
    struct path root = fs->root;
    path_get(&root);
    pthread_mutex_unlock(&fs->lock);
    char *buf = malloc(2 * PATH_MAX_LEN), *rbuf = buf + PATH_MAX_LEN;
    if (!buf) {
        path_put(&root);
        return -ENOMEM;
    }
    for (struct mount *m = vfs_ns->list; m; m = m->next) {
        struct path mp = { m, m->root };
        int reached = 0;
        if (vfs_d_path_reach(&mp, &root, buf, PATH_MAX_LEN, &reached) < 0 || !reached)
            continue;
        pthread_mutex_lock(&vfs_lock);
        int r = mount_root_path(m, rbuf, PATH_MAX_LEN);
        pthread_mutex_unlock(&vfs_lock);
        if (r < 0)
            continue;
        struct super_block *sb = m->sb;
        struct procfs_mount pm = {
            .id = m->id,
            .parent_id = m->parent->id,
            .dev_major = major(sb->dev),
            .dev_minor = minor(sb->dev),
            .root = rbuf,
            .mountpoint = buf,
            .type = sb->type->name,
            .source = mount_source(sb),
            .rdonly = !!(m->flags & MNT_RDONLY),
            .nosuid = !!(m->flags & MNT_NOSUID),
            .nodev = !!(m->flags & MNT_NODEV),
            .noexec = !!(m->flags & MNT_NOEXEC),
            .noatime = !!(m->flags & MNT_NOATIME),
            .nodiratime = !!(m->flags & MNT_NODIRATIME),
            .strictatime = !!(m->flags & MNT_STRICTATIME),
            .sb_rdonly = !!(m->flags & MNT_RDONLY),
            .sb_options = sb->options,
        };
        procfs_gen_mount_line(out, &pm, info);
    }
    free(buf);
    path_put(&root);
    return out->oom ? -ENOMEM : 0;
}

static int gen_mounts_file(struct strbuf *out, struct task *r, struct process *p)
{
    return gen_mounts(out, r, p, 0);
}

static int gen_mountinfo(struct strbuf *out, struct task *r, struct process *p)
{
    return gen_mounts(out, r, p, 1);
}

static int gen_filesystems(struct strbuf *out, struct task *r, struct process *p)
{
    (void)r, (void)p;
    static const struct procfs_fs list[] = {
        { "sysfs", 1 },  { "tmpfs", 1 },  { "proc", 1 }, { "devpts", 1 },
        { "hostfs", 1 }, { "mqueue", 1 }, { NULL, 0 },
    };
    return procfs_gen_filesystems(out, list);
}

#define GLOBAL(fn, call)                                                                           \
    static int fn(struct strbuf *out, struct task *r, struct process *p)                           \
    {                                                                                              \
        (void)r;                                                                                   \
        (void)p;                                                                                   \
        return call;                                                                               \
    }
GLOBAL(g_meminfo, procfs_gen_meminfo(out))
GLOBAL(g_cpuinfo, procfs_gen_cpuinfo(out))
GLOBAL(g_stat, procfs_gen_sysstat(out, (unsigned long)procfs_last_pid(r->proc->sandbox), 1))
GLOBAL(g_uptime, procfs_gen_uptime(out))
GLOBAL(g_loadavg, procfs_gen_loadavg(out, 1, 1, procfs_last_pid(r->proc->sandbox)))
GLOBAL(g_version, procfs_gen_version(out))
GLOBAL(g_hostname, procfs_gen_hostname(out))
GLOBAL(g_ostype, procfs_gen_ostype(out))
GLOBAL(g_osrelease, procfs_gen_osrelease(out))
GLOBAL(g_pid_max, procfs_gen_pid_max(out))
GLOBAL(g_boot_id, procfs_gen_boot_id(out))
GLOBAL(g_uuid, procfs_gen_uuid(out))
GLOBAL(g_inotify_events, strbuf_printf(out, "%d\n", INOTIFY_MAX_QUEUED_EVENTS) < 0 ? -ENOMEM : 0)
GLOBAL(g_inotify_instances,
       strbuf_printf(out, "%d\n", INOTIFY_MAX_USER_INSTANCES) < 0 ? -ENOMEM : 0)
GLOBAL(g_inotify_watches, strbuf_printf(out, "%d\n", inotify_max_user_watches()) < 0 ? -ENOMEM : 0)

int (*procfs_sysvipc_gen[PROCFS_SYSVIPC_KINDS])(struct strbuf *out);

static int gen_sysvipc(struct strbuf *out, int kind)
{
    return procfs_sysvipc_gen[kind] ? procfs_sysvipc_gen[kind](out) : -ENOENT;
}
GLOBAL(g_sysvipc_msg, gen_sysvipc(out, PROCFS_SYSVIPC_MSG))
GLOBAL(g_sysvipc_sem, gen_sysvipc(out, PROCFS_SYSVIPC_SEM))
GLOBAL(g_sysvipc_shm, gen_sysvipc(out, PROCFS_SYSVIPC_SHM))
/* /proc/sys/fs/mqueue: the IPC layer's limits (procfs_set_mq_sysctl). */
static const struct procfs_mq_sysctl *mq_sysctl_ops;

void procfs_set_mq_sysctl(const struct procfs_mq_sysctl *ops)
{
    __atomic_store_n(&mq_sysctl_ops, ops, __ATOMIC_RELEASE);
}

static int gen_mq_sysctl(struct strbuf *out, int which)
{
    const struct procfs_mq_sysctl *ops = __atomic_load_n(&mq_sysctl_ops, __ATOMIC_ACQUIRE);
    if (!ops)
        return -ENOENT;
    return strbuf_printf(out, "%ld\n", ops->get(which)) < 0 ? -ENOMEM : 0;
}
GLOBAL(g_mq_msg_default, gen_mq_sysctl(out, PROCFS_MQ_MSG_DEFAULT))
GLOBAL(g_mq_msg_max, gen_mq_sysctl(out, PROCFS_MQ_MSG_MAX))
GLOBAL(g_mq_msgsize_default, gen_mq_sysctl(out, PROCFS_MQ_MSGSIZE_DEFAULT))
GLOBAL(g_mq_msgsize_max, gen_mq_sysctl(out, PROCFS_MQ_MSGSIZE_MAX))
GLOBAL(g_mq_queues_max, gen_mq_sysctl(out, PROCFS_MQ_QUEUES_MAX))

/* ---- the tables ---- */

enum { LINK_EXE, LINK_CWD, LINK_ROOT };

static const struct proc_entry random_dir[] = {
    { "boot_id", PK_FILE, 0444, g_boot_id, NULL, 0 },
    { "uuid", PK_FILE, 0444, g_uuid, NULL, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

static const struct proc_entry kernel_dir[] = {
    { "hostname", PK_FILE, 0644, g_hostname, NULL, 0 },
    { "ostype", PK_FILE, 0444, g_ostype, NULL, 0 },
    { "osrelease", PK_FILE, 0444, g_osrelease, NULL, 0 },
    { "pid_max", PK_FILE, 0644, g_pid_max, NULL, 0 },
    { "random", PK_DIR, 0555, NULL, random_dir, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

/* inotify's limits (read-only here: the sandbox keeps Linux's defaults). */
static const struct proc_entry inotify_dir[] = {
    { "max_queued_events", PK_FILE, 0444, g_inotify_events, NULL, 0 },
    { "max_user_instances", PK_FILE, 0444, g_inotify_instances, NULL, 0 },
    { "max_user_watches", PK_FILE, 0444, g_inotify_watches, NULL, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

/* The POSIX message queue limits, which root may set (arg: which one). */
static const struct proc_entry mqueue_dir[] = {
    { "msg_default", PK_FILE, 0644, g_mq_msg_default, NULL, PROCFS_MQ_MSG_DEFAULT },
    { "msg_max", PK_FILE, 0644, g_mq_msg_max, NULL, PROCFS_MQ_MSG_MAX },
    { "msgsize_default", PK_FILE, 0644, g_mq_msgsize_default, NULL, PROCFS_MQ_MSGSIZE_DEFAULT },
    { "msgsize_max", PK_FILE, 0644, g_mq_msgsize_max, NULL, PROCFS_MQ_MSGSIZE_MAX },
    { "queues_max", PK_FILE, 0644, g_mq_queues_max, NULL, PROCFS_MQ_QUEUES_MAX },
    { NULL, 0, 0, NULL, NULL, 0 },
};

static const struct proc_entry fs_dir[] = {
    { "inotify", PK_DIR, 0555, NULL, inotify_dir, 0 },
    { "mqueue", PK_DIR, 0555, NULL, mqueue_dir, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

static const struct proc_entry sys_dir[] = {
    { "fs", PK_DIR, 0555, NULL, fs_dir, 0 },
    { "kernel", PK_DIR, 0555, NULL, kernel_dir, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

/* In Linux's order of names (a proc_dir_entry's subdirectory). */
static const struct proc_entry sysvipc_dir[] = {
    { "msg", PK_FILE, 0444, g_sysvipc_msg, NULL, 0 },
    { "sem", PK_FILE, 0444, g_sysvipc_sem, NULL, 0 },
    { "shm", PK_FILE, 0444, g_sysvipc_shm, NULL, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

static const struct proc_entry root_dir[] = {
    { "self", PK_SELF, 0777, NULL, NULL, 0 },
    { "thread-self", PK_SELF, 0777, NULL, NULL, 1 },
    { "meminfo", PK_FILE, 0444, g_meminfo, NULL, 0 },
    { "cpuinfo", PK_FILE, 0444, g_cpuinfo, NULL, 0 },
    { "stat", PK_FILE, 0444, g_stat, NULL, 0 },
    { "uptime", PK_FILE, 0444, g_uptime, NULL, 0 },
    { "loadavg", PK_FILE, 0444, g_loadavg, NULL, 0 },
    { "version", PK_FILE, 0444, g_version, NULL, 0 },
    { "filesystems", PK_FILE, 0444, gen_filesystems, NULL, 0 },
    { "mounts", PK_SELF, 0777, NULL, NULL, 2 },
    { "sys", PK_DIR, 0555, NULL, sys_dir, 0 },
    { "sysvipc", PK_DIR, 0555, NULL, sysvipc_dir, 0 },
    { NULL, 0, 0, NULL, NULL, 0 },
};

static const struct proc_entry pid_dir[] = {
    { "stat", PK_FILE, 0444, procfs_gen_stat, NULL, 0 },
    { "status", PK_FILE, 0444, procfs_gen_status, NULL, 0 },
    { "statm", PK_FILE, 0444, procfs_gen_statm, NULL, 0 },
    { "cmdline", PK_FILE, 0444, procfs_gen_cmdline, NULL, 0 },
    { "environ", PK_FILE, 0400, procfs_gen_environ, NULL, 0 },
    { "comm", PK_FILE, 0644, procfs_gen_comm, NULL, 0 },
    { "maps", PK_FILE, 0444, procfs_gen_maps, NULL, 0 },
    { "mounts", PK_FILE, 0444, gen_mounts_file, NULL, 0 },
    { "mountinfo", PK_FILE, 0444, gen_mountinfo, NULL, 0 },
    { "exe", PK_PIDLINK, 0777, NULL, NULL, LINK_EXE },
    { "cwd", PK_PIDLINK, 0777, NULL, NULL, LINK_CWD },
    { "root", PK_PIDLINK, 0777, NULL, NULL, LINK_ROOT },
    { "fd", PK_FDDIR, 0500, NULL, NULL, 0 },
    { "fdinfo", PK_FDDIR, 0500, NULL, NULL, 1 },
    { "task", PK_TASKDIR, 0555, NULL, NULL, 0 }, /* last: task/TID shows all but it */
    { NULL, 0, 0, NULL, NULL, 0 },
};

/* ---- inodes ---- */

/* An entry's position among all tables, for its inode number. */
static uint64_t entry_index(const struct proc_entry *e)
{
    static const struct proc_entry *const tables[] = { root_dir,   sys_dir, kernel_dir,
                                                       random_dir, pid_dir, sysvipc_dir };
    uint64_t base = 0;
    for (size_t k = 0; k < ARRAY_SIZE(tables); k++) {
        size_t n = 0;
        while (tables[k][n].name)
            n++;
        if (e >= tables[k] && e < tables[k] + n)
            return base + (uint64_t)(e - tables[k]) + 2;
        base += n;
    }
    return 0;
}

static const struct inode_ops proc_iops;
static const struct file_ops proc_file_ops, proc_pde_file_ops, proc_dir_ops;

/* A file Linux makes with proc_create (the top directory's and
 * sysvipc's), not a /proc/PID or sysctl one: its writes are pde_write's. */
static int is_pde(const struct proc_entry *e)
{
    return e && e->kind == PK_FILE &&
           ((e >= root_dir && e < root_dir + ARRAY_SIZE(root_dir)) ||
            (e >= sysvipc_dir && e < sysvipc_dir + ARRAY_SIZE(sysvipc_dir)));
}

static struct inode *proc_inode_new(struct super_block *sb, int kind, const struct proc_entry *e,
                                    int pid, int fd, int info)
{
    struct proc_inode *pi = calloc(1, sizeof(*pi));
    if (!pi)
        return NULL;
    mode_t mode;
    switch (kind) {
    case PK_ROOT:
    case PK_PID:
    case PK_TID:
    case PK_TASKDIR:
        mode = S_IFDIR | 0555;
        break;
    case PK_FD:
        mode = info ? (S_IFREG | 0444) : (S_IFLNK | 0700);
        break;
    default:
        mode = (kind == PK_FILE                        ? S_IFREG
                : (kind == PK_DIR || kind == PK_FDDIR) ? S_IFDIR
                                                       : S_IFLNK) |
               e->mode;
        break;
    }
    /* Stable numbers, as Linux gives /proc/PID the same inode each time:
     * the kind, the pid, and the entry's index or the fd. */
    uint64_t idx = kind == PK_FD ? (uint64_t)fd * 2 + (uint64_t)info : e ? entry_index(e) : 0;
    uint64_t ino =
        kind == PK_ROOT ? 1 : ((uint64_t)pid << 32) | ((uint64_t)kind << 24) | (idx & 0xffffff);
    inode_init(&pi->vfs, sb, &proc_iops,
               S_ISDIR(mode)   ? &proc_dir_ops
               : S_ISREG(mode) ? (is_pde(e) ? &proc_pde_file_ops : &proc_file_ops)
                               : NULL,
               ino, mode);
    pi->ent = e;
    pi->kind = kind;
    pi->pid = pid;
    pi->fd = fd;
    pi->info = info;
    clock_gettime(CLOCK_REALTIME, &pi->ctime);
    /* Per-process files belong to the process's owner. */
    struct process *p = pid ? find_process(pid) : NULL;
    const struct creds *c = p ? process_cred_get(p) : NULL;
    if (c) {
        pi->vfs.uid = c->euid;
        pi->vfs.gid = c->egid;
        creds_put(c);
    }
    process_put(p);
    return &pi->vfs;
}

static int parse_num(const char *s)
{
    if (!*s || (s[0] == '0' && s[1]))
        return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return (int)v;
}

static struct file *proc_fd_file(int pid, int fd)
{
    struct process *p = find_process(pid);
    struct file *f = NULL;
    if (p) {
        pthread_mutex_lock(&p->lock);
        struct fdtable *ft = p->files ? fdtable_get(p->files) : NULL;
        pthread_mutex_unlock(&p->lock);
        f = ft ? fd_get(ft, fd) : NULL;
        fdtable_put(ft);
        process_put(p);
    }
    return f;
}

static int proc_lookup(struct inode *dir, const char *name, struct inode **out)
{
    struct proc_inode *d = PI(dir);
    const struct proc_entry *table = NULL;
    switch (d->kind) {
    case PK_ROOT: {
        int pid = parse_num(name);
        if (pid > 0) {
            if (!process_exists(pid))
                return -ENOENT;
            *out = proc_inode_new(dir->sb, PK_PID, NULL, pid, 0, 0);
            return *out ? 0 : -ENOMEM;
        }
        table = root_dir;
        break;
    }
    case PK_DIR:
        table = d->ent->children;
        break;
    case PK_PID:
    case PK_TID:
        if (!process_exists(d->pid))
            return -ENOENT;
        table = pid_dir;
        /* A thread's directory has no task/ of its own: without this
         * /proc/PID/task/TID/task/TID/... would never end. */
        if (d->kind == PK_TID && strcmp(name, "task") == 0)
            return -ENOENT;
        break;
    case PK_TASKDIR: {
        int tid = parse_num(name);
        struct task *tt =
            tid > 0 && current_task ? pid_find_task(current_task->proc->sandbox, tid) : NULL;
        int mine = tt && tt->proc->pid == d->pid;
        task_put(tt);
        if (!mine)
            return -ENOENT;
        *out = proc_inode_new(dir->sb, PK_TID, NULL, tid, 0, 0);
        return *out ? 0 : -ENOMEM;
    }
    case PK_FDDIR: {
        int fd = parse_num(name);
        struct file *f = fd >= 0 ? proc_fd_file(d->pid, fd) : NULL;
        if (!f)
            return -ENOENT;
        file_put(f);
        *out = proc_inode_new(dir->sb, PK_FD, NULL, d->pid, fd, d->ent->arg);
        return *out ? 0 : -ENOMEM;
    }
    default:
        return -ENOTDIR;
    }
    for (const struct proc_entry *e = table; e->name; e++)
        if (strcmp(e->name, name) == 0) {
            *out = proc_inode_new(dir->sb, e->kind, e, d->pid, 0, 0);
            return *out ? 0 : -ENOMEM;
        }
    return -ENOENT;
}

/* What Linux's d_dname gives a file with no name in any directory: a
 * pipe (pipefs) is "pipe:[ino]", a socket "socket:[ino]", anything else an
 * anonymous inode. */
static int anon_name(struct file *f, char *buf, size_t len)
{
    if (f->inode && S_ISFIFO(f->inode->mode))
        return snprintf(buf, len, "pipe:[%llu]", (unsigned long long)f->inode->ino);
    if (f->inode && S_ISSOCK(f->inode->mode))
        return snprintf(buf, len, "socket:[%llu]", (unsigned long long)f->inode->ino);
    if (is_inotify_file(f))
        return snprintf(buf, len, "anon_inode:inotify"); /* Linux's name has no brackets */
    return snprintf(buf, len, "anon_inode:[%s]", f->ops && f->ops->name ? f->ops->name : "file");
}

static int proc_readlink(struct inode *i, char *buf, size_t len)
{
    struct proc_inode *pi = PI(i);
    struct task *t = current_task;
    char tmp[PATH_MAX_LEN];
    int n;
    switch (pi->kind) {
    case PK_SELF:
        if (!t)
            return -ENOENT;
        if (pi->ent->arg == 2)
            n = snprintf(tmp, sizeof(tmp), "self/mounts");
        else if (pi->ent->arg == 1)
            n = snprintf(tmp, sizeof(tmp), "%d/task/%d", t->proc->pid, t->tid);
        else
            n = snprintf(tmp, sizeof(tmp), "%d", t->proc->pid);
        break;
    case PK_PIDLINK: {
        struct process *p = find_process(pi->pid);
        if (!p)
            return -ENOENT;
        struct mm *mm = process_mm_get(p);
        process_put(p);
        if (!mm)
            return -ENOENT;
        pthread_mutex_lock(&mm->view_lock);
        n = snprintf(tmp, sizeof(tmp), "%s", mm->exe);
        pthread_mutex_unlock(&mm->view_lock);
        mm_put(mm);
        break;
    }
    case PK_FD: {
        struct file *f = proc_fd_file(pi->pid, pi->fd);
        if (!f)
            return -ENOENT;
        n = anon_name(f, tmp, sizeof(tmp));
        file_put(f);
        break;
    }
    default:
        return -EINVAL;
    }
    if (n < 0)
        return -EINVAL;
    if ((size_t)n > len)
        n = (int)len;
    memcpy(buf, tmp, (size_t)n);
    return n;
}

static int proc_get_link(struct inode *i, struct mount **mnt, struct dentry **out)
{
    struct proc_inode *pi = PI(i);
    if (pi->kind == PK_PIDLINK && pi->ent->arg == LINK_EXE) {
        /* The program's file itself, whatever its name is now. */
        struct process *p = find_process(pi->pid);
        if (!p)
            return -ENOENT;
        int r = -ENOENT;
        struct mm *mm = process_mm_get(p);
        process_put(p);
        if (!mm)
            return -ENOENT;
        pthread_mutex_lock(&mm->view_lock);
        struct file *f = mm->exe_file;
        if (f && f->dentry) {
            *mnt = f->mnt;
            *out = dget(f->dentry);
            r = 1;
        }
        pthread_mutex_unlock(&mm->view_lock);
        mm_put(mm);
        return r;
    }
    if (pi->kind == PK_PIDLINK) {
        struct process *p = find_process(pi->pid);
        if (!p)
            return -ENOENT;
        pthread_mutex_lock(&p->fs->lock);
        struct path *src = pi->ent->arg == LINK_CWD ? &p->fs->cwd : &p->fs->root;
        *mnt = src->mnt;
        *out = dget(src->d);
        pthread_mutex_unlock(&p->fs->lock);
        process_put(p);
        return 1;
    }
    if (pi->kind == PK_FD && !pi->info) {
        struct file *f = proc_fd_file(pi->pid, pi->fd);
        if (!f)
            return -ENOENT;
        int r = 0;
        if (f->dentry) {
            *mnt = f->mnt;
            *out = dget(f->dentry);
            r = 1;
        } else if (f->inode) {
            /* A pipe has no dentry: the link leads to its inode under an
             * anonymous dentry named as readlink shows it, so that opening
             * the link opens the pipe, as in Linux. */
            char name[64];
            anon_name(f, name, sizeof(name));
            inode_get(f->inode);
            struct dentry *d = d_make_root(f->inode, name);
            if (d) {
                *mnt = NULL;
                *out = d;
                r = 1;
            } else {
                r = -ENOMEM;
            }
        }
        file_put(f);
        return r;
    }
    return 0;
}

static int proc_getattr(struct inode *i, struct stat *st)
{
    struct proc_inode *pi = PI(i);
    inode_fillattr(i, st, 1024);
    st->st_nlink = S_ISDIR(i->mode) ? 2 : 1;
    if (pi->kind == PK_FD && !pi->info) {
        /* The link's mode says how the file is open. */
        struct file *f = proc_fd_file(pi->pid, pi->fd);
        if (f) {
            int acc = f->flags & O_ACCMODE;
            st->st_mode = S_IFLNK | (acc == O_RDONLY ? 0500 : acc == O_WRONLY ? 0300 : 0700);
            file_put(f);
        }
        st->st_size = 64;
    }
    st->st_atim = st->st_mtim = st->st_ctim = pi->ctime;
    return 0;
}

static void proc_evict(struct inode *i)
{
    free(PI(i));
}

static int proc_open(struct inode *i, struct file *f, int flags);

static const struct inode_ops proc_iops = {
    .lookup = proc_lookup,
    .readlink = proc_readlink,
    .get_link = proc_get_link,
    .getattr = proc_getattr,
    .open = proc_open,
    .evict = proc_evict,
};

/* ---- files: the text is made at open ---- */

static int gen_fdinfo(struct strbuf *out, int pid, int fd)
{
    struct file *f = proc_fd_file(pid, fd);
    if (!f)
        return -ENOENT;
    int mnt_id = f->mnt ? f->mnt->id : 0;
    unsigned long long ino = f->inode ? (unsigned long long)f->inode->ino : 0;
    struct process *p = find_process(pid);
    int cloexec = 0;
    if (p && p->files) {
        pthread_mutex_lock(&p->files->lock);
        if (fd < p->files->n && p->files->fd[fd].f == f)
            cloexec = p->files->fd[fd].cloexec;
        pthread_mutex_unlock(&p->files->lock);
    }
    process_put(p);
    strbuf_printf(out, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)f->pos,
                  (unsigned)f->flags | (cloexec ? 02000000U : 0), mnt_id, ino);
    if (f->ops && f->ops->fdinfo) {
        char extra[4096];
        int n = f->ops->fdinfo(f, extra, sizeof(extra));
        if (n > 0)
            strbuf_append(out, extra, (size_t)n);
    }
    file_put(f);
    return out->oom ? -ENOMEM : 0;
}

static int proc_open(struct inode *i, struct file *f, int flags)
{
    (void)flags;
    struct proc_inode *pi = PI(i);
    if (S_ISDIR(i->mode))
        return 0;
    struct strbuf *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    struct task *t = current_task;
    int r;
    if (pi->kind == PK_FD) {
        r = gen_fdinfo(b, pi->pid, pi->fd);
    } else {
        struct process *p = pi->pid ? find_process(pi->pid) : (t ? process_get(t->proc) : NULL);
        r = p && t ? pi->ent->gen(b, t, p) : -ENOENT;
        process_put(p);
    }
    if (r < 0) {
        strbuf_free(b);
        free(b);
        return r;
    }
    f->priv = b;
    return 0;
}

static ssize_t pf_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    struct strbuf *b = f->priv;
    if (*pos < 0)
        return -EINVAL;
    if ((size_t)*pos >= b->len)
        return 0;
    size_t n = b->len - (size_t)*pos;
    if (n > len)
        n = len;
    memcpy(buf, b->s + *pos, n);
    *pos += (off_t)n;
    return (ssize_t)n;
}

static int is_mq_sysctl(const struct proc_entry *e)
{
    return e && e >= mqueue_dir && e < mqueue_dir + PROCFS_MQ_NR;
}

/* Writes: the mqueue limits only, as Linux's proc_dointvec_minmax takes
 * them (one decimal number, blanks around it; a write past the start is
 * ignored, as with sysctl_writes_strict). Other files refuse writes. */
static ssize_t pf_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    const struct proc_entry *e = PI(f->inode)->ent;
    const struct procfs_mq_sysctl *ops = __atomic_load_n(&mq_sysctl_ops, __ATOMIC_ACQUIRE);
    if (!is_mq_sysctl(e) || !ops)
        return -EINVAL;
    if (*pos != 0)
        return 0;
    char text[64];
    size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
    memcpy(text, buf, n);
    text[n] = 0;
    char *s = text, *end;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno || (*end && *end != ' ' && *end != '\t' && *end != '\n') ||
        v < INT32_MIN || v > INT32_MAX)
        return -EINVAL;
    int r = ops->set(e->arg, v);
    if (r < 0)
        return r;
    *pos += (off_t)len;
    return (ssize_t)len;
}

static int pf_stat(struct file *f, struct stat *st)
{
    return proc_getattr(f->inode, st);
}

static void pf_release(struct file *f)
{
    struct strbuf *b = f->priv;
    if (b) {
        strbuf_free(b);
        free(b);
    }
}

/* lseek as Linux's procfs files do it. Most are seq files (seq_lseek):
 * SEEK_SET and SEEK_CUR to any offset >= 0, all else EINVAL. cmdline,
 * environ and the directories take generic_file_llseek on a size of 0,
 * limited to procfs's MAX_NON_LFS; the sysctl files (/proc/sys) take
 * default_llseek on a size of 0. */
static off_t proc_llseek(struct file *f, off_t off, int whence)
{
    enum { SEQ, GENERIC, SYSCTL } kind = SEQ;
    const struct proc_entry *e = PI(f->inode)->ent;
    if (S_ISDIR(f->inode->mode) ||
        (e && (e->gen == procfs_gen_cmdline || e->gen == procfs_gen_environ)))
        kind = GENERIC;
    else if (e &&
             ((e >= kernel_dir && e < kernel_dir + sizeof(kernel_dir) / sizeof(kernel_dir[0])) ||
              (e >= random_dir && e < random_dir + sizeof(random_dir) / sizeof(random_dir[0])) ||
              is_mq_sysctl(e)))
        kind = SYSCTL;
    if (kind == SEQ && whence != SEEK_SET && whence != SEEK_CUR)
        return -EINVAL;
    return file_llseek_size(f, off, whence, 0, kind == GENERIC ? INT32_MAX : INT64_MAX);
}

static const struct file_ops proc_file_ops = {
    .name = "proc",
    .read = pf_read,
    .write = pf_write,
    .llseek = proc_llseek,
    .stat = pf_stat,
    .release = pf_release,
};

/* A proc_create file without a write operation: pde_write's EIO (the
 * others, seq files, have no write: EINVAL). */
static ssize_t pde_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    (void)f, (void)buf, (void)len, (void)pos;
    return -EIO;
}

static const struct file_ops proc_pde_file_ops = {
    .name = "proc",
    .read = pf_read,
    .write = pde_write,
    .llseek = proc_llseek,
    .stat = pf_stat,
    .release = pf_release,
};

/* ---- directories ---- */

static unsigned dtype(mode_t m)
{
    return S_ISDIR(m) ? DT_DIR : S_ISLNK(m) ? DT_LNK : DT_REG;
}

/* Positions: 0 ".", 1 "..", then 2 + the index of the entry. */
static int pd_iterate(struct file *f, struct dir_context *ctx)
{
    struct proc_inode *d = PI(f->inode);
    uint64_t dino = f->inode->ino;
    char name[32];
    for (;;) {
        off_t pos = ctx->pos;
        int r;
        if (pos == 0) {
            r = ctx->emit(ctx, ".", 1, dino, DT_DIR);
        } else if (pos == 1) {
            r = ctx->emit(ctx, "..", 2, 1, DT_DIR);
        } else {
            off_t k = pos - 2;
            const struct proc_entry *table = d->kind == PK_ROOT                       ? root_dir
                                             : d->kind == PK_PID || d->kind == PK_TID ? pid_dir
                                             : d->kind == PK_DIR ? d->ent->children
                                                                 : NULL;
            off_t n = 0;
            if (table)
                while (table[n].name)
                    n++;
            if (d->kind == PK_TID)
                n--; /* "task", the table's last entry */
            if (k < n) {
                const struct proc_entry *e = &table[k];
                mode_t m = e->kind == PK_FILE                           ? S_IFREG
                           : (e->kind == PK_DIR || e->kind == PK_FDDIR) ? S_IFDIR
                                                                        : S_IFLNK;
                r = ctx->emit(ctx, e->name, strlen(e->name), 1000 + (uint64_t)k, dtype(m));
            } else {
                /* Numbered entries after the table: pids, tids or fds. */
                k -= n;
                int num = -1;
                unsigned type = DT_DIR;
                if (d->kind == PK_ROOT) {
                    /* The k-th process by pid. */
                    struct task *t = current_task;
                    for (off_t j = 0; t && j <= k; j++) {
                        num = pid_next_process(t->proc->sandbox, num < 0 ? 0 : num);
                        if (num < 0)
                            break;
                    }
                } else if (d->kind == PK_TASKDIR) {
                    struct process *p = find_process(d->pid);
                    for (off_t j = 0; p && j <= k; j++) {
                        num = process_next_tid(p, num < 0 ? 0 : num);
                        if (num < 0)
                            break;
                    }
                    process_put(p);
                } else if (d->kind == PK_FDDIR) {
                    struct process *p = find_process(d->pid);
                    type = d->ent->arg ? DT_REG : DT_LNK;
                    struct fdtable *ft = NULL;
                    if (p) {
                        pthread_mutex_lock(&p->lock);
                        ft = p->files ? fdtable_get(p->files) : NULL;
                        pthread_mutex_unlock(&p->lock);
                        process_put(p);
                    }
                    if (ft) {
                        /* k counts open fds from the lowest. */
                        pthread_mutex_lock(&ft->lock);
                        off_t seen = 0;
                        for (int fd = 0; fd < ft->n; fd++)
                            if (ft->fd[fd].f && seen++ == k) {
                                num = fd;
                                break;
                            }
                        pthread_mutex_unlock(&ft->lock);
                        fdtable_put(ft);
                    }
                }
                if (num < 0)
                    return 0;
                int len = snprintf(name, sizeof(name), "%d", num);
                r = ctx->emit(ctx, name, (size_t)len, 2000 + (uint64_t)num, type);
            }
        }
        if (r)
            return 0;
        ctx->pos = pos + 1;
    }
}

static const struct file_ops proc_dir_ops = {
    .name = "proc-dir",
    .llseek = proc_llseek,
    .iterate = pd_iterate,
};

/* ---- the file system ---- */

const struct fs_type procfs_type = {
    .name = "proc",
    .magic = PROC_SUPER_MAGIC,
    .nodev = 1,
};

int procfs_mount(struct dentry **root)
{
    struct super_block *sb = sb_new(&procfs_type, vfs_anon_dev(), "proc");
    if (!sb)
        return -ENOMEM;
    struct inode *i = proc_inode_new(sb, PK_ROOT, NULL, 0, 0, 0);
    sb_put(sb);
    if (!i)
        return -ENOMEM;
    *root = d_make_root(i, "/");
    return *root ? 0 : -ENOMEM;
}
