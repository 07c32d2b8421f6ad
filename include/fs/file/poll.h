/* The poll table and poll_wait, for files' poll operations and the
 * readiness syscalls (src/fs/sys_poll.c). */
#ifndef FS_POLL_H
#define FS_POLL_H

#include <stddef.h>

struct file;
struct task;
struct waiter;
struct waitq;

struct poll_table {
    struct task *t;    /* who waits */
    struct waiter **w; /* each allocated alone: queues link them by address */
    size_t n, cap;
    int oom; /* a hook failed: the caller must not sleep on the table */
    /* Set: poll_wait calls it instead of hooking a task waiter (epoll
     * hooks callback waiters of its own). */
    void (*qproc)(struct poll_table *pt, struct waitq *wq);
    void *priv;
};

void poll_table_init(struct poll_table *pt, struct task *t);
/* Unhook the waiter from every queue and free the table's memory. */
void poll_table_free(struct poll_table *pt);
/* poll: hook the polling task on wq (a no-op when pt is NULL). */
void poll_wait(struct poll_table *pt, struct waitq *wq);
/* The events of f (its poll operation, else always ready); with pt, hook
 * the caller as poll_wait does. */
unsigned file_poll(struct file *f, struct poll_table *pt);

#endif
