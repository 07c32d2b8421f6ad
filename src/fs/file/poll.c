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

/* Unhook the waiters from index `from` on. */
static void unhook_from(struct poll_table *pt, size_t from)
{
    for (size_t i = from; i < pt->n; i++) {
        waitq_remove(pt->w[i]);
        if (i >= POLL_INLINE_WAITERS)
            free(pt->w[i]);
    }
    pt->n = from;
}

void poll_table_free(struct poll_table *pt)
{
    unhook_from(pt, 0);
    if (pt->w != pt->w_inline)
        free(pt->w);
    for (size_t i = 0; i < pt->nfiles; i++)
        file_put(pt->files[i]);
    if (pt->files != pt->files_inline)
        free(pt->files);
}

/* Hold f for as long as the table's waiters are on its queues. */
static int keep_file(struct poll_table *pt, struct file *f)
{
    if (!pt->files) {
        pt->files = pt->files_inline;
        pt->fcap = POLL_INLINE_WAITERS;
    }
    if (pt->nfiles == pt->fcap) {
        size_t cap = pt->fcap * 2;
        struct file **v = pt->files == pt->files_inline ? malloc(cap * sizeof(*v))
                                                        : realloc(pt->files, cap * sizeof(*v));
        if (!v)
            return -1;
        if (pt->files == pt->files_inline)
            memcpy(v, pt->files_inline, sizeof(pt->files_inline));
        pt->files = v;
        pt->fcap = cap;
    }
    file_get(f);
    pt->files[pt->nfiles++] = f;
    return 0;
}

unsigned file_poll(struct file *f, struct poll_table *pt)
{
    if (!f->ops->poll)
        return DEFAULT_POLLMASK;
    size_t hooked = pt ? pt->n : 0;
    unsigned m = f->ops->poll(f, pt);
    /* Waiters were hooked on f's queues (epoll's own hooks, through qproc,
     * are not counted here: its items go with the file's release). Without
     * a reference to hold f by, they come off again at once. */
    if (pt && pt->n > hooked && keep_file(pt, f) < 0) {
        unhook_from(pt, hooked);
        pt->oom = 1;
    }
    return m;
}
