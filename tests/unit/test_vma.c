/* Unit test of the VMA set: insert, split on remove and protect, coverage,
 * and the top-down free-range search. */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sentry/mm.h"

#define P 4096ULL

START_TEST(insert_and_find)
{
    struct vma_set s;
    vma_set_init(&s);
    ck_assert_int_eq(vma_insert(&s, 10 * P, 20 * P, PROT_READ, MAP_PRIVATE, VMA_ANON), 0);
    ck_assert_int_eq(vma_insert(&s, 30 * P, 40 * P, PROT_READ, MAP_PRIVATE, VMA_ANON), 0);
    ck_assert_int_eq(vma_insert(&s, 15 * P, 25 * P, PROT_READ, MAP_PRIVATE, VMA_ANON), -EEXIST);
    ck_assert_int_eq(vma_insert(&s, 5 * P, 5 * P, PROT_READ, MAP_PRIVATE, VMA_ANON), -EINVAL);
    ck_assert_int_eq(vma_find(&s, 10 * P), 0);
    ck_assert_int_eq(vma_find(&s, 20 * P), -1);
    ck_assert_int_eq(vma_find(&s, 39 * P), 1);
    ck_assert_int_eq(vma_overlaps(&s, 20 * P, 30 * P), 0);
    ck_assert_int_eq(vma_overlaps(&s, 19 * P, 30 * P), 1);
    ck_assert_int_eq(vma_covers(&s, 10 * P, 20 * P), 1);
    ck_assert_int_eq(vma_covers(&s, 10 * P, 31 * P), 0);
    vma_set_free(&s);
}
END_TEST

START_TEST(remove_splits)
{
    struct vma_set s;
    vma_set_init(&s);
    vma_insert(&s, 10 * P, 20 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_int_eq(vma_remove(&s, 12 * P, 14 * P), 0);
    ck_assert_int_eq((int)s.n, 2);
    ck_assert_uint_eq(s.v[0].end, 12 * P);
    ck_assert_uint_eq(s.v[1].start, 14 * P);
    ck_assert_int_eq(vma_remove(&s, 0, 100 * P), 0);
    ck_assert_int_eq((int)s.n, 0);
    vma_set_free(&s);
}
END_TEST

START_TEST(protect_splits_and_requires_cover)
{
    struct vma_set s;
    vma_set_init(&s);
    vma_insert(&s, 10 * P, 20 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 20 * P, 30 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_int_eq(vma_protect(&s, 15 * P, 25 * P, PROT_NONE), 0);
    ck_assert_int_eq((int)s.n, 4);
    ck_assert_int_eq(s.v[1].prot, PROT_NONE);
    ck_assert_int_eq(s.v[2].prot, PROT_NONE);
    ck_assert_int_eq(s.v[3].prot, PROT_READ);
    ck_assert_int_eq(vma_protect(&s, 25 * P, 35 * P, PROT_READ), -ENOMEM);
    vma_set_free(&s);
}
END_TEST

START_TEST(find_free_topdown)
{
    struct vma_set s;
    vma_set_init(&s);
    vma_insert(&s, 90 * P, 100 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 80 * P, 85 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_uint_eq(vma_find_free(&s, 5 * P, 0, 100 * P), 85 * P);
    ck_assert_uint_eq(vma_find_free(&s, 6 * P, 0, 100 * P), 74 * P);
    ck_assert_uint_eq(vma_find_free(&s, 2 * P, 0, 95 * P), 88 * P);
    ck_assert_uint_eq(vma_find_free(&s, 200 * P, 0, 100 * P), 0);
    ck_assert_uint_eq(vma_find_free(&s, 5 * P, 86 * P, 100 * P), 0);
    ck_assert_uint_eq(vma_find_free(&s, 10 * P, 0, 200 * P), 190 * P);
    vma_set_free(&s);
}
END_TEST

START_TEST(many_inserts)
{
    struct vma_set s;
    vma_set_init(&s);
    for (uint64_t i = 0; i < 1000; i++)
        ck_assert_int_eq(vma_insert(&s, (2 * i + 1) * P, (2 * i + 2) * P, PROT_READ, MAP_PRIVATE, VMA_ANON), 0);
    ck_assert_int_eq(vma_covers(&s, P, 2 * P), 1);
    ck_assert_int_eq(vma_remove(&s, 0, 1000 * P), 0);
    ck_assert_int_eq((int)s.n, 500);
    vma_set_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vma");
    TCase *tc = tcase_create("vma");
    tcase_add_test(tc, insert_and_find);
    tcase_add_test(tc, remove_splits);
    tcase_add_test(tc, protect_splits_and_requires_cover);
    tcase_add_test(tc, find_free_topdown);
    tcase_add_test(tc, many_inserts);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
