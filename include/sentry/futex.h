/* Futexes: wait queues keyed by guest memory words, as Linux's
 * kernel/futex/. Private futexes are keyed by (address space, address);
 * shared ones by the memory object under the word: (file, offset) in a
 * MAP_SHARED file mapping, (shared anonymous object, offset) in
 * MAP_SHARED anonymous memory, and otherwise (address space, address)
 * again, but apart from the private keys, as Linux keeps them.
 *
 * Every function takes the calling task (its address space and its
 * sleeper; NULL is not allowed) and returns >= 0 or -errno, with Linux's
 * checks in Linux's order. Callers hold no lock: a shared key takes the
 * address space's lock (mm->lock) for a moment to find its VMA. The waits sleep with the one wait primitive
 * (sched/wait.h): -ERESTARTSYS when the task is interrupted. */
#ifndef SENTRY_FUTEX_H
#define SENTRY_FUTEX_H

#include <stdint.h>

struct task;
struct ktimeout;

#define FUTEX_BITSET_MATCH_ANY 0xffffffffU

/* flags of the calls below */
#define FUTEX_F_SHARED 1 /* no FUTEX_PRIVATE_FLAG (FUTEX2_PRIVATE) */
/* FUTEX2_NUMA: the word is followed by a word naming a NUMA node (-1:
 * none yet; the call writes the node in, 0: the sandbox has one node),
 * and the pair is 8-aligned. */
#define FUTEX_F_NUMA 2

/* FUTEX_WAIT_BITSET: sleep while the word at uaddr is val until a wake-up
 * whose bitset meets bitset (0: -EINVAL) or the timeout (NULL: none).
 * 0 when woken, -EAGAIN, -ETIMEDOUT, -EFAULT, -EINVAL, -ERESTARTSYS. */
long futex_wait(struct task *t, uint64_t uaddr, int flags, uint32_t val, uint32_t bitset,
                const struct ktimeout *to);
/* FUTEX_WAKE_BITSET: wake up to nr waiters (at least one, as Linux counts)
 * whose bitsets meet bitset; how many were woken. */
long futex_wake(struct task *t, uint64_t uaddr, int flags, int nr, uint32_t bitset);
/* FUTEX_REQUEUE, and FUTEX_CMP_REQUEUE with cmpval (-EAGAIN if the word at
 * uaddr is not *cmpval): wake nr_wake waiters of uaddr and move up to
 * nr_requeue others to uaddr2; how many were woken or moved. */
long futex_requeue(struct task *t, uint64_t uaddr, uint64_t uaddr2, int flags, int nr_wake,
                   int nr_requeue, const uint32_t *cmpval);
/* FUTEX_WAKE_OP: apply op's operation to the word at uaddr2, wake nr_wake
 * waiters of uaddr and, if op's comparison holds for the old value,
 * nr_wake2 of uaddr2; how many were woken. The read-modify-write is
 * atomic against every other futex operation of the sentry on that word
 * (it runs under the word's bucket lock) but not against guest threads
 * changing the word meanwhile: the sentry reaches guest memory only by
 * process_vm_readv/writev. No libc the sandbox runs uses it (glibc since
 * 2.25 and musl never call FUTEX_WAKE_OP). */
long futex_wake_op(struct task *t, uint64_t uaddr, uint64_t uaddr2, int flags, int nr_wake,
                   int nr_wake2, uint32_t op);

/* One futex of futex_waitv, checked by the caller. */
struct futex_waitv_ent {
    uint64_t uaddr;
    uint32_t val;
    int flags; /* FUTEX_F_* */
};
#define FUTEX_WAITV_MAX 128
/* futex_waitv: sleep while every word is its val, until one is woken: its
 * index (the highest if several were), -EAGAIN, -ETIMEDOUT, -EFAULT,
 * -EINVAL or -ERESTARTSYS. n is 1..FUTEX_WAITV_MAX. */
long futex_wait_multiple(struct task *t, const struct futex_waitv_ent *v, unsigned n,
                         const struct ktimeout *to);

/* What the exit of thread t does to futexes (Linux's futex_exit_release
 * and the clear_child_tid part of mm_release), called by the exit path
 * while t's address space is still there, before its thread is gone:
 *  - walks t's robust list (t->robust_list, set_robust_list; at most 2048
 *    entries, then list_op_pending): each word whose TID bits are t->tid
 *    gets FUTEX_OWNER_DIED, its waiter bit kept and the TID cleared, and
 *    one waiter is woken if FUTEX_WAITERS was set; a pending entry whose
 *    owner is 0 gets one wake-up;
 *  - if t->clear_child_tid is set, writes 0 there (faults ignored) and
 *    wakes one waiter of it as a shared futex (FUTEX_WAKE without the
 *    private flag, as Linux).
 * Both fields are cleared. Linux skips the clear_child_tid write when t
 * was the last user of its address space (mm_users == 1): a caller that
 * knows this clears t->clear_child_tid first. The writes of the robust
 * list are not atomic against other guest threads (see futex_wake_op). */
void futex_exit_release(struct task *t);

/* FUTEX_WAKE of nr waiters on uaddr in t's address space (private: with
 * FUTEX_PRIVATE_FLAG); how many were woken, or -errno. */
int futex_wake_addr(struct task *t, uint64_t uaddr, int nr, int private);

#endif
