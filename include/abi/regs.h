/* Guest register file as the sentry holds it: the layout of the kernel's
 * struct user_regs_struct (x86-64), so the ptrace platform can use it as is. */
#ifndef ABI_REGS_H
#define ABI_REGS_H

#include <stdint.h>

struct guest_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax;
    uint64_t rip, cs, eflags, rsp, ss;
    uint64_t fs_base, gs_base;
    uint64_t ds, es, fs, gs;
};

#endif
