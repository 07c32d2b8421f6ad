/* The systrap platform: guest syscalls and faults trap into the stub's
 * signal handler, which hands the thread's registers to the sentry through
 * its sysmsg page (spin first, then futex) and returns into whatever
 * registers the sentry hands back. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/sysmsg.h"

static int stub_is_dead(struct stub *s)
{
    return atomic_load((_Atomic int *)&s->dead);
}

/* Wait until the stub thread posts (spin first, then futex); -ESRCH if the
 * stub died instead. */
static int wait_posted(struct guest_ctx *ctx)
{
    struct sysmsg *m = ctx->m;
    for (uint32_t i = 0; i < stub_spin_rounds; i++) {
        if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SM_STUB)
            goto posted;
        __builtin_ia32_pause();
    }
    for (;;) {
        __atomic_store_n(&m->sentry_sleeping, 1, __ATOMIC_SEQ_CST);
        uint32_t st = __atomic_load_n(&m->state, __ATOMIC_SEQ_CST);
        if (st != SM_STUB || stub_is_dead(ctx->stub))
            break;
        syscall(SYS_futex, &m->state, FUTEX_WAIT, SM_STUB, NULL, NULL, 0);
    }
    __atomic_store_n(&m->sentry_sleeping, 0, __ATOMIC_RELAXED);
posted:
    if (stub_is_dead(ctx->stub) || __atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SM_SENTRY)
        return -ESRCH;
    return 0;
}

/* Give the turn to the stub thread and wait until it posts again. */
static int handoff(struct guest_ctx *ctx)
{
    struct sysmsg *m = ctx->m;
    __atomic_store_n(&m->state, SM_STUB, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&m->stub_sleeping, __ATOMIC_SEQ_CST))
        syscall(SYS_futex, &m->state, FUTEX_WAKE, 1, NULL, NULL, 0);
    return wait_posted(ctx);
}

static int systrap_create(struct stub **out, struct guest_ctx **ctx)
{
    return stub_spawn(&platform_systrap, 0, out, ctx);
}

static int systrap_attach(struct guest_ctx *ctx)
{
    /* A new stub's page starts at SM_STUB; it posts once when it enters its
     * handler on the way into the guest. */
    return wait_posted(ctx);
}

static int systrap_switch(struct guest_ctx *ctx, struct guest_regs *regs, struct guest_event *ev)
{
    struct sysmsg *m = ctx->m;
    m->regs = *regs;
    m->cmd = SMC_RESUME;
    if (handoff(ctx) < 0) {
        ev->kind = EV_DEAD;
        return -ESRCH;
    }
    /* Copy once out of the shared page: the guest can change it at any time. */
    struct sysmsg_event e;
    memcpy(regs, (const void *)&m->regs, sizeof(*regs));
    memcpy(&e, (const void *)&m->ev, sizeof(e));
    memset(ev, 0, sizeof(*ev));
    ev->kind = (int)e.kind;
    ev->signo = e.signo;
    ev->code = e.code;
    ev->arch = e.arch;
    ev->addr = e.addr;
    if (ev->kind == EV_SYSCALL)
        ev->nr = regs->rax;
    else if (ev->kind != EV_FAULT && ev->kind != EV_INTERRUPT)
        ev->kind = EV_INTERRUPT; /* garbage from the guest: treat as a spurious stop */
    return 0;
}

static long systrap_stub_syscall(struct guest_ctx *ctx, long nr, const uint64_t args[6])
{
    struct sysmsg *m = ctx->m;
    m->sc_nr = (uint64_t)nr;
    memcpy(m->sc_args, args, sizeof(m->sc_args));
    m->cmd = SMC_SYSCALL;
    if (handoff(ctx) < 0)
        return -ESRCH;
    return m->sc_ret;
}

static void systrap_interrupt(struct guest_ctx *ctx)
{
    syscall(SYS_tgkill, ctx->stub->pid, ctx->tid, STUB_INTERRUPT_SIG);
}

const struct platform platform_systrap = {
    .name = "systrap",
    .stub_create = systrap_create,
    .attach = systrap_attach,
    .switch_to = systrap_switch,
    .stub_syscall = systrap_stub_syscall,
    .interrupt = systrap_interrupt,
};
