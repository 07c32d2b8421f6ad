/* clone, clone3, fork and vfork: a new task that is a thread of the
 * caller's process (a new host thread in the same stub), a process that
 * shares the address space (CLONE_VM: a host thread in the same stub, as
 * vfork and posix_spawn use), or a process with a copy of it (a fork of
 * the stub: the host's copy-on-write). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h> /* CLONE_PIDFD ... CLONE_INTO_CGROUP, newer than libc */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file/fdtable.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define CLONE_NS_FLAGS                                                                             \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP | CLONE_NEWTIME)
/* Flags that change nothing here: SYSVSEM (no System V semaphores yet),
 * IO, UNTRACED, PTRACE (no guest ptrace), DETACHED (ignored by Linux). */
#define CLONE_QUIET (CLONE_SYSVSEM | CLONE_IO | CLONE_UNTRACED | CLONE_PTRACE | CLONE_DETACHED)
#define CLONE_KNOWN                                                                                \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_PIDFD | CLONE_PARENT |              \
     CLONE_THREAD | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID |                    \
     CLONE_CHILD_SETTID | CLONE_VFORK | CLONE_NS_FLAGS | CLONE_QUIET | CLONE_CLEAR_SIGHAND |       \
     CLONE_INTO_CGROUP)

/* Linux's checks of copy_process, in its order, before anything is made. */
static long clone_check(struct task *t, const struct clone_args_k *ca)
{
    uint64_t f = ca->flags;
    if (f & ~CLONE_KNOWN)
        return -EINVAL;
    if ((f & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
        (f & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
        return -EINVAL;
    if ((f & CLONE_THREAD) && (f & (CLONE_NEWUSER | CLONE_NEWPID)))
        return -EINVAL;
    if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND))
        return -EINVAL;
    if ((f & CLONE_SIGHAND) && !(f & CLONE_VM))
        return -EINVAL;
    if ((f & (CLONE_CLEAR_SIGHAND | CLONE_SIGHAND)) == (CLONE_CLEAR_SIGHAND | CLONE_SIGHAND))
        return -EINVAL;
    /* The sandbox's init cannot make siblings (SIGNAL_UNKILLABLE). */
    if ((f & CLONE_PARENT) && t->proc == t->proc->sandbox->init)
        return -EINVAL;
    if (ca->exit_signal > GUEST_NSIG)
        return -EINVAL;
    if ((f & CLONE_PIDFD) && (f & CLONE_DETACHED))
        return -EINVAL;
    /* Namespaces: none can be made inside the sandbox (README). */
    if (f & CLONE_NS_FLAGS)
        return -EPERM;
    if (f & CLONE_INTO_CGROUP)
        return -EINVAL;
    /* Threads share fs and files on every libc and runtime; the sentry
     * keeps them per process (sentry/kernel.h). */
    if ((f & CLONE_THREAD) && (f & (CLONE_FS | CLONE_FILES)) != (CLONE_FS | CLONE_FILES))
        return -EINVAL;
    if ((f & CLONE_SETTLS) && ca->tls >= TASK_SIZE)
        return -EPERM;
    return 0;
}

/* A new process for a clone without CLONE_THREAD: shared or copied
 * resources as the flags say, the parent's ids, limits and names; no
 * address space yet (the caller adds it). */
static struct process *clone_process(struct task *t, uint64_t f, int exit_signal)
{
    struct process *pp = t->proc;
    struct process *p = process_alloc(pp->sandbox);
    if (!p)
        return NULL;
    p->files = (f & CLONE_FILES) ? fdtable_get(pp->files) : fdtable_copy(pp->files);
    if (f & CLONE_FS) {
        p->fs = pp->fs;
        __atomic_add_fetch(&p->fs->refs, 1, __ATOMIC_RELAXED);
    } else {
        p->fs = fs_struct_copy(pp->fs);
    }
    p->sighand = (f & CLONE_SIGHAND) ? sighand_get(pp->sighand) : sighand_copy(pp->sighand);
    if (!p->files || !p->fs || !p->sighand) {
        process_put(p);
        return NULL;
    }
    if (f & CLONE_CLEAR_SIGHAND) {
        /* Handlers back to the default; ignored signals stay ignored. */
        for (int i = 0; i < GUEST_NSIG; i++)
            if (p->sighand->act[i].handler != (uint64_t)(uintptr_t)SIG_IGN)
                memset(&p->sighand->act[i], 0, sizeof(p->sighand->act[i]));
    }
    p->dumpable = __atomic_load_n(&pp->dumpable, __ATOMIC_RELAXED);
    memcpy(p->rlim, pp->rlim, sizeof(p->rlim));
    memcpy(p->comm, pp->comm, sizeof(p->comm));
    p->personality = pp->personality;
    p->exit_signal = exit_signal;
    p->has_child_subreaper = pp->has_child_subreaper || pp->child_subreaper;
    return p;
}

/* The new task's registers: the caller's at the syscall, returning 0, on
 * its own stack and TLS if given. */
static void clone_regs(struct task *c, const struct task *t, const struct clone_args_k *ca)
{
    c->regs = t->regs;
    c->regs.rax = 0;
    if (ca->stack)
        c->regs.rsp = ca->stack + ca->stack_size;
    if (ca->flags & CLONE_SETTLS)
        c->regs.fs_base = ca->tls;
    c->sigmask = t->sigmask;
    /* copy_process: a thread in the same address space (not a vfork
     * child, which runs while its parent waits) starts without one. */
    if ((ca->flags & (CLONE_VM | CLONE_VFORK)) != CLONE_VM) {
        c->sas_sp = t->sas_sp;
        c->sas_size = t->sas_size;
        c->sas_flags = t->sas_flags;
    } else {
        c->sas_flags = SS_DISABLE; /* sas_ss_reset */
    }
    c->cred = creds_get(t->cred);
    /* prctl and scheduler state is inherited, but not the parent-death
     * signal; SCHED_RESET_ON_FORK drops a real-time policy. */
    c->no_new_privs = t->no_new_privs;
    c->nice = t->nice;
    c->sched_policy = t->sched_policy;
    c->sched_priority = t->sched_priority;
    c->sched_reset_on_fork = t->sched_reset_on_fork;
    if (t->sched_reset_on_fork) {
        c->sched_policy = 0;
        c->sched_priority = 0;
        c->sched_reset_on_fork = 0;
    }
    c->cpus_set = t->cpus_set;
    memcpy(c->cpus, t->cpus, sizeof(c->cpus));
    if (ca->flags & CLONE_CHILD_CLEARTID)
        c->clear_child_tid = ca->child_tid;
}

/* Whether the vfork child of this clone runs on the caller's own host
 * thread and sentry thread while the caller waits for it anyway
 * (task_run_vfork_child): a new process in the caller's address space
 * (posix_spawn's clone), where a host thread can move between sentry
 * threads, from a caller that is not itself such a child. */
static int clone_borrows(const struct task *t, uint64_t f)
{
    return (f & (CLONE_VM | CLONE_VFORK | CLONE_THREAD)) == (CLONE_VM | CLONE_VFORK) &&
           !t->borrowed && t->proc->sandbox->run_vfork_child && mm_threads_movable(t->proc->mm);
}

/* The host side: a thread in the caller's stub (CLONE_VM) or a fork of
 * it, whose model the child's process gets; none for a child that
 * borrows the caller's thread. */
static int clone_host(struct task *t, struct task *c, uint64_t f, int borrow)
{
    if (f & CLONE_VM) {
        if (!(f & CLONE_THREAD))
            c->proc->mm = mm_get(t->proc->mm);
        if (borrow)
            return 0;
        return mm_new_thread(t, &c->ctx);
    }
    int r;
    c->proc->mm = mm_dup(t, &c->ctx, &r);
    return r;
}

/* Link the new task (and its new process) into the tables and its thread
 * group, unless the caller's process is exiting. Under nothing. */
static int clone_link(struct task *t, struct task *c, uint64_t f)
{
    struct sandbox *box = t->proc->sandbox;
    struct process *p = c->proc;
    int newproc = !(f & CLONE_THREAD);
    pthread_mutex_lock(&box->tasklist);
    int pid = pid_alloc(box);
    if (pid < 0) {
        pthread_mutex_unlock(&box->tasklist);
        return pid;
    }
    pthread_mutex_lock(&t->proc->lock);
    if (t->proc->group_exiting) {
        pthread_mutex_unlock(&t->proc->lock);
        pthread_mutex_unlock(&box->tasklist);
        return -ERESTARTNOINTR;
    }
    if (!newproc) {
        list_add_tail(&p->threads, &c->thread_node);
        task_get(c);
        p->nr_live++;
    }
    pthread_mutex_unlock(&t->proc->lock);
    c->tid = pid;
    if (newproc) {
        p->pid = pid;
        p->leader = c;
        p->pgid = t->proc->pgid;
        p->sid = t->proc->sid;
        p->tty = t->proc->tty;
        p->parent = (f & CLONE_PARENT) ? t->proc->parent : t->proc;
        p->parent_tid = (f & CLONE_PARENT) ? t->proc->parent_tid : t->tid;
        list_add_tail(&p->parent->children, &p->sibling);
        list_add_tail(&p->threads, &c->thread_node);
        task_get(c);
        p->nr_live = 1;
        process_get(p);
        pid_link_process(box, p);
    }
    pid_link_task(box, c);
    pthread_mutex_unlock(&box->tasklist);
    return pid;
}

long do_clone(struct task *t, const struct clone_args_k *ca)
{
    uint64_t f = ca->flags;
    long r = clone_check(t, ca);
    if (r < 0)
        return r;
    struct process *p =
        (f & CLONE_THREAD) ? process_get(t->proc) : clone_process(t, f, (int)ca->exit_signal);
    struct task *c = p ? task_alloc(p) : NULL;
    process_put(p); /* the task holds it */
    if (!c)
        return -ENOMEM;
    clone_regs(c, t, ca);
    int borrow = clone_borrows(t, f);
    r = clone_host(t, c, f, borrow);
    if (r < 0) {
        task_put(c);
        return r == -ESRCH ? -EAGAIN : r;
    }
    if (!borrow) {
        /* The child's host thread starts with the FP state its stub had,
         * not the caller's (systrap): the caller's is carried over. */
        size_t fsz = fpu_xstate_size();
        c->fp_inherit = malloc(fsz);
        if (c->fp_inherit && task_fpstate_get(t, c->fp_inherit, fsz) < 0) {
            free(c->fp_inherit);
            c->fp_inherit = NULL;
        }
    }
    int tid = clone_link(t, c, f);
    if (tid < 0) {
        /* Undo the host side: take the new thread's first post and end it. */
        if (c->ctx)
            mm_abandon_thread(c->ctx);
        c->ctx = NULL;
        task_put(c);
        return tid;
    }
    if (f & CLONE_CHILD_SETTID) {
        uint32_t v = (uint32_t)tid;
        copy_out(c, ca->child_tid, &v, sizeof(v)); /* faults are ignored, as Linux's */
    }
    if (f & CLONE_PARENT_SETTID) {
        uint32_t v = (uint32_t)tid;
        copy_out(t, ca->parent_tid, &v, sizeof(v));
    }
    if (f & CLONE_PIDFD) {
        /* The child exists: a pidfd that cannot be made or written back
         * is the caller's loss, as Linux's would be an error before. */
        int pfd = pidfd_install(t, c->proc, 0);
        if (pfd >= 0) {
            int32_t v = pfd;
            copy_out(t, ca->pidfd, &v, sizeof(v));
        }
    }
    if (f & CLONE_VFORK) {
        c->vfork_parent = task_get(t);
        t->vfork_done = 0;
    }
    task_get(c); /* for the vfork wait below */
    if (borrow) {
        t->proc->sandbox->run_vfork_child(t, c);
    } else if (t->proc->sandbox->start_task(c) < 0) {
        /* No thread will run it: end it as if it had exited at once. */
        process_kill(c->proc, SIGKILL);
        task_exit(c);
    }
    if (f & CLONE_VFORK) {
        /* Until the child execs or exits; a kill of the parent ends the wait. */
        task_sleep_prepare(t);
        while (!__atomic_load_n(&t->vfork_done, __ATOMIC_SEQ_CST) &&
               !__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST)) {
            task_sleep(t, NULL, 0);
            task_sleep_prepare(t);
        }
        if (!__atomic_load_n(&t->vfork_done, __ATOMIC_SEQ_CST)) {
            struct sandbox *box = t->proc->sandbox;
            pthread_mutex_lock(&box->tasklist);
            struct task *vp = c->vfork_parent;
            c->vfork_parent = NULL;
            pthread_mutex_unlock(&box->tasklist);
            task_put(vp);
        }
    }
    task_put(c);
    return tid;
}
