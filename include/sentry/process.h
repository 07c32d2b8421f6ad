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

#endif
