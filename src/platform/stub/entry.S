/* Entry code of the stub: the fixed-address gadgets the sentry relies on,
 * then _start. Linked first, at STUB_BASE (see stub.ld). */
    .section .text.gadgets, "ax"
    .globl stub_gadget_syscall
stub_gadget_syscall:            /* STUB_BASE + 0x0: injected syscalls (ptrace) */
    syscall
    int3
    .balign 16
    .globl stub_sigreturn
stub_sigreturn:                 /* STUB_BASE + 0x10: sa_restorer */
    mov $15, %eax
    syscall
    ud2

/* STUB_BASE + 0x20: clone injected by the ptrace platform: the tracer sets
 * rax and the syscall's arguments, r12 = slot | kind << 16 for the child. */
    .balign 16
    .globl stub_gadget_clone
stub_gadget_clone:
    syscall
    test %rax, %rax
    jz stub_clone_child
    int3

/* stub_clone(flags, newsp, ptid, ctid, tls, slotkind): the systrap
 * handler's clone. The parent returns the result; the child (on newsp, or
 * on a copy of this stack for a fork) goes to stub_clone_child. */
    .globl stub_clone
stub_clone:
    push %r12
    mov %r9, %r12
    mov %rcx, %r10
    mov $56, %eax
    syscall
    test %rax, %rax
    jz stub_clone_child
    pop %r12
    ret

/* A new thread or fork child: r12 = slot | kind << 16. It starts on the
 * top of its slot's signal stack (whatever stack it was given) and never
 * returns. */
stub_clone_child:
    mov %r12, %rdi
    movzbl %r12b, %eax
    inc %rax
    shl $16, %rax                   /* SIGSTACK_SIZE: (slot + 1) * 64 KiB */
    movabs $0x7e0001000000, %rcx    /* SIGSTACK_BASE */
    add %rcx, %rax
    sub $64, %rax
    mov %rax, %rsp
    call stub_child_start
    ud2

/* stub_return(frame, xsave): return to the guest without rt_sigreturn.
 * frame (the sysmsg's frame, off the signal stack) holds r15..rdi then an
 * iretq frame (rip, cs, rflags, rsp, ss); xsave is the guest's FPU state
 * in the signal frame, restored while still on the signal stack (a signal
 * that lands later starts a new frame at the top of that stack, over the
 * old one). From stub_return_window on, the sysmsg's kick word (at -8 from
 * the frame) says whether the sentry wants the thread back: if so, ud2 at
 * stub_return_pending, which the handler takes as an interrupt of the
 * guest with the frame's registers; so does an interrupt that lands
 * anywhere in the window, which is how none is lost on the way back. */
    .globl stub_return
stub_return:
    mov $-1, %eax
    mov $-1, %edx
    xrstor64 (%rsi)
    mov %rdi, %rsp
    .globl stub_return_window
stub_return_window:
    cmpl $0, -8(%rsp)
    jne stub_return_pending
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rax
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    iretq
    .globl stub_return_pending
stub_return_pending:
    ud2
    .globl stub_return_window_end
stub_return_window_end:

/* stub_sc6(nr, a, b, c, d, e, f): the one out-of-line system call of the
 * stub (sc6 in stub.c). */
    .globl stub_sc6
stub_sc6:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret

    .globl _start
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call stub_main
    ud2

    .section .note.GNU-stack, "", @progbits
