/* Unit test of the System V IPC id tables and permission checks
 * (src/ipc/ipc.c): Linux's id scheme (cyclic index, a sequence number
 * that grows when the index wraps, ids of removed objects never found
 * again), the table's limit, key lookup, and ipcperms with owner, group,
 * other and CAP_IPC_OWNER. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>

#include "ipc/ipc.h"
#include "sentry/creds.h"

START_TEST(ids_linux_scheme)
{
    struct ipc_ids ids = { .last_idx = -1, .limit = 4 };
    struct ipc_obj o[6] = { 0 };
    for (int i = 0; i < 4; i++) {
        o[i].key = 100 + i;
        ck_assert_int_eq(ipc_ids_add(&ids, &o[i]), i); /* seq 0: id is the index */
    }
    ck_assert_int_eq(ipc_ids_add(&ids, &o[4]), -ENOSPC);
    ck_assert_int_eq(ipc_ids_max_idx(&ids), 3);
    ck_assert_ptr_eq(ipc_ids_find_key(&ids, 102), &o[2]);
    ck_assert_ptr_null(ipc_ids_find_key(&ids, 7));
    ipc_ids_remove(&ids, &o[1]);
    ck_assert(o[1].deleted);
    ck_assert_ptr_null(ipc_ids_find(&ids, 1));
    /* The index wraps to 1: the sequence number grows. */
    int id = ipc_ids_add(&ids, &o[4]);
    ck_assert_int_eq(id, (1 << IPC_SEQ_SHIFT) | 1);
    ck_assert_ptr_eq(ipc_ids_find(&ids, id), &o[4]);
    ck_assert_ptr_null(ipc_ids_find(&ids, 1)); /* the old id stays dead */
    ck_assert_ptr_eq(ipc_ids_at(&ids, 1), &o[4]);
    ck_assert_ptr_null(ipc_ids_find(&ids, -1));
    ck_assert_ptr_null(ipc_ids_find(&ids, 9));
    ipc_ids_remove(&ids, &o[3]);
    ck_assert_int_eq(ipc_ids_max_idx(&ids), 2);
    /* The next one after index 1 is 2..3 then 0: 3 is free. */
    ck_assert_int_eq(ipc_ids_add(&ids, &o[5]), (1 << IPC_SEQ_SHIFT) | 3);
    free(ids.slot);
}
END_TEST

START_TEST(perms_ipcperms)
{
    struct creds *c = creds_alloc();
    c->uid = c->euid = c->fsuid = 1000;
    c->gid = c->egid = c->fsgid = 100;
    struct ipc_obj o = { 0 };
    ipc_obj_init(&o, 5, 01000 | 0640, c);
    ck_assert_uint_eq(o.mode, 0640);
    ck_assert_uint_eq(o.uid, 1000);
    ck_assert_uint_eq(o.cgid, 100);
    ck_assert_int_eq(ipc_perms(c, &o, S_IRUGO | S_IWUGO), 0);
    ck_assert_int_eq(ipc_may_change(c, &o), 0);
    c->euid = 2000; /* group: read only */
    ck_assert_int_eq(ipc_perms(c, &o, S_IRUGO), 0);
    ck_assert_int_eq(ipc_perms(c, &o, S_IWUGO), -EACCES);
    ck_assert_int_eq(ipc_may_change(c, &o), -EPERM);
    c->fsgid = 200; /* other: nothing */
    ck_assert_int_eq(ipc_perms(c, &o, S_IRUGO), -EACCES);
    ck_assert_int_eq(ipc_perms(c, &o, 0), 0);
    c->cap_effective = 1ULL << 15; /* CAP_IPC_OWNER */
    ck_assert_int_eq(ipc_perms(c, &o, S_IRUGO | S_IWUGO), 0);
    ck_assert_int_eq(ipc_may_change(c, &o), -EPERM);
    c->cap_effective = 1ULL << GCAP_SYS_ADMIN;
    ck_assert_int_eq(ipc_may_change(c, &o), 0);
    /* IPC_SET changes the owner and the permission bits only. */
    o.mode |= 01000;
    struct ipc64_perm_k in = { .uid = 7, .gid = 8, .mode = 0777 | 02000 };
    ipc_perm_set(&o, &in);
    ck_assert_uint_eq(o.mode, 01777);
    ck_assert_uint_eq(o.uid, 7);
    ck_assert_uint_eq(o.cuid, 1000);
    creds_put(c);
}
END_TEST

UNIT_MAIN("ipc", "ids", NULL, NULL, 0, ids_linux_scheme, perms_ipcperms)
