/* Signals as far as processes need them before handler delivery: the
 * default actions (terminate, with the core flag for the core signals;
 * ignore), signals left pending while blocked or handled, and the check
 * made when a mask change unblocks one. Handler delivery and job control
 * come with the signals work. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "array.h"
#include "sentry/kernel.h"
#include "sentry/process.h"

#define SIGRTMIN_K 32 /* the kernel's first real-time signal */

void process_kill(struct process *p, int wstatus)
{
    pthread_mutex_lock(&p->lock);
    if (!p->group_exiting) {
        __atomic_store_n(&p->group_exiting, 1, __ATOMIC_RELEASE);
        p->exit_code = wstatus;
    }
    list_for_each (t, &p->threads, struct task, thread_node) {
        __atomic_store_n(&t->exiting, 1, __ATOMIC_SEQ_CST);
        task_kick(t);
    }
    pthread_mutex_unlock(&p->lock);
    wake_up_all(&p->wait_cont); /* stopped threads too */
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
    if (p != p->sandbox->init || (__atomic_load_n(&p->host_sigs, __ATOMIC_RELAXED) & SIGBIT(sig)))
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
    __atomic_and_fetch(&p->host_sigs, ~SIGBIT(sig), __ATOMIC_RELAXED);
    return 1;
}

/* A thread of p that does not block sig (t itself if given), or NULL;
 * under p->lock. */
static struct task *wants(struct process *p, struct task *t, int sig)
{
    /* A stopped process takes nothing but SIGKILL (and SIGCONT's
     * continue, at generation): the rest waits for it to go on. */
    if (p->job_state == JOB_STOPPED)
        return NULL;
    if (t)
        return (t->sigmask & SIGBIT(sig)) ? NULL : t;
    list_for_each (o, &p->threads, struct task, thread_node)
        if (!(o->sigmask & SIGBIT(sig)))
            return o;
    return NULL;
}

/* A thread of p (t itself if given) in rt_sigtimedwait for sig, or NULL;
 * under p->lock. */
static struct task *waits_for(struct process *p, struct task *t, int sig)
{
    if (t)
        return (t->sigwait_set & SIGBIT(sig)) ? t : NULL;
    list_for_each (o, &p->threads, struct task, thread_node)
        if (o->sigwait_set & SIGBIT(sig))
            return o;
    return NULL;
}

/* ---- pending sets and their queues (under p->lock) ---- */

/* Add sig to sp with its siginfo (info NULL: SI_KERNEL). A standard signal
 * already pending is not queued again. Past RLIMIT_SIGPENDING the entry is
 * not made: a real-time signal sent with a negative si_code (sigqueue,
 * timers) fails with EAGAIN, any other pends without its siginfo (Linux's
 * __send_signal_locked). */
static long sigpending_add(struct process *p, struct sigpending *sp, int sig,
                           const struct sig_info *info)
{
    if (sig < SIGRTMIN_K && (sp->set & SIGBIT(sig)))
        return 0;
    /* Real-time signals always count (kill's too, which then merges with
     * those pending); standard ones from kill or the kernel do not. */
    int override = sig < SIGRTMIN_K && (!info || info->code >= 0);
    struct sigqueue *q = NULL;
    if (override || (uint64_t)p->sigq_count <
                        __atomic_load_n(&p->rlim[RLIMIT_SIGPENDING].cur, __ATOMIC_RELAXED))
        q = malloc(sizeof(*q));
    if (q) {
        if (info) {
            q->info = *info;
        } else {
            memset(&q->info, 0, sizeof(q->info));
            q->info.code = 0x80; /* SI_KERNEL */
        }
        q->info.signo = sig;
        q->dequeued = NULL;
        q->on = NULL;
        list_add_tail(&sp->queue, &q->node);
        p->sigq_count++;
    } else if (info && sig >= SIGRTMIN_K && info->code != 0 /* SI_USER */) {
        return -EAGAIN;
    }
    sp->set |= SIGBIT(sig);
    return 0;
}

/* Take sig's first entry from sp into *info (sig must be pending there). */
static void sigpending_take(struct process *p, struct sigpending *sp, int sig,
                            struct sig_info *info)
{
    int found = 0, more = 0;
    list_for_each_safe (q, &sp->queue, struct sigqueue, node) {
        if (q->info.signo != sig)
            continue;
        if (found) {
            more = 1;
            break;
        }
        *info = q->info;
        if (q->dequeued) { /* a timer's: it counts its overrun, rearms */
            list_del(&q->node);
            q->on = NULL;
            q->dequeued(q, info);
        } else {
            sigqueue_free(p, q);
        }
        found = 1;
    }
    if (!found) {
        /* Its siginfo was lost to the limit: what Linux's collect_signal
         * gives then. */
        memset(info, 0, sizeof(*info));
        info->signo = sig;
    }
    if (!more)
        sp->set &= ~SIGBIT(sig);
}

/* Take the first of the signals in want pending for t (its own first,
 * then its process's), lowest number first; 0 if none. Under p->lock. */
static int dequeue_locked(struct task *t, uint64_t want, struct sig_info *info)
{
    struct process *p = t->proc;
    struct sigpending *sp = &t->pending;
    uint64_t ready = t->pending.set & want;
    if (!ready) {
        sp = &p->shared_pending;
        ready = sp->set & want;
    }
    if (!ready)
        return 0;
    /* The standard signals first (Linux's next_signal: SIGSEGV, SIGBUS,
     * SIGILL, SIGTRAP, SIGFPE, SIGSYS before the rest), then by number. */
    uint64_t sync = ready & (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) |
                             SIGBIT(SIGFPE) | SIGBIT(SIGSYS));
    int sig = __builtin_ctzll(sync ? sync : ready) + 1;
    sigpending_take(p, sp, sig, info);
    __atomic_and_fetch(&p->host_sigs, ~SIGBIT(sig), __ATOMIC_RELAXED);
    return sig;
}

int signal_dequeue(struct task *t, uint64_t want, struct sig_info *info)
{
    pthread_mutex_lock(&t->proc->lock);
    int sig = dequeue_locked(t, want, info);
    pthread_mutex_unlock(&t->proc->lock);
    return sig;
}

uint64_t signal_pending_set(struct task *t)
{
    pthread_mutex_lock(&t->proc->lock);
    uint64_t set = t->pending.set | t->proc->shared_pending.set;
    pthread_mutex_unlock(&t->proc->lock);
    return set;
}

/* ---- job control: group stop and continue ---- */

#define STOP_SIGS (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))

static struct guest_sigaction action_of(struct process *p, int sig)
{
    struct sighand *sh = p->sighand;
    pthread_mutex_lock(&sh->lock);
    struct guest_sigaction a = sh->act[sig - 1];
    pthread_mutex_unlock(&sh->lock);
    return a;
}

/* Tell p's parent that p stopped (CLD_STOPPED, status the stop signal) or
 * went on (CLD_CONTINUED): a report for wait4's WUNTRACED or WCONTINUED,
 * and SIGCHLD unless the parent ignores it or set SA_NOCLDSTOP (Linux's
 * do_notify_parent_cldstop). */
static void notify_parent_cldstop(struct process *p, int why, int status)
{
    struct sandbox *box = p->sandbox;
    const struct creds *pc = process_cred_get(p);
    struct sig_info info = {
        .code = why, .pid = p->pid, .uid = pc ? pc->uid : 0, .status = status
    };
    creds_put(pc);
    pthread_mutex_lock(&box->tasklist);
    pthread_mutex_lock(&p->lock);
    int still =
        why == 5 /* CLD_STOPPED */ ? p->job_state == JOB_STOPPED : p->job_state == JOB_RUNNING;
    pthread_mutex_unlock(&p->lock);
    struct process *parent = still && p->state == PROC_ALIVE ? p->parent : NULL;
    if (parent) {
        p->stop_report = why == 5;
        p->cont_report = why != 5;
        process_get(parent);
        wake_up_all(&parent->wait_chld);
    }
    pthread_mutex_unlock(&box->tasklist);
    if (!parent) {
        /* The init stands for sandbox-run in the host's job control. */
        if (still && why == 5 && p == box->init && box->init_stopped)
            box->init_stopped(box, status);
        return;
    }
    struct guest_sigaction a = action_of(parent, SIGCHLD);
    if (a.handler != (uint64_t)(uintptr_t)SIG_IGN && !(a.flags & SA_NOCLDSTOP))
        signal_process_info(parent, SIGCHLD, &info);
    process_put(parent);
}

/* Drop the signals of which from p's pending sets. Under p->lock. */
static void flush_all(struct process *p, uint64_t which)
{
    sigpending_flush(p, &p->shared_pending, which);
    list_for_each (o, &p->threads, struct task, thread_node)
        sigpending_flush(p, &o->pending, which);
}

/* What generating sig does before anything else (Linux's prepare_signal),
 * under p->lock: a stop signal drops a pending SIGCONT; SIGCONT drops
 * pending stop signals and, whatever its disposition or mask, ends a stop
 * (the caller wakes the stopped threads once SIGCONT is queued, and tells
 * the parent): the job state it found. */
static int job_prepare_locked(struct process *p, int sig)
{
    if (sig != SIGCONT) {
        flush_all(p, SIGBIT(SIGCONT));
        return JOB_RUNNING;
    }
    flush_all(p, STOP_SIGS);
    __atomic_and_fetch(&p->host_sigs, ~STOP_SIGS, __ATOMIC_RELAXED);
    int was = p->job_state;
    __atomic_store_n(&p->job_state, JOB_RUNNING, __ATOMIC_RELAXED);
    p->group_stop_count = 0;
    list_for_each (o, &p->threads, struct task, thread_node)
        o->stop_pending = 0;
    return was;
}

/* After SIGCONT went on with a process that was (was) stopping or stopped. */
static void job_continued(struct process *p, int was)
{
    if (was == JOB_RUNNING)
        return;
    wake_up_all(&p->wait_cont);
    if (was == JOB_STOPPED)
        notify_parent_cldstop(p, 6 /* CLD_CONTINUED */, SIGCONT);
}

/* t has stopped for its group's stop, or is leaving it (exiting): the last
 * one makes the process stopped. 1 when that was t. Under p->lock. */
static int stop_participate(struct task *t)
{
    struct process *p = t->proc;
    if (!t->stop_pending)
        return 0;
    t->stop_pending = 0;
    if (--p->group_stop_count > 0 || p->job_state != JOB_STOPPING)
        return 0;
    __atomic_store_n(&p->job_state, JOB_STOPPED, __ATOMIC_RELAXED);
    return 1;
}

static int pgrp_orphaned(struct process *p);

int signal_stop_pending(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending.set | p->shared_pending.set) & ~t->sigmask & STOP_SIGS;
    int r = t->stop_pending;
    pthread_mutex_unlock(&p->lock);
    for (; ready && !r; ready &= ready - 1) {
        int sig = __builtin_ctzll(ready) + 1;
        r = handler_of(p, sig) == (uint64_t)(uintptr_t)SIG_DFL;
    }
    return r;
}

/* The init sent sig to itself (raise, kill of its own pid or group: the
 * sender's pid is the sentry's, set by kill and tgkill): its own stop is
 * taken as the program's stop would be without the sandbox (a pid
 * namespace's init ignores it), and stops sandbox-run with it
 * (box->init_stopped), as an editor's Ctrl-Z handler wants. */
static int from_itself(struct process *p, const struct sig_info *info)
{
    return (info->code == 0 /* SI_USER */ || info->code == -6 /* SI_TKILL */) &&
           info->pid == p->pid;
}

/* A pending, unblocked stop signal whose action is the default, taken
 * from t's sets (0 if none). A process's stop signals are ignored by the
 * sandbox's init, as by a pid namespace's. */
static int take_stop_signal(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending.set | p->shared_pending.set) & ~t->sigmask & STOP_SIGS;
    pthread_mutex_unlock(&p->lock);
    for (; ready; ready &= ready - 1) {
        int sig = __builtin_ctzll(ready) + 1;
        if (handler_of(p, sig) != (uint64_t)(uintptr_t)SIG_DFL)
            continue;
        struct sig_info info;
        int ignores = init_ignores(p, sig); /* before the dequeue takes its host bit */
        if (!signal_dequeue(t, SIGBIT(sig), &info))
            continue;
        if (ignores && !from_itself(p, &info))
            continue;
        /* The terminal's stops do nothing to an orphaned process group
         * (nobody is left to continue it): dropped, as Linux's get_signal. */
        if (sig != SIGSTOP && pgrp_orphaned(p))
            continue;
        return sig;
    }
    return 0;
}

/* ---- orphaned process groups ---- */

int pgrp_orphaned_locked(struct sandbox *box, int pgid, struct process *ignored)
{
    list_for_each (q, &box->procs, struct process, pid_node) {
        if (q->pgid != pgid || q == ignored || q->state != PROC_ALIVE)
            continue;
        /* The sandbox's init has its parent outside, as a program run
         * from a shell: its group is not orphaned while it lives. */
        if (q == box->init && !q->parent)
            return 0;
        if (q->parent && q->parent->pgid != pgid && q->parent->sid == q->sid)
            return 0;
    }
    return 1;
}

int pgrp_has_stopped_locked(struct sandbox *box, int pgid)
{
    list_for_each (q, &box->procs, struct process, pid_node) {
        if (q->pgid == pgid && q->state == PROC_ALIVE &&
            __atomic_load_n(&q->job_state, __ATOMIC_RELAXED) == JOB_STOPPED)
            return 1;
    }
    return 0;
}

static int pgrp_orphaned(struct process *p)
{
    pthread_mutex_lock(&p->sandbox->tasklist);
    int r = pgrp_orphaned_locked(p->sandbox, p->pgid, NULL);
    pthread_mutex_unlock(&p->sandbox->tasklist);
    return r;
}

/* Stop t if its group stops, starting the group stop for a stop signal it
 * takes (do_signal_stop): every thread is asked to stop, and t sleeps
 * until SIGCONT or SIGKILL. 1 if t stopped. */
static int job_stop(struct task *t)
{
    struct process *p = t->proc;
    int sig = take_stop_signal(t);
    pthread_mutex_lock(&p->lock);
    if (sig && p->job_state == JOB_RUNNING && !p->group_exiting) {
        __atomic_store_n(&p->job_state, JOB_STOPPING, __ATOMIC_RELAXED);
        p->stop_sig = sig;
        p->group_stop_count = 0;
        list_for_each (o, &p->threads, struct task, thread_node) {
            if (__atomic_load_n(&o->exiting, __ATOMIC_SEQ_CST))
                continue;
            o->stop_pending = 1;
            p->group_stop_count++;
            if (o != t)
                task_kick(o);
        }
    }
    if (!t->stop_pending) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    int notify = stop_participate(t);
    int stopsig = p->stop_sig;
    pthread_mutex_unlock(&p->lock);
    if (notify)
        notify_parent_cldstop(p, 5 /* CLD_STOPPED */, stopsig);
    pthread_mutex_lock(&p->lock);
    while (p->job_state != JOB_RUNNING && !__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
        waitq_wait(t, &p->wait_cont, &p->lock, NULL, WAIT_NOINTR);
    pthread_mutex_unlock(&p->lock);
    return 1;
}

void signal_exit_stop(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    int notify = stop_participate(t);
    int stopsig = p->stop_sig;
    pthread_mutex_unlock(&p->lock);
    if (notify)
        notify_parent_cldstop(p, 5 /* CLD_STOPPED */, stopsig);
}

/* A timer's preallocated entry for generate (signal_timer_send): queued
 * only while the timer's generation is still gen. */
struct timer_entry {
    struct sigqueue *q;
    const unsigned *genp;
    unsigned gen;
};

/* Pending for the process (t NULL) or thread t: blocked signals are never
 * ignored at generation (the handler may change before they are
 * unblocked), ignored ones are dropped, handled ones and stops wait; a
 * thread that can take a handled one is interrupted so that it does at
 * the end of its syscall, as is one that waits for it in
 * rt_sigtimedwait. The entry is made from info, or is the timer's own (te,
 * signal_timer_send). Returns 0 or -EAGAIN (sigpending_add), or with te
 * signal_timer_send's 0, 1, 2. */
static long generate(struct process *p, struct task *t, int sig, const struct sig_info *info,
                     const struct timer_entry *te)
{
    if (sig == SIGKILL) {
        if (!init_ignores(p, sig))
            process_kill(p, SIGKILL);
        return te ? 1 : 0;
    }
    uint64_t h = handler_of(p, sig);
    int handled = h != (uint64_t)(uintptr_t)SIG_IGN && h != (uint64_t)(uintptr_t)SIG_DFL;
    pthread_mutex_lock(&p->lock);
    if (te && (*te->genp != te->gen || te->q->on || (t && t->exited))) {
        int already = te->q->on && *te->genp == te->gen;
        pthread_mutex_unlock(&p->lock);
        return already ? 2 : 1;
    }
    int was =
        sig == SIGCONT || (SIGBIT(sig) & STOP_SIGS) ? job_prepare_locked(p, sig) : JOB_RUNNING;
    struct task *taker = wants(p, t, sig);
    struct task *waiter = waits_for(p, t, sig);
    int stops = h == (uint64_t)(uintptr_t)SIG_DFL && sig_default_stops(sig);
    int keep = !taker || handled || stops;
    long r = te ? 1 : 0;
    int queued = 0;
    if (keep) {
        struct sigpending *sp = t ? &t->pending : &p->shared_pending;
        if (!te) {
            r = sigpending_add(p, sp, sig, info);
            queued = r == 0;
        } else if (sig >= SIGRTMIN_K || !(sp->set & SIGBIT(sig))) {
            /* A standard signal already pending takes nothing more. */
            te->q->info.overrun = 0;
            list_add_tail(&sp->queue, &te->q->node);
            te->q->on = sp;
            sp->set |= SIGBIT(sig);
            queued = 1;
            r = 0;
        }
        if (queued && waiter)
            task_kick(waiter);
        else if (queued && (handled || stops) && taker)
            task_kick(taker);
    }
    pthread_mutex_unlock(&p->lock);
    job_continued(p, was);
    if (queued)
        wake_up_all(&p->sandbox->wait_signalfd);
    if (!keep)
        act_default(p, sig);
    return r;
}

static long signal_generate(struct process *p, struct task *t, int sig, const struct sig_info *info)
{
    return generate(p, t, sig, info, NULL);
}

int signal_from_host(struct process *p, int sig)
{
    if (handler_of(p, sig) == (uint64_t)(uintptr_t)SIG_DFL)
        return 0;
    /* From outside the sandbox's pid namespace: no sender the guest can
     * name (si_pid 0), as Linux gives a namespace's processes. */
    struct sig_info info = { .code = 0 /* SI_USER */ };
    /* Still the program's if an exec resets its handler meanwhile. */
    __atomic_or_fetch(&p->host_sigs, SIGBIT(sig), __ATOMIC_RELAXED);
    generate(p, NULL, sig, &info, NULL);
    return 1;
}

/* The live processes of group pgid, with references, in a new array (free
 * it; NULL with *n 0 when there are none or no memory for them). */
static struct process **pgrp_members(struct sandbox *box, int pgid, int *n)
{
    struct process **list = NULL;
    size_t cap = 0;
    *n = 0;
    pthread_mutex_lock(&box->tasklist);
    list_for_each (q, &box->procs, struct process, pid_node) {
        if (q->pgid != pgid || q->state != PROC_ALIVE)
            continue;
        if (ARRAY_GROW(list, cap, (size_t)*n + 1, 16) < 0)
            break;
        list[(*n)++] = process_get(q);
    }
    pthread_mutex_unlock(&box->tasklist);
    return list;
}

void signal_pgrp(struct sandbox *box, int pgid, int sig)
{
    int n;
    struct process **list = pgrp_members(box, pgid, &n);
    for (int i = 0; i < n; i++) {
        signal_process(list[i], sig);
        process_put(list[i]);
    }
    free(list);
}

int signal_pgrp_from_host(struct sandbox *box, int pgid, int sig)
{
    int n, init_default = 0;
    struct process **list = pgrp_members(box, pgid, &n);
    struct sig_info info = { .code = 0x80 /* SI_KERNEL, as a terminal's */ };
    for (int i = 0; i < n; i++) {
        struct process *q = list[i];
        if (q == box->init && handler_of(q, sig) == (uint64_t)(uintptr_t)SIG_DFL) {
            init_default = 1;
            if (sig_default_stops(sig)) {
                /* Taken despite the init's rule, as a stop of the program
                 * run without the sandbox: init_stopped follows. */
                __atomic_or_fetch(&q->host_sigs, SIGBIT(sig), __ATOMIC_RELAXED);
                generate(q, NULL, sig, &info, NULL);
            }
        } else {
            if (q == box->init)
                __atomic_or_fetch(&q->host_sigs, SIGBIT(sig), __ATOMIC_RELAXED);
            generate(q, NULL, sig, &info, NULL);
        }
        process_put(q);
    }
    free(list);
    return init_default;
}

int signal_ignored_or_blocked(struct task *t, int sig)
{
    pthread_mutex_lock(&t->proc->lock);
    int blocked = (t->sigmask & SIGBIT(sig)) != 0;
    pthread_mutex_unlock(&t->proc->lock);
    return blocked || handler_of(t->proc, sig) == (uint64_t)(uintptr_t)SIG_IGN;
}

long signal_process_info(struct process *p, int sig, const struct sig_info *info)
{
    return signal_generate(p, NULL, sig, info);
}

long signal_thread_info(struct task *t, int sig, const struct sig_info *info)
{
    return signal_generate(t->proc, t, sig, info);
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
    flush_all(p, SIGBIT(sig));
    pthread_mutex_unlock(&p->lock);
}

void signal_unblocked(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending.set | p->shared_pending.set) & ~t->sigmask;
    pthread_mutex_unlock(&p->lock);
    while (ready && !__atomic_load_n(&p->group_exiting, __ATOMIC_ACQUIRE)) {
        int sig = __builtin_ctzll(ready) + 1;
        ready &= ready - 1;
        if (!act_default(p, sig))
            continue; /* handled: stays pending for delivery */
        pthread_mutex_lock(&p->lock);
        sigpending_flush(p, &t->pending, SIGBIT(sig));
        sigpending_flush(p, &p->shared_pending, SIGBIT(sig));
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

int signal_handler_pending(struct task *t)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    uint64_t ready = (t->pending.set | p->shared_pending.set) & ~t->sigmask;
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
    uint64_t ready = (t->pending.set | p->shared_pending.set) & ~t->sigmask;
    uint64_t want = 0;
    struct sighand *sh = p->sighand;
    pthread_mutex_lock(&sh->lock);
    for (; ready; ready &= ready - 1) {
        int sig = __builtin_ctzll(ready) + 1;
        uint64_t h = sh->act[sig - 1].handler;
        if (h != (uint64_t)(uintptr_t)SIG_IGN && h != (uint64_t)(uintptr_t)SIG_DFL)
            want |= SIGBIT(sig);
    }
    int sig = 0;
    if (want) {
        /* The thread's own first, as dequeue_signal. */
        uint64_t own = t->pending.set & want;
        sig = own ? dequeue_locked(t, own, info) : dequeue_locked(t, want, info);
        *act = sh->act[sig - 1];
        if (act->flags & SA_RESETHAND) {
            sh->act[sig - 1].handler = (uint64_t)(uintptr_t)SIG_DFL;
            sh->act[sig - 1].flags &= ~(uint64_t)SA_SIGINFO;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    pthread_mutex_unlock(&p->lock);
    return sig;
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

/* One handler's frame for sig: the restart rule of the interrupted call
 * (ret) if it is the first frame on a syscall's return, the frame, the
 * handler's mask. The result as the guest sees it; *dead when the frame
 * could not be written (the process is killed). */
static long deliver_one(struct task *t, int sig, const struct guest_sigaction *act,
                        const struct sig_info *info, long ret, int in_syscall, int *dead)
{
    if (in_syscall && is_restart(ret)) {
        if (ret == -ERESTARTNOINTR || (ret == -ERESTARTSYS && (act->flags & SA_RESTART))) {
            restart_syscall_regs(t);
        } else {
            ret = -EINTR;
            t->regs.rax = (uint64_t)ret;
        }
    }
    /* The frame keeps the mask to go back to (sigsuspend's saved one);
     * the handler runs with the current one plus its own. */
    uint64_t oldmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
    t->restore_sigmask = 0;
    if (sigframe_setup(t, sig, act, info, oldmask) < 0) {
        process_kill(t->proc, sig_death_status(t->proc, SIGSEGV));
        *dead = 1;
        return ret;
    }
    uint64_t add = act->mask | ((act->flags & SA_NODEFER) ? 0 : SIGBIT(sig));
    task_set_sigmask(t, (t->sigmask | add) & ~UNBLOCKABLE);
    return ret;
}

/* Whether signal_deliver has nothing to do for t after a call that
 * returned ret: no interruption, no signal pending for it or its process,
 * no group stop to take part in, no mask to restore, nothing to restart.
 * What would make it otherwise later (a signal generated meanwhile) sets
 * the interruption, which the task loop sees before the guest resumes. */
static int deliver_idle(struct task *t, long ret)
{
    if (task_interrupt_pending(t) || t->restore_sigmask || is_restart(ret))
        return 0;
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    int idle = !(t->pending.set | p->shared_pending.set) && !t->stop_pending;
    pthread_mutex_unlock(&p->lock);
    return idle;
}

/* Clear t's interrupt once its signals are dealt with, then look again:
 * a signal that came after the scan set the interrupt before this clear,
 * and would otherwise wait for the guest's next trap. What is still
 * pending and unblocked then has a handler (signal_unblocked took the
 * rest), or is a stop to take: the next turn delivers it. */
static void interrupt_settle(struct task *t)
{
    task_interrupt_clear(t);
    struct process *p = t->proc;
    pthread_mutex_lock(&p->lock);
    int left = ((t->pending.set | p->shared_pending.set) & ~t->sigmask) || t->stop_pending;
    pthread_mutex_unlock(&p->lock);
    if (left)
        task_interrupt(t);
}

long signal_deliver(struct task *t, long ret, int in_syscall)
{
    /* The common case, in one lock instead of the walk below. */
    if (deliver_idle(t, ret))
        return ret;
    /* After rt_sigreturn (orig_rax -1) rax is the interrupted code's, no
     * syscall's result to restart (Linux: syscall_get_nr(regs) >= 0). */
    if ((int64_t)t->regs.orig_rax < 0)
        in_syscall = 0;
    signal_unblocked(t); /* default actions and ignores first */
    if (job_stop(t))
        signal_unblocked(t); /* what came while it was stopped */
    if (__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
        return ret;
    /* Every signal the handlers' masks let through gets its frame now,
     * each on top of the one before, as Linux's return to user mode loops
     * while a signal is pending: the last one's handler runs first. */
    int frames = 0, dead = 0;
    struct guest_sigaction act;
    struct sig_info info;
    for (int sig; !dead && frames < GUEST_NSIG && (sig = dequeue_handled(t, &act, &info)); frames++)
        ret = deliver_one(t, sig, &act, &info, ret, in_syscall && frames == 0, &dead);
    interrupt_settle(t);
    if (frames)
        return ret;
    if (t->restore_sigmask) {
        task_set_sigmask(t, t->saved_sigmask);
        t->restore_sigmask = 0;
    }
    /* No handler runs: an interrupted call starts again, one with a
     * restart block through restart_syscall. */
    if (in_syscall && is_restart(ret)) {
        restart_syscall_regs(t);
        if (ret == -ERESTART_RESTARTBLOCK)
            t->regs.rax = 219; /* __NR_restart_syscall */
    }
    return ret;
}

long signal_return(struct task *t)
{
    t->restart.fn = NULL; /* restore_sigcontext: no call to go on with */
    uint64_t mask;
    if (sigframe_restore(t, &mask) < 0) {
        /* Linux's signal_fault: a SIGSEGV from the kernel. */
        struct sig_info info;
        memset(&info, 0, sizeof(info));
        info.signo = SIGSEGV;
        info.code = 0x80; /* SI_KERNEL */
        if (!signal_force(t, &info))
            process_kill(t->proc, sig_death_status(t->proc, SIGSEGV));
        t->regs.rax = 0;
        return 0;
    }
    task_set_sigmask(t, mask);
    return (long)t->regs.rax;
}

int signal_force(struct task *t, const struct sig_info *info)
{
    int sig = info->signo;
    struct sighand *sh = t->proc->sighand;
    int blocked = (t->sigmask & SIGBIT(sig)) != 0;
    pthread_mutex_lock(&sh->lock);
    uint64_t h = sh->act[sig - 1].handler;
    if (h == (uint64_t)(uintptr_t)SIG_IGN || blocked) {
        h = (uint64_t)(uintptr_t)SIG_DFL;
        sh->act[sig - 1].handler = h;
    }
    pthread_mutex_unlock(&sh->lock);
    if (blocked)
        task_set_sigmask(t, t->sigmask & ~SIGBIT(sig));
    if (h == (uint64_t)(uintptr_t)SIG_DFL)
        return 0;
    signal_thread_info(t, sig, info);
    return 1;
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
    task_set_sigmask(t, mask & ~UNBLOCKABLE);
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

/* ---- timer signals: the preallocated entries of ptimer.c ----
 * A POSIX timer owns one sigqueue entry, counted against
 * RLIMIT_SIGPENDING for the timer's life (Linux's SIGQUEUE_PREALLOC). It
 * is queued at most once: while it is pending the timer is not rearmed,
 * and its dequeued hook counts the expirations missed meanwhile (the
 * overrun) and rearms it, as Linux's posixtimer_deliver_signal. */

long signal_timer_reserve(struct process *p)
{
    long r = 0;
    pthread_mutex_lock(&p->lock);
    if ((uint64_t)p->sigq_count >=
        __atomic_load_n(&p->rlim[RLIMIT_SIGPENDING].cur, __ATOMIC_RELAXED))
        r = -EAGAIN;
    else
        p->sigq_count++;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void signal_timer_unreserve(struct process *p)
{
    pthread_mutex_lock(&p->lock);
    p->sigq_count--;
    pthread_mutex_unlock(&p->lock);
}

int signal_timer_send(struct process *p, struct task *t, struct sigqueue *q, const unsigned *genp,
                      unsigned gen)
{
    struct timer_entry te = { q, genp, gen };
    return (int)generate(p, t, q->info.signo, NULL, &te);
}

void signal_timer_cancel_locked(struct process *p, struct sigqueue *q)
{
    (void)p;
    struct sigpending *sp = q->on;
    if (sp) {
        int sig = q->info.signo, more = 0;
        list_del(&q->node);
        q->on = NULL;
        list_for_each (o, &sp->queue, struct sigqueue, node)
            if (o->info.signo == sig)
                more = 1;
        if (!more)
            sp->set &= ~SIGBIT(sig);
    }
}
