/* Running a program in a new sandbox: what the command line asked for,
 * and the one call that does it. */
#ifndef SENTRY_SANDBOX_H
#define SENTRY_SANDBOX_H

#include <stdint.h>

#include "fs/setup.h"

/* sandbox-run's own exit statuses (besides the guest's). */
#define EXIT_USAGE 2
#define EXIT_INTERNAL 125 /* the sandbox failed */
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

struct sandbox_opts {
    const char *platform; /* "systrap" or "ptrace" (checked: sandbox_platform_known) */
    int strace;
    int no_aslr;               /* start with personality ADDR_NO_RANDOMIZE */
    int max_procs;             /* guest tasks at once (--max-procs) */
    unsigned long long memory; /* --memory: RLIMIT_AS of the first process, 0: none */
    struct fs_config fs;       /* the guest's file system */
    /* --user UID:GID: the guest's ids (all four of each), no supplementary
     * groups; without it the guest has sandbox-run's own ids and groups. */
    int user_set;
    uint32_t uid, gid;
    char **argv; /* PROGRAM [ARG...], NULL-terminated */
};

/* 1 if name is a platform; else 0 after saying so on stderr. */
int sandbox_platform_known(const char *name);
/* Build the sandbox with its init process running o->argv, watch it to the
 * end, and return sandbox-run's exit status (the guest's, or one above). */
int sandbox_run(const struct sandbox_opts *o);

#endif
