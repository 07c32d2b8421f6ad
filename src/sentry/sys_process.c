/* The process syscalls: clone, clone3, fork, vfork, wait4, waitid, exit,
 * exit_group, kill, tkill, tgkill. The work is in fork.c and exit.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define WAIT_KNOWN                                                                                 \
    (WNOHANG | WUNTRACED | WCONTINUED | WEXITED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

SYSCALL_DEFINE5(clone, uint64_t, flags, uint64_t, stack, uint64_t, ptid, uint64_t, ctid, uint64_t,
                tls)
{
    /* x86-64 argument order: flags, stack, parent_tid, child_tid, tls. */
    if ((flags & CLONE_PIDFD) && (flags & CLONE_PARENT_SETTID))
        return -EINVAL;
    struct clone_args_k ca = {
        .flags = flags & ~0xffULL & 0xffffffffULL,
        .pidfd = ptid,
        .child_tid = ctid,
        .parent_tid = ptid,
        .exit_signal = flags & 0xff,
        .stack = stack,
        .tls = tls,
    };
    return do_clone(t, &ca);
}

SYSCALL_DEFINE0(fork)
{
    struct clone_args_k ca = { .exit_signal = SIGCHLD };
    return do_clone(t, &ca);
}

SYSCALL_DEFINE0(vfork)
{
    struct clone_args_k ca = { .flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD };
    return do_clone(t, &ca);
}

#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88

SYSCALL_DEFINE2(clone3, uint64_t, uargs, uint64_t, size)
{
    uint64_t k[CLONE_ARGS_SIZE_VER2 / 8] = { 0 };
    if (size > GUEST_PAGE)
        return -E2BIG;
    if (size < CLONE_ARGS_SIZE_VER0)
        return -EINVAL;
    size_t take = size < sizeof(k) ? size : sizeof(k);
    if (copy_in(t, k, uargs, take) < 0)
        return -EFAULT;
    /* Bytes past the structure this kernel knows must be zero. */
    for (uint64_t off = take; off < size; off += 8) {
        uint64_t v = 0;
        size_t n = size - off < 8 ? size - off : 8;
        if (copy_in(t, &v, uargs + off, n) < 0)
            return -EFAULT;
        if (v)
            return -E2BIG;
    }
    struct clone_args_k ca = {
        .flags = k[0],
        .pidfd = k[1],
        .child_tid = k[2],
        .parent_tid = k[3],
        .exit_signal = k[4],
        .stack = k[5],
        .stack_size = k[6],
        .tls = k[7],
    };
    uint64_t set_tid = k[8], set_tid_size = k[9];
    if (set_tid_size > 32 /* MAX_PID_NS_LEVEL */)
        return -EINVAL;
    if (!set_tid && set_tid_size)
        return -EINVAL;
    if (set_tid && !set_tid_size)
        return -EINVAL;
    if ((ca.flags & 0xff) || ca.exit_signal > GUEST_NSIG ||
        ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal))
        return -EINVAL;
    if ((ca.stack && !ca.stack_size) || (!ca.stack && ca.stack_size))
        return -EINVAL;
    /* Choosing pids needs CAP_SYS_ADMIN over the pid namespace, which no
     * guest has (the sandbox's namespace is not the guest's to edit). */
    if (set_tid_size)
        return -EPERM;
    return do_clone(t, &ca);
}

SYSCALL_DEFINE4(wait4, int, upid, uint64_t, ustatus, int, options, uint64_t, urusage)
{
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return -EINVAL;
    struct wait_opts wo = { .options = options | WEXITED };
    if (upid == INT_MIN)
        return -ESRCH;
    if (upid < -1) {
        wo.type = P_PGID;
        wo.id = -upid;
    } else if (upid == -1) {
        wo.type = P_ALL;
    } else if (upid == 0) {
        wo.type = P_PGID;
        wo.id = t->proc->pgid;
    } else {
        wo.type = P_PID;
        wo.id = upid;
    }
    long r = do_wait(t, &wo);
    if (r <= 0)
        return r;
    if (ustatus && copy_out(t, ustatus, &wo.status, sizeof(wo.status)) < 0)
        return -EFAULT;
    if (urusage && copy_out(t, urusage, &wo.ru, sizeof(wo.ru)) < 0)
        return -EFAULT;
    return wo.pid;
}

SYSCALL_DEFINE5(waitid, int, type, int, id, uint64_t, uinfo, int, options, uint64_t, urusage)
{
    if (options & ~WAIT_KNOWN)
        return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return -EINVAL;
    struct wait_opts wo = { .type = type, .id = id, .options = options };
    switch (type) {
    case P_ALL:
        break;
    case P_PID:
        if (id <= 0)
            return -EINVAL;
        break;
    case P_PGID:
        if (id < 0)
            return -EINVAL;
        if (id == 0)
            wo.id = t->proc->pgid;
        break;
    case P_PIDFD: {
        if (id < 0)
            return -EINVAL;
        struct file *f = fd_get(t->proc->files, id);
        struct process *p = pidfd_process(f);
        if (p) {
            wo.type = P_PID;
            wo.id = p->pid;
        }
        file_put(f);
        if (!p)
            return -EBADF;
        break;
    }
    default:
        return -EINVAL;
    }
    long r = do_wait(t, &wo);
    if (r < 0)
        return r;
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (r > 0) {
        si.si_signo = SIGCHLD;
        si.si_pid = wo.pid;
        si.si_uid = wo.uid;
        if (WIFEXITED(wo.status)) {
            si.si_code = CLD_EXITED;
            si.si_status = WEXITSTATUS(wo.status);
        } else if (WIFSTOPPED(wo.status)) {
            si.si_code = CLD_STOPPED;
            si.si_status = WSTOPSIG(wo.status);
        } else if (WIFCONTINUED(wo.status)) {
            si.si_code = CLD_CONTINUED;
            si.si_status = SIGCONT;
        } else {
            si.si_code = WCOREDUMP(wo.status) ? CLD_DUMPED : CLD_KILLED;
            si.si_status = WTERMSIG(wo.status);
        }
    }
    if (uinfo && copy_out(t, uinfo, &si, sizeof(si)) < 0)
        return -EFAULT;
    if (urusage && copy_out(t, urusage, &wo.ru, sizeof(wo.ru)) < 0)
        return -EFAULT;
    return 0;
}

/* ---- exit, exit_group ---- */

SYSCALL_DEFINE1(exit, int, status)
{
    t->exit_code = (status & 0xff) << 8;
    __atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
    return 0;
}

SYSCALL_DEFINE1(exit_group, int, status)
{
    process_kill(t->proc, (status & 0xff) << 8);
    return 0;
}

SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
    return proc_kill(t, pid, sig);
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
    return proc_tkill(t, 0, tid, sig, 0);
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
    return proc_tkill(t, tgid, tid, sig, 1);
}

/* ---- pidfds ---- */

#define PIDFD_THREAD O_EXCL

/* flags is an unsigned int: the bits above it are not looked at, as on Linux. */
SYSCALL_DEFINE2(pidfd_open, int, pid, unsigned, flags)
{
    if (flags & ~(unsigned)(O_NONBLOCK | PIDFD_THREAD) || pid <= 0)
        return -EINVAL;
    struct task *target = pid_find_task(t->proc->sandbox, pid);
    if (!target)
        return -ESRCH;
    long r;
    if (target->proc->state == PROC_REAPED)
        r = -ESRCH;
    else if (target->proc->pid != pid && !(flags & PIDFD_THREAD))
        r = -ENOENT; /* not a thread-group leader */
    else
        r = pidfd_install(t, target->proc, !!(flags & O_NONBLOCK));
    task_put(target);
    return r;
}

SYSCALL_DEFINE4(pidfd_send_signal, int, fd, int, sig, uint64_t, uinfo, unsigned, flags)
{
    if (flags & ~7U || __builtin_popcount(flags) > 1)
        return -EINVAL;
    if (sig < 0 || sig > GUEST_NSIG)
        return -EINVAL;
    struct file *f = fd_get(t->proc->files, fd);
    struct process *p = pidfd_process(f);
    long r = 0;
    if (!p) {
        r = -EBADF;
        goto out;
    }
    struct sig_info info;
    if (uinfo) {
        siginfo_t si;
        if (copy_in(t, &si, uinfo, sizeof(si)) < 0) {
            r = -EFAULT;
            goto out;
        }
        /* The kernel's 48 bytes of it are what is sent. */
        memset(&info, 0, sizeof(info));
        memcpy(&info, &si, 48);
        if (si.si_signo != sig) {
            r = -EINVAL;
            goto out;
        }
        /* Only the kernel may claim SI_USER or a kernel code, and only a
         * process its own queued signals. */
        if (p != t->proc && (si.si_code >= 0 || si.si_code == SI_TKILL)) {
            r = -EPERM;
            goto out;
        }
    }
    if (p->state == PROC_REAPED) {
        r = -ESRCH;
        goto out;
    }
    if (flags == 4 /* PIDFD_SIGNAL_PROCESS_GROUP */)
        r = proc_kill(t, -p->pgid, sig);
    else if (p->state == PROC_ALIVE)
        r = uinfo ? proc_sigqueue(t, p->pid, sig, &info) : proc_kill(t, p->pid, sig);
out:
    file_put(f);
    return r;
}
