/* The init process the sandbox starts with. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/process.h"

/* ---- the init process ---- */

struct task *process_new_init(struct sandbox *box)
{
    struct process *p = process_alloc(box);
    struct task *t = p ? task_alloc(p) : NULL;
    struct mm *mm = mm_new();
    struct sighand *sh = sighand_new();
    struct fdtable *ft = fdtable_new();
    if (p)
        process_put(p); /* the task holds it now */
    if (!t || !mm || !sh || !ft) {
        mm_put(mm);
        sighand_put(sh);
        fdtable_put(ft);
        task_put(t);
        return NULL;
    }
    p->mm = mm;
    p->sighand = sh;
    p->files = ft;
    p->pid = p->pgid = p->sid = 1;
    t->tid = 1;
    p->leader = t;
    for (int i = 0; i < GUEST_RLIM_NLIMITS; i++) {
        struct rlimit rl;
        if (getrlimit(i, &rl) == 0)
            p->rlim[i] = (struct guest_rlimit){ rl.rlim_cur, rl.rlim_max };
        else
            p->rlim[i] = (struct guest_rlimit){ RLIM_INFINITY, RLIM_INFINITY };
    }
    for (int fd = 0; fd < 3; fd++) {
        struct file *f = hoststream_open(fd);
        if (f)
            fd_install_at(ft, fd, f, 0);
    }
    pthread_mutex_lock(&box->tasklist);
    process_get(p); /* the pid table's */
    pid_link_process(box, p);
    pid_link_task(box, t);
    list_add_tail(&p->threads, &t->thread_node);
    task_get(t); /* the thread list's */
    p->nr_live = 1;
    box->init = p;
    pthread_mutex_unlock(&box->tasklist);
    return t;
}
