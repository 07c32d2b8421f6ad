/* Making, running, ending and reaping processes and tasks (the objects are
 * declared in sentry/kernel.h, with the lock order). */
#ifndef SENTRY_PROCESS_H
#define SENTRY_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

struct process;
struct sandbox;
struct guest_sigaction;
struct sig_info;
struct task;

/* The sandbox's first process (pid 1) and its task (tid 1): the host
 * process's credentials and limits, umask 022, the sandbox's standard
 * streams at fds 0-2, an empty address space without a stub; no root or
 * cwd yet. In the pid table. NULL when out of memory. */
struct task *process_new_init(struct sandbox *box);

/* Constructors (refs 1; a task holds its process). */
struct process *process_alloc(struct sandbox *box);
struct task *task_alloc(struct process *p);

/* Under box->tasklist: a free pid (-EAGAIN past --max-procs or when none
 * is left); table links (the table takes its own reference). */
int pid_alloc(struct sandbox *box);
void pid_link_task(struct sandbox *box, struct task *t);
void pid_link_process(struct sandbox *box, struct process *p);
void pid_unlink_task(struct sandbox *box, struct task *t);
struct task *pid_find_task_locked(struct sandbox *box, int tid);

/* Start t's sentry thread (attach, then the task loop); 0 or -errno. */
int task_start(struct task *t);
void task_run_vfork_child(struct task *t, struct task *c);
/* t's sentry thread is about to sleep (task_block_hook): its guest thread
 * stops waiting actively for the answer. */
void task_blocking(struct task *t);

/* The clone family's work: a new task as clone(2) with flags makes it
 * from t (which is parked in its stub). Returns the child's tid or
 * -errno; everything is undone on failure. */
struct clone_args_k {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
long do_clone(struct task *t, const struct clone_args_k *ca);

/* End the calling task (its thread has left the task loop): robust list,
 * clear_child_tid, its host thread, and, for the last thread, the process
 * (zombie, parent notified, children reparented). Drops t's own ref. */
void task_exit(struct task *t);
/* Make every task of p leave its loop with the process's wait status
 * (exit_group, a fatal signal); the first status wins. */
void process_kill(struct process *p, int wstatus);
/* execve's de_thread: end every other thread of t's process and wait for
 * them; t takes the leader's pid. 0, or -EINTR if the process is being
 * killed meanwhile. */
int process_de_thread(struct task *t);
/* Wake a vfork parent waiting for t (t execs or exits). */
void vfork_release(struct task *t);

/* wait4 and waitid: what to wait for, and what was found. */
struct wait_opts {
    int type; /* P_ALL, P_PID, P_PGID */
    int id;
    int options;
    int status;       /* out: wait status */
    int pid;          /* out */
    uint32_t uid;     /* out */
    struct rusage ru; /* out */
};
struct proc_usage;
/* u as getrusage and wait4 report it (ticks of USER_HZ 100). */
void usage_to_rusage(const struct proc_usage *u, struct rusage *ru);
/* p's reaped children's figures (RUSAGE_CHILDREN, times) into *out. */
void process_child_usage(struct process *p, struct proc_usage *out);
/* Wait for a child of t as wo says: its pid (wo filled in), 0 for
 * WNOHANG with nothing ready, -ECHILD, or -ERESTARTSYS. */
long do_wait(struct task *t, struct wait_opts *wo);
/* kill(2) and tkill/tgkill (tgid -1) from t. */
long proc_kill(struct task *t, int pid, int sig);
long proc_tkill(struct task *t, int tgid, int tid, int sig, int check_tgid);
/* rt_sigqueueinfo and rt_tgsigqueueinfo: sig with the caller's siginfo
 * (checked by the caller) to process pid, or to thread tid of tgid. */
long proc_sigqueue(struct task *t, int pid, int sig, const struct sig_info *info);
long proc_tgsigqueue(struct task *t, int tgid, int tid, int sig, const struct sig_info *info);

/* pidfds (pidfd.c): the process f names if it is a pidfd (borrowed: f
 * holds it), or NULL; a new pidfd of p in t's descriptors (close-on-exec),
 * its number or -errno. */
struct file;
struct process *pidfd_process(struct file *f);
int pidfd_install(struct task *t, struct process *p, int nonblock);

/* The default action of signal sig sent to process p, or to thread t
 * (no handler delivery yet): terminate (with the core flag for core
 * signals), ignore, or leave it pending when blocked, handled or a stop.
 * signal_unblocked acts on what t's new mask lets through. Under nothing. */
void signal_process(struct process *p, int sig);
void signal_thread(struct task *t, int sig);
/* The same with a siginfo (info NULL: SI_KERNEL, no sender; its signo is
 * set from sig): 0, or -EAGAIN when a real-time signal with a negative
 * si_code finds RLIMIT_SIGPENDING reached. */
long signal_process_info(struct process *p, int sig, const struct sig_info *info);
long signal_thread_info(struct task *t, int sig, const struct sig_info *info);
/* Take the first pending signal of t (its own, then its process's) that
 * is in want: its number and siginfo, or 0. */
int signal_dequeue(struct task *t, uint64_t want, struct sig_info *info);
/* What is pending for t: its own and its process's. */
uint64_t signal_pending_set(struct task *t);
/* A pending set's life: empty at the start; flush drops the signals in
 * which, with their queued siginfo (under p->lock, or when no one else
 * can reach it). */
struct sigpending;
void sigpending_init(struct sigpending *sp);
void sigpending_flush(struct process *p, struct sigpending *sp, uint64_t which);
/* Unlink and free one queued entry of p's (under p->lock). */
struct sigqueue;
void sigqueue_free(struct process *p, struct sigqueue *q);
/* Handler delivery, at the end of a syscall (ret its result, maybe a
 * restart code) or an interrupt: builds the frame of the first pending,
 * unblocked, handled signal on the guest stack and points t's registers
 * at its handler; resolves the restart codes as Linux (SA_RESTART).
 * Returns the syscall's result as the guest sees it. */
long signal_deliver(struct task *t, long ret, int in_syscall);
/* 1 if a signal with a handler is pending and not blocked for t. */
int signal_handler_pending(struct task *t);
/* The frame of a handler of sig (sigframe.c): written on t's stack with
 * its registers, oldmask and info, and t's registers pointed at the
 * handler. 0, or -EFAULT when it cannot be written (the caller kills). */
int sigframe_setup(struct task *t, int sig, const struct guest_sigaction *act,
                   const struct sig_info *info, uint64_t oldmask);
/* The registers, FP state and alternate stack of t's signal frame
 * (sigframe.c), and in *mask its signal mask: 0, or -EFAULT when it
 * cannot be read or restored (Linux's restore_sigcontext failing). */
int sigframe_restore(struct task *t, uint64_t *mask);
/* rt_sigreturn: all that from t's signal frame; a frame that cannot be
 * restored is a SIGSEGV (Linux's signal_fault). */
long signal_return(struct task *t);
/* A signal the kernel forces on t (a fault, a bad frame: Linux's
 * force_sig_info): blocked or ignored, its action becomes the default and
 * it is unblocked. 1 if a handler takes it (it is queued for t, for
 * signal_deliver), 0 if the default action applies: the caller ends the
 * process with sig_death_status (even the sandbox's init). */
int signal_force(struct task *t, const struct sig_info *info);
/* The size of the XSAVE area of a guest thread (standard form), as the
 * host kernel gives it in a signal frame. */
size_t fpu_xstate_size(void);
/* sigaltstack's change of t's alternate stack, with the thread's stack
 * pointer sp: 0 or -EPERM, -EINVAL, -ENOMEM. */
long sigaltstack_set(struct task *t, uint64_t ss_sp, int32_t ss_flags, uint64_t ss_size,
                     uint64_t sp);
void signal_unblocked(struct task *t);
/* t's signal mask (t itself sets it; others read it under proc->lock). */
void task_set_sigmask(struct task *t, uint64_t mask);
/* The mask of a wait that takes one (ppoll, pselect6, epoll_pwait: Linux's
 * set_user_sigmask): the guest's sigset at umask (size bytes) is set, with
 * SIGKILL and SIGSTOP unblocked; 1, or 0 without umask, or -errno; *old
 * gets the mask to restore. Restoring after the wait: when it was interrupted
 * (EINTR), the handler runs with the wait's mask and the old one comes
 * back after it (restore_saved_sigmask_unless); else at once. */
long signal_wait_mask_set(struct task *t, uint64_t umask, uint64_t size, uint64_t *old);
void signal_wait_mask_restore(struct task *t, int interrupted, uint64_t old);
/* Under box->tasklist: process group pgid is orphaned (no member but
 * ignored has its parent in another group of its session), has a
 * stopped member. */
int pgrp_orphaned_locked(struct sandbox *box, int pgid, struct process *ignored);
int pgrp_has_stopped_locked(struct sandbox *box, int pgid);
/* Send sig (from the kernel) to every live process of group pgid. */
void signal_pgrp(struct sandbox *box, int pgid, int sig);
/* A signal sent to sandbox-run from the host, for the sandbox's init p:
 * generated for it (si_pid 0) if p handles or ignores it, 1; 0 if its
 * action is the default, which the caller takes on sandbox-run itself. */
int signal_from_host(struct process *p, int sig);
/* A signal from the host for every process of group pgid (the terminal's
 * foreground group, or the init's): each takes it (si_code SI_KERNEL, as
 * from a terminal), the init too when it handles or ignores it. Returns 1
 * when the init is in the group and leaves sig at the default: a stop
 * signal then stops it all the same (the caller hears of it through
 * box->init_stopped); any other is for the caller to take on sandbox-run
 * itself, as signal_from_host's 0. */
int signal_pgrp_from_host(struct sandbox *box, int pgid, int sig);
/* sig is blocked by t or ignored by its process (Linux's is_ignored in
 * the terminal's job-control checks). */
int signal_ignored_or_blocked(struct task *t, int sig);
/* t has a stop to take: its group is stopping, or a stop signal at its
 * default action pends unblocked (the wait of pause and sigsuspend ends
 * for it, as for a handled signal: Linux's signal_pending). */
int signal_stop_pending(struct task *t);
/* An exiting t no longer takes part in its group's stop (task_exit). */
void signal_exit_stop(struct task *t);
/* Drop sig from p's pending sets (its disposition became ignore). */
void signal_discard(struct process *p, int sig);

/* Timer signals (ptimer.c's preallocated entries, struct sigqueue with
 * dequeued set). reserve counts one entry against p's RLIMIT_SIGPENDING
 * for a new timer (0 or -EAGAIN), unreserve gives it back. send queues q
 * for p (t NULL) or thread t: 0 if queued, 2 if q is queued already,
 * 1 if it was not: *genp != gen (the timer was set anew meanwhile;
 * checked under p->lock, so the timer writes *genp under it), t has
 * exited, the signal is ignored or a standard one already pending, or
 * its default action was taken. These take p->lock; cancel_locked,
 * under it, takes q off its pending set. */
struct sigqueue;
long signal_timer_reserve(struct process *p);
void signal_timer_unreserve(struct process *p);
int signal_timer_send(struct process *p, struct task *t, struct sigqueue *q, const unsigned *genp,
                      unsigned gen);
void signal_timer_cancel_locked(struct process *p, struct sigqueue *q);

struct task;
/* execve's point of no return for t's process (src/sentry/sys_exec.c),
 * before the new image is loaded: the address space emptied in place,
 * close-on-exec descriptors closed, caught signals reset to SIG_DFL, the
 * thread's futex and robust-list words forgotten, the credentials execve
 * gives. Killing the other threads and un-sharing a shared address space
 * (vfork, CLONE_VM) belong here too. 0 or -errno: then the caller must
 * end the process. */
int exec_flush_old(struct task *t);

#endif
