/* The poll table: what a poll, ppoll or select call waits on. A file's
 * poll operation reports readiness and, given a table, hooks the caller on
 * the wait queues that will announce a change (poll_wait). */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "sched/wait.h"

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

void poll_table_init(struct poll_table *pt, struct task *t)
{
    memset(pt, 0, sizeof(*pt));
    pt->t = t;
}

void poll_wait(struct poll_table *pt, struct waitq *wq)
{
    if (!pt || !wq)
        return;
    if (pt->qproc) {
        pt->qproc(pt, wq);
        return;
    }
    if (!pt->w) {
        pt->w = pt->w_inline;
        pt->cap = POLL_INLINE_WAITERS;
    }
    if (pt->n == pt->cap) {
        size_t cap = pt->cap * 2;
        struct waiter **v =
            pt->w == pt->w_inline ? malloc(cap * sizeof(*v)) : realloc(pt->w, cap * sizeof(*v));
        if (!v) {
            pt->oom = 1;
            return;
        }
        if (pt->w == pt->w_inline)
            memcpy(v, pt->w_inline, sizeof(pt->w_inline));
        pt->w = v;
        pt->cap = cap;
    }
    struct waiter *w = pt->n < POLL_INLINE_WAITERS ? &pt->inline_w[pt->n] : malloc(sizeof(*w));
    if (!w) {
        pt->oom = 1;
        return;
    }
    waiter_init_task(w, pt->t);
    waitq_add(wq, w);
    pt->w[pt->n++] = w;
}

void poll_table_free(struct poll_table *pt)
{
    for (size_t i = 0; i < pt->n; i++) {
        waitq_remove(pt->w[i]);
        if (i >= POLL_INLINE_WAITERS)
            free(pt->w[i]);
    }
    if (pt->w != pt->w_inline)
        free(pt->w);
}

unsigned file_poll(struct file *f, struct poll_table *pt)
{
    if (f->ops->poll)
        return f->ops->poll(f, pt);
    return DEFAULT_POLLMASK;
}
