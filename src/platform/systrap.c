/* The systrap platform: guest syscalls and faults trap into the stub's
 * signal handler, which hands the thread's registers to the sentry through
 * its sysmsg page (spin first, then futex) and returns into whatever
 * registers the sentry hands back. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "platform/handoff.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/sysmsg.h"

static int stub_is_dead(const struct stub *s)
{
    return __atomic_load_n(&s->dead, __ATOMIC_SEQ_CST);
}

/* How long a sentry thread waits for the post of a thread whose task must
 * end (systrap_kill) before it gives the thread up: far longer than a
 * thread that takes the interrupt needs, even on a loaded machine. */
#define DYING_GRACE_NS (1000ULL * 1000 * 1000)
/* The longest a sentry thread sleeps on the state word before it looks at
 * the stub and the kill flag again: a wake-up of systrap_kill that comes
 * between its look and its sleep is not lost for longer than this. Only
 * a thread that runs guest code for that long without a trap sleeps so
 * long, so the extra wake-ups cost nothing worth counting. */
#define SLEEP_RECHECK_NS (100ULL * 1000 * 1000)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Whether the wait for ctx's post ends without one: its stub died, or its
 * task must end and the thread has not posted within the grace period
 * (the guest keeps it in stub code with the interrupt blocked): the
 * thread is lost to the sentry from then on. Only the serving thread
 * calls it. */
static int wait_stop(const void *arg)
{
    struct guest_ctx *ctx = (struct guest_ctx *)arg;
    if (stub_is_dead(ctx->stub) || ctx->lost)
        return 1;
    if (!__atomic_load_n(&ctx->dying, __ATOMIC_SEQ_CST))
        return 0;
    uint64_t now = now_ns();
    if (!ctx->give_up_at) {
        ctx->give_up_at = now + DYING_GRACE_NS;
        return 0;
    }
    if (now < ctx->give_up_at)
        return 0;
    ctx->lost = 1;
    return 1;
}

static void sentry_futex_wait(uint32_t *word, uint32_t val)
{
    static const struct timespec recheck = { SLEEP_RECHECK_NS / 1000000000ULL,
                                             SLEEP_RECHECK_NS % 1000000000ULL };
    syscall(SYS_futex, word, FUTEX_WAIT, val, &recheck, NULL, 0);
}

static void sentry_yield(void)
{
    sched_yield();
}

static void sentry_futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* A sentry thread and its stub thread spin for each other under one
 * permit of the spin budget (base.h), held from the time one of them
 * starts to wait until the pair stops spinning: the sentry thread's spin
 * ends unanswered (the guest runs on), or it is about to sleep for
 * something else (systrap_blocking), or the thread ends. While the sentry
 * thread works on a post, the permit covers the stub thread's spin for
 * the answer; without one, the stub thread sleeps at once. */
static int pair_spin(struct guest_ctx *ctx)
{
    if (!ctx->spin_permit && stub_spin_rounds)
        ctx->spin_permit = spin_permit_take();
    return ctx->spin_permit;
}

/* Wait until the stub thread posts; -ESRCH if the stub died instead, or
 * the thread did: the kernel clears the state word at its exit (SM_GONE),
 * which also ends the wait. A guest that ends its host thread from stub
 * code, or writes SM_GONE (or any other value) into the word, gets the
 * same: its thread is gone for the sentry, which ends the process. */
static int wait_posted(struct guest_ctx *ctx)
{
    struct sysmsg *m = ctx->m;
    int turned =
        pair_spin(ctx) && handoff_spin(&m->state, SM_STUB, &stub_spin_rounds, sentry_yield);
    if (!turned) {
        stub_pair_unspin(ctx);
        handoff_sleep(&m->state, SM_STUB, &m->sentry_sleeping, sentry_futex_wait, wait_stop, ctx);
        /* The stub thread spins for the answer only with a permit. */
        if (!pair_spin(ctx))
            __atomic_store_n(&m->spin_limit, 0, __ATOMIC_RELAXED);
    }
    if (stub_is_dead(ctx->stub) || ctx->lost ||
        __atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SM_SENTRY)
        return -ESRCH;
    ctx->give_up_at = 0;
    /* The thread is with the sentry: an interrupt sent for it is done
     * with (the task loop takes what it was for before it switches back). */
    __atomic_store_n(&m->kick, 0, __ATOMIC_SEQ_CST);
    return 0;
}

/* Give the turn to the stub thread and wait until it posts again. After
 * that post it spins for the next turn if the pair holds a permit and
 * stub_spins says the answer comes soon (systrap_blocking ends the spin
 * early when it does not); otherwise it sleeps. */
static int handoff_spins(struct guest_ctx *ctx, int stub_spins)
{
    if (ctx->lost)
        return -ESRCH;
    uint32_t limit = stub_spins && pair_spin(ctx) ? stub_spin_rounds : 0;
    __atomic_store_n(&ctx->m->spin_limit, limit, __ATOMIC_RELAXED);
    handoff_give(&ctx->m->state, SM_STUB, &ctx->m->stub_sleeping, sentry_futex_wake);
    return wait_posted(ctx);
}

static int handoff(struct guest_ctx *ctx)
{
    return handoff_spins(ctx, 1);
}

/* The sentry thread of ctx is about to sleep (a blocking call): its stub
 * thread, spinning for the answer, sleeps now instead of taking a CPU. */
static void systrap_blocking(struct guest_ctx *ctx)
{
    __atomic_store_n(&ctx->m->spin_limit, 0, __ATOMIC_RELAXED);
    stub_pair_unspin(ctx);
}

/* The kick word first, then the signal: a signal that lands in the stub
 * on the thread's way back to the guest is dropped there, and the word
 * makes stub_return trap instead (stub.c). */
static void systrap_interrupt(struct guest_ctx *ctx)
{
    __atomic_store_n(&ctx->m->kick, 1, __ATOMIC_SEQ_CST);
    stub_interrupt(ctx);
}

/* The task must end: the interrupt, and should the thread not post (a
 * guest can keep it in stub code with the interrupt signal blocked, or
 * with its stack on a signal stack, where the stub drops it), the wait
 * for it gives up after DYING_GRACE_NS (wait_stop); the wake-up makes its
 * sleep look at the flag now. What is left of such a thread in the stub
 * goes with the stub: the process's last thread kills it (exit.c), or
 * the address space's last user. */
static void systrap_kill(struct guest_ctx *ctx)
{
    __atomic_store_n(&ctx->dying, 1, __ATOMIC_SEQ_CST);
    systrap_interrupt(ctx);
    /* Every waiter: the guest's thread can wait on the word too. */
    syscall(SYS_futex, &ctx->m->state, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static int systrap_create(struct stub **out, struct guest_ctx **ctx)
{
    return stub_spawn(&platform_systrap, 0, out, ctx);
}

static int systrap_attach(struct guest_ctx *ctx)
{
    /* A new thread's page starts at SM_STUB; it posts once when it enters
     * its handler on the way into the guest. A spare stub waits long
     * after that for its first turn: no permit stays with it. */
    int r = wait_posted(ctx);
    stub_pair_unspin(ctx);
    /* Where its FP state is, checked where it is used (fp_area). */
    if (r == 0)
        ctx->fpstate = __atomic_load_n(&ctx->m->ev.fpstate, __ATOMIC_RELAXED);
    return r;
}

#define AUDIT_ARCH_X86_64_ 0xc000003eU
#define AUDIT_ARCH_I386_ 0x40000003U
#define SYS_SECCOMP_ 1
#define SI_KERNEL_ 0x80

/* Whether si_code is one the kernel gives for a fault with signal sig:
 * SI_KERNEL or one of the signal's own codes (NSIGSEGV, NSIGBUS, ... in
 * <asm-generic/siginfo.h>). */
static int fault_code_ok(int sig, int code)
{
    if (code == SI_KERNEL_)
        return 1;
    switch (sig) {
    case SIGSEGV:
        return code >= 1 && code <= 10;
    case SIGBUS:
        return code >= 1 && code <= 5;
    case SIGFPE:
        return code >= 1 && code <= 15;
    case SIGILL:
        return code >= 1 && code <= 11;
    case SIGTRAP:
        return code >= 1 && code <= 6;
    default:
        return 0;
    }
}

/* Every field of a posted event, checked for its kind. Anything else was
 * written by the guest, not by the stub's handler. */
static int event_ok(const struct sysmsg_event *e)
{
    switch (e->kind) {
    case EV_SYSCALL:
        return e->signo == SIGSYS && e->code == SYS_SECCOMP_ &&
               (e->arch == AUDIT_ARCH_X86_64_ || e->arch == AUDIT_ARCH_I386_);
    case EV_FAULT:
        return fault_code_ok(e->signo, e->code);
    case EV_INTERRUPT:
        return e->signo == STUB_INTERRUPT_SIG;
    default:
        return 0;
    }
}

/* The guest can write its sysmsg page at any time, so what the sentry
 * takes from it is copied once and checked here; nothing in it is a host
 * pid, descriptor or sentry pointer.
 *
 * A guest thread can also post on its own (write an event and the state
 * word, then wake the sentry) while its stub handler is not running. Such a
 * post cannot be told from a real one, and need not be: a syscall posted
 * that way is served exactly as a trapped one is, from the registers it
 * carries, with every check a trapped syscall gets, so it can do nothing
 * the guest could not do with a syscall instruction; a fault is one the
 * guest could cause; an interrupt is a spurious stop. What the sentry
 * writes back is lost if no handler is there to load it, which only
 * confuses the guest's view of itself. A post that fails the checks is
 * dropped: the thread resumes with the registers the sentry already holds. */
static int systrap_switch(struct guest_ctx *ctx, struct guest_regs *regs, struct guest_event *ev)
{
    struct sysmsg *m = ctx->m;
    m->regs = *regs;
    m->cmd = SMC_RESUME;
    if (handoff(ctx) < 0) {
        ev->kind = EV_DEAD;
        return -ESRCH;
    }
    struct sysmsg_event e;
    struct guest_regs r;
    memcpy(&e, (const void *)&m->ev, sizeof(e));
    memcpy(&r, (const void *)&m->regs, sizeof(r));
    memset(ev, 0, sizeof(*ev));
    if (!event_ok(&e)) {
        ev->kind = EV_INTERRUPT;
        return 0;
    }
    /* The handler fills in the general registers, rip, eflags, orig_rax and
     * the FS and GS bases; the segment selectors stay the sentry's (the
     * handler returns with the kernel's own cs and ss). */
    r.cs = regs->cs;
    r.ss = regs->ss;
    r.ds = regs->ds;
    r.es = regs->es;
    r.fs = regs->fs;
    r.gs = regs->gs;
    *regs = r;
    ev->kind = (int)e.kind;
    ev->signo = e.signo;
    ev->code = e.code;
    ev->arch = e.arch;
    ev->addr = e.addr; /* only ever reported back to the guest (si_addr) */
    ev->trapno = e.trapno;
    ev->err = e.err;
    ev->cr2 = e.cr2;
    /* Checked where it is used (fp_area): it only ever names memory of
     * this thread's signal stack. */
    ctx->fpstate = e.fpstate;
    if (ev->kind == EV_SYSCALL)
        ev->nr = regs->rax;
    return 0;
}

/* The result of a requested syscall, from the page: a forged one (a guest
 * thread can write sc_ret while the request runs) can only be an error or
 * exactly what the request can return. -ESRCH is kept for "the stub died". */
static long checked_result(long nr, const uint64_t args[6], long ret)
{
    if (ret < 0 && ret >= -4095)
        return ret == -ESRCH ? -EFAULT : ret;
    switch (nr) {
    case SYS_mmap: /* always MAP_FIXED */
        return (uint64_t)ret == args[0] ? ret : -EFAULT;
    case SYS_mremap:
        return (uint64_t)ret == ((args[3] & MREMAP_FIXED) ? args[4] : args[0]) ? ret : -EFAULT;
    case SYS_recvmsg:
        return ret >= 0 && ret <= 4096 ? ret : -EFAULT;
    default:
        return ret == 0 ? 0 : -EFAULT;
    }
}

static long systrap_run_clone(struct guest_ctx *ctx, const uint64_t args[6])
{
    struct sysmsg *m = ctx->m;
    memcpy(m->sc_args, args, sizeof(m->sc_args));
    m->cmd = SMC_CLONE;
    /* The answer waits for the child's hello and its sentry task: the
     * stub thread sleeps meanwhile. */
    int r = handoff_spins(ctx, 0);
    stub_pair_unspin(ctx);
    if (r < 0)
        return -ESRCH;
    return __atomic_load_n(&m->sc_ret, __ATOMIC_RELAXED);
}

static void systrap_run_exit(struct guest_ctx *ctx)
{
    if (ctx->lost)
        return; /* not parked: nothing to hand the turn to */
    ctx->m->cmd = SMC_EXIT;
    stub_pair_unspin(ctx);
    handoff_give(&ctx->m->state, SM_STUB, &ctx->m->stub_sleeping, sentry_futex_wake);
}

static long systrap_stub_syscall(struct guest_ctx *ctx, long nr, const uint64_t args[6])
{
    struct sysmsg *m = ctx->m;
    m->sc_nr = (uint64_t)nr;
    memcpy(m->sc_args, args, sizeof(m->sc_args));
    m->cmd = SMC_SYSCALL;
    if (handoff(ctx) < 0)
        return -ESRCH;
    return checked_result(nr, args, __atomic_load_n(&m->sc_ret, __ATOMIC_RELAXED));
}

static long systrap_map_fd(struct guest_ctx *ctx, uint64_t seq, uint64_t addr, uint64_t len,
                           int prot, int flags, uint64_t off)
{
    struct sysmsg *m = ctx->m;
    const uint64_t args[6] = { addr, len, (uint64_t)prot, (uint64_t)flags, off, 0 };
    m->sc_nr = seq;
    memcpy(m->sc_args, args, sizeof(m->sc_args));
    m->cmd = SMC_MAPFD;
    if (handoff(ctx) < 0)
        return -ESRCH;
    return checked_result(SYS_mmap, args, __atomic_load_n(&m->sc_ret, __ATOMIC_RELAXED));
}

/* The FP state of the parked thread is in its stub handler's signal
 * frame, on the slot's signal stack: the kernel saved it there (XSAVE,
 * standard form) and the stub loads it back on its way to the guest
 * (XRSTOR in stub_return, or rt_sigreturn). The address came through the
 * sysmsg page, so it must name size bytes inside that slot's stack, 64-byte
 * aligned as the kernel puts it; the bytes themselves are the guest's. */
static int fp_area(const struct guest_ctx *ctx, size_t size, uint64_t *at)
{
    uint64_t lo = SIGSTACK_BASE + (uint64_t)ctx->slot * SIGSTACK_SIZE, hi = lo + SIGSTACK_SIZE;
    uint64_t fp = ctx->fpstate;
    if (fp < lo || fp >= hi || (fp & 63) || size > hi - fp)
        return -EFAULT;
    *at = fp;
    return 0;
}

static int systrap_get_fpstate(struct guest_ctx *ctx, void *buf, size_t size)
{
    uint64_t at;
    if (fp_area(ctx, size, &at) < 0)
        return -EFAULT;
    struct iovec l = { buf, size }, r = { (void *)(uintptr_t)at, size };
    return process_vm_readv(ctx->tid, &l, 1, &r, 1, 0) == (ssize_t)size ? 0 : -EFAULT;
}

static int systrap_set_fpstate(struct guest_ctx *ctx, const void *buf, size_t size)
{
    uint64_t at;
    if (fp_area(ctx, size, &at) < 0 || size < 512)
        return -EFAULT;
    /* The software-reserved bytes of the legacy area (464..511) stay the
     * kernel's: rt_sigreturn and the stub read the frame's layout there. */
    const char *b = buf;
    struct iovec l[2] = { { (void *)b, 464 }, { (void *)(b + 512), size - 512 } };
    struct iovec r[2] = { { (void *)(uintptr_t)at, 464 },
                          { (void *)(uintptr_t)(at + 512), size - 512 } };
    return process_vm_writev(ctx->tid, l, 2, r, 2, 0) == (ssize_t)(size - 48) ? 0 : -EFAULT;
}

const struct platform platform_systrap = {
    .name = "systrap",
    .ctx_movable = 1,
    .stub_create = systrap_create,
    .attach = systrap_attach,
    .switch_to = systrap_switch,
    .stub_syscall = systrap_stub_syscall,
    .map_fd = systrap_map_fd,
    .interrupt = systrap_interrupt,
    .kill = systrap_kill,
    .run_clone = systrap_run_clone,
    .run_exit = systrap_run_exit,
    .blocking = systrap_blocking,
    .get_fpstate = systrap_get_fpstate,
    .set_fpstate = systrap_set_fpstate,
};
