/* creds_sched.c: the scheduler calls as Linux answers them: policies and
 * priorities (sched_get/setscheduler, sched_get/setparam, the priority
 * ranges, SCHED_RESET_ON_FORK, the round-robin interval), nice values
 * (getpriority/setpriority, with RLIMIT_NICE and CAP_SYS_NICE), the CPU
 * affinity set, sched_yield, and the CPU time getrusage and times report.
 * Only 0 and the caller's own tid name a task here. As root, real-time
 * policies and lower nice values are allowed; as an unprivileged user
 * they are refused. */
#include "creds_util.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/times.h>

#define NOPID 0x3fffffff
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static int root;

/* Fields 18, 19, 40 and 41 of /proc/self/stat. */
static const char *stat_sched(void)
{
    static char buf[64];
    if (slurp("/proc/self/stat") < 0)
        return "?";
    char *p = strrchr(g_file, ')');
    long f[64] = { 0 };
    int n = 3;
    for (char *tok = strtok(p + 2, " "); tok && n < 64; tok = strtok(NULL, " "))
        f[n++] = strtol(tok, NULL, 10);
    snprintf(buf, sizeof buf, "%ld %ld %ld %ld", f[18], f[19], f[40], f[41]);
    return buf;
}

static void policies(void)
{
    long tid = sc(SYS_gettid);
    int prio = -1;
    check_ret(sc(SYS_sched_getscheduler, 0), SCHED_OTHER, "sched_getscheduler(0)");
    check_ret(sc(SYS_sched_getscheduler, tid), SCHED_OTHER, "sched_getscheduler(own tid)");
    check_err(sc(SYS_sched_getscheduler, -1), EINVAL, "sched_getscheduler(-1)");
    check_err(sc(SYS_sched_getscheduler, NOPID), ESRCH, "sched_getscheduler(no such pid)");
    check_ret(sc(SYS_sched_getparam, 0, &prio), 0, "sched_getparam(0)");
    check(prio == 0, "priority 0");
    check_err(sc(SYS_sched_getparam, 0, NULL), EINVAL, "sched_getparam(0, NULL)");
    check_err(sc(SYS_sched_getparam, -1, &prio), EINVAL, "sched_getparam(-1)");
    check_err(sc(SYS_sched_getparam, NOPID, &prio), ESRCH, "sched_getparam(no such pid)");
    check_err(sc(SYS_sched_getparam, 0, BADPTR), EFAULT, "sched_getparam(0, bad)");
    for (int p = -1; p <= 7; p++)
        out("policy %d: max %s, min %s\n", p, ret_name(sc(SYS_sched_get_priority_max, p)),
            ret_name(sc(SYS_sched_get_priority_min, p)));

    int zero = 0, one = 1, big = 100;
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, &zero), 0, "setscheduler(OTHER, 0)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, &one), EINVAL, "setscheduler(OTHER, 1)");
    check_err(sc(SYS_sched_setscheduler, 0, 4, &zero), EINVAL, "setscheduler(4)");
    check_err(sc(SYS_sched_setscheduler, 0, 7, &zero), EINVAL, "setscheduler(7)");
    check_err(sc(SYS_sched_setscheduler, 0, -1, &zero), EINVAL, "setscheduler(-1)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_DEADLINE, &zero), EINVAL,
              "setscheduler(DEADLINE)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL, "setscheduler(NULL)");
    check_err(sc(SYS_sched_setscheduler, -1, SCHED_OTHER, &zero), EINVAL, "setscheduler(pid -1)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, BADPTR), EFAULT, "setscheduler(bad)");
    check_err(sc(SYS_sched_setscheduler, NOPID, SCHED_OTHER, &zero), ESRCH,
              "setscheduler(no such pid)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_FIFO, &zero), EINVAL, "setscheduler(FIFO, 0)");
    check_err(sc(SYS_sched_setscheduler, 0, SCHED_FIFO, &big), EINVAL, "setscheduler(FIFO, 100)");
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_BATCH, &zero), 0, "setscheduler(BATCH)");
    check_ret(sc(SYS_sched_getscheduler, 0), SCHED_BATCH, "now BATCH");
    check_ret(sc(SYS_sched_setparam, 0, &zero), 0, "sched_setparam(0)");
    check_err(sc(SYS_sched_setparam, 0, &one), EINVAL, "sched_setparam(1) under BATCH");
    check_err(sc(SYS_sched_setparam, 0, NULL), EINVAL, "sched_setparam(NULL)");
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_OTHER | SCHED_RESET_ON_FORK, &zero), 0,
              "setscheduler(OTHER | RESET_ON_FORK)");
    check_ret(sc(SYS_sched_getscheduler, 0), SCHED_OTHER | SCHED_RESET_ON_FORK,
              "getscheduler shows RESET_ON_FORK");
    struct {
        long sec, nsec;
    } ts = { -1, -1 };
    check_ret(sc(SYS_sched_rr_get_interval, 0, &ts), 0, "sched_rr_get_interval(0)");
    check_err(sc(SYS_sched_rr_get_interval, -1, &ts), EINVAL, "sched_rr_get_interval(-1)");
    check_err(sc(SYS_sched_rr_get_interval, NOPID, &ts), ESRCH, "sched_rr_get_interval(no such)");
    check_err(sc(SYS_sched_rr_get_interval, 0, BADPTR), EFAULT, "sched_rr_get_interval(bad)");
    if (!root) {
        check_err(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, &zero), EPERM,
                  "clearing RESET_ON_FORK needs CAP_SYS_NICE");
        check_err(sc(SYS_sched_setscheduler, 0, SCHED_FIFO | SCHED_RESET_ON_FORK, &one), EPERM,
                  "setscheduler(FIFO) with RLIMIT_RTPRIO 0");
        return;
    }
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, &zero), 0, "clear RESET_ON_FORK");
    int ten = 10;
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_RR, &ten), 0, "setscheduler(RR, 10)");
    check_ret(sc(SYS_sched_getscheduler, 0), SCHED_RR, "now RR");
    out("/proc/self/stat priority, nice, rt_priority, policy: %s\n", stat_sched());
    check_ret(sc(SYS_sched_getparam, 0, &prio), 0, "sched_getparam");
    check(prio == 10, "priority 10");
    check_ret(sc(SYS_sched_rr_get_interval, 0, &ts), 0, "sched_rr_get_interval under RR");
    check(ts.sec == 0 && ts.nsec == 100000000, "100 ms");
    check_ret(sc(SYS_sched_setparam, 0, &one), 0, "sched_setparam(1) under RR");
    check_err(sc(SYS_sched_setparam, 0, &zero), EINVAL, "sched_setparam(0) under RR");
    check_ret(sc(SYS_sched_setscheduler, 0, SCHED_OTHER, &zero), 0, "back to OTHER");
    check_ret(sc(SYS_sched_getparam, 0, &prio), 0, "sched_getparam");
    check(prio == 0, "priority 0 again");
}

static void nice_values(void)
{
    long base = sc(SYS_getpriority, PRIO_PROCESS, 0);
    check(base >= 1 && base <= 40, "getpriority is 20 - nice");
    check_ret(sc(SYS_getpriority, PRIO_PROCESS, sc(SYS_gettid)), base, "getpriority(own tid)");
    check_ret(sc(SYS_getpriority, PRIO_PGRP, 0), base, "getpriority(PRIO_PGRP, 0)");
    /* Natively the user's other processes count (the highest wins). */
    long u = sc(SYS_getpriority, PRIO_USER, 0);
    check(u >= base && u <= 40, "getpriority(PRIO_USER, 0) includes the caller");
    check_err(sc(SYS_getpriority, 3, 0), EINVAL, "getpriority(3)");
    check_err(sc(SYS_getpriority, -1, 0), EINVAL, "getpriority(-1)");
    check_err(sc(SYS_getpriority, PRIO_PROCESS, NOPID), ESRCH, "getpriority(no such pid)");
    check_err(sc(SYS_setpriority, 3, 0, 0), EINVAL, "setpriority(3)");
    check_err(sc(SYS_setpriority, PRIO_PROCESS, NOPID, 0), ESRCH, "setpriority(no such pid)");
    if (base != 20) {
        out("not started at nice 0: skipped\n");
        return;
    }
    check_ret(sc(SYS_setpriority, PRIO_PROCESS, 0, 5), 0, "setpriority(5)");
    check_ret(sc(SYS_getpriority, PRIO_PROCESS, 0), 15, "nice 5");
    out("/proc/self/stat priority, nice, rt_priority, policy: %s\n", stat_sched());
    check_ret(sc(SYS_setpriority, PRIO_PROCESS, 0, 100), 0, "setpriority(100)");
    check_ret(sc(SYS_getpriority, PRIO_PROCESS, 0), 1, "clamped to 19");
    check_ret(sc(SYS_setpriority, PRIO_PROCESS, 0, (1L << 32) | 19), 0, "niceval is an int");
    if (root) {
        check_ret(sc(SYS_setpriority, PRIO_PROCESS, 0, -100), 0, "setpriority(-100) as root");
        check_ret(sc(SYS_getpriority, PRIO_PROCESS, 0), 40, "clamped to -20");
        check_ret(sc(SYS_setpriority, PRIO_PROCESS, 0, 0), 0, "back to 0");
    } else {
        check_err(sc(SYS_setpriority, PRIO_PROCESS, 0, 10), EACCES,
                  "setpriority lower with RLIMIT_NICE 0");
        check_ret(sc(SYS_getpriority, PRIO_PROCESS, 0), 1, "unchanged");
        struct rlimit rl = { 25, 25 };
        long r = sc(SYS_setrlimit, RLIMIT_NICE, &rl);
        check_err(r, EPERM, "RLIMIT_NICE cannot be raised");
    }
}

static void affinity(void)
{
    uint64_t m0[16], m[16];
    memset(m0, 0, sizeof m0);
    long n = sc(SYS_sched_getaffinity, 0, sizeof m0, m0);
    check(n > 0 && n % 8 == 0, "sched_getaffinity gives the mask size");
    check_ret(sc(SYS_sched_getaffinity, sc(SYS_gettid), sizeof m, m), n,
              "sched_getaffinity(own tid)");
    check_err(sc(SYS_sched_getaffinity, 0, 4, m), EINVAL, "sched_getaffinity(len 4)");
    check_err(sc(SYS_sched_getaffinity, 0, n + 1, m), EINVAL,
              "sched_getaffinity(len not a multiple)");
    check_err(sc(SYS_sched_getaffinity, NOPID, sizeof m, m), ESRCH, "sched_getaffinity(no such)");
    check_err(sc(SYS_sched_getaffinity, 0, sizeof m, BADPTR), EFAULT, "sched_getaffinity(bad)");
    int first = -1;
    for (int i = 0; i < 1024 && first < 0; i++)
        if (m0[i / 64] >> (i % 64) & 1)
            first = i;
    memset(m, 0, sizeof m);
    m[first / 64] = 1ULL << (first % 64);
    check_ret(sc(SYS_sched_setaffinity, 0, sizeof m, m), 0, "sched_setaffinity(first cpu)");
    uint64_t got[16];
    memset(got, 0, sizeof got);
    sc(SYS_sched_getaffinity, 0, sizeof got, got);
    check(memcmp(got, m, sizeof m) == 0, "sched_getaffinity gives just it");
    uint64_t none[16] = { 0 };
    check_err(sc(SYS_sched_setaffinity, 0, sizeof none, none), EINVAL, "sched_setaffinity(empty)");
    check_err(sc(SYS_sched_setaffinity, 0, sizeof m, BADPTR), EFAULT, "sched_setaffinity(bad)");
    check_err(sc(SYS_sched_setaffinity, NOPID, sizeof m, m), ESRCH, "sched_setaffinity(no such)");
    check_ret(sc(SYS_sched_setaffinity, 0, sizeof m0, m0), 0, "sched_setaffinity(all again)");
    memset(got, 0, sizeof got);
    sc(SYS_sched_getaffinity, 0, sizeof got, got);
    check(memcmp(got, m0, sizeof m0) == 0, "the whole set again");
    check_ret(sc(SYS_sched_yield), 0, "sched_yield");
}

struct tv {
    long sec, usec;
};
struct ru {
    struct tv utime, stime;
    long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
        nsignals, nvcsw, nivcsw;
};

static volatile unsigned long sink;

static long ms(struct tv t)
{
    return t.sec * 1000 + t.usec / 1000;
}

static void usage(void)
{
    struct ru r0, r1, rc, rt;
    memset(&rc, 0xff, sizeof rc);
    check_ret(sc(SYS_getrusage, RUSAGE_SELF, &r0), 0, "getrusage(SELF)");
    /* Half a second of CPU time; the host's accounting ticks are 10 ms. */
    struct tms t0, t1;
    long c0 = sc(SYS_times, &t0);
    for (;;) {
        for (int i = 0; i < 1000000; i++)
            sink += (unsigned long)i * 7;
        sc(SYS_getrusage, RUSAGE_SELF, &r1);
        if (ms(r1.utime) + ms(r1.stime) - ms(r0.utime) - ms(r0.stime) >= 500)
            break;
    }
    long c1 = sc(SYS_times, &t1);
    check(r1.utime.usec >= 0 && r1.utime.usec < 1000000 && r1.stime.usec < 1000000,
          "timevals are normalised");
    check(r1.maxrss > 0 && r1.minflt > 0, "maxrss and minor faults counted");
    long dt = (long)(t1.tms_utime + t1.tms_stime - t0.tms_utime - t0.tms_stime);
    check(dt >= 40 && dt <= 70, "times counts the half second in ticks");
    check(c1 - c0 >= dt - 2, "times' result is a clock that moved as far");
    check(t1.tms_cutime == 0 && t1.tms_cstime == 0, "no children's time");
    check_ret(sc(SYS_getrusage, RUSAGE_CHILDREN, &rc), 0, "getrusage(CHILDREN)");
    check(ms(rc.utime) == 0 && ms(rc.stime) == 0 && rc.minflt == 0, "no children's usage");
    check_ret(sc(SYS_getrusage, RUSAGE_THREAD, &rt), 0, "getrusage(THREAD)");
    check(ms(rt.utime) >= ms(r0.utime), "the thread's time includes the loop");
    check_err(sc(SYS_getrusage, 2, &rt), EINVAL, "getrusage(2)");
    check_err(sc(SYS_getrusage, -2, &rt), EINVAL, "getrusage(-2)");
    check_err(sc(SYS_getrusage, RUSAGE_SELF, BADPTR), EFAULT, "getrusage(bad)");
    check(sc(SYS_times, NULL) > 0, "times(NULL)");
    check_err(sc(SYS_times, BADPTR), EFAULT, "times(bad)");
}

int main(void)
{
    root = privileged();
    out("%s\n", root ? "as root" : "not root: the unprivileged rules");
    policies();
    nice_values();
    affinity();
    usage();
    return finish();
}
