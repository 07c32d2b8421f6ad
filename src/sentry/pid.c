/* The process model's objects: processes, tasks and signal-handler
 * tables with their reference counts, and the sandbox's pid namespace (the
 * process and task tables). The lock order is in sentry/kernel.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/file/fdtable.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/process.h"

/* ---- signal-handler tables ---- */

struct sighand *sighand_new(void)
{
    struct sighand *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return NULL;
    pthread_mutex_init(&sh->lock, NULL);
    sh->refs = 1;
    return sh;
}

struct sighand *sighand_copy(struct sighand *old)
{
    struct sighand *sh = sighand_new();
    if (!sh)
        return NULL;
    pthread_mutex_lock(&old->lock);
    memcpy(sh->act, old->act, sizeof(sh->act));
    pthread_mutex_unlock(&old->lock);
    return sh;
}

struct sighand *sighand_get(struct sighand *sh)
{
    __atomic_add_fetch(&sh->refs, 1, __ATOMIC_RELAXED);
    return sh;
}

void sighand_put(struct sighand *sh)
{
    if (!sh || __atomic_sub_fetch(&sh->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

/* ---- processes and tasks ---- */

struct process *process_get(struct process *p)
{
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void process_put(struct process *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    fdtable_put(p->files);
    fs_struct_put(p->fs);
    mm_put(p->mm);
    sighand_put(p->sighand);
    sigpending_flush(p, &p->shared_pending, ~0ULL);
    waitq_destroy(&p->wait_cont);
    waitq_destroy(&p->wait_chld);
    waitq_destroy(&p->wait_pidfd);
    pthread_cond_destroy(&p->exit_cv);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct task *task_get(struct task *t)
{
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void task_put(struct task *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    sleeper_destroy(&t->sleep);
    creds_put(t->cred);
    pthread_mutex_lock(&t->proc->lock);
    sigpending_flush(t->proc, &t->pending, ~0ULL);
    pthread_mutex_unlock(&t->proc->lock);
    process_put(t->proc);
    free(t->fp_inherit);
    free(t);
}

/* ---- pending signal sets (their use is signal.c's) ---- */

void sigpending_init(struct sigpending *sp)
{
    sp->set = 0;
    list_init(&sp->queue);
}

void sigqueue_free(struct process *p, struct sigqueue *q)
{
    list_del(&q->node);
    if (q->dequeued) { /* a timer's (ptimer.c): it stays the timer's */
        q->on = NULL;
        return;
    }
    p->sigq_count--;
    free(q);
}

void sigpending_flush(struct process *p, struct sigpending *sp, uint64_t which)
{
    list_for_each_safe (q, &sp->queue, struct sigqueue, node) {
        if (which & SIGBIT(q->info.signo))
            sigqueue_free(p, q);
    }
    sp->set &= ~which;
}

struct process *process_alloc(struct sandbox *box)
{
    struct process *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->refs = 1;
    p->sandbox = box;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->exit_cv, NULL);
    list_init(&p->threads);
    list_init(&p->children);
    list_init(&p->sibling);
    list_init(&p->pid_node);
    waitq_init(&p->wait_chld);
    waitq_init(&p->wait_pidfd);
    waitq_init(&p->wait_cont);
    sigpending_init(&p->shared_pending);
    p->exit_signal = 17; /* SIGCHLD */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    p->start_time = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    return p;
}

struct task *task_alloc(struct process *p)
{
    struct task *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->refs = 1;
    t->proc = process_get(p);
    list_init(&t->thread_node);
    list_init(&t->tid_node);
    sleeper_init(&t->sleep);
    sigpending_init(&t->pending);
    return t;
}

/* ---- the pid namespace ---- */

#define PID_MAX 4194304 /* the 64-bit kernel's PID_MAX_LIMIT */

/* In use as a tid, a process id, or a process group or session id (Linux
 * does not reuse a pid that names a group or session). Under tasklist. */
static int pid_in_use(struct sandbox *box, int pid)
{
    list_for_each (t, &box->tasks, struct task, tid_node)
        if (t->tid == pid)
            return 1;
    list_for_each (p, &box->procs, struct process, pid_node)
        if (p->pid == pid || p->pgid == pid || p->sid == pid)
            return 1;
    return 0;
}

int pid_alloc(struct sandbox *box)
{
    if (box->max_tasks && box->nr_tasks >= box->max_tasks)
        return -EAGAIN;
    for (int tries = 0; tries < PID_MAX; tries++) {
        int pid = box->next_pid;
        box->next_pid = pid + 1 >= PID_MAX ? 300 : pid + 1; /* as Linux's RESERVED_PIDS */
        if (!pid_in_use(box, pid))
            return pid;
    }
    return -EAGAIN;
}

/* Insert n into list h, ordered by key. */
#define SORTED_INSERT(h, n, type, member, keyf)                                                    \
    do {                                                                                           \
        struct list_node *at_ = (h);                                                               \
        list_for_each (e_, (h), type, member)                                                      \
            if (e_->keyf > (n)->keyf) {                                                            \
                at_ = &e_->member;                                                                 \
                break;                                                                             \
            }                                                                                      \
        list_add_before(&(n)->member, at_);                                                        \
    } while (0)

void pid_link_task(struct sandbox *box, struct task *t)
{
    SORTED_INSERT(&box->tasks, t, struct task, tid_node, tid);
    task_get(t);
    box->nr_tasks++;
    box->forks++;
}

void pid_link_process(struct sandbox *box, struct process *p)
{
    SORTED_INSERT(&box->procs, p, struct process, pid_node, pid);
}

void pid_unlink_task(struct sandbox *box, struct task *t)
{
    (void)box;
    if (!list_empty(&t->tid_node)) {
        list_del(&t->tid_node);
        task_put(t);
    }
}

struct process *pid_find_process(struct sandbox *box, int pid)
{
    struct process *found = NULL;
    pthread_mutex_lock(&box->tasklist);
    list_for_each (p, &box->procs, struct process, pid_node)
        if (p->pid == pid) {
            found = process_get(p);
            break;
        }
    pthread_mutex_unlock(&box->tasklist);
    return found;
}

struct task *pid_find_task_locked(struct sandbox *box, int tid)
{
    list_for_each (t, &box->tasks, struct task, tid_node)
        if (t->tid == tid)
            return t;
    return NULL;
}

struct task *pid_find_task(struct sandbox *box, int tid)
{
    pthread_mutex_lock(&box->tasklist);
    struct task *t = pid_find_task_locked(box, tid);
    if (t)
        task_get(t);
    pthread_mutex_unlock(&box->tasklist);
    return t;
}

int pid_next_process(struct sandbox *box, int after)
{
    int next = -1;
    pthread_mutex_lock(&box->tasklist);
    list_for_each (p, &box->procs, struct process, pid_node)
        if (p->pid > after) {
            next = p->pid;
            break;
        }
    pthread_mutex_unlock(&box->tasklist);
    return next;
}

int process_next_tid(struct process *p, int after)
{
    struct sandbox *box = p->sandbox;
    int next = -1;
    pthread_mutex_lock(&box->tasklist);
    list_for_each (t, &box->tasks, struct task, tid_node)
        if (t->proc == p && t->tid > after) {
            next = t->tid;
            break;
        }
    pthread_mutex_unlock(&box->tasklist);
    return next;
}

int process_ppid(struct process *p)
{
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int ppid = p->parent ? p->parent->pid : 0;
    pthread_mutex_unlock(&box->tasklist);
    return ppid;
}
