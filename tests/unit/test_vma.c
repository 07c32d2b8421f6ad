/* Unit test of the VMA set: insert, split on remove and protect, coverage,
 * the top-down free-range search, and file VMAs' offsets and references. */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fs/file/file.h"
#include "sentry/mm.h"

#define P 4096ULL

/* Every test's set, freed (with the file references it holds) after it. */
static struct vma_set s;

static void setup(void)
{
    vma_set_init(&s);
}

static void teardown(void)
{
    vma_set_free(&s);
}

START_TEST(insert_and_find)
{
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
}
END_TEST

START_TEST(remove_splits)
{
    vma_insert(&s, 10 * P, 20 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_int_eq(vma_remove(&s, 12 * P, 14 * P), 0);
    ck_assert_int_eq((int)s.n, 2);
    ck_assert_uint_eq(s.v[0].end, 12 * P);
    ck_assert_uint_eq(s.v[1].start, 14 * P);
    ck_assert_int_eq(vma_remove(&s, 0, 100 * P), 0);
    ck_assert_int_eq((int)s.n, 0);
}
END_TEST

START_TEST(protect_splits_and_requires_cover)
{
    vma_insert(&s, 10 * P, 20 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 20 * P, 30 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_int_eq(vma_protect(&s, 15 * P, 25 * P, PROT_NONE), 0);
    /* The two PROT_NONE pieces are alike and adjacent: one VMA, as on Linux. */
    ck_assert_int_eq((int)s.n, 3);
    ck_assert_int_eq(s.v[1].prot, PROT_NONE);
    ck_assert_uint_eq(s.v[1].start, 15 * P);
    ck_assert_uint_eq(s.v[1].end, 25 * P);
    ck_assert_int_eq(s.v[2].prot, PROT_READ);
    /* And back: one VMA of the first kind again up to 20, the rest merged. */
    ck_assert_int_eq(vma_protect(&s, 15 * P, 20 * P, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq((int)s.n, 3);
    ck_assert_uint_eq(s.v[0].end, 20 * P);
    ck_assert_int_eq(vma_protect(&s, 25 * P, 35 * P, PROT_READ), -ENOMEM);
}
END_TEST

START_TEST(find_free_topdown)
{
    vma_insert(&s, 90 * P, 100 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 80 * P, 85 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_uint_eq(vma_find_free(&s, 5 * P, 0, 100 * P), 85 * P);
    ck_assert_uint_eq(vma_find_free(&s, 6 * P, 0, 100 * P), 74 * P);
    ck_assert_uint_eq(vma_find_free(&s, 2 * P, 0, 95 * P), 88 * P);
    ck_assert_uint_eq(vma_find_free(&s, 200 * P, 0, 100 * P), 0);
    ck_assert_uint_eq(vma_find_free(&s, 5 * P, 86 * P, 100 * P), 0);
    ck_assert_uint_eq(vma_find_free(&s, 10 * P, 0, 200 * P), 190 * P);
}
END_TEST

START_TEST(many_inserts)
{
    for (uint64_t i = 0; i < 1000; i++)
        ck_assert_int_eq(
            vma_insert(&s, (2 * i + 1) * P, (2 * i + 2) * P, PROT_READ, MAP_PRIVATE, VMA_ANON), 0);
    ck_assert_int_eq(vma_covers(&s, P, 2 * P), 1);
    ck_assert_int_eq(vma_remove(&s, 0, 1000 * P), 0);
    ck_assert_int_eq((int)s.n, 500);
}
END_TEST

static const struct file_ops dummy_fops = { .name = "dummy" };

START_TEST(file_offsets_and_references)
{
    struct file *f = file_new(&dummy_fops, O_RDONLY);
    ck_assert_ptr_nonnull(f);
    struct vma v = { .start = 10 * P,
                     .end = 20 * P,
                     .prot = PROT_READ,
                     .flags = MAP_SHARED,
                     .kind = VMA_FILE,
                     .noprot = PROT_WRITE,
                     .file = f,
                     .off = 5 * P };
    ck_assert_int_eq(vma_insert_vma(&s, &v), 0);
    ck_assert_int_eq(f->refs, 2);
    /* Each piece of a split keeps the offset of its own start. */
    ck_assert_int_eq(vma_protect(&s, 12 * P, 14 * P, PROT_NONE), 0);
    ck_assert_int_eq((int)s.n, 3);
    ck_assert_uint_eq(s.v[0].off, 5 * P);
    ck_assert_uint_eq(s.v[1].off, 7 * P);
    ck_assert_uint_eq(s.v[2].off, 9 * P);
    ck_assert_int_eq(s.v[2].noprot, PROT_WRITE);
    ck_assert_int_eq(f->refs, 4);
    ck_assert_int_eq(vma_remove(&s, 13 * P, 18 * P), 0);
    ck_assert_int_eq((int)s.n, 3);
    ck_assert_uint_eq(s.v[1].end, 13 * P);
    ck_assert_uint_eq(s.v[2].start, 18 * P);
    ck_assert_uint_eq(s.v[2].off, 13 * P);
    ck_assert_int_eq(f->refs, 4);
    ck_assert_int_eq(vma_remove(&s, 0, 13 * P), 0);
    ck_assert_int_eq(f->refs, 2);
    vma_set_free(&s);
    ck_assert_int_eq(f->refs, 1);
    file_put(f);
}
END_TEST

START_TEST(find_free_bottom_up)
{
    vma_insert(&s, 10 * P, 20 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 22 * P, 30 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    ck_assert_uint_eq(vma_find_free_low(&s, 2 * P, 0, 100 * P), 0); /* 0 is "none" too: from 0 */
    ck_assert_uint_eq(vma_find_free_low(&s, 2 * P, 5 * P, 100 * P), 5 * P);
    ck_assert_uint_eq(vma_find_free_low(&s, 2 * P, 12 * P, 100 * P), 20 * P);
    ck_assert_uint_eq(vma_find_free_low(&s, 3 * P, 12 * P, 100 * P), 30 * P);
    ck_assert_uint_eq(vma_find_free_low(&s, 3 * P, 12 * P, 32 * P), 0);
    ck_assert_uint_eq(vma_find_free_low(&s, 2 * P, 12 * P, 32 * P), 20 * P);
}
END_TEST

START_TEST(locks_count_split_and_merge)
{
    vma_insert(&s, 10 * P, 20 * P, PROT_READ, MAP_PRIVATE, VMA_ANON);
    vma_insert(&s, 20 * P, 24 * P, PROT_READ, MAP_PRIVATE, VMA_VDSO);
    vma_insert(&s, 30 * P, 40 * P, PROT_READ, MAP_PRIVATE, VMA_STUB);
    ck_assert_uint_eq(vma_mapped_bytes(&s, 0, UINT64_MAX), 14 * P); /* not the stub */
    ck_assert_uint_eq(vma_mapped_bytes(&s, 15 * P, 22 * P), 7 * P);
    ck_assert_int_eq(vma_set_locked(&s, 12 * P, 14 * P, VMA_LOCKED), 0);
    ck_assert_int_eq((int)s.n, 5);
    ck_assert_uint_eq(vma_locked_bytes(&s, 0, UINT64_MAX), 2 * P);
    ck_assert_uint_eq(vma_locked_bytes(&s, 13 * P, 20 * P), P);
    /* The vDSO is never locked (VM_SPECIAL). */
    ck_assert_int_eq(vma_set_locked(&s, 0, UINT64_MAX, VMA_LOCKED), 0);
    ck_assert_uint_eq(vma_locked_bytes(&s, 0, UINT64_MAX), 10 * P);
    ck_assert_int_eq((int)s.n, 3); /* 10-20 merged again */
    ck_assert_int_eq(vma_set_locked(&s, 0, UINT64_MAX, 0), 0);
    ck_assert_uint_eq(vma_locked_bytes(&s, 0, UINT64_MAX), 0);
    ck_assert_int_eq((int)s.n, 3);
}
END_TEST

UNIT_MAIN("vma", "vma", setup, teardown, 0, insert_and_find, remove_splits,
          protect_splits_and_requires_cover, find_free_topdown, many_inserts,
          file_offsets_and_references, find_free_bottom_up, locks_count_split_and_merge)
