/* Signal state syscalls: rt_sigaction, rt_sigprocmask, sigaltstack. Dispositions and
 * masks are kept in the task; delivery is the signal subsystem's job. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

/* sa_flags bits the kernel keeps (UAPI_SA_FLAGS on x86-64); others are cleared
 * so that programs can detect unsupported flags. */
#define KNOWN_SA_FLAGS                                                                             \
    (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | 0x00000800 /* SA_EXPOSE_TAGBITS */ | SA_ONSTACK |  \
     SA_RESTART | SA_NODEFER | SA_RESETHAND | 0x04000000 /* SA_RESTORER */)

SYSCALL_DEFINE4(rt_sigaction, int, sig, uint64_t, uact, uint64_t, oldact, uint64_t, sigsetsize)
{
    struct guest_sigaction act, old;
    if (sigsetsize != 8)
        return -EINVAL;
    if (uact && copy_in(t, &act, uact, sizeof(act)) < 0)
        return -EFAULT;
    if (sig < 1 || sig > GUEST_NSIG || (uact && (sig == SIGKILL || sig == SIGSTOP)))
        return -EINVAL;
    struct sighand *sh = t->proc->sighand;
    pthread_mutex_lock(&sh->lock);
    old = sh->act[sig - 1];
    if (uact) {
        act.flags &= KNOWN_SA_FLAGS;
        act.mask &= ~UNBLOCKABLE;
        sh->act[sig - 1] = act;
    }
    pthread_mutex_unlock(&sh->lock);
    /* A signal now ignored is no longer pending anywhere (Linux's
     * do_sigaction flushes it): SIG_IGN, or the default of an ignored one. */
    if (uact && (act.handler == (uint64_t)(uintptr_t)SIG_IGN ||
                 (act.handler == (uint64_t)(uintptr_t)SIG_DFL &&
                  (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH))))
        signal_discard(t->proc, sig);
    if (oldact && copy_out(t, oldact, &old, sizeof(old)) < 0)
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE4(rt_sigprocmask, int, how, uint64_t, uset, uint64_t, oldset, uint64_t, sigsetsize)
{
    uint64_t set;
    if (sigsetsize != 8)
        return -EINVAL;
    uint64_t old = t->sigmask;
    if (uset) {
        if (copy_in(t, &set, uset, sizeof(set)) < 0)
            return -EFAULT;
        set &= ~UNBLOCKABLE;
        switch (how) {
        case SIG_BLOCK:
            task_set_sigmask(t, t->sigmask | set);
            break;
        case SIG_UNBLOCK:
            task_set_sigmask(t, t->sigmask & ~set);
            break;
        case SIG_SETMASK:
            task_set_sigmask(t, set);
            break;
        default:
            return -EINVAL;
        }
    }
    if (uset)
        signal_unblocked(t);
    if (oldset && copy_out(t, oldset, &old, sizeof(old)) < 0)
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE2(rt_sigpending, uint64_t, uset, uint64_t, sigsetsize)
{
    if (sigsetsize > 8)
        return -EINVAL;
    /* Pending and blocked: what Linux would not have delivered yet. */
    uint64_t set = signal_pending_set(t) & t->sigmask;
    return copy_out(t, uset, &set, sigsetsize) < 0 ? -EFAULT : 0;
}

SYSCALL_DEFINE0(rt_sigreturn)
{
    return signal_return(t);
}

/* Sleep until a signal with a handler is taken, or a stop (after which
 * the call starts again), or the task is killed. */
static long wait_for_signal(struct task *t)
{
    for (;;) {
        task_sleep_prepare(t);
        if (signal_handler_pending(t) || signal_stop_pending(t) ||
            __atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
            break;
        if (task_sleep(t, NULL, 0) == -ERESTARTSYS && !task_interrupt_pending(t))
            break;
        if (task_interrupt_pending(t) && !signal_handler_pending(t) && !signal_stop_pending(t))
            task_interrupt_clear(t); /* a signal acted on by default, or discarded */
    }
    return -ERESTARTNOHAND;
}

SYSCALL_DEFINE2(rt_sigsuspend, uint64_t, uset, uint64_t, sigsetsize)
{
    uint64_t set;
    if (sigsetsize != 8)
        return -EINVAL;
    if (copy_in(t, &set, uset, sizeof(set)) < 0)
        return -EFAULT;
    t->saved_sigmask = t->sigmask;
    t->restore_sigmask = 1;
    task_set_sigmask(t, set & ~UNBLOCKABLE);
    signal_unblocked(t);
    return wait_for_signal(t);
}

/* The guest's stack_t. */
struct guest_stack {
    uint64_t sp;
    int32_t flags;
    int32_t pad;
    uint64_t size;
};

#define SS_AUTODISARM_ (1U << 31)

/* on_sig_stack: sp is within the stack (never with SS_AUTODISARM, which
 * disarms it for the handler that runs on it). */
static int on_alt_stack(const struct task *t, uint64_t sp)
{
    if (t->sas_flags & SS_AUTODISARM_)
        return 0;
    return sp > t->sas_sp && sp - t->sas_sp <= t->sas_size;
}

SYSCALL_DEFINE2(sigaltstack, uint64_t, uss, uint64_t, uoss)
{
    uint64_t sp = t->regs.rsp;
    struct guest_stack ss, old = { 0 };
    if (uss && copy_in(t, &ss, uss, sizeof(ss)) < 0)
        return -EFAULT;
    old.sp = t->sas_sp;
    old.size = t->sas_size;
    old.flags = (int32_t)((!t->sas_size          ? SS_DISABLE
                           : on_alt_stack(t, sp) ? SS_ONSTACK
                                                 : 0) |
                          (t->sas_flags & SS_AUTODISARM_));
    if (uss) {
        long r = sigaltstack_set(t, ss.sp, ss.flags, ss.size, sp);
        if (r < 0)
            return r;
    }
    /* As Linux: the new stack stays set when the old one cannot be written. */
    if (uoss && copy_out(t, uoss, &old, sizeof(old)) < 0)
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE0(pause)
{
    return wait_for_signal(t);
}

/* ---- rt_sigtimedwait ---- */

/* While t waits, a signal of set that t blocks, and that every other
 * thread blocks too, comes to t (signal_generate interrupts it): Linux's
 * real_blocked. Under proc->lock. */
static void sigwait_set(struct task *t, uint64_t set)
{
    pthread_mutex_lock(&t->proc->lock);
    t->sigwait_set = set;
    pthread_mutex_unlock(&t->proc->lock);
}

/* Wait until a signal of set is pending for t and take it (Linux's
 * do_sigtimedwait): its number, 0 when the CLOCK_MONOTONIC deadline (NULL:
 * none) passes first, -EINTR when a signal outside set interrupts. */
static int sigwait_take(struct task *t, uint64_t set, const struct timespec *deadline,
                        struct sig_info *info)
{
    sigwait_set(t, set);
    int sig = 0, r = 0;
    for (;;) {
        task_sleep_prepare(t);
        sig = signal_dequeue(t, set, info);
        if (sig || __atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
            break;
        if (task_interrupt_pending(t)) {
            /* For a signal of set that another thread took first, or one
             * acted on by default: wait on. A handler interrupts. */
            if (signal_handler_pending(t)) {
                r = -EINTR;
                break;
            }
            task_interrupt_clear(t);
            continue;
        }
        /* The signal usually comes soon from a peer (a kill ping-pong):
         * spin first, as pipes and futexes do. */
        if (task_sleep(t, deadline, WAIT_SPIN) == -ETIMEDOUT) {
            sig = signal_dequeue(t, set, info);
            break;
        }
    }
    sigwait_set(t, 0);
    return sig ? sig : r;
}

SYSCALL_DEFINE4(rt_sigtimedwait, uint64_t, uthese, uint64_t, uinfo, uint64_t, uts, uint64_t,
                sigsetsize)
{
    uint64_t these;
    if (sigsetsize != 8)
        return -EINVAL;
    if (copy_in(t, &these, uthese, sizeof(these)) < 0)
        return -EFAULT;
    these &= ~UNBLOCKABLE;
    struct timespec rel, deadline;
    if (uts) {
        long r = ktime_copy_in(t, uts, &rel);
        if (r < 0)
            return r;
        struct ktimeout to;
        ktimeout_rel(&to, rel);
        deadline = to.abs;
    }
    struct sig_info info;
    int sig = signal_dequeue(t, these, &info);
    if (!sig && !(uts && rel.tv_sec == 0 && rel.tv_nsec == 0))
        sig = sigwait_take(t, these, uts ? &deadline : NULL, &info);
    if (sig < 0)
        return sig;
    if (!sig)
        return -EAGAIN;
    if (uinfo && copy_out(t, uinfo, &info, sizeof(info)) < 0)
        return -EFAULT;
    return sig;
}

/* ---- rt_sigqueueinfo, rt_tgsigqueueinfo ---- */

/* The sender's siginfo: the kernel's 48 bytes of it (the rest is not
 * taken), with si_signo set to sig. Not even root may pretend to be the
 * kernel or kill and tgkill (a non-negative si_code, or SI_TKILL) toward
 * another process than its own: EPERM. 0 or -errno. */
static long sigqueue_info_in(struct task *t, uint64_t uinfo, int sig, int self,
                             struct sig_info *info)
{
    memset(info, 0, sizeof(*info));
    if (copy_in(t, info, uinfo, 48) < 0)
        return -EFAULT;
    info->signo = sig;
    if ((info->code >= 0 || info->code == -6 /* SI_TKILL */) && !self)
        return -EPERM;
    return 0;
}

SYSCALL_DEFINE3(rt_sigqueueinfo, int, tgid, int, sig, uint64_t, uinfo)
{
    struct sig_info info;
    long r = sigqueue_info_in(t, uinfo, sig, tgid == t->proc->pid, &info);
    if (r < 0)
        return r;
    return proc_sigqueue(t, tgid, sig, &info);
}

SYSCALL_DEFINE4(rt_tgsigqueueinfo, int, tgid, int, tid, int, sig, uint64_t, uinfo)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    struct sig_info info;
    long r = sigqueue_info_in(t, uinfo, sig, tid == t->tid, &info);
    if (r < 0)
        return r;
    return proc_tgsigqueue(t, tgid, tid, sig, &info);
}

SYSCALL_DEFINE0(restart_syscall)
{
    long (*fn)(struct task *) = t->restart.fn;
    t->restart.fn = NULL;
    return fn ? fn(t) : -EINTR;
}
