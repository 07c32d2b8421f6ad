/* proc_pdeath.c: the parent-death signal (PR_SET_PDEATHSIG) follows the
 * thread that made the child, as prctl(2) warns: when that thread exits,
 * the child gets its signal although its parent process lives on, and it
 * stays that process's child (getppid, wait). A child made by the thread
 * that stays gets nothing when another thread exits; a child without a
 * parent-death signal is left alone. Each child reports by exit status;
 * one that is not signalled ends itself after 1.5 seconds, so that a
 * missing signal fails the test instead of hanging it. */
#include "proc_util.h"

#include <pthread.h>
#include <sys/prctl.h>

static int ready[2];

struct spawn {
    int pdeath; /* the child's PR_SET_PDEATHSIG, or 0 */
    pid_t pid;
};

/* The child: set the signal, say so, then wait to be killed (or, if no
 * signal comes, exit 3 after 3 s; exit 4 if the parent changed). */
static pid_t make_child(int pdeath)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (pdeath)
            prctl(PR_SET_PDEATHSIG, pdeath);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        for (int i = 0; i < 15; i++) {
            usleep(100 * 1000);
            if (getppid() != parent)
                _exit(4);
        }
        _exit(3);
    }
    return pid;
}

/* A thread that makes a child and, once the child is ready, exits. */
static void *maker(void *arg)
{
    struct spawn *s = arg;
    s->pid = make_child(s->pdeath);
    char c;
    if (read(ready[0], &c, 1) != 1)
        s->pid = -1;
    return NULL;
}

static void run(const char *what, int pdeath, const char *want)
{
    struct spawn s = { pdeath, 0 };
    pthread_t th;
    if (pthread_create(&th, NULL, maker, &s) != 0)
        return;
    pthread_join(th, NULL);
    check(s.pid > 0, "%s: the thread made a child", what);
    if (s.pid > 0)
        check_wait(s.pid, want, what);
}

int main(void)
{
    if (pipe(ready))
        return 1;
    run("pdeath SIGTERM, its maker thread exits", SIGTERM, "killed by SIGTERM");
    run("pdeath SIGKILL, its maker thread exits", SIGKILL, "killed by SIGKILL");
    run("no pdeath, its maker thread exits", 0, "exited 3");

    /* Made by this (staying) thread; another thread comes and goes. */
    pid_t pid = make_child(SIGTERM);
    char c;
    check(read(ready[0], &c, 1) == 1, "the main thread's child is ready");
    pthread_t th;
    struct spawn none = { 0, 0 };
    pthread_create(&th, NULL, maker, &none);
    pthread_join(th, NULL);
    if (none.pid > 0)
        check_wait(none.pid, "exited 3", "another thread's child, no pdeath");
    check_wait(pid, "exited 3", "pdeath SIGTERM, made by the thread that stays: not signalled");
    return finish();
}
