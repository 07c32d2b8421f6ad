/* The task loop: each guest thread has a sentry thread that switches to it,
 * services what it trapped for, and switches back, until it exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/layout.h"
#include "platform/sysmsg.h"
#include "platform/platform.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

/* Signals whose default action dumps core: the wait status carries 0x80. */
static int sig_dumps_core(int sig)
{
    switch (sig) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
        return 1;
    default:
        return 0;
    }
}

/* sandbox-run's own failure (README: "sandbox-run itself failed"). */
#define EXIT_SANDBOX_FAILED 125

static int is_fault_sig(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
           sig == SIGSYS;
}

/* The stub died without the sentry killing it. After start-up the stub
 * never exits by itself (its filter refuses exit and exit_group), so either
 * the host killed it (SIGKILL from outside, the OOM killer): a failure of
 * the sandbox, not of the guest; or the kernel forced a trap signal on it
 * that it could not handle (a guest that jumped into stub code to block
 * SIGSYS or SIGSEGV, or overflowed the stub's signal stack): the guest
 * broke memory that is not its own, which is a SIGSEGV of the guest. */
static void stub_died(struct task *t)
{
    struct sandbox *box = t->proc->sandbox;
    int st = t->proc->mm->stub->status;
    if (WIFSIGNALED(st) && is_fault_sig(WTERMSIG(st))) {
        task_exit_group(t, SIGSEGV | 0x80);
        return;
    }
    if (WIFSIGNALED(st))
        fprintf(
            stderr,
            "sandbox-run: the guest's address space was killed from outside the sandbox (signal %d)\n",
            WTERMSIG(st));
    else
        fprintf(stderr, "sandbox-run: the guest's address space exited unexpectedly (status %d)\n",
                WEXITSTATUS(st));
    task_exit_group(t, SIGKILL);
    pthread_mutex_lock(&box->lock);
    box->exit_status = EXIT_SANDBOX_FAILED;
    pthread_mutex_unlock(&box->lock);
}

static int in_stub_region(uint64_t ip)
{
    return ip >= STUB_BASE && ip < STUB_REGION_END;
}

void task_run(struct task *t)
{
    const struct platform *plat = t->proc->sandbox->plat;
    current_task = t;
    while (!t->exiting) {
        struct guest_event ev;
        if (plat->switch_to(t->ctx, &t->regs, &ev) < 0) {
            if (!t->exiting)
                stub_died(t);
            break;
        }
        switch (ev.kind) {
        case EV_SYSCALL:
            syscall_dispatch(t, ev.nr, ev.arch);
            break;
        case EV_FAULT:
            /* The stub region is not guest memory (copy_in and mmap treat
             * it as unmapped): a guest that jumped into stub code and
             * faulted there gets what a jump to unmapped memory gives. */
            if (in_stub_region(t->regs.rip)) {
                ev.signo = SIGSEGV;
                ev.code = 1; /* SEGV_MAPERR */
                ev.addr = t->regs.rip;
            }
            /* No guest handlers are delivered yet: the default action ends
             * the process, with a core flag for the signals that dump. */
            if (t->proc->sandbox->strace) {
                char buf[512];
                strace_fault(t, ev.signo, ev.code, ev.addr, sig_dumps_core(ev.signo), buf,
                             sizeof(buf));
            }
            task_exit_group(t, ev.signo | (sig_dumps_core(ev.signo) ? 0x80 : 0));
            break;
        case EV_INTERRUPT:
        default:
            break;
        }
    }
}
