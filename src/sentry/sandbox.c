/* The sandbox's start-up and end: build the sandbox and its init process,
 * find and load the program, run the init task on its own thread, and
 * watch the stub process from the main thread until the init process is
 * gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/file/file.h"
#include "fs/pathop.h"
#include "fs/procfs/procfs.h"
#include "fs/setup.h"
#include "fs/vfs/vfs.h"
#include "ipc/ipc.h"
#include "loader/exec.h"
#include "platform/platform.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/sandbox.h"
#include "sentry/tty.h"

extern char **environ;

/* PATH in the environment the guest gets. */
static const char *env_path(char *const envp[])
{
    for (int i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return NULL;
}

/* PROGRAM as execvp finds it, in the guest's file system: a name with a
 * '/' is opened as it is (relative to the guest's working directory); a
 * bare name is tried in each directory of the guest's PATH (an empty entry
 * is the working directory). EACCES is remembered and the search goes on,
 * as it does past ENOENT, ENOTDIR, ESTALE, ENODEV and ETIMEDOUT; any other
 * error ends it. execfn gets the name that was opened: execve's filename,
 * so AT_EXECFN. Returns 0 with *out (a reference) or -errno. */
static int find_program(struct task *t, const char *name, char *const envp[], char *execfn,
                        size_t cap, struct file **out)
{
    if (!*name)
        return -ENOENT;
    if (strchr(name, '/')) {
        if (strlen(name) >= cap)
            return -ENAMETOOLONG;
        strcpy(execfn, name);
        return exec_open(t, AT_FDCWD, name, 0, out);
    }
    if (strlen(name) > NAME_MAX)
        return -ENAMETOOLONG;
    const char *path = env_path(envp);
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int saw_eacces = 0;
    for (;;) {
        const char *end = strchrnul(path, ':');
        size_t n = (size_t)(end - path);
        if (n + 1 + strlen(name) < cap) {
            snprintf(execfn, cap, "%.*s%s%s", (int)n, path, n ? "/" : "", name);
            int r = exec_open(t, AT_FDCWD, execfn, 0, out);
            switch (r) {
            case 0:
                return 0;
            case -EACCES:
                saw_eacces = 1;
                break;
            case -ENOENT:
            case -ENOTDIR:
            case -ESTALE:
            case -ENODEV:
            case -ETIMEDOUT:
                break;
            default:
                return r;
            }
        }
        if (!*end)
            break;
        path = end + 1;
    }
    return saw_eacces ? -EACCES : -ENOENT;
}

struct start_arg {
    struct task *t;
    struct exec_prog *bp;
};

/* The init task's thread: load the program into the fresh stub as an
 * execve would (once the stub's own mappings are gone), then run it like
 * any task. */
static void *init_thread(void *arg)
{
    struct start_arg *sa = arg;
    struct task *t = sa->t;
    struct sandbox *box = t->proc->sandbox;
    current_task = t;
    char err[256];
    int r = box->plat->attach(t->ctx);
    if (r == 0)
        r = mm_adopt_stub(t);
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot start the guest: %s\n", strerror(-r));
        box->exit_status = EXIT_INTERNAL;
        task_exit_group(t, SIGKILL);
    } else {
        r = exec_load(t, sa->bp, err, sizeof(err));
        if (r < 0) {
            fprintf(stderr, "sandbox-run: %s: %s\n", sa->bp->filename, err);
            box->exit_status = EXIT_NOEXEC;
            task_exit_group(t, SIGKILL);
        } else {
            task_run(t);
        }
    }
    task_exit(t);
    return NULL;
}

int sandbox_platform_known(const char *name)
{
    if (platform_by_name(name))
        return 1;
    fprintf(stderr, "sandbox-run: unknown platform '%s' (systrap or ptrace)\n", name);
    return 0;
}

/* The sandbox with its init process and task; EXIT_INTERNAL on failure. */
static void init_stopped(struct sandbox *box, int sig);

static int sandbox_init(struct sandbox *box, const struct sandbox_opts *o, struct task **tout)
{
    memset(box, 0, sizeof(*box));
    pthread_mutex_init(&box->lock, NULL);
    pthread_mutex_init(&box->tasklist, NULL);
    pthread_cond_init(&box->gone_cv, NULL);
    list_init(&box->procs);
    waitq_init(&box->wait_signalfd);
    list_init(&box->tasks);
    box->plat = platform_by_name(o->platform);
    box->strace = o->strace;
    box->next_pid = 2;
    box->max_tasks = o->max_procs;
    box->start_task = task_start;
    box->run_vfork_child = task_run_vfork_child;
    box->init_stopped = init_stopped;
    task_block_hook = task_blocking;
    /* System V IPC lies above procfs. */
    procfs_sysvipc_gen[PROCFS_SYSVIPC_MSG] = ipc_msg_proc_show;
    procfs_sysvipc_gen[PROCFS_SYSVIPC_SEM] = ipc_sem_proc_show;
    procfs_sysvipc_gen[PROCFS_SYSVIPC_SHM] = ipc_shm_proc_show;
    box->done_fd = eventfd(0, EFD_CLOEXEC);
    struct task *t = box->done_fd < 0 ? NULL : process_new_init(box);
    if (!t) {
        fprintf(stderr, "sandbox-run: out of memory\n");
        return EXIT_INTERNAL;
    }
    struct process *init = t->proc;
    if (tty_setup(box, t) < 0) {
        fprintf(stderr, "sandbox-run: out of memory\n");
        return EXIT_INTERNAL;
    }
    struct creds *cred = creds_alloc();
    if (!cred) {
        fprintf(stderr, "sandbox-run: out of memory\n");
        return EXIT_INTERNAL;
    }
    /* uid 0 inside the sandbox (with the host's groups when sandbox-run
     * runs as root, none otherwise), or --user's ids with no supplementary
     * groups; as if by an execve from Linux's init: root gets every
     * capability. The ids are the sentry's only: a guest root run by an
     * unprivileged user is refused by the host what the host refuses the
     * user, as in a user namespace. */
    int r = creds_init_host(cred);
    uint32_t uid = o->user_set ? o->uid : 0, gid = o->user_set ? o->gid : 0;
    if (r == 0 && (o->user_set || cred->uid != 0 || cred->gid != 0)) {
        cred->uid = cred->euid = cred->suid = cred->fsuid = uid;
        cred->gid = cred->egid = cred->sgid = cred->fsgid = gid;
        r = creds_set_groups(cred, NULL, 0);
    }
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot set the guest's ids: %s\n", strerror(-r));
        creds_put(cred);
        return EXIT_INTERNAL;
    }
    creds_init_caps(cred);
    t->cred = cred;
    init->dumpable = 1;
    /* The stub runs with no_new_privs (its seccomp filter needs it), and
     * the guest is told so. */
    t->no_new_privs = 1;
    /* The nice value sandbox-run runs with, as the ids: the guest's own
     * from then on (setpriority never changes the host's). */
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (errno == 0)
        t->nice = nice;
    /* --memory: every process inherits the limit and cannot raise it. */
    if (o->memory)
        init->rlim[RLIMIT_AS] = (struct guest_rlimit){ o->memory, o->memory };
    /* Address-space randomisation unless asked not to, here or by
     * sandbox-run's own personality (setarch -R). */
    int host_pers = personality(0xffffffff);
    if (o->no_aslr || (host_pers != -1 && (host_pers & ADDR_NO_RANDOMIZE)))
        init->personality |= ADDR_NO_RANDOMIZE;
    *tout = t;
    return 0;
}

/* The guest's file system; the guest starts where sandbox-run was started
 * if it can see that directory. 0 or sandbox-run's exit status. */
static int sandbox_fs(struct task *t, const struct fs_config *fsc)
{
    struct process *init = t->proc;
    char err[256];
    int r = vfs_setup(fsc, &init->fs, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "sandbox-run: %s\n", err);
        return EXIT_INTERNAL;
    }
    char cwd[PATH_MAX];
    const char *want = fsc->cwd ? fsc->cwd : getcwd(cwd, sizeof(cwd));
    struct path p;
    r = want ? task_lookup(t, AT_FDCWD, want, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p) : -ENOENT;
    if (r == 0) {
        path_put(&init->fs->cwd);
        init->fs->cwd = p;
    } else if (fsc->cwd) {
        fprintf(stderr, "sandbox-run: --cwd %s: %s\n", fsc->cwd, strerror(-r));
        return EXIT_USAGE;
    }
    return 0;
}

/* PROGRAM, found in the guest's file system and checked as execve checks
 * a program (its #! interpreters, its ELF interpreter), with argv from
 * the command line and sandbox-run's environment; the init process's
 * command name from it. 0 or sandbox-run's exit status. */
static int sandbox_program(struct task *t, char *const argv[], struct exec_prog *bp)
{
    char execfn[PATH_MAX], err[256];
    struct file *prog = NULL;
    const char *name = argv[0];
    int r = find_program(t, name, environ, execfn, sizeof(execfn), &prog);
    if (r < 0) {
        fprintf(stderr, "sandbox-run: %s: %s\n", name, strerror(-r));
        memset(bp, 0, sizeof(*bp));
    } else {
        r = exec_init(bp, prog, execfn);
        if (r == 0)
            r = exec_args_host(bp, t->proc->rlim[RLIMIT_STACK].cur, argv, environ);
        if (r < 0)
            snprintf(err, sizeof(err), "%s", strerror(-r));
        if (r == 0)
            r = exec_prepare(t, bp, err, sizeof(err));
        if (r < 0)
            fprintf(stderr, "sandbox-run: %s: %s\n", name, err);
    }
    if (r < 0)
        return r == -ENOENT || r == -ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
    exec_comm(bp, t->proc->comm);
    return 0;
}

/* Reap what is left in the tables once no task runs: zombies nobody
 * waited for (init among them), so that everything is freed. */
static void sandbox_reap_all(struct sandbox *box)
{
    for (;;) {
        pthread_mutex_lock(&box->tasklist);
        struct process *p = NULL;
        if (!list_empty(&box->procs)) {
            p = list_entry(box->procs.next, struct process, pid_node);
            p->state = PROC_REAPED;
            list_del(&p->sibling);
            list_del(&p->pid_node);
            list_for_each_safe (t, &box->tasks, struct task, tid_node)
                if (t->proc == p)
                    pid_unlink_task(box, t);
        }
        pthread_mutex_unlock(&box->tasklist);
        if (!p)
            break;
        process_put(p);
    }
}

/* ---- signals sent to sandbox-run ----
 * Blocked in every sentry thread from the start (threads inherit the
 * mask) and taken by one thread: each goes to the sandbox's pid 1, which
 * takes it if it handles or ignores it; otherwise sandbox-run takes the
 * default action itself, which ends the sandbox as the signal would end
 * pid 1. A second SIGINT or SIGTERM within 3 s ends the sandbox at once,
 * whatever pid 1 does with them.
 *
 * With a terminal (tty.c), what the terminal sends (Ctrl-C, Ctrl-\,
 * Ctrl-Z: si_code SI_KERNEL) goes to the guest's foreground group instead,
 * and SIGWINCH always does (without a terminal, to pid 1's group).
 *
 * Stops: the init stands for sandbox-run in the host's job control. A stop
 * signal (SIGTSTP from the terminal or kill) that reaches the init at its
 * default action stops the init's group; once the init has stopped,
 * sandbox-run stops itself with that signal, so that the host's shell
 * sees its job stopped; SIGCONT (the shell's fg or bg) continues
 * sandbox-run and then that group. SIGTTIN and SIGTTOU keep their
 * defaults: they come from the host terminal when sandbox-run itself is a
 * background job. */
static const int host_sigs[] = { SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
                                 SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT };

/* The init has stopped (box->init_stopped, from the stopping task's
 * thread): the signal thread is told, with the stop signal. */
#define SIG_SELFSTOP (SIGRTMIN + 1)

/* Those of them sandbox-run was not started with ignored: one ignored
 * (nohup, a script's background job) stays ignored, as it would have for
 * the program run without the sandbox. */
static void host_sigset(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < ARRAY_SIZE(host_sigs); i++) {
        struct sigaction old;
        if (sigaction(host_sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaddset(set, host_sigs[i]);
    }
    sigaddset(set, SIG_SELFSTOP);
}

/* Take sig's default action on sandbox-run itself (this thread has it
 * blocked, as every sentry thread). */
static void default_action(int sig)
{
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
}

static void die_of(int sig)
{
    tty_host_restore();
    default_action(sig);
}

static void init_stopped(struct sandbox *box, int sig)
{
    (void)box;
    union sigval v = { .sival_int = sig };
    sigqueue(getpid(), SIG_SELFSTOP, v);
}

/* The init has stopped (for a stop signal from the host, or one it sent
 * itself): stop sandbox-run with the same signal. When the host continues
 * sandbox-run (or drops the stop: an orphaned host group takes no
 * SIGTSTP), the SIGCONT that did it is taken here and the group that
 * stopped is continued. */
static void stop_self(struct sandbox *box, int sig, int pgid)
{
    if (sig == SIGSTOP)
        raise(SIGSTOP);
    else
        default_action(sig);
    sigset_t cont;
    sigemptyset(&cont);
    sigaddset(&cont, SIGCONT);
    struct timespec zero = { 0, 0 };
    sigtimedwait(&cont, NULL, &zero);
    signal_pgrp(box, pgid, SIGCONT);
}

/* The live init with a reference, or NULL; its group in *pgid. */
static struct process *init_get(struct sandbox *box, int *pgid)
{
    pthread_mutex_lock(&box->tasklist);
    struct process *init = box->init && box->init->state == PROC_ALIVE ? box->init : NULL;
    *pgid = init ? init->pgid : 0;
    if (init)
        process_get(init);
    pthread_mutex_unlock(&box->tasklist);
    return init;
}

static void *host_signal_thread(void *arg)
{
    struct sandbox *box = arg;
    sigset_t set;
    host_sigset(&set);
    struct timespec last = { 0, 0 };
    int stopped_pgid = 0; /* the group a host stop signal went to */
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue;
        int pgid;
        struct process *init = init_get(box, &pgid);
        if (!init)
            continue; /* ending anyway */
        if (sig == SIG_SELFSTOP) {
            if (si.si_code == SI_QUEUE && si.si_pid == getpid() &&
                __atomic_load_n(&init->job_state, __ATOMIC_RELAXED) == JOB_STOPPED)
                stop_self(box, si.si_value.sival_int, stopped_pgid ? stopped_pgid : pgid);
            stopped_pgid = 0;
            process_put(init);
            continue;
        }
        int fg = tty_foreground(box);
        int from_tty =
            fg && si.si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        /* Only what is sent to sandbox-run itself: the terminal's Ctrl-C
         * is for the foreground job, each time. */
        int again = !from_tty && (sig == SIGINT || sig == SIGTERM) && last.tv_sec &&
                    now.tv_sec - last.tv_sec < 3;
        int die = again;
        if (die) {
            /* the second within 3 s: at once, whatever pid 1 does */
        } else if (sig == SIGWINCH) {
            signal_pgrp(box, fg ? fg : pgid, sig);
        } else if (sig == SIGCONT) {
            /* sandbox-run goes on: so does what a host stop stopped. */
            if (stopped_pgid)
                signal_pgrp(box, stopped_pgid, SIGCONT);
            else
                signal_from_host(init, sig);
            stopped_pgid = 0;
        } else if (sig == SIGTSTP) {
            int to = from_tty ? fg : pgid;
            if (signal_pgrp_from_host(box, to, sig))
                stopped_pgid = to;
        } else if (from_tty) {
            die = signal_pgrp_from_host(box, fg, sig);
        } else {
            die = !signal_from_host(init, sig);
            if (!die && (sig == SIGINT || sig == SIGTERM))
                last = now;
        }
        process_put(init);
        if (die)
            die_of(sig);
    }
    return NULL;
}

/* Wait until pid 1 is gone, then (a little while at most) for every other
 * task to end, which pid 1's death has killed. */
static void sandbox_wait(struct sandbox *box)
{
    for (;;) {
        struct pollfd pfd = { box->done_fd, POLLIN, 0 };
        if (poll(&pfd, 1, -1) > 0)
            break;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&box->lock);
    while (!box->all_gone && pthread_cond_timedwait(&box->gone_cv, &box->lock, &dl) == 0)
        ;
    int all = box->all_gone;
    pthread_mutex_unlock(&box->lock);
    if (all)
        sandbox_reap_all(box);
}

int sandbox_run(const struct sandbox_opts *o)
{
    signal(SIGPIPE, SIG_IGN);
    sigset_t host_set, old_mask;
    host_sigset(&host_set);
    pthread_sigmask(SIG_BLOCK, &host_set, &old_mask);
    int r = stub_host_init();
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot prepare the stub: %s\n", strerror(-r));
        return EXIT_INTERNAL;
    }
    struct sandbox box;
    struct task *t = NULL;
    struct exec_prog bp;
    memset(&bp, 0, sizeof(bp));
    int status = sandbox_init(&box, o, &t);
    if (status == 0)
        status = sandbox_fs(t, &o->fs);
    if (status == 0)
        status = sandbox_program(t, o->argv, &bp);
    struct stub *stub = NULL;
    if (status == 0) {
        r = box.plat->stub_create(&stub, &t->ctx);
        if (r < 0) {
            fprintf(stderr, "sandbox-run: cannot start a stub process: %s\n", strerror(-r));
            status = EXIT_INTERNAL;
        }
    }
    if (status != 0) {
        exec_prog_free(&bp);
        if (t) {
            process_kill(t->proc, SIGKILL);
            task_exit(t);
            sandbox_reap_all(&box);
        }
        return status;
    }
    box.init->mm->stub = stub;
    struct start_arg sa = { t, &bp };
    pthread_t th;
    if (pthread_create(&th, NULL, init_thread, &sa) != 0) {
        fprintf(stderr, "sandbox-run: cannot create a thread\n");
        stub_kill(stub);
        return EXIT_INTERNAL;
    }
    pthread_detach(th);
    if (pthread_create(&th, NULL, host_signal_thread, &box) == 0)
        pthread_detach(th);
    else
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL); /* the defaults, then */
    sandbox_wait(&box);
    stub_host_fini();
    exec_prog_free(&bp);
    pthread_mutex_lock(&box.lock);
    status = box.exit_status;
    pthread_mutex_unlock(&box.lock);
    close(box.done_fd);
    tty_host_restore();
    return status;
}
