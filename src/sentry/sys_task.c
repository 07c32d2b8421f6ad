/* Thread and process syscalls: set_tid_address, robust lists, rseq,
 * arch_prctl, prctl (names, the parent-death signal, dumpable, subreaper,
 * no_new_privs and the capability options), process groups and sessions. */
#define _GNU_SOURCE
#include <errno.h>
#include <asm/prctl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "sentry/kernel.h"
#include "sentry/syscall.h"
#include "sentry/tty.h"

SYSCALL_DEFINE1(set_tid_address, uint64_t, tidptr)
{
    t->clear_child_tid = tidptr;
    return t->tid;
}

SYSCALL_DEFINE2(set_robust_list, uint64_t, head, uint64_t, len)
{
    if (len != 24) /* sizeof(struct robust_list_head) */
        return -EINVAL;
    t->robust_list = head;
    t->robust_len = len;
    return 0;
}

SYSCALL_DEFINE3(get_robust_list, int, pid, uint64_t, head_ptr, uint64_t, len_ptr)
{
    if (pid != 0 && pid != t->tid)
        return -ESRCH;
    uint64_t len = 24;
    if (copy_out(t, len_ptr, &len, sizeof(len)) < 0)
        return -EFAULT;
    if (copy_out(t, head_ptr, &t->robust_list, sizeof(t->robust_list)) < 0)
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE0(rseq)
{
    return -ENOSYS; /* as a kernel built without CONFIG_RSEQ; libcs fall back */
}

SYSCALL_DEFINE2(arch_prctl, uint64_t, code, uint64_t, v)
{
    switch (code) {
    case ARCH_SET_FS:
        if (v >= TASK_SIZE)
            return -EPERM;
        t->regs.fs_base = v;
        return 0;
    case ARCH_SET_GS:
        if (v >= TASK_SIZE)
            return -EPERM;
        t->regs.gs_base = v;
        return 0;
    case ARCH_GET_FS:
        return copy_out(t, v, &t->regs.fs_base, 8) < 0 ? -EFAULT : 0;
    case ARCH_GET_GS:
        return copy_out(t, v, &t->regs.gs_base, 8) < 0 ? -EFAULT : 0;
    case ARCH_GET_CPUID:
        return 1;
    default:
        return -EINVAL;
    }
}

/* The capability options, as Linux's cap_task_prctl. */
static long prctl_caps(struct task *t, int option, uint64_t arg2, uint64_t arg3, uint64_t arg4,
                       uint64_t arg5)
{
    const struct creds *old = t->cred;
    struct creds *new;
    switch (option) {
    case PR_CAPBSET_READ:
        if (arg2 > GUEST_CAP_LAST_CAP)
            return -EINVAL;
        return (old->cap_bset >> arg2) & 1;
    case PR_CAPBSET_DROP:
        if (!creds_capable(old, GCAP_SETPCAP))
            return -EPERM;
        if (arg2 > GUEST_CAP_LAST_CAP)
            return -EINVAL;
        if (!(new = creds_prepare(old)))
            return -ENOMEM;
        new->cap_bset &= ~(1ULL << arg2);
        break;
    case PR_GET_KEEPCAPS:
        return !!(old->securebits & GUEST_SECBIT_KEEP_CAPS);
    case PR_SET_KEEPCAPS:
        if (arg2 > 1)
            return -EINVAL;
        if (old->securebits & (GUEST_SECBIT_KEEP_CAPS << 1))
            return -EPERM; /* locked */
        if (!(new = creds_prepare(old)))
            return -ENOMEM;
        if (arg2)
            new->securebits |= GUEST_SECBIT_KEEP_CAPS;
        else
            new->securebits &= ~GUEST_SECBIT_KEEP_CAPS;
        break;
    case PR_GET_SECUREBITS:
        return old->securebits;
    case PR_SET_SECUREBITS:
        /* No change to a locked bit, no unlocking, no unknown bit, and
         * nothing at all without CAP_SETPCAP. */
        if ((((old->securebits & GUEST_SECURE_ALL_LOCKS) >> 1) & (old->securebits ^ arg2)) ||
            (old->securebits & GUEST_SECURE_ALL_LOCKS & ~arg2) ||
            (arg2 & ~(uint64_t)(GUEST_SECURE_ALL_LOCKS | GUEST_SECURE_ALL_BITS)) ||
            !creds_capable(old, GCAP_SETPCAP))
            return -EPERM;
        if (!(new = creds_prepare(old)))
            return -ENOMEM;
        new->securebits = (uint32_t)arg2;
        break;
    case PR_CAP_AMBIENT:
        if (arg2 == PR_CAP_AMBIENT_CLEAR_ALL) {
            if (arg3 | arg4 | arg5)
                return -EINVAL;
            if (!(new = creds_prepare(old)))
                return -ENOMEM;
            new->cap_ambient = 0;
            break;
        }
        if (arg3 > GUEST_CAP_LAST_CAP || arg4 || arg5)
            return -EINVAL;
        if (arg2 == PR_CAP_AMBIENT_IS_SET)
            return (old->cap_ambient >> arg3) & 1;
        if (arg2 != PR_CAP_AMBIENT_RAISE && arg2 != PR_CAP_AMBIENT_LOWER)
            return -EINVAL;
        if (arg2 == PR_CAP_AMBIENT_RAISE &&
            (!((old->cap_permitted >> arg3) & 1) || !((old->cap_inheritable >> arg3) & 1) ||
             (old->securebits & GUEST_SECBIT_NO_CAP_AMBIENT_RAISE)))
            return -EPERM;
        if (!(new = creds_prepare(old)))
            return -ENOMEM;
        if (arg2 == PR_CAP_AMBIENT_RAISE)
            new->cap_ambient |= 1ULL << arg3;
        else
            new->cap_ambient &= ~(1ULL << arg3);
        break;
    default:
        return -ENOSYS; /* not a capability option */
    }
    task_commit_creds(t, new);
    return 0;
}

SYSCALL_DEFINE5(prctl, int, option, uint64_t, arg2, uint64_t, arg3, uint64_t, arg4, uint64_t, arg5)
{
    /* The option is an int: the register's upper half does not count. */
    long r = prctl_caps(t, option, arg2, arg3, arg4, arg5);
    if (r != -ENOSYS)
        return r;
    switch (option) {
    case PR_SET_NAME: {
        /* As Linux's strncpy_from_user of 15 bytes: a fault before the
         * NUL or the 15th byte is EFAULT; a longer name is cut. */
        char name[16];
        long n = strncpy_in(t, name, arg2, sizeof(name) - 1);
        if (n == -ENAMETOOLONG)
            n = copy_in(t, name, arg2, sizeof(name) - 1) < 0 ? -EFAULT : (long)sizeof(name) - 1;
        if (n < 0)
            return -EFAULT;
        name[n] = 0;
        strcpy(t->proc->comm, name); /* strlen(name) < 16: it stops at the first NUL */
        return 0;
    }
    case PR_GET_NAME:
        return copy_out(t, arg2, t->proc->comm, sizeof(t->proc->comm)) < 0 ? -EFAULT : 0;
    case PR_SET_PDEATHSIG:
        if (arg2 > GUEST_NSIG)
            return -EINVAL;
        t->pdeath_signal = (int)arg2;
        return 0;
    case PR_GET_PDEATHSIG:
        return copy_out(t, arg2, &t->pdeath_signal, sizeof(int)) < 0 ? -EFAULT : 0;
    case PR_GET_DUMPABLE:
        return __atomic_load_n(&t->proc->dumpable, __ATOMIC_RELAXED);
    case PR_SET_DUMPABLE:
        /* 0 or 1; 2 (suid_dumpable's "root only") cannot be asked for. */
        if (arg2 > 1)
            return -EINVAL;
        __atomic_store_n(&t->proc->dumpable, (int)arg2, __ATOMIC_RELAXED);
        return 0;
    case PR_SET_CHILD_SUBREAPER:
        __atomic_store_n(&t->proc->child_subreaper, arg2 != 0, __ATOMIC_RELAXED);
        return 0;
    case PR_GET_CHILD_SUBREAPER: {
        int v = __atomic_load_n(&t->proc->child_subreaper, __ATOMIC_RELAXED);
        return copy_out(t, arg2, &v, sizeof(v)) < 0 ? -EFAULT : 0;
    }
    case PR_GET_TID_ADDRESS:
        return copy_out(t, arg2, &t->clear_child_tid, sizeof(t->clear_child_tid)) < 0 ? -EFAULT : 0;
    case PR_GET_NO_NEW_PRIVS:
        if (arg2 || arg3 || arg4 || arg5)
            return -EINVAL;
        return t->no_new_privs;
    case PR_SET_NO_NEW_PRIVS:
        /* Once set, never cleared (and the guest starts with it set). */
        if (arg2 != 1 || arg3 || arg4 || arg5)
            return -EINVAL;
        t->no_new_privs = 1;
        return 0;
    default:
        return -EINVAL;
    }
}

/* uretprobe (335) and uprobe (336): the two syscalls Linux lets past every
 * seccomp filter (6.11 and 6.18), so under systrap a guest's call never
 * reaches this table: the host kernel answers it in the stub, and nothing
 * here (dispatch, --strace, the report below) claims to have seen it. Only
 * PTRACE_SYSEMU, which stops every syscall before seccomp, brings them
 * here; then they get what Linux gives a process without uprobes, which is
 * also what the host gives the stub: both are meant only for the
 * trampolines the kernel maps into a probed process, and the guest has
 * none. tests/guest/uprobe.c pins both platforms to native behaviour. */
SYSCALL_DEFINE0(uretprobe)
{
    /* force_sig(SIGILL). No guest handlers are delivered yet: the default
     * action, as for a fault (which is how systrap sees the host's SIGILL). */
    task_exit_group(t, sig_death_status(t->proc, SIGILL));
    return -1;
}

SYSCALL_DEFINE0(uprobe)
{
    return -ENXIO; /* not in a uprobe trampoline */
}

/* ---- process groups and sessions (under the tasklist lock) ---- */

/* The process with that pid (0: the caller's), or NULL. */
static struct process *proc_by_pid(struct task *t, int pid)
{
    if (pid == 0)
        return t->proc;
    list_for_each (p, &t->proc->sandbox->procs, struct process, pid_node)
        if (p->pid == pid && p->state != PROC_REAPED)
            return p;
    return NULL;
}

SYSCALL_DEFINE2(setpgid, int, pid, int, pgid)
{
    if (!pid)
        pid = t->proc->pid;
    if (!pgid)
        pgid = pid;
    if (pgid < 0)
        return -EINVAL;
    struct sandbox *box = t->proc->sandbox;
    long r = 0;
    pthread_mutex_lock(&box->tasklist);
    struct process *me = t->proc, *p = proc_by_pid(t, pid);
    if (!p || (p != me && p->parent != me)) {
        r = -ESRCH;
        goto out;
    }
    if (!pgid)
        pgid = p->pid;
    if (p != me) {
        if (p->sid != me->sid) {
            r = -EPERM;
            goto out;
        }
        if (p->did_exec) {
            r = -EACCES;
            goto out;
        }
    }
    if (p->sid == p->pid) { /* a session leader */
        r = -EPERM;
        goto out;
    }
    if (pgid != p->pid) {
        int found = 0;
        list_for_each (q, &box->procs, struct process, pid_node)
            if (q->pgid == pgid && q->sid == me->sid && q->state != PROC_REAPED)
                found = 1;
        if (!found) {
            r = -EPERM;
            goto out;
        }
    }
    p->pgid = pgid;
out:
    pthread_mutex_unlock(&box->tasklist);
    return r;
}

/* getpgid (pgid 1) or getsid (pgid 0) of pid. */
static long get_group(struct task *t, int pid, int pgid)
{
    struct sandbox *box = t->proc->sandbox;
    pthread_mutex_lock(&box->tasklist);
    struct process *p = proc_by_pid(t, pid);
    long r = !p ? -ESRCH : pgid ? p->pgid : p->sid;
    pthread_mutex_unlock(&box->tasklist);
    return r;
}

SYSCALL_DEFINE1(getpgid, int, pid)
{
    return get_group(t, pid, 1);
}

SYSCALL_DEFINE1(getsid, int, pid)
{
    return get_group(t, pid, 0);
}

SYSCALL_DEFINE0(getpgrp)
{
    return get_group(t, 0, 1);
}

SYSCALL_DEFINE0(setsid)
{
    struct sandbox *box = t->proc->sandbox;
    struct process *me = t->proc;
    long r;
    pthread_mutex_lock(&box->tasklist);
    /* Not if a process group already has the caller's pid as its id. */
    int leader = 0;
    list_for_each (q, &box->procs, struct process, pid_node)
        if (q->pgid == me->pid && q->state != PROC_REAPED)
            leader = 1;
    if (leader) {
        r = -EPERM;
    } else {
        me->sid = me->pgid = me->pid;
        tty_leave_locked(me);
        r = me->pid;
    }
    pthread_mutex_unlock(&box->tasklist);
    return r;
}
