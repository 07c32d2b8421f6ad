/* The spawner process that starts and reaps stubs, and the supervisor
 * that lets a stub clone only when the sentry asked (src/platform/spawner.c).
 * Platform-internal: the rest of the sentry uses platform/platform.h. */
#ifndef PLATFORM_SPAWNER_H
#define PLATFORM_SPAWNER_H

#include <stdint.h>
#include <sys/types.h>

struct stub;

/* What the supervisor asks the owner of the stubs (stub_host.c) about the
 * child of a clone: whether tid is a host thread of s it serves already,
 * and whether pid is a stub process it knows and has not reaped. */
struct spawner_hooks {
    int (*tid_known)(struct stub *s, pid_t tid);
    int (*pid_known)(pid_t pid);
};

/* Fork the spawner (before any thread exists) and start the supervisor
 * thread. exec_fd is the sealed stub image. 0 or -errno. */
int spawner_start(int exec_fd, const struct spawner_hooks *hooks);
pid_t spawner_host_pid(void);
/* A new stub with sysmsg_fd at STUB_SYSMSG_FD and stub_sock at
 * STUB_FDPASS_FD: its host pid or -errno. */
pid_t spawner_spawn(int sysmsg_fd, int stub_sock, int ptrace_mode);
/* The wait status of a child of the spawner (a stub) that has exited:
 * without reaping it (reap 0: -EAGAIN while it runs) or reaping it
 * (reap 1: waits). 0 with *status, or -errno. */
int spawner_wait(pid_t pid, int reap, int *status);
int supervisor_start(void);

/* One clone of a stub thread at a time, sandbox-wide: begin says which
 * thread (by_tid) may make which clone (args), for a child of which kind
 * and slot (fork_fds: the fork child's own sysmsg memfd and socket end);
 * then the platform has the thread make it; end returns the child's host
 * tid from its hello, or 0 if there is none. */
void stub_clone_begin(struct stub *s, pid_t by_tid, const uint64_t args[6], int kind, unsigned slot,
                      const int fork_fds[2]);
pid_t stub_clone_end(int clone_ret);

#endif
