/* A task's credentials: the ids and capabilities that permission checks
 * use. Kept apart from the process model (sentry/kernel.h) so that the VFS
 * checks permissions with credentials alone, never with a task. */
#ifndef SENTRY_CREDS_H
#define SENTRY_CREDS_H

#include <stdint.h>

/* Capability sets: bit N is capability N (CAP_CHOWN 0 ... CAP_LAST_CAP). */
#define GUEST_CAP_LAST_CAP 40 /* CAP_CHECKPOINT_RESTORE, the last of Linux 5.9 to 6.18 */
#define GUEST_CAP_FULL_SET ((1ULL << (GUEST_CAP_LAST_CAP + 1)) - 1)

/* A process's credentials, as Linux's struct cred: ids and the five
 * capability sets. The sandbox's init starts with full sets, which its
 * execve then narrows (creds_exec_caps). The sentry's checks grant a
 * guest whose relevant id is 0 what Linux grants with the matching
 * capability (DAC override, chown, fowner, mknod, sys_resource, ...): with
 * ids that never change (no setuid family yet) that is the same as
 * checking cap_effective. */
struct creds {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    /* Supplementary groups, ascending as Linux keeps them: the host
     * process's at start. The array is shared by every copy of the creds,
     * lives as long as the sentry and never changes (no setgroups yet). */
    int ngroups;
    const uint32_t *groups;
    uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
};

/* The sandbox's first creds: the host process's ids and groups. */
int creds_init_host(struct creds *c);
/* gid is one of the supplementary groups (in_group_p is this or fsgid). */
int creds_in_groups(const struct creds *c, uint32_t gid);

/* The capabilities execve gives a program without file capabilities or
 * set-id bits, as Linux's cap_bprm_creds_from_file: root (real or
 * effective uid 0) gets bounding | inheritable as permitted, effective
 * too when the euid is 0; every program keeps its ambient set in both. */
static inline void creds_exec_caps(struct creds *c)
{
    uint64_t amb = c->cap_ambient & c->cap_permitted & c->cap_inheritable;
    uint64_t prm = 0;
    int root = c->uid == 0 || c->euid == 0;
    if (root)
        prm = (c->cap_bset | c->cap_inheritable) & GUEST_CAP_FULL_SET;
    c->cap_ambient = amb;
    c->cap_permitted = prm | amb;
    c->cap_effective = root && c->euid == 0 ? c->cap_permitted : amb;
}

/* The sandbox's first program: started as if by an execve from Linux's
 * init credentials (every capability in the bounding set, none
 * inheritable or ambient), so a root guest has every capability and
 * anyone else none, as in a container started without a capability list. */
static inline void creds_init_caps(struct creds *c)
{
    c->cap_inheritable = 0;
    c->cap_ambient = 0;
    c->cap_bset = GUEST_CAP_FULL_SET;
    c->cap_permitted = c->cap_effective = GUEST_CAP_FULL_SET;
    creds_exec_caps(c);
}

#endif
