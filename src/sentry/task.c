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
#include "sentry/process.h"
#include "sentry/syscall.h"

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
    struct stub *stub = t->proc->mm->stub;
    /* Only this thread is gone: it ended itself from stub code, or its
     * state word was overwritten (see wait_posted): the guest broke what
     * is not its own, a SIGSEGV. */
    if (!__atomic_load_n(&stub->dead, __ATOMIC_SEQ_CST)) {
        task_exit_group(t, sig_death_status(t->proc, SIGSEGV));
        return;
    }
    /* Every thread of it ended by exit from stub code (the only exit the
     * filter allows), or a trap signal it could not take: the guest's doing. */
    int st = stub->status;
    if (WIFEXITED(st) || (WIFSIGNALED(st) && is_fault_sig(WTERMSIG(st)))) {
        task_exit_group(t, sig_death_status(t->proc, SIGSEGV));
        return;
    }
    fprintf(
        stderr,
        "sandbox-run: the guest's address space was killed from outside the sandbox (signal %d)\n",
        WTERMSIG(st));
    task_exit_group(t, SIGKILL);
    if (t->proc == box->init) {
        pthread_mutex_lock(&box->lock);
        box->exit_status = EXIT_SANDBOX_FAILED;
        pthread_mutex_unlock(&box->lock);
    }
}

static int in_stub_region(uint64_t ip)
{
    return ip >= STUB_BASE && ip < STUB_REGION_END;
}

void task_run(struct task *t)
{
    const struct platform *plat = t->proc->sandbox->plat;
    current_task = t;
    while (!__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST)) {
        struct guest_event ev;
        if (plat->switch_to(t->ctx, &t->regs, &ev) < 0) {
            if (!t->exiting)
                stub_died(t);
            /* The host thread is gone: nothing to hand back to. */
            if (!__atomic_load_n(&t->proc->mm->stub->dead, __ATOMIC_SEQ_CST)) {
                stub_forget_thread(t->ctx);
                t->ctx = NULL;
            }
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
                strace_fault(t, ev.signo, ev.code, ev.addr,
                             (sig_death_status(t->proc, ev.signo) & 0x80) != 0, buf, sizeof(buf));
            }
            task_exit_group(t, sig_death_status(t->proc, ev.signo));
            break;
        case EV_INTERRUPT:
        default:
            break;
        }
    }
}

void task_blocking(struct task *t)
{
    const struct platform *plat = t->proc->sandbox->plat;
    if (t->ctx && plat->blocking)
        plat->blocking(t->ctx);
}

static void *task_thread(void *arg)
{
    struct task *t = arg;
    current_task = t;
    int r = t->proc->sandbox->plat->attach(t->ctx);
    if (r < 0)
        task_exit_group(t, SIGKILL);
    else
        task_run(t);
    task_exit(t);
    return NULL;
}

int task_start(struct task *t)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t->thread, &at, task_thread, t);
    pthread_attr_destroy(&at);
    return -r;
}
