/* sandbox-run's command line, the set-up of the sandbox with its init
 * process, and the monitor that watches stub processes until the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <getopt.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/file.h"
#include "fs/setup.h"
#include "fs/vfs.h"
#include "loader/exec.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#ifndef SANDBOX_RUN_VERSION
#define SANDBOX_RUN_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2
#define EXIT_INTERNAL 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sandbox-run [OPTION...] -- PROGRAM [ARG...]\n"
            "Run a static x86-64 Linux program with every system call serviced by the sandbox.\n"
            "\n"
            "  --platform=NAME  how guest threads run: systrap (default) or ptrace\n"
            "  --strace         trace every guest system call on standard error\n"
            "  --root=DIR       host directory that is the guest's / (default /), read-only\n"
            "  --rw             make the root writable\n"
            "  --bind=SRC:DST[:ro]  mount host path SRC at DST in the guest (repeatable)\n"
            "  --tmpfs=DST[:size=N] mount an empty tmpfs at DST; N in bytes or with k, m, g\n"
            "  --cwd=DIR        the guest's working directory (default: the current one\n"
            "                   if the guest can see it, else /)\n"
            "  --no-aslr        no address-space randomisation: the guest starts with\n"
            "                   personality ADDR_NO_RANDOMIZE (as under setarch -R)\n"
            "  --help           show this help\n"
            "  --version        show the version\n"
            "\n"
            "Exit status: the guest's, or 128+N if it was killed by signal N;\n"
            "127 if PROGRAM is not found, 126 if it cannot be run, 125 if the sandbox\n"
            "failed (e.g. its stub process was killed from outside), 2 on a usage error.\n"
            "PROGRAM is looked up in the guest's file system: a name with a '/' from the\n"
            "guest's working directory, else in the guest's PATH.\n");
}

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
static int find_program(struct task *t, const char *name, char *const envp[], char *execfn, size_t cap,
                        struct file **out)
{
    if (!*name)
        return -ENOENT;
    if (strchr(name, '/')) {
        if (strlen(name) >= cap)
            return -ENAMETOOLONG;
        strcpy(execfn, name);
        return exec_open(t, AT_FDCWD, name, out);
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
            int r = exec_open(t, AT_FDCWD, execfn, out);
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
    struct exec_file *ef;
    char **argv;
};

static void finish(struct sandbox *sb)
{
    uint64_t one = 1;
    ssize_t r = write(sb->done_fd, &one, sizeof(one));
    (void)r;
}

static void *task_thread(void *arg)
{
    struct start_arg *sa = arg;
    struct task *t = sa->t;
    struct sandbox *sb = t->proc->sb;
    char err[256];
    int r = sb->plat->attach(t->ctx);
    if (r == 0)
        r = mm_adopt_stub(t);
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot start the guest: %s\n", strerror(-r));
        sb->exit_status = EXIT_INTERNAL;
        stub_kill(t->proc->mm->stub);
        finish(sb);
        return NULL;
    }
    r = exec_load(t, sa->ef, sa->argv, environ, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "sandbox-run: %s: %s\n", sa->ef->path, err);
        sb->exit_status = EXIT_NOEXEC;
        stub_kill(t->proc->mm->stub);
        finish(sb);
        return NULL;
    }
    task_run(t);
    finish(sb);
    return NULL;
}

static void free_process(struct process *p)
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

static struct fs_config *mounts_to_free;

static void free_mounts(void)
{
    struct fs_config *c = mounts_to_free;
    for (int i = 0; i < c->nmounts; i++)
        free(c->mounts[i].src ? c->mounts[i].src : c->mounts[i].dst);
    free(c->mounts);
}

/* --bind SRC:DST[:ro] or --tmpfs DST[:size=N]; one-line error on bad input. */
static int parse_mount(struct fs_config *c, int bind, const char *arg)
{
    struct mount_opt m = { 0 };
    char *s = strdup(arg);
    if (!s)
        return -1;
    char *opt = NULL;
    if (bind) {
        char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1]) {
            fprintf(stderr, "sandbox-run: --bind %s: expected SRC:DST[:ro]\n", arg);
            free(s);
            return -1;
        }
        *colon = 0;
        m.src = s;
        m.dst = colon + 1;
        opt = strchr(m.dst, ':');
        if (opt) {
            *opt++ = 0;
            if (strcmp(opt, "ro") == 0)
                m.ro = 1;
            else if (strcmp(opt, "rw") != 0) {
                fprintf(stderr, "sandbox-run: --bind %s: unknown option '%s' (ro or rw)\n", arg, opt);
                free(s);
                return -1;
            }
        }
        if (access(m.src, F_OK) != 0) {
            fprintf(stderr, "sandbox-run: --bind %s: %s\n", m.src, strerror(errno));
            free(s);
            return -1;
        }
    } else {
        m.dst = s;
        opt = strchr(s, ':');
        if (opt) {
            *opt++ = 0;
            char *end;
            if (strncmp(opt, "size=", 5) != 0 || !opt[5]) {
                fprintf(stderr, "sandbox-run: --tmpfs %s: expected DST[:size=N]\n", arg);
                free(s);
                return -1;
            }
            errno = 0;
            unsigned long long n = strtoull(opt + 5, &end, 10);
            int shift = 0;
            if (*end == 'k' || *end == 'K')
                shift = 10;
            else if (*end == 'm' || *end == 'M')
                shift = 20;
            else if (*end == 'g' || *end == 'G')
                shift = 30;
            if (shift)
                end++;
            if (errno || *end || n == 0 || n > (1ULL << 50) >> shift) {
                fprintf(stderr, "sandbox-run: --tmpfs %s: bad size '%s'\n", arg, opt + 5);
                free(s);
                return -1;
            }
            m.size = n << shift;
        }
    }
    if (m.dst[0] != '/') {
        fprintf(stderr, "sandbox-run: %s %s: the guest path must be absolute\n", bind ? "--bind" : "--tmpfs", arg);
        free(s);
        return -1;
    }
    struct mount_opt *v = realloc(c->mounts, (size_t)(c->nmounts + 1) * sizeof(*v));
    if (!v) {
        free(s);
        return -1;
    }
    c->mounts = v;
    c->mounts[c->nmounts++] = m;
    return 0;
}

static struct process *make_init(struct sandbox *sb)
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
    p->sb = sb;
    p->umask = 022;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    p->start_time = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    if (creds_init_host(&p->creds) < 0) {
        free(p);
        free(mm);
        free(sh);
        fdtable_put(ft);
        return NULL;
    }
    creds_init_caps(&p->creds);
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

int main(int argc, char **argv)
{
    const char *platname = "systrap";
    int strace = 0, no_aslr = 0;
    static struct fs_config fsc = { .root = "/" };
    mounts_to_free = &fsc;
    atexit(free_mounts);
    static const struct option opts[] = {
        { "platform", required_argument, NULL, 'p' },
        { "strace", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "root", required_argument, NULL, 'r' },
        { "rw", no_argument, NULL, 'w' },
        { "bind", required_argument, NULL, 'b' },
        { "tmpfs", required_argument, NULL, 't' },
        { "cwd", required_argument, NULL, 'c' },
        { "no-aslr", no_argument, NULL, 'A' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            platname = optarg;
            break;
        case 's':
            strace = 1;
            break;
        case 'r':
            fsc.root = optarg;
            break;
        case 'w':
            fsc.rw = 1;
            break;
        case 'b':
        case 't':
            if (parse_mount(&fsc, c == 'b', optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'c':
            fsc.cwd = optarg;
            break;
        case 'A':
            no_aslr = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("sandbox-run %s\n", SANDBOX_RUN_VERSION);
            return 0;
        default:
            if (optopt && optopt != '?')
                fprintf(stderr, "sandbox-run: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "sandbox-run: unknown option or missing argument: %s\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    const struct platform *plat = platform_by_name(platname);
    if (!plat) {
        fprintf(stderr, "sandbox-run: unknown platform '%s' (systrap or ptrace)\n", platname);
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "sandbox-run: no program given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    char **gargv = &argv[optind];

    struct exec_file ef = { 0 };
    char err[256];
    int r;

    signal(SIGPIPE, SIG_IGN);
    r = stub_host_init();
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot prepare the stub: %s\n", strerror(-r));
        return EXIT_INTERNAL;
    }

    struct sandbox sb;
    memset(&sb, 0, sizeof(sb));
    pthread_mutex_init(&sb.lock, NULL);
    sb.plat = plat;
    sb.strace = strace;
    sb.next_pid = 2;
    sb.done_fd = eventfd(0, EFD_CLOEXEC);
    struct process *init = make_init(&sb);
    struct task *t = calloc(1, sizeof(*t));
    if (sb.done_fd < 0 || !init || !t) {
        fprintf(stderr, "sandbox-run: out of memory\n");
        return EXIT_INTERNAL;
    }
    sb.init = init;
    t->proc = init;
    t->tid = init->pid;
    /* Address-space randomisation unless asked not to, here or by
     * sandbox-run's own personality (setarch -R). */
    int host_pers = personality(0xffffffff);
    if (no_aslr || (host_pers != -1 && (host_pers & ADDR_NO_RANDOMIZE)))
        init->personality |= ADDR_NO_RANDOMIZE;

    /* The guest's file system; the guest starts where sandbox-run was
     * started if it can see that directory. */
    r = vfs_setup(&fsc, &init->fs, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "sandbox-run: %s\n", err);
        return EXIT_INTERNAL;
    }
    {
        char cwd[PATH_MAX];
        const char *want = fsc.cwd ? fsc.cwd : getcwd(cwd, sizeof(cwd));
        struct path p;
        r = want ? vfs_lookup(t, AT_FDCWD, want, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p) : -ENOENT;
        if (r == 0) {
            path_put(&init->fs->cwd);
            init->fs->cwd = p;
        } else if (fsc.cwd) {
            fprintf(stderr, "sandbox-run: --cwd %s: %s\n", fsc.cwd, strerror(-r));
            return EXIT_USAGE;
        }
    }
    /* PROGRAM, found and read in the guest's file system. */
    {
        char execfn[PATH_MAX];
        struct file *prog = NULL;
        r = find_program(t, gargv[0], environ, execfn, sizeof(execfn), &prog);
        if (r < 0) {
            fprintf(stderr, "sandbox-run: %s: %s\n", gargv[0], strerror(-r));
        } else {
            r = exec_read(prog, execfn, &ef, err, sizeof(err));
            file_put(prog);
            if (r < 0)
                fprintf(stderr, "sandbox-run: %s: %s\n", gargv[0], err);
        }
        if (r < 0) {
            exec_file_free(&ef);
            free(t);
            free_process(init);
            close(sb.done_fd);
            return r == -ENOENT || r == -ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC;
        }
    }
    /* The command name is the file name's last component, as execve sets it. */
    const char *slash = strrchr(ef.path, '/');
    const char *base = slash ? slash + 1 : ef.path;
    size_t clen = strnlen(base, sizeof(init->comm) - 1);
    memcpy(init->comm, base, clen);
    init->comm[clen] = 0;

    struct stub *stub;
    r = plat->stub_create(&stub, &t->ctx);
    if (r < 0) {
        fprintf(stderr, "sandbox-run: cannot start a stub process: %s\n", strerror(-r));
        return EXIT_INTERNAL;
    }
    init->mm->stub = stub;

    struct start_arg sa = { t, &ef, gargv };
    if (pthread_create(&t->thread, NULL, task_thread, &sa) != 0) {
        fprintf(stderr, "sandbox-run: cannot create a thread\n");
        stub_kill(stub);
        return EXIT_INTERNAL;
    }

    /* Monitor: notice the stub's death (so no sentry thread waits on a dead
     * stub) and the end of the init process. */
    int stub_alive = 1;
    for (;;) {
        struct pollfd pfd[2] = { { sb.done_fd, POLLIN, 0 }, { stub->pidfd, POLLIN, 0 } };
        int n = poll(pfd, stub_alive && stub->pidfd >= 0 ? 2 : 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (pfd[0].revents)
            break;
        if (stub_alive && pfd[1].revents) {
            siginfo_t si;
            memset(&si, 0, sizeof(si));
            /* Under ptrace the tracer may have reaped it already; then it
             * records the status. */
            if (waitid(P_PIDFD, (id_t)stub->pidfd, &si, WEXITED) == 0)
                stub_mark_dead(stub, si.si_code == CLD_EXITED ? (si.si_status << 8) : si.si_status);
            stub_alive = 0;
        }
    }
    pthread_join(t->thread, NULL);
    if (stub_alive) {
        stub_kill(stub);
        siginfo_t si;
        waitid(P_PIDFD, (id_t)stub->pidfd, &si, WEXITED);
    }
    exec_file_free(&ef);
    int status = sb.exit_status;
    stub_free(stub);
    free(t->ctx);
    free(t);
    free_process(init);
    close(sb.done_fd);
    pthread_mutex_destroy(&sb.lock);
    return status;
}
