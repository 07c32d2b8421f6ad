/* Check suite for src/loader/args.c: execve's limits on the new program's
 * strings (Linux's bprm_stack_limits and copy_strings) at their exact
 * edges, an empty argv, and what #! does to argv. */
#include "loader/exec.h"

#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MB (1ULL << 20)

static struct exec_prog bp;

static void setup(void)
{
    ck_assert_int_eq(exec_init(&bp, NULL, "f"), 0); /* "f": 2 bytes of the room */
}

static void teardown(void)
{
    exec_prog_free(&bp);
}

/* A string of n bytes (n - 1 characters and the NUL). */
static char *str(size_t n)
{
    char *s = malloc(n);
    memset(s, 'a', n - 1);
    s[n - 1] = 0;
    return s;
}

/* An 8 MiB stack allows 2 MiB of strings, less 8 bytes a pointer: with
 * one argument and no environment, the argument and "f" fill it exactly. */
START_TEST(room_edge)
{
    size_t room = 2 * MB - 8 - 2;
    char *big = str(EXEC_MAX_ARG_STRLEN);
    /* 16 strings of the most one may have, then what is left. */
    char *v[20];
    int n = 0;
    for (; n < 15; n++)
        v[n] = big;
    size_t left = room - 8 * 15 - 15 * (size_t)EXEC_MAX_ARG_STRLEN;
    v[n++] = str(left);
    v[n] = NULL;
    char *envp[] = { NULL };
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), 0);
    ck_assert_int_eq(bp.args.argc, 16);
    ck_assert_uint_eq(bp.args.room, 0);
    exec_prog_free(&bp);
    setup();
    free(v[15]);
    v[15] = str(left + 1);
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), -E2BIG);
    free(v[15]);
    free(big);
}
END_TEST

START_TEST(string_max)
{
    char *s = str(EXEC_MAX_ARG_STRLEN);
    char *v[] = { s, NULL }, *envp[] = { NULL };
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), 0);
    exec_prog_free(&bp);
    setup();
    free(s);
    s = str(EXEC_MAX_ARG_STRLEN + 1);
    v[0] = s;
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), -E2BIG);
    exec_prog_free(&bp);
    setup();
    char *e[] = { s, NULL }, *one[] = { "x", NULL };
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, one, e), -E2BIG);
    free(s);
}
END_TEST

/* A small stack limit still allows ARG_MAX (128 KiB); a huge one at most
 * 6 MiB (3/4 of _STK_LIM). */
START_TEST(limit_bounds)
{
    char *v[] = { "x", NULL }, *envp[] = { NULL };
    ck_assert_int_eq(exec_args_host(&bp, 4096, v, envp), 0);
    ck_assert_uint_eq(bp.args.room, 128 * 1024 - 8 - 2 - 2);
    exec_prog_free(&bp);
    setup();
    ck_assert_int_eq(exec_args_host(&bp, ~0ULL, v, envp), 0);
    ck_assert_uint_eq(bp.args.room, 6 * MB - 8 - 2 - 2);
}
END_TEST

START_TEST(empty_argv)
{
    char *v[] = { NULL }, *envp[] = { "A=1", NULL };
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), 0);
    ck_assert_int_eq(bp.args.argc, 1);
    ck_assert_str_eq(bp.args.argv[0], "");
    ck_assert_ptr_null(bp.args.argv[1]);
    ck_assert_int_eq(bp.args.envc, 1);
    ck_assert_str_eq(bp.args.envp[0], "A=1");
}
END_TEST

START_TEST(script_rewrite)
{
    char *v[] = { "s", "a1", NULL }, *envp[] = { NULL };
    ck_assert_int_eq(exec_args_host(&bp, 8 * MB, v, envp), 0);
    uint64_t room = bp.args.room;
    exec_args_drop_first(&bp.args);
    ck_assert_uint_eq(bp.args.room, room + 2);
    ck_assert_int_eq(exec_args_push_first(&bp.args, "./s"), 0);
    ck_assert_int_eq(exec_args_push_first(&bp.args, "-x"), 0);
    ck_assert_int_eq(exec_args_push_first(&bp.args, "/bin/sh"), 0);
    const char *want[] = { "/bin/sh", "-x", "./s", "a1" };
    ck_assert_int_eq(bp.args.argc, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(bp.args.argv[i], want[i]);
    ck_assert_ptr_null(bp.args.argv[4]);
    ck_assert_uint_eq(bp.args.room, room + 2 - 4 - 3 - 8);
    bp.args.room = 3;
    ck_assert_int_eq(exec_args_push_first(&bp.args, "abc"), -E2BIG);
}
END_TEST

UNIT_MAIN("loader_exec_args", "args", setup, teardown, 60, room_edge, string_max, limit_bounds,
          empty_argv, script_rewrite)
