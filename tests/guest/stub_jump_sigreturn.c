/* stub_jump_sigreturn.c: a guest that jumps to the stub's rt_sigreturn
 * (STUB_BASE + 0x10) with a frame of its own that blocks SIGSYS in the stub
 * thread breaks only its own address space: its next syscall cannot trap,
 * the host kills the stub with SIGSYS, and the sentry reports the guest
 * dead of SIGSEGV (under ptrace the rt_sigreturn is refused and the ud2
 * after it faults: SIGSEGV too). Natively: a NULL write. */
#include <signal.h>
#include "stub_util.h"

/* The x86-64 ucontext that rt_sigreturn reads at %rsp. */
struct t_sigcontext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};
struct t_ucontext {
    uint64_t uc_flags, uc_link;
    struct {
        uint64_t ss_sp;
        int32_t ss_flags;
        int32_t pad;
        uint64_t ss_size;
    } uc_stack;
    struct t_sigcontext mc;
    uint64_t sigmask;
};

static char stack[65536] __attribute__((aligned(16)));

static void after(void)
{
    out("FAIL a syscall after blocking SIGSYS in the stub\n");
    sc(SYS_exit_group, 1);
    for (;;)
        ;
}

int main(void)
{
    out("jumping to the stub's rt_sigreturn with SIGSYS blocked\n");
    if (!sandboxed()) {
        volatile int *volatile p = NULL;
        *p = 1;
    }
    static struct t_ucontext uc __attribute__((aligned(16)));
    uc.uc_stack.ss_sp = SIGSTACK_BASE;
    uc.uc_stack.ss_size = SIGSTACK_SIZE;
    uc.mc.rip = (uint64_t)(uintptr_t)after;
    uc.mc.rsp = (uint64_t)(uintptr_t)(stack + sizeof stack - 8);
    uc.mc.eflags = 0x202;
    uc.mc.cs = 0x33;
    uc.mc.ss = 0x2b;
    uc.sigmask = 1UL << (SIGSYS - 1);
    __asm__ volatile("mov %0, %%rsp\n\tjmp *%1" ::"r"(&uc), "r"(STUB_BASE + 0x10) : "memory");
    __builtin_unreachable();
}
