/* The sentry's model of processes and threads: tasks, thread groups,
 * credentials, limits, signal state, and the sandbox that holds them. */
#ifndef SENTRY_KERNEL_H
#define SENTRY_KERNEL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "abi/regs.h"
#include "list.h"
#include "sched/wait.h"
#include "sentry/creds.h"
#include "sentry/mm.h"

#define GUEST_NSIG 64
/* Signal sig's bit in a 64-bit sigset; the two no mask may hold (9, 19). */
#define SIGBIT(sig) (1ULL << ((sig)-1))
#define UNBLOCKABLE (SIGBIT(9 /* SIGKILL */) | SIGBIT(19 /* SIGSTOP */))
#define GUEST_RLIM_NLIMITS 16

struct guest_rlimit {
    uint64_t cur, max;
};

/* A signal's siginfo, laid out as the x86-64 kernel's siginfo_t (128
 * bytes), so that the frame, signalfd and sigtimedwait copy it whole.
 * Which union member is meant follows si_code, as in Linux. */
struct sig_info {
    int32_t signo, errno_, code, pad0;
    union {
        struct {          /* kill, tkill, sigqueue, SIGCHLD */
            int32_t pid;  /* si_pid: the sender, or the child */
            uint32_t uid; /* si_uid */
            union {
                uint64_t value; /* si_value (SI_QUEUE, SI_MESGQ) */
                int32_t status; /* si_status for SIGCHLD */
            };
            int64_t utime, stime; /* SIGCHLD, in clock ticks */
        };
        struct { /* SI_TIMER */
            int32_t timer_id, overrun;
            uint64_t timer_value;
        };
        struct { /* faults */
            uint64_t addr;
            uint16_t addr_lsb;
        };
        struct { /* SIGPOLL */
            int64_t band;
            int32_t fd;
        };
        uint8_t fields[112];
    };
};

/* One queued signal: a real-time one queues each time it is sent, a
 * standard one once while pending. */
struct sigqueue {
    struct list_node node;
    struct sig_info info;
    /* A timer's own entry, made with the timer (ptimer.c; Linux's
     * SIGQUEUE_PREALLOC): the signal code never frees it and counts it
     * only while the timer lives. on is the set it is queued on (NULL:
     * not queued); dequeued is called once it is taken, under
     * process->lock, to fill in the overrun and rearm the timer. NULL
     * for every other entry. */
    void (*dequeued)(struct sigqueue *q, struct sig_info *info);
    struct sigpending *on;
};

/* A set of pending signals (a thread's, or its process's shared one) with
 * their siginfo in the order they came, under process->lock. A bit may be
 * set with no entry: its siginfo was lost past RLIMIT_SIGPENDING. */
struct sigpending {
    uint64_t set;
    struct list_node queue;
};

/* How restart_syscall goes on with a call that returned
 * -ERESTART_RESTARTBLOCK (Linux's restart_block): fn with what the call
 * kept (the arguments it needs, an absolute time on a clock). fn NULL:
 * restart_syscall is EINTR (do_no_restart_syscall), as after a sigreturn. */
struct task;
struct restart_block {
    long (*fn)(struct task *t);
    uint64_t arg[4];
    int clock;
    struct timespec abs;
};

/* struct sigaction as the x86-64 kernel stores it (rt_sigaction ABI). */
struct guest_sigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

struct fdtable;
struct fs_struct;
struct ptimers;
struct tty;
struct sandbox;
/* The platform's (platform/platform.h): only the task loop and the memory
 * code look inside. */
struct guest_ctx;
struct platform;

/* ---- Objects and their life cycles ----
 *
 * task      a guest thread. Refcounted (task_get/task_put): the pid table,
 *           its process's thread list and its own sentry thread each hold
 *           one while they point to it.
 * process   a thread group. Refcounted: its tasks, its parent's child list
 *           and the pid table hold one each.
 * mm        an address space (one stub), shared by CLONE_VM: mm_get/mm_put.
 * fs_struct root and cwd, shared by CLONE_FS (fs_struct_copy/put, VFS).
 * fdtable   descriptors, shared by CLONE_FILES (fdtable_copy/put).
 * sighand   signal dispositions, shared by CLONE_SIGHAND: sighand_get/put.
 * creds     immutable, replaced whole (sentry/creds.h).
 * A process points to its mm, fs, files and sighand (each held), which
 * other processes may share (vfork, CLONE_VM, CLONE_FILES, ...). Its
 * threads share all four: a thread without CLONE_FS or CLONE_FILES is
 * refused (EINVAL), which no libc or runtime asks for.
 *
 * ---- Lock order (take only downwards; never two of one level) ----
 *   1. sandbox->tasklist  the pid table, parent/child links, process
 *                         groups and sessions, process state changes
 *                         (alive, zombie, reaped), reparenting
 *   2. process->lock      its thread list and counts, group exit
 *   3. sighand->lock      dispositions
 *   4. mm->lock, fdtable->lock, fs_struct->lock (never nested in each other)
 *   5. wait queue and sleeper locks (sched/wait.h), mm->view_lock, leaf locks
 * No lock that another guest process can wait for is held across a stub
 * handoff or a blocking host call. mm->lock is held across the stub calls
 * that change mappings, and only the tasks of that address space take it;
 * what other processes read of it (procfs) is under mm->view_lock, which
 * is held for moments only. */

struct sighand {
    pthread_mutex_t lock;
    int refs;
    struct guest_sigaction act[GUEST_NSIG];
};

struct sighand *sighand_new(void);
/* A copy of sh's dispositions (fork without CLONE_SIGHAND). */
struct sighand *sighand_copy(struct sighand *sh);
struct sighand *sighand_get(struct sighand *sh);
void sighand_put(struct sighand *sh);

enum proc_state {
    PROC_ALIVE,  /* some thread has not exited yet */
    PROC_ZOMBIE, /* every thread has exited; waits for its parent */
    PROC_REAPED, /* reaped (or auto-reaped): gone from the pid table */
};

/* CPU time in clock ticks (USER_HZ), page faults, peak resident kB. */
struct proc_usage {
    uint64_t utime, stime, minflt, majflt, maxrss;
};

/* A thread group (a guest process). */
struct process {
    int refs;
    int pid; /* tgid in the sandbox's pid namespace */
    struct sandbox *sandbox;
    pthread_mutex_t lock;     /* below: threads, nr_live, group exit */
    struct list_node threads; /* its tasks (task.thread_node), leader first */
    int nr_live;              /* threads that have not exited */
    /* Threads in task_exit still using the address space (their robust
     * lists, their host threads): the last thread waits on exit_cv until
     * none is before it kills the stub and lets go of the mm. */
    int nr_exiting;
    pthread_cond_t exit_cv;
    int group_exiting;   /* exit_group or a fatal signal began */
    int exit_code;       /* wait status once group_exiting or zombie */
    struct task *leader; /* the thread group leader (held) */
    /* Under sandbox->tasklist: */
    struct process *parent;    /* NULL for the sandbox's init */
    struct list_node children; /* its children (process.sibling) */
    struct list_node sibling;
    struct list_node pid_node; /* sandbox->procs, ordered by pid */
    /* The thread of the parent that made it (Linux's real_parent is a
     * thread): when that thread exits, the child's parent-death signal is
     * sent and another live thread of the parent becomes its maker. An
     * orphan taken by a reaper gets the reaper's first live thread (Linux's
     * find_alive_thread). */
    int parent_tid;
    int state;       /* enum proc_state */
    int exit_signal; /* sent to the parent at exit (SIGCHLD, or 0) */
    int pgid, sid;
    struct tty *tty;         /* its controlling terminal, or NULL (tty.c) */
    int did_exec;            /* it has run execve (setpgid's EACCES) */
    int child_subreaper;     /* PR_SET_CHILD_SUBREAPER (relaxed atomics) */
    int has_child_subreaper; /* an ancestor is one */
    /* Its own use of the CPU and memory, read from its stub when its last
     * thread exits (zeros if it shared the stub: a vfork child that did
     * not exec), and the sums over its reaped children (each child's own
     * plus its children's), as wait4's rusage, RUSAGE_CHILDREN and times
     * report them. */
    struct proc_usage self_usage, child_usage;
    struct waitq wait_chld;  /* wait4/waitid sleepers of this process */
    struct waitq wait_pidfd; /* pollers of its pidfds: woken at death and reaping */
    struct guest_rlimit rlim[GUEST_RLIM_NLIMITS];
    char comm[16];       /* the executable's name, NUL-terminated */
    uint64_t start_time; /* CLOCK_MONOTONIC ns when it was created */
    /* personality(2): PER_LINUX plus flags; ADDR_NO_RANDOMIZE is read by
     * the loader (it takes effect at the next execve). */
    uint32_t personality;
    /* Pending process-directed signals: one of its threads that does not
     * block it takes each (signal.c). */
    struct sigpending shared_pending;
    int sigq_count; /* queued entries of it and its threads (RLIMIT_SIGPENDING) */
    /* Job control (signal.c), under lock: a group stop (JOB_*; stored
     * atomically too, as procfs reads it without the lock), the signal
     * that began it, the threads yet to stop; stopped threads sleep on
     * wait_cont until SIGCONT or SIGKILL. */
    int job_state;
    int stop_sig;
    /* Signals from the host pending for the init, which it takes even at
     * their default action, as the program run without the sandbox would
     * (signal_from_host; relaxed atomics). */
    uint64_t host_sigs;
    int group_stop_count;
    struct waitq wait_cont;
    /* Under the sandbox's tasklist: a stop, or a continue, that wait4's
     * WUNTRACED or WCONTINUED has yet to report (one of them at most). */
    int stop_report, cont_report;
    /* Its interval and POSIX timers (ptimer.c): NULL until the first. */
    struct ptimers *timers;
    /* Its resources, each held, each maybe shared with other processes. */
    struct mm *mm;
    struct fdtable *files;
    struct sighand *sighand;
    struct fs_struct *fs;
    /* PR_GET/SET_DUMPABLE (Linux keeps it in the mm): 1 at start, reset
     * to the host's fs.suid_dumpable when the creds change ids or gain
     * capabilities (task_commit_creds); relaxed atomics. */
    int dumpable;
};

/* A guest thread. */
struct task {
    int refs;
    int tid;
    struct process *proc; /* held */
    struct guest_ctx *ctx;
    struct guest_regs regs;
    uint64_t sigmask;
    struct sigpending pending; /* thread-directed pending signals */
    /* rt_sigtimedwait's set while it waits (under proc->lock): a signal
     * in it that every thread blocks wakes this one. */
    uint64_t sigwait_set;
    int stop_pending;             /* has yet to stop for its group's stop (under proc->lock) */
    struct restart_block restart; /* its own only */
    /* sigaltstack (Linux's sas_ss_*): 0 size is none; flags as set, of
     * which SS_AUTODISARM is reported back. */
    uint64_t sas_sp, sas_size;
    uint32_t sas_flags;
    /* The last fault's trap number, error code and (page faults) address,
     * which every signal frame's sigcontext carries (Linux's thread.trap_nr,
     * error_code, cr2). */
    uint64_t trap_nr, error_code, cr2;
    /* The FP state a new thread or fork child starts with: its parent's
     * at the clone (XSAVE area, fpu_xstate_size() bytes), loaded before
     * it first runs (task_run); NULL once loaded, or if there is none. */
    void *fp_inherit;
    /* rt_sigsuspend's mask to restore once a handler is delivered. */
    uint64_t saved_sigmask;
    int restore_sigmask;
    uint64_t clear_child_tid;
    uint64_t robust_list, robust_len;
    int exiting;   /* leaves its loop at the next turn */
    int exit_code; /* wait status of the process once exiting */
    int exited;    /* has run its exit path (under proc->lock) */
    pthread_t thread;
    struct list_node thread_node; /* proc->threads, under proc->lock */
    struct list_node tid_node;    /* sandbox->tasks, under tasklist */
    /* vfork: the parent task sleeps on its own sleeper until this child
     * execs or exits, which clears vfork_parent and wakes it. */
    struct task *vfork_parent;
    int vfork_done;
    /* A vfork child that runs on its parent's host thread and sentry
     * thread (task_run_vfork_child) until it execs or exits: ctx is the
     * parent's. attached: ctx was attached by another sentry thread
     * already (an exec on a borrowed thread), so that its own skips it. */
    int borrowed;
    int attached;
    /* Blocking (sched/wait.h): where its thread sleeps, and the interrupt
     * flag the signal code sets. */
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
    /* The pid namespace (lock level 1). */
    pthread_mutex_t tasklist;
    struct list_node procs; /* every process not yet reaped, by pid */
    struct list_node tasks; /* every task not yet released, by tid */
    int next_pid;
    int nr_tasks;              /* live tasks */
    int max_tasks;             /* --max-procs */
    uint64_t forks;            /* tasks created since the start (/proc/stat) */
    uint32_t reported[16];     /* bitmap of unimplemented syscalls already reported */
    uint64_t reported_big[32]; /* the same for numbers past the bitmap */
    pthread_mutex_t lock;      /* exit_status, all_gone and the reports */
    pthread_cond_t gone_cv;    /* signalled when all_gone is set */
    /* Start a new task's sentry thread (the task loop's task_start, handed
     * down so that clone need not call up into the loop). */
    int (*start_task)(struct task *t);
    /* Run the vfork child c on its parent t's host thread and sentry
     * thread until it execs (then on a thread of its own) or exits, or t
     * is killed (then c gets a host thread and a sentry thread of its
     * own): the task loop's task_run_vfork_child, handed down as
     * start_task is. */
    void (*run_vfork_child)(struct task *t, struct task *c);
    int all_gone; /* no guest task is left */
    /* signalfd readers and pollers (signalfd.c): woken whenever a signal
     * pends anywhere in the sandbox. */
    struct waitq wait_signalfd;
    /* The guest's terminal (tty.c), or NULL; its state is under tasklist. */
    struct tty *tty;
    /* Called when the init has stopped for a stop signal from the host
     * (sandbox.c stops sandbox-run itself then, as the program's own stop
     * would stop it); handed down as start_task is. */
    void (*init_stopped)(struct sandbox *box, int sig);
};

/* process.job_state */
enum { JOB_RUNNING, JOB_STOPPING, JOB_STOPPED };

struct process *process_get(struct process *p);
void process_put(struct process *p);
struct task *task_get(struct task *t);
void task_put(struct task *t);

/* The process or task with that id in the sandbox's pid namespace, with a
 * reference (put it), or NULL. A zombie process is still found. */
struct process *pid_find_process(struct sandbox *box, int pid);
struct task *pid_find_task(struct sandbox *box, int tid);
/* For /proc listings: the smallest process pid (or tid of p) greater than
 * after, or -1. */
int pid_next_process(struct sandbox *box, int after);
int process_next_tid(struct process *p, int after);
/* The parent's pid (0 for init). */
int process_ppid(struct process *p);

/* Signals whose default action dumps core; the wait status of p's death
 * by sig (the core flag when RLIMIT_CORE allows a dump). */
int sig_dumps_core(int sig);
int sig_death_status(struct process *p, int sig);
/* Install new (whose reference t takes over) as t's creds and drop the
 * old ones: Linux's commit_creds. Only t itself calls this. */
void task_commit_creds(struct task *t, struct creds *new);
/* A reference to another task's (or process's leader's) current creds,
 * for a reader that is not that task; creds_put when done. NULL if p has
 * no leader. The lock they take (creds.c) is a leaf: nothing else is taken
 * while it is held, so any caller may hold any other lock. */
const struct creds *task_cred_get(struct task *t);
const struct creds *process_cred_get(struct process *p);
/* The same with box->tasklist held. */
const struct creds *process_cred_get_locked(struct process *p);

/* Run a task's loop on the current thread until it exits. */
void task_run(struct task *t);
/* A signal became deliverable to t, or t must end: interrupt it wherever
 * it is (mm.c, next to the platform's interrupt). Running guest code, or
 * on its way there: the platform's interrupt, so that it traps with
 * EV_INTERRUPT and the task loop delivers before the guest resumes;
 * sleeping in the sentry (a host stream's I/O too, on the reactor's
 * queue): that ends (task_interrupt). Under t->proc->lock (t->ctx is read there). None
 * is lost: the task loop marks the thread running (ctx->running), then
 * checks for signals before it switches. */
void task_kick(struct task *t);
/* End the whole process with a wait status (exit code << 8, or signal). */
void task_exit_group(struct task *t, int wstatus);

#endif
