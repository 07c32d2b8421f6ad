/* Syscall dispatch: the table built from syscalls.def, lookup, the trap
 * entry point, and the one-time report of unimplemented syscalls. */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "sentry/kernel.h"
#include "sched/wait.h"
#include "sentry/syscall.h"

#define AUDIT_ARCH_X86_64_ 0xc000003eU

const struct syscall_desc syscall_table[] = {
#define SYS(nr_, name_, ret_, a1, a2, a3, a4, a5, a6, flags_)                          \
    { .nr = nr_, .name = #name_, .fn = sys_##name_, .ret = ret_,                      \
      .nargs = (a1 != K_NONE) + (a2 != K_NONE) + (a3 != K_NONE) + (a4 != K_NONE) +   \
               (a5 != K_NONE) + (a6 != K_NONE),                                       \
      .args = { a1, a2, a3, a4, a5, a6 }, .flags = flags_ },
#include "sentry/syscalls.def"
#undef SYS
};
const int syscall_table_len = ARRAY_SIZE(syscall_table);

static const struct syscall_desc *by_nr[SYSCALL_MAX];
static pthread_once_t by_nr_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
    for (int i = 0; i < syscall_table_len; i++)
        if (syscall_table[i].nr >= 0 && syscall_table[i].nr < SYSCALL_MAX)
            by_nr[syscall_table[i].nr] = &syscall_table[i];
}

const struct syscall_desc *syscall_lookup(uint64_t nr)
{
    pthread_once(&by_nr_once, build_index);
    return nr < SYSCALL_MAX ? by_nr[nr] : NULL;
}

const char *syscall_name(uint64_t nr)
{
    const struct syscall_desc *d = syscall_lookup(nr);
    if (d)
        return d->name;
    static char *names[SYSCALL_MAX];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    if (nr >= SYSCALL_MAX)
        return NULL;
    pthread_mutex_lock(&lock);
    if (!names[nr])
        names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);
    pthread_mutex_unlock(&lock);
    return names[nr];
}

/* uretprobe (335) and uprobe (336): the two syscalls Linux lets past every
 * seccomp filter (6.11 and 6.18), so under systrap a guest's call never
 * reaches this table: the host kernel answers it in the stub, and nothing
 * here (dispatch, --strace, the report below) claims to have seen it. Only
 * PTRACE_SYSEMU, which stops every syscall before seccomp, brings them
 * here; then they get what Linux gives a process without uprobes, which is
 * also what the host gives the stub: both are meant only for the
 * trampolines the kernel maps into a probed process, and the guest has
 * none. tests/guest/uprobe.c pins both platforms to native behaviour. */
long sys_uretprobe(struct task *t, const struct sysargs *a)
{
    (void)a;
    /* force_sig(SIGILL). No guest handlers are delivered yet: the default
     * action, as for a fault (which is how systrap sees the host's SIGILL). */
    task_exit_group(t, SIGILL | 0x80);
    return -1;
}

long sys_uprobe(struct task *t, const struct sysargs *a)
{
    (void)t, (void)a;
    return -ENXIO; /* not in a uprobe trampoline */
}

/* Report an unimplemented syscall once per sandbox, with its name. */
static void report_unimplemented(struct task *t, uint64_t nr, uint32_t arch)
{
    struct sandbox *sb = t->proc->sb;
    if (arch != AUDIT_ARCH_X86_64_) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            fprintf(stderr, "sandbox-run: syscalls of a non-x86-64 ABI (arch 0x%x) are not supported\n", arch);
        return;
    }
    size_t bits = sizeof(sb->reported) * 8;
    int seen = 0;
    pthread_mutex_lock(&sb->lock);
    if (nr < bits) {
        seen = (sb->reported[nr / 32] >> (nr % 32)) & 1;
        sb->reported[nr / 32] |= 1U << (nr % 32);
    } else {
        /* Numbers past the table: remember the first few exactly. */
        size_t n = sizeof(sb->reported_big) / sizeof(sb->reported_big[0]);
        size_t i;
        for (i = 0; i < n && sb->reported_big[i] && sb->reported_big[i] != nr; i++)
            ;
        seen = i == n || sb->reported_big[i] == nr; /* past n distinct numbers: quiet */
        if (!seen)
            sb->reported_big[i] = nr;
    }
    pthread_mutex_unlock(&sb->lock);
    if (seen)
        return;
    const char *name = syscall_name(nr);
    if (name)
        fprintf(stderr, "sandbox-run: unimplemented syscall %s (%llu)\n", name, (unsigned long long)nr);
    else
        fprintf(stderr, "sandbox-run: unknown syscall %llu\n", (unsigned long long)nr);
}

void syscall_dispatch(struct task *t, uint64_t nr, uint32_t arch)
{
    struct sysargs a = {
        .nr = nr,
        .a = { t->regs.rdi, t->regs.rsi, t->regs.rdx, t->regs.r10, t->regs.r8, t->regs.r9 },
    };
    const struct syscall_desc *d = arch == AUDIT_ARCH_X86_64_ ? syscall_lookup(nr) : NULL;
    char buf[1024];
    long ret;
    if (!d) {
        report_unimplemented(t, nr, arch);
        ret = -ENOSYS;
        if (t->proc->sb->strace)
            strace_exit(t, NULL, &a, ret, buf, sizeof(buf));
        t->regs.rax = (uint64_t)ret;
        return;
    }
    if (t->proc->sb->strace && (d->flags & SF_NORET))
        strace_enter(t, d, &a, buf, sizeof(buf));
    ret = d->fn(t, &a);
    /* Restart codes never reach the guest. Until signal delivery exists
     * nothing can have interrupted a call for a handler to run, so each
     * is the plain EINTR it would be without SA_RESTART. */
    if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
        ret == -ERESTART_RESTARTBLOCK)
        ret = -EINTR;
    if (t->proc->sb->strace && !(d->flags & SF_NORET))
        strace_exit(t, d, &a, ret, buf, sizeof(buf));
    t->regs.rax = (uint64_t)ret;
}
