/* Credentials: their life cycle (allocate, prepare a copy, get/put,
 * install on a task), the sandbox's first ones from the host process, and
 * the group test the permission checks use. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/creds.h"
#include "sentry/kernel.h"

/* The host process's supplementary groups, read once: every creds points
 * here, for the sentry's lifetime. (setgroups, when it comes, needs group
 * lists of their own with a reference count, as Linux's group_info.) */
static uint32_t *host_groups;
static int host_ngroups, host_groups_err;
static pthread_once_t host_groups_once = PTHREAD_ONCE_INIT;

/* ---- life cycle ---- */

struct creds *creds_alloc(void)
{
    struct creds *c = calloc(1, sizeof(*c));
    if (c)
        c->refs = 1;
    return c;
}

static void group_info_put(struct group_info *gi)
{
    if (gi && __atomic_sub_fetch(&gi->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(gi);
}

/* c's group list becomes gi (whose reference c takes over). */
static void creds_set_groups_ref(struct creds *c, struct group_info *gi)
{
    group_info_put(c->group_info);
    c->group_info = gi;
    c->groups = gi ? gi->gid : NULL;
    c->ngroups = gi ? gi->ngroups : 0;
}

struct creds *creds_prepare(const struct creds *old)
{
    struct creds *c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    /* Everything but the count, which other holders change meanwhile. */
    const size_t skip = offsetof(struct creds, uid);
    _Static_assert(offsetof(struct creds, refs) == 0, "refs comes first");
    memcpy((char *)c + skip, (const char *)old + skip, sizeof(*c) - skip);
    c->refs = 1;
    if (c->group_info)
        __atomic_add_fetch(&c->group_info->refs, 1, __ATOMIC_RELAXED);
    return c;
}

const struct creds *creds_get(const struct creds *c)
{
    if (c)
        __atomic_add_fetch(&((struct creds *)c)->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void creds_put(const struct creds *c)
{
    struct creds *m = (struct creds *)c;
    if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    group_info_put(m->group_info);
    free(m);
}

static int cmp_gid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int creds_set_groups(struct creds *c, const uint32_t *gids, int n)
{
    struct group_info *gi = malloc(sizeof(*gi) + (size_t)n * sizeof(uint32_t));
    if (!gi)
        return -ENOMEM;
    gi->refs = 1;
    gi->ngroups = n;
    if (n)
        memcpy(gi->gid, gids, (size_t)n * sizeof(uint32_t));
    qsort(gi->gid, (size_t)n, sizeof(uint32_t), cmp_gid);
    creds_set_groups_ref(c, gi);
    return 0;
}

void creds_fix_setuid(struct creds *new, const struct creds *old, int kind)
{
    if (old->securebits & GUEST_SECBIT_NO_SETUID_FIXUP)
        return;
    if (kind == CREDS_SETID_FS) {
        if (old->fsuid == 0 && new->fsuid != 0)
            new->cap_effective &= ~GUEST_CAP_FS_MASK;
        if (old->fsuid != 0 && new->fsuid == 0)
            new->cap_effective |= new->cap_permitted &GUEST_CAP_FS_MASK;
        return;
    }
    /* cap_emulate_setxuid */
    int old_root = old->uid == 0 || old->euid == 0 || old->suid == 0;
    int new_root = new->uid == 0 || new->euid == 0 || new->suid == 0;
    if (old_root && !new_root) {
        if (!(new->securebits &GUEST_SECBIT_KEEP_CAPS))
            new->cap_permitted = new->cap_effective = 0;
        new->cap_ambient = 0;
    }
    if (old->euid == 0 && new->euid != 0)
        new->cap_effective = 0;
    if (old->euid != 0 && new->euid == 0)
        new->cap_effective = new->cap_permitted;
}

struct creds *creds_access_override(const struct creds *c)
{
    struct creds *o = creds_prepare(c);
    if (!o)
        return NULL;
    o->fsuid = o->uid;
    o->fsgid = o->gid;
    if (!(o->securebits & GUEST_SECBIT_NO_SETUID_FIXUP))
        o->cap_effective = o->uid == 0 ? o->cap_permitted : 0;
    return o;
}

/* Guards every task's cred pointer against a reader from another task
 * between its load and its reference (a put by the owner in between
 * could free it). One lock for all tasks: replacing and reading another
 * task's creds are both rare (setuid family, /proc/PID), and a static
 * lock needs no set-up in the task's constructor. */
static pthread_mutex_t cred_ptr_lock = PTHREAD_MUTEX_INITIALIZER;

/* fs.suid_dumpable of the host, read once: what a process's dumpable
 * becomes when its creds change, as Linux's commit_creds sets it. */
static int host_suid_dumpable = -1;
static pthread_once_t suid_dumpable_once = PTHREAD_ONCE_INIT;

static void suid_dumpable_load(void)
{
    host_suid_dumpable = 0;
    FILE *f = fopen("/proc/sys/fs/suid_dumpable", "re");
    int v;
    if (f && fscanf(f, "%d", &v) == 1 && v >= 0 && v <= 2)
        host_suid_dumpable = v;
    if (f)
        fclose(f);
}

void task_commit_creds(struct task *t, struct creds *new)
{
    const struct creds *cur = t->cred;
    /* Linux's commit_creds: a change of the effective or fs ids, or new
     * permitted capabilities, makes the process not dumpable (the
     * suid_dumpable setting) and forgets the parent-death signal. */
    if (cur && (cur->euid != new->euid || cur->egid != new->egid || cur->fsuid != new->fsuid ||
                cur->fsgid != new->fsgid || (new->cap_permitted & ~cur->cap_permitted))) {
        pthread_once(&suid_dumpable_once, suid_dumpable_load);
        if (t->proc)
            __atomic_store_n(&t->proc->dumpable, host_suid_dumpable, __ATOMIC_RELAXED);
        t->pdeath_signal = 0;
    }
    pthread_mutex_lock(&cred_ptr_lock);
    const struct creds *old = t->cred;
    t->cred = new;
    pthread_mutex_unlock(&cred_ptr_lock);
    creds_put(old);
}

const struct creds *task_cred_get(struct task *t)
{
    pthread_mutex_lock(&cred_ptr_lock);
    const struct creds *c = creds_get(t->cred);
    pthread_mutex_unlock(&cred_ptr_lock);
    return c;
}

const struct creds *process_cred_get_locked(struct process *p)
{
    return p && p->leader ? task_cred_get(p->leader) : NULL;
}

const struct creds *process_cred_get(struct process *p)
{
    /* The leader is p's while p is in the pid table, under its lock. */
    pthread_mutex_t *tl = p && p->sandbox ? &p->sandbox->tasklist : NULL;
    if (tl)
        pthread_mutex_lock(tl);
    const struct creds *c = process_cred_get_locked(p);
    if (tl)
        pthread_mutex_unlock(tl);
    return c;
}

/* ---- the sandbox's first credentials ---- */

static void host_groups_load(void)
{
    static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is the guest's 32-bit gid");
    /* The host kernel keeps them sorted (groups_sort), as the guest's. */
    int n = getgroups(0, NULL);
    if (n <= 0) {
        host_groups_err = n < 0 ? -errno : 0;
        return;
    }
    gid_t *g = malloc((size_t)n * sizeof(*g));
    if (!g) {
        host_groups_err = -ENOMEM;
        return;
    }
    n = getgroups(n, g);
    if (n < 0) {
        host_groups_err = -errno;
        free(g);
        return;
    }
    host_groups = (uint32_t *)g;
    host_ngroups = n;
}

int creds_init_host(struct creds *c)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    c->uid = r, c->euid = e, c->suid = s, c->fsuid = e;
    c->gid = gr, c->egid = ge, c->sgid = gs, c->fsgid = ge;
    pthread_once(&host_groups_once, host_groups_load);
    if (host_groups_err < 0)
        return host_groups_err;
    creds_set_groups_ref(c, NULL);
    c->groups = host_groups;
    c->ngroups = host_ngroups;
    return 0;
}

int creds_in_groups(const struct creds *c, uint32_t gid)
{
    for (int lo = 0, hi = c->ngroups; lo < hi;) {
        int mid = lo + (hi - lo) / 2;
        if (c->groups[mid] == gid)
            return 1;
        if (c->groups[mid] < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
