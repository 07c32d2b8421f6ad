/* regs: a syscall preserves the registers Linux preserves: every general
 * register but rax (the result), rcx (return address) and r11 (rflags);
 * all SSE/AVX registers, MXCSR and the x87 control word. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

struct gprs {
    uint64_t rbx, rdx, rsi, rdi, rbp, r8, r9, r10, r12, r13, r14, r15, rcx, r11, rax, ret_addr;
};

/* Loads known values, makes getppid, stores what the registers hold after. */
static void gpr_syscall(struct gprs *out)
{
    __asm__ volatile("push %%rbp\n"
                     "push %%rbx\n"
                     "push %%r12\n"
                     "push %%r13\n"
                     "push %%r14\n"
                     "push %%r15\n"
                     "push %0\n"
                     "mov $0x1111111111111111, %%rbx\n"
                     "mov $0x2222222222222222, %%rdx\n"
                     "mov $0x3333333333333333, %%rsi\n"
                     "mov $0x4444444444444444, %%rdi\n"
                     "mov $0x5555555555555555, %%rbp\n"
                     "mov $0x8888888888888888, %%r8\n"
                     "mov $0x9999999999999999, %%r9\n"
                     "mov $0xaaaaaaaaaaaaaaaa, %%r10\n"
                     "mov $0xcccccccccccccccc, %%r12\n"
                     "mov $0xdddddddddddddddd, %%r13\n"
                     "mov $0xeeeeeeeeeeeeeeee, %%r14\n"
                     "mov $0xffffffffffffffff, %%r15\n"
                     "mov $110, %%eax\n"
                     "syscall\n"
                     "1:\n"
                     "xchg (%%rsp), %%rax\n" /* rax = out, result saved on the stack */
                     "mov %%rbx, 0(%%rax)\n"
                     "mov %%rdx, 8(%%rax)\n"
                     "mov %%rsi, 16(%%rax)\n"
                     "mov %%rdi, 24(%%rax)\n"
                     "mov %%rbp, 32(%%rax)\n"
                     "mov %%r8, 40(%%rax)\n"
                     "mov %%r9, 48(%%rax)\n"
                     "mov %%r10, 56(%%rax)\n"
                     "mov %%r12, 64(%%rax)\n"
                     "mov %%r13, 72(%%rax)\n"
                     "mov %%r14, 80(%%rax)\n"
                     "mov %%r15, 88(%%rax)\n"
                     "mov %%rcx, 96(%%rax)\n"
                     "mov %%r11, 104(%%rax)\n"
                     "pop %%rcx\n"
                     "mov %%rcx, 112(%%rax)\n"
                     "lea 1b(%%rip), %%rcx\n"
                     "mov %%rcx, 120(%%rax)\n"
                     "pop %%r15\n"
                     "pop %%r14\n"
                     "pop %%r13\n"
                     "pop %%r12\n"
                     "pop %%rbx\n"
                     "pop %%rbp\n"
                     :
                     : "r"(out)
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void check_gprs(void)
{
    struct gprs g;
    memset(&g, 0, sizeof(g));
    gpr_syscall(&g);
    check(g.rbx == 0x1111111111111111ULL && g.rdx == 0x2222222222222222ULL &&
              g.rsi == 0x3333333333333333ULL && g.rdi == 0x4444444444444444ULL &&
              g.rbp == 0x5555555555555555ULL,
          "rbx rdx rsi rdi rbp preserved");
    check(g.r8 == 0x8888888888888888ULL && g.r9 == 0x9999999999999999ULL &&
              g.r10 == 0xaaaaaaaaaaaaaaaaULL,
          "r8 r9 r10 preserved");
    check(g.r12 == 0xccccccccccccccccULL && g.r13 == 0xddddddddddddddddULL &&
              g.r14 == 0xeeeeeeeeeeeeeeeeULL && g.r15 == 0xffffffffffffffffULL,
          "r12-r15 preserved");
    check(g.rcx == g.ret_addr, "rcx holds the return address");
    check((g.r11 & 0x2) && (g.r11 & 0x200) && !(g.r11 & 0x100), "r11 holds rflags");
    check((long)g.rax == syscall(SYS_getppid), "rax holds the result");
}

static void check_vector(void)
{
    unsigned char in[16][16], out[16][16];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            in[i][j] = (unsigned char)(i * 16 + j + 1);
    memset(out, 0, sizeof(out));
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "movdqu 64(%0), %%xmm4\n movdqu 80(%0), %%xmm5\n movdqu 96(%0), %%xmm6\n movdqu 112(%0), %%xmm7\n"
        "movdqu 128(%0), %%xmm8\n movdqu 144(%0), %%xmm9\n movdqu 160(%0), %%xmm10\n movdqu 176(%0), %%xmm11\n"
        "movdqu 192(%0), %%xmm12\n movdqu 208(%0), %%xmm13\n movdqu 224(%0), %%xmm14\n movdqu 240(%0), %%xmm15\n"
        "mov $110, %%eax\n syscall\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        "movdqu %%xmm4, 64(%1)\n movdqu %%xmm5, 80(%1)\n movdqu %%xmm6, 96(%1)\n movdqu %%xmm7, 112(%1)\n"
        "movdqu %%xmm8, 128(%1)\n movdqu %%xmm9, 144(%1)\n movdqu %%xmm10, 160(%1)\n movdqu %%xmm11, 176(%1)\n"
        "movdqu %%xmm12, 192(%1)\n movdqu %%xmm13, 208(%1)\n movdqu %%xmm14, 224(%1)\n movdqu %%xmm15, 240(%1)\n"
        :
        : "r"(in), "r"(out)
        : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
          "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    check(memcmp(in, out, sizeof(in)) == 0, "xmm0-xmm15 preserved");

    if (__builtin_cpu_supports("avx")) {
        unsigned char yin[32], yout[32];
        for (int j = 0; j < 32; j++)
            yin[j] = (unsigned char)(0xa0 + j);
        memset(yout, 0, sizeof(yout));
        __asm__ volatile(
            "vmovdqu (%0), %%ymm9\n mov $110, %%eax\n syscall\n vmovdqu %%ymm9, (%1)\n vzeroupper\n"
            :
            : "r"(yin), "r"(yout)
            : "rax", "rcx", "r11", "memory", "xmm9");
        check(memcmp(yin, yout, sizeof(yin)) == 0, "ymm upper halves preserved");
    } else {
        check(1, "ymm upper halves preserved");
    }

    unsigned mx_in = 0x1f80 | 0x6000 /* round toward zero */, mx_out = 0;
    unsigned short cw_in = 0x27f /* double precision */, cw_out = 0, cw_save;
    __asm__ volatile("fnstcw %0" : "=m"(cw_save));
    __asm__ volatile("ldmxcsr %2\n fldcw %3\n mov $110, %%eax\n syscall\n stmxcsr %0\n fnstcw %1\n"
                     : "=m"(mx_out), "=m"(cw_out)
                     : "m"(mx_in), "m"(cw_in)
                     : "rax", "rcx", "r11", "memory");
    unsigned mx_def = 0x1f80;
    __asm__ volatile("ldmxcsr %0\n fldcw %1" : : "m"(mx_def), "m"(cw_save));
    check(mx_out == mx_in, "mxcsr preserved");
    check(cw_out == cw_in, "x87 control word preserved");
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        check_gprs();
        check_vector();
    }
    return finish();
}
