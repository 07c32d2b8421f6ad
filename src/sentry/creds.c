/* Credentials: the sandbox's first ones, from the host process, and the
 * group test the permission checks use. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "sentry/creds.h"

/* The host process's supplementary groups, read once: every creds points
 * here, for the sentry's lifetime. (setgroups, when it comes, needs group
 * lists of their own with a reference count, as Linux's group_info.) */
static uint32_t *host_groups;
static int host_ngroups, host_groups_err;
static pthread_once_t host_groups_once = PTHREAD_ONCE_INIT;

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
    *c = (struct creds){
        .uid = r, .euid = e, .suid = s, .fsuid = e, .gid = gr, .egid = ge, .sgid = gs, .fsgid = ge
    };
    pthread_once(&host_groups_once, host_groups_load);
    if (host_groups_err < 0)
        return host_groups_err;
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
