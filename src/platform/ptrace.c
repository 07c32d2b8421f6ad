/* The ptrace platform: each guest thread runs under PTRACE_SYSEMU, traced by
 * the sentry thread that runs its task. Memory calls are injected by pointing
 * the stopped thread at the stub's `syscall; int3` gadget. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/sysmsg.h"

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

static int ptrace_create(struct stub **out, struct guest_ctx **ctx)
{
    return stub_spawn(&platform_ptrace, 1, out, ctx);
}

/* Wait for the next stop of the thread; returns the wait status or -ESRCH. */
static int wait_stop(struct guest_ctx *ctx)
{
    for (;;) {
        int status;
        pid_t r = waitpid(ctx->tid, &status, __WALL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            /* The monitor reaped it first: wait for the status it records. */
            while (!__atomic_load_n(&ctx->stub->dead, __ATOMIC_SEQ_CST)) {
                uint32_t st = __atomic_load_n(&ctx->m->state, __ATOMIC_SEQ_CST);
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                syscall(SYS_futex, &ctx->m->state, FUTEX_WAIT, st, &ts, NULL, 0);
            }
            return -ESRCH;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            stub_mark_dead(ctx->stub, status);
            return -ESRCH;
        }
        return status;
    }
}

static void save_segments(struct guest_ctx *ctx, const struct user_regs_struct *u)
{
    ctx->seg[0] = u->cs;
    ctx->seg[1] = u->ss;
    ctx->seg[2] = u->ds;
    ctx->seg[3] = u->es;
    ctx->seg[4] = u->fs;
    ctx->seg[5] = u->gs;
}

static void load_segments(const struct guest_ctx *ctx, struct guest_regs *r)
{
    r->cs = ctx->seg[0];
    r->ss = ctx->seg[1];
    r->ds = ctx->seg[2];
    r->es = ctx->seg[3];
    r->fs = ctx->seg[4];
    r->gs = ctx->seg[5];
}

static int ptrace_attach(struct guest_ctx *ctx)
{
    if (ptrace(PTRACE_SEIZE, ctx->tid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
        return -errno;
    struct sysmsg *m = ctx->m;
    __atomic_store_n(&m->go, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &m->go, FUTEX_WAKE, 1, NULL, NULL, 0);
    /* The stub enters the guest with ud2: wait for that SIGILL stop. */
    for (;;) {
        int st = wait_stop(ctx);
        if (st < 0)
            return st;
        if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGILL)
            break;
        ptrace(PTRACE_CONT, ctx->tid, 0, 0);
    }
    struct user_regs_struct u;
    if (ptrace(PTRACE_GETREGS, ctx->tid, 0, &u) < 0)
        return -errno;
    save_segments(ctx, &u);
    return 0;
}

/* The sigcontext's trapno, err and cr2 of a fault. A tracer sees only the
 * siginfo, not the thread's trap number and error code (the kernel keeps
 * them in its thread struct): they are worked out from the signal and
 * si_code as the kernel's traps give them. A page fault's error code has
 * X86_PF_USER, X86_PF_PROT for a protection fault and X86_PF_INSTR for a
 * fetch; whether it was a write (X86_PF_WRITE) cannot be known here and is
 * left out. A floating-point exception is taken as SSE's (#XM), not
 * x87's (#MF). */
#define X86_TRAP_DE 0
#define X86_TRAP_DB 1
#define X86_TRAP_BP 3
#define X86_TRAP_UD 6
#define X86_TRAP_GP 13
#define X86_TRAP_PF 14
#define X86_TRAP_AC 17
#define X86_TRAP_MC 18
#define X86_TRAP_XF 19
static void fault_archinfo(struct guest_event *ev, uint64_t rip)
{
    int sig = ev->signo, code = ev->code;
    ev->err = 0;
    ev->cr2 = 0;
    if ((sig == SIGSEGV && code != SI_KERNEL) || (sig == SIGBUS && code == BUS_ADRERR)) {
        ev->trapno = X86_TRAP_PF;
        ev->cr2 = ev->addr;
        ev->err = 4 /* USER */ | (sig == SIGSEGV && code != SEGV_MAPERR ? 1 /* PROT */ : 0) |
                  (ev->addr == rip ? 16 /* INSTR */ : 0);
    } else if (sig == SIGSEGV) {
        ev->trapno = X86_TRAP_GP;
    } else if (sig == SIGBUS) {
        ev->trapno = code == BUS_ADRALN ? X86_TRAP_AC : X86_TRAP_MC;
    } else if (sig == SIGFPE) {
        ev->trapno = code == FPE_INTDIV || code == FPE_INTOVF ? X86_TRAP_DE : X86_TRAP_XF;
    } else if (sig == SIGILL) {
        ev->trapno = X86_TRAP_UD;
    } else if (sig == SIGTRAP) {
        ev->trapno = code == SI_KERNEL ? X86_TRAP_BP : X86_TRAP_DB;
    }
}

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

static int ptrace_get_fpstate(struct guest_ctx *ctx, void *buf, size_t size)
{
    struct iovec io = { buf, size };
    if (ptrace(PTRACE_GETREGSET, ctx->tid, NT_X86_XSTATE, &io) < 0)
        return -errno;
    if (io.iov_len < size)
        memset((char *)buf + io.iov_len, 0, size - io.iov_len);
    return 0;
}

static int ptrace_set_fpstate(struct guest_ctx *ctx, const void *buf, size_t size)
{
    struct iovec io = { (void *)buf, size };
    return ptrace(PTRACE_SETREGSET, ctx->tid, NT_X86_XSTATE, &io) < 0 ? -errno : 0;
}

static int ptrace_switch(struct guest_ctx *ctx, struct guest_regs *regs, struct guest_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    load_segments(ctx, regs);
    if (ptrace(PTRACE_SETREGS, ctx->tid, 0, regs) < 0) {
        ev->kind = EV_DEAD;
        return -ESRCH;
    }
    for (;;) {
        if (ptrace(PTRACE_SYSEMU, ctx->tid, 0, 0) < 0) {
            ev->kind = EV_DEAD;
            return -ESRCH;
        }
        int st = wait_stop(ctx);
        if (st < 0) {
            ev->kind = EV_DEAD;
            return -ESRCH;
        }
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st);
        if (sig == (SIGTRAP | 0x80)) {
            if (ptrace(PTRACE_GETREGS, ctx->tid, 0, regs) < 0)
                return -ESRCH;
            if (regs->rip >= STUB_BASE && regs->rip <= STUB_REGION_END) {
                /* A guest that jumped to a syscall instruction of the stub:
                 * what the systrap filter does to calls from stub text
                 * that the stub does not make itself, EPERM. (The stub's
                 * own calls are injected with PTRACE_CONT, never stop here.) */
                regs->rax = (uint64_t)-EPERM;
                if (ptrace(PTRACE_SETREGS, ctx->tid, 0, regs) < 0) {
                    ev->kind = EV_DEAD;
                    return -ESRCH;
                }
                continue;
            }
            ev->kind = EV_SYSCALL;
            ev->signo = SIGSYS;
            ev->nr = regs->orig_rax;
            ev->arch = 0xc000003e; /* AUDIT_ARCH_X86_64 */
            regs->rax = regs->orig_rax;
            return 0;
        }
        if ((st >> 16) == PTRACE_EVENT_STOP)
            continue; /* group-stop or PTRACE_INTERRUPT: nothing to report */
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        ptrace(PTRACE_GETSIGINFO, ctx->tid, 0, &si);
        if (ptrace(PTRACE_GETREGS, ctx->tid, 0, regs) < 0)
            return -ESRCH;
        if (sig == STUB_INTERRUPT_SIG && si.si_code == SI_TKILL && si.si_pid == getpid()) {
            ev->kind = EV_INTERRUPT;
            return 0;
        }
        /* Only the kernel's own faults (si_code > 0): a fault signal sent
         * from outside (kill, tgkill) is no fault of the guest. */
        if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) &&
            si.si_code > 0) {
            ev->kind = EV_FAULT;
            ev->signo = sig;
            ev->code = si.si_code;
            ev->addr = (uint64_t)(uintptr_t)si.si_addr;
            fault_archinfo(ev, regs->rip);
            return 0;
        }
        /* Any other host signal is not the guest's business: suppress it. */
    }
}

/* Run syscall nr at a gadget of the stopped thread (which ends in int3 for
 * the caller's side), r12 set for stub_clone_child; restores its registers. */
static long inject(struct guest_ctx *ctx, uint64_t gadget, long nr, const uint64_t args[6],
                   uint64_t r12)
{
    struct user_regs_struct saved, u;
    if (ptrace(PTRACE_GETREGS, ctx->tid, 0, &saved) < 0)
        return -ESRCH;
    u = saved;
    u.rip = gadget;
    u.r12 = r12;
    u.rax = (unsigned long)nr;
    u.orig_rax = (unsigned long)-1;
    u.rdi = args[0];
    u.rsi = args[1];
    u.rdx = args[2];
    u.r10 = args[3];
    u.r8 = args[4];
    u.r9 = args[5];
    if (ptrace(PTRACE_SETREGS, ctx->tid, 0, &u) < 0)
        return -ESRCH;
    for (;;) {
        if (ptrace(PTRACE_CONT, ctx->tid, 0, 0) < 0)
            return -ESRCH;
        int st = wait_stop(ctx);
        if (st < 0)
            return -ESRCH;
        /* Any other stop is suppressed: an interrupt (sent while the
         * thread was with the sentry) needs no replay, as the task loop
         * takes what it was for before the thread runs again. */
        if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
            break;
    }
    if (ptrace(PTRACE_GETREGS, ctx->tid, 0, &u) < 0)
        return -ESRCH;
    long ret = (long)u.rax;
    if (ptrace(PTRACE_SETREGS, ctx->tid, 0, &saved) < 0)
        return -ESRCH;
    return ret;
}

static long ptrace_stub_syscall(struct guest_ctx *ctx, long nr, const uint64_t args[6])
{
    return inject(ctx, STUB_GADGET_SYSCALL, nr, args, 0);
}

static long ptrace_run_clone(struct guest_ctx *ctx, const uint64_t args[6])
{
    return inject(ctx, STUB_GADGET_CLONE, SYS_clone, args, args[5]);
}

/* Point the thread at exit and let it go: detached, it makes the call
 * itself (the stub's filter allows exit from stub text), and the tracer
 * thread may end without PTRACE_O_EXITKILL taking the stub with it. */
static void ptrace_run_exit(struct guest_ctx *ctx)
{
    struct user_regs_struct u;
    if (ptrace(PTRACE_GETREGS, ctx->tid, 0, &u) == 0) {
        u.rip = STUB_GADGET_SYSCALL;
        u.rax = SYS_exit;
        u.orig_rax = (unsigned long)-1;
        u.rdi = 0;
        if (ptrace(PTRACE_SETREGS, ctx->tid, 0, &u) == 0 &&
            ptrace(PTRACE_DETACH, ctx->tid, 0, 0) == 0)
            return;
    }
    /* Its stub was killed meanwhile (the process's last thread does
     * that): as the dying thread's tracer, take its death, or the stub
     * could never be reaped, and whoever reaps it would wait forever. */
    while (wait_stop(ctx) >= 0)
        ;
}

static void ptrace_reap_thread(struct guest_ctx *ctx)
{
    while (wait_stop(ctx) >= 0)
        ; /* stops before the SIGKILL lands */
}

/* The stub was killed: wait out every thread of it that a sentry thread
 * still traces (its tracer may be the very thread releasing the stub, or
 * one that stopped serving it early), so that the spawner can reap the
 * stub. A tracer still waiting for its thread sees ECHILD, then the death
 * the reaping records. */
static void ptrace_release(struct stub *s)
{
    /* The kernel's list of its threads, not the slots: a thread whose
     * slot was given up can still be a traced zombie. */
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)s->pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        int st;
        while (tid > 0 && (waitpid(tid, &st, __WALL) >= 0 || errno == EINTR))
            ; /* stops before the SIGKILL lands, then its death */
    }
    closedir(d);
}

const struct platform platform_ptrace = {
    .name = "ptrace",
    .stub_create = ptrace_create,
    .attach = ptrace_attach,
    .switch_to = ptrace_switch,
    .stub_syscall = ptrace_stub_syscall,
    .interrupt = stub_interrupt,
    .run_clone = ptrace_run_clone,
    .run_exit = ptrace_run_exit,
    .reap_thread = ptrace_reap_thread,
    .release = ptrace_release,
    .get_fpstate = ptrace_get_fpstate,
    .set_fpstate = ptrace_set_fpstate,
};
