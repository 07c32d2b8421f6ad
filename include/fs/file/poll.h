/* The poll table and poll_wait, for files' poll operations and the
 * readiness syscalls (src/fs/sys_poll.c). */
#ifndef FS_POLL_H
#define FS_POLL_H

#include <stddef.h>

#include "sched/wait.h"

struct file;
struct task;

/* The waiters a poll hooks without allocating: most polls wait on a few
 * queues. */
#define POLL_INLINE_WAITERS 8

struct poll_table {
    struct task *t;    /* who waits */
    struct waiter **w; /* every hooked waiter: queues link them by address */
    size_t n, cap;
    /* The first POLL_INLINE_WAITERS of them (the table does not move
     * while they are hooked), then each allocated alone. */
    struct waiter *w_inline[POLL_INLINE_WAITERS];
    struct waiter inline_w[POLL_INLINE_WAITERS];
    /* The files whose queues the waiters are on, one reference each (as
     * Linux's __pollwait takes one): a close by another thread while the
     * caller sleeps leaves them alive until the table is freed. */
    struct file **files;
    size_t nfiles, fcap;
    struct file *files_inline[POLL_INLINE_WAITERS];
    int oom; /* a hook failed: the caller must not sleep on the table */
    /* Set: poll_wait calls it instead of hooking a task waiter (epoll
     * hooks callback waiters of its own). */
    void (*qproc)(struct poll_table *pt, struct waitq *wq);
    void *priv;
};

void poll_table_init(struct poll_table *pt, struct task *t);
/* Unhook the waiter from every queue, drop the files the table holds and
 * free its memory. */
void poll_table_free(struct poll_table *pt);
/* poll: hook the polling task on wq (a no-op when pt is NULL). */
void poll_wait(struct poll_table *pt, struct waitq *wq);
/* The events of f (its poll operation, else always ready); with pt, hook
 * the caller as poll_wait does, and hold f while it is hooked. */
unsigned file_poll(struct file *f, struct poll_table *pt);

#endif
