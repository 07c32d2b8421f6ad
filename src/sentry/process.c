/* Processes: the init process the sandbox starts with, its teardown, and
 * the end of a thread group. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"
#include "sentry/process.h"

void task_exit_group(struct task *t, int wstatus)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    t->exiting = 1;
    t->exit_code = wstatus;
    if (p == box->init) {
        int status;
        if (WIFEXITED(wstatus))
            status = WEXITSTATUS(wstatus);
        else
            status = 128 + WTERMSIG(wstatus);
        pthread_mutex_lock(&box->lock);
        box->exit_status = status;
        pthread_mutex_unlock(&box->lock);
    }
    mm_kill(p->mm);
}

struct process *process_new_init(struct sandbox *box)
{
    struct process *p = calloc(1, sizeof(*p));
    struct mm *mm = calloc(1, sizeof(*mm));
    struct sighand *sh = calloc(1, sizeof(*sh));
    struct fdtable *ft = fdtable_new();
    if (!p || !mm || !sh || !ft) {
        free(p);
        free(mm);
        free(sh);
        fdtable_put(ft);
        return NULL;
    }
    p->pid = 1;
    p->ppid = 0;
    p->sandbox = box;
    p->umask = 022;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    p->start_time = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    for (int i = 0; i < GUEST_RLIM_NLIMITS; i++) {
        struct rlimit rl;
        if (getrlimit(i, &rl) == 0)
            p->rlim[i] = (struct guest_rlimit){ rl.rlim_cur, rl.rlim_max };
        else
            p->rlim[i] = (struct guest_rlimit){ RLIM_INFINITY, RLIM_INFINITY };
    }
    pthread_mutex_init(&mm->lock, NULL);
    vma_set_init(&mm->vmas);
    p->mm = mm;
    pthread_mutex_init(&sh->lock, NULL);
    sh->refs = 1;
    p->sighand = sh;
    for (int fd = 0; fd < 3; fd++) {
        struct file *f = hoststream_open(fd);
        if (f)
            fd_install_at(ft, fd, f, 0);
    }
    p->files = ft;
    return p;
}

void process_free(struct process *p)
{
    if (!p)
        return;
    fdtable_put(p->files);
    fs_struct_put(p->fs);
    if (p->mm) {
        if (p->mm->exe_file)
            file_put(p->mm->exe_file);
        vma_set_free(&p->mm->vmas);
        pthread_mutex_destroy(&p->mm->lock);
        free(p->mm);
    }
    if (p->sighand) {
        pthread_mutex_destroy(&p->sighand->lock);
        free(p->sighand);
    }
    free(p);
}
