/* The x86-64 signal frame: what the sentry writes on the guest's stack
 * to run a handler (Linux's rt_sigframe, arch/x86/kernel/signal_64.c),
 * and what rt_sigreturn takes back from it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "sentry/kernel.h"
#include "sentry/process.h"

#define FIX_EFLAGS 0x50dd5ULL /* AC OF DF TF SF ZF AF PF CF RF, as sigreturn */
#define SA_RESTORER_ 0x04000000ULL

/* The x86-64 signal frame, as Linux's rt_sigframe lays it out. */
struct k_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
    uint64_t eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};
struct k_ucontext {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    struct k_sigcontext mc;
    uint64_t sigmask;
};
struct k_rt_sigframe {
    uint64_t pretcode;
    struct k_ucontext uc;
    struct sig_info info;
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext_64");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext");
_Static_assert(sizeof(struct sig_info) == 128, "siginfo");

int sigframe_setup(struct task *t, int sig, const struct guest_sigaction *act,
                   const struct sig_info *info, uint64_t oldmask)
{
    const struct guest_regs *r = &t->regs;
    struct k_rt_sigframe f;
    memset(&f, 0, sizeof(f));
    f.pretcode = act->restorer;
    f.uc.uc_flags = 0x6; /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
    f.uc.ss_flags = 2;   /* SS_DISABLE: no alternate stack yet */
    f.uc.mc = (struct k_sigcontext){ .r8 = r->r8,
                                     .r9 = r->r9,
                                     .r10 = r->r10,
                                     .r11 = r->r11,
                                     .r12 = r->r12,
                                     .r13 = r->r13,
                                     .r14 = r->r14,
                                     .r15 = r->r15,
                                     .rdi = r->rdi,
                                     .rsi = r->rsi,
                                     .rbp = r->rbp,
                                     .rbx = r->rbx,
                                     .rdx = r->rdx,
                                     .rax = r->rax,
                                     .rcx = r->rcx,
                                     .rsp = r->rsp,
                                     .rip = r->rip,
                                     .eflags = r->eflags,
                                     .cs = 0x33,
                                     .ss = 0x2b,
                                     .oldmask = oldmask };
    f.uc.sigmask = oldmask;
    f.info = *info;
    f.info.signo = sig;
    /* Below the red zone, 16-byte aligned as after a call. */
    uint64_t sp = ((r->rsp - 128 - sizeof(f)) & ~15ULL) - 8;
    if (!(act->flags & SA_RESTORER_) || copy_out(t, sp, &f, sizeof(f)) < 0)
        return -EFAULT;
    t->regs.rip = act->handler;
    t->regs.rsp = sp;
    t->regs.rdi = (uint64_t)sig;
    t->regs.rsi = sp + offsetof(struct k_rt_sigframe, info);
    t->regs.rdx = sp + offsetof(struct k_rt_sigframe, uc);
    t->regs.rax = 0;
    t->regs.eflags &= ~(0x400ULL | 0x100ULL | 0x10000ULL); /* DF, TF, RF */
    t->regs.orig_rax = (uint64_t)-1;
    return 0;
}

int sigframe_restore(struct task *t, uint64_t *mask)
{
    struct k_ucontext uc;
    uint64_t frame = t->regs.rsp - 8;
    if (copy_in(t, &uc, frame + offsetof(struct k_rt_sigframe, uc), sizeof(uc)) < 0)
        return -EFAULT;
    struct guest_regs *r = &t->regs;
    const struct k_sigcontext *m = &uc.mc;
    r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
    r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
    r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
    r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp, r->rip = m->rip;
    r->eflags = (r->eflags & ~FIX_EFLAGS) | (m->eflags & FIX_EFLAGS);
    r->orig_rax = (uint64_t)-1;
    *mask = uc.sigmask & ~UNBLOCKABLE;
    return 0;
}
