/* Initial stack builder: reproduces the layout of Linux's execve on x86-64.
 *
 * Top down, as fs/exec.c and fs/binfmt_elf.c create_elf_tables() build it:
 *   8 zero bytes            bprm->p starts at vm_end - sizeof(void *)
 *   execfn string           copy_string_kernel(filename); AT_EXECFN
 *   envp strings            copy_strings(envp): envp[0] lowest
 *   argv strings            copy_strings(argv): argv[0] lowest = arg_start
 *   align_pad + 0..15 bytes arch_align_stack(): p -= random; p &= ~15
 *   platform string         STACK_ALLOC(strlen + 1), no alignment
 *   16 random bytes         AT_RANDOM, no alignment
 *   0 or 8 bytes            STACK_ROUND() so that rsp % 16 == 0
 *   auxv pairs, AT_NULL
 *   NULL, envp[], NULL, argv[], argc    <- rsp
 */
#include "loader/stack.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

struct stk {
    uint64_t lo, p; /* lowest usable address, current bottom */
};

/* Moves the bottom down by n bytes; -E2BIG if that leaves the buffer. */
static int stk_alloc(struct stk *s, uint64_t n)
{
    if (n > s->p - s->lo)
        return -E2BIG;
    s->p -= n;
    return 0;
}

static uint8_t *at(uint8_t *buf, uint64_t lo, uint64_t addr)
{
    return buf + (addr - lo);
}

/* buf may be unaligned for uint64_t, hence memcpy. */
static void put64(uint8_t *buf, uint64_t lo, uint64_t addr, uint64_t v)
{
    memcpy(at(buf, lo, addr), &v, sizeof(v));
}

static int check_params(uint64_t stack_top, const struct stack_params *p, const uint8_t *buf,
                        size_t buflen, const uint64_t *sp)
{
    if (!p || !sp || (!buf && buflen) || buflen > stack_top)
        return -EINVAL;
    if (p->argc < 0 || p->envc < 0 || p->nauxv < 0 || !p->execfn)
        return -EINVAL;
    if ((p->argc && !p->argv) || (p->envc && !p->envp) || (p->nauxv && !p->auxv))
        return -EINVAL;
    for (int i = 0; i < p->argc; i++)
        if (!p->argv[i])
            return -EINVAL;
    for (int i = 0; i < p->envc; i++)
        if (!p->envp[i])
            return -EINVAL;
    for (int i = 0; i < p->nauxv; i++) {
        if (p->auxv[i].type == AT_NULL)
            return -EINVAL;
        if (p->auxv[i].type == AT_PLATFORM && !p->platform)
            return -EINVAL;
    }
    return 0;
}

/* Reserves one string (with its NUL) below the current bottom. */
static int stk_string(struct stk *s, const char *str, uint64_t *addr)
{
    int ret = stk_alloc(s, (uint64_t)strlen(str) + 1);

    if (!ret)
        *addr = s->p;
    return ret;
}

int stack_build(uint64_t stack_top, const struct stack_params *p, uint8_t *buf, size_t buflen,
                uint64_t *sp)
{
    struct stk s;
    uint64_t execfn_at, arg_start = 0, platform_at = 0, random_at, words, rsp;
    uint64_t a;
    int ret;

    ret = check_params(stack_top, p, buf, buflen, sp);
    if (ret)
        return ret;
    s.lo = stack_top - buflen;
    s.p = stack_top;

    /* First pass: place everything and check that it fits, so a failure
	 * leaves buf untouched. */
    if ((ret = stk_alloc(&s, 8)) || (ret = stk_string(&s, p->execfn, &execfn_at)))
        return ret;
    /* Copied last to first so that the strings end up in order. */
    for (int i = p->envc - 1; i >= 0; i--)
        if ((ret = stk_string(&s, p->envp[i], &a)))
            return ret;
    for (int i = p->argc - 1; i >= 0; i--)
        if ((ret = stk_string(&s, p->argv[i], &a)))
            return ret;
    arg_start = s.p;
    if ((ret = stk_alloc(&s, p->align_pad)))
        return ret;
    s.p &= ~15ULL;
    if (s.p < s.lo)
        return -E2BIG;
    if (p->platform) {
        if ((ret = stk_string(&s, p->platform, &platform_at)))
            return ret;
    }
    if ((ret = stk_alloc(&s, sizeof(p->random))))
        return ret;
    random_at = s.p;
    /* auxv with AT_NULL, then argc, argv + NULL, envp + NULL. */
    words = 2 * ((uint64_t)p->nauxv + 1) + 1 + ((uint64_t)p->argc + 1) + ((uint64_t)p->envc + 1);
    if ((ret = stk_alloc(&s, words * 8)))
        return ret;
    rsp = s.p & ~15ULL;
    if (rsp < s.lo)
        return -E2BIG;

    /* Second pass: write. Fresh stack pages are zero on Linux, so are the
	 * alignment gaps here. */
    memset(at(buf, s.lo, rsp), 0, stack_top - rsp);
    memcpy(at(buf, s.lo, execfn_at), p->execfn, strlen(p->execfn) + 1);
    a = arg_start;
    put64(buf, s.lo, rsp, (uint64_t)p->argc);
    uint64_t w = rsp + 8;
    for (int i = 0; i < p->argc; i++, w += 8) {
        size_t n = strlen(p->argv[i]) + 1;

        memcpy(at(buf, s.lo, a), p->argv[i], n);
        put64(buf, s.lo, w, a);
        a += n;
    }
    w += 8; /* argv NULL, already zero */
    for (int i = 0; i < p->envc; i++, w += 8) {
        size_t n = strlen(p->envp[i]) + 1;

        memcpy(at(buf, s.lo, a), p->envp[i], n);
        put64(buf, s.lo, w, a);
        a += n;
    }
    w += 8; /* envp NULL */
    if (p->platform)
        memcpy(at(buf, s.lo, platform_at), p->platform, strlen(p->platform) + 1);
    memcpy(at(buf, s.lo, random_at), p->random, sizeof(p->random));
    for (int i = 0; i < p->nauxv; i++, w += 16) {
        uint64_t val = p->auxv[i].val;

        switch (p->auxv[i].type) {
        case AT_RANDOM:
            val = random_at;
            break;
        case AT_EXECFN:
            val = execfn_at;
            break;
        case AT_PLATFORM:
            val = platform_at;
            break;
        default:
            break;
        }
        put64(buf, s.lo, w, p->auxv[i].type);
        put64(buf, s.lo, w + 8, val);
    }
    /* AT_NULL pair is already zero. */
    *sp = rsp;
    return 0;
}
