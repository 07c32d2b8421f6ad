/* Signals as far as processes need them before handler delivery: the
 * default actions (terminate, with the core flag for the core signals;
 * ignore), signals left pending while blocked or handled, and the check
 * made when a mask change unblocks one. Handler delivery and job control
 * come with the signals work. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>

#include "sentry/kernel.h"
#include "sentry/process.h"

#define SIGBIT(s) (1ULL << ((s)-1))

void process_kill(struct process *p, int wstatus)
{
    pthread_mutex_lock(&p->lock);
    if (!p->group_exiting) {
        __atomic_store_n(&p->group_exiting, 1, __ATOMIC_RELEASE);
        p->exit_code = wstatus;
    }
    list_for_each(t, &p->threads, struct task, thread_node)
    {
        __atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
        task_interrupt(t);
        if (t->ctx)
            mm_kick_thread(t->ctx);
    }
    pthread_mutex_unlock(&p->lock);
}

void task_exit_group(struct task *t, int wstatus)
{
    process_kill(t->proc, wstatus);
}

/* Signals whose default action dumps core: the wait status carries 0x80. */
int sig_dumps_core(int sig)
{
    switch (sig) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
        return 1;
    default:
        return 0;
    }
}

static int sig_default_ignored(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

static int sig_default_stops(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static uint64_t handler_of(struct process *p, int sig)
{
    struct sighand *sh = p->sighand;
    pthread_mutex_lock(&sh->lock);
    uint64_t h = sh->act[sig - 1].handler;
    pthread_mutex_unlock(&sh->lock);
    return h;
}

/* The wait status of a death by sig: the core flag for a core signal when
 * RLIMIT_CORE allows a dump (none is written: the flag says one would be,
 * as a host that dumps cores would). */
int sig_death_status(struct process *p, int sig)
{
    int core = sig_dumps_core(sig) && __atomic_load_n(&p->rlim[RLIMIT_CORE].cur, __ATOMIC_RELAXED);
    return sig | (core ? 0x80 : 0);
}

/* The sandbox's init takes no signal whose action is the default from
 * inside the sandbox, not even SIGKILL, as a pid namespace's init. */
static int init_ignores(struct process *p, int sig)
{
    if (p != p->sandbox->init)
        return 0;
    return sig == SIGKILL || sig == SIGSTOP || handler_of(p, sig) == (uint64_t)(uintptr_t)SIG_DFL;
}

/* What sig does to p now, not blocked: 1 if it was acted on (killed, or
 * ignored and dropped), 0 if it stays pending (a handler or a stop). */
static int act_default(struct process *p, int sig)
{
    uint64_t h = handler_of(p, sig);
    if (h == (uint64_t)(uintptr_t)SIG_IGN)
        return 1;
    if (h != (uint64_t)(uintptr_t)SIG_DFL || sig_default_stops(sig))
        return 0;
    if (!sig_default_ignored(sig) && !init_ignores(p, sig))
        process_kill(p, sig_death_status(p, sig));
    return 1;
}

/* A thread of p that does not block sig (t itself if given), or NULL;
 * under p->lock. */
static struct task *wants(struct process *p, struct task *t, int sig)
{
    if (t)
        return (t->sigmask & SIGBIT(sig)) ? NULL : t;
    list_for_each(o, &p->threads, struct task,
                  thread_node) if (!(o->sigmask & SIGBIT(sig))) return o;
    return NULL;
}

/* Pending for the process (t NULL) or thread t: blocked signals are never
 * ignored at generation (the handler may change before they are
 * unblocked), ignored ones are dropped, handled ones and stops wait; a
 * thread that can take a handled one is interrupted so that it does at
 * the end of its syscall. */
static void signal_generate(struct process *p, struct task *t, int sig, const struct sig_info *info)
{
    if (sig == SIGKILL) {
        if (!init_ignores(p, sig))
            process_kill(p, SIGKILL);
        return;
    }
    uint64_t h = handler_of(p, sig);
    int handled = h != (uint64_t)(uintptr_t)SIG_IGN && h != (uint64_t)(uintptr_t)SIG_DFL;
    pthread_mutex_lock(&p->lock);
    struct task *taker = wants(p, t, sig);
    int keep = !taker || handled || (h == (uint64_t)(uintptr_t)SIG_DFL && sig_default_stops(sig));
    if (keep) {
        struct sig_info none = { 0x80 /* SI_KERNEL */, 0, 0, 0 };
        uint64_t *set = t ? &t->pending : &p->shared_pending;
        struct sig_info *slot = t ? &t->pending_info[sig - 1] : &p->shared_info[sig - 1];
        if (!(*set & SIGBIT(sig)))
            *slot = info ? *info : none;
        *set |= SIGBIT(sig);
        if (handled && taker)
            task_interrupt(taker);
    }
    pthread_mutex_unlock(&p->lock);
    if (!keep)
        act_default(p, sig);
}

void signal_process_info(struct process *p, int sig, const struct sig_info *info)
{
    signal_generate(p, NULL, sig, info);
}

void signal_thread_info(struct task *t, int sig, const struct sig_info *info)
{
    signal_generate(t->proc, t, sig, info);
}

void signal_process(struct process *p, int sig)
{
    signal_generate(p, NULL, sig, NULL);
}

void signal_thread(struct task *t, int sig)
{
    signal_generate(t->proc, t, sig, NULL);
}

void signal_discard(struct process *p, int sig)
{
    pthread_mutex_lock(&p->lock);
    p->shared_pending &= ~SIGBIT(sig);
    list_for_each(o, &p->threads, struct task, thread_node) o->pending &= ~SIGBIT(sig);
    pthread_mutex_unlock(&p->lock);
}

void signal_unblocked(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending | p->shared_pending) & ~t->sigmask;
    pthread_mutex_unlock(&p->lock);
    while (ready && !__atomic_load_n(&p->group_exiting, __ATOMIC_ACQUIRE)) {
        int sig = __builtin_ctzll(ready) + 1;
        ready &= ready - 1;
        if (!act_default(p, sig))
            continue; /* handled: stays pending for delivery */
        pthread_mutex_lock(&p->lock);
        t->pending &= ~SIGBIT(sig);
        p->shared_pending &= ~SIGBIT(sig);
        pthread_mutex_unlock(&p->lock);
    }
}

void task_set_sigmask(struct task *t, uint64_t mask)
{
    /* Signal generation reads other threads' masks under the lock. */
    pthread_mutex_lock(&t->proc->lock);
    t->sigmask = mask;
    pthread_mutex_unlock(&t->proc->lock);
}

/* ---- handler delivery (at syscall boundaries) ---- */

/* The x86-64 signal frame, as Linux's rt_sigframe lays it out. */
struct k_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
    uint64_t eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};
struct k_ucontext {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    struct k_sigcontext mc;
    uint64_t sigmask;
};
struct k_siginfo {
    int32_t signo, errno_, code, pad;
    int32_t pid;
    uint32_t uid;
    int32_t status, pad2;
    uint64_t rest[12];
};
struct k_rt_sigframe {
    uint64_t pretcode;
    struct k_ucontext uc;
    struct k_siginfo info;
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext_64");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext");
_Static_assert(sizeof(struct k_siginfo) == 128, "siginfo");

#define FIX_EFLAGS 0x50dd5ULL /* AC OF DF TF SF ZF AF PF CF RF, as sigreturn */
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define SA_RESTORER_ 0x04000000ULL

int signal_handler_pending(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending | p->shared_pending) & ~t->sigmask;
    pthread_mutex_unlock(&p->lock);
    for (; ready; ready &= ready - 1) {
        uint64_t h = handler_of(p, __builtin_ctzll(ready) + 1);
        if (h != (uint64_t)(uintptr_t)SIG_IGN && h != (uint64_t)(uintptr_t)SIG_DFL)
            return 1;
    }
    return 0;
}

/* Take the first pending, unblocked signal with a handler: its number
 * (0 if none), its action and siginfo. */
static int dequeue_handled(struct task *t, struct guest_sigaction *act, struct sig_info *info)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending | p->shared_pending) & ~t->sigmask;
    int got = 0;
    for (; ready && !got; ready &= ready - 1) {
        int sig = __builtin_ctzll(ready) + 1;
        struct sighand *sh = p->sighand;
        pthread_mutex_lock(&sh->lock);
        struct guest_sigaction a = sh->act[sig - 1];
        if (a.handler != (uint64_t)(uintptr_t)SIG_IGN &&
            a.handler != (uint64_t)(uintptr_t)SIG_DFL) {
            got = sig;
            *act = a;
            if (a.flags & SA_RESETHAND) {
                sh->act[sig - 1].handler = (uint64_t)(uintptr_t)SIG_DFL;
                sh->act[sig - 1].flags &= ~(uint64_t)SA_SIGINFO;
            }
        }
        pthread_mutex_unlock(&sh->lock);
        if (!got)
            continue;
        if (t->pending & SIGBIT(sig)) {
            *info = t->pending_info[sig - 1];
            t->pending &= ~SIGBIT(sig);
        } else {
            *info = p->shared_info[sig - 1];
            p->shared_pending &= ~SIGBIT(sig);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return got;
}

static int is_restart(long ret)
{
    return ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
           ret == -ERESTART_RESTARTBLOCK;
}

/* The syscall again: back over the 2-byte syscall instruction. */
static void restart_syscall_regs(struct task *t)
{
    t->regs.rax = t->regs.orig_rax;
    t->regs.rip -= 2;
}

long signal_deliver(struct task *t, long ret, int in_syscall)
{
    signal_unblocked(t); /* default actions and ignores first */
    if (__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
        return ret;
    struct guest_sigaction act;
    struct sig_info info;
    int sig = dequeue_handled(t, &act, &info);
    if (!sig) {
        task_interrupt_clear(t);
        if (t->restore_sigmask) {
            task_set_sigmask(t, t->saved_sigmask);
            t->restore_sigmask = 0;
        }
        /* No handler runs: an interrupted call starts again (restart_syscall
         * is not there yet: a restart block is EINTR). */
        if (in_syscall && is_restart(ret)) {
            if (ret == -ERESTART_RESTARTBLOCK) {
                ret = -EINTR;
                t->regs.rax = (uint64_t)ret;
            } else {
                restart_syscall_regs(t);
            }
        }
        return ret;
    }
    if (in_syscall && is_restart(ret)) {
        if (ret == -ERESTARTNOINTR || (ret == -ERESTARTSYS && (act.flags & SA_RESTART))) {
            restart_syscall_regs(t);
        } else {
            ret = -EINTR;
            t->regs.rax = (uint64_t)ret;
        }
    }
    uint64_t oldmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
    t->restore_sigmask = 0;
    const struct guest_regs *r = &t->regs;
    struct k_rt_sigframe f;
    memset(&f, 0, sizeof(f));
    f.pretcode = act.restorer;
    f.uc.uc_flags = 0x6; /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
    f.uc.ss_flags = 2;   /* SS_DISABLE: no alternate stack yet */
    f.uc.mc = (struct k_sigcontext){ .r8 = r->r8,
                                     .r9 = r->r9,
                                     .r10 = r->r10,
                                     .r11 = r->r11,
                                     .r12 = r->r12,
                                     .r13 = r->r13,
                                     .r14 = r->r14,
                                     .r15 = r->r15,
                                     .rdi = r->rdi,
                                     .rsi = r->rsi,
                                     .rbp = r->rbp,
                                     .rbx = r->rbx,
                                     .rdx = r->rdx,
                                     .rax = r->rax,
                                     .rcx = r->rcx,
                                     .rsp = r->rsp,
                                     .rip = r->rip,
                                     .eflags = r->eflags,
                                     .cs = 0x33,
                                     .ss = 0x2b,
                                     .oldmask = oldmask };
    f.uc.sigmask = oldmask;
    f.info.signo = sig;
    f.info.code = info.code;
    f.info.pid = info.pid;
    f.info.uid = info.uid;
    f.info.status = info.status;
    /* Below the red zone, 16-byte aligned as after a call. */
    uint64_t sp = ((r->rsp - 128 - sizeof(f)) & ~15ULL) - 8;
    if (!(act.flags & SA_RESTORER_) || copy_out(t, sp, &f, sizeof(f)) < 0) {
        process_kill(t->proc, sig_death_status(t->proc, SIGSEGV));
        return ret;
    }
    uint64_t add = act.mask | ((act.flags & SA_NODEFER) ? 0 : SIGBIT(sig));
    task_set_sigmask(t, (oldmask | add) & ~UNBLOCKABLE);
    t->regs.rip = act.handler;
    t->regs.rsp = sp;
    t->regs.rdi = (uint64_t)sig;
    t->regs.rsi = sp + offsetof(struct k_rt_sigframe, info);
    t->regs.rdx = sp + offsetof(struct k_rt_sigframe, uc);
    t->regs.rax = 0;
    t->regs.eflags &= ~(0x400ULL | 0x100ULL | 0x10000ULL); /* DF, TF, RF */
    t->regs.orig_rax = (uint64_t)-1;
    /* More may be waiting: this thread stays interrupted until none is. */
    if (!signal_handler_pending(t))
        task_interrupt_clear(t);
    return ret;
}

long signal_return(struct task *t)
{
    struct k_ucontext uc;
    uint64_t frame = t->regs.rsp - 8;
    if (copy_in(t, &uc, frame + offsetof(struct k_rt_sigframe, uc), sizeof(uc)) < 0) {
        process_kill(t->proc, sig_death_status(t->proc, SIGSEGV));
        return 0;
    }
    struct guest_regs *r = &t->regs;
    const struct k_sigcontext *m = &uc.mc;
    r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
    r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
    r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
    r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp, r->rip = m->rip;
    r->eflags = (r->eflags & ~FIX_EFLAGS) | (m->eflags & FIX_EFLAGS);
    r->orig_rax = (uint64_t)-1;
    task_set_sigmask(t, uc.sigmask & ~UNBLOCKABLE);
    return (long)r->rax;
}

long signal_wait_mask_set(struct task *t, uint64_t umask, uint64_t size, uint64_t *old)
{
    if (!umask)
        return 0;
    if (size != 8)
        return -EINVAL;
    uint64_t mask;
    if (copy_in(t, &mask, umask, sizeof(mask)) < 0)
        return -EFAULT;
    *old = t->sigmask;
    task_set_sigmask(t, mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)));
    signal_unblocked(t);
    if (signal_handler_pending(t))
        task_interrupt(t);
    return 1;
}

void signal_wait_mask_restore(struct task *t, int interrupted, uint64_t old)
{
    if (interrupted) {
        t->saved_sigmask = old;
        t->restore_sigmask = 1;
        return;
    }
    task_set_sigmask(t, old);
    signal_unblocked(t);
    if (signal_handler_pending(t))
        task_interrupt(t);
}
