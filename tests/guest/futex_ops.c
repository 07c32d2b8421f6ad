/* futex_ops.c: the futex operations beyond WAIT and WAKE as a single
 * thread sees them (nobody to wake, so the answers are the argument
 * checks, the values and the timeouts): FUTEX_REQUEUE and CMP_REQUEUE
 * (counts as ints, nr_requeue a u32 taken from the timeout argument,
 * EAGAIN on a value mismatch), FUTEX_WAKE_OP (every operation and
 * comparison on the second word, ENOSYS for unknown ones, EFAULT for
 * memory it cannot write) and futex_waitv (flags, counts, clocks,
 * entries, the index or error it returns, absolute timeouts). The
 * priority-inheritance operations are ENOSYS in the sandbox. */
#include "guest.h"

#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_RT 256
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static long futex(void *uaddr, long op, long val, long val2, void *uaddr2, long val3)
{
    return sc(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

#define OP(op, cmp, oparg, cmparg)                                                                 \
    ((long)(((unsigned)(op) << 28) | ((unsigned)(cmp) << 24) | (((unsigned)(oparg)&0xfff) << 12) | \
            ((unsigned)(cmparg)&0xfff)))

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static long waitv(struct waitv *w, long n, long flags, struct timespec *ts, long clock)
{
    return sc(SYS_futex_waitv, w, n, flags, ts, clock);
}

int main(void)
{
    static uint32_t w[8] __attribute__((aligned(64)));
    char name[160];
    uint32_t *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    for (int priv = 0; priv < 2; priv++) {
        long p = priv ? FUTEX_PRIVATE : 0;
        const char *pn = priv ? "private" : "shared";
        w[0] = 1;
        w[1] = 10;

        /* FUTEX_WAKE_OP: each operation, then each comparison. */
        static const struct {
            int op, oparg;
            uint32_t want;
        } ops[] = { { 0, 7, 7 },  { 1, 3, 13 }, { 2, 0x30, 0x3a }, { 3, 2, 8 },   { 4, 0xff, 0xf5 },
                    { 8, 4, 16 }, { 9, 1, 12 }, { 1, -1, 9 },      { 8, 40, 256 } };
        for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            w[1] = 10;
            snprintf(name, sizeof name, "%s WAKE_OP op %d oparg %d", pn, ops[i].op, ops[i].oparg);
            check_ret(futex(w, FUTEX_WAKE_OP | p, 1, 1, &w[1], OP(ops[i].op, 0, ops[i].oparg, 10)),
                      0, name);
            check(w[1] == ops[i].want, "%s: the word is %u (want %u)", name, w[1], ops[i].want);
        }
        for (int cmp = 0; cmp < 16; cmp++) {
            w[1] = 10;
            snprintf(name, sizeof name, "%s WAKE_OP cmp %d", pn, cmp);
            long r = futex(w, FUTEX_WAKE_OP | p, 1, 1, &w[1], OP(1, cmp, 1, 10));
            out("%s -> %s, word %u\n", name, ret_name(r), w[1]);
        }
        for (int op = 5; op < 8; op++) {
            w[1] = 10;
            snprintf(name, sizeof name, "%s WAKE_OP op %d", pn, op);
            check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, &w[1], OP(op, 0, 1, 0)), ENOSYS, name);
            check(w[1] == 10, "%s: the word is unchanged", name);
        }
        snprintf(name, sizeof name, "%s WAKE_OP negative counts", pn);
        check_ret(futex(w, FUTEX_WAKE_OP | p, -1, -1, &w[1], OP(1, 0, 0, 0)), 0, name);
        snprintf(name, sizeof name, "%s WAKE_OP first word unaligned", pn);
        check_err(futex((char *)w + 1, FUTEX_WAKE_OP | p, 1, 1, &w[1], 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE_OP second word unaligned", pn);
        check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, (char *)&w[1] + 2, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE_OP second word NULL+1", pn);
        check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, BADPTR, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE_OP second word unmapped", pn);
        check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, (void *)4096, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAKE_OP second word read-only", pn);
        check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, ro, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAKE_OP second word kernel", pn);
        check_err(futex(w, FUTEX_WAKE_OP | p, 1, 1, KPTR, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAKE_OP | CLOCK_REALTIME", pn);
        check_err(futex(w, FUTEX_WAKE_OP | FUTEX_CLOCK_RT | p, 1, 1, &w[1], 0), ENOSYS, name);

        /* FUTEX_REQUEUE and FUTEX_CMP_REQUEUE. */
        snprintf(name, sizeof name, "%s REQUEUE", pn);
        check_ret(futex(w, FUTEX_REQUEUE | p, 1, 1, &w[1], 0), 0, name);
        snprintf(name, sizeof name, "%s REQUEUE nr_wake -1", pn);
        check_err(futex(w, FUTEX_REQUEUE | p, -1, 1, &w[1], 0), EINVAL, name);
        snprintf(name, sizeof name, "%s REQUEUE nr_requeue -1", pn);
        check_err(futex(w, FUTEX_REQUEUE | p, 1, -1, &w[1], 0), EINVAL, name);
        snprintf(name, sizeof name, "%s REQUEUE nr_requeue 1 << 31", pn);
        check_err(futex(w, FUTEX_REQUEUE | p, 1, 1L << 31, &w[1], 0), EINVAL, name);
        snprintf(name, sizeof name, "%s REQUEUE nr_requeue 1 << 32 (a u32: 0)", pn);
        check_ret(futex(w, FUTEX_REQUEUE | p, 1, 1L << 32, &w[1], 0), 0, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE value differs", pn);
        check_err(futex(w, FUTEX_CMP_REQUEUE | p, 1, 1, &w[1], 2), EAGAIN, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE value matches", pn);
        check_ret(futex(w, FUTEX_CMP_REQUEUE | p, 1, 1, &w[1], 1), 0, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE onto itself", pn);
        check_ret(futex(w, FUTEX_CMP_REQUEUE | p, 1, 1, w, 1), 0, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE second unaligned", pn);
        check_err(futex(w, FUTEX_CMP_REQUEUE | p, 1, 1, (char *)&w[1] + 2, 1), EINVAL, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE second NULL+1", pn);
        check_err(futex(w, FUTEX_CMP_REQUEUE | p, 1, 1, BADPTR, 1), EINVAL, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE first unmapped", pn);
        check_err(futex((void *)4096, FUTEX_CMP_REQUEUE | p, 1, 1, &w[1], 1), EFAULT, name);
        snprintf(name, sizeof name, "%s CMP_REQUEUE nr_wake -1 before the pointers", pn);
        check_err(futex(w, FUTEX_CMP_REQUEUE | p, -1, 1, BADPTR, 1), EINVAL, name);
        snprintf(name, sizeof name, "%s REQUEUE | CLOCK_REALTIME", pn);
        check_err(futex(w, FUTEX_REQUEUE | FUTEX_CLOCK_RT | p, 1, 1, &w[1], 1), ENOSYS, name);

        /* Priority inheritance: the host kernel's, ENOSYS in the sandbox. */
        w[4] = 0;
        long r1 = futex(&w[4], FUTEX_LOCK_PI | p, 0, 0, 0, 0);
        long r2 = futex(&w[4], FUTEX_UNLOCK_PI | p, 0, 0, 0, 0);
        long r3 = futex(&w[4], FUTEX_TRYLOCK_PI | p, 0, 0, 0, 0);
        long r4 = futex(&w[4], FUTEX_UNLOCK_PI | p, 0, 0, 0, 0);
        long r5 = futex(&w[4], FUTEX_CMP_REQUEUE_PI | p, 1, 0, &w[5], 0);
        int want_ok = sandboxed() ? r1 == -ENOSYS && r2 == -ENOSYS && r3 == -ENOSYS &&
                                        r4 == -ENOSYS && r5 == -ENOSYS
                                  : r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0 && r5 == 0;
        if (!check(want_ok, "%s PI operations: the host's, or ENOSYS sandboxed", pn))
            out("  %s %s %s %s %s\n", ret_name(r1), ret_name(r2), ret_name(r3), ret_name(r4),
                ret_name(r5));
    }

    /* futex_waitv. */
    struct waitv v[2] = { { 1, (uintptr_t)&w[0], 2 | FUTEX_PRIVATE, 0 },
                          { 10, (uintptr_t)&w[1], 2, 0 } };
    w[0] = 1;
    w[1] = 11;
    struct timespec now, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), EAGAIN, "waitv, second value differs");
    w[1] = 10;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv until now");
    check_err(waitv(v, 2, 0, &now, CLOCK_BOOTTIME), EINVAL, "waitv on CLOCK_BOOTTIME");
    check_err(waitv(v, 2, 1, &now, CLOCK_MONOTONIC), EINVAL, "waitv flags 1");
    check_err(waitv(v, 0, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv of none");
    check_err(waitv(v, 129, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv of 129");
    check_err(waitv(NULL, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv NULL");
    check_err(waitv(BADPTR, 1, 0, &now, CLOCK_MONOTONIC), EFAULT, "waitv NULL+1");
    check_err(waitv(BADPTR, 1, 0, &now, 99), EINVAL, "waitv NULL+1 on clock 99");
    check_err(waitv(v, 2, 0, BADPTR, CLOCK_MONOTONIC), EFAULT, "waitv, timeout NULL+1");
    w[1] = 11;
    check_err(waitv(v, 2, 0, NULL, 99), EAGAIN, "waitv without timeout ignores the clock");
    w[1] = 10;
    for (unsigned f = 0; f < 0x100; f++) {
        v[0].flags = f;
        long r = waitv(v, 1, 0, &now, CLOCK_MONOTONIC);
        if (r != -EINVAL)
            out("waitv entry flags %#x -> %s\n", f, ret_name(r));
    }
    v[0].flags = 0x100 | 2;
    check_err(waitv(v, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv entry flag 0x100");
    v[0].flags = 2;
    v[0].reserved = 1;
    check_err(waitv(v, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv entry reserved 1");
    v[0].reserved = 0;
    v[0].val = 1ULL << 32 | 1;
    check_err(waitv(v, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv value past 32 bits");
    v[0].val = 1;
    v[1].uaddr = 4096;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), EFAULT, "waitv second unmapped");
    v[1].uaddr = (uintptr_t)&w[1] + 1;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv second unaligned");
    v[1].uaddr = (uintptr_t)KPTR;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), EFAULT, "waitv second kernel");
    v[1].uaddr = (uintptr_t)ro;
    v[1].val = 0;
    v[1].flags = 2;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), EFAULT, "waitv second read-only shared");
    v[1].flags = 2 | FUTEX_PRIVATE;
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv second read-only private");
    v[1] = (struct waitv){ 10, (uintptr_t)&w[1], 2, 0 };
    struct timespec bad = { 0, 1000000000L }, neg = { -1, 0 };
    check_err(waitv(v, 2, 0, &bad, CLOCK_MONOTONIC), EINVAL, "waitv, nsec 1e9");
    check_err(waitv(v, 2, 0, &neg, CLOCK_MONOTONIC), EINVAL, "waitv, negative timeout");
    /* Absolute timeouts on both clocks: they sleep until then. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    now = t0;
    add_ms(&now, 25);
    check_err(waitv(v, 2, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv until monotonic +25 ms");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check(elapsed_ms(&t0, &t1) >= 24 && elapsed_ms(&t0, &t1) < 2000, "waitv slept");
    clock_gettime(CLOCK_REALTIME, &now);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    add_ms(&now, 25);
    check_err(waitv(v, 2, 0, &now, CLOCK_REALTIME), ETIMEDOUT, "waitv until realtime +25 ms");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check(elapsed_ms(&t0, &t1) >= 24 && elapsed_ms(&t0, &t1) < 2000, "waitv slept on realtime");
    now.tv_sec = 1;
    check_err(waitv(v, 2, 0, &now, CLOCK_REALTIME), ETIMEDOUT, "waitv until realtime 1 s");
    /* FUTEX2_NUMA: a node word after the futex word, the pair 8-aligned;
     * no node yet (-1) gets the caller's node written in. */
    static uint32_t nw[4] __attribute__((aligned(16))) = { 1, 0xffffffff, 1, 5 };
    struct waitv nv = { 1, (uintptr_t)nw, 2 | 4 | FUTEX_PRIVATE, 0 };
    clock_gettime(CLOCK_MONOTONIC, &now);
    check_err(waitv(&nv, 1, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv NUMA, no node yet");
    check(nw[1] == 0, "waitv NUMA: the node word is now 0 (%#x)", nw[1]);
    check_err(waitv(&nv, 1, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv NUMA, node 0");
    nv.uaddr = (uintptr_t)&nw[2];
    check_err(waitv(&nv, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv NUMA, node 5");
    nv.uaddr = (uintptr_t)&nw[1];
    check_err(waitv(&nv, 1, 0, &now, CLOCK_MONOTONIC), EINVAL, "waitv NUMA, 4-aligned only");
    nv.uaddr = (uintptr_t)nw;
    nv.flags = 2 | 4 | 8;
    nw[1] = 0xffffffff;
    check_err(waitv(&nv, 1, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv NUMA | MPOL, shared");
    check(nw[1] == 0, "waitv NUMA | MPOL: the node word is now 0 (%#x)", nw[1]);
    /* 128 entries, one differing: EAGAIN. */
    static struct waitv many[128];
    for (int i = 0; i < 128; i++)
        many[i] = (struct waitv){ w[i % 2], (uintptr_t)&w[i % 2], 2 | FUTEX_PRIVATE, 0 };
    many[127].val = 99;
    check_err(waitv(many, 128, 0, NULL, 0), EAGAIN, "waitv of 128, the last differs");
    many[127].val = w[1];
    clock_gettime(CLOCK_MONOTONIC, &now);
    check_err(waitv(many, 128, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT, "waitv of 128 until now");
    return finish();
}
