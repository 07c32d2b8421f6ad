/* Syscall dispatch: the trap entry point and the one-time report of
 * unimplemented syscalls. The table is src/sentry/systab.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sched/wait.h"
#include "sentry/syscall.h"

#define AUDIT_ARCH_X86_64_ 0xc000003eU

/* Report an unimplemented syscall once per sandbox, with its name. */
static void report_unimplemented(struct task *t, uint64_t nr, uint32_t arch)
{
    struct sandbox *box = t->proc->sandbox;
    if (arch != AUDIT_ARCH_X86_64_) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            fprintf(stderr,
                    "sandbox-run: syscalls of a non-x86-64 ABI (arch 0x%x) are not supported\n",
                    arch);
        return;
    }
    size_t bits = sizeof(box->reported) * 8;
    int seen = 0;
    pthread_mutex_lock(&box->lock);
    if (nr < bits) {
        seen = (box->reported[nr / 32] >> (nr % 32)) & 1;
        box->reported[nr / 32] |= 1U << (nr % 32);
    } else {
        /* Numbers past the table: remember the first few exactly. */
        size_t n = ARRAY_SIZE(box->reported_big);
        size_t i;
        for (i = 0; i < n && box->reported_big[i] && box->reported_big[i] != nr; i++)
            ;
        seen = i == n || box->reported_big[i] == nr; /* past n distinct numbers: quiet */
        if (!seen)
            box->reported_big[i] = nr;
    }
    pthread_mutex_unlock(&box->lock);
    if (seen)
        return;
    const char *name = syscall_name(nr);
    if (name)
        fprintf(stderr, "sandbox-run: unimplemented syscall %s (%llu)\n", name,
                (unsigned long long)nr);
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
        if (t->proc->sandbox->strace)
            strace_exit(t, NULL, &a, ret, buf, sizeof(buf));
        t->regs.rax = (uint64_t)ret;
        signal_deliver(t, ret, 1);
        return;
    }
    if (t->proc->sandbox->strace && (d->flags & SF_NORET))
        strace_enter(t, d, &a, buf, sizeof(buf));
    size_t pre = 0;
    if (t->proc->sandbox->strace && (d->flags & SF_EXEC))
        pre = strace_format(t, d, &a, buf, sizeof(buf));
    ret = d->fn(t, &a);
    t->regs.rax = (uint64_t)ret;
    /* Signals are delivered here, where a restart code becomes a restart
     * or EINTR: restart codes never reach the guest. */
    ret = signal_deliver(t, ret, 1);
    if (t->proc->sandbox->strace && (d->flags & SF_EXEC))
        strace_exit_formatted(d, ret, buf, sizeof(buf), pre);
    else if (t->proc->sandbox->strace && !(d->flags & SF_NORET))
        strace_exit(t, d, &a, ret, buf, sizeof(buf));
}
