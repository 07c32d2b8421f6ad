/* System V IPC (message queues, semaphores, shared memory) and POSIX
 * message queues: the sandbox's one IPC namespace, never the host's.
 *
 * Each kind of object (msg, sem, shm) has its id table and one lock (the
 * kind's mutex, held by every operation on its objects and the condition
 * lock of their sleepers); ids follow Linux's scheme (ipc_idr_alloc:
 * index allocated cyclically below the kind's limit, a sequence number
 * that grows when the index wraps, id = seq << 15 | index). Permissions
 * are Linux's ipcperms against the caller's creds. */
#ifndef IPC_IPC_H
#define IPC_IPC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct creds;
struct process;
struct strbuf;
struct task;

/* ipcperms' access masks (linux/stat.h). */
#define S_IRUGO 0444
#define S_IWUGO 0222
#define S_IXUGO 0111

/* Linux's kern_ipc_perm. */
struct ipc_obj {
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode; /* permission bits and the kind's flags (SHM_DEST ...) */
    int id;
    uint16_t seq;
    int deleted;   /* removed from the table (IPC_RMID) */
    int64_t ctime; /* the last change (creation, IPC_SET, the kind's own) */
};

struct ipc_ids {
    struct ipc_obj **slot; /* by index */
    int cap;
    int in_use;
    int seq;
    int last_idx; /* the last index handed out (-1: none) */
    int limit;    /* indices below this (msgmni, semmni, shmmni) */
};

#define IPC_SEQ_SHIFT 15
#define IPC_SEQ_MAX (1 << 16)

/* Enter p under a new id; its key, owner and mode must be set. The id, or
 * -ENOSPC when the table is full (-ENOMEM without memory). */
int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *p);
/* Take p out of the table (its id no longer finds it). */
void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *p);
/* The object with this key (not IPC_PRIVATE), or NULL. */
struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int32_t key);
/* The object of id (index and sequence), or NULL (Linux: EINVAL). */
struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id);
/* The object at index idx (the *_STAT commands), or NULL. */
struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx);
/* The highest index in use, or -1 (Linux's ipc_get_maxidx). */
int ipc_ids_max_idx(const struct ipc_ids *ids);
/* The object at the lowest index >= *idx, which it sets to that index, or
 * NULL: a walk of the table in index order (Linux's sysvipc_find_ipc). */
struct ipc_obj *ipc_ids_next(struct ipc_ids *ids, int *idx);
/* A /proc/sysvipc file: header, then line() of each object of ids in
 * index order under lock (the kind's). 0 or -ENOMEM. */
int ipc_ids_show(struct strbuf *out, const char *header, struct ipc_ids *ids, pthread_mutex_t *lock,
                 void (*line)(struct strbuf *out, const struct ipc_obj *p));

/* *get's look-up of key under the kind's lock (Linux's ipcget): 1 when a
 * new object is to be made (IPC_PRIVATE, or no object has key and flag has
 * IPC_CREAT), else 0 with *r the answer: -ENOENT without such an object;
 * with one, -EEXIST (IPC_CREAT | IPC_EXCL), more(p, want)'s -errno (the
 * kind's own check, if more), -EACCES (ipc_perms for flag), or its id. */
int ipc_get_key(struct ipc_ids *ids, int32_t key, int flag, const struct creds *c,
                int (*more)(struct ipc_obj *p, uint64_t want), uint64_t want, long *r);

/* New object's owner, mode (the low nine bits of flag) and ctime (now). */
void ipc_obj_init(struct ipc_obj *p, int32_t key, int flag, const struct creds *c);
/* Linux's ipcperms: 0 if c may access p as flag asks (S_IRUGO, S_IWUGO
 * ...), else -EACCES (CAP_IPC_OWNER passes). */
int ipc_perms(const struct creds *c, const struct ipc_obj *p, int flag);
/* IPC_SET and IPC_RMID: the owner or creator, or CAP_SYS_ADMIN; -EPERM. */
int ipc_may_change(const struct creds *c, const struct ipc_obj *p);

/* struct ipc64_perm of x86-64 (what *_STAT and IPC_SET exchange). */
struct ipc64_perm_k {
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode;
    uint16_t seq, pad2;
    uint32_t pad3;
    uint64_t unused1, unused2;
};
_Static_assert(sizeof(struct ipc64_perm_k) == 48, "ipc64_perm");
void ipc_perm_out(const struct ipc_obj *p, struct ipc64_perm_k *out);
/* IPC_SET's change: uid, gid and the permission bits of mode. */
void ipc_perm_set(struct ipc_obj *p, const struct ipc64_perm_k *in);

/* One kind's table as its *ctl commands see it. The kind's *id64_ds
 * (at most IPC_DS_MAX bytes) starts with its struct ipc64_perm_k; its
 * *info structs are no larger. */
#define IPC_DS_MAX 128
struct ipc_kind {
    pthread_mutex_t *lock;
    struct ipc_ids *ids;
    size_t ds_size;
    int stat_cmd; /* the kind's *_STAT command */
    int stat_any; /* the kind's *_STAT_ANY command */
    int info_cmd; /* the kind's *_INFO command */
    /* IPC_INFO or *_INFO under the kind's lock: fill info (zeroed, of
     * IPC_DS_MAX bytes) and return the size of what it filled. */
    size_t (*info)(int cmd, void *info);
    /* *_STAT: the kind's own fields of ds (ipc_ctl fills its perm). */
    void (*stat)(struct ipc_obj *p, void *ds);
    /* IPC_SET allowed to c, or NULL if the kind has nothing of its own to
     * change: the kind's own part of the change that ds asks (ipc_ctl then
     * changes the perm and stamps the ctime), 0, or -errno to refuse it. */
    int (*set)(struct ipc_obj *p, const void *ds, const struct creds *c);
    /* IPC_RMID allowed. */
    void (*remove)(struct ipc_obj *p);
};

/* The *ctl commands every kind has, with the guest's buffer at ubuf:
 * IPC_INFO and the kind's *_INFO (the highest index in use), IPC_STAT (by
 * id), the kind's *_STAT and *_STAT_ANY (by index; the latter without the
 * read permission), IPC_SET and IPC_RMID (for the owner, creator or
 * CAP_SYS_ADMIN). 0, the id (*_STAT), the index (*INFO), or -errno
 * (-EINVAL for any other command). */
long ipc_ctl(struct task *t, const struct ipc_kind *k, int cmd, int id, uint64_t ubuf);

/* The realtime clock's seconds (the objects' times). */
int64_t ipc_now(void);

/* /proc/sysvipc/{msg,sem,shm}: the header line, then one line per object
 * in index order, in Linux's formats (sysvipc_*_proc_show), with pids as
 * the sandbox's pid namespace numbers them and the sandbox's uids and
 * gids. procfs, below this layer, calls them through procfs_sysvipc_gen
 * (set at start-up). 0 or -ENOMEM. */
int ipc_msg_proc_show(struct strbuf *out);
int ipc_sem_proc_show(struct strbuf *out);
int ipc_shm_proc_show(struct strbuf *out);
/* The mqueue file system's root (a new reference), to mount at /dev/mqueue:
 * the sandbox's one, whose queues mq_open and mq_unlink name. */
struct dentry;
int mqueue_mount(struct dentry **root);

/* A process's last thread has exited: its semaphore undo records are
 * applied and dropped (Linux's exit_sem). */
void ipc_sem_exit(struct process *p);

#endif
