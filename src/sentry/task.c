/* The task loop: each guest thread has a sentry thread that switches to it,
 * services what it trapped for, and switches back, until it exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/layout.h"
#include "platform/sysmsg.h"
#include "platform/platform.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
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

/* Whether t must not go back to guest code now: it has a signal to take
 * (task_interrupt_pending), it is ending, or the task whose host thread it
 * borrows (a vfork parent) is. */
static int turn_held(struct task *t, struct task *owner)
{
    return task_interrupt_pending(t) || __atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST) ||
           (owner && __atomic_load_n(&owner->exiting, __ATOMIC_SEQ_CST));
}

/* One turn of t's loop: run it until it traps, and service the trap.
 * owner: the task whose host thread t borrows, or NULL. Returns -1 once
 * its host thread is gone (or its stub). */
static int task_turn(struct task *t, struct task *owner, const struct platform *plat)
{
    struct guest_event ev;
    struct guest_ctx *ctx = t->ctx;
    /* A kill of another task on this thread (a vfork child's on its
     * parent's) is done with; a kill of t that comes from here on sets
     * the flag again (after it saw the store of running below), or is
     * seen by turn_held. */
    if (__atomic_load_n(&ctx->dying, __ATOMIC_RELAXED) &&
        !__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
        __atomic_store_n(&ctx->dying, 0, __ATOMIC_RELEASE);
    /* Running from here on for task_kick, which interrupts the thread
     * wherever it is on its way into the guest; what task_kick signalled
     * before it could see this is taken now, before the guest resumes. */
    __atomic_store_n(&ctx->running, 1, __ATOMIC_SEQ_CST);
    if (turn_held(t, owner)) {
        __atomic_store_n(&ctx->running, 0, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST) &&
            !(owner && __atomic_load_n(&owner->exiting, __ATOMIC_SEQ_CST)))
            signal_deliver(t, 0, 0);
        return 0;
    }
    int r = plat->switch_to(ctx, &t->regs, &ev);
    __atomic_store_n(&ctx->running, 0, __ATOMIC_SEQ_CST);
    if (r < 0) {
        if (!t->exiting)
            stub_died(t);
        /* The host thread is gone: nothing to hand back to. A borrowed
         * one is its parent's, whose loop finds it so. */
        if (t->borrowed) {
            t->ctx = NULL;
            t->borrowed = 0;
        } else if (!__atomic_load_n(&t->proc->mm->stub->dead, __ATOMIC_SEQ_CST)) {
            /* Out of task_kick's sight (it reads ctx under the lock) first. */
            pthread_mutex_lock(&t->proc->lock);
            t->ctx = NULL;
            pthread_mutex_unlock(&t->proc->lock);
            stub_forget_thread(ctx);
        }
        return -1;
    }
    switch (ev.kind) {
    case EV_SYSCALL:
        syscall_dispatch(t, ev.nr, ev.arch);
        break;
    case EV_FAULT: {
        /* The stub region is not guest memory (copy_in and mmap treat
         * it as unmapped): a guest that jumped into stub code and
         * faulted there gets what a jump to unmapped memory gives. */
        if (in_stub_region(t->regs.rip)) {
            ev.signo = SIGSEGV;
            ev.code = 1; /* SEGV_MAPERR */
            ev.addr = t->regs.rip;
            ev.trapno = 14;  /* X86_TRAP_PF */
            ev.err = 4 | 16; /* X86_PF_USER | X86_PF_INSTR */
            ev.cr2 = t->regs.rip;
        }
        /* What every later signal frame carries, as Linux's thread struct
         * (cr2 only changes with a page fault). */
        t->trap_nr = ev.trapno;
        t->error_code = ev.err;
        if (ev.trapno == 14)
            t->cr2 = ev.cr2;
        struct sig_info info;
        memset(&info, 0, sizeof(info));
        info.signo = ev.signo;
        info.code = ev.code;
        if (ev.code != 0x80 /* SI_KERNEL: no address */)
            info.addr = ev.addr;
        /* Forced as the kernel forces a fault: a handler runs at once (its
         * frame is built before the thread runs again); blocked or
         * ignored, the default action ends the process, with a core flag
         * for the signals that dump. */
        int handled = signal_force(t, &info);
        if (t->proc->sandbox->strace) {
            char buf[512];
            strace_fault(t, ev.signo, ev.code, info.addr,
                         handled ? -1 : (sig_death_status(t->proc, ev.signo) & 0x80) != 0, buf,
                         sizeof(buf));
        }
        if (handled)
            signal_deliver(t, 0, 0);
        else
            task_exit_group(t, sig_death_status(t->proc, ev.signo));
        break;
    }
    case EV_INTERRUPT:
        /* task_kick's, for a signal (or the task's end, which the loop
         * sees): delivered before the guest resumes. Not in a syscall, so
         * no restart rule applies. A spurious one (an interrupt sent just
         * as the thread trapped, or a guest's own post) delivers nothing. */
        signal_deliver(t, 0, 0);
        break;
    default:
        break;
    }
    return 0;
}

void task_run(struct task *t)
{
    const struct platform *plat = t->proc->sandbox->plat;
    current_task = t;
    if (t->fp_inherit) {
        /* Its parent's FP state at the clone (fork.c); if it cannot be
         * loaded the thread runs with the one its stub gave it. */
        (void)task_fpstate_set(t, t->fp_inherit, fpu_xstate_size());
        free(t->fp_inherit);
        t->fp_inherit = NULL;
    }
    while (!__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST) && task_turn(t, NULL, plat) == 0)
        ;
}

/* A vfork child (posix_spawn's clone) runs on its parent's host thread and
 * on this, its parent's sentry thread, while the parent waits for it
 * anyway: no host thread is made for it, nor a sentry thread, until it
 * needs them. An exec gives it a stub of its own (already attached by
 * this thread), which a new sentry thread then serves; an exit ends it
 * here. Should the parent be killed meanwhile (a kill of the parent
 * interrupts the shared thread), the child gets a host thread of its own
 * in the shared stub and a sentry thread, as a vfork child otherwise has
 * from the start, and the parent goes its way. */
void task_run_vfork_child(struct task *t, struct task *c)
{
    const struct platform *plat = c->proc->sandbox->plat;
    /* ctx under the process lock: a kill reads it there to kick it. */
    pthread_mutex_lock(&c->proc->lock);
    c->ctx = t->ctx;
    c->borrowed = 1;
    pthread_mutex_unlock(&c->proc->lock);
    current_task = c;
    while (c->borrowed && !__atomic_load_n(&c->exiting, __ATOMIC_SEQ_CST) &&
           !__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST) && task_turn(c, t, plat) == 0)
        ;
    current_task = t;
    if (c->borrowed && !__atomic_load_n(&c->exiting, __ATOMIC_SEQ_CST)) {
        /* The parent is going: the child's own host thread, made by the
         * one it ran on, from the registers it trapped with. */
        struct guest_ctx *n = NULL;
        if (mm_new_thread(c, &n) < 0)
            process_kill(c->proc, SIGKILL);
        pthread_mutex_lock(&c->proc->lock);
        c->ctx = n;
        c->borrowed = 0;
        pthread_mutex_unlock(&c->proc->lock);
    }
    if (c->borrowed || __atomic_load_n(&c->exiting, __ATOMIC_SEQ_CST) || !c->ctx) {
        pthread_mutex_lock(&c->proc->lock);
        if (c->borrowed)
            c->ctx = NULL; /* its parent's, not for task_exit to end */
        c->borrowed = 0;
        pthread_mutex_unlock(&c->proc->lock);
        task_exit(c);
        return;
    }
    if (task_start(c) < 0) {
        process_kill(c->proc, SIGKILL);
        task_exit(c);
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
    int r = t->attached ? 0 : t->proc->sandbox->plat->attach(t->ctx);
    t->attached = 0;
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
