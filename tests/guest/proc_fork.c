/* proc_fork.c: fork and wait4 as Linux answers them: pids and ppids seen
 * from both sides, wait statuses (exit codes, deaths by signal with the
 * core bit clear under RLIMIT_CORE 0), WNOHANG, ECHILD, rusage; what the
 * child shares with its parent (open file descriptions: one offset, one
 * set of status flags; pipes; MAP_SHARED memory) and what it gets a copy
 * of (descriptor flags, the descriptor table itself, MAP_PRIVATE memory,
 * globals). Built with musl and glibc (proc_fork.glibc: glibc's fork is a
 * clone with CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID). */
#include "proc_util.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>

static int global = 1;

static void test_ids(void)
{
    long me = getpid(), pp = getppid();
    int p[2];
    pipe(p);
    pid_t pid = fork_checked();
    if (pid == 0) {
        long mine = getpid();
        sc(SYS_write, p[1], &mine, sizeof mine);
        check(getppid() == me, "child: getppid is the parent's pid");
        check(getpid() != me, "child: its pid is not the parent's");
        check(sc(SYS_gettid) == mine, "child: gettid == getpid");
        /* A grandchild sees the child as its parent. */
        pid_t g = fork();
        if (g == 0)
            _exit(getppid() == mine ? 0 : 1);
        check_wait(g, "exited 0", "child: grandchild's getppid is the child");
        child_done();
    }
    /* The child prints: the parent only checks once it has waited. */
    long reported = 0;
    int got = read(p[0], &reported, sizeof reported) == sizeof reported;
    check_wait(pid, "exited 0", "child's own checks");
    check(pid > 0, "fork returns a pid to the parent");
    check(got && reported == pid, "fork's return value is the child's getpid");
    check(getpid() == me && getppid() == pp, "parent's ids unchanged");
    close_pipe(p);
}

static void test_status(void)
{
    int st = -1;
    struct rusage ru;
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    memset(&ru, 0xff, sizeof ru);
    check_eq(sc(SYS_wait4, pid, &st, 0, &ru), pid, "wait4 with rusage returns the pid");
    check(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status: exited 7 (%s)", status_name(st));
    check(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 &&
              ru.ru_stime.tv_usec < 1000000 && ru.ru_utime.tv_sec >= 0 && ru.ru_maxrss >= 0,
          "rusage filled in");

    /* Only the low 8 bits of the exit code survive. */
    if ((pid = fork()) == 0)
        _exit(256 + 5);
    check_wait(pid, "exited 5", "_exit(261)");
    if ((pid = fork()) == 0)
        exit(255);
    check_wait(pid, "exited 255", "exit(255)");

    /* Deaths by the default action of a signal; no core file. */
    if ((pid = fork()) == 0) {
        no_core();
        *(volatile int *)0 = 1;
        _exit(0);
    }
    check_wait(pid, "killed by SIGSEGV", "NULL write");
    if ((pid = fork()) == 0) {
        no_core();
        abort();
    }
    check_wait(pid, "killed by SIGABRT", "abort()");
    if ((pid = fork()) == 0) {
        no_core();
        __asm__ volatile("ud2");
        _exit(0);
    }
    check_wait(pid, "killed by SIGILL", "ud2");
    if ((pid = fork()) == 0) {
        sc(SYS_kill, sc(SYS_getpid), SIGTERM);
        _exit(0);
    }
    check_wait(pid, "killed by SIGTERM", "kill(self, SIGTERM)");
    /* SIGSEGV's action is a core dump: the raw status says 11 and, with
     * RLIMIT_CORE 0 and no core written, no 0x80 bit. */
    if ((pid = fork()) == 0) {
        no_core();
        *(volatile int *)0 = 1;
        _exit(0);
    }
    st = -1;
    wait_raw(pid, &st, 0);
    out("raw status of a SIGSEGV death under RLIMIT_CORE 0: %#x\n", st);
}

static void test_nohang_echild(void)
{
    int p[2], st = -1;
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        _exit(wait_byte(p[0]) == 0 ? 9 : 1); /* EOF when the parent closes */
    }
    close(p[0]);
    check_ret(sc(SYS_wait4, pid, &st, WNOHANG, 0), 0, "WNOHANG on a running child");
    check_ret(sc(SYS_wait4, -1, &st, WNOHANG, 0), 0, "WNOHANG, any child, one running");
    close(p[1]);
    check_wait(pid, "exited 9", "child saw EOF on the pipe");
    check_err(sc(SYS_wait4, -1, &st, 0, 0), ECHILD, "wait4(-1) without children");
    check_err(sc(SYS_wait4, -1, &st, WNOHANG, 0), ECHILD, "wait4(-1, WNOHANG) without children");
    check_err(sc(SYS_wait4, pid, &st, 0, 0), ECHILD, "wait4 of a reaped child");
    check_err(sc(SYS_wait4, getpid(), &st, 0, 0), ECHILD, "wait4 of self");
    check_err(sc(SYS_wait4, getppid(), &st, 0, 0), ECHILD, "wait4 of the parent");
    check_err(sc(SYS_wait4, -1, &st, 0x10000000, 0), EINVAL, "wait4 with an unknown option");
    check_err(sc(SYS_wait4, (int)0x80000000, &st, 0, 0), ESRCH, "wait4(INT_MIN)");

    /* A NULL status pointer is fine; a bad one is EFAULT, and the child
     * is reaped all the same. */
    if ((pid = fork()) == 0)
        _exit(0);
    check_eq(sc(SYS_wait4, pid, 0, 0, 0), pid, "wait4 with NULL status");
    if ((pid = fork()) == 0)
        _exit(0);
    check_err(sc(SYS_wait4, pid, BADPTR, 0, 0), EFAULT, "wait4 with a bad status pointer");
    check_err(sc(SYS_wait4, pid, &st, WNOHANG, 0), ECHILD, "... the child is gone anyway");

    /* Many children, reaped in the opposite order. */
    pid_t kids[20];
    for (int i = 0; i < 20; i++)
        if ((kids[i] = fork()) == 0)
            _exit(100 + i);
    int good = 1, distinct = 1;
    for (int i = 19; i >= 0; i--) {
        st = -1;
        if (wait_raw(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 100 + i)
            good = 0;
        for (int j = 0; j < i; j++)
            if (kids[j] == kids[i])
                distinct = 0;
    }
    check(good, "20 children, each reaped by pid with its own status");
    check(distinct, "20 distinct pids");
    /* wait4(-1) reaps them all, one each. */
    for (int i = 0; i < 5; i++)
        if ((kids[i] = fork()) == 0)
            _exit(i);
    int seen = 0;
    for (int i = 0; i < 5; i++) {
        long r = wait_raw(-1, &st, 0);
        for (int j = 0; j < 5; j++)
            if (r == kids[j] && WEXITSTATUS(st) == j)
                seen |= 1 << j;
    }
    check(seen == 31, "wait4(-1) five times reaps the five children");
    check_err(sc(SYS_wait4, -1, &st, 0, 0), ECHILD, "... then ECHILD");
}

static void test_files(void)
{
    int fd = open("proc_fork.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0, "create proc_fork.dat");
    write(fd, "AAAA", 4);
    pid_t pid = fork_checked();
    if (pid == 0) {
        check(lseek(fd, 0, SEEK_CUR) == 4, "child: inherited offset 4");
        write(fd, "BBBB", 4);
        /* Status flags live in the open file description: shared. */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
        /* Descriptor flags and the table itself: the child's own. */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int extra = open("/dev/null", O_RDONLY);
        check(extra > fd, "child: a new descriptor");
        child_done();
    }
    check_wait(pid, "exited 0", "child's own checks");
    check(lseek(fd, 0, SEEK_CUR) == 8, "parent: the child's write moved the shared offset to 8");
    check((fcntl(fd, F_GETFL) & O_APPEND) != 0, "parent: O_APPEND the child set is shared");
    check(fcntl(fd, F_GETFD) == 0, "parent: FD_CLOEXEC the child set is not");
    check(fcntl(fd + 1, F_GETFD) < 0 && errno == EBADF, "parent: the child's new fd is not here");
    lseek(fd, 0, SEEK_SET);
    write(fd, "CCCC", 4); /* O_APPEND: at the end despite the seek */
    char buf[32] = { 0 };
    check(pread(fd, buf, sizeof buf, 0) == 12 && strcmp(buf, "AAAABBBBCCCC") == 0,
          "file holds AAAABBBBCCCC");

    /* Separate opens with O_APPEND in two processes: both append. */
    int a = open("proc_fork.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    int p[2];
    pipe(p);
    if ((pid = fork()) == 0) {
        int b = open("proc_fork.log", O_WRONLY | O_APPEND);
        for (int i = 0; i < 50; i++)
            write(b, "child-line\n", 11);
        send_byte(p[1]);
        _exit(0);
    }
    wait_byte(p[0]);
    for (int i = 0; i < 50; i++)
        write(a, "parent-line\n", 12);
    check_wait(pid, "exited 0", "appending child");
    struct stat sb;
    fstat(a, &sb);
    check(sb.st_size == 50 * 11 + 50 * 12, "O_APPEND from two processes: %ld bytes",
          (long)sb.st_size);

    /* A child closing its copy leaves the parent's open. */
    if ((pid = fork()) == 0) {
        close(fd);
        _exit(fcntl(fd, F_GETFD) < 0 ? 0 : 1);
    }
    check_wait(pid, "exited 0", "child closed its copy");
    check(fcntl(fd, F_GETFD) == 0, "parent's copy still open");
    close(a);
    close(fd);
    close_pipe(p);
    unlink("proc_fork.log");
    unlink("proc_fork.dat");
}

static void test_pipes(void)
{
    int down[2], up[2];
    two_pipes(down, up);
    pid_t pid = fork();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        char c;
        /* Echo upper-cased until EOF. */
        while (read(down[0], &c, 1) == 1) {
            if (c >= 'a' && c <= 'z')
                c -= 32;
            write(up[1], &c, 1);
        }
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    write(down[1], "hello, pipe", 11);
    close(down[1]);
    char buf[32] = { 0 };
    size_t n = 0;
    long r;
    while ((r = read(up[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    check(strcmp(buf, "HELLO, PIPE") == 0, "round trip through a child: %s", buf);
    check(r == 0, "EOF once the child exits");
    check_wait(pid, "exited 0", "echo child");
    close(up[0]);

    /* A writer with no reader left anywhere dies of SIGPIPE (it writes
     * once the parent has closed its read end: go on pipe g). */
    int p[2], g[2];
    two_pipes(g, p);
    if ((pid = fork()) == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_DFL);
        wait_byte(g[0]);
        write(p[1], "x", 1);
        _exit(0);
    }
    close_pipe(p);
    send_byte(g[1]);
    check_wait(pid, "killed by SIGPIPE", "write to a pipe without readers");
    /* ... or gets EPIPE with SIGPIPE ignored. */
    pipe(p);
    if ((pid = fork()) == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        wait_byte(g[0]);
        _exit(sc(SYS_write, p[1], "x", 1) == -EPIPE ? 0 : 1);
    }
    close_pipe(p);
    send_byte(g[1]);
    check_wait(pid, "exited 0", "EPIPE with SIGPIPE ignored");
    close_pipe(g);
}

static void test_memory(void)
{
    volatile int *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile int *priv = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fd = open("proc_fork.map", O_RDWR | O_CREAT | O_TRUNC, 0644);
    ftruncate(fd, 4096);
    volatile int *file = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    shared[0] = 1;
    priv[0] = 1;
    file[0] = 1;
    global = 1;
    int p[2], q[2];
    two_pipes(p, q);
    pid_t pid = fork_checked();
    if (pid == 0) {
        check(shared[0] == 1 && priv[0] == 1 && global == 1 && file[0] == 1,
              "child: sees the parent's values");
        shared[0] = 2;
        priv[0] = 2;
        global = 2;
        file[0] = 2;
        send_byte(p[1]);
        wait_byte(q[0]); /* the parent has written its own values */
        check(shared[0] == 3, "child: sees the parent's MAP_SHARED write");
        check(file[0] == 3, "child: sees the parent's shared file mapping write");
        check(priv[0] == 2 && global == 2, "child: keeps its MAP_PRIVATE copy and global");
        child_done();
    }
    wait_byte(p[0]);
    check(shared[0] == 2, "parent: sees the child's MAP_SHARED write");
    check(file[0] == 2, "parent: sees the child's shared file mapping write");
    check(priv[0] == 1, "parent: MAP_PRIVATE is copy-on-write");
    check(global == 1, "parent: its global is its own");
    shared[0] = 3;
    priv[0] = 3;
    file[0] = 3;
    send_byte(q[1]);
    check_wait(pid, "exited 0", "child's own checks");
    int v = 0;
    pread(fd, &v, sizeof v, 0);
    check(v == 3, "the file holds the last write");
    close(fd);
    unlink("proc_fork.map");
    close_pipe(p);
    close_pipe(q);
}

int main(void)
{
    no_core(); /* children inherit it: no core file, no core bit */
    test_ids();
    test_status();
    test_nohang_echild();
    test_files();
    test_pipes();
    test_memory();
    return finish();
}
