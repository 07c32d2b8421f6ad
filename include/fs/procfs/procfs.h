/* The contents of procfs files: pure generators from sentry state (and,
 * for system-wide files, the host's numbers) to text in the Linux kernel's
 * exact formats, plus the small growable text buffer they write into.
 * The directory tree and the file operations live with the VFS. */
#ifndef FS_PROCFS_H
#define FS_PROCFS_H

#include <stddef.h>

struct task;
struct process;
struct sandbox;

/* A growable NUL-terminated text buffer. Start from STRBUF_INIT (or all
 * zeros). After an allocation failure oom is set, later appends do
 * nothing, and they all return -ENOMEM; s stays valid (maybe NULL). */
struct strbuf {
    char *s;
    size_t len, cap;
    int oom;
};

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

int strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_putc(struct strbuf *b, int c);
int strbuf_append(struct strbuf *b, const void *data, size_t len);
/* Free the text and reset b to STRBUF_INIT. */
void strbuf_free(struct strbuf *b);

/* ---- /proc/PID/... ----
 * Each appends the file's whole text to out and returns 0 or -errno
 * (-ENOMEM, or -EACCES where Linux requires PTRACE_MODE_READ: environ,
 * maps). reader is the task reading (may be NULL: treated as a privileged
 * outsider); p is the process the file belongs to. */
int procfs_gen_stat(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_status(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_statm(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_cmdline(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_environ(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_comm(struct strbuf *out, struct task *reader, struct process *p);
int procfs_gen_maps(struct strbuf *out, struct task *reader, struct process *p);

/* ---- mounts ----
 * One mount as /proc/PID/mounts and mountinfo show it. The caller fills
 * it from the mount table in the reader's view: mountpoint relative to the
 * reader's root, root the mount's root within its file system, source the
 * neutral name the sandbox gives the file system (never a host path). */
struct procfs_mount {
    int id, parent_id;
    unsigned dev_major, dev_minor;
    const char *root, *mountpoint, *type, *source;
    int rdonly, nosuid, nodev, noexec;    /* the mount's flags */
    int noatime, nodiratime, strictatime; /* its atime mode (none: relatime) */
    int sb_rdonly;                        /* the super block's */
    const char *sb_options;               /* "size=...,mode=..." or NULL */
};
/* mounts (info 0) or mountinfo (info 1) line; names escaped as Linux's
 * mangle() does (space, tab, newline and backslash as \ooo). */
int procfs_gen_mount_line(struct strbuf *out, const struct procfs_mount *m, int info);

/* ---- system-wide files ---- */
/* The system-wide figures behind sysinfo(2) and /proc/{uptime,loadavg}
 * (and /proc/meminfo without the host's): the host's memory and load
 * averages (the guest runs on the host's memory and CPUs; /proc/meminfo
 * shows the same counters of the host kernel), the uptime of the clock
 * /proc/uptime shows, rounded up to whole seconds as do_sysinfo does, and
 * tasks, the sandbox's task count (Linux's nr_threads). Padding zeroed. */
struct sysinfo;
void procfs_sysinfo(struct sysinfo *si, unsigned tasks);
int procfs_gen_meminfo(struct strbuf *out);
int procfs_gen_cpuinfo(struct strbuf *out);
/* /proc/stat. processes: tasks created since the sandbox started (its
 * "processes" line, total_forks in Linux); running: tasks running now
 * (the reader counts). */
int procfs_gen_sysstat(struct strbuf *out, unsigned long processes, unsigned running);
int procfs_gen_uptime(struct strbuf *out);
/* running/total: the sandbox's runnable and existing tasks; last_pid: the
 * most recently allocated pid (procfs_last_pid). */
int procfs_gen_loadavg(struct strbuf *out, unsigned running, unsigned total, int last_pid);
int procfs_gen_version(struct strbuf *out);

/* One line of /proc/filesystems; a list ends with name == NULL. */
struct procfs_fs {
    const char *name;
    int nodev;
};
int procfs_gen_filesystems(struct strbuf *out, const struct procfs_fs *list);

/* /proc/sys/kernel/... */
int procfs_gen_hostname(struct strbuf *out);
int procfs_gen_ostype(struct strbuf *out);
int procfs_gen_osrelease(struct strbuf *out);
int procfs_gen_pid_max(struct strbuf *out);
int procfs_gen_boot_id(struct strbuf *out); /* random/boot_id: fixed per sandbox */
int procfs_gen_uuid(struct strbuf *out);    /* random/uuid: fresh each call */

/* ---- /proc/sysvipc/{msg,sem,shm} ----
 * The generators of their whole text, by kind (ipc_msg_proc_show ...):
 * System V IPC lies above the file systems, so start-up sets them. NULL:
 * the file does not open (-ENOENT). */
enum { PROCFS_SYSVIPC_MSG, PROCFS_SYSVIPC_SEM, PROCFS_SYSVIPC_SHM, PROCFS_SYSVIPC_KINDS };
extern int (*procfs_sysvipc_gen[PROCFS_SYSVIPC_KINDS])(struct strbuf *out);
/* /proc/sys/fs/mqueue: the POSIX message queue limits, which the IPC layer
 * (above procfs) keeps; it registers how to read and set them at start. */
enum procfs_mq_limit {
    PROCFS_MQ_MSG_DEFAULT,
    PROCFS_MQ_MSG_MAX,
    PROCFS_MQ_MSGSIZE_DEFAULT,
    PROCFS_MQ_MSGSIZE_MAX,
    PROCFS_MQ_QUEUES_MAX,
    PROCFS_MQ_NR
};
struct procfs_mq_sysctl {
    long (*get)(int which);
    int (*set)(int which, long value); /* 0, or -EINVAL out of its range */
};
void procfs_set_mq_sysctl(const struct procfs_mq_sysctl *ops);

/* The last pid the sandbox handed out (sb->next_pid - 1, under sb->lock). */
int procfs_last_pid(struct sandbox *box);

#endif
