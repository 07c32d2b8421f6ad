/* Unit test of guest memory access: mem_read/mem_write/mem_strncpy on a
 * real process (ourselves) and the range checks of guest_range_ok. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/layout.h"
#include "sentry/mm.h"

static char *two_pages; /* first page readable, second unmapped */

static void setup(void)
{
    two_pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(two_pages, MAP_FAILED);
    munmap(two_pages + 4096, 4096);
}

static void teardown(void)
{
    munmap(two_pages, 4096);
}

START_TEST(read_write_roundtrip)
{
    char buf[100];
    memset(two_pages, 'x', 100);
    ck_assert_int_eq(mem_read(getpid(), buf, (uint64_t)(uintptr_t)two_pages, 100), 0);
    ck_assert_int_eq(memcmp(buf, two_pages, 100), 0);
    ck_assert_int_eq(mem_write(getpid(), (uint64_t)(uintptr_t)two_pages + 10, "hello", 5), 0);
    ck_assert_int_eq(memcmp(two_pages + 10, "hello", 5), 0);
}
END_TEST

START_TEST(faults_are_efault)
{
    char buf[64];
    ck_assert_int_eq(mem_read(getpid(), buf, 0, 8), -EFAULT);
    ck_assert_int_eq(mem_read(getpid(), buf, 1, 8), -EFAULT);
    /* Straddling into the unmapped page: the whole copy fails. */
    ck_assert_int_eq(mem_read(getpid(), buf, (uint64_t)(uintptr_t)two_pages + 4090, 16), -EFAULT);
    ck_assert_int_eq(mem_write(getpid(), (uint64_t)(uintptr_t)two_pages + 4090, buf, 16), -EFAULT);
    ck_assert_int_eq(mem_write(getpid(), 0xffffffffffff0000ULL, buf, 16), -EFAULT);
    ck_assert_int_eq(mem_read(getpid(), buf, (uint64_t)(uintptr_t)two_pages, 0), 0);
}
END_TEST

START_TEST(strncpy_bounds)
{
    char out[64];
    strcpy(two_pages, "abc");
    ck_assert_int_eq(mem_strncpy(getpid(), out, (uint64_t)(uintptr_t)two_pages, sizeof(out)), 3);
    ck_assert_str_eq(out, "abc");
    /* A string ending right at the end of the last mapped page is fine. */
    memset(two_pages + 4000, 'y', 95);
    two_pages[4095] = 0;
    ck_assert_int_eq(mem_strncpy(getpid(), out, (uint64_t)(uintptr_t)two_pages + 4060, sizeof(out)),
                     35);
    /* No NUL before the unmapped page: EFAULT. */
    two_pages[4095] = 'z';
    ck_assert_int_eq(mem_strncpy(getpid(), out, (uint64_t)(uintptr_t)two_pages + 4060, sizeof(out)),
                     -EFAULT);
    /* No NUL within max: ENAMETOOLONG. */
    memset(two_pages, 'q', 200);
    ck_assert_int_eq(mem_strncpy(getpid(), out, (uint64_t)(uintptr_t)two_pages, 10), -ENAMETOOLONG);
    ck_assert_int_eq(mem_strncpy(getpid(), out, 0, sizeof(out)), -EFAULT);
}
END_TEST

START_TEST(range_checks)
{
    ck_assert_int_eq(guest_range_ok(0x1000, 0), 1);
    ck_assert_int_eq(guest_range_ok(0x1000, 4096), 1);
    ck_assert_int_eq(guest_range_ok(TASK_SIZE - 16, 16), 1);
    ck_assert_int_eq(guest_range_ok(TASK_SIZE - 16, 17), 0);
    ck_assert_int_eq(guest_range_ok(~0ULL - 4, 16), 0); /* wraps */
    ck_assert_int_eq(guest_range_ok(0x1000, ~0ULL), 0); /* huge */
    /* Like access_ok: the stub region is refused by the copies, not here. */
    ck_assert_int_eq(guest_range_ok(STUB_BASE, 1), 1);
}
END_TEST

UNIT_MAIN("copy", "copy", setup, teardown, 0, read_write_roundtrip, faults_are_efault,
          strncpy_bounds, range_checks)
