/* fuzz.c: a guest that makes random system calls with random but plausible
 * arguments, to find sentry crashes, hangs, leaks and escapes. Built with
 * musl-gcc -static like the guest tests; run by tests/fuzz/run.sh.
 *
 * Usage: fuzz SCRATCH TMPDIR CANARY LOGFILE SEED CALLS
 *   SCRATCH  a directory (hostfs, read-write) it fills with a tree and fuzzes
 *   TMPDIR   a directory on a tmpfs it does the same with
 *   CANARY   a read-only directory it aims writes at (must stay unchanged)
 *   LOGFILE  the call log: a ring of fixed-size records written with pwrite
 *            before each call (and the result after it), so whoever runs it
 *            can show the last calls of a crash or hang
 *   SEED     everything follows from it: the same seed in the same fresh
 *            layout makes the same calls
 *   CALLS    how many fuzzed calls to make before exit(0)
 *
 * Syscall numbers come from the sentry's table (include/sentry/syscalls.def,
 * included below, so every syscall added there gets fuzzed) plus numbers the
 * table does not have. Argument kinds in the table choose the generators.
 *
 * What it must not do to stay useful (each is filtered where the call is
 * built, see fixup()): end itself (exit, exit_group, kill...) or replace
 * itself (execve and execveat only name what cannot be run), block
 * forever (blocking calls get O_NONBLOCK descriptors, LOCK_NB, finite
 * timeouts, futex waits and sleeps a short or refused timeout; pause and
 * wait calls are excluded), unmap or
 * overwrite its own image, stack or state (memory calls never touch the
 * ranges in /proc/self/maps at start, nor the high half below the kernel;
 * "valid" buffers are dedicated scratch pages), touch its log descriptor,
 * change RLIMIT_FSIZE (the log would stop), or fill the host's disk or
 * memory (fallocate, sendfile, splice, copy_file_range and mmap lengths are
 * bounded unless absurd), or give up its identity for good (the setuid
 * family keeps a real uid of 0, capset keeps the permitted set, so
 * restore_creds() can always come back to the starting ids, groups and
 * capabilities; it does so often). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "../guest/guest.h" /* sc(): raw syscalls returning -errno */

/* The argument kinds of include/sentry/syscall.h (same names; a kind added
 * there must be added here, which the build then insists on). */
enum kind {
    K_NONE = 0,
    K_INT,
    K_UINT,
    K_HEX,
    K_PTR,
    K_FD,
    K_DIRFD,
    K_STR,
    K_IBUF,
    K_OBUF,
    K_LEN,
    K_OCT,
    K_SIG,
    K_IOV,
    K_PROT,
    K_MAPF,
    K_CLOCK,
    K_RLIM,
    K_OFF,
    K_SKIP
};
#define SF_NONE 0
#define SF_BLOCKS 1
#define SF_NORET 2
#define SF_EXEC 4

struct sysent {
    int nr;
    const char *name;
    unsigned char res, k[6];
    int flags;
};

static const struct sysent table[] = {
#define SYS(nr, name, res, a, b, c, d, e, f, fl) { nr, #name, res, { a, b, c, d, e, f }, fl },
#include "syscalls.def"
#undef SYS
};
#define NTABLE ((int)(sizeof table / sizeof table[0]))

/* Never made, implemented or not: they end the guest, replace it, signal
 * it, or wait for something no single-threaded guest can provide. A call
 * here that gets implemented needs a bounded form before it leaves. */
static const int excluded[] = {
    SYS_exit, SYS_exit_group,
    /* A vfork child runs on our stack until it exits: it would overwrite
     * the return address of the call the parent is still in. */
    SYS_vfork, SYS_pause, SYS_rt_sigreturn, SYS_ptrace, SYS_seccomp, SYS_reboot, SYS_accept,
    SYS_accept4, SYS_recvmmsg, SYS_connect, SYS_io_getevents, SYS_io_pgetevents, SYS_userfaultfd,
    SYS_vhangup, SYS_kexec_load, SYS_swapon, SYS_swapoff, SYS_mount, SYS_umount2, SYS_pivot_root,
    SYS_unshare, SYS_setns, SYS_personality, SYS_mlockall,
    SYS_set_tid_address, /* harmless today; a future clear_child_tid on exit is not */
};

/* Fixed places, away from the image, the stack and mmap's default range. */
#define BUF_BASE 0x200000000UL /* valid buffers, a guard page after them */
#define BUF_SIZE (1UL << 20)
#define EDGE (BUF_BASE + BUF_SIZE) /* first unmapped byte */
#define STR_BASE 0x210000000UL     /* strings and structures we build */
#define STR_SIZE (64UL << 10)
#define ARENA 0x300000000UL /* fair game for memory calls */
#define ARENA_SIZE (16UL << 20)
#define STUB_BASE 0x7e0000000000UL
#define STUB_SPAN (0x1000000UL + 256 * 0x10000UL)
#define LOGFD 200
#define REC 256
#define RING 512

static uint64_t rng;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}
static int chance(int pct)
{
    return (int)below(100) < pct;
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    sc(SYS_write, LOGFD, b, n > 0 ? n : 0);
    sc(SYS_exit_group, 99);
    __builtin_unreachable();
}

/* ---- memory we protect from memory calls ---- */
static struct {
    uint64_t lo, hi;
} prot[64];
static int nprot;
static void protect(uint64_t lo, uint64_t hi)
{
    if (nprot < 64)
        prot[nprot].lo = lo, prot[nprot++].hi = hi;
}
static int overlaps_protected(uint64_t a, uint64_t len)
{
    uint64_t end = a + ((len + 4095) & ~4095UL);
    if (len > (1UL << 47) || end < a)
        return 0; /* refused by length checks before anything happens */
    if (len == 0)
        end = a + 4096;
    for (int i = 0; i < nprot; i++)
        if (a < prot[i].hi && end > prot[i].lo)
            return 1;
    return 0;
}

static void protect_maps(void)
{
    static char m[32768];
    long fd = sc(SYS_open, "/proc/self/maps", O_RDONLY);
    long n = 0, r;
    if (fd >= 0) {
        while (n < (long)sizeof m - 1 && (r = sc(SYS_read, fd, m + n, sizeof m - 1 - n)) > 0)
            n += r;
        sc(SYS_close, fd);
    }
    m[n > 0 ? n : 0] = 0;
    for (char *p = m; *p;) {
        char *e;
        uint64_t lo = strtoull(p, &e, 16);
        uint64_t hi = *e == '-' ? strtoull(e + 1, &e, 16) : lo;
        protect(lo, hi);
        while (*p && *p != '\n')
            p++;
        if (*p)
            p++;
    }
    /* Whatever maps shows, never the image nor anything near the stack or
     * the vDSO; the stub region stays fair game: the sentry must refuse. */
    extern char _end[];
    protect(0, ((uint64_t)(uintptr_t)_end + (16UL << 20)) & ~4095UL);
    protect(0x7f0000000000UL, 0x800000000000UL);
}

/* ---- pools ---- */
static char scratch[256], tmpdir[256], canary[256];
static const char *paths[200];
static int npaths;
static char pathstore[200][320];
static int fds[64];
static int nfds;
static uint64_t maps[32]; /* recent mmap results */
static int nmaps;

static void add_path(const char *fmt, ...)
{
    if (npaths >= 200)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pathstore[npaths], sizeof pathstore[0], fmt, ap);
    va_end(ap);
    paths[npaths] = pathstore[npaths];
    npaths++;
}
static void add_fd(long fd)
{
    if (fd < 0 || fd == LOGFD)
        return;
    if (nfds < 64)
        fds[nfds++] = (int)fd;
    else
        fds[below(64)] = (int)fd;
}

/* ---- value generators ---- */
/* In a "sane" call (half of them) every argument is likely valid, so calls
 * get past their argument checks and reach deeper code. */
static int sane;

static uint64_t gen_int(void)
{
    if (sane && chance(80))
        return below(chance(50) ? 4 : 4096);
    static const uint64_t special[] = { 0,
                                        1,
                                        2,
                                        3,
                                        -1UL,
                                        -2UL,
                                        0x7fffffff,
                                        0x80000000,
                                        0xffffffff,
                                        0x100000000,
                                        0x7fffffffffffffff,
                                        0x8000000000000000,
                                        4095,
                                        4096,
                                        4097,
                                        65536,
                                        -4096UL,
                                        255,
                                        256,
                                        1024,
                                        1UL << 40,
                                        -100UL };
    switch (below(6)) {
    case 0:
        return special[below(sizeof special / sizeof special[0])];
    case 1:
        return below(16);
    case 2:
        return below(5000);
    case 3:
        return rnd();
    case 4:
        return (uint32_t)rnd();
    default:
        return (1UL << below(64)) + below(3) - 1;
    }
}

/* Below n (a small enum or count) pct% of the time, else any int. */
static uint64_t gen_below(int pct, uint64_t n)
{
    return chance(pct) ? below(n) : gen_int();
}

static uint64_t buf_ptr(uint64_t room)
{
    if (room > BUF_SIZE)
        room = BUF_SIZE;
    return BUF_BASE + below(BUF_SIZE - room + 1);
}

static uint64_t gen_ptr(void)
{
    if (sane && chance(85))
        return nmaps && chance(20) ? maps[below(nmaps)] : buf_ptr(4096);
    switch (below(16)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return EDGE - 1 - below(8); /* runs into the guard page */
    case 3:
        return EDGE + below(4096); /* unmapped */
    case 4:
        return 0xffff800000000000UL + (below(4) << 40) + below(1 << 20); /* kernel */
    case 5:
        return 0x0000800000000000UL + below(4096); /* non-canonical / past TASK_SIZE */
    case 6:
        return STUB_BASE + below(STUB_SPAN); /* the stub's region */
    case 7:
        return -1UL - below(4096);
    case 8:
        return nmaps ? maps[below(nmaps)] + below(8192) : ARENA;
    case 9:
        return ARENA + below(ARENA_SIZE);
    case 10:
        return rnd();
    default:
        return buf_ptr(below(2) ? 4096 : 64);
    }
}

/* A pointer that is surely not to memory: for where a valid one would be
 * read as something that makes the call wait (a timeout) or run long. */
static uint64_t gen_badptr(void)
{
    for (;;) {
        uint64_t p = gen_ptr();
        int ok = p != 0 && !(p >= BUF_BASE && p < EDGE) &&
                 !(p >= ARENA && p < ARENA + ARENA_SIZE) &&
                 !(p >= STR_BASE && p < STR_BASE + STR_SIZE);
        for (int i = 0; i < nmaps && ok; i++)
            ok = !(p >= maps[i] && p - maps[i] < (32UL << 20)); /* mmap lengths are bounded */
        if (ok)
            return p;
    }
}

static uint64_t gen_len(void)
{
    if (sane && chance(85))
        return below(chance(50) ? 64 : 4097);
    switch (below(8)) {
    case 0:
        return 0;
    case 1:
        return below(16);
    case 2:
        return below(4097);
    case 3:
        return below(BUF_SIZE + 8192);
    case 4:
        return gen_int();
    case 5:
        return 1UL << below(64);
    default:
        return below(300);
    }
}

static long gen_fd(int dir)
{
    if (dir && chance(40))
        return -100; /* AT_FDCWD */
    if (sane && nfds && chance(90))
        return fds[below(nfds)];
    switch (below(10)) {
    case 0:
        return below(3);
    case 1:
        return -1 - (long)below(3);
    case 2:
        return LOGFD + 1 + below(100); /* closed */
    case 3:
        return (long)gen_int();
    default:
        return nfds ? fds[below(nfds)] : 0;
    }
}

/* Returns an address in the string area holding a path, or a bad pointer. */
static uint64_t stroff;
static char *strarea(size_t n)
{
    if (stroff + n + 64 > STR_SIZE)
        stroff = 0;
    char *p = (char *)(STR_BASE + stroff);
    stroff = (stroff + n + 64) & ~15UL;
    return p;
}

static uint64_t gen_path(void)
{
    switch (sane ? 3 + below(17) : below(20)) {
    case 0:
        return gen_ptr();
    case 1: { /* a path that runs into the guard page without a NUL */
        char *p = (char *)(EDGE - 1 - below(64));
        memset(p, 'a', EDGE - (uint64_t)(uintptr_t)p);
        return (uint64_t)(uintptr_t)p;
    }
    case 2: { /* long: past NAME_MAX or PATH_MAX */
        size_t n = below(2) ? 250 + below(20) : 4090 + below(12);
        char *p = strarea(n + 1);
        for (size_t i = 0; i < n; i++)
            p[i] = (i % 8 == 7 && below(2)) ? '/' : 'a' + (char)below(3);
        p[n] = 0;
        return (uint64_t)(uintptr_t)p;
    }
    default: {
        const char *s = paths[below(npaths)];
        char *p = strarea(strlen(s) + 8);
        strcpy(p, s);
        if (chance(5))
            strcat(p, "/");
        return (uint64_t)(uintptr_t)p;
    }
    }
}

static uint64_t gen_xname(void)
{
    static const char *names[] = { "user.a",
                                   "user.b",
                                   "trusted.x",
                                   "security.selinux",
                                   "system.posix_acl_access",
                                   "user.",
                                   "",
                                   "nope.x",
                                   "user.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
    if (chance(10))
        return gen_ptr();
    const char *s = names[below(sizeof names / sizeof names[0])];
    char *p = strarea(strlen(s) + 1);
    strcpy(p, s);
    return (uint64_t)(uintptr_t)p;
}

static uint64_t gen_flags(void)
{
    if (sane && chance(85))
        return chance(50) ? 0 : 1UL << below(16);
    switch (below(7)) {
    case 0:
    case 1:
        return 0;
    case 2:
        return 1UL << below(20);
    case 3:
        return (1UL << below(16)) | (1UL << below(16));
    case 4:
        return rnd() & 0xfff;
    case 5:
        return (uint32_t)rnd();
    default:
        return chance(50) ? rnd() : 1UL << below(64);
    }
}

/* f with up to three of the nbits bits, and now and then any flags. */
static uint64_t add_bits(uint64_t f, const int *bits, size_t nbits)
{
    int n = (int)below(4);
    for (int i = 0; i < n; i++)
        f |= bits[below(nbits)];
    if (chance(3))
        f |= gen_flags();
    return f;
}

static uint64_t gen_open_flags(void)
{
    static const int bits[] = { O_CREAT,    O_EXCL,  O_TRUNC,   O_APPEND,  O_DIRECTORY,
                                O_NOFOLLOW, O_PATH,  O_TMPFILE, O_CLOEXEC, O_NOCTTY,
                                O_SYNC,     O_DSYNC, O_NOATIME, O_DIRECT,  O_LARGEFILE };
    return add_bits(below(4), bits, sizeof bits / sizeof bits[0]);
}

static uint64_t gen_mode(void)
{
    static const unsigned types[] = { 0,       0,       0,       0010000, 0020000,
                                      0060000, 0140000, 0100000, 0040000, 0170000 };
    if (sane && chance(80))
        return chance(30) ? below(8) : rnd() & 0777;
    if (chance(5))
        return gen_int();
    return (rnd() & 07777) | types[below(sizeof types / sizeof types[0])];
}

static uint64_t gen_prot(void)
{
    return chance(5) ? gen_flags() : below(8);
}

static uint64_t gen_mapf(void)
{
    static const int bits[] = { 0x10 /* FIXED */,
                                0x20 /* ANON */,
                                0x100000 /* FIXED_NOREPLACE */,
                                0x8000 /* POPULATE */,
                                0x4000 /* NORESERVE */,
                                0x100 /* GROWSDOWN */,
                                0x40000 /* HUGETLB */,
                                0x2000 /* LOCKED */,
                                0x40 /* 32BIT */,
                                0x80000 /* SYNC */,
                                0x20000 /* STACK */ };
    /* below(4): 0, SHARED, PRIVATE, SHARED_VALIDATE */
    return add_bits(below(4), bits, sizeof bits / sizeof bits[0]);
}

static uint64_t gen_fdarg(void)
{
    return (uint64_t)gen_fd(0);
}

static uint64_t gen_dirfd(void)
{
    return (uint64_t)gen_fd(1);
}

/* File offsets: small, near the largest one, or anything. */
static uint64_t gen_off(void)
{
    if (chance(40))
        return below(1 << 16);
    if (chance(30))
        return (uint64_t)INT64_MAX - below(1 << 16);
    return gen_int();
}

static uint64_t gen_unused(void)
{
    return chance(80) ? 0 : gen_int();
}

/* The generator of each argument kind; the kinds of a small range (signal,
 * clock, resource numbers) are below n pct% of the time instead. */
static const struct {
    uint64_t (*gen)(void);
    int pct;
    uint64_t n;
} kind_gen[] = {
    [K_INT] = { gen_int },        [K_UINT] = { gen_int },      [K_HEX] = { gen_flags },
    [K_PTR] = { gen_ptr },        [K_IBUF] = { gen_ptr },      [K_OBUF] = { gen_ptr },
    [K_IOV] = { gen_ptr },        [K_FD] = { gen_fdarg },      [K_DIRFD] = { gen_dirfd },
    [K_STR] = { gen_path },       [K_LEN] = { gen_len },       [K_OCT] = { gen_mode },
    [K_SIG] = { NULL, 80, 70 },   [K_PROT] = { gen_prot },     [K_MAPF] = { gen_mapf },
    [K_CLOCK] = { NULL, 80, 14 }, [K_RLIM] = { NULL, 85, 17 }, [K_OFF] = { gen_off },
    [K_SKIP] = { gen_unused },    [K_NONE] = { gen_unused },
};

static uint64_t gen_kind(int k)
{
    if (k < 0 || (size_t)k >= sizeof kind_gen / sizeof kind_gen[0] ||
        (!kind_gen[k].gen && !kind_gen[k].n))
        die("fuzz: unknown argument kind %d in syscalls.def\n", k);
    return kind_gen[k].gen ? kind_gen[k].gen() : gen_below(kind_gen[k].pct, kind_gen[k].n);
}

/* ---- structures built in the string area ---- */
static uint64_t gen_iov(void)
{
    if (chance(20))
        return gen_ptr();
    struct {
        uint64_t b, l;
    } *v = (void *)strarea(16 * 16);
    for (int i = 0; i < 16; i++) {
        v[i].l = chance(70) ? below(8192) : gen_len();
        v[i].b = chance(80) ? buf_ptr(v[i].l) : gen_ptr();
    }
    return (uint64_t)(uintptr_t)v;
}

static uint64_t gen_timespec(int usec)
{
    if (chance(15))
        return gen_badptr(); /* not NULL (forever), nor memory (any time at all) */
    int64_t *t = (void *)strarea(16);
    t[0] = chance(90) ? 0 : (int64_t)gen_int() % 2 ? -1 : 0;
    t[1] = chance(80) ? (int64_t)below(usec ? 2000 : 2000000) : (int64_t)gen_int();
    if (t[0] > 0 || t[0] < -1)
        t[0] = 0;
    if (t[1] > (usec ? 5000 : 5000000) || t[1] < 0)
        t[1] = below(2) || usec ? -1 : 1000000000; /* invalid, refused (select takes
                                                       * any usec: 10^9 is 1000 s) */
    return (uint64_t)(uintptr_t)t;
}

static uint64_t gen_pollfds(void)
{
    if (chance(15))
        return gen_ptr();
    struct {
        int fd;
        short ev, rev;
    } *p = (void *)strarea(8 * 32);
    for (int i = 0; i < 32; i++) {
        p[i].fd = (int)gen_fd(0);
        p[i].ev = chance(80) ? (short)below(0x400) : (short)rnd();
        p[i].rev = (short)rnd();
    }
    return (uint64_t)(uintptr_t)p;
}

/* An optional struct argument of size bytes, filled by fill: with chance
 * pct there is none, and the argument is NULL or a random pointer (evenly). */
static uint64_t gen_optional(int pct, size_t size, void (*fill)(void *))
{
    if (chance(pct))
        return chance(50) ? 0 : gen_ptr();
    void *p = strarea(size);
    fill(p);
    return (uint64_t)(uintptr_t)p;
}

static void fill_fdset(void *p)
{
    uint64_t *s = p;
    for (int i = 0; i < 16; i++)
        s[i] = chance(50) ? 0 : rnd() & rnd();
    s[0] = (1UL << below(10)) | (1UL << below(64));
}

static void fill_loff(void *p)
{
    int64_t *o = p;
    *o = chance(70) ? (int64_t)below(100000) : (int64_t)gen_int();
}

static void fill_rlimit(void *p)
{
    uint64_t *r = p;
    r[0] = chance(50) ? -1UL : gen_int();
    r[1] = chance(50) ? -1UL : gen_int();
}

static uint64_t gen_open_how(void)
{
    if (chance(15))
        return gen_ptr();
    uint64_t *h = (void *)strarea(32);
    h[0] = gen_open_flags() | O_NONBLOCK;
    h[1] = chance(80) ? (rnd() & 0777) : gen_int();
    h[2] = chance(70) ? below(0x20) : gen_flags();
    h[3] = chance(90) ? 0 : rnd();
    return (uint64_t)(uintptr_t)h;
}

static void fill_times(void *p)
{
    int64_t *t = p;
    for (int i = 0; i < 4; i++)
        t[i] = chance(70) ? (int64_t)below(2000000000) : (int64_t)gen_int();
    if (chance(30))
        t[1] = (1L << 30) - 1 - (int64_t)below(2); /* UTIME_NOW, UTIME_OMIT */
}

/* ---- per-call fixups ---- */
/* Descriptors are ints to the kernel: compare what it will see. */
static int keep_fd(uint64_t fd)
{
    return (int)fd != LOGFD;
}

static void no_log_fd(const struct sysent *s, uint64_t *a)
{
    for (int i = 0; i < 6; i++)
        if ((s->k[i] == K_FD || s->k[i] == K_DIRFD) && !keep_fd(a[i]))
            a[i] = (uint64_t)(LOGFD + 7);
}

/* A plausible target for a memory call: a page of what we mapped. */
static void mm_plausible(uint64_t *addr, uint64_t *len)
{
    if (chance(30))
        return;
    *addr = (nmaps && chance(60) ? maps[below(nmaps)] : ARENA + (below(ARENA_SIZE) & ~4095UL)) +
            4096 * below(4);
    if (len && chance(80))
        *len = 4096 * (1 + below(16)) - (chance(10) ? below(4096) : 0);
}

/* An address range for a memory call: never our own memory. */
static void mm_range(uint64_t *addr, uint64_t len)
{
    for (int i = 0; i < 8 && overlaps_protected(*addr, len); i++)
        *addr = chance(50) ? ARENA + (below(ARENA_SIZE) & ~4095UL) : gen_ptr();
    if (overlaps_protected(*addr, len))
        *addr = ARENA;
}

static uint64_t bounded(uint64_t v, uint64_t max)
{
    /* small stays, absurd (negative, overflowing) stays: both are refused
     * or cheap; everything between would really fill a disk or memory */
    if (v <= max || v >= (1UL << 62))
        return v;
    return v % max;
}

static void set_nonblock(long fd)
{
    if (fd < 0 || fd == LOGFD)
        return;
    long fl = sc(SYS_fcntl, fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        sc(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- credentials ---- */

struct capdata {
    uint32_t eff, prm, inh;
};

static uint32_t start_ids[6]; /* r, e, s uid; r, e, s gid */
static uint32_t start_groups[256];
static long start_ngroups;

static void capget2(struct capdata d[2])
{
    struct {
        uint32_t version;
        int pid;
    } h = { 0x20080522, 0 };
    memset(d, 0, 2 * sizeof(*d));
    sc(SYS_capget, &h, d);
}

static void save_creds(void)
{
    sc(SYS_getresuid, &start_ids[0], &start_ids[1], &start_ids[2]);
    sc(SYS_getresgid, &start_ids[3], &start_ids[4], &start_ids[5]);
    start_ngroups = sc(SYS_getgroups, 256, start_groups);
}

/* Back to the starting creds: a real uid of 0 (kept by fixup) lets the
 * euid return to 0, which raises effective to permitted (never shrunk by
 * fixup); then the ids, groups and the whole effective set. */
static void restore_creds(void)
{
    if (start_ids[0] == 0)
        sc(SYS_setresuid, -1, 0, -1);
    struct capdata d[2];
    capget2(d);
    struct {
        uint32_t version;
        int pid;
    } h = { 0x20080522, 0 };
    d[0].eff = d[0].prm;
    d[1].eff = d[1].prm;
    sc(SYS_capset, &h, d);
    sc(SYS_setresgid, start_ids[3], start_ids[4], start_ids[5]);
    if (start_ngroups >= 0)
        sc(SYS_setgroups, start_ngroups, start_groups);
    sc(SYS_setresuid, start_ids[0], start_ids[1], start_ids[2]);
    sc(SYS_setfsuid, start_ids[1]);
    sc(SYS_setfsgid, start_ids[4]);
}

static int is_cred_call(const char *n)
{
    static const char *calls[] = { "setuid",    "setgid",    "setreuid", "setregid",
                                   "setresuid", "setresgid", "setfsuid", "setfsgid",
                                   "setgroups", "capset",    "prctl" };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strcmp(n, calls[i]))
            return 1;
    return 0;
}

/* A uid argument: mostly the starting ids, 0, -1 or small ones. */
static uint64_t gen_id(void)
{
    switch (below(5)) {
    case 0:
        return start_ids[below(6)];
    case 1:
        return 0;
    case 2:
        return (uint32_t)-1;
    case 3:
        return below(70000);
    default:
        return gen_int();
    }
}

/* A name execve can never run: missing, a directory, or a bad pointer
 * (never a pointer into our own memory, which may hold any path). */
static uint64_t no_program(void)
{
    static const char *const names[] = {
        "/nonexistent-fuzz/prog", "/", "", "nonexistent-fuzz", "/proc/self/fd", "/dev/null"
    };
    switch (below(4)) {
    case 0:
        return (uint64_t)(uintptr_t)(chance(50) ? BADPTR : KPTR);
    case 1:
        return 0;
    default:
        return (uint64_t)(uintptr_t)names[below(sizeof names / sizeof names[0])];
    }
}

/* Clone flags the fuzzer may use: never a child on our memory or stack
 * (VM, THREAD, SIGHAND, VFORK), nor one that writes into our memory at a
 * random address (the tid and pidfd words, TLS). */
#define FUZZ_CLONE_FORBIDDEN                                                                       \
    (0x100ULL /* VM */ | 0x800ULL /* SIGHAND */ | 0x1000ULL /* PIDFD */ | 0x4000ULL /* VFORK */ |  \
     0x8000ULL /* PARENT */ | 0x10000ULL /* THREAD */ | 0x80000ULL /* SETTLS */ |                  \
     0x100000ULL /* PARENT_SETTID */ | 0x200000ULL /* CHILD_CLEARTID */ |                          \
     0x1000000ULL /* CHILD_SETTID */)

/* A signal for kill and friends: 0 (a probe) or one whose default action
 * is to ignore, so that no process of the run ends by it. */
/* A timer's interval and value (two timevals or timespecs: per is the
 * sub-second count per second): small or any interval, a value disarmed or
 * due far seconds or more ahead (never within a run), now and then a
 * refused sub-second count; a disarmed value keeps valid ones 0. */
static uint64_t gen_itimer(int64_t per, int64_t far)
{
    int64_t *v = (void *)strarea(32);
    v[0] = chance(80) ? (int64_t)below(3) : (int64_t)gen_int();
    v[1] = chance(80) ? (int64_t)below((uint64_t)per) : (int64_t)gen_int();
    v[2] = chance(40) ? 0 : far + (int64_t)below(1 << 20);
    v[3] = chance(90) ? (int64_t)below((uint64_t)per) : (chance(50) ? -1 : per);
    if (v[2] == 0 && v[3] >= 0 && v[3] < per)
        v[3] = 0;
    return (uint64_t)(uintptr_t)v;
}

static uint64_t gen_harmless_sig(void)
{
    static const int sigs[] = { 0, SIGCHLD, SIGURG, SIGWINCH, 0 };
    return (uint64_t)sigs[below(sizeof sigs / sizeof sigs[0])];
}

static void fixup(const struct sysent *s, uint64_t *a)
{
    const char *n = s->name;
#define IS(x) (strcmp(n, x) == 0)
    if (IS("clone")) {
        /* The exit signal goes to us when the child ends: a harmless one. */
        a[0] =
            (a[0] & ~FUZZ_CLONE_FORBIDDEN & ~0xffULL) | (chance(80) ? SIGCHLD : gen_harmless_sig());
        a[1] = 0; /* the child keeps a copy of our stack */
    }
    if (IS("clone3")) {
        /* A clone_args of our own, made like clone's, sometimes with a
         * set_tid (refused) or a bad size. */
        static uint64_t ca[11];
        memset(ca, 0, sizeof ca);
        ca[0] = gen_int() & ~FUZZ_CLONE_FORBIDDEN & ~0xffULL;
        ca[4] = chance(80) ? SIGCHLD : chance(50) ? gen_harmless_sig() : 65 /* EINVAL */;
        if (chance(20)) {
            static int tids[2] = { 2, 3 };
            ca[8] = (uint64_t)(uintptr_t)tids;
            ca[9] = below(3);
        }
        a[0] = chance(90) ? (uint64_t)(uintptr_t)ca : gen_ptr();
        a[1] = chance(80) ? 88 : below(200);
    }
    if (IS("rt_sigsuspend")) {
        /* Only its refusals: a wrong set size or a set it cannot read
         * (a valid one would wait for a signal that never comes). */
        if (chance(50))
            a[1] = 9 + below(8);
        else {
            a[0] = (uint64_t)(uintptr_t)(chance(50) ? BADPTR : KPTR);
            a[1] = 8;
        }
    }
    if (IS("wait4"))
        a[2] |= WNOHANG;
    /* Mostly pairs that exist, of each type, with or without the flags. */
    if (IS("socketpair") && chance(70)) {
        a[0] = AF_UNIX;
        a[1] = (uint64_t)(1 + below(5)) | (chance(30) ? SOCK_NONBLOCK : 0) |
               (chance(30) ? SOCK_CLOEXEC : 0);
        a[2] = 0;
    }
    /* Socket transfers never wait (a full or empty socket is EAGAIN). */
    if (IS("sendto") || IS("recvfrom") || IS("sendmsg") || IS("recvmsg"))
        a[IS("sendto") || IS("recvfrom") ? 3 : 2] |= MSG_DONTWAIT;
    if (IS("waitid"))
        a[3] |= WNOHANG;
    if (IS("kill") || IS("tkill"))
        a[1] = gen_harmless_sig();
    if (IS("tgkill"))
        a[2] = gen_harmless_sig();
    if (IS("rt_sigqueueinfo"))
        a[1] = gen_harmless_sig(); /* with any siginfo: the sender's to forge */
    if (IS("rt_tgsigqueueinfo"))
        a[2] = gen_harmless_sig();
    if (IS("rt_sigtimedwait")) {
        /* A wait of at most 2 ms (never NULL: forever). */
        a[2] = gen_timespec(0);
        if (chance(70))
            a[3] = 8;
    }
    if (IS("pidfd_send_signal")) {
        a[1] = gen_harmless_sig();
        a[2] = 0; /* no siginfo: a forged one could claim a real signal */
    }
    if (IS("execve"))
        a[0] = no_program();
    else if (IS("execveat")) {
        /* AT_EMPTY_PATH would run the file at dirfd, which may be one we
         * wrote: never with an empty name. */
        a[1] = no_program();
        if (a[1] && (uint64_t)(uintptr_t)BADPTR != a[1] && (uint64_t)(uintptr_t)KPTR != a[1] &&
            !*(const char *)(uintptr_t)a[1])
            a[4] &= ~(uint64_t)0x1000;
    } else if (IS("open"))
        a[1] = gen_open_flags() | O_NONBLOCK;
    else if (IS("openat"))
        a[2] = gen_open_flags() | O_NONBLOCK;
    else if (IS("openat2")) {
        a[2] = gen_open_how();
        if (chance(80))
            a[3] = 24 + 8 * below(3) * chance(20);
    } else if (IS("creat")) {
        /* No O_NONBLOCK here: opening a FIFO for writing would wait for a
         * reader forever, as on Linux. */
        static char st[256];
        if (a[0] >= STR_BASE && a[0] < STR_BASE + STR_SIZE && sc(SYS_stat, a[0], st) == 0 &&
            (*(unsigned *)(st + 24) & 0170000) == 0010000)
            a[0] = 1;
    } else if (IS("mmap")) {
        a[1] = bounded(a[1], 16UL << 20);
        if (a[3] & 0x110010) /* MAP_FIXED, MAP_FIXED_NOREPLACE */
            mm_range(&a[0], a[1]);
    } else if (IS("munmap") || IS("mprotect") || IS("madvise") || IS("msync")) {
        mm_plausible(&a[0], &a[1]);
        if (IS("msync") && chance(70))
            a[2] = (1 << below(3)) | (chance(30) ? 2 : 0); /* MS_ASYNC, MS_INVALIDATE, MS_SYNC */
        if (IS("madvise") && chance(70))
            a[2] = below(30);
        if (!IS("msync"))
            mm_range(&a[0], a[1]);
    } else if (IS("mremap")) {
        mm_plausible(&a[0], &a[1]);
        if (chance(70))
            a[2] = 4096 * (1 + below(32));
        if (chance(30))
            mm_plausible(&a[4], 0);
        a[2] = bounded(a[2], 16UL << 20);
        if (chance(60))
            a[3] = below(8);
        mm_range(&a[0], a[1]);
        if (a[3] & 2) /* MREMAP_FIXED */
            mm_range(&a[4], a[2]);
        if (a[3] & 4) /* MREMAP_DONTUNMAP leaves the old range, but moves it */
            mm_range(&a[0], a[2]);
    } else if (IS("brk")) {
        if (chance(50))
            a[0] = 0;
    } else if (IS("arch_prctl")) {
        static const uint64_t codes[] = { 0x1001, 0x1002, 0x1003, 0x1004, 0x1011,
                                          0x1012, 0x3001, 0x3002, 0x2001, 0x4001 };
        if (chance(80))
            a[0] = codes[below(10)];
        if (a[0] == 0x1001 || a[0] == 0x1002) /* SET_GS, SET_FS: keep our TLS */
            a[0] += 2;
        if (chance(60))
            a[1] = gen_ptr();
    } else if (IS("prctl")) {
        if (chance(80))
            a[0] = below(80);
        if (a[0] == 22 /* PR_SET_SECCOMP */ || a[0] == 35 /* PR_SET_MM */)
            a[0] = 16; /* PR_GET_NAME */
        if (chance(50))
            a[1] = gen_ptr();
    } else if (IS("setuid") || IS("setreuid") || IS("setresuid") || IS("setgid") ||
               IS("setregid") || IS("setresgid") || IS("setfsuid") || IS("setfsgid")) {
        for (int i = 0; i < 3; i++)
            if (chance(80))
                a[i] = gen_id();
        /* The real uid stays 0 (or -1: unchanged), so permitted stays. */
        if (IS("setreuid") || IS("setresuid"))
            a[0] = chance(50) ? 0 : (uint32_t)-1;
        if (IS("setuid")) {
            struct capdata d[2];
            capget2(d);
            if (d[0].eff & (1u << 7)) /* CAP_SETUID: it would set the real uid */
                a[0] = chance(50) ? 0 : (uint32_t)-1;
        }
    } else if (IS("setgroups")) {
        if (chance(70))
            a[0] = below(70);
        if (chance(70)) {
            uint32_t *g = (void *)strarea(70 * 4);
            for (int i = 0; i < 70; i++)
                g[i] = (uint32_t)gen_id();
            a[1] = (uint64_t)(uintptr_t)g;
        }
    } else if (IS("capget") || IS("capset")) {
        /* Header and data: valid versions mostly, pids 0, own or other;
         * capset keeps the permitted set (it can only shrink). */
        static const uint32_t vers[] = { 0x19980330, 0x20071026, 0x20080522, 0 };
        struct {
            uint32_t version;
            int pid;
        } *h = (void *)strarea(8);
        h->version = chance(85) ? vers[below(3)] : (chance(50) ? vers[3] : (uint32_t)gen_int());
        h->pid = chance(70) ? 0 : chance(50) ? (int)sc(SYS_gettid) : (int)gen_int();
        if (chance(85))
            a[0] = (uint64_t)(uintptr_t)h;
        struct capdata *d = (void *)strarea(2 * sizeof(*d));
        capget2(d);
        if (IS("capset")) {
            for (int i = 0; i < 2; i++) {
                d[i].eff &= (uint32_t)gen_int();
                d[i].inh = chance(50) ? d[i].inh : (uint32_t)gen_int();
            }
        }
        if (IS("capget") && chance(85))
            a[1] = chance(90) ? (uint64_t)(uintptr_t)d : 0;
        if (IS("capset")) {
            /* Only data that keeps the permitted set: ours, in full (a v1
             * header would clear the high half), or none at all. */
            a[1] = chance(95) ? (uint64_t)(uintptr_t)d : chance(50) ? 0 : 1;
            if (h->version == 0x19980330)
                h->version = 0x20080522;
        }
    } else if (IS("setrlimit") || IS("prlimit64")) {
        int r = IS("setrlimit") ? 0 : 1;
        if (a[r] == 1 /* RLIMIT_FSIZE */ || a[r] == 7 /* RLIMIT_NOFILE */)
            a[r] = 4; /* RLIMIT_CORE */
        a[r + 1] = gen_optional(30, 16, fill_rlimit);
        if (r) {
            a[0] = chance(80) ? (chance(50) ? 0 : 1) : gen_int();
            a[3] = gen_ptr();
        }
    } else if (IS("getrlimit")) {
        ;
    } else if (IS("fcntl")) {
        static const int cmds[] = { 0,    1,    2,    3,    4,    5,    6,    7,    8,
                                    9,    10,   11,   15,   16,   36,   37,   38,   1024,
                                    1025, 1026, 1030, 1031, 1032, 1033, 1034, 1035, 1036 };
        if (chance(90))
            a[1] = cmds[below(sizeof cmds / sizeof cmds[0])];
        if (a[1] == 7)
            a[1] = 6; /* F_SETLKW -> F_SETLK */
        if (a[1] == 38)
            a[1] = 37; /* F_OFD_SETLKW -> F_OFD_SETLK */
        if (a[1] == 1033 && (a[2] & 0x7fffffff) < 0x10000000)
            a[2] = bounded(a[2], 1 << 20); /* F_SETPIPE_SZ */
        if (chance(50)) {
            struct {
                short type, whence;
                long start, len;
                int pid;
            } *fl = (void *)strarea(32);
            fl->type = (short)below(4);
            fl->whence = (short)below(4);
            fl->start = chance(70) ? (long)below(1000) : (long)gen_int();
            fl->len = chance(70) ? (long)below(1000) : (long)gen_int();
            fl->pid = chance(80) ? 0 : (int)gen_int();
            a[2] = (uint64_t)(uintptr_t)fl;
        } else if (chance(30))
            a[2] = gen_ptr();
        else if (chance(50))
            a[2] = (uint64_t)gen_fd(0);
    } else if (IS("flock")) {
        a[1] |= 4; /* LOCK_NB: two open files of one file would wait forever */
    } else if (IS("futex")) {
        /* Any operation, on any word; the ones that wait (FUTEX_WAIT and
         * WAIT_BITSET: one thread has nobody to wake it; the PI ones,
         * ENOSYS for now) get a timeout of at most 2 ms or a refused one
         * (for the absolute ones a time long past). REQUEUE, CMP_REQUEUE
         * and WAKE_OP take a count there instead: any. */
        static const uint64_t ops[] = { 0, 1, 9, 10, 3, 4, 5, 6, 7, 8, 11, 12, 13 };
        if (chance(85))
            a[1] = ops[below(sizeof ops / sizeof ops[0])] | (chance(50) ? 128 : 0) |
                   (chance(20) ? 256 : 0);
        uint32_t cmd = (uint32_t)a[1] & ~(uint32_t)(128 | 256); /* op is an int */
        if (cmd == 0 || cmd == 9 || cmd == 6 || cmd == 11 || cmd == 13)
            a[3] = gen_timespec(0);
        else if ((cmd == 3 || cmd == 4 || cmd == 5) && chance(70))
            a[3] = below(4);
        if (cmd == 5 && chance(70)) /* FUTEX_WAKE_OP's second word: the scratch buffer */
            a[4] = buf_ptr(4) & ~3UL;
        if (chance(30))
            a[5] = chance(80) ? 0xffffffff : 0;
    } else if (IS("futex_waitv")) {
        /* Up to 4 entries on scratch words or anywhere; a timeout that is
         * never NULL (it could wait forever): absolute, at most 2 ms ahead
         * on its clock, long past, refused, or a bad pointer. */
        struct {
            uint64_t val, uaddr;
            uint32_t flags, reserved;
        } *w = (void *)strarea(24 * 4);
        for (int i = 0; i < 4; i++) {
            w[i].uaddr = chance(80) ? buf_ptr(4) & ~3UL : gen_ptr();
            w[i].val = chance(50) ? 0 : gen_int();
            w[i].flags = chance(85) ? 2 | (chance(50) ? 128 : 0) : (uint32_t)gen_int();
            w[i].reserved = chance(95) ? 0 : (uint32_t)gen_int();
        }
        a[0] = chance(90) ? (uint64_t)(uintptr_t)w : gen_ptr();
        a[1] = gen_below(90, 5);
        a[2] = chance(95) ? 0 : gen_int();
        a[4] = gen_below(90, 2); /* CLOCK_REALTIME, CLOCK_MONOTONIC */
        if (chance(15)) {
            a[3] = gen_badptr();
        } else {
            int64_t *t = (void *)strarea(16);
            int64_t now[2] = { 0, 0 };
            if (chance(70))
                sc(SYS_clock_gettime, a[4] & 1, now);
            t[0] = now[0];
            t[1] = now[1] + (int64_t)below(2000000);
            if (t[1] >= 1000000000L) {
                t[0]++;
                t[1] -= 1000000000L;
            }
            if (chance(10))
                t[1] = chance(50) ? -1 : 1000000000L;
            a[3] = (uint64_t)(uintptr_t)t;
        }
    } else if (IS("nanosleep")) {
        a[0] = gen_timespec(0); /* rem is written only when a signal ends the sleep */
    } else if (IS("clock_nanosleep")) {
        /* At most 2 ms relative, long past absolute (the times are small),
         * refused, or a bad pointer. CPU-time clocks (2 and the negative
         * ids but posix clock descriptors) advance only while something
         * runs, so there: absolute 0, refused, or a bad pointer. */
        int c = (int)a[0];
        a[1] = gen_below(80, 2); /* 0 or TIMER_ABSTIME */
        a[2] = gen_timespec(0);
        if (c == 2 || (c < 0 && (c & 7) != 3)) {
            a[1] |= 1;
            int64_t *t = (void *)strarea(16);
            t[0] = 0;
            t[1] = chance(80) ? 0 : 1000000000L;
            a[2] = chance(85) ? (uint64_t)(uintptr_t)t : gen_badptr();
        }
    } else if (IS("msgsnd") || IS("msgrcv")) {
        /* Never a wait: IPC_NOWAIT always; sizes past msgmax are refused. */
        a[2] = bounded(a[2], 1UL << 14);
        a[IS("msgsnd") ? 3 : 4] |= 04000;
    } else if (IS("semop") || IS("semtimedop")) {
        /* Operations of our own: semop's all with IPC_NOWAIT, semtimedop's
         * with a wait of at most 2 ms (never NULL: forever). */
        struct {
            uint16_t num;
            int16_t op, flg;
        } *b = (void *)strarea(6 * 8);
        for (int i = 0; i < 8; i++) {
            b[i].num = (uint16_t)gen_below(90, 4);
            b[i].op = (int16_t)(chance(80) ? (int64_t)below(5) - 2 : (int64_t)gen_int());
            b[i].flg = (int16_t)(chance(80) ? (int64_t)(below(2) * 0x1000) : (int64_t)gen_int());
            if (IS("semop"))
                b[i].flg |= 04000;
        }
        /* Not any memory: operations without IPC_NOWAIT could wait forever. */
        a[1] = chance(90) ? (uint64_t)(uintptr_t)b : gen_badptr();
        a[2] = gen_below(90, 9);
        if (IS("semtimedop"))
            a[3] = gen_timespec(0);
    } else if (IS("mq_timedsend") || IS("mq_timedreceive")) {
        /* An absolute CLOCK_REALTIME timeout near 1970: never a wait. */
        a[2] = bounded(a[2], 1UL << 20);
        a[4] = gen_timespec(0);
    } else if (IS("shmget")) {
        a[1] = bounded(a[1], 4UL << 20); /* an attach stays inside the arena */
    } else if (IS("shmat")) {
        /* Into the arena or where the kernel likes, never over our own
         * memory (SHM_REMAP only in the arena). */
        if (chance(50)) {
            a[1] = 0;
            a[2] &= ~(uint64_t)040000;
        } else {
            a[1] = ARENA + below(ARENA_SIZE / 2);
        }
    } else if (IS("poll")) {
        a[0] = gen_pollfds();
        a[1] = gen_below(90, 33);
        a[2] = below(3);
    } else if (IS("ppoll")) {
        a[0] = gen_pollfds();
        a[1] = gen_below(90, 33);
        a[2] = gen_timespec(0);
        if (chance(70))
            a[4] = 8;
    } else if (IS("epoll_wait") || IS("epoll_pwait") || IS("epoll_pwait2")) {
        /* Any descriptor as the set, but a wait of at most 2 ms: a time
         * out of 0 to 2 ms, or pwait2's timespec (never NULL, forever). */
        a[2] = gen_below(90, 9);
        a[3] = IS("epoll_pwait2") ? gen_timespec(0) : below(3);
        if (!IS("epoll_wait") && chance(70))
            a[5] = 8;
    } else if (IS("select") || IS("pselect6")) {
        a[0] = gen_below(90, 1100);
        a[1] = gen_optional(30, 128, fill_fdset);
        a[2] = gen_optional(30, 128, fill_fdset);
        a[3] = gen_optional(30, 128, fill_fdset);
        a[4] = gen_timespec(IS("select"));
        if (IS("pselect6") && chance(50)) {
            uint64_t *ss = (void *)strarea(16);
            ss[0] = chance(50) ? gen_ptr() : 0;
            ss[1] = chance(70) ? 8 : gen_len();
            a[5] = (uint64_t)(uintptr_t)ss;
        }
    } else if (IS("readv") || IS("writev") || IS("preadv") || IS("pwritev") || IS("preadv2") ||
               IS("pwritev2")) {
        a[1] = gen_iov();
        if (chance(80))
            a[2] = below(17);
        if (IS("preadv") || IS("pwritev") || IS("preadv2") || IS("pwritev2")) {
            a[3] = bounded(a[3], 1UL << 30);
            a[4] = chance(80) ? 0 : gen_int();
        }
    } else if (IS("pwrite64") || IS("pread64")) {
        a[3] = bounded(a[3], 1UL << 30);
    } else if (IS("fallocate")) {
        a[1] = chance(70) ? below(0x80) : gen_flags();
        a[2] = bounded(a[2], 16UL << 20);
        a[3] = bounded(a[3], 16UL << 20);
    } else if (IS("truncate") || IS("ftruncate")) {
        a[1] = bounded(a[1], 1UL << 30);
    } else if (IS("inotify_add_watch")) {
        /* Mostly real watches (events and flags), so that the calls after
         * it generate events; the instance's reads never block (SF_BLOCKS
         * reads get O_NONBLOCK descriptors). */
        if (chance(70))
            a[2] = (uint32_t)gen_int() & 0xff003fffU;
    } else if (IS("sendfile")) {
        a[2] = gen_optional(40, 8, fill_loff);
        a[3] = bounded(a[3], 1UL << 20);
    } else if (IS("copy_file_range") || IS("splice")) {
        a[1] = gen_optional(40, 8, fill_loff);
        a[3] = gen_optional(40, 8, fill_loff);
        a[4] = bounded(a[4], 1UL << 20);
        if (IS("splice"))
            a[5] = chance(80) ? (below(16) | 2) : (gen_flags() | 2); /* SPLICE_F_NONBLOCK */
    } else if (IS("tee")) {
        a[2] = bounded(a[2], 1UL << 20);
        a[3] |= 2;
    } else if (IS("utimes") || IS("futimesat") || IS("utimensat") || IS("utime")) {
        int i = IS("utimes") || IS("utime") ? 1 : 2;
        a[i] = gen_optional(30, 32, fill_times);
    } else if (IS("close_range")) {
        if (chance(70))
            a[0] = below(300), a[1] = a[0] + below(300);
        if ((uint32_t)a[0] <= LOGFD && (uint32_t)a[1] >= LOGFD) { /* unsigned ints */
            if (chance(50) || (uint32_t)a[0] == LOGFD)
                a[0] = LOGFD + 1;
            else
                a[1] = LOGFD - 1;
        }
    } else if (IS("chroot")) {
        /* Into anything but / the rest of the run would find none of its
         * paths; chroot is exercised on its errors and on the root. */
        static const char *roots[] = {
            "/", "/proc/self/root", "/nonexistent", "/dev/null", "", "/proc/self/cwd/../../../.."
        };
        if (a[0] >= STR_BASE && a[0] < STR_BASE + STR_SIZE)
            strcpy((char *)(uintptr_t)a[0], roots[below(sizeof roots / sizeof roots[0])]);
    } else if (IS("dup2") || IS("dup3")) {
        if (chance(60))
            a[1] = below(LOGFD + 10);
    } else if (IS("ioctl")) {
        static const uint64_t reqs[] = { 0x541b,     0x5421,     0x5451,     0x5450,
                                         0x5401,     0x5402,     0x5413,     0x5414,
                                         0x540f,     0x5410,     0x80045430, 0x5412 /* TIOCSTI */,
                                         0x40086602, 0x80086601, 0x5422,     0x5425,
                                         0x8008700b };
        if (chance(80))
            a[1] = reqs[below(sizeof reqs / sizeof reqs[0])];
        if (a[1] == 0x5412) /* TIOCSTI would type into a real terminal */
            a[1] = 0x5413;
        if (chance(60))
            a[2] = gen_ptr();
    } else if (IS("getxattr") || IS("lgetxattr") || IS("setxattr") || IS("lsetxattr") ||
               IS("removexattr") || IS("lremovexattr") || IS("fgetxattr") || IS("fsetxattr") ||
               IS("fremovexattr")) {
        a[1] = gen_xname();
    } else if (IS("rt_sigaction") || IS("rt_sigprocmask")) {
        if (IS("rt_sigprocmask") && chance(80))
            a[0] = below(3);
        if (chance(70))
            a[3] = 8;
    } else if (IS("alarm")) {
        /* None, or one that never comes within a run (SIGALRM would end us). */
        a[0] = chance(50) ? 0 : 86400 + below(1 << 20);
    } else if (IS("setitimer")) {
        /* Disarmed, due in a day or more, refused, NULL (disarms) or a bad
         * pointer: SIGALRM, SIGVTALRM and SIGPROF would end us. */
        if (chance(20)) {
            a[1] = chance(50) ? 0 : gen_ptr();
        } else {
            a[1] = gen_itimer(1000000, 86400); /* timevals */
        }
    } else if (IS("timer_create")) {
        /* Never a NULL sigevent (SIGALRM would end us): one whose signal
         * is harmless (SIGEV_NONE, SIGEV_SIGNAL or SIGEV_THREAD_ID to
         * ourselves), a refused one, or a bad pointer. */
        if (chance(15)) {
            a[1] = gen_badptr();
        } else {
            struct {
                uint64_t value;
                int signo, notify, tid, pad[11];
            } *ev = (void *)strarea(64);
            memset(ev, 0, 64);
            static const int notify[] = { 0, 1, 2, 4, 5, 99 };
            ev->value = gen_int();
            ev->notify = notify[below(sizeof notify / sizeof notify[0])];
            ev->signo = chance(90) ? (int)gen_harmless_sig() : 65;
            if (ev->signo == 0 && chance(50))
                ev->signo = SIGURG;
            ev->tid = chance(80) ? (int)sc(SYS_gettid) : (int)gen_int();
            a[1] = (uint64_t)(uintptr_t)ev;
        }
        if (chance(80))
            a[2] = buf_ptr(4) & ~3UL;
    } else if (IS("timer_settime")) {
        /* Any timer (ids from 0), disarmed, due in a day or more, or a
         * refused or bad time. */
        if (chance(80))
            a[0] = below(8);
        a[1] = gen_below(80, 2); /* 0 or TIMER_ABSTIME */
        if (chance(15)) {
            a[2] = chance(50) ? 0 : gen_badptr();
        } else {
            a[2] = gen_itimer(1000000000, a[1] ? (int64_t)1 << 40 : 86400); /* timespecs */
        }
    } else if (IS("memfd_create")) {
        if (chance(80))
            a[1] = below(0x20);
    }
#undef IS
    no_log_fd(s, a);
}

/* ---- the log ring ---- */
static uint64_t seq;
static void log_call(int nr, const char *name, const uint64_t *a)
{
    char r[REC];
    memset(r, ' ', REC);
    int n = snprintf(r, REC, "%llu %d %s %#lx %#lx %#lx %#lx %#lx %#lx", (unsigned long long)seq,
                     nr, name, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (n > 0 && n < REC)
        r[n] = ' ';
    r[REC - 1] = '\n';
    sc(SYS_pwrite64, LOGFD, r, REC, (long)(REC * (1 + seq % RING)));
}
static void log_result(long ret)
{
    char r[32];
    int n = snprintf(r, sizeof r, "= %ld", ret);
    sc(SYS_pwrite64, LOGFD, r, n, (long)(REC * (1 + seq % RING) + REC - 1 - 24));
}

/* ---- set-up ---- */
static void mk_tree(const char *d, int host)
{
    char p[320], q[320];
#define P(...) (snprintf(p, sizeof p, __VA_ARGS__), p)
    sc(SYS_mkdir, d, 0755);
    sc(SYS_mkdir, P("%s/d0", d), 0755);
    sc(SYS_mkdir, P("%s/d0/d1", d), 0700);
    for (int i = 0; i < 3; i++) {
        long fd = sc(SYS_open, P(i == 2 ? "%s/d0/f2" : "%s/f%d", d, i), O_CREAT | O_RDWR, 0644);
        if (fd >= 0) {
            sc(SYS_write, fd, "hello fuzz\n", 11);
            if (i == 1)
                sc(SYS_ftruncate, fd, 70000);
            sc(SYS_close, fd);
        }
    }
    static const char *links[][2] = { { "f0", "l0" },          { "d0", "l1" },
                                      { "/", "l2" },           { "..", "l3" },
                                      { "../../../..", "l4" }, { "nonexistent", "l6" },
                                      { "l7", "l7" },          { "d0/d1", "l8" } };
    for (int i = 0; i < 8; i++)
        sc(SYS_symlink, links[i][0], P("%s/%s", d, links[i][1]));
    snprintf(q, sizeof q, "%s/file", canary);
    sc(SYS_symlink, q, P("%s/l5", d));
    sc(SYS_mknod, P("%s/fifo0", d), 0010644, 0);
    sc(SYS_mknod, P("%s/sock0", d), 0140644, 0);
    static const char *names[] = {
        "",         "/f0",    "/f1",       "/d0",      "/d0/d1",        "/d0/f2",   "/l0",
        "/l1",      "/l2",    "/l3",       "/l4",      "/l5",           "/l6",      "/l7",
        "/l8",      "/fifo0", "/sock0",    "/new0",    "/new1",         "/d0/new2", "/l1/f2",
        "/l1/new3", "/f0/x",  "/d0/../f0", "/l8/new4", "/l4/etc/passwd"
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        add_path("%s%s", d, names[i]);
    (void)host;
#undef P
}

int main(int argc, char **argv)
{
    if (argc != 7)
        return 2;
    snprintf(scratch, sizeof scratch, "%s", argv[1]);
    snprintf(tmpdir, sizeof tmpdir, "%s", argv[2]);
    snprintf(canary, sizeof canary, "%s", argv[3]);
    uint64_t seed = strtoull(argv[5], 0, 0);
    uint64_t calls = strtoull(argv[6], 0, 0);
    rng = seed * 0x2545f4914f6cdd1dULL + 1;

    long lfd = sc(SYS_open, argv[4], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (lfd < 0 || sc(SYS_dup2, lfd, LOGFD) != LOGFD)
        return 3;
    sc(SYS_close, lfd);
    /* Standard streams on /dev/null: nothing the guest writes can look
     * like a sanitizer report, nothing it reads can block. */
    long nul = sc(SYS_open, "/dev/null", O_RDWR);
    for (int i = 0; i < 3; i++)
        sc(SYS_dup2, nul, i);
    if (nul > 2)
        sc(SYS_close, nul);

    if (sc(SYS_mmap, BUF_BASE, BUF_SIZE, 3, 0x22 | 0x10, -1, 0) != (long)BUF_BASE ||
        sc(SYS_mmap, STR_BASE, STR_SIZE, 3, 0x22 | 0x10, -1, 0) != (long)STR_BASE)
        die("fuzz: cannot map buffers\n");
    sc(SYS_mmap, ARENA, ARENA_SIZE, 3, 0x22 | 0x10, -1, 0);
    for (uint64_t i = 0; i < BUF_SIZE / 8; i++)
        ((uint64_t *)BUF_BASE)[i] = rnd();
    protect_maps(); /* buffers included: they are mapped by now */
    protect(BUF_BASE, EDGE + 4096);
    protect(STR_BASE, STR_BASE + STR_SIZE);

    mk_tree(scratch, 1);
    mk_tree(tmpdir, 0);
    static const char *fixed[] = { "/",
                                   ".",
                                   "..",
                                   "",
                                   "/proc/self/fd/0",
                                   "/proc/self/fd/3",
                                   "/proc/self/exe",
                                   "/proc/self/cwd",
                                   "/proc/self/root",
                                   "/proc/self/maps",
                                   "/proc/self/status",
                                   "/proc/self/mem",
                                   "/proc/self/fdinfo/1",
                                   "/proc/1/task/1/stat",
                                   "/proc",
                                   "/proc/self",
                                   "/dev/null",
                                   "/dev/zero",
                                   "/dev/full",
                                   "/dev/urandom",
                                   "/dev/tty",
                                   "/dev/fd/3",
                                   "/dev/stdin",
                                   "/dev/shm",
                                   "/dev/shm/x",
                                   "/dev/pts",
                                   "/tmp",
                                   "/nonexistent/x",
                                   "f0",
                                   "d0",
                                   "new0",
                                   "../f0",
                                   "l2/proc",
                                   "/proc/self/root/..",
                                   "/proc/self/cwd/../..",
                                   "/proc/self/fd",
                                   "/proc/self/fdinfo",
                                   "/proc/self/task/1/fd/4",
                                   "/proc/self/mountinfo",
                                   "/proc/self/mounts",
                                   "/proc/self/environ",
                                   "/proc/self/cmdline",
                                   "/proc/self/statm",
                                   "/proc/self/task",
                                   "/proc/thread-self/comm",
                                   "/proc/meminfo",
                                   "/proc/cpuinfo",
                                   "/proc/stat",
                                   "/proc/sys/kernel/hostname",
                                   "/proc/sys/kernel/random/uuid",
                                   "/proc/self/fd/5/..",
                                   "/proc/self/fd/6/x",
                                   "/dev/fd",
                                   "/dev/shm/../null",
                                   "/tmp/t/../../proc/1/fd/0" };
    for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        add_path("%s", fixed[i]);
    static const char *cnames[] = {
        "", "/file", "/dir", "/dir/inner", "/link", "/new", "/dir/new"
    };
    for (unsigned i = 0; i < sizeof cnames / sizeof cnames[0]; i++)
        add_path("%s%s", canary, cnames[i]);
    sc(SYS_chdir, scratch);

    save_creds();

    /* Implemented calls seven times as often as the others. */
    static int others[512];
    int nothers = 0;
    for (int nr = 0; nr < 470; nr++) {
        /* 335 is uretprobe on x86-64: Linux (6.11+) passes it through
         * seccomp and answers a call from outside a uretprobe trampoline
         * with SIGILL, natively and sandboxed alike; 336..423 are unused. */
        int skip = nr >= 335 && nr < 424;
        for (int i = 0; i < NTABLE && !skip; i++)
            skip = table[i].nr == nr;
        for (unsigned i = 0; i < sizeof excluded / sizeof excluded[0] && !skip; i++)
            skip = excluded[i] == nr;
        if (!skip)
            others[nothers++] = nr;
    }
    static struct sysent ents[256];
    int nents = 0;
    for (int i = 0; i < NTABLE; i++) {
        int skip = table[i].flags & SF_NORET;
        for (unsigned j = 0; j < sizeof excluded / sizeof excluded[0] && !skip; j++)
            skip = excluded[j] == table[i].nr;
        if (!skip && nents < 256)
            ents[nents++] = table[i];
    }

    for (seq = 1; seq <= calls; seq++) {
        struct sysent other;
        const struct sysent *s;
        if (below(8) == 0 && nothers) {
            other = (struct sysent){ others[below(nothers)], "-", K_INT, { K_NONE }, 0 };
            s = &other;
        } else
            s = &ents[below(nents)];
        uint64_t a[6];
        sane = chance(50);
        for (int i = 0; i < 6; i++)
            a[i] = s->k[i] == K_NONE && s->name[0] != '-' ? (chance(90) ? 0 : gen_int())
                                                          : gen_kind(s->k[i]);
        if (s->name[0] == '-')
            for (int i = 0; i < 6; i++)
                a[i] = below(2) ? gen_int() : gen_ptr();
        fixup(s, a);
        if (s->flags & SF_BLOCKS)
            for (int i = 0; i < 6; i++)
                if (s->k[i] == K_FD)
                    set_nonblock((long)a[i]);
        log_call(s->nr, s->name, a);
        long r = raw_syscall6(s->nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4],
                              (long)a[5]);
        /* A fork-like child (no shared memory: see FUZZ_CLONE_FORBIDDEN)
         * ends at once; its parent reaps it. */
        if ((s->nr == SYS_fork || s->nr == SYS_clone || s->nr == SYS_clone3) && r == 0)
            raw_syscall6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
        if ((s->nr == SYS_fork || s->nr == SYS_clone || s->nr == SYS_clone3) && r > 0)
            raw_syscall6(SYS_wait4, r, 0, __WALL, 0, 0, 0);
        log_result(r);
        if (is_cred_call(s->name) && chance(30))
            restore_creds();
        if (r >= 0) {
            if (!strcmp(s->name, "mmap") || !strcmp(s->name, "mremap")) {
                if (nmaps < 32)
                    maps[nmaps++] = (uint64_t)r;
                else
                    maps[below(32)] = (uint64_t)r;
            } else if (!strcmp(s->name, "pipe") || !strcmp(s->name, "pipe2") ||
                       !strcmp(s->name, "socketpair")) {
                if (!strcmp(s->name, "socketpair"))
                    a[0] = a[3];
                if (a[0] >= BUF_BASE && a[0] + 8 <= EDGE) {
                    add_fd(((int *)(uintptr_t)a[0])[0]);
                    add_fd(((int *)(uintptr_t)a[0])[1]);
                }
            } else if (s->res == K_FD ||
                       (!strcmp(s->name, "fcntl") && (a[1] == 0 || a[1] == 1030))) {
                add_fd(r);
            }
        }
        /* Now and then drop what we hold so descriptors do not run out. */
        if (seq % 400 == 0) {
            sc(SYS_close_range, 3, LOGFD - 1, 0);
            sc(SYS_close_range, LOGFD + 1, ~0U, 0);
            nfds = 0;
            sc(SYS_chdir, scratch);
            restore_creds();
        }
    }
    char end[REC];
    memset(end, ' ', REC);
    int n = snprintf(end, REC, "done %llu calls", (unsigned long long)calls);
    end[n] = ' ';
    end[REC - 1] = '\n';
    sc(SYS_pwrite64, LOGFD, end, REC, 0);
    return 0;
}
