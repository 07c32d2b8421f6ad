/* sleep.c: nanosleep and clock_nanosleep as Linux answers a single
 * thread: the sleep lasts at least the time asked and leaves rem alone
 * when it ends normally; relative and TIMER_ABSTIME (in the past: at
 * once) on CLOCK_REALTIME, MONOTONIC, BOOTTIME and TAI; which clocks
 * cannot be slept on (EOPNOTSUPP: the thread CPU clock, the raw and
 * coarse clocks, the alarm clocks without an RTC to wake the machine;
 * EINVAL: unknown ids and one's own thread CPU clock), CPU clocks of the
 * process (at once when the time has come), and the checks in the
 * kernel's order: clock, then the time's pointer (EFAULT), then its
 * value (EINVAL). */
#include "guest.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)((~(unsigned)(pid) << 3) | (unsigned)(clock)))
#define MAKE_THREAD_CPUCLOCK(tid, clock) (MAKE_PROCESS_CPUCLOCK(tid, clock) | 4)

static long nsleep(const struct timespec *rq, struct timespec *rem)
{
    return sc(SYS_nanosleep, rq, rem);
}

static long cnsleep(long clock, long flags, const struct timespec *rq, struct timespec *rem)
{
    return sc(SYS_clock_nanosleep, clock, flags, rq, rem);
}

int main(void)
{
    char name[160];
    struct timespec t0, t1, rem;
    struct timespec zero = { 0, 0 }, us = { 0, 1000 }, bad = { 0, 1000000000L }, neg = { -1, 0 },
                    negns = { 0, -1 }, ms30 = { 0, 30 * 1000000L };
    const struct timespec sentinel = { 77, 77 };

    /* nanosleep. */
    rem = sentinel;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check_ret(nsleep(&ms30, &rem), 0, "nanosleep 30 ms");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check(elapsed_ms(&t0, &t1) >= 30 && elapsed_ms(&t0, &t1) < 3000, "nanosleep slept 30 ms");
    check(rem.tv_sec == 77 && rem.tv_nsec == 77, "nanosleep left rem alone");
    check_ret(nsleep(&zero, NULL), 0, "nanosleep 0");
    check_ret(nsleep(&us, BADPTR), 0, "nanosleep 1 us, rem NULL+1 (not written)");
    check_err(nsleep(&bad, NULL), EINVAL, "nanosleep nsec 1e9");
    check_err(nsleep(&neg, NULL), EINVAL, "nanosleep -1 s");
    check_err(nsleep(&negns, NULL), EINVAL, "nanosleep -1 ns");
    check_err(nsleep(NULL, NULL), EFAULT, "nanosleep NULL");
    check_err(nsleep(BADPTR, NULL), EFAULT, "nanosleep NULL+1");
    check_err(nsleep(KPTR, NULL), EFAULT, "nanosleep kernel pointer");

    /* clock_nanosleep on the clocks that sleep. */
    static const struct {
        int id;
        const char *name;
    } clocks[] = { { CLOCK_REALTIME, "REALTIME" },
                   { CLOCK_MONOTONIC, "MONOTONIC" },
                   { CLOCK_BOOTTIME, "BOOTTIME" },
                   { CLOCK_TAI, "TAI" } };
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        int c = clocks[i].id;
        const char *cn = clocks[i].name;
        /* Linux times a relative sleep on CLOCK_TAI (not on REALTIME) in
         * that clock, so a step of the host's clock meanwhile ends it early
         * on MONOTONIC: the sleep counts if either clock saw 30 ms pass. */
        struct timespec c0, c1;
        rem = sentinel;
        clock_gettime(c, &c0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        snprintf(name, sizeof name, "clock_nanosleep %s 30 ms", cn);
        check_ret(cnsleep(c, 0, &ms30, &rem), 0, name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(c, &c1);
        check((elapsed_ms(&t0, &t1) >= 30 || elapsed_ms(&c0, &c1) >= 30) &&
                  elapsed_ms(&t0, &t1) < 3000,
              "%s slept", name);
        check(rem.tv_sec == 77 && rem.tv_nsec == 77, "%s left rem alone", name);

        struct timespec abs;
        clock_gettime(c, &abs);
        add_ms(&abs, 25);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        snprintf(name, sizeof name, "clock_nanosleep %s until +25 ms", cn);
        clock_gettime(c, &c0);
        check_ret(cnsleep(c, TIMER_ABSTIME, &abs, &rem), 0, name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(c, &c1);
        check((elapsed_ms(&t0, &t1) >= 24 || elapsed_ms(&c0, &c1) >= 24) &&
                  elapsed_ms(&t0, &t1) < 3000,
              "%s slept", name);
        struct timespec now;
        clock_gettime(c, &now);
        check(now.tv_sec > abs.tv_sec || (now.tv_sec == abs.tv_sec && now.tv_nsec >= abs.tv_nsec),
              "%s: the clock has reached the time", name);

        snprintf(name, sizeof name, "clock_nanosleep %s TIMER_ABSTIME 0", cn);
        check_ret(cnsleep(c, TIMER_ABSTIME, &zero, BADPTR), 0, name);
        snprintf(name, sizeof name, "clock_nanosleep %s 1 us", cn);
        check_ret(cnsleep(c, 0, &us, NULL), 0, name);
        snprintf(name, sizeof name, "clock_nanosleep %s flags 2 (ignored)", cn);
        check_ret(cnsleep(c, 2, &zero, NULL), 0, name);
        snprintf(name, sizeof name, "clock_nanosleep %s NULL+1", cn);
        check_err(cnsleep(c, 0, BADPTR, NULL), EFAULT, name);
        snprintf(name, sizeof name, "clock_nanosleep %s nsec 1e9", cn);
        check_err(cnsleep(c, 0, &bad, NULL), EINVAL, name);
        snprintf(name, sizeof name, "clock_nanosleep %s TIMER_ABSTIME -1 s", cn);
        check_err(cnsleep(c, TIMER_ABSTIME, &neg, NULL), EINVAL, name);
    }

    /* Clocks that cannot be slept on, and unknown ones. */
    const struct named_clock others[] = {
        NAMED_CLOCK(PROCESS_CPUTIME_ID),
        NAMED_CLOCK(THREAD_CPUTIME_ID),
        NAMED_CLOCK(MONOTONIC_RAW),
        NAMED_CLOCK(REALTIME_COARSE),
        NAMED_CLOCK(MONOTONIC_COARSE),
        NAMED_CLOCK(REALTIME_ALARM),
        NAMED_CLOCK(BOOTTIME_ALARM),
        { 10, "10 (SGI_CYCLE)" },
        { 12, "12" },
        { 16, "16 (AUX)" },
        { 1000, "1000" },
        { -1, "-1" },
        { -2, "-2 (own thread, SCHED)" },
        { -3, "-3" },
        { -4, "-4" },
        { -5, "-5 (fd 0)" },
        { -6, "-6 (own process, SCHED)" },
        { -7, "-7 (own process, VIRT)" },
        { -8, "-8 (own process, PROF)" },
        { MAKE_PROCESS_CPUCLOCK(getpid(), 2), "process clock of getpid()" },
        { MAKE_THREAD_CPUCLOCK(getpid(), 2), "thread clock of gettid()" },
        { MAKE_PROCESS_CPUCLOCK(0x3ffffff0, 2), "process clock of a pid nobody has" },
        { MAKE_THREAD_CPUCLOCK(0x3ffffff0, 2), "thread clock of a tid nobody has" },
    };
    for (unsigned i = 0; i < sizeof others / sizeof others[0]; i++) {
        int c = others[i].id;
        long r1 = cnsleep(c, TIMER_ABSTIME, &zero, NULL);
        long r2 = cnsleep(c, 0, &zero, NULL);
        long r3 = cnsleep(c, 0, BADPTR, NULL);
        long r4 = cnsleep(c, 0, &bad, NULL);
        /* (ret_name keeps two results at a time) */
        out("clock_nanosleep %s: abs 0 %s, rel 0 %s, ", others[i].name, ret_name(r1), ret_name(r2));
        out("NULL+1 %s, nsec 1e9 %s\n", ret_name(r3), ret_name(r4));
    }
    return finish();
}
