/* Shared by the Check suites: build the test cases from one table each,
 * run one suite and turn failures into the exit status meson reads. */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/* One test case: its fixture (either may be NULL) and timeout in seconds
 * (0: Check's default), then its tests. */
static inline void unit_add_case(Suite *s, const char *name, void (*setup)(void),
                                 void (*teardown)(void), int timeout, const TTest *const *tests,
                                 size_t n)
{
    TCase *tc = tcase_create(name);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    if (timeout)
        tcase_set_timeout(tc, timeout);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

#define UNIT_CASE(s, name, setup, teardown, timeout, ...)                                          \
    unit_add_case((s), (name), (setup), (teardown), (timeout),                                     \
                  (const TTest *const[]){ __VA_ARGS__ },                                           \
                  sizeof((const TTest *const[]){ __VA_ARGS__ }) / sizeof(const TTest *))

/* Sleep ms milliseconds (to let another thread get somewhere). */
static inline void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* The stat of a new file: its type and mode, owner and group, one link,
 * empty, in 4096-byte blocks. */
static inline void assert_new_stat(const struct stat *st, mode_t mode, uid_t uid, gid_t gid)
{
    ck_assert_uint_eq(st->st_mode, mode);
    ck_assert_uint_eq(st->st_uid, uid);
    ck_assert_uint_eq(st->st_gid, gid);
    ck_assert_uint_eq(st->st_nlink, 1);
    ck_assert_int_eq(st->st_size, 0);
    ck_assert_int_eq(st->st_blksize, 4096);
}

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The main of a suite of several test cases: UNIT_SUITE_MAIN(suite name,
 * then its UNIT_CASE(s, ...) statements, the last one's ';' left out). */
#define UNIT_SUITE_MAIN(suite_name, ...)                                                           \
    int main(void)                                                                                 \
    {                                                                                              \
        Suite *s = suite_create(suite_name);                                                       \
        __VA_ARGS__;                                                                               \
        return unit_run(s);                                                                        \
    }

/* The main of a suite of one test case: UNIT_MAIN(suite name, then
 * UNIT_CASE's arguments from the case's name on). */
#define UNIT_MAIN(suite_name, ...) UNIT_SUITE_MAIN(suite_name, UNIT_CASE(s, __VA_ARGS__))

/* A test on two new objects a and b (of type T *): the statement make
 * makes them, the function body that follows the macro uses them (or one
 * of them), then put(a) and put(b) drop them. */
#define UNIT_PAIR_TEST(name, T, a, b, make, put)                                                   \
    static void name##_on(T *a, T *b);                                                             \
    START_TEST(name)                                                                               \
    {                                                                                              \
        T *a, *b;                                                                                  \
        make;                                                                                      \
        name##_on(a, b);                                                                           \
        put(a);                                                                                    \
        put(b);                                                                                    \
    }                                                                                              \
    END_TEST                                                                                       \
    static void name##_on(__attribute__((unused)) T *a, __attribute__((unused)) T *b)

#endif
