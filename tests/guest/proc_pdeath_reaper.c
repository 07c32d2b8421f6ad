/* proc_pdeath_reaper.c: an orphan adopted by a subreaper gets as its
 * parent the reaper's first live thread (Linux's find_alive_thread), and
 * its parent-death signal then follows that thread: when that thread
 * exits while another lives on, the orphan gets the signal. Here the
 * reaper's main thread has ended, so the adopter is the second thread,
 * not the leader. A child that is not signalled ends itself (exit 3)
 * after 3 seconds, so a missing signal fails the test instead of
 * hanging it. */
#include "proc_util.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int ready[2], go[2];
static pid_t reaper, orphan;

/* The third thread: it stays, and reaps the orphan once the second
 * thread has gone. */
static void *stayer(void *arg)
{
    (void)arg;
    char c;
    if (read(go[0], &c, 1) != 1)
        _exit(1);
    int st;
    pid_t r = waitpid(orphan, &st, 0);
    check(r == orphan, "the third thread reaps the orphan");
    check(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
          "the orphan got its parent-death signal when its adopter exited (%s)",
          WIFSIGNALED(st) ? "signalled" : "exited");
    exit(finish());
}

/* The second thread: the reaper's first live thread once main has ended.
 * It makes a middle child whose child is orphaned, waits until the orphan
 * is adopted and has armed SIGTERM as its parent-death signal, then ends
 * (the third thread lives on). */
static void *adopter(void *arg)
{
    (void)arg;
    pthread_t th;
    if (pthread_create(&th, NULL, stayer, NULL) != 0)
        _exit(1);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t c = fork();
        if (c == 0) {
            /* Wait for the adoption, then arm the signal. */
            for (int i = 0; i < 300 && getppid() != reaper; i++)
                usleep(10 * 1000);
            if (getppid() != reaper)
                _exit(5);
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (write(ready[1], "x", 1) != 1)
                _exit(1);
            for (int i = 0; i < 30; i++)
                usleep(100 * 1000);
            _exit(3);
        }
        if (write(ready[1], &c, sizeof(c)) != sizeof(c))
            _exit(1);
        _exit(0);
    }
    check(mid > 0, "the second thread forks");
    pid_t c;
    check(read(ready[0], &c, sizeof(c)) == sizeof(c), "the middle child names its child");
    orphan = c;
    int st;
    check(waitpid(mid, &st, 0) == mid && WIFEXITED(st), "the middle child is reaped");
    char x;
    check(read(ready[0], &x, 1) == 1, "the orphan is adopted and armed");
    /* The third thread goes on once this one is gone. */
    if (write(go[1], "x", 1) != 1)
        _exit(1);
    return NULL;
}

int main(void)
{
    reaper = getpid();
    if (pipe(ready) || pipe(go))
        return 1;
    check_ret(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0, "PR_SET_CHILD_SUBREAPER");
    pthread_t th;
    if (pthread_create(&th, NULL, adopter, NULL) != 0)
        return 1;
    /* Main ends first: the second thread becomes the first live one. */
    pthread_exit(NULL);
}
