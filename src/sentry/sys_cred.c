/* The identity calls: the setuid and setgid families, setfsuid/setfsgid,
 * getuid/geteuid/getgid/getegid, getresuid/getresgid, setgroups, capget
 * and capset, with Linux's rules (kernel/sys.c, kernel/groups.c,
 * kernel/capability.c) and the capability fix-ups of
 * security/commoncap.c. Each change prepares a copy of the
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

/* ---- the set*id calls: the uids, and the gids by the same rules with
 * CAP_SETGID and no capability fix-up ---- */

/* One family of a cred's ids: the uids (uid, euid, suid, fsuid) or the
 * gids (gid, egid, sgid, fsgid). */
struct ids {
    uint32_t r, e, s, fs;
};

static struct ids ids_get(const struct creds *c, int gids)
{
    if (gids)
        return (struct ids){ c->gid, c->egid, c->sgid, c->fsgid };
    return (struct ids){ c->uid, c->euid, c->suid, c->fsuid };
}

/* May the caller take ids it does not have? */
static int ids_capable(struct task *t, int gids)
{
    return capable(t, gids ? GCAP_SETGID : GCAP_SETUID);
}

/* Install a copy of old with the family's ids v; for the uids, with the
 * capability fix-up for the kind of call (CREDS_SETID_*). */
static long ids_commit(struct task *t, const struct creds *old, int gids, struct ids v, int kind)
{
    struct creds *new = creds_prepare(old);
    if (!new)
        return -ENOMEM;
    if (gids) {
        new->gid = v.r;
        new->egid = v.e;
        new->sgid = v.s;
        new->fsgid = v.fs;
    } else {
        new->uid = v.r;
        new->euid = v.e;
        new->suid = v.s;
        new->fsuid = v.fs;
        creds_fix_setuid(new, old, kind);
    }
    return commit(t, new, 0);
}

/* setuid, setgid */
static long set_id(struct task *t, const struct sysargs *a, int gids)
{
    uint32_t id = (uint32_t)a->a[0];
    if (id == NOID)
        return -EINVAL;
    const struct creds *old = t->cred;
    struct ids v = ids_get(old, gids);
    if (ids_capable(t, gids))
        v.r = v.s = id;
    else if (id != v.r && id != v.s)
        return -EPERM;
    v.e = v.fs = id;
    return ids_commit(t, old, gids, v, CREDS_SETID_ID);
}

SYSCALL_AS(setuid, set_id, 0)
SYSCALL_AS(setgid, set_id, 1)

/* setreuid, setregid */
static long set_re(struct task *t, const struct sysargs *a, int gids)
{
    uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1];
    const struct creds *old = t->cred;
    struct ids o = ids_get(old, gids), v = o;
    int cap = ids_capable(t, gids);
    if (r != NOID) {
        if (r != o.r && r != o.e && !cap)
            return -EPERM;
        v.r = r;
    }
    if (e != NOID) {
        if (e != o.r && e != o.e && e != o.s && !cap)
            return -EPERM;
        v.e = e;
    }
    if (r != NOID || (e != NOID && e != o.r))
        v.s = v.e;
    v.fs = v.e;
    return ids_commit(t, old, gids, v, CREDS_SETID_RE);
}

SYSCALL_AS(setreuid, set_re, 0)
SYSCALL_AS(setregid, set_re, 1)

/* An id for setresuid/setresgid: -1 (keep) or one of the three the caller has. */
static int id_is_own(uint32_t id, struct ids o)
{
    return id == NOID || id == o.r || id == o.e || id == o.s;
}

/* setresuid, setresgid */
static long set_res(struct task *t, const struct sysargs *a, int gids)
{
    uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1], s = (uint32_t)a->a[2];
    const struct creds *old = t->cred;
    struct ids o = ids_get(old, gids), v = o;
    /* Nothing to change: done, without a permission check. */
    if ((r == NOID || r == o.r) && (e == NOID || (e == o.e && e == o.fs)) &&
        (s == NOID || s == o.s))
        return 0;
    if ((!id_is_own(r, o) || !id_is_own(e, o) || !id_is_own(s, o)) && !ids_capable(t, gids))
        return -EPERM;
    if (r != NOID)
        v.r = r;
    if (e != NOID)
        v.e = e;
    if (s != NOID)
        v.s = s;
    v.fs = v.e;
    return ids_commit(t, old, gids, v, CREDS_SETID_RES);
}

SYSCALL_AS(setresuid, set_res, 0)
SYSCALL_AS(setresgid, set_res, 1)

/* setfsuid and setfsgid never fail: they return the old fs id, and
 * change it only when allowed (and when it is a valid, different id). */
static long set_fs(struct task *t, const struct sysargs *a, int gids)
{
    uint32_t id = (uint32_t)a->a[0];
    const struct creds *old = t->cred;
    struct ids o = ids_get(old, gids), v = o;
    if (id == NOID || id == o.fs)
        return o.fs;
    if (id != o.r && id != o.e && id != o.s && !ids_capable(t, gids))
        return o.fs;
    v.fs = id;
    ids_commit(t, old, gids, v, CREDS_SETID_FS);
    return o.fs;
}

SYSCALL_AS(setfsuid, set_fs, 0)
SYSCALL_AS(setfsgid, set_fs, 1)

/* getuid, geteuid, getgid, getegid */
static long get_id(struct task *t, const struct sysargs *a, int gids, int effective)
{
    (void)a;
    struct ids o = ids_get(t->cred, gids);
    return effective ? o.e : o.r;
}

SYSCALL_AS(getuid, get_id, 0, 0)
SYSCALL_AS(geteuid, get_id, 0, 1)
SYSCALL_AS(getgid, get_id, 1, 0)
SYSCALL_AS(getegid, get_id, 1, 1)

static long put_res(struct task *t, const uint64_t *ptr, const uint32_t *ids)
{
    for (int i = 0; i < 3; i++)
        if (copy_out(t, ptr[i], &ids[i], sizeof(ids[i])) < 0)
            return -EFAULT;
    return 0;
}

/* getresuid, getresgid */
static long get_res(struct task *t, const struct sysargs *a, int gids)
{
    struct ids o = ids_get(t->cred, gids);
    uint32_t ids[3] = { o.r, o.e, o.s };
    return put_res(t, a->a, ids);
}

SYSCALL_AS(getresuid, get_res, 0)
SYSCALL_AS(getresgid, get_res, 1)

/* ---- supplementary groups ---- */

/* Linux's setgroups: CAP_SETGID first, then the size (an int, at most
 * NGROUPS_MAX), then the list read in order: a fault is EFAULT and an
 * invalid gid (-1) EINVAL, whichever comes first. Stored sorted. */
SYSCALL_DEFINE2(setgroups, int, n, uint64_t, list)
{
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

SYSCALL_DEFINE2(capget, uint64_t, hdr, uint64_t, data)
{
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
SYSCALL_DEFINE2(capset, uint64_t, hdr, uint64_t, data)
{
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
