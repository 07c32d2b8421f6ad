/* The identity calls: the setuid and setgid families, setfsuid/setfsgid,
 * getresuid/getresgid, setgroups, capget and capset, with Linux's rules
 * (kernel/sys.c, kernel/groups.c, kernel/capability.c) and the capability
 * fix-ups of security/commoncap.c. Each change prepares a copy of the
 * caller's creds, edits it and installs it whole (task_commit_creds). The
 * guest's ids live only in the sentry: nothing here changes the host's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "sentry/kernel.h"
#include "sentry/syscall.h"

/* (uid_t)-1: "unchanged" for the set*id calls, and no valid id (Linux's
 * make_kuid gives INVALID_UID for it in the initial user namespace). */
#define NOID ((uint32_t)-1)
#define GUEST_NGROUPS_MAX 65536

static int capable(struct task *t, int cap)
{
    return creds_capable(t->cred, cap);
}

/* Install new, or drop it on error. */
static long commit(struct task *t, struct creds *new, long r)
{
    if (r < 0) {
        creds_put(new);
        return r;
    }
    task_commit_creds(t, new);
    return 0;
}

/* ---- uids ---- */

long sys_setuid(struct task *t, const struct sysargs *a)
{
    uint32_t uid = (uint32_t)a->a[0];
    if (uid == NOID)
        return -EINVAL;
    const struct creds *old = t->cred;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    if (capable(t, GCAP_SETUID))
        new->uid = new->suid = uid;
    else if (uid != old->uid && uid != old->suid)
        return commit(t, new, -EPERM);
    new->euid = new->fsuid = uid;
    creds_fix_setuid(new, old, CREDS_SETID_ID);
    return commit(t, new, 0);
}

long sys_setreuid(struct task *t, const struct sysargs *a)
{
    uint32_t ruid = (uint32_t)a->a[0], euid = (uint32_t)a->a[1];
    const struct creds *old = t->cred;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    int cap = capable(t, GCAP_SETUID);
    if (ruid != NOID) {
        new->uid = ruid;
        if (ruid != old->uid && ruid != old->euid && !cap)
            return commit(t, new, -EPERM);
    }
    if (euid != NOID) {
        new->euid = euid;
        if (euid != old->uid && euid != old->euid && euid != old->suid && !cap)
            return commit(t, new, -EPERM);
    }
    if (ruid != NOID || (euid != NOID && euid != old->uid))
        new->suid = new->euid;
    new->fsuid = new->euid;
    creds_fix_setuid(new, old, CREDS_SETID_RE);
    return commit(t, new, 0);
}

/* An id for setresuid/setresgid: -1 (keep) or one of the three the caller has. */
static int id_is_own(uint32_t id, uint32_t a, uint32_t b, uint32_t c)
{
    return id == NOID || id == a || id == b || id == c;
}

long sys_setresuid(struct task *t, const struct sysargs *a)
{
    uint32_t ruid = (uint32_t)a->a[0], euid = (uint32_t)a->a[1], suid = (uint32_t)a->a[2];
    const struct creds *old = t->cred;
    /* Nothing to change: done, without a permission check. */
    if ((ruid == NOID || ruid == old->uid) &&
        (euid == NOID || (euid == old->euid && euid == old->fsuid)) &&
        (suid == NOID || suid == old->suid))
        return 0;
    if ((!id_is_own(ruid, old->uid, old->euid, old->suid) ||
         !id_is_own(euid, old->uid, old->euid, old->suid) ||
         !id_is_own(suid, old->uid, old->euid, old->suid)) &&
        !capable(t, GCAP_SETUID))
        return -EPERM;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    if (ruid != NOID)
        new->uid = ruid;
    if (euid != NOID)
        new->euid = euid;
    if (suid != NOID)
        new->suid = suid;
    new->fsuid = new->euid;
    creds_fix_setuid(new, old, CREDS_SETID_RES);
    return commit(t, new, 0);
}

static long put_res(struct task *t, const uint64_t *ptr, const uint32_t *ids)
{
    for (int i = 0; i < 3; i++)
        if (copy_out(t, ptr[i], &ids[i], sizeof(ids[i])) < 0)
            return -EFAULT;
    return 0;
}

long sys_getresuid(struct task *t, const struct sysargs *a)
{
    const struct creds *c = t->cred;
    uint32_t ids[3] = { c->uid, c->euid, c->suid };
    return put_res(t, a->a, ids);
}

long sys_getresgid(struct task *t, const struct sysargs *a)
{
    const struct creds *c = t->cred;
    uint32_t ids[3] = { c->gid, c->egid, c->sgid };
    return put_res(t, a->a, ids);
}

/* setfsuid and setfsgid never fail: they return the old fs id, and
 * change it only when allowed (and when it is a valid, different id). */
long sys_setfsuid(struct task *t, const struct sysargs *a)
{
    uint32_t uid = (uint32_t)a->a[0];
    const struct creds *old = t->cred;
    uint32_t old_fsuid = old->fsuid;
    if (uid == NOID || uid == old->fsuid)
        return old_fsuid;
    if (uid != old->uid && uid != old->euid && uid != old->suid && !capable(t, GCAP_SETUID))
        return old_fsuid;
    struct creds *new = creds_prepare(old);
    if (!new)
        return old_fsuid;
    new->fsuid = uid;
    creds_fix_setuid(new, old, CREDS_SETID_FS);
    commit(t, new, 0);
    return old_fsuid;
}

/* ---- gids: the same rules with CAP_SETGID, and no capability fix-up ---- */

long sys_setgid(struct task *t, const struct sysargs *a)
{
    uint32_t gid = (uint32_t)a->a[0];
    if (gid == NOID)
        return -EINVAL;
    const struct creds *old = t->cred;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    if (capable(t, GCAP_SETGID))
        new->gid = new->egid = new->sgid = new->fsgid = gid;
    else if (gid == old->gid || gid == old->sgid)
        new->egid = new->fsgid = gid;
    else
        return commit(t, new, -EPERM);
    return commit(t, new, 0);
}

long sys_setregid(struct task *t, const struct sysargs *a)
{
    uint32_t rgid = (uint32_t)a->a[0], egid = (uint32_t)a->a[1];
    const struct creds *old = t->cred;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    int cap = capable(t, GCAP_SETGID);
    if (rgid != NOID) {
        if (rgid == old->gid || rgid == old->egid || cap)
            new->gid = rgid;
        else
            return commit(t, new, -EPERM);
    }
    if (egid != NOID) {
        if (egid == old->gid || egid == old->egid || egid == old->sgid || cap)
            new->egid = egid;
        else
            return commit(t, new, -EPERM);
    }
    if (rgid != NOID || (egid != NOID && egid != old->gid))
        new->sgid = new->egid;
    new->fsgid = new->egid;
    return commit(t, new, 0);
}

long sys_setresgid(struct task *t, const struct sysargs *a)
{
    uint32_t rgid = (uint32_t)a->a[0], egid = (uint32_t)a->a[1], sgid = (uint32_t)a->a[2];
    const struct creds *old = t->cred;
    if ((rgid == NOID || rgid == old->gid) &&
        (egid == NOID || (egid == old->egid && egid == old->fsgid)) &&
        (sgid == NOID || sgid == old->sgid))
        return 0;
    if ((!id_is_own(rgid, old->gid, old->egid, old->sgid) ||
         !id_is_own(egid, old->gid, old->egid, old->sgid) ||
         !id_is_own(sgid, old->gid, old->egid, old->sgid)) &&
        !capable(t, GCAP_SETGID))
        return -EPERM;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    if (rgid != NOID)
        new->gid = rgid;
    if (egid != NOID)
        new->egid = egid;
    if (sgid != NOID)
        new->sgid = sgid;
    new->fsgid = new->egid;
    return commit(t, new, 0);
}

long sys_setfsgid(struct task *t, const struct sysargs *a)
{
    uint32_t gid = (uint32_t)a->a[0];
    const struct creds *old = t->cred;
    uint32_t old_fsgid = old->fsgid;
    if (gid == NOID || gid == old->fsgid)
        return old_fsgid;
    if (gid != old->gid && gid != old->egid && gid != old->sgid && !capable(t, GCAP_SETGID))
        return old_fsgid;
    struct creds *new = creds_prepare(old);
    if (!new)
        return old_fsgid;
    new->fsgid = gid;
    commit(t, new, 0);
    return old_fsgid;
}

/* ---- supplementary groups ---- */

/* Linux's setgroups: CAP_SETGID first, then the size (an int, at most
 * NGROUPS_MAX), then the list read in order: a fault is EFAULT and an
 * invalid gid (-1) EINVAL, whichever comes first. Stored sorted. */
long sys_setgroups(struct task *t, const struct sysargs *a)
{
    int n = (int)a->a[0];
    uint64_t list = a->a[1];
    if (!capable(t, GCAP_SETGID))
        return -EPERM;
    if ((unsigned)n > GUEST_NGROUPS_MAX)
        return -EINVAL;
    uint32_t *g = malloc((size_t)(n ? n : 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    size_t want = (size_t)n * sizeof(*g);
    long got = n ? copy_in_partial(t, g, list, want) : 0;
    long r = 0;
    for (long i = 0; r == 0 && i < n; i++) {
        if ((size_t)(i + 1) * sizeof(*g) > (size_t)(got < 0 ? 0 : got))
            r = -EFAULT;
        else if (g[i] == NOID)
            r = -EINVAL;
    }
    struct creds *new = r == 0 ? creds_prepare(t->cred) : NULL;
    if (r == 0 && !new)
        r = -ENOMEM;
    if (r == 0)
        r = creds_set_groups(new, g, n);
    free(g);
    if (r < 0) {
        creds_put(new);
        return r;
    }
    return commit(t, new, 0);
}

/* ---- capabilities ---- */

#define CAP_V1 0x19980330u
#define CAP_V2 0x20071026u
#define CAP_V3 0x20080522u

struct cap_header {
    uint32_t version;
    int32_t pid;
};

struct cap_data {
    uint32_t effective, permitted, inheritable;
};

/* The header's version: the number of data structs it means (1 or 2), or,
 * for any other version, the current one written back and EINVAL. */
static long cap_validate_magic(struct task *t, uint64_t hdr, unsigned *tocopy)
{
    uint32_t version;
    if (copy_in(t, &version, hdr, sizeof(version)) < 0)
        return -EFAULT;
    switch (version) {
    case CAP_V1:
        *tocopy = 1;
        return 0;
    case CAP_V2:
    case CAP_V3:
        *tocopy = 2;
        return 0;
    default:
        version = CAP_V3;
        if (copy_out(t, hdr, &version, sizeof(version)) < 0)
            return -EFAULT;
        return -EINVAL;
    }
}

long sys_capget(struct task *t, const struct sysargs *a)
{
    uint64_t hdr = a->a[0], data = a->a[1];
    unsigned tocopy = 0;
    long r = cap_validate_magic(t, hdr, &tocopy);
    /* Probing the version with a NULL data pointer succeeds. */
    if (!data || r != 0)
        return !data && r == -EINVAL ? 0 : r;
    int32_t pid;
    if (copy_in(t, &pid, hdr + 4, sizeof(pid)) < 0)
        return -EFAULT;
    if (pid < 0)
        return -EINVAL;
    /* Another task's sets wait for the process table: until then only the
     * caller exists under any pid the guest can name. */
    if (pid != 0 && pid != t->tid)
        return -ESRCH;
    const struct creds *c = t->cred;
    struct cap_data d[2];
    for (unsigned i = 0; i < 2; i++)
        d[i] = (struct cap_data){ (uint32_t)(c->cap_effective >> (32 * i)),
                                  (uint32_t)(c->cap_permitted >> (32 * i)),
                                  (uint32_t)(c->cap_inheritable >> (32 * i)) };
    return copy_out(t, data, d, tocopy * sizeof(d[0])) < 0 ? -EFAULT : 0;
}

/* Linux's capset with cap_capset's rules: only the caller's own sets; new
 * inheritable bits need CAP_SETPCAP (or to be permitted already) and the
 * bounding set; permitted can only shrink; effective within the new
 * permitted; the ambient set loses what is no longer both permitted and
 * inheritable. Bits past the last capability are dropped silently. */
long sys_capset(struct task *t, const struct sysargs *a)
{
    uint64_t hdr = a->a[0], data = a->a[1];
    unsigned tocopy = 0;
    long r = cap_validate_magic(t, hdr, &tocopy);
    if (r != 0)
        return r;
    int32_t pid;
    if (copy_in(t, &pid, hdr + 4, sizeof(pid)) < 0)
        return -EFAULT;
    if (pid != 0 && pid != t->tid)
        return -EPERM;
    struct cap_data d[2] = { 0 };
    if (copy_in(t, d, data, tocopy * sizeof(d[0])) < 0)
        return -EFAULT;
    uint64_t eff = (d[0].effective | (uint64_t)d[1].effective << 32) & GUEST_CAP_FULL_SET;
    uint64_t prm = (d[0].permitted | (uint64_t)d[1].permitted << 32) & GUEST_CAP_FULL_SET;
    uint64_t inh = (d[0].inheritable | (uint64_t)d[1].inheritable << 32) & GUEST_CAP_FULL_SET;
    const struct creds *old = t->cred;
    if (!capable(t, GCAP_SETPCAP) && (inh & ~(old->cap_inheritable | old->cap_permitted)))
        return -EPERM;
    if (inh & ~(old->cap_inheritable | old->cap_bset))
        return -EPERM;
    if (prm & ~old->cap_permitted)
        return -EPERM;
    if (eff & ~prm)
        return -EPERM;
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    new->cap_effective = eff;
    new->cap_permitted = prm;
    new->cap_inheritable = inh;
    new->cap_ambient &= prm &inh;
    return commit(t, new, 0);
}
