/* proc_rusage.c: what a parent learns of its children's use of the CPU:
 * wait4's rusage holds the child's own CPU time plus that of the children
 * it reaped; reaping adds both to the parent's RUSAGE_CHILDREN and to
 * times()'s tms_cutime and tms_cstime; WNOWAIT reports without adding; a child's
 * unreaped children count for nobody; getrusage's errors. Times are
 * checked against bounds (a child that burns 300 ms of CPU shows at least
 * 150 ms), never exact. The peak resident size is not compared:
 * Linux reads it from per-CPU counters that show a small process as 0. */
#include "proc_util.h"

#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

static long ms(const struct timeval *tv)
{
    return tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

/* CPU time in ms, user and system: the burner counts both (its process
 * CPU clock), and how they split depends on the platform (a syscall under
 * ptrace costs its stub far more system time). */
static long cpu(const struct rusage *r)
{
    return ms(&r->ru_utime) + ms(&r->ru_stime);
}

/* Spin in user mode until this thread has used ms milliseconds of CPU. */
static void burn(long want_ms)
{
    struct timespec ts;
    volatile unsigned long x = 0;
    for (;;) {
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= want_ms)
            return;
    }
}

static struct rusage children(void)
{
    struct rusage ru;
    memset(&ru, 0xff, sizeof(ru));
    check_ret(getrusage(RUSAGE_CHILDREN, &ru), 0, "getrusage(RUSAGE_CHILDREN)");
    return ru;
}

int main(void)
{
    struct rusage ru = children();
    check(cpu(&ru) < 50, "no children yet: RUSAGE_CHILDREN near 0");

    /* A child burns 300 ms; its rusage from wait4. */
    pid_t pid = fork();
    if (pid == 0) {
        burn(300);
        _exit(0);
    }
    siginfo_t si;
    check_ret(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0, "waitid WNOWAIT");
    ru = children();
    check(cpu(&ru) < 50, "WNOWAIT does not add the child's time");
    struct rusage cru;
    int st;
    check(wait4(pid, &st, 0, &cru) == pid, "wait4 the burner");
    check(cpu(&cru) >= 150 && cpu(&cru) < 5000, "wait4's rusage: the child's CPU time (%s)",
          cpu(&cru) >= 150 ? "ok" : "low");
    check(cru.ru_minflt > 0, "wait4's rusage: the child's minor faults");
    ru = children();
    check(cpu(&ru) >= 150, "reaped: RUSAGE_CHILDREN has the child's time");
    long first = cpu(&ru);
    struct tms tm;
    check(times(&tm) != (clock_t)-1, "times");
    check((tm.tms_cutime + tm.tms_cstime) * 1000 / sysconf(_SC_CLK_TCK) >= 150,
          "times: tms_cutime and tms_cstime have it too");

    /* A child whose own child burns 200 ms: the grandchild's time reaches
     * us through the child's wait. */
    pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0) {
            burn(200);
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    check(wait4(pid, &st, 0, &cru) == pid, "wait4 the middle child");
    check(cpu(&cru) >= 100, "wait4's rusage includes the grandchild's time");
    ru = children();
    check(cpu(&ru) - first >= 100, "RUSAGE_CHILDREN grew by the grandchild's time");

    /* A child that leaves its burner unreaped: nobody counts it. */
    int p[2];
    if (pipe(p))
        return 1;
    pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0) {
            burn(200);
            if (write(p[1], "x", 1) != 1)
                _exit(1);
            pause();
            _exit(0);
        }
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(1);
        kill(g, SIGKILL);
        _exit(0); /* g is reparented, not reaped by us */
    }
    struct rusage b4 = children();
    long before = cpu(&b4);
    check(wait4(pid, &st, 0, &cru) == pid, "wait4 the child that did not reap");
    check(cpu(&cru) < 100, "its unreaped child's time is not in its rusage");
    struct rusage after = children();
    check(cpu(&after) - before < 100, "nor in ours");

    check_err(sc(SYS_getrusage, 7, &ru), EINVAL, "getrusage(7)");
    check_err(sc(SYS_getrusage, RUSAGE_CHILDREN, BADPTR), EFAULT, "getrusage bad pointer");
    check_ret(sc(SYS_getrusage, RUSAGE_THREAD, &ru), 0, "getrusage(RUSAGE_THREAD)");
    return finish();
}
