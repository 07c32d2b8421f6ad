/* Unit test of the syscall table: numbers, names, handlers and argument
 * kinds are consistent, and lookups agree with libseccomp's names. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/syscall.h"

START_TEST(numbers_unique_and_in_range)
{
    int seen[SYSCALL_MAX] = { 0 };
    ck_assert_int_gt(syscall_table_len, 30);
    for (int i = 0; i < syscall_table_len; i++) {
        const struct syscall_desc *d = &syscall_table[i];
        ck_assert_int_ge(d->nr, 0);
        ck_assert_int_lt(d->nr, SYSCALL_MAX);
        ck_assert_msg(!seen[d->nr], "duplicate nr %d", d->nr);
        seen[d->nr] = 1;
        ck_assert_ptr_nonnull(d->fn);
        ck_assert_ptr_eq(syscall_lookup((uint64_t)d->nr), d);
    }
}
END_TEST

START_TEST(names_match_libseccomp)
{
    for (int i = 0; i < syscall_table_len; i++) {
        const struct syscall_desc *d = &syscall_table[i];
        char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, d->nr);
        /* Newer than libseccomp 2.5: its table stops at 334 here. */
        static const struct {
            int nr;
            const char *name;
        } newer[] = { { 335, "uretprobe" }, { 336, "uprobe" } };
        for (size_t k = 0; !n && k < sizeof(newer) / sizeof(newer[0]); k++)
            if (newer[k].nr == d->nr)
                n = strdup(newer[k].name);
        ck_assert_msg(n && strcmp(n, d->name) == 0, "nr %d is %s in the table but %s in libseccomp",
                      d->nr, d->name, n ? n : "(none)");
        free(n);
    }
}
END_TEST

START_TEST(arg_kinds_are_packed)
{
    for (int i = 0; i < syscall_table_len; i++) {
        const struct syscall_desc *d = &syscall_table[i];
        ck_assert_int_le(d->nargs, 6);
        for (int k = 0; k < 6; k++) {
            if (k < d->nargs)
                ck_assert_msg(d->args[k] != K_NONE, "%s: hole in arguments", d->name);
            else
                ck_assert_int_eq(d->args[k], K_NONE);
        }
        /* A buffer with its length in the next argument needs that argument. */
        for (int k = 0; k < d->nargs; k++)
            if (d->args[k] == K_IBUF || d->args[k] == K_IOV)
                ck_assert_msg(k + 1 < d->nargs, "%s: buffer without length", d->name);
    }
}
END_TEST

START_TEST(lookup_of_unimplemented)
{
    ck_assert_ptr_null(syscall_lookup(134)); /* uselib: never */
    ck_assert_ptr_null(syscall_lookup(100000));
    ck_assert_ptr_null(syscall_lookup((uint64_t)-1));
    ck_assert_str_eq(syscall_name(134), "uselib");
    ck_assert_str_eq(syscall_name(0), "read");
    ck_assert_ptr_null(syscall_name(100000));
}
END_TEST

START_TEST(errno_names)
{
    ck_assert_str_eq(errno_name(2), "ENOENT");
    ck_assert_str_eq(errno_name(14), "EFAULT");
    ck_assert_str_eq(errno_name(38), "ENOSYS");
    ck_assert_ptr_null(errno_name(0));
    ck_assert_ptr_null(errno_name(100000));
}
END_TEST

UNIT_MAIN("syscall_table", "table", NULL, NULL, 0, numbers_unique_and_in_range,
          names_match_libseccomp, arg_kinds_are_packed, lookup_of_unimplemented, errno_names)
