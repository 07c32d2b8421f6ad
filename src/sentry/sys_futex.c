/* futex and futex_waitv: the arguments as Linux checks them, in Linux's
 * order (kernel/futex/syscalls.c), then the mechanism of sentry/futex.h.
 *
 * The priority-inheritance operations (FUTEX_LOCK_PI, LOCK_PI2,
 * UNLOCK_PI, TRYLOCK_PI, WAIT_REQUEUE_PI, CMP_REQUEUE_PI) are ENOSYS, as
 * on a kernel without CONFIG_FUTEX_PI. musl and glibc call them only for
 * mutexes with PTHREAD_PRIO_INHERIT (and glibc's PI condition variables
 * never: since 2.25 they use FUTEX_WAIT_BITSET and FUTEX_WAKE); default,
 * recursive, error-checking and robust mutexes, condition variables,
 * barriers, rwlocks, semaphores and pthread_join use WAIT, WAKE, their
 * BITSET forms and (musl's condition variables) FUTEX_REQUEUE. glibc
 * checks for ENOSYS at pthread_mutexattr_setprotocol time.
 *
 * A wait interrupted by a signal returns -ERESTARTSYS, or with a timeout
 * -ERESTART_RESTARTBLOCK, as Linux, which restart_syscall continues
 * until the same absolute deadline (futex_wait_restart). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "sched/wait.h"
#include "sentry/futex.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/syscall.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

/* futex2 flags (futex_waitv entries). */
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_SIZE_MASK 0x03
#define FUTEX2_NUMA 0x04
#define FUTEX2_MPOL 0x08
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG
#define FUTEX2_VALID_MASK (FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE)

static int cmd_has_timeout(int cmd)
{
    return cmd == FUTEX_WAIT || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
           cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI;
}

/* futex_init_timeout: FUTEX_WAIT's timeout is relative to now, the
 * others' absolute on CLOCK_MONOTONIC or, with FUTEX_CLOCK_REALTIME (and
 * always for FUTEX_LOCK_PI), on CLOCK_REALTIME. */
static long futex_timeout(struct task *t, int cmd, int op, uint64_t utime, struct ktimeout *to)
{
    struct timespec ts;
    long r = ktime_copy_in(t, utime, &ts);
    if (r < 0)
        return r;
    if (cmd == FUTEX_WAIT) {
        ktimeout_rel(to, ts);
    } else {
        to->clock =
            (op & FUTEX_CLOCK_REALTIME) || cmd == FUTEX_LOCK_PI ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        to->abs = ts;
    }
    return 0;
}

/* restart_syscall after an interrupted timed wait. */
static long futex_wait_restart(struct task *t)
{
    struct restart_block rb = t->restart;
    struct ktimeout to = { .clock = rb.clock, .abs = rb.abs };
    long r =
        futex_wait(t, rb.arg[0], (int)rb.arg[1], (uint32_t)rb.arg[2], (uint32_t)rb.arg[3], &to);
    if (r == -ERESTARTSYS) {
        t->restart = rb;
        r = -ERESTART_RESTARTBLOCK;
    }
    return r;
}

SYSCALL_DEFINE6(futex, uint64_t, uaddr, int, op, uint32_t, val, uint64_t, utime, uint64_t, uaddr2,
                uint32_t, val3)
{
    /* The timeout argument is val2 (a u32) for the commands without one. */
    uint32_t val2 = (uint32_t)utime;
    int cmd = op & FUTEX_CMD_MASK;
    int flags = op & FUTEX_PRIVATE_FLAG ? 0 : FUTEX_F_SHARED;
    struct ktimeout to, *tp = NULL;
    if (utime && cmd_has_timeout(cmd)) {
        long r = futex_timeout(t, cmd, op, utime, &to);
        if (r < 0)
            return r;
        tp = &to;
    }
    if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
        cmd != FUTEX_LOCK_PI2)
        return -ENOSYS;
    long r;
    switch (cmd) {
    case FUTEX_WAIT:
        val3 = FUTEX_BITSET_MATCH_ANY;
        /* fall through */
    case FUTEX_WAIT_BITSET:
        r = futex_wait(t, uaddr, flags, val, val3, tp);
        /* Linux restarts a timed wait until the same deadline
         * (futex_wait_restart). */
        if (r == -ERESTARTSYS && tp) {
            t->restart = (struct restart_block){ .fn = futex_wait_restart,
                                                 .arg = { uaddr, (uint64_t)flags, val, val3 },
                                                 .clock = to.clock,
                                                 .abs = to.abs };
            r = -ERESTART_RESTARTBLOCK;
        }
        return r;
    case FUTEX_WAKE:
        val3 = FUTEX_BITSET_MATCH_ANY;
        /* fall through */
    case FUTEX_WAKE_BITSET:
        return futex_wake(t, uaddr, flags, (int)val, val3);
    case FUTEX_REQUEUE:
        return futex_requeue(t, uaddr, uaddr2, flags, (int)val, (int)val2, NULL);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(t, uaddr, uaddr2, flags, (int)val, (int)val2, &val3);
    case FUTEX_WAKE_OP:
        return futex_wake_op(t, uaddr, uaddr2, flags, (int)val, (int)val2, val3);
    }
    return -ENOSYS; /* unknown, FUTEX_FD (gone), and the PI operations (see the top) */
}

/* struct futex_waitv (uapi/linux/futex.h). */
struct guest_futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

SYSCALL_DEFINE5(futex_waitv, uint64_t, waiters, unsigned, nr, unsigned, flags, uint64_t, utime, int,
                clockid)
{
    if (flags)
        return -EINVAL;
    if (!nr || nr > FUTEX_WAITV_MAX || !waiters)
        return -EINVAL;
    /* futex2_setup_timeout: absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME. */
    struct ktimeout to, *tp = NULL;
    if (utime) {
        if (clockid != CLOCK_REALTIME && clockid != CLOCK_MONOTONIC)
            return -EINVAL;
        long r = ktime_copy_in(t, utime, &to.abs);
        if (r < 0)
            return r;
        to.clock = clockid;
        tp = &to;
    }
    struct futex_waitv_ent v[FUTEX_WAITV_MAX];
    for (unsigned i = 0; i < nr; i++) {
        struct guest_futex_waitv w;
        if (copy_in(t, &w, waiters + (uint64_t)i * sizeof(w), sizeof(w)) < 0)
            return -EFAULT;
        if ((w.flags & ~FUTEX2_VALID_MASK) || w.reserved)
            return -EINVAL;
        /* Only 32-bit futexes exist. FUTEX2_MPOL is a placement hint
         * (the node of a FUTEX2_NUMA futex from the memory policy: the
         * sandbox has one node). */
        if ((w.flags & FUTEX2_SIZE_MASK) != FUTEX2_SIZE_U32)
            return -EINVAL;
        if (w.val >> 32)
            return -EINVAL;
        v[i].uaddr = w.uaddr;
        v[i].val = (uint32_t)w.val;
        v[i].flags = (w.flags & FUTEX2_PRIVATE ? 0 : FUTEX_F_SHARED) |
                     (w.flags & FUTEX2_NUMA ? FUTEX_F_NUMA : 0);
    }
    return futex_wait_multiple(t, v, nr, tp);
}
