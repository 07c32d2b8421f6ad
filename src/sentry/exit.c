/* The end of tasks and processes: thread exit, group exit, zombies,
 * reparenting, the parent's notice, reaping (wait4, waitid), and the
 * default actions of signals sent with kill, tkill and tgkill. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/file/fdtable.h"
#include "fs/file/lock.h"
#include "ipc/ipc.h"
#include "sentry/futex.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/ptimer.h"
#include "sentry/syscall.h"
#include "sentry/tty.h"

/* ---- exit ---- */

/* pid 1 is gone (sandbox-run's main thread waits for this). */
static void sandbox_init_gone(struct sandbox *box)
{
    uint64_t one = 1;
    ssize_t r = write(box->done_fd, &one, sizeof(one));
    (void)r;
}

/* No guest task is left. */
static void sandbox_all_gone(struct sandbox *box)
{
    pthread_mutex_lock(&box->lock);
    box->all_gone = 1;
    pthread_cond_broadcast(&box->gone_cv);
    pthread_mutex_unlock(&box->lock);
}

void vfork_release(struct task *t)
{
    struct sandbox *box = t->proc->sandbox;
    pthread_mutex_lock(&box->tasklist);
    struct task *parent = t->vfork_parent;
    t->vfork_parent = NULL;
    if (parent) {
        __atomic_store_n(&parent->vfork_done, 1, __ATOMIC_SEQ_CST);
        task_wake(parent);
    }
    pthread_mutex_unlock(&box->tasklist);
    if (parent)
        task_put(parent);
}

/* The robust list and clear_child_tid (futex_exit_release); the write at
 * clear_child_tid is skipped when the whole process is going, as Linux
 * skips it for the last user of an address space. */
static void exit_futexes(struct task *t)
{
    if (__atomic_load_n(&t->proc->group_exiting, __ATOMIC_ACQUIRE))
        t->clear_child_tid = 0;
    futex_exit_release(t);
}

/* The process that adopts p's children: the nearest ancestor that is a
 * child subreaper and alive, else init. Under tasklist. */
static struct process *find_reaper(struct sandbox *box, struct process *p)
{
    for (struct process *a = p->parent; a; a = a->parent)
        if (a->child_subreaper && a->state == PROC_ALIVE)
            return a;
    return box->init;
}

/* Whether the parent takes no notice of its children's deaths, so they
 * are reaped at once (SIGCHLD ignored, or SA_NOCLDWAIT). */
static int parent_autoreaps(struct process *parent)
{
    struct sighand *sh = parent->sighand;
    pthread_mutex_lock(&sh->lock);
    struct guest_sigaction a = sh->act[SIGCHLD - 1];
    pthread_mutex_unlock(&sh->lock);
    return a.handler == (uint64_t)(uintptr_t)SIG_IGN || (a.flags & SA_NOCLDWAIT);
}

/* Take p out of the tables (it was reaped); under tasklist. The caller
 * puts the reference the table held after dropping the lock. */
static void unlink_reaped(struct sandbox *box, struct process *p)
{
    p->state = PROC_REAPED;
    p->leader = NULL; /* its task goes below (process_cred_get) */
    wake_up_all(&p->wait_pidfd);
    list_del(&p->sibling);
    list_del(&p->pid_node);
    /* Its tasks still in the table: the zombie leader, at least. */
    list_for_each_safe (t, &box->tasks, struct task, tid_node)
        if (t->proc == p)
            pid_unlink_task(box, t);
}

/* Children to send their parent-death signal (PR_SET_PDEATHSIG), each
 * with a reference. */
struct pdeath {
    struct {
        struct process *proc;
        int sig;
    } * v;
    int n;
};

/* The tid of p's first thread that has not exited, or 0 (Linux's
 * find_alive_thread): the parent thread of the children it takes over.
 * Under tasklist. */
static int first_live_thread(struct process *p)
{
    int tid = 0;
    pthread_mutex_lock(&p->lock);
    list_for_each (o, &p->threads, struct task, thread_node)
        if (!tid && !o->exited)
            tid = o->tid;
    pthread_mutex_unlock(&p->lock);
    return tid;
}

/* Under tasklist: p's live children made by thread tid (0: all of them)
 * whose threads asked for a parent-death signal; those made by tid get
 * new_tid as their maker. Out of memory, some are not signalled. */
static struct pdeath pdeath_collect(struct process *p, int tid, int new_tid)
{
    struct pdeath pd = { NULL, 0 };
    int max = 0;
    list_for_each (c, &p->children, struct process, sibling)
        max++;
    if (max)
        pd.v = malloc((size_t)max * sizeof(*pd.v));
    list_for_each (c, &p->children, struct process, sibling) {
        if (tid && c->parent_tid != tid)
            continue;
        if (tid)
            c->parent_tid = new_tid;
        if (c->state != PROC_ALIVE || !pd.v)
            continue;
        int sig = 0;
        pthread_mutex_lock(&c->lock);
        list_for_each (ct, &c->threads, struct task, thread_node)
            if (ct->pdeath_signal)
                sig = ct->pdeath_signal;
        pthread_mutex_unlock(&c->lock);
        if (sig) {
            pd.v[pd.n].proc = process_get(c);
            pd.v[pd.n++].sig = sig;
        }
    }
    return pd;
}

/* Send what pdeath_collect found (under nothing) and free it. */
static void pdeath_send(struct pdeath *pd)
{
    for (int i = 0; i < pd->n; i++) {
        signal_process(pd->v[i].proc, pd->v[i].sig);
        process_put(pd->v[i].proc);
    }
    free(pd->v);
}

/* A thread that is not its process's last exits: its children pass to
 * another live thread of the process, and get their parent-death signal
 * (Linux's forget_original_parent, which reparents within the group). */
static void thread_orphans(struct task *t)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    struct pdeath pd = { NULL, 0 };
    pthread_mutex_lock(&box->tasklist);
    if (!list_empty(&p->children))
        pd = pdeath_collect(p, t->tid, first_live_thread(p));
    pthread_mutex_unlock(&box->tasklist);
    pdeath_send(&pd);
}

/* The process groups p's exit leaves orphaned with a stopped member
 * (Linux's kill_orphaned_pgrp, once its children went to their reaper):
 * its own, if its parent was its link to another group of the session,
 * and those of its children in cand (n of them). Their ids into out (room
 * for n + 1); their count. Under tasklist. */
static int orphaned_by_exit(struct sandbox *box, struct process *p, const int *cand, int n,
                            int *out)
{
    int k = 0;
    struct process *parent = p->parent;
    if (parent && parent->pgid != p->pgid && parent->sid == p->sid &&
        pgrp_orphaned_locked(box, p->pgid, p) && pgrp_has_stopped_locked(box, p->pgid))
        out[k++] = p->pgid;
    for (int i = 0; i < n; i++)
        if (pgrp_orphaned_locked(box, cand[i], p) && pgrp_has_stopped_locked(box, cand[i]))
            out[k++] = cand[i];
    return k;
}

/* The last thread of p has exited: p becomes a zombie (or is reaped at
 * once), its children go to the reaper, its parent is told. Called
 * without locks. */
static void process_died(struct process *p, int wstatus)
{
    struct sandbox *box = p->sandbox;
    lock_release_process(p);
    ipc_sem_exit(p);
    pthread_mutex_lock(&p->lock);
    struct fdtable *files = p->files;
    p->files = NULL;
    pthread_mutex_unlock(&p->lock);
    fdtable_put(files);

    /* SIGCHLD's siginfo, while p's leader is surely there (the parent may
     * reap p as soon as it is a zombie). */
    const struct creds *pc = process_cred_get(p);
    struct sig_info info = {
        .code = WIFEXITED(wstatus) ? 1 /* CLD_EXITED */
                : (wstatus & 0x80) ? 3 /* CLD_DUMPED */
                                   : 2 /* CLD_KILLED */,
        .pid = p->pid,
        .uid = pc ? pc->uid : 0,
        .status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus),
    };
    creds_put(pc);
    int notify_sig = 0;
    struct process *parent = NULL, *drop = NULL;
    pthread_mutex_lock(&box->tasklist);
    p->exit_code = wstatus;
    p->state = PROC_ZOMBIE;
    wake_up_all(&p->wait_pidfd);
    struct process *reaper = p == box->init ? NULL : find_reaper(box, p);
    struct pdeath pd = pdeath_collect(p, 0, 0);
    int adopter = reaper ? first_live_thread(reaper) : 0;
    /* The children's groups that p's exit may leave orphaned. */
    int cand[64], ncand = 0;
    list_for_each (c, &p->children, struct process, sibling) {
        int seen = c->pgid == p->pgid || c->sid != p->sid;
        for (int i = 0; i < ncand && !seen; i++)
            seen = cand[i] == c->pgid;
        if (!seen && ncand < (int)ARRAY_SIZE(cand))
            cand[ncand++] = c->pgid;
    }
    list_for_each_safe (c, &p->children, struct process, sibling) {
        list_del(&c->sibling);
        c->parent_tid = adopter;
        if (!reaper) {
            c->parent = NULL;
            continue;
        }
        c->parent = reaper;
        list_add_tail(&reaper->children, &c->sibling);
        if (c->state == PROC_ZOMBIE)
            wake_up_all(&reaper->wait_chld);
    }
    int hup[65], nhup = orphaned_by_exit(box, p, cand, ncand, hup);
    int tty_fg = tty_session_exit_locked(p);
    parent = p->parent;
    if (parent) {
        if (p->exit_signal == SIGCHLD && parent_autoreaps(parent)) {
            unlink_reaped(box, p);
            drop = p;
        } else {
            notify_sig = p->exit_signal;
            if (notify_sig)
                process_get(parent);
        }
        wake_up_all(&parent->wait_chld);
    }
    pthread_mutex_unlock(&box->tasklist);
    pdeath_send(&pd);
    if (tty_fg)
        signal_pgrp(box, tty_fg, SIGHUP);
    for (int i = 0; i < nhup; i++) {
        signal_pgrp(box, hup[i], SIGHUP);
        signal_pgrp(box, hup[i], SIGCONT);
    }
    if (notify_sig > 0 && notify_sig <= GUEST_NSIG)
        signal_process_info(parent, notify_sig, &info);
    if (notify_sig)
        process_put(parent);
    process_put(drop);

    if (p == box->init) {
        /* pid 1 is gone: so is every guest task, and sandbox-run exits
         * with its status. */
        pthread_mutex_lock(&box->lock);
        if (box->exit_status == 0)
            box->exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        pthread_mutex_unlock(&box->lock);
        pthread_mutex_lock(&box->tasklist);
        list_for_each (q, &box->procs, struct process, pid_node)
            if (q->state == PROC_ALIVE)
                process_kill(q, SIGKILL);
        pthread_mutex_unlock(&box->tasklist);
        sandbox_init_gone(box);
    }
}

void task_exit(struct task *t)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    signal_exit_stop(t);
    pthread_mutex_lock(&p->lock);
    t->exited = 1;
    list_del(&t->thread_node);
    int last = --p->nr_live == 0;
    p->nr_exiting++;
    int wstatus = p->group_exiting ? p->exit_code : t->exit_code;
    struct guest_ctx *ctx = t->ctx;
    t->ctx = NULL;
    pthread_mutex_unlock(&p->lock);
    task_put(t); /* the thread list's */

    /* Out of /proc/PID/task before pthread_join can return (a leader
     * stays, as a zombie, until its process is reaped). The leader is read
     * under tasklist: once the last thread is gone the parent can reap
     * the process (unlink_reaped) while this thread is still here. */
    pthread_mutex_lock(&box->tasklist);
    if (t != p->leader)
        pid_unlink_task(box, t);
    pthread_mutex_unlock(&box->tasklist);
    if (!last)
        thread_orphans(t);
    exit_futexes(t);
    vfork_release(t);
    if (!last && ctx)
        mm_end_thread(ctx);
    /* Done with the address space; the last thread waits until every
     * other one is (another thread can still be writing its robust list
     * or ending its host thread after the last one counted itself out). */
    pthread_mutex_lock(&p->lock);
    p->nr_exiting--;
    pthread_cond_broadcast(&p->exit_cv);
    while (last && p->nr_exiting > 0)
        pthread_cond_wait(&p->exit_cv, &p->lock);
    pthread_mutex_unlock(&p->lock);

    /* exit_itimers: the process's timers stop and go with its last thread. */
    if (last)
        ptimers_exit(p);

    /* The host thread: the stub goes with its last user, whose figures
     * are the process's own. */
    if (last && __atomic_load_n(&p->mm->refs, __ATOMIC_ACQUIRE) == 1) {
        struct mm_usage u;
        mm_host_usage(p->mm, &u, 1);
        pthread_mutex_lock(&p->sandbox->tasklist);
        p->self_usage = (struct proc_usage){ u.utime, u.stime, u.minflt, u.majflt, u.hwm };
        pthread_mutex_unlock(&p->sandbox->tasklist);
        mm_kill_last(p->mm, ctx);
        mm_allow_exe_write(p->mm);
        mm_release_mappings(p->mm);
    } else if (last && ctx) {
        mm_end_thread(ctx);
    }
    if (last) {
        process_died(p, wstatus);
        /* exit_mm: a zombie has no address space. Its stub goes now, by
         * this thread and after the parent was told: reaping it waits for
         * the host to tear the process down, which the parent's wait
         * need not wait for. */
        pthread_mutex_lock(&p->lock);
        struct mm *mm = p->mm;
        p->mm = NULL;
        pthread_mutex_unlock(&p->lock);
        mm_put(mm);
    }

    pthread_mutex_lock(&box->tasklist);
    int none_left = --box->nr_tasks == 0;
    pthread_mutex_unlock(&box->tasklist);
    if (none_left)
        sandbox_all_gone(box);
    task_put(t);
}

/* ---- wait4, waitid ---- */

static int wait_matches(const struct wait_opts *wo, const struct process *c)
{
    if (wo->type == P_PID && c->pid != wo->id)
        return 0;
    if (wo->type == P_PGID && c->pgid != wo->id)
        return 0;
    /* __WCLONE: only children that signal something other than SIGCHLD
     * at exit; __WALL: any. */
    if (!(wo->options & __WALL) && ((c->exit_signal != SIGCHLD) ^ !!(wo->options & __WCLONE)))
        return 0;
    return 1;
}

void usage_to_rusage(const struct proc_usage *u, struct rusage *ru)
{
    memset(ru, 0, sizeof(*ru));
    ru->ru_utime.tv_sec = (time_t)(u->utime / 100);
    ru->ru_utime.tv_usec = (suseconds_t)(u->utime % 100) * 10000;
    ru->ru_stime.tv_sec = (time_t)(u->stime / 100);
    ru->ru_stime.tv_usec = (suseconds_t)(u->stime % 100) * 10000;
    ru->ru_minflt = (long)u->minflt;
    ru->ru_majflt = (long)u->majflt;
    ru->ru_maxrss = (long)u->maxrss;
}

void process_child_usage(struct process *p, struct proc_usage *out)
{
    pthread_mutex_lock(&p->sandbox->tasklist);
    *out = p->child_usage;
    pthread_mutex_unlock(&p->sandbox->tasklist);
}

/* a += b: times and faults add up, the peak is the larger one. */
static void usage_add(struct proc_usage *a, const struct proc_usage *b)
{
    a->utime += b->utime;
    a->stime += b->stime;
    a->minflt += b->minflt;
    a->majflt += b->majflt;
    if (b->maxrss > a->maxrss)
        a->maxrss = b->maxrss;
}

/* A stop or continue of c not yet reported, when wo asks for that kind
 * (WSTOPPED, WCONTINUED): into wo (a stopped child has status sig << 8 |
 * 0x7f, a continued one 0xffff), the report consumed unless WNOWAIT. 1 if
 * there was one. Under tasklist. */
static int wait_job_report(struct wait_opts *wo, struct process *c)
{
    int stopped = (wo->options & WSTOPPED) && c->stop_report;
    int continued = (wo->options & WCONTINUED) && c->cont_report;
    if (c->state != PROC_ALIVE || (!stopped && !continued))
        return 0;
    pthread_mutex_lock(&c->lock);
    int sig = c->stop_sig;
    pthread_mutex_unlock(&c->lock);
    wo->pid = c->pid;
    wo->status = stopped ? (sig << 8) | 0x7f : 0xffff;
    const struct creds *cr = process_cred_get_locked(c);
    wo->uid = cr ? cr->uid : 0;
    creds_put(cr);
    memset(&wo->ru, 0, sizeof(wo->ru));
    if (!(wo->options & WNOWAIT)) {
        if (stopped)
            c->stop_report = 0;
        else
            c->cont_report = 0;
    }
    return 1;
}

/* One pass over t's children under tasklist: 1 with a zombie reaped (or
 * looked at, WNOWAIT) into wo, 0 if some child matches but none is ready,
 * -ECHILD if none matches. *reaped gets the process to put. */
static int wait_scan(struct task *t, struct wait_opts *wo, struct process **reaped)
{
    struct process *p = t->proc;
    int any = 0;
    list_for_each (c, &p->children, struct process, sibling) {
        if (!wait_matches(wo, c))
            continue;
        any = 1;
        if (c->state != PROC_ZOMBIE || !(wo->options & WEXITED)) {
            if (wait_job_report(wo, c))
                return 1;
            continue;
        }
        wo->pid = c->pid;
        wo->status = c->exit_code;
        const struct creds *cr = process_cred_get_locked(c);
        wo->uid = cr ? cr->uid : 0;
        creds_put(cr);
        /* The child's own figures and its children's, as Linux's
         * wait_task_zombie; reaping adds them to the parent's. */
        struct proc_usage cu = c->self_usage;
        usage_add(&cu, &c->child_usage);
        usage_to_rusage(&cu, &wo->ru);
        if (!(wo->options & WNOWAIT)) {
            usage_add(&p->child_usage, &cu);
            unlink_reaped(p->sandbox, c);
            *reaped = c;
        }
        return 1;
    }
    return any ? 0 : -ECHILD;
}

long do_wait(struct task *t, struct wait_opts *wo)
{
    struct sandbox *box = t->proc->sandbox;
    struct process *reaped = NULL;
    pthread_mutex_lock(&box->tasklist);
    int r;
    for (;;) {
        r = wait_scan(t, wo, &reaped);
        if (r != 0 || (wo->options & WNOHANG))
            break;
        r = waitq_wait(t, &t->proc->wait_chld, &box->tasklist, NULL, 0);
        if (r < 0)
            break;
    }
    pthread_mutex_unlock(&box->tasklist);
    process_put(reaped);
    return r;
}

/* ---- kill, tkill, tgkill ---- */

/* kill_ok_by_cred: the sender's real or effective uid is the target's real
 * or saved uid, or it has CAP_KILL. */
/* kill_ok_by_cred: the sender's real or effective uid is the target's real
 * or saved uid, or it has CAP_KILL. */
static int may_signal(struct task *from, struct process *to)
{
    const struct creds *s = from->cred, *d = process_cred_get(to);
    int ok = !d || (s->cap_effective & (1ULL << 5 /* CAP_KILL */)) || s->euid == d->suid ||
             s->euid == d->uid || s->uid == d->suid || s->uid == d->uid;
    creds_put(d);
    return ok;
}

/* Send sig to q for t with info (NULL: kill's, SI_USER from t): -EPERM,
 * -EAGAIN (a queue full) or 0 (sig 0 only checks). Under nothing. */
static long send_to(struct task *t, struct process *q, int sig, const struct sig_info *info)
{
    if (!may_signal(t, q))
        return -EPERM;
    struct sig_info user = { .code = 0 /* SI_USER */, .pid = t->proc->pid, .uid = t->cred->uid };
    if (sig && q->state == PROC_ALIVE)
        return signal_process_info(q, sig, info ? info : &user);
    return 0;
}

/* Each process matching (all: every one but init and the caller's; else
 * the group pgid), collected under tasklist and signalled after. */
static long kill_many(struct task *t, int sig, int all, int pgid)
{
    struct sandbox *box = t->proc->sandbox;
    struct process *list[256];
    int n = 0, found = 0, ok = 0;
    long err = -ESRCH;
    int after = 0;
    for (;;) {
        n = 0;
        pthread_mutex_lock(&box->tasklist);
        list_for_each (q, &box->procs, struct process, pid_node) {
            if (q->pid <= after || q->state != PROC_ALIVE)
                continue;
            if (all ? (q == box->init || q == t->proc) : q->pgid != pgid)
                continue;
            if (n == (int)ARRAY_SIZE(list))
                break;
            list[n++] = process_get(q);
        }
        pthread_mutex_unlock(&box->tasklist);
        for (int i = 0; i < n; i++) {
            found = 1;
            long r = send_to(t, list[i], sig, NULL);
            if (r == 0)
                ok = 1;
            else
                err = r;
            after = list[i]->pid;
            process_put(list[i]);
        }
        if (n < (int)ARRAY_SIZE(list))
            break;
    }
    if (!found)
        return -ESRCH;
    return ok ? 0 : err;
}

/* The process pid names, held, or NULL. */
static struct process *process_by_pid(struct task *t, int pid)
{
    struct task *target = pid_find_task(t->proc->sandbox, pid);
    if (!target)
        return NULL;
    struct process *q = process_get(target->proc);
    task_put(target);
    if (q->state == PROC_REAPED) {
        process_put(q);
        return NULL;
    }
    return q;
}

long proc_kill(struct task *t, int pid, int sig)
{
    if (sig < 0 || sig > GUEST_NSIG)
        return -EINVAL;
    if (pid == INT_MIN)
        return -ESRCH;
    if (pid == -1)
        return kill_many(t, sig, 1, 0);
    if (pid <= 0)
        return kill_many(t, sig, 0, pid == 0 ? t->proc->pgid : -pid);
    struct process *q = process_by_pid(t, pid);
    if (!q)
        return -ESRCH;
    long r = send_to(t, q, sig, NULL);
    process_put(q);
    return r;
}

long proc_sigqueue(struct task *t, int pid, int sig, const struct sig_info *info)
{
    /* As kill_pid_info: the process is looked for before the signal. */
    struct process *q = pid > 0 ? process_by_pid(t, pid) : NULL;
    if (!q)
        return -ESRCH;
    long r = sig < 0 || sig > GUEST_NSIG ? -EINVAL : send_to(t, q, sig, info);
    process_put(q);
    return r;
}

/* tgkill and rt_tgsigqueueinfo (do_send_specific): the thread tid, of
 * tgid if check_tgid. */
static long send_specific(struct task *t, int tgid, int tid, int sig, int check_tgid,
                          const struct sig_info *info)
{
    struct task *target = pid_find_task(t->proc->sandbox, tid);
    if (!target)
        return -ESRCH;
    long r;
    if ((check_tgid && target->proc->pid != tgid) || target->exited)
        r = -ESRCH;
    else if (sig < 0 || sig > GUEST_NSIG)
        r = -EINVAL;
    else if (!may_signal(t, target->proc))
        r = -EPERM;
    else
        r = sig ? signal_thread_info(target, sig, info) : 0;
    task_put(target);
    return r;
}

long proc_tkill(struct task *t, int tgid, int tid, int sig, int check_tgid)
{
    if (tid <= 0 || (check_tgid && tgid <= 0) || sig < 0 || sig > GUEST_NSIG)
        return -EINVAL;
    struct sig_info info = { .code = -6 /* SI_TKILL */, .pid = t->proc->pid, .uid = t->cred->uid };
    return send_specific(t, tgid, tid, sig, check_tgid, &info);
}

long proc_tgsigqueue(struct task *t, int tgid, int tid, int sig, const struct sig_info *info)
{
    return send_specific(t, tgid, tid, sig, 1, info);
}

/* ---- execve's de_thread ---- */

int process_de_thread(struct task *t)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&p->lock);
    if (p->group_exiting) {
        pthread_mutex_unlock(&p->lock);
        return -EINTR;
    }
    list_for_each (o, &p->threads, struct task, thread_node)
        if (o != t) {
            __atomic_store_n(&o->exiting, 1, __ATOMIC_SEQ_CST);
            o->exit_code = 0;
            task_interrupt(o);
            if (o->ctx)
                mm_kill_thread(o->ctx);
        }
    /* Wait for them to leave (each runs its own exit path). */
    while (p->nr_live > 1 && !p->group_exiting) {
        pthread_mutex_unlock(&p->lock);
        struct timespec dl;
        wait_deadline_ns(&dl, 2 * 1000 * 1000);
        task_sleep_prepare(t);
        task_sleep(t, &dl, WAIT_NOINTR);
        pthread_mutex_lock(&p->lock);
    }
    int killed = p->group_exiting;
    pthread_mutex_unlock(&p->lock);
    if (killed)
        return -EINTR;
    /* A thread other than the leader takes the leader's pid. */
    pthread_mutex_lock(&box->tasklist);
    struct task *old = p->leader;
    if (old != t) {
        pid_unlink_task(box, old);
        list_del(&t->tid_node);
        task_put(t); /* the table's reference, taken again below */
        box->nr_tasks--;
        box->forks--;
        t->tid = p->pid;
        pid_link_task(box, t);
        p->leader = t;
    }
    pthread_mutex_unlock(&box->tasklist);
    return 0;
}
