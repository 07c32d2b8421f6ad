/* The task loop: each guest thread has a sentry thread that switches to it,
 * services what it trapped for, and switches back, until it exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/sysmsg.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

__thread struct task *current_task;

/* Signals whose default action dumps core: the wait status carries 0x80. */
static int sig_dumps_core(int sig)
{
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
    case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return 1;
    default:
        return 0;
    }
}

void task_exit_group(struct task *t, int wstatus)
{
    struct process *p = t->proc;
    struct sandbox *sb = p->sb;
    t->exiting = 1;
    t->exit_code = wstatus;
    if (p == sb->init) {
        int status;
        if (WIFEXITED(wstatus))
            status = WEXITSTATUS(wstatus);
        else
            status = 128 + WTERMSIG(wstatus);
        pthread_mutex_lock(&sb->lock);
        sb->exit_status = status;
        pthread_mutex_unlock(&sb->lock);
    }
    stub_kill(p->mm->stub);
}

void task_run(struct task *t)
{
    const struct platform *plat = t->proc->sb->plat;
    current_task = t;
    while (!t->exiting) {
        struct guest_event ev;
        if (plat->switch_to(t->ctx, &t->regs, &ev) < 0) {
            if (!t->exiting) {
                struct stub *s = t->proc->mm->stub;
                fprintf(stderr, "sandbox-run: the guest's address space died unexpectedly (stub status 0x%x)\n",
                        s->status);
                task_exit_group(t, SIGKILL);
            }
            break;
        }
        switch (ev.kind) {
        case EV_SYSCALL:
            syscall_dispatch(t, ev.nr, ev.arch);
            break;
        case EV_FAULT:
            /* No guest handlers are delivered yet: the default action ends
             * the process, with a core flag for the signals that dump. */
            if (t->proc->sb->strace) {
                char buf[512];
                strace_fault(t, &ev, sig_dumps_core(ev.signo), buf, sizeof(buf));
            }
            task_exit_group(t, ev.signo | (sig_dumps_core(ev.signo) ? 0x80 : 0));
            break;
        case EV_INTERRUPT:
        default:
            break;
        }
    }
}
