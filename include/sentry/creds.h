/* A task's credentials: the ids that permission checks use. Kept apart
 * from the process model (sentry/kernel.h) so that the VFS checks
 * permissions with credentials alone, never with a task. */
#ifndef SENTRY_CREDS_H
#define SENTRY_CREDS_H

#include <stdint.h>

struct creds {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    /* Supplementary groups, ascending as Linux keeps them: the host
     * process's at start. The array is shared by every copy of the creds,
     * lives as long as the sentry and never changes (no setgroups yet). */
    int ngroups;
    const uint32_t *groups;
};

/* The sandbox's first creds: the host process's ids and groups. */
int creds_init_host(struct creds *c);
/* gid is one of the supplementary groups (in_group_p is this or fsgid). */
int creds_in_groups(const struct creds *c, uint32_t gid);

#endif
