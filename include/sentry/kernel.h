/* The sentry's model of processes and threads: tasks, thread groups,
 * credentials, limits, signal state, and the sandbox that holds them. */
#ifndef SENTRY_KERNEL_H
#define SENTRY_KERNEL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/regs.h"
#include "sched/wait.h"
#include "sentry/creds.h"
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

struct sighand {
    pthread_mutex_t lock;
    int refs;
    struct guest_sigaction act[GUEST_NSIG];
};

struct fdtable;
struct fs_struct;
struct sandbox;
/* The platform's (platform/platform.h): only the task loop and the memory
 * code look inside. */
struct guest_ctx;
struct platform;

/* A thread group (a guest process). */
struct process {
    int pid; /* tgid in the sandbox's pid namespace */
    int ppid;
    struct guest_rlimit rlim[GUEST_RLIM_NLIMITS];
    struct mm *mm;
    struct fdtable *files;
    struct sighand *sighand;
    struct sandbox *sandbox;
    uint32_t umask;
    struct fs_struct *fs; /* root and cwd */
    char comm[16];        /* the executable's name, NUL-terminated */
    uint64_t start_time;  /* CLOCK_MONOTONIC ns when it was created */
    /* personality(2): PER_LINUX plus flags; ADDR_NO_RANDOMIZE is read by
     * the loader (it takes effect at the next execve). */
    uint32_t personality;

    /* ---- credentials ----
     * The thread-group leader: its creds are the ones /proc/PID shows
     * (process_cred_get). Set with the task; the process table may keep
     * this in its own thread list instead. */
    struct task *leader;

    /* ---- per-process state of prctl (sys_task.c) ----
     * dumpable: PR_GET/SET_DUMPABLE (Linux keeps it in the mm): 1 at
     * start, reset to the host's fs.suid_dumpable when the creds change
     * ids or gain capabilities (task_commit_creds). child_subreaper:
     * PR_SET_CHILD_SUBREAPER, for the process table's reparenting. Both
     * read and written with relaxed atomics (any task of the process). */
    int dumpable;
    int child_subreaper;
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
    int exit_code; /* wait status of the process once exiting */
    pthread_t thread;
    /* Blocking (sched/wait.h): where its thread sleeps, and the interrupt
     * flag the signal code sets. Zeroed at creation. */
    struct sleeper sleep;

    /* ---- credentials ----
     * The task's creds (sentry/creds.h), with a reference: immutable,
     * replaced whole by task_commit_creds. The task reads its own without
     * a lock (only it replaces them); anyone else takes a reference with
     * task_cred_get. A new task shares its creator's (creds_get); execve
     * prepares a copy, applies creds_exec_caps and commits it; the task's
     * end puts its reference. */
    const struct creds *cred;

    /* ---- per-task state of prctl and the scheduler calls ----
     * (sys_task.c, sys_sched.c). A new task copies them from its creator
     * (clone), except pdeath_signal which starts at 0. Only the task
     * itself changes them; the pid argument of the calls that name
     * another task waits for the process table. */
    int pdeath_signal;  /* PR_SET_PDEATHSIG: sent when the parent dies; 0 after a cred change */
    int no_new_privs;   /* PR_SET_NO_NEW_PRIVS: 1 from the start (the stub runs with it) */
    int nice;           /* -20..19, setpriority */
    int sched_policy;   /* SCHED_OTHER ... (guest-visible only: the host thread keeps its own) */
    int sched_priority; /* rt priority, 1..99 for SCHED_FIFO/RR */
    int sched_reset_on_fork;
    /* sched_setaffinity's set (bit N: cpu N), guest-visible only: the
     * host thread is never pinned. cpus_set 0: the host's set. */
    int cpus_set;
    uint64_t cpus[16];
};

struct sandbox {
    const struct platform *plat;
    int strace;
    int exit_status; /* sandbox-run's exit status */
    int done_fd;     /* eventfd: written when the init process is gone */
    struct process *init;
    int next_pid;
    uint32_t reported[16];     /* bitmap of unimplemented syscalls already reported */
    uint64_t reported_big[32]; /* the same for numbers past the bitmap */
    pthread_mutex_t lock;
};

/* Install new (whose reference t takes over) as t's creds and drop the
 * old ones: Linux's commit_creds. Only t itself calls this. */
void task_commit_creds(struct task *t, struct creds *new);
/* A reference to another task's (or process's leader's) current creds,
 * for a reader that is not that task; creds_put when done. NULL if p has
 * no leader. The lock they take (creds.c) is a leaf: nothing else is taken
 * while it is held, so any caller may hold any other lock. */
const struct creds *task_cred_get(struct task *t);
const struct creds *process_cred_get(struct process *p);

/* Run a task's loop on the current thread until it exits. */
void task_run(struct task *t);
/* End the whole process with a wait status (exit code << 8, or signal). */
void task_exit_group(struct task *t, int wstatus);

#endif
