/* The spawner process that starts and reaps stubs, and the supervision
 * that lets a stub clone only when the sentry asked (src/platform/spawner.c).
 * Platform-internal: the rest of the sentry uses platform/platform.h. */
#ifndef PLATFORM_SPAWNER_H
#define PLATFORM_SPAWNER_H

#include <stdint.h>
#include <sys/types.h>

struct stub;
struct guest_ctx;

/* Fork the spawner (before any thread exists) and take the notification
 * listener of the filter every stub inherits; it joins the epoll set epfd
 * (data.ptr NULL), whose waiter calls stub_clone_idle when it is ready.
 * exec_fd is the sealed stub image. 0 or -errno. */
int spawner_start(int exec_fd, int epfd);
pid_t spawner_host_pid(void);
/* A new stub with sysmsg_fd at STUB_SYSMSG_FD and stub_sock at
 * STUB_FDPASS_FD: its host pid or -errno. */
pid_t spawner_spawn(int sysmsg_fd, int stub_sock, int ptrace_mode);
/* The wait status of a child of the spawner (a stub) that has exited:
 * without reaping it (reap 0: -EAGAIN while it runs) or reaping it
 * (reap 1: waits). 0 with *status, or -errno. */
int spawner_wait(pid_t pid, int reap, int *status);

/* In the spawner: fork and exec one stub; its pid or -errno (stub_host.c). */
int stub_exec_child(int sysmsg_fd, int sock, int exec_fd, int ptrace_mode);

/* Have the parked thread of ctx make exactly the clone args, for a child
 * of kind (STUB_CHILD_THREAD or STUB_CHILD_FORK) in slot (fork_fds: the
 * fork child's own sysmsg memfd and socket end), answering the clone's
 * notifications meanwhile; one clone at a time, sandbox-wide. Returns
 * the child's host tid from its hello, or 0 if there is none; *reported
 * is what the stub reported (-ESRCH: the stub died). */
pid_t stub_clone(struct guest_ctx *ctx, const uint64_t args[6], int kind, unsigned slot,
                 const int fork_fds[2], long *reported);
/* A notification came while no clone may be in flight: refuse it (or
 * tell the late child of a clone given up on to end itself). */
void stub_clone_idle(void);
/* tid is a host thread of s the sentry already serves. */
int stub_tid_known(struct stub *s, pid_t tid);
/* Whether pid is a stub process the sentry knows and has not reaped. */
int stub_pid_known(pid_t pid);

#endif
