/* stub_util.h: what the stub tests know of the sandbox's stub: where it
 * lives (include/platform/layout.h), the layout of a sysmsg page
 * (include/platform/sysmsg.h; both need only <stdint.h>, so the guest
 * tests include them as they are) and a way to run a system call from a `syscall;
 * ret` instruction in stub text, as a guest that jumped there would. */
#ifndef STUB_UTIL_H
#define STUB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "guest.h"

#include "platform/layout.h"
#include "platform/sysmsg.h"

#define T_AUDIT_ARCH_X86_64 0xc000003eU
#define T_AUDIT_ARCH_I386 0x40000003U

/* The first `syscall; ret` (0f 05 c3) in the stub's first text page. */
static inline void *stub_syscall_ret(void)
{
    const unsigned char *p = (const unsigned char *)STUB_BASE;
    for (int i = 0; i + 2 < 4096; i++)
        if (p[i] == 0x0f && p[i + 1] == 0x05 && p[i + 2] == 0xc3)
            return (void *)(p + i);
    return NULL;
}

/* nr(a..f) made by the instruction at g; below the red zone, as a call. */
static inline __attribute__((always_inline)) long via_stub(void *g, long nr, long a, long b, long c,
                                                           long d, long e, long f)
{
    SYSCALL_ARGS_4_TO_6(d, e, f);
    __asm__ volatile("sub $128, %%rsp\n\tcall *%[g]\n\tadd $128, %%rsp"
                     : "=a"(ret), "+r"(r10), "+r"(r8), "+r"(r9)
                     : [g] "r"(g), "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}
#define vs(g, ...) vs_(g, __VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define vs_(g, n, a, b, c, d, e, f, ...)                                                           \
    via_stub((g), (long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* The stub's _start: xor %ebp,%ebp; mov %rsp,%rdi; and $-16,%rsp; call. */
static inline void *stub_entry(void)
{
    static const unsigned char start[] = { 0x31, 0xed, 0x48, 0x89, 0xe7,
                                           0x48, 0x83, 0xe4, 0xf0, 0xe8 };
    const unsigned char *p = (const unsigned char *)STUB_BASE;
    for (int i = 0; i + (int)sizeof(start) < 4096; i++)
        if (memcmp(p + i, start, sizeof(start)) == 0)
            return (void *)(p + i);
    return NULL;
}

/* Jump (not call) to target with rax = nr and rdi = a, as a guest that
 * jumps into the stub would. */
static inline __attribute__((noreturn)) void jump_to(void *target, long nr, long a)
{
    __asm__ volatile("jmp *%0" ::"r"(target), "a"(nr), "D"(a) : "memory");
    __builtin_unreachable();
}

#endif
