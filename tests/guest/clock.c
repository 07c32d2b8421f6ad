/* clock.c: clock ids as Linux decodes them. Static ids 0..11 (10, the old
 * SGI cycle counter, is a hole), CPU-time clocks encoded as
 * ~pid << 3 | which (| 4 for a thread clock), pid 0 meaning the caller, and
 * id & 7 == 3 naming a posix clock descriptor, which no open fd here is.
 * Every id goes through clock_getres (NULL and a buffer) and clock_gettime;
 * the test prints what each gives, so the native run pins the kernel's
 * answers. Pids: 0 (self), the caller's own pid/tid (1 in the sandbox, its
 * host pid natively: both self), and 0x0fffffff, the largest pid the
 * encoding holds, far past PID_MAX_LIMIT, so never a process. */
#include "guest.h"

#include <limits.h>
#include <stdint.h>
#include <time.h>

static long cpuclock(long pid, int which, int thread)
{
    return (long)(int32_t)(((~(uint32_t)pid) << 3) | (uint32_t)which | (thread ? 4u : 0u));
}

/* show: print the number too (not for ids made of the caller's pid, which
 * differs between the runs). */
static void try_id_(long id, const char *what, int show)
{
    struct timespec ts;
    long r1 = sc(SYS_clock_getres, id, 0);
    long r2 = sc(SYS_clock_getres, id, &ts);
    long r3 = sc(SYS_clock_gettime, id, &ts);
    char num[32] = "";
    if (show)
        snprintf(num, sizeof num, " (%ld)", id);
    out("clock %s%s: getres(NULL) %s, getres %s, gettime %s\n", what, num, ret_name(r1),
        ret_name(r2), ret_name(r3));
    if (r1 != r2 || (r1 == 0) != (r3 == 0))
        check(0, "clock %s: getres and gettime agree", what);
}
#define try_id(id, what) try_id_((id), (what), 1)

int main(void)
{
    static const char *names[] = { "REALTIME",          "MONOTONIC",     "PROCESS_CPUTIME_ID",
                                   "THREAD_CPUTIME_ID", "MONOTONIC_RAW", "REALTIME_COARSE",
                                   "MONOTONIC_COARSE",  "BOOTTIME",      "REALTIME_ALARM",
                                   "BOOTTIME_ALARM",    "SGI_CYCLE",     "TAI" };
    for (long id = 0; id < 12; id++)
        try_id(id, names[id]);
    /* Past the table (16..23 are 6.17's auxiliary clocks, off unless
     * configured and enabled). */
    static const long big[] = { 12, 15, 16, 23, 24, 64, 1000, INT_MAX };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        try_id(big[i], "static");
    /* clockid_t is an int: the upper half of the register is ignored. */
    try_id((1L << 32) | CLOCK_MONOTONIC, "MONOTONIC|1<<32");
    try_id((1L << 32) | 12, "12|1<<32");

    /* Small negatives: pid 0 (self) with every low-bit combination. -2 is
     * glibc's thread clock of the caller, -6 its process clock. (-9 and
     * below name pid 1: the sandboxed test itself, but the host's init
     * natively, whose thread clocks are not the caller's.) */
    for (long id = -1; id >= -8; id--)
        try_id(id, "negative");
    try_id(INT_MIN, "INT_MIN");
    try_id(INT_MIN + 2, "INT_MIN+2");
    try_id(INT_MIN + 6, "INT_MIN+6");

    long pid = sc(SYS_getpid), tid = sc(SYS_gettid);
    static const char *which[] = { "PROF", "VIRT", "SCHED", "FD" };
    char what[64];
    for (int w = 0; w < 4; w++) {
        snprintf(what, sizeof what, "process(0) %s", which[w]);
        try_id(cpuclock(0, w, 0), what);
        snprintf(what, sizeof what, "thread(0) %s", which[w]);
        try_id(cpuclock(0, w, 1), what);
        snprintf(what, sizeof what, "process(self) %s", which[w]);
        try_id_(cpuclock(pid, w, 0), what, 0);
        snprintf(what, sizeof what, "thread(self) %s", which[w]);
        try_id_(cpuclock(tid, w, 1), what, 0);
        snprintf(what, sizeof what, "process(none) %s", which[w]);
        try_id(cpuclock(0x0fffffff, w, 0), what);
        snprintf(what, sizeof what, "thread(none) %s", which[w]);
        try_id(cpuclock(0x0fffffff, w, 1), what);
    }

    /* The resolutions the kernel reports (same host: same HZ). */
    struct timespec ts;
    static const long res_ids[] = { CLOCK_REALTIME,
                                    CLOCK_MONOTONIC,
                                    CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID,
                                    CLOCK_MONOTONIC_RAW,
                                    CLOCK_REALTIME_COARSE,
                                    CLOCK_MONOTONIC_COARSE,
                                    CLOCK_BOOTTIME,
                                    CLOCK_TAI,
                                    -2,
                                    -6,
                                    -8,
                                    -4 };
    for (size_t i = 0; i < sizeof res_ids / sizeof res_ids[0]; i++) {
        ts.tv_sec = ts.tv_nsec = -1;
        long r = sc(SYS_clock_getres, res_ids[i], &ts);
        out("getres(%ld) %s = %ld.%09ld\n", res_ids[i], ret_name(r), (long)ts.tv_sec, ts.tv_nsec);
    }

    /* CPU time is the caller's: small, and it grows with work. */
    struct timespec a, b;
    check_ret(sc(SYS_clock_gettime, -2, &a), 0, "gettime(thread clock -2)");
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 20000000; i++)
        spin += i;
    check_ret(sc(SYS_clock_gettime, -2, &b), 0, "gettime(thread clock -2) again");
    check(a.tv_sec < 3600 && b.tv_sec < 3600, "thread CPU time is below an hour");
    check(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec > a.tv_nsec),
          "thread CPU time grows with work");
    check_ret(sc(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &a), 0, "gettime(process clock)");
    check(a.tv_sec < 3600 && (a.tv_sec > 0 || a.tv_nsec > 0), "process CPU time is small and set");

    /* Faults: a valid id with a bad buffer is EFAULT; an invalid id is
     * EINVAL before the buffer is looked at. */
    check_err(sc(SYS_clock_gettime, CLOCK_MONOTONIC, BADPTR), EFAULT, "gettime(MONOTONIC, bad)");
    check_err(sc(SYS_clock_getres, CLOCK_MONOTONIC, BADPTR), EFAULT, "getres(MONOTONIC, bad)");
    check_err(sc(SYS_clock_gettime, -2, BADPTR), EFAULT, "gettime(-2, bad)");
    check_err(sc(SYS_clock_getres, -2, BADPTR), EFAULT, "getres(-2, bad)");
    check_err(sc(SYS_clock_gettime, -1, BADPTR), EINVAL, "gettime(-1, bad)");
    check_err(sc(SYS_clock_getres, 12, KPTR), EINVAL, "getres(12, kernel pointer)");
    check_err(sc(SYS_clock_gettime, CLOCK_REALTIME, KPTR), EFAULT,
              "gettime(REALTIME, kernel pointer)");
    return finish();
}
