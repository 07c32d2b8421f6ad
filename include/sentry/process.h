/* Making and freeing processes. */
#ifndef SENTRY_PROCESS_H
#define SENTRY_PROCESS_H

struct process;
struct sandbox;

/* The sandbox's first process (pid 1): the host process's credentials and
 * limits, umask 022, the sandbox's standard streams at fds 0-2; no address
 * space contents, root or cwd yet. NULL when out of memory. */
struct process *process_new_init(struct sandbox *box);
/* Free p and what it holds (NULL: nothing). */
void process_free(struct process *p);

struct task;
/* execve's point of no return for t's process (src/sentry/sys_exec.c),
 * before the new image is loaded: the address space emptied in place,
 * close-on-exec descriptors closed, caught signals reset to SIG_DFL, the
 * thread's futex and robust-list words forgotten, the credentials execve
 * gives. Killing the other threads and un-sharing a shared address space
 * (vfork, CLONE_VM) belong here too. 0 or -errno: then the caller must
 * end the process. */
int exec_flush_old(struct task *t);

#endif
