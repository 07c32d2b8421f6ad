/* Signals as far as processes need them before handler delivery: the
 * default actions (terminate, with the core flag for the core signals;
 * ignore), signals left pending while blocked or handled, and the check
 * made when a mask change unblocks one. Handler delivery and job control
 * come with the signals work. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/resource.h>

#include "sentry/kernel.h"
#include "sentry/process.h"

#define SIGBIT(s) (1ULL << ((s)-1))

void process_kill(struct process *p, int wstatus)
{
    pthread_mutex_lock(&p->lock);
    if (!p->group_exiting) {
        p->group_exiting = 1;
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

/* Pending for the process (t NULL) or thread t: blocked signals are never
 * ignored at generation (the handler may change before they are
 * unblocked), ignored ones are dropped, handled ones and stops wait. */
static void signal_generate(struct process *p, struct task *t, int sig)
{
    if (sig == SIGKILL) {
        if (!init_ignores(p, sig))
            process_kill(p, SIGKILL);
        return;
    }
    uint64_t h = handler_of(p, sig);
    pthread_mutex_lock(&p->lock);
    int blocked = 1;
    if (t)
        blocked = (t->sigmask & SIGBIT(sig)) != 0;
    else
        list_for_each(o, &p->threads, struct task, thread_node) if (!(o->sigmask & SIGBIT(sig)))
            blocked = 0;
    int keep = blocked || (h != (uint64_t)(uintptr_t)SIG_IGN && h != (uint64_t)(uintptr_t)SIG_DFL) ||
               (h == (uint64_t)(uintptr_t)SIG_DFL && sig_default_stops(sig));
    if (keep) {
        if (t)
            t->pending |= SIGBIT(sig);
        else
            p->shared_pending |= SIGBIT(sig);
    }
    pthread_mutex_unlock(&p->lock);
    if (!keep)
        act_default(p, sig);
}

void signal_process(struct process *p, int sig)
{
    signal_generate(p, NULL, sig);
}

void signal_thread(struct task *t, int sig)
{
    signal_generate(t->proc, t, sig);
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
    while (ready && !p->group_exiting) {
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
