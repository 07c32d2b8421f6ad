/* Unit test of the credentials' life cycle: allocation, prepare (a private
 * copy sharing the group list), get/put, new group lists kept sorted, and
 * task_commit_creds replacing a task's creds while another thread keeps
 * taking references to them (the old ones live as long as a reader holds
 * them). Run under the sanitizer build, a leak or use after free fails. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "sentry/creds.h"
#include "sentry/kernel.h"

START_TEST(alloc_prepare_put)
{
    struct creds *c = creds_alloc();
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->refs, 1);
    c->uid = c->euid = 1000;
    uint32_t g[] = { 30, 10, 20, 10 };
    ck_assert_int_eq(creds_set_groups(c, g, 4), 0);
    ck_assert_int_eq(c->ngroups, 4);
    /* Sorted, duplicates kept (Linux keeps them too). */
    ck_assert_uint_eq(c->groups[0], 10);
    ck_assert_uint_eq(c->groups[1], 10);
    ck_assert_uint_eq(c->groups[2], 20);
    ck_assert_uint_eq(c->groups[3], 30);
    ck_assert(creds_in_groups(c, 20));
    ck_assert(!creds_in_groups(c, 25));

    /* A prepared copy shares the list until it gets its own. */
    struct creds *n = creds_prepare(c);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->refs, 1);
    ck_assert_ptr_eq(n->group_info, c->group_info);
    ck_assert_int_eq(c->group_info->refs, 2);
    ck_assert_int_eq(creds_set_groups(n, NULL, 0), 0);
    ck_assert_int_eq(n->ngroups, 0);
    ck_assert_int_eq(c->group_info->refs, 1);
    ck_assert_int_eq(c->ngroups, 4);
    n->euid = 0;
    ck_assert_uint_eq(c->euid, 1000);

    ck_assert_ptr_eq(creds_get(c), c);
    ck_assert_int_eq(c->refs, 2);
    creds_put(c);
    creds_put(c);
    creds_put(n);
    creds_put(NULL);
    ck_assert_ptr_null(creds_get(NULL));
}
END_TEST

START_TEST(commit_replaces_and_puts)
{
    struct task t = { 0 };
    struct process p = { 0 };
    t.proc = &p;
    p.leader = &t;
    struct creds *a = creds_alloc();
    a->uid = 1;
    t.cred = a;
    const struct creds *held = process_cred_get(&p);
    ck_assert_ptr_eq(held, a);
    ck_assert_int_eq(a->refs, 2);
    struct creds *b = creds_prepare(t.cred);
    b->uid = 2;
    task_commit_creds(&t, b);
    ck_assert_ptr_eq(t.cred, b);
    /* The reader's reference keeps the old creds whole. */
    ck_assert_int_eq(a->refs, 1);
    ck_assert_uint_eq(held->uid, 1);
    creds_put(held);
    struct process orphan = { 0 };
    ck_assert_ptr_null(process_cred_get(&orphan));
    creds_put(t.cred);
}
END_TEST

/* One thread replaces its creds over and over; another keeps reading
 * them through task_cred_get. Every view is consistent (uid == euid) and
 * nothing is freed under the reader (the sanitizer build checks). */
struct race {
    struct task t;
    int stop;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    long n = 0;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        const struct creds *c = task_cred_get(&r->t);
        ck_assert_uint_eq(c->uid, c->euid);
        creds_put(c);
        n++;
    }
    return (void *)n;
}

START_TEST(commit_races_reader)
{
    struct race r = { 0 };
    struct creds *c = creds_alloc();
    r.t.cred = c;
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, reader, &r), 0);
    for (uint32_t i = 1; i <= 20000; i++) {
        struct creds *n = creds_prepare(r.t.cred);
        n->uid = n->euid = i;
        uint32_t g = i;
        ck_assert_int_eq(creds_set_groups(n, &g, 1), 0);
        task_commit_creds(&r.t, n);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    ck_assert_int_eq(r.t.cred->refs, 1);
    creds_put(r.t.cred);
}
END_TEST

/* cap_task_fix_setuid's rules, and access()'s override. */
START_TEST(fix_setuid_rules)
{
    struct creds old = { .refs = 1 }, n;
    creds_init_caps(&old); /* root, every capability */
    n = old;
    n.euid = n.fsuid = 1000; /* the euid leaves 0: effective goes */
    creds_fix_setuid(&n, &old, CREDS_SETID_RE);
    ck_assert_uint_eq(n.cap_effective, 0);
    ck_assert_uint_eq(n.cap_permitted, GUEST_CAP_FULL_SET);
    struct creds back = n;
    back.euid = 0; /* and comes back: effective = permitted */
    creds_fix_setuid(&back, &n, CREDS_SETID_RES);
    ck_assert_uint_eq(back.cap_effective, GUEST_CAP_FULL_SET);
    /* All three ids leave 0: permitted and ambient go too... */
    n = old;
    n.cap_ambient = 1;
    n.uid = n.euid = n.suid = 5;
    creds_fix_setuid(&n, &old, CREDS_SETID_ID);
    ck_assert_uint_eq(n.cap_permitted | n.cap_effective | n.cap_ambient, 0);
    /* ...unless KEEP_CAPS keeps permitted (not effective, not ambient). */
    n = old;
    n.cap_ambient = 1;
    n.securebits = GUEST_SECBIT_KEEP_CAPS;
    n.uid = n.euid = n.suid = 5;
    creds_fix_setuid(&n, &old, CREDS_SETID_RES);
    ck_assert_uint_eq(n.cap_permitted, GUEST_CAP_FULL_SET);
    ck_assert_uint_eq(n.cap_effective | n.cap_ambient, 0);
    /* setfsuid moves only CAP_FS_MASK. */
    n = old;
    n.fsuid = 7;
    creds_fix_setuid(&n, &old, CREDS_SETID_FS);
    ck_assert_uint_eq(n.cap_effective, GUEST_CAP_FULL_SET & ~GUEST_CAP_FS_MASK);
    ck_assert(!creds_capable(&n, GCAP_DAC_OVERRIDE) && creds_capable(&n, GCAP_SETUID));
    back = n;
    back.fsuid = 0;
    creds_fix_setuid(&back, &n, CREDS_SETID_FS);
    ck_assert_uint_eq(back.cap_effective, GUEST_CAP_FULL_SET);
    /* access(): real ids; a real root's permitted set, anyone else none. */
    struct creds *c = creds_prepare(&old);
    c->euid = c->fsuid = 1000;
    c->cap_effective = 0;
    struct creds *o = creds_access_override(c);
    ck_assert_uint_eq(o->fsuid, 0);
    ck_assert_uint_eq(o->cap_effective, GUEST_CAP_FULL_SET);
    creds_put(o);
    c->uid = 1000;
    c->euid = 0;
    c->cap_effective = GUEST_CAP_FULL_SET;
    o = creds_access_override(c);
    ck_assert_uint_eq(o->fsuid, 1000);
    ck_assert_uint_eq(o->cap_effective, 0);
    creds_put(o);
    creds_put(c);
}
END_TEST

UNIT_SUITE_MAIN("creds", UNIT_CASE(s, "life", NULL, NULL, 60, alloc_prepare_put,
                                   commit_replaces_and_puts, commit_races_reader);
                UNIT_CASE(s, "rules", NULL, NULL, 0, fix_setuid_rules))
