/* exec_txtbsy.c: ETXTBSY, as this kernel gives it: execve of a file that
 * some open file description can write (this process's or another's; a
 * "#!" script too; a memfd opened read-write, run with execveat and
 * AT_EMPTY_PATH) fails with ETXTBSY, and works once that description is
 * closed (a duplicate counts until the last one goes); and opening a
 * running program for writing fails with ETXTBSY. The copy of this program
 * that is run answers "child" with exit status 42, and "sleep" by saying
 * on fd 9 that it runs. */
#include "proc_util.h"

#include <sys/mman.h>
#include <sys/stat.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

extern char **environ;

/* Run path (or fd with AT_EMPTY_PATH when path is NULL) in a child that
 * execs and reports: 42 if it ran, 100 + errno if execve failed. */
static int run(const char *path, int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = { (char *)"copy", (char *)"child", NULL };
        if (path)
            execve(path, argv, environ);
        else
            sc(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        _exit(100 + errno);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *result(int r)
{
    static char buf[32];
    if (r == 42)
        return "ran";
    if (r >= 100)
        return errno_name(r - 100);
    snprintf(buf, sizeof buf, "status %d", r);
    return buf;
}

/* A copy of this program at path, written through a new descriptor that
 * is returned still open for writing. */
static int copy_self(const char *path)
{
    int in = open("/proc/self/exe", O_RDONLY);
    int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || o < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(o, buf, (size_t)n) != n)
            return -1;
    close(in);
    return o;
}

int main(int argc, char **argv)
{
    /* The roles of the copy; it never runs the tests itself. */
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 42;
    if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
        /* Running: say so on fd 9, then wait to be killed. */
        if (write(9, "r", 1) != 1)
            return 1;
        sleep(10);
        return 0;
    }
    if (argc > 1)
        return 1;

    char path[64], script[64];
    snprintf(path, sizeof path, "/tmp/txtbsy.%d", (int)getpid());
    snprintf(script, sizeof script, "/tmp/txtbsy.%d.sh", (int)getpid());
    int w = copy_self(path);
    check(w >= 0, "a copy of this program, still open for writing");
    out("exec while this process can write it: %s\n", result(run(path, -1)));
    int w2 = dup(w);
    close(w);
    out("exec while a duplicate can write it: %s\n", result(run(path, -1)));
    close(w2);
    out("exec once closed: %s\n", result(run(path, -1)));

    /* Another process holds it open for writing. */
    int p[2];
    if (pipe(p))
        return 1;
    pid_t holder = fork();
    if (holder == 0) {
        int fd = open(path, O_RDWR);
        char c = fd >= 0 ? 'y' : 'n';
        if (write(p[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    check(read(p[0], &c, 1) == 1 && c == 'y', "another process opened it O_RDWR");
    out("exec while another process can write it: %s\n", result(run(path, -1)));
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    out("exec once that process is gone: %s\n", result(run(path, -1)));

    /* Read-only and O_PATH descriptors do not count. */
    int r = open(path, O_RDONLY), pth = open(path, O_PATH);
    out("exec while open read-only and O_PATH: %s\n", result(run(path, -1)));
    close(r);
    close(pth);

    /* A running program cannot be opened for writing. */
    int up[2];
    if (pipe(up))
        return 1;
    pid_t runner = fork();
    if (runner == 0) {
        char *av[] = { (char *)"copy", (char *)"sleep", NULL };
        dup2(up[1], 9);
        execve(path, av, environ);
        _exit(1);
    }
    close(up[1]);
    check(read(up[0], &c, 1) == 1, "the copy runs");
    close(up[0]);
    int wr = open(path, O_WRONLY);
    out("open for writing while it runs: %s\n", wr >= 0 ? "ok" : errno_name(errno));
    if (wr >= 0)
        close(wr);
    kill(runner, SIGKILL);
    waitpid(runner, NULL, 0);

    /* A script that is open for writing is busy too. */
    int s = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char line[128];
    int len = snprintf(line, sizeof line, "#!%s child\n", path);
    check(s >= 0 && write(s, line, (size_t)len) == len, "a script naming the copy");
    out("exec of a script open for writing: %s\n", result(run(script, -1)));
    close(s);
    out("exec of the script once closed: %s\n", result(run(script, -1)));

    /* A memfd: read-write from memfd_create, so busy until reopened. */
    int m = (int)sc(SYS_memfd_create, "txtbsy", 0);
    check(m >= 0, "memfd_create");
    int in = open(path, O_RDONLY);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(m, buf, (size_t)n) != n)
            break;
    close(in);
    out("execveat of a read-write memfd: %s\n", result(run(NULL, m)));
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", m);
    int ro = open(fdpath, O_RDONLY);
    check(ro >= 0, "the memfd reopened read-only");
    out("execveat of the read-only reopening, read-write one still open: %s\n",
        result(run(NULL, ro)));
    close(m);
    out("execveat of the read-only reopening alone: %s\n", result(run(NULL, ro)));
    close(ro);

    unlink(script);
    unlink(path);
    return finish();
}
