/* The host-readiness reactor: one sentry thread that waits in a host
 * epoll set over the host descriptors the sentry serves guest I/O from
 * (the sandbox's standard streams when they are pipes, terminals or
 * sockets) and turns each change of their readiness into a wake-up of a
 * sentry wait queue, one per host object. A guest task that waits for
 * such a descriptor (a blocking read or write, poll, select, epoll) is an
 * ordinary sleeper on that queue: a signal interrupts it as any other
 * sleep, and nothing re-polls the host while it waits.
 *
 * Use: hook the waiter on hw->wq, host_watch_start(hw), then check the
 * host descriptor's readiness with a zero-timeout host poll and sleep only
 * if it is not ready (the reactor wakes the queue on every change that
 * follows the start). Locking: hw->wq's wake-ups run on the reactor
 * thread under the reactor's lock; host_watch_start and host_watch_fini
 * take that lock, so they must not be called from a wake callback. */
#ifndef SCHED_REACTOR_H
#define SCHED_REACTOR_H

#include <stdint.h>

#include "sched/wait.h"

/* A host descriptor as the reactor sees it; embedded in its owner (the
 * host object's inode). All-zero is not valid: host_watch_init. */
struct host_watch {
    struct waitq wq;         /* woken with the host's events as the key (poll's bits) */
    int fd;                  /* the host descriptor; the owner's, open while watched */
    int fd_out;              /* the reactor's duplicate of it for output, or -1 */
    int state;               /* HOST_WATCH_*, read without the lock (atomic) */
    int err;                 /* why HOST_WATCH_NEVER */
    uint64_t id;             /* the host epoll item's data, while watched */
    struct host_watch *next; /* the reactor's list, while watched */
};

#define HOST_WATCH_IDLE 0     /* not in the host set (yet) */
#define HOST_WATCH_ON 1       /* in the host set: its changes wake wq */
#define HOST_WATCH_NEVER (-1) /* the host refuses to watch it (err) */

void host_watch_init(struct host_watch *hw, int fd);
/* Have the reactor watch hw->fd (starting the reactor the first time):
 * 0 once it does; -EPERM for what the host cannot wait for (a regular
 * file, a directory, /dev/null: always ready), which stays so; another
 * -errno if the reactor could not take it now (no memory, no thread). */
int host_watch_start(struct host_watch *hw);
/* Whether the host can wait for fd at all (Linux's file_can_poll of the
 * host's file): 0 for a regular file, a directory or a device without a
 * poll operation (/dev/null), which epoll refuses; asked of a throwaway
 * host epoll set, so it needs no reactor. */
int host_fd_can_poll(int fd);
/* Stop watching hw: once it returns no wake-up of hw->wq runs or will
 * run, and hw->fd may be closed. hw->wq must have no waiter left. */
void host_watch_fini(struct host_watch *hw);

#endif
