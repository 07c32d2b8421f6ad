/* Wait queues and the one interruptible sleep every blocking call uses:
 * waiters (a sleeping task or a callback, for poll/epoll), wake-ups,
 * deadlines on CLOCK_MONOTONIC, and task interruption (signals).
 *
 * Locking rule (no lost wake-ups):
 *   sleeper: lock(L); while (!cond) { r = waitq_wait(t, wq, &L, dl, 0); if (r < 0) break; }
 *   waker:   lock(L); make cond true; unlock(L); wake_up(wq);   (or wake under L)
 * The condition is read and written under the caller's lock L. waitq_wait
 * queues the waiter before it drops L, so a waker that changes the
 * condition under L afterwards always finds it on wq. Conditions that are
 * not under a lock use the lower-level sequence instead:
 *   task_sleep_prepare(t); waitq_add(wq, &w); if (!cond) task_sleep(t, dl, 0);
 *   waitq_remove(&w);
 * (the waker makes cond true, then wakes: a wake after prepare is never lost).
 *
 * Lock order: the caller's lock, then wq->lock, then a task's sleeper lock.
 * Wake callbacks run under wq->lock: they must not sleep, nor touch the
 * queue they are called from, nor take a lock that is held around
 * waitq_add/waitq_remove/wake_up of that queue. */
#ifndef SCHED_WAIT_H
#define SCHED_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct task;

/* Kernel-internal restart codes (Linux's values). They never reach the
 * guest: the syscall exit path turns them into EINTR or a restart once
 * signals are delivered. */
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
#endif

/* How one host thread sleeps; embedded in struct task. All-zero (calloc)
 * is a valid initial state on glibc; sleeper_init does it portably. */
struct sleeper {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int woken;     /* a wake-up came since task_sleep_prepare */
    int interrupt; /* task_interrupt() pending until task_interrupt_clear() */
};

void sleeper_init(struct sleeper *s);
void sleeper_destroy(struct sleeper *s);

struct waiter;
/* A wake-up callback, called under the queue's lock with the wake-up's key
 * (poll events, or 0 for "anything"). Returns nonzero if it woke something:
 * that counts against the exclusive limit of the wake-up. */
typedef int (*wake_fn)(struct waiter *w, unsigned key);

#define WAITER_EXCLUSIVE 1 /* wake_up wakes only one of these */

struct waiter {
    wake_fn func;
    void *data;       /* the callback's; the task for task waiters */
    unsigned flags;   /* WAITER_* */
    struct waitq *wq; /* the queue it is on, or NULL */
    struct waiter *prev, *next;
};

/* Waiters in order: non-exclusive ones first, exclusive ones after, each
 * group in arrival order (as Linux). All-zero is an empty queue too. */
struct waitq {
    pthread_mutex_t lock;
    struct waiter *first, *last;
};

#define WAITQ_INITIALIZER                                                                          \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, NULL, NULL                                                      \
    }

/* The task this sentry thread services (NULL on other threads): the one
 * answer to "who is calling". Syscall handlers get their task as an
 * argument and pass it to what they call above the file systems; file and
 * inode operations never take it (their callers are not always a task),
 * and the few that need the caller (to sleep, or to copy to the guest in
 * an ioctl) use current_task, as Linux's file operations use current. */
extern __thread struct task *current_task;

void waitq_init(struct waitq *wq);
/* The queue must be empty: whoever hooked a waiter on it holds a reference
 * to its owner (poll: the file) and unhooks before dropping it. */
void waitq_destroy(struct waitq *wq);

/* A waiter that calls fn(w, key) on wake-ups. */
void waiter_init(struct waiter *w, wake_fn fn, void *data);
/* A waiter that wakes t from task_sleep (t NULL: the calling host thread). */
void waiter_init_task(struct waiter *w, struct task *t);
/* Hook w on wq (w->flags says whether it is exclusive); w must not be on a
 * queue. */
void waitq_add(struct waitq *wq, struct waiter *w);
/* Unhook w from its queue, if any. After this no callback of w runs or is
 * running, so w (and what its data points to) may be freed. */
void waitq_remove(struct waiter *w);

/* Call every non-exclusive waiter and exclusive ones until nr_exclusive of
 * them returned nonzero (0: all). Returns how many returned nonzero. */
int wake_up_key(struct waitq *wq, int nr_exclusive, unsigned key);
/* Wake every non-exclusive waiter and one exclusive waiter. */
void wake_up(struct waitq *wq);
void wake_up_all(struct waitq *wq);

/* Flags of the sleeps. */
#define WAIT_EXCLUSIVE 1 /* queue as an exclusive waiter */
#define WAIT_NOINTR 2    /* task_interrupt does not end the sleep */
/* The wake-up usually comes soon, from a peer's next syscall (a pipe, a
 * futex, poll, a signal in rt_sigtimedwait): with no deadline, spin a
 * while before sleeping. */
#define WAIT_SPIN 4

/* Start a sleep of t (NULL: the calling host thread): forget earlier
 * wake-ups. Hook the waiters and check the condition after this. */
void task_sleep_prepare(struct task *t);
/* Sleep until a wake-up since task_sleep_prepare (0), the absolute
 * CLOCK_MONOTONIC deadline passes (-ETIMEDOUT; NULL: none), or t is
 * interrupted (-ERESTARTSYS, unless WAIT_NOINTR or t is NULL). A wake-up
 * wins over the other two, so an exclusive wake-up is never dropped.
 * -EINVAL for a deadline with tv_nsec out of range. */
int task_sleep(struct task *t, const struct timespec *deadline, int flags);

/* a is before b. */
static inline int timespec_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec != b->tv_sec ? a->tv_sec < b->tv_sec : a->tv_nsec < b->tv_nsec;
}

/* The absolute CLOCK_MONOTONIC deadline (NULL: none) has passed: a wait
 * that re-checks its condition in a loop has no sleep left to make. */
int deadline_passed(const struct timespec *deadline);
/* Called by task_sleep on t's own thread before t sleeps (not for NULL;
 * with WAIT_SPIN only once the spin ended without a wake-up): lets whatever waits actively for t's answer stop waiting actively. Set
 * once, before any task runs; NULL: nothing to tell. */
extern void (*task_block_hook)(struct task *t);
/* Wake t from task_sleep (what task waiters call). */
void task_wake(struct task *t);

/* One sleep on wq: the caller holds *lock and found its condition false.
 * Queues t, drops *lock, sleeps as task_sleep, unqueues, retakes *lock.
 * Returns 0 when woken (re-check the condition: wake-ups may be spurious
 * or already consumed), -ETIMEDOUT, or -ERESTARTSYS (without sleeping if
 * t is already interrupted). */
int waitq_wait(struct task *t, struct waitq *wq, pthread_mutex_t *lock,
               const struct timespec *deadline, int flags);

/* Sleep on wq until cond (an expression read under *lock) holds: 0, or
 * the error of waitq_wait if cond is still false then (a condition that
 * came true at the deadline or with the interruption counts as success,
 * as in Linux's wait_event). Statement expression (GNU C). */
#define WAIT_EVENT(t, wq, lock, cond, deadline, flags)                                             \
    ({                                                                                             \
        int wait_r_ = 0;                                                                           \
        while (!(cond)) {                                                                          \
            wait_r_ = waitq_wait((t), (wq), (lock), (deadline), (flags));                          \
            if (wait_r_ < 0) {                                                                     \
                if (cond)                                                                          \
                    wait_r_ = 0;                                                                   \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        wait_r_;                                                                                   \
    })

/* Interrupt t wherever it sleeps (or its next sleep): its interruptible
 * sleeps return -ERESTARTSYS until task_interrupt_clear.
 * The signal code sets it when a signal becomes deliverable to t and
 * clears it when none is left, as Linux's TIF_SIGPENDING (through
 * task_kick, which also stops t's guest code). */
void task_interrupt(struct task *t);
void task_interrupt_clear(struct task *t);
int task_interrupt_pending(struct task *t);

/* *out = now + ns on CLOCK_MONOTONIC: a deadline for a relative timeout. */
void wait_deadline_ns(struct timespec *out, uint64_t ns);

/* Start one of the sentry's own service threads (the timer, the reactor):
 * detached, on a 64 KiB stack, named name, with every signal blocked
 * (none is for it). 0, or -EAGAIN when it cannot be made. */
int service_thread_start(void *(*fn)(void *), void *arg, const char *name);

#endif
