/* A task's credentials: the ids and capabilities that permission checks
 * use. Kept apart from the process model (sentry/kernel.h) so that the VFS
 * checks permissions with credentials alone, never with a task. */
#ifndef SENTRY_CREDS_H
#define SENTRY_CREDS_H

#include <stdint.h>

/* Capability sets: bit N is capability N (CAP_CHOWN 0 ... CAP_LAST_CAP). */
#define GUEST_CAP_LAST_CAP 40 /* CAP_CHECKPOINT_RESTORE, the last of Linux 5.9 to 6.18 */
#define GUEST_CAP_FULL_SET ((1ULL << (GUEST_CAP_LAST_CAP + 1)) - 1)
/* The capabilities the sentry's checks use (linux/capability.h numbers). */
enum {
    GCAP_CHOWN = 0,
    GCAP_DAC_OVERRIDE = 1,
    GCAP_DAC_READ_SEARCH = 2,
    GCAP_FOWNER = 3,
    GCAP_FSETID = 4,
    GCAP_KILL = 5,
    GCAP_SETGID = 6,
    GCAP_SETUID = 7,
    GCAP_SETPCAP = 8,
    GCAP_LINUX_IMMUTABLE = 9,
    GCAP_IPC_LOCK = 14,
    GCAP_SYS_CHROOT = 18,
    GCAP_SYS_PTRACE = 19,
    GCAP_SYS_ADMIN = 21,
    GCAP_SYS_NICE = 23,
    GCAP_SYS_RESOURCE = 24,
    GCAP_MKNOD = 27,
    GCAP_SETFCAP = 31,
    GCAP_MAC_OVERRIDE = 32,
};
/* Linux's CAP_FS_MASK (CAP_FS_SET and CAP_LINUX_IMMUTABLE): what an fsuid
 * change from or to 0 drops or raises. */
#define GUEST_CAP_FS_MASK                                                                          \
    ((1ULL << GCAP_CHOWN) | (1ULL << GCAP_MKNOD) | (1ULL << GCAP_DAC_OVERRIDE) |                   \
     (1ULL << GCAP_DAC_READ_SEARCH) | (1ULL << GCAP_FOWNER) | (1ULL << GCAP_FSETID) |              \
     (1ULL << GCAP_MAC_OVERRIDE) | (1ULL << GCAP_LINUX_IMMUTABLE))
/* securebits (linux/securebits.h), set with PR_SET_SECUREBITS (needs
 * CAP_SETPCAP) or PR_SET_KEEPCAPS; each bit N has its lock at N + 1. None
 * is set at start, so Linux's default rules hold: the setuid fix-ups, root's
 * capabilities at execve. The two exec bits (Linux 6.14) are kept and
 * shown but restrict nothing: the sandbox has no interpreter checks. */
#define GUEST_SECBIT_NOROOT (1u << 0)
#define GUEST_SECBIT_NO_SETUID_FIXUP (1u << 2)
#define GUEST_SECBIT_KEEP_CAPS (1u << 4)
#define GUEST_SECBIT_NO_CAP_AMBIENT_RAISE (1u << 6)
#define GUEST_SECBIT_EXEC_RESTRICT_FILE (1u << 8)
#define GUEST_SECBIT_EXEC_DENY_INTERACTIVE (1u << 10)
#define GUEST_SECURE_ALL_BITS                                                                      \
    (GUEST_SECBIT_NOROOT | GUEST_SECBIT_NO_SETUID_FIXUP | GUEST_SECBIT_KEEP_CAPS |                 \
     GUEST_SECBIT_NO_CAP_AMBIENT_RAISE | GUEST_SECBIT_EXEC_RESTRICT_FILE |                         \
     GUEST_SECBIT_EXEC_DENY_INTERACTIVE)
#define GUEST_SECURE_ALL_LOCKS (GUEST_SECURE_ALL_BITS << 1)

/* Supplementary groups, ascending as Linux keeps them (groups_sort), with
 * a reference count as Linux's group_info: every creds_prepare copy shares
 * the list, setgroups makes a new one. */
struct group_info {
    int refs; /* atomic */
    int ngroups;
    uint32_t gid[];
};

/* A task's credentials, as Linux's struct cred: ids, groups, the five
 * capability sets and the securebits.
 *
 * Life cycle: immutable once installed and reference-counted. A change
 * (setuid, setgroups, capset, execve ...) takes a private copy with
 * creds_prepare, edits it, and installs it whole with task_commit_creds
 * (sentry/kernel.h); whoever holds the old one (an open file's opener, a
 * procfs reader) keeps a consistent view. So no reader ever sees a
 * half-edited cred and none needs a lock to read the fields. */
struct creds {
    int refs; /* atomic; creds_get/creds_put */
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    /* The supplementary groups: a view of group_info's list (or, for the
     * sandbox's first creds, of the host's list, which lives as long as the
     * sentry: group_info is then NULL). */
    int ngroups;
    const uint32_t *groups;
    struct group_info *group_info; /* with a reference, or NULL */
    uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
    uint32_t securebits; /* GUEST_SECBIT_* and their locks */
};

/* A new, zeroed cred with one reference (the caller's). NULL without memory. */
struct creds *creds_alloc(void);
/* Linux's prepare_creds: a private, mutable copy of old with one
 * reference, sharing old's group list. NULL without memory. */
struct creds *creds_prepare(const struct creds *old);
/* Take and drop a reference; the last put frees the cred (and its group
 * list's reference). Both accept NULL. */
const struct creds *creds_get(const struct creds *c);
void creds_put(const struct creds *c);
/* A new group list of n ids (sorted here, duplicates kept as Linux keeps
 * them) installed in a prepared cred, dropping its old one. 0 or -ENOMEM. */
int creds_set_groups(struct creds *c, const uint32_t *gids, int n);

/* The sandbox's first creds' ids and groups: the host process's. Fills
 * the ids and groups of an allocated cred (leaves refs alone). */
int creds_init_host(struct creds *c);
/* gid is one of the supplementary groups (in_group_p is this or fsgid). */
int creds_in_groups(const struct creds *c, uint32_t gid);
/* c has capability cap (GCAP_*) in its effective set: Linux's capable(). */
static inline int creds_capable(const struct creds *c, int cap)
{
    return (c->cap_effective >> cap) & 1;
}

/* Linux's cap_task_fix_setuid: the capability changes that follow an id
 * change (new is the prepared copy, old the creds it came from). kind is
 * CREDS_SETID_ID/RE/RES (setuid, setreuid, setresuid: leaving uid 0
 * entirely clears permitted and effective unless KEEP_CAPS, and ambient;
 * an euid leaving 0 clears effective, an euid becoming 0 raises effective
 * to permitted) or CREDS_SETID_FS (setfsuid: the file-system
 * capabilities follow the fsuid from and to 0). */
enum { CREDS_SETID_ID, CREDS_SETID_RE, CREDS_SETID_RES, CREDS_SETID_FS };
void creds_fix_setuid(struct creds *new, const struct creds *old, int kind);
/* The creds access(2) checks with (without AT_EACCESS): fs ids from the
 * real ids, and the effective set of a real root (permitted) or of anyone
 * else (none), as Linux's access_override_creds. NULL without memory. */
struct creds *creds_access_override(const struct creds *c);

/* The capabilities execve gives a program without file capabilities or
 * set-id bits, as Linux's cap_bprm_creds_from_file: root (real or
 * effective uid 0) gets bounding | inheritable as permitted, effective
 * too when the euid is 0; every program keeps its ambient set in both. */
static inline void creds_exec_caps(struct creds *c)
{
    uint64_t amb = c->cap_ambient & c->cap_permitted & c->cap_inheritable;
    c->securebits &= ~GUEST_SECBIT_KEEP_CAPS; /* cleared by every execve */
    uint64_t prm = 0;
    int root = (c->uid == 0 || c->euid == 0) && !(c->securebits & GUEST_SECBIT_NOROOT);
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
