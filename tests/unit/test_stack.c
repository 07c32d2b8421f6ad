/* Check suite for src/loader/stack.c: the initial stack layout against
 * Linux's (hand-computed addresses and structural walks), -E2BIG and
 * -EINVAL. */
#include "loader/stack.h"

#include <check.h>

#include "unit.h"
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TOP 0x7ffffffff000ULL
#define BUFLEN 0x10000

static uint8_t *buf;

static void setup(void)
{
    buf = malloc(BUFLEN + 1);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 0xaa, BUFLEN + 1);
}

static void teardown(void)
{
    free(buf);
}

/* buf[0] stands for top - buflen. */
static uint64_t rd64(const uint8_t *b, uint64_t top, size_t len, uint64_t addr)
{
    uint64_t v;

    ck_assert_msg(addr >= top - len && addr + 8 <= top, "addr %#lx outside", (unsigned long)addr);
    memcpy(&v, b + (addr - (top - len)), sizeof(v));
    return v;
}

static const char *str_at(const uint8_t *b, uint64_t top, size_t len, uint64_t addr)
{
    const char *s;

    ck_assert_msg(addr >= top - len && addr < top, "addr %#lx outside", (unsigned long)addr);
    s = (const char *)b + (addr - (top - len));
    ck_assert_msg(memchr(s, '\0', top - addr), "string unterminated");
    return s;
}

static const char *const ARGV[] = { "prog", "-x", "hello world" };
static const char *const ENVP[] = { "A=1", "PATH=/bin:/usr/bin" };
static const char EXECFN[] = "/usr/bin/prog";
static const struct auxv_ent AUXV[] = {
    { AT_PHDR, 0x400040 }, { AT_PAGESZ, 4096 }, { AT_RANDOM, 1 },
    { AT_EXECFN, 2 },      { AT_PLATFORM, 3 },  { AT_ENTRY, 0x401000 },
};
#define NAUXV ((int)(sizeof(AUXV) / sizeof(AUXV[0])))

static struct stack_params params(void)
{
    struct stack_params p = {
        .argc = 3,
        .argv = ARGV,
        .envc = 2,
        .envp = ENVP,
        .execfn = EXECFN,
        .platform = "x86_64",
        .auxv = AUXV,
        .nauxv = NAUXV,
    };

    for (int i = 0; i < 16; i++)
        p.random[i] = (uint8_t)(0xc0 + i);
    return p;
}

/* One NULL-ended pointer vector at w (argv or envp): each string starts
 * at *expect_str, where the one before ended; the first sets it when the
 * vector starts the strings (first). Returns the word after the NULL. */
static uint64_t check_strv(const uint8_t *b, uint64_t top, size_t len, uint64_t w,
                           const char *const *v, int n, int first, uint64_t *expect_str)
{
    for (int i = 0; i < n; i++, w += 8) {
        uint64_t a = rd64(b, top, len, w);
        if (i == 0 && first)
            *expect_str = a;
        ck_assert_uint_eq(a, *expect_str);
        ck_assert_str_eq(str_at(b, top, len, a), v[i]);
        *expect_str += strlen(v[i]) + 1;
    }
    ck_assert_uint_eq(rd64(b, top, len, w), 0);
    return w + 8;
}

/* Walks a built stack the way a program reading its own stack would and
 * checks every Linux layout rule. */
static void check_layout(const uint8_t *b, uint64_t top, size_t len, const struct stack_params *p,
                         uint64_t sp)
{
    uint64_t lo = top - len, w = sp, at_random = 0, at_execfn = 0, at_platform = 0, auxv_end,
             expect_str;
    size_t execfn_len = strlen(p->execfn) + 1;

    ck_assert_uint_eq(sp % 16, 0);
    ck_assert(sp >= lo && sp < top);
    ck_assert_uint_eq(rd64(b, top, len, w), (uint64_t)p->argc);
    w += 8;

    /* argv and envp strings follow one another from argv[0] up, and end
	 * right where the execfn string starts. */
    expect_str = 0;
    w = check_strv(b, top, len, w, p->argv, p->argc, 1, &expect_str);
    w = check_strv(b, top, len, w, p->envp, p->envc, p->argc == 0, &expect_str);

    for (int i = 0; i < p->nauxv; i++, w += 16) {
        uint64_t type = rd64(b, top, len, w), val = rd64(b, top, len, w + 8);

        ck_assert_uint_eq(type, p->auxv[i].type);
        if (type == AT_RANDOM)
            at_random = val;
        else if (type == AT_EXECFN)
            at_execfn = val;
        else if (type == AT_PLATFORM)
            at_platform = val;
        else
            ck_assert_uint_eq(val, p->auxv[i].val);
    }
    ck_assert_uint_eq(rd64(b, top, len, w), AT_NULL);
    ck_assert_uint_eq(rd64(b, top, len, w + 8), 0);
    auxv_end = w + 16;

    /* Top: 8 zero bytes, execfn right below. */
    ck_assert_uint_eq(rd64(b, top, len, top - 8), 0);
    if (at_execfn) {
        ck_assert_uint_eq(at_execfn, top - 8 - execfn_len);
        ck_assert_str_eq(str_at(b, top, len, at_execfn), p->execfn);
        if (p->argc || p->envc)
            ck_assert_uint_eq(expect_str, at_execfn);
    }

    /* Below the strings: the random pad, align to 16, platform, 16 random bytes, then a
	 * gap of 0 or 8 bytes above the auxv. */
    if (at_random) {
        uint64_t arg_start = top - 8 - execfn_len;
        uint64_t above_random;

        for (int i = 0; i < p->argc; i++)
            arg_start -= strlen(p->argv[i]) + 1;
        for (int i = 0; i < p->envc; i++)
            arg_start -= strlen(p->envp[i]) + 1;
        above_random = (arg_start - p->align_pad) & ~15ULL;
        if (p->platform) {
            above_random -= strlen(p->platform) + 1;
            ck_assert_str_eq(str_at(b, top, len, above_random), p->platform);
            if (at_platform)
                ck_assert_uint_eq(at_platform, above_random);
        }
        ck_assert_uint_eq(at_random, above_random - 16);
        ck_assert_mem_eq(b + (at_random - lo), p->random, 16);
        ck_assert(at_random >= auxv_end && at_random - auxv_end < 16);
        for (uint64_t g = auxv_end; g < at_random; g++)
            ck_assert_uint_eq(b[g - lo], 0);
    }
}

/* Builds p's stack into b (len bytes below top): it must fit and follow
 * every layout rule. Returns rsp. */
static uint64_t build_ok(uint8_t *b, uint64_t top, size_t len, const struct stack_params *p)
{
    uint64_t sp = 0;

    ck_assert_int_eq(stack_build(top, p, b, len, &sp), 0);
    check_layout(b, top, len, p, sp);
    return sp;
}

/* The small stack the hand-computed cases start from: argv { "a" }, no
 * environment, execfn "/a", platform "x86_64", the given auxv. */
static struct stack_params tiny_params(const struct auxv_ent *ax, int nauxv)
{
    static const char *const av[] = { "a" };

    return (struct stack_params){
        .argc = 1,
        .argv = av,
        .execfn = "/a",
        .platform = "x86_64",
        .auxv = ax,
        .nauxv = nauxv,
    };
}

START_TEST(full_layout)
{
    struct stack_params p = params();
    uint64_t sp = build_ok(buf, TOP, BUFLEN, &p);

    /* Bytes below rsp are not the builder's. */
    for (uint64_t a = TOP - BUFLEN; a < sp; a++)
        ck_assert_uint_eq(buf[a - (TOP - BUFLEN)], 0xaa);
}
END_TEST

/* Addresses worked out by hand from fs/exec.c and create_elf_tables(). */
START_TEST(hand_computed)
{
    static const struct auxv_ent ax[] = { { AT_RANDOM, 0 } };
    struct stack_params p = tiny_params(ax, 1);
    const uint64_t top = 0x10000;
    const size_t len = 0x1000;

    /* p = 0xfff8; "/a" at 0xfff5; "a" at 0xfff3; align 0xfff0;
	 * "x86_64" at 0xffe9; random at 0xffd9; 8 words (auxv 4, argc,
	 * argv + NULL, envp NULL) = 0x40 -> 0xff99 -> rsp 0xff90. */
    uint64_t sp = build_ok(buf, top, len, &p);
    ck_assert_uint_eq(sp, 0xff90);
    ck_assert_uint_eq(rd64(buf, top, len, 0xff90), 1);
    ck_assert_uint_eq(rd64(buf, top, len, 0xff98), 0xfff3);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffa0), 0);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffa8), 0);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffb0), AT_RANDOM);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffb8), 0xffd9);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffc0), 0);
    ck_assert_uint_eq(rd64(buf, top, len, 0xffc8), 0);
    ck_assert_str_eq(str_at(buf, top, len, 0xffe9), "x86_64");
    ck_assert_str_eq(str_at(buf, top, len, 0xfff3), "a");
    ck_assert_str_eq(str_at(buf, top, len, 0xfff5), "/a");
    ck_assert_uint_eq(rd64(buf, top, len, 0xfff8), 0);
}
END_TEST

/* arch_align_stack's random offset: the hand-computed case with a pad.
 * p = 0xfff3 after "a"; - 0x123 = 0xfed0, aligned 0xfed0; "x86_64" at
 * 0xfec9; random at 0xfeb9; 10 words (auxv 6, argc, argv + NULL, envp
 * NULL) = 0x50 -> 0xfe69 -> rsp 0xfe60. */
START_TEST(random_pad)
{
    static const struct auxv_ent ax[] = { { AT_RANDOM, 0 }, { AT_PLATFORM, 0 } };
    struct stack_params p = tiny_params(ax, 2);
    const uint64_t top = 0x10000;
    const size_t len = 0x1000;

    p.align_pad = 0x123;
    uint64_t sp = build_ok(buf, top, len, &p);
    ck_assert_uint_eq(sp, 0xfe60);
    ck_assert_str_eq(str_at(buf, top, len, 0xfec9), "x86_64");
    for (uint32_t pad = 0; pad < 8192; pad += 97) {
        p.align_pad = pad;
        build_ok(buf, 0x10000, 0x4000, &p);
    }
    /* A pad that leaves the buffer is E2BIG, not a write outside it. */
    p.align_pad = 0x1000;
    ck_assert_int_eq(stack_build(top, &p, buf, len, &sp), -E2BIG);
}
END_TEST

/* Every string length mod 16 and both word-count parities. */
START_TEST(alignment_sweep)
{
    static const char long_arg[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    struct stack_params p = params();

    for (size_t n = 0; n < sizeof(long_arg); n++) {
        for (int nauxv = 0; nauxv <= NAUXV; nauxv++) {
            for (int envc = 0; envc <= 2; envc++) {
                char arg[sizeof(long_arg)];
                const char *av[] = { "p", arg };

                memcpy(arg, long_arg, n);
                arg[n] = '\0';
                p.argc = 2;
                p.argv = av;
                p.envc = envc;
                p.nauxv = nauxv;
                p.platform = n % 2 ? "x86_64" : NULL;
                /* AT_PLATFORM needs a platform: drop it. */
                if (!p.platform && nauxv > 4)
                    p.nauxv = 4;
                memset(buf, 0xaa, BUFLEN);
                build_ok(buf, TOP, BUFLEN, &p);
            }
        }
    }
}
END_TEST

START_TEST(empty_argv_envp)
{
    static const struct auxv_ent ax[] = { { AT_EXECFN, 0 }, { AT_RANDOM, 0 } };
    struct stack_params p = { .execfn = "x", .auxv = ax, .nauxv = 2 };
    uint64_t sp = build_ok(buf, TOP, BUFLEN, &p);

    ck_assert_uint_eq(rd64(buf, TOP, BUFLEN, sp), 0);
    ck_assert_uint_eq(rd64(buf, TOP, BUFLEN, sp + 8), 0);
    ck_assert_uint_eq(rd64(buf, TOP, BUFLEN, sp + 16), 0);
}
END_TEST

START_TEST(unaligned_buffer)
{
    struct stack_params p = params();

    /* buf + 1: every 8-byte store is misaligned on the host. */
    build_ok(buf + 1, TOP, BUFLEN, &p);
}
END_TEST

START_TEST(too_small)
{
    struct stack_params p = params();
    uint64_t sp = 0, need;

    ck_assert_int_eq(stack_build(TOP, &p, buf, BUFLEN, &sp), 0);
    need = TOP - sp;
    /* The minimal buffer is exactly rsp..top. */
    memset(buf, 0xaa, BUFLEN);
    sp = build_ok(buf, TOP, need, &p);
    ck_assert_uint_eq(sp, TOP - need);
    for (size_t len = 0; len < need; len++) {
        uint64_t sp2 = 1234;

        memset(buf, 0xaa, need);
        ck_assert_int_eq(stack_build(TOP, &p, buf, len, &sp2), -E2BIG);
        ck_assert_uint_eq(sp2, 1234);
        for (size_t i = 0; i < need; i++)
            ck_assert_uint_eq(buf[i], 0xaa);
    }
}
END_TEST

START_TEST(huge_string)
{
    struct stack_params p = params();
    char *big = malloc(BUFLEN);
    const char *av[] = { big };
    uint64_t sp = 0;

    ck_assert_ptr_nonnull(big);
    memset(big, 'z', BUFLEN - 1);
    big[BUFLEN - 1] = '\0';
    p.argc = 1;
    p.argv = av;
    ck_assert_int_eq(stack_build(TOP, &p, buf, BUFLEN, &sp), -E2BIG);
    p.argc = 0;
    p.execfn = big;
    ck_assert_int_eq(stack_build(TOP, &p, buf, BUFLEN, &sp), -E2BIG);
    /* A stack top near 0 cannot wrap below address 0. */
    p = params();
    ck_assert_int_eq(stack_build(256, &p, buf, 256, &sp), -E2BIG);
    build_ok(buf, 512, 512, &p);
    free(big);
}
END_TEST

/* params() changed by the given assignments to q: EINVAL. A macro, so
 * that a failure names the line of its case. */
#define REJECTED(...)                                                                              \
    do {                                                                                           \
        struct stack_params q = params();                                                          \
        __VA_ARGS__;                                                                               \
        ck_assert_int_eq(stack_build(TOP, &q, buf, BUFLEN, &sp), -EINVAL);                         \
    } while (0)

START_TEST(bad_params)
{
    struct stack_params p = params();
    const char *av_null[] = { "a", NULL };
    struct auxv_ent ax_null[] = { { AT_PAGESZ, 4096 }, { AT_NULL, 0 } };
    uint64_t sp = 0;

    ck_assert_int_eq(stack_build(TOP, NULL, buf, BUFLEN, &sp), -EINVAL);
    ck_assert_int_eq(stack_build(TOP, &p, buf, BUFLEN, NULL), -EINVAL);
    ck_assert_int_eq(stack_build(TOP, &p, NULL, BUFLEN, &sp), -EINVAL);
    ck_assert_int_eq(stack_build(BUFLEN - 1, &p, buf, BUFLEN, &sp), -EINVAL);

    REJECTED(q.argc = -1);
    REJECTED(q.envc = -1);
    REJECTED(q.nauxv = -1);
    REJECTED(q.argv = NULL);
    REJECTED(q.envp = NULL);
    REJECTED(q.argv = av_null, q.argc = 2);
    REJECTED(q.execfn = NULL);
    REJECTED(q.auxv = ax_null, q.nauxv = 2);
    REJECTED(q.platform = NULL); /* AUXV has AT_PLATFORM */
    REJECTED(q.auxv = NULL);
}
END_TEST

UNIT_MAIN("loader_stack", "build", setup, teardown, 60, full_layout, hand_computed, random_pad,
          alignment_sweep, empty_argv_envp, unaligned_buffer, too_small, huge_string, bad_params)
