/* The new program's argument and environment strings, taken as Linux's
 * do_execveat_common takes them (count, bprm_stack_limits, copy_strings):
 * from the guest's memory for execve, from the sentry's for the first
 * program, with the same limits and in the same order, so that the same
 * error comes first. Also the changes #! makes to argv. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "loader/exec.h"
#include "sentry/kernel.h"

#define STK_LIM (8ULL << 20) /* _STK_LIM */
#define ARG_MAX_ (32 * 4096ULL)

/* Where the strings come from. */
struct strsrc {
    /* The index-th pointer of the array at base: 0 or -EFAULT. */
    int (*ptr)(void *ctx, uint64_t base, uint64_t index, uint64_t *out);
    /* The string at p, malloc'd, and its size with the NUL: -EFAULT, or
     * -E2BIG for one longer than EXEC_MAX_ARG_STRLEN. */
    long (*str)(void *ctx, uint64_t p, char **out);
    void *ctx;
};

/* Linux's count(): a NULL array is empty. */
static long count(const struct strsrc *s, uint64_t base)
{
    long n = 0;
    if (!base)
        return 0;
    for (;;) {
        uint64_t p;
        if (s->ptr(s->ctx, base, (uint64_t)n, &p) < 0)
            return -EFAULT;
        if (!p)
            return n;
        if (n >= EXEC_MAX_ARG_STRINGS)
            return -E2BIG;
        n++;
    }
}

/* Take len bytes (with the NUL) of the room; -E2BIG as copy_strings. */
static int take_room(struct exec_args *a, size_t len)
{
    if (len > EXEC_MAX_ARG_STRLEN || len > a->room)
        return -E2BIG;
    a->room -= len;
    return 0;
}

/* n strings of the array at base into v[0..n), last to first. */
static int copy_strings(const struct strsrc *s, struct exec_args *a, uint64_t base, char **v,
                        long n)
{
    while (n-- > 0) {
        uint64_t p;
        if (s->ptr(s->ctx, base, (uint64_t)n, &p) < 0)
            return -EFAULT;
        char *str = NULL;
        long len = p ? s->str(s->ctx, p, &str) : -EFAULT;
        if (len < 0)
            return (int)len;
        v[n] = str;
        int r = take_room(a, (size_t)len);
        if (r < 0)
            return r;
    }
    return 0;
}

static int copy_args(const struct strsrc *s, struct exec_prog *bp, uint64_t stack_rlim,
                     uint64_t argv, uint64_t envp)
{
    struct exec_args *a = &bp->args;
    long argc = count(s, argv);
    if (argc < 0)
        return (int)argc;
    long envc = count(s, envp);
    if (envc < 0)
        return (int)envc;
    /* bprm_stack_limits: 1/4 of the stack limit, at most 3/4 of _STK_LIM,
     * at least ARG_MAX, less a pointer for each string (argv at least
     * one, for the "" an empty argv gets). */
    uint64_t limit = STK_LIM / 4 * 3;
    if (stack_rlim / 4 < limit)
        limit = stack_rlim / 4;
    if (limit < ARG_MAX_)
        limit = ARG_MAX_;
    uint64_t ptrs = ((uint64_t)(argc ? argc : 1) + (uint64_t)envc) * sizeof(uint64_t);
    if (limit <= ptrs)
        return -E2BIG;
    a->room = limit - ptrs;
    a->argv = calloc((size_t)(argc ? argc : 1) + 1, sizeof(char *));
    a->envp = calloc((size_t)envc + 1, sizeof(char *));
    if (!a->argv || !a->envp)
        return -ENOMEM;
    a->argv_cap = (int)(argc ? argc : 1) + 1;
    /* The counts first: exec_args_free frees what was copied on failure. */
    a->envc = (int)envc;
    a->argc = (int)argc;
    int r = take_room(a, strlen(bp->filename) + 1);
    if (r == 0)
        r = copy_strings(s, a, envp, a->envp, envc);
    if (r == 0)
        r = copy_strings(s, a, argv, a->argv, argc);
    if (r < 0)
        return r;
    if (argc == 0) {
        /* Since Linux 5.18 an empty argv is {""}, so that a program that
         * starts at argv[1] does not walk into envp. */
        r = take_room(a, 1);
        if (r == 0 && !(a->argv[0] = strdup("")))
            r = -ENOMEM;
        if (r < 0)
            return r;
        a->argc = 1;
    }
    return 0;
}

/* ---- from the guest ---- */

struct guest_src {
    struct task *t;
    char *scratch; /* EXEC_MAX_ARG_STRLEN bytes */
    /* The pointers are read a page at a time: an array may be as long as
     * the guest likes, and count() reads it all. */
    uint64_t cbase, cfirst, cn;
    uint64_t cache[512];
    /* The strings likewise: the rest of the page that held the last one
     * read, as the next one usually follows it (a new process's strings
     * sit side by side on its stack). */
    uint64_t sbase, slen;
    char scache[GUEST_PAGE];
};

static int guest_ptr(void *ctx, uint64_t base, uint64_t index, uint64_t *out)
{
    struct guest_src *g = ctx;
    if (index > (UINT64_MAX - base) / 8)
        return -EFAULT;
    if (g->cbase != base || index < g->cfirst || index >= g->cfirst + g->cn) {
        uint64_t at = base + index * 8;
        /* Up to the end of the page, so a fault past it is not read early. */
        size_t len = (size_t)(GUEST_PAGE - (at & (GUEST_PAGE - 1)));
        if (len > sizeof(g->cache))
            len = sizeof(g->cache);
        long n = copy_in_partial(g->t, g->cache, at, len);
        g->cbase = base;
        g->cfirst = index;
        g->cn = n > 0 ? (uint64_t)n / 8 : 0;
        if (g->cn == 0)
            return copy_in(g->t, out, at, sizeof(*out));
    }
    *out = g->cache[index - g->cfirst];
    return 0;
}

static long guest_str(void *ctx, uint64_t p, char **out)
{
    struct guest_src *g = ctx;
    long n = -1;
    if (p - g->sbase < g->slen) {
        const char *at = g->scache + (p - g->sbase);
        const char *z = memchr(at, 0, (size_t)(g->slen - (p - g->sbase)));
        if (z) {
            n = z - at;
            memcpy(g->scratch, at, (size_t)n + 1);
        }
    }
    if (n < 0) {
        /* Up to the end of the page, so a fault past it is not read early. */
        size_t len = (size_t)(GUEST_PAGE - (p & (GUEST_PAGE - 1)));
        long got = copy_in_partial(g->t, g->scache, p, len);
        g->sbase = p;
        g->slen = got > 0 ? (uint64_t)got : 0;
        const char *z = got > 0 ? memchr(g->scache, 0, (size_t)got) : NULL;
        if (z) {
            n = z - g->scache;
            memcpy(g->scratch, g->scache, (size_t)n + 1);
        } else {
            n = strncpy_in(g->t, g->scratch, p, EXEC_MAX_ARG_STRLEN);
        }
    }
    if (n == -ENAMETOOLONG)
        return -E2BIG;
    if (n < 0)
        return n;
    *out = malloc((size_t)n + 1);
    if (!*out)
        return -ENOMEM;
    memcpy(*out, g->scratch, (size_t)n + 1);
    return n + 1;
}

int exec_args_guest(struct task *t, struct exec_prog *bp, uint64_t argv, uint64_t envp)
{
    struct guest_src *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->t = t;
    g->scratch = malloc(EXEC_MAX_ARG_STRLEN);
    if (!g->scratch) {
        free(g);
        return -ENOMEM;
    }
    struct strsrc s = { guest_ptr, guest_str, g };
    int r = copy_args(&s, bp, t->proc->rlim[RLIMIT_STACK].cur, argv, envp);
    free(g->scratch);
    free(g);
    return r;
}

/* ---- from the sentry ---- */

static int host_ptr(void *ctx, uint64_t base, uint64_t index, uint64_t *out)
{
    (void)ctx;
    *out = (uint64_t)(uintptr_t)((char *const *)(uintptr_t)base)[index];
    return 0;
}

static long host_str(void *ctx, uint64_t p, char **out)
{
    (void)ctx;
    const char *s = (const char *)(uintptr_t)p;
    size_t n = strnlen(s, EXEC_MAX_ARG_STRLEN);
    if (n == EXEC_MAX_ARG_STRLEN)
        return -E2BIG;
    if (!(*out = strdup(s)))
        return -ENOMEM;
    return (long)n + 1;
}

int exec_args_host(struct exec_prog *bp, uint64_t stack_rlim, char *const argv[],
                   char *const envp[])
{
    struct strsrc s = { host_ptr, host_str, NULL };
    return copy_args(&s, bp, stack_rlim, (uint64_t)(uintptr_t)argv, (uint64_t)(uintptr_t)envp);
}

/* ---- what #! changes ---- */

void exec_args_drop_first(struct exec_args *a)
{
    if (a->argc == 0)
        return;
    a->room += strlen(a->argv[0]) + 1;
    free(a->argv[0]);
    memmove(a->argv, a->argv + 1, (size_t)a->argc * sizeof(char *));
    a->argc--;
}

int exec_args_push_first(struct exec_args *a, const char *s)
{
    int r = take_room(a, strlen(s) + 1);
    if (r < 0)
        return r;
    if (a->argc + 2 > a->argv_cap) {
        int cap = a->argv_cap * 2 + 4;
        char **v = realloc(a->argv, (size_t)cap * sizeof(char *));
        if (!v)
            return -ENOMEM;
        a->argv = v;
        a->argv_cap = cap;
    }
    char *c = strdup(s);
    if (!c)
        return -ENOMEM;
    memmove(a->argv + 1, a->argv, ((size_t)a->argc + 1) * sizeof(char *));
    a->argv[0] = c;
    a->argc++;
    return 0;
}

void exec_args_free(struct exec_args *a)
{
    for (int i = 0; a->argv && i < a->argc; i++)
        free(a->argv[i]);
    for (int i = 0; a->envp && i < a->envc; i++)
        free(a->envp[i]);
    free(a->argv);
    free(a->envp);
    memset(a, 0, sizeof(*a));
}
