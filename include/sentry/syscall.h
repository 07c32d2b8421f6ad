/* The syscall table: one X-macro list (src/sentry/syscalls.def) drives
 * dispatch, handler prototypes, the --strace printer and the table test. */
#ifndef SENTRY_SYSCALL_H
#define SENTRY_SYSCALL_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

struct task;

struct sysargs {
    uint64_t nr;
    uint64_t a[6];
};

/* How --strace prints an argument or a result. */
enum argkind {
    K_NONE = 0,
    K_INT,   /* signed decimal */
    K_UINT,  /* unsigned decimal */
    K_HEX,   /* hexadecimal */
    K_PTR,   /* pointer: NULL or 0x... */
    K_FD,    /* file descriptor */
    K_DIRFD, /* AT_FDCWD or fd */
    K_STR,   /* NUL-terminated string read from the guest */
    K_IBUF,  /* buffer into the kernel; its length is the next argument */
    K_OBUF,  /* buffer out of the kernel; its length is the result */
    K_LEN,   /* size */
    K_OCT,   /* mode, in octal */
    K_SIG,   /* signal number */
    K_IOV,   /* struct iovec array; count is the next argument */
    K_PROT,  /* PROT_* */
    K_MAPF,  /* MAP_* */
    K_CLOCK, /* clock id */
    K_RLIM,  /* RLIMIT_* */
    K_OFF,   /* 64-bit file offset, signed (strace's %lld) */
    K_SKIP,  /* not shown (the high half of preadv2's split offset) */
};

/* Syscall flags. */
#define SF_NONE 0
#define SF_BLOCKS 1 /* may block */
#define SF_NORET 2  /* does not return (exit) */
#define SF_EXEC 4   /* replaces the image (execve): --strace reads its arguments before */

struct syscall_desc {
    int nr;
    const char *name;
    long (*fn)(struct task *, const struct sysargs *);
    uint8_t ret; /* argkind of the result */
    uint8_t nargs;
    uint8_t args[6];
    int flags;
};

#define SYSCALL_MAX 512
extern const struct syscall_desc syscall_table[];
extern const int syscall_table_len;
/* Entry for nr, or NULL if not implemented. */
const struct syscall_desc *syscall_lookup(uint64_t nr);
/* Name of any x86-64 syscall (implemented or not), or NULL. */
const char *syscall_name(uint64_t nr);

#define SYS(nr, name, ret, a1, a2, a3, a4, a5, a6, flags)                                          \
    long sys_##name(struct task *t, const struct sysargs *a);
#include "sentry/syscalls.def"
#undef SYS

/* A handler with typed, named arguments, as Linux's SYSCALL_DEFINEn:
 *     SYSCALL_DEFINE2(dup2, int, oldfd, int, newfd)
 *     { ... uses t, oldfd and newfd ... }
 * defines sys_dup2, which converts a->a[0] and a->a[1] to those types and
 * runs the body with the calling task as t. The body never sees the raw
 * registers; a handler that must (to check bits above an int's 32, or to
 * hand them all on) is written as sys_X(t, a) itself. */
#define SYSCALL_BODY_(name, params, args)                                                          \
    static long do_sys_##name params;                                                              \
    long sys_##name(struct task *t, const struct sysargs *a)                                       \
    {                                                                                              \
        (void)a;                                                                                   \
        return do_sys_##name args;                                                                 \
    }                                                                                              \
    static long do_sys_##name params
#define SYSCALL_T_ struct task *t __attribute__((unused))
#define SYSCALL_DEFINE0(name) SYSCALL_BODY_(name, (SYSCALL_T_), (t))
#define SYSCALL_DEFINE1(name, t0, a0) SYSCALL_BODY_(name, (SYSCALL_T_, t0 a0), (t, (t0)a->a[0]))
#define SYSCALL_DEFINE2(name, t0, a0, t1, a1)                                                      \
    SYSCALL_BODY_(name, (SYSCALL_T_, t0 a0, t1 a1), (t, (t0)a->a[0], (t1)a->a[1]))
#define SYSCALL_DEFINE3(name, t0, a0, t1, a1, t2, a2)                                              \
    SYSCALL_BODY_(name, (SYSCALL_T_, t0 a0, t1 a1, t2 a2),                                         \
                  (t, (t0)a->a[0], (t1)a->a[1], (t2)a->a[2]))
#define SYSCALL_DEFINE4(name, t0, a0, t1, a1, t2, a2, t3, a3)                                      \
    SYSCALL_BODY_(name, (SYSCALL_T_, t0 a0, t1 a1, t2 a2, t3 a3),                                  \
                  (t, (t0)a->a[0], (t1)a->a[1], (t2)a->a[2], (t3)a->a[3]))
#define SYSCALL_DEFINE5(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4)                              \
    SYSCALL_BODY_(name, (SYSCALL_T_, t0 a0, t1 a1, t2 a2, t3 a3, t4 a4),                           \
                  (t, (t0)a->a[0], (t1)a->a[1], (t2)a->a[2], (t3)a->a[3], (t4)a->a[4]))
#define SYSCALL_DEFINE6(name, t0, a0, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                      \
    SYSCALL_BODY_(                                                                                 \
        name, (SYSCALL_T_, t0 a0, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5),                              \
        (t, (t0)a->a[0], (t1)a->a[1], (t2)a->a[2], (t3)a->a[3], (t4)a->a[4], (t5)a->a[5]))

/* A handler that is another function called with the same task and
 * arguments and fixed further ones: SYSCALL_AS(read, rw_call, RW_READ)
 * defines sys_read as rw_call(t, a, RW_READ). */
#define SYSCALL_AS(name, fn, ...)                                                                  \
    long sys_##name(struct task *t, const struct sysargs *a)                                       \
    {                                                                                              \
        return fn(t, a, __VA_ARGS__);                                                              \
    }

/* An older form of an *at call (access of faccessat2, chmod of fchmodat2,
 * faccessat of faccessat2, rename of renameat2, ...) served by the *at
 * form's handler `at`: it gets AT_FDCWD at each a[i] with bit i set in dirs
 * (the directories the older form does not name), the older form's n
 * arguments in order at the others, and 0 for the rest (the flags). */
static inline long sys_at_form(struct task *t, const struct sysargs *a, unsigned dirs, int n,
                               long (*at)(struct task *, const struct sysargs *))
{
    struct sysargs b = { .nr = a->nr };
    for (int i = 0, j = 0; i < 6 && j < n; i++)
        b.a[i] = (dirs & (1u << i)) ? (uint64_t)(int64_t)AT_FDCWD : a->a[j++];
    return at(t, &b);
}

/* Service one syscall trap of t: sets t->regs.rax. */
void syscall_dispatch(struct task *t, uint64_t nr, uint32_t arch);

/* --strace printing, on the sentry's stderr. */
void strace_enter(struct task *t, const struct syscall_desc *d, const struct sysargs *a, char *buf,
                  size_t cap);
void strace_exit(struct task *t, const struct syscall_desc *d, const struct sysargs *a, long ret,
                 char *buf, size_t cap);
/* For a call that replaces the memory its arguments point into: format
 * the call into buf before it runs (returns the length), then print it
 * with the result. */
size_t strace_format(struct task *t, const struct syscall_desc *d, const struct sysargs *a,
                     char *buf, size_t cap);
void strace_exit_formatted(const struct syscall_desc *d, long ret, char *buf, size_t cap,
                           size_t len);
/* A fault of the guest (signal signo, si_code code, si_addr addr): the
 * signal line and, when it ends the guest, the "killed by" line (core: the
 * default action dumps core; -1: a handler takes it, no such line). */
void strace_fault(struct task *t, int signo, int code, uint64_t addr, int core, char *buf,
                  size_t cap);
/* "ENOENT" for 2, or NULL. */
const char *errno_name(int e);

#endif
