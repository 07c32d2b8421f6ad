/* execve and execveat: the new program is opened, its strings copied and
 * the program (with its #! interpreters and ELF interpreter) checked while
 * the old image is intact, so every error of those steps returns to the
 * caller; then the point of no return (exec_flush_old), and the loader
 * maps the new image into the emptied address space. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/lock.h"
#include "fs/pathop.h"
#include "loader/exec.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/ptimer.h"
#include "sentry/syscall.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* do_close_on_exec: each descriptor is closed as close(2) closes it, so
 * the process's POSIX locks on its file go too (fcntl(2): locks are kept
 * across execve, but any close of a descriptor of the file drops them). */
static void close_on_exec(struct task *t)
{
    struct fdtable *ft = t->proc->files;
    for (int fd = 0;; fd++) {
        pthread_mutex_lock(&ft->lock);
        int n = ft->n, close = fd < n && ft->fd[fd].f && ft->fd[fd].cloexec;
        pthread_mutex_unlock(&ft->lock);
        if (fd >= n)
            break;
        if (!close)
            continue;
        struct file *f = fd_get(ft, fd);
        if (f && fd_close(ft, fd) == 0 && f->inode)
            lock_release_posix(t->proc, f);
        if (f)
            file_put(f);
    }
}

/* flush_signal_handlers(t, 0): caught signals go back to SIG_DFL, ignored
 * ones stay ignored; flags, masks and restorers are cleared. The signal
 * mask and pending signals are kept. */
static void flush_signal_handlers(struct process *p)
{
    struct sighand *sh = p->sighand;
    pthread_mutex_lock(&sh->lock);
    for (int i = 0; i < GUEST_NSIG; i++) {
        struct guest_sigaction *ka = &sh->act[i];
        if (ka->handler != (uint64_t)(uintptr_t)SIG_IGN)
            ka->handler = (uint64_t)(uintptr_t)SIG_DFL;
        ka->flags = 0;
        ka->restorer = 0;
        ka->mask = 0;
    }
    pthread_mutex_unlock(&sh->lock);
}

int exec_flush_old(struct task *t)
{
    struct process *p = t->proc;
    /* de_thread: the other threads end; this one takes the leader's pid. */
    int r = process_de_thread(t);
    if (r < 0)
        return r;
    /* exec_mmap: an address space shared with another process (vfork,
     * CLONE_VM) stays with it and this process gets a fresh stub of its
     * own; one of its own is emptied in place. */
    if (__atomic_load_n(&p->mm->refs, __ATOMIC_ACQUIRE) > 1)
        r = mm_exec_private(t);
    else
        r = mm_exec_reset(t);
    if (r < 0)
        return r;
    /* mm_release: the thread's futex words and robust list lived in the
     * old image; a vfork parent waits no more. */
    t->clear_child_tid = 0;
    t->robust_list = 0;
    t->robust_len = 0;
    vfork_release(t);
    p->did_exec = 1;
    close_on_exec(t);
    flush_signal_handlers(p);
    ptimers_exec(p); /* exit_itimers: the POSIX timers go, the itimers stay */
    /* The alternate signal stack belonged to the old image. */
    t->sas_sp = t->sas_size = 0;
    t->sas_flags = 0;
    /* cap_bprm_creds_from_file for a file without set-id bits or file
     * capabilities (no_new_privs holds in the sandbox): the saved and file
     * system ids follow the effective ones; the capabilities execve gives. */
    struct creds *c = creds_prepare(t->cred);
    if (!c)
        return -ENOMEM;
    c->suid = c->fsuid = c->euid;
    c->sgid = c->fsgid = c->egid;
    creds_exec_caps(c);
    task_commit_creds(t, c);
    __atomic_store_n(&p->dumpable, 1, __ATOMIC_RELAXED);
    return 0;
}

static long do_execveat(struct task *t, int dirfd, uint64_t upath, uint64_t uargv, uint64_t uenvp,
                        int flags)
{
    char *name = malloc(PATH_MAX_LEN + 32);
    if (!name)
        return -ENOMEM;
    long r = getname(t, upath, name, flags & AT_EMPTY_PATH);
    struct file *f = NULL;
    if (r >= 0)
        r = exec_open(t, dirfd, name, flags, &f);
    if (r < 0) {
        free(name);
        return r;
    }
    /* alloc_bprm: a name relative to a descriptor is made up from it. */
    int fdpath = dirfd != AT_FDCWD && name[0] != '/';
    if (fdpath) {
        char *n = malloc(PATH_MAX_LEN + 32);
        if (!n) {
            free(name);
            file_put(f);
            return -ENOMEM;
        }
        if (name[0])
            snprintf(n, PATH_MAX_LEN + 32, "/dev/fd/%d/%s", dirfd, name);
        else
            snprintf(n, PATH_MAX_LEN + 32, "/dev/fd/%d", dirfd);
        free(name);
        name = n;
    }
    struct exec_prog bp;
    r = exec_init(&bp, f, name);
    free(name);
    if (fdpath) {
        bp.fdpath = 1;
        struct fdtable *ft = t->proc->files;
        pthread_mutex_lock(&ft->lock);
        bp.path_inaccessible = dirfd >= 0 && dirfd < ft->n && ft->fd[dirfd].cloexec;
        pthread_mutex_unlock(&ft->lock);
    }
    char err[256];
    if (r == 0)
        r = exec_args_guest(t, &bp, uargv, uenvp);
    if (r == 0)
        r = exec_prepare(t, &bp, err, sizeof(err));
    if (r < 0) {
        exec_prog_free(&bp);
        return r;
    }
    bp.secure = t->cred->euid != t->cred->uid || t->cred->egid != t->cred->gid;

    /* The point of no return: from here a failure ends the process, as
     * Linux's bprm_execve does with force_fatal_sig(SIGSEGV). */
    r = exec_flush_old(t);
    if (r == 0) {
        exec_comm(&bp, t->proc->comm);
        r = exec_load(t, &bp, err, sizeof(err));
    }
    exec_prog_free(&bp);
    if (r < 0) {
        task_exit_group(t, sig_death_status(t->proc, SIGSEGV));
        return 0;
    }
    return 0;
}

SYSCALL_DEFINE3(execve, uint64_t, pathname, uint64_t, argv, uint64_t, envp)
{
    return do_execveat(t, AT_FDCWD, pathname, argv, envp, 0);
}

SYSCALL_DEFINE5(execveat, int, dirfd, uint64_t, pathname, uint64_t, argv, uint64_t, envp, int,
                flags)
{
    return do_execveat(t, dirfd, pathname, argv, envp, flags);
}
