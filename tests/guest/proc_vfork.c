/* proc_vfork.c: vfork shares the parent's memory and suspends the parent
 * until the child calls _exit or execve (the parent sees everything the
 * child wrote before either, and nothing after an execve); posix_spawn
 * (musl and glibc build it on CLONE_VM|CLONE_VFORK) with file actions,
 * a signal mask, SIG_DFL resets and a process group, and its report of an
 * exec failure; a vfork parent killed while its child runs (the child goes
 * on). Built with musl and glibc (proc_vfork.glibc). The program
 * is also its own spawned child: argv[1] picks the role. */
#include "proc_util.h"

#include <spawn.h>

extern char **environ;

static volatile int shared_var;

/* The spawned role: report on stdout what it inherited. */
static int role_spawned(int argc, char **argv)
{
    out("spawned: argc %d argv[2] %s\n", argc, argc > 2 ? argv[2] : "-");
    sigset_t m;
    sigprocmask(SIG_BLOCK, 0, &m);
    out("spawned: SIGUSR2 %s\n", sigismember(&m, SIGUSR2) ? "blocked" : "not blocked");
    struct sigaction sa;
    sigaction(SIGTERM, 0, &sa);
    out("spawned: SIGTERM %s\n", sa.sa_handler == SIG_IGN ? "ignored" : "default");
    out("spawned: %s\n", getpgrp() == getpid() ? "leads its own group" : "in its parent's group");
    out("spawned: fd 5 %s\n", fcntl(5, F_GETFD) < 0 ? "closed" : "open");
    return 17;
}

static void test_vfork(const char *self)
{
    shared_var = 0;
    long me = getpid();
    pid_t pid = vfork();
    if (pid < 0) {
        out("FAIL vfork -> -%s: giving up\n", errno_name(errno));
        _exit(1);
    }
    if (pid == 0) {
        /* The parent is suspended: these writes are seen in order. */
        shared_var = 1;
        sc(SYS_getpid);
        shared_var = sc(SYS_getppid) == me ? 2 : -1;
        sc(SYS_exit, 3);
    }
    /* Back here only once the child has exited. */
    check(shared_var == 2, "vfork: the parent ran only after the child's _exit (%d)", shared_var);
    check_wait(pid, "exited 3", "vfork child");

    shared_var = 0;
    int p[2];
    pipe(p);
    static char *args[4];
    args[0] = (char *)self;
    args[1] = "exec";
    args[2] = NULL;
    pid = vfork();
    if (pid == 0) {
        shared_var = 5;
        sc(SYS_dup2, p[1], 1);
        sc(SYS_execve, self, args, environ);
        sc(SYS_exit, 127);
    }
    /* Resumed at the child's execve: what it wrote before is here. */
    check(shared_var == 5, "vfork + execve: the child's write before execve is seen");
    close(p[1]);
    char buf[64] = { 0 };
    long n = 0, r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
        n += r;
    close(p[0]);
    check(strcmp(buf, "exec role ran\n") == 0, "the exec'd child wrote through the pipe");
    check_wait(pid, "exited 4", "vfork + execve child");
    check(shared_var == 5, "... and nothing the new image did touched the parent");

    /* An execve that fails returns to the vfork child, still sharing. */
    pid = vfork();
    if (pid == 0) {
        shared_var = (int)sc(SYS_execve, "/nonexistent", args, environ);
        sc(SYS_exit, 9);
    }
    check(shared_var == -ENOENT, "a failed execve in the vfork child returned -ENOENT");
    check_wait(pid, "exited 9", "vfork child after a failed execve");
}

static void test_spawn(const char *self)
{
    pid_t pid;
    char *args[] = { (char *)self, "spawned", "arg", NULL };
    int p[2];
    pipe(p);
    int five = dup2(p[0], 5); /* open in the parent, closed by a file action */
    check(five == 5, "dup2 to fd 5");

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, 5);
    posix_spawnattr_init(&at);
    sigset_t m, def;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    sigemptyset(&def);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigmask(&at, &m);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    signal(SIGTERM, SIG_IGN);
    int r = posix_spawn(&pid, self, &fa, &at, args, environ);
    check_ret(r, 0, "posix_spawn with file actions and attributes");
    close(p[1]);
    close(5);
    char buf[512] = { 0 };
    long n = 0, k;
    while ((k = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
        n += k;
    close(p[0]);
    out("%s", buf);
    check_wait(pid, "exited 17", "posix_spawned child");

    /* Without attributes: the ignored SIGTERM stays ignored, same group. */
    pipe(p);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    r = posix_spawn(&pid, self, &fa, NULL, args, environ);
    check_ret(r, 0, "posix_spawn without attributes");
    close(p[1]);
    memset(buf, 0, sizeof buf);
    n = 0;
    while ((k = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
        n += k;
    close(p[0]);
    out("%s", buf);
    check_wait(pid, "exited 17", "posix_spawned child, no attributes");
    signal(SIGTERM, SIG_DFL);

    /* An exec failure comes back as posix_spawn's error; the child that
     * tried is reaped by posix_spawn (glibc) or left to wait for (musl:
     * it exits 127): either way, no child is left once waited. */
    pid = -1;
    r = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, args, environ);
    check_ret(r, ENOENT, "posix_spawn of a missing program");
    int st;
    while (wait_raw(-1, &st, 0) > 0)
        ;
    check_err(sc(SYS_wait4, -1, &st, WNOHANG, 0), ECHILD, "no child left behind");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
}

/* The vfork parent killed while its child runs: the parent dies at once,
 * and the child goes on, an orphan, until it ends by itself. */
static void test_parent_killed(void)
{
    int p[2];
    pid_t mid = fork_piped(p, NULL);
    if (mid == 0) {
        pid_t me = getpid();
        if (vfork() == 0) {
            char b = 'r';
            if (write(p[1], &b, 1) != 1)
                _exit(1);
            while (getppid() == me)
                ; /* until the parent is gone */
            b = 'o';
            if (write(p[1], &b, 1) != 1)
                _exit(1);
            _exit(0);
        }
        _exit(3); /* never: the parent is killed while it waits */
    }
    char b = 0;
    check(read(p[0], &b, 1) == 1 && b == 'r', "the vfork child runs");
    kill(mid, SIGKILL);
    int st = 0;
    check(waitpid(mid, &st, 0) == mid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
          "the waiting parent dies of SIGKILL");
    b = 0;
    check(read(p[0], &b, 1) == 1 && b == 'o', "its child goes on as an orphan");
    close(p[0]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "spawned") == 0)
        return role_spawned(argc, argv);
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        shared_var = 99; /* the new image's own memory */
        out("exec role ran\n");
        return 4;
    }
    test_vfork(argv[0]);
    test_spawn(argv[0]);
    test_parent_killed();
    return finish();
}
