/* The sentry's model of processes and threads: tasks, thread groups,
 * credentials, limits, signal state, and the sandbox that holds them. */
#ifndef SENTRY_KERNEL_H
#define SENTRY_KERNEL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/regs.h"
#include "platform/platform.h"
#include "sched/wait.h"
#include "sentry/mm.h"

#define GUEST_NSIG 64
#define GUEST_RLIM_NLIMITS 16

struct guest_rlimit {
    uint64_t cur, max;
};

/* struct sigaction as the x86-64 kernel stores it (rt_sigaction ABI). */
struct guest_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

/* Capability sets: bit N is capability N (CAP_CHOWN 0 ... CAP_LAST_CAP). */
#define GUEST_CAP_LAST_CAP 40 /* CAP_CHECKPOINT_RESTORE, the last of Linux 5.9 to 6.18 */
#define GUEST_CAP_FULL_SET ((1ULL << (GUEST_CAP_LAST_CAP + 1)) - 1)

/* A process's credentials, as Linux's struct cred: ids and the five
 * capability sets. The sandbox's init starts with full sets, which its
 * execve then narrows (creds_exec_caps). The sentry's checks grant a
 * guest whose relevant id is 0 what Linux grants with the matching
 * capability (DAC override, chown, fowner, mknod, sys_resource, ...): with
 * ids that never change (no setuid family yet) that is the same as
 * checking cap_effective. */
struct creds {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    /* Supplementary groups, ascending as Linux keeps them: the host
     * process's at start. The array is shared by every copy of the creds,
     * lives as long as the sentry and never changes (no setgroups yet). */
    int ngroups;
    const uint32_t *groups;
    uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
};

/* The sandbox's first creds: the host process's ids and groups. */
int creds_init_host(struct creds *c);
/* gid is one of the supplementary groups (in_group_p is this or fsgid). */
int creds_in_groups(const struct creds *c, uint32_t gid);

/* The capabilities execve gives a program without file capabilities or
 * set-id bits, as Linux's cap_bprm_creds_from_file: root (real or
 * effective uid 0) gets bounding | inheritable as permitted, effective
 * too when the euid is 0; every program keeps its ambient set in both. */
static inline void creds_exec_caps(struct creds *c)
{
    uint64_t amb = c->cap_ambient & c->cap_permitted & c->cap_inheritable;
    uint64_t prm = 0;
    int root = c->uid == 0 || c->euid == 0;
    if (root)
        prm = (c->cap_bset | c->cap_inheritable) & GUEST_CAP_FULL_SET;
    c->cap_ambient = amb;
    c->cap_permitted = prm | amb;
    c->cap_effective = root && c->euid == 0 ? c->cap_permitted : amb;
}

/* The sandbox's first program: started as if by an execve from Linux's
 * init credentials (every capability in the bounding set, none
 * inheritable or ambient), so a root guest has every capability and
 * anyone else none, as in a container started without a capability list. */
static inline void creds_init_caps(struct creds *c)
{
    c->cap_inheritable = 0;
    c->cap_ambient = 0;
    c->cap_bset = GUEST_CAP_FULL_SET;
    c->cap_permitted = c->cap_effective = GUEST_CAP_FULL_SET;
    creds_exec_caps(c);
}

struct sighand {
    pthread_mutex_t lock;
    int refs;
    struct guest_sigaction act[GUEST_NSIG];
};

struct fdtable;
struct fs_struct;
struct sandbox;

/* A thread group (a guest process). */
struct process {
    int pid;                  /* tgid in the sandbox's pid namespace */
    int ppid;
    struct creds creds;
    struct guest_rlimit rlim[GUEST_RLIM_NLIMITS];
    struct mm *mm;
    struct fdtable *files;
    struct sighand *sighand;
    struct sandbox *sb;
    uint32_t umask;
    struct fs_struct *fs;     /* root and cwd */
    char comm[16];            /* the executable's name, NUL-terminated */
    uint64_t start_time;      /* CLOCK_MONOTONIC ns when it was created */
    /* personality(2): PER_LINUX plus flags; ADDR_NO_RANDOMIZE is read by
     * the loader (it takes effect at the next execve). */
    uint32_t personality;
};

/* A guest thread. */
struct task {
    int tid;
    struct process *proc;
    struct guest_ctx *ctx;
    struct guest_regs regs;
    uint64_t sigmask;
    uint64_t clear_child_tid;
    uint64_t robust_list, robust_len;
    int exiting;
    int exit_code;            /* wait status of the process once exiting */
    pthread_t thread;
    /* Blocking (sched/wait.h): where its thread sleeps, and the interrupt
     * flag the signal code sets. Zeroed at creation. */
    struct sleeper sleep;
};

struct sandbox {
    const struct platform *plat;
    int strace;
    int exit_status;          /* sandbox-run's exit status */
    int done_fd;              /* eventfd: written when the init process is gone */
    struct process *init;
    int next_pid;
    uint32_t reported[16];    /* bitmap of unimplemented syscalls already reported */
    uint64_t reported_big[32]; /* the same for numbers past the bitmap */
    pthread_mutex_t lock;
};

/* The task this sentry thread services (NULL on other threads). */
extern __thread struct task *current_task;

/* Run a task's loop on the current thread until it exits. */
void task_run(struct task *t);
/* End the whole process with a wait status (exit code << 8, or signal). */
void task_exit_group(struct task *t, int wstatus);

#endif
