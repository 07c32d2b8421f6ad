/* proc_exec.c: fork + execve of this very program (argv[0], which the
 * harness makes absolute) in a second role chosen by argv[1]: argv and
 * envp arrive exactly as given (empty strings and spaces too), pid and
 * ppid are kept, close-on-exec descriptors are gone and the others open
 * at their offsets, handled signals are reset to SIG_DFL while ignored
 * ones stay ignored and the mask is kept, the exit status of the new
 * image reaches the parent; a "#!" script naming this program as its
 * interpreter; execve from a thread that is not the leader (the other
 * threads go, the execing one takes the leader's pid); and execve's
 * errors, which return to the caller: ENOENT, EACCES, ENOEXEC, EFAULT. */
#include "proc_util.h"

#include <sys/stat.h>

extern char **environ;

static const char *self;

/* The second role: print what the new image received, then exit 42. */
static int role_show(int argc, char **argv)
{
    out("exec'd: argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        out("exec'd: argv[%d] \"%s\"\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++, n++)
        out("exec'd: env \"%s\"\n", *e);
    out("exec'd: %d environment strings\n", n);
    return 42;
}

/* After exec: pid, ppid, descriptors and signals as the parent set up.
 * argv: self "after" PID PPID CLOEXEC_FD KEPT_FD */
static int role_after(char **argv)
{
    long pid = strtol(argv[2], 0, 10), ppid = strtol(argv[3], 0, 10);
    int cfd = atoi(argv[4]), kfd = atoi(argv[5]);
    check(getpid() == pid, "exec'd: same pid as before execve");
    check(getppid() == ppid, "exec'd: same parent");
    check_err(sc(SYS_fcntl, cfd, F_GETFD), EBADF, "exec'd: the O_CLOEXEC fd is closed");
    check_ret(sc(SYS_fcntl, kfd, F_GETFD), 0, "exec'd: the other fd is open, no FD_CLOEXEC");
    check_ret(sc(SYS_lseek, kfd, 0, SEEK_CUR), 3, "exec'd: ... at its offset 3");
    char buf[8] = { 0 };
    check_ret(sc(SYS_read, kfd, buf, 7), 4, "exec'd: ... reads on");
    struct sigaction sa;
    sigaction(SIGUSR1, 0, &sa);
    check(sa.sa_handler == SIG_DFL, "exec'd: the handled SIGUSR1 is back to SIG_DFL");
    sigaction(SIGUSR2, 0, &sa);
    check(sa.sa_handler == SIG_IGN, "exec'd: the ignored SIGUSR2 stays ignored");
    sigset_t m;
    sigprocmask(SIG_BLOCK, 0, &m);
    check(sigismember(&m, SIGTERM) && !sigismember(&m, SIGUSR1), "exec'd: the mask is kept");
    return g_failed ? 1 : 0;
}

/* After execve from a thread: one thread left, with the old pid. */
static int role_thread(char **argv)
{
    long pid = strtol(argv[2], 0, 10);
    check(getpid() == pid, "exec'd from a thread: the pid is the old leader's");
    check(sc(SYS_gettid) == pid, "exec'd from a thread: gettid == getpid");
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    int fd = (int)sc(SYS_open, path, O_RDONLY);
    char buf[4096] = { 0 };
    sc(SYS_read, fd, buf, sizeof buf - 1);
    sc(SYS_close, fd);
    char *t = strstr(buf, "\nThreads:");
    check(t && atoi(t + 9) == 1, "exec'd from a thread: Threads: 1");
    return g_failed ? 1 : 0;
}

static void test_args_env(void)
{
    char *args[] = { (char *)self, "show", "one", "two words", "", "-x", NULL };
    char *env[] = { "A=1", "B=two words", "EMPTY=", "NOEQUALS", NULL };
    pid_t pid = fork();
    if (pid == 0) {
        sc(SYS_execve, self, args, env);
        _exit(127);
    }
    check_wait(pid, "exited 42", "execve of self with arguments and environment");

    char *args0[] = { (char *)self, "show", NULL };
    char *env0[] = { NULL };
    if ((pid = fork()) == 0) {
        sc(SYS_execve, self, args0, env0);
        _exit(127);
    }
    check_wait(pid, "exited 42", "execve with an empty environment");
    if ((pid = fork()) == 0) {
        sc(SYS_execve, self, args0, NULL);
        _exit(127);
    }
    check_wait(pid, "exited 42", "execve with envp NULL");
}

static void never_run(int sig)
{
    (void)sig;
}

static void test_inherit(void)
{
    int fd = open("proc_exec.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "abcdefg", 7);
    lseek(fd, 3, SEEK_SET);
    int cfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char a[4][24];
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = { 0 };
        sa.sa_handler = never_run;
        sigaction(SIGUSR1, &sa, 0);
        signal(SIGUSR2, SIG_IGN);
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGTERM);
        sigprocmask(SIG_BLOCK, &m, 0);
        snprintf(a[0], sizeof a[0], "%ld", (long)getpid());
        snprintf(a[1], sizeof a[1], "%ld", (long)getppid());
        snprintf(a[2], sizeof a[2], "%d", cfd);
        snprintf(a[3], sizeof a[3], "%d", fd);
        char *args[] = { (char *)self, "after", a[0], a[1], a[2], a[3], NULL };
        sc(SYS_execve, self, args, environ);
        _exit(127);
    }
    check_wait(pid, "exited 0", "the exec'd image's checks");
    check(lseek(fd, 0, SEEK_CUR) == 7, "the shared offset moved on in the parent too");
    close(fd);
    close(cfd);
    unlink("proc_exec.dat");
}

static void test_script(void)
{
    /* #!INTERPRETER ARG: the kernel runs INTERPRETER ARG SCRIPT ARGS... */
    int fd = open("proc_exec.sh", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char line[4200];
    int n = snprintf(line, sizeof line, "#!%s show\nnot read by anyone\n", self);
    write(fd, line, (size_t)n);
    close(fd);
    char *args[] = { "proc_exec.sh", "script-arg", NULL };
    char *env[] = { "SCRIPT=1", NULL };
    pid_t pid = fork();
    if (pid == 0) {
        sc(SYS_execve, "./proc_exec.sh", args, env);
        _exit(127);
    }
    check_wait(pid, "exited 42", "a #! script run by this program");
    unlink("proc_exec.sh");
}

static int thread_exec(void *arg)
{
    char **args = arg;
    sc(SYS_execve, args[0], args, environ);
    return 127;
}

static void test_thread_exec(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        static char a[24];
        static char *args[4];
        static int ptid, ctid;
        snprintf(a, sizeof a, "%ld", (long)getpid());
        args[0] = (char *)self;
        args[1] = "thread";
        args[2] = a;
        long t = clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, thread_exec, args);
        if (t < 0)
            _exit(126);
        /* The leader waits for good: execve from the thread ends it. */
        for (;;)
            sc(SYS_pause);
    }
    check_wait(pid, "exited 0", "execve from a non-leader thread");
}

static void test_errors(void)
{
    char *args[] = { "x", NULL };
    check_err(sc(SYS_execve, "/nonexistent/program", args, environ), ENOENT,
              "execve of a missing file");
    int fd = open("proc_exec.noexec", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd,
          "\x7f"
          "ELF",
          4);
    close(fd);
    /* Root too: execution needs an x bit somewhere. */
    check_err(sc(SYS_execve, "proc_exec.noexec", args, environ), EACCES,
              "execve of a file without x bits");
    chmod("proc_exec.noexec", 0755);
    check_err(sc(SYS_execve, "proc_exec.noexec", args, environ), ENOEXEC,
              "execve of a truncated ELF file");
    fd = open("proc_exec.noexec", O_WRONLY | O_TRUNC);
    write(fd, "garbage\n", 8);
    close(fd);
    check_err(sc(SYS_execve, "proc_exec.noexec", args, environ), ENOEXEC,
              "execve of a file that is neither ELF nor #!");
    unlink("proc_exec.noexec");
    check_err(sc(SYS_execve, ".", args, environ), EACCES, "execve of a directory");
    check_err(sc(SYS_execve, BADPTR, args, environ), EFAULT, "execve with a bad path");
    check_err(sc(SYS_execve, self, BADPTR, environ), EFAULT, "execve with a bad argv");
    check_err(sc(SYS_execve, self, args, BADPTR), EFAULT, "execve with a bad envp");
    char *badargs[] = { "x", BADPTR, NULL };
    check_err(sc(SYS_execve, self, badargs, environ), EFAULT, "execve with a bad argv string");
    check_err(sc(SYS_execve, "", args, environ), ENOENT, "execve of \"\"");
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc > 1 && strcmp(argv[1], "show") == 0)
        return role_show(argc, argv);
    if (argc > 5 && strcmp(argv[1], "after") == 0)
        return role_after(argv);
    if (argc > 2 && strcmp(argv[1], "thread") == 0)
        return role_thread(argv);
    if (self[0] != '/') {
        out("run me by an absolute path\n");
        return 2;
    }
    test_args_env();
    test_inherit();
    test_script();
    test_thread_exec();
    test_errors();
    return finish();
}
