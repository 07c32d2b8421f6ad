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

    .globl _start
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call stub_main
    ud2

    .section .note.GNU-stack, "", @progbits
