/* epoll: the eventpoll object (an anonymous file, "[eventpoll]"), its
 * items, and the readiness they get from the watched files' wait queues
 * through callback waiters. The syscalls are in src/fs/sys_epoll.c. */
#ifndef FS_EVENTPOLL_H
#define FS_EVENTPOLL_H

#include <stdint.h>
#include <time.h>

struct file;
struct task;

/* struct epoll_event as x86-64 lays it out (packed: 12 bytes). */
struct ep_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));

/* How deep epoll sets may nest (Linux's EP_MAX_NESTS). */
#define EP_MAX_NESTS 4

/* A new epoll file (O_RDWR plus flags), or NULL. */
struct file *eventpoll_new(int flags);
int file_is_eventpoll(const struct file *f);
/* Whether f has a poll operation epoll can watch (Linux's
 * file_can_poll): host streams do, regular files and directories not. */
int file_can_poll(const struct file *f);
/* epoll_ctl on the epoll file epf for the target tf at descriptor fd (ev
 * NULL for EPOLL_CTL_DEL), after the descriptors and the target's poll
 * were checked: 0 or -EINVAL (epf not an epoll file, epf == tf,
 * EPOLLEXCLUSIVE misused, bad op), -ELOOP, -EEXIST, -ENOENT, -ENOMEM. */
int eventpoll_ctl(struct file *epf, int op, struct file *tf, int fd, const struct ep_event *ev);
/* epoll_wait on epf: at most max events into *out (allocated; the caller
 * frees it), waiting until some come, the CLOCK_MONOTONIC deadline
 * passes (NULL: none; now: no wait) or t is interrupted. Returns the
 * count, 0 at the deadline, -EINTR, or -ENOMEM. */
long eventpoll_wait(struct task *t, struct file *epf, int max, const struct timespec *deadline,
                    struct ep_event **out);
/* The sandbox's limit on epoll items (EPOLL_CTL_ADD gives ENOSPC past it):
 * the host's fs.epoll.max_user_watches unless set here (unit tests). */
void eventpoll_set_max_watches(long max);

#endif
