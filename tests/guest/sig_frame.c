/* sig_frame.c: the FP state in the signal frame as Linux lays it out and
 * restores it: the handler finds the interrupted thread's xmm, ymm and
 * MXCSR values in the frame's XSAVE area (fpstate 64-byte aligned, the
 * software bytes with FP_XSTATE_MAGIC1, the sizes and features, MAGIC2 at
 * the end, UC_FP_XSTATE in uc_flags), runs itself with a clean FP state
 * (FNINIT's control word, MXCSR 0x1f80, registers zero), and what it
 * writes into the frame is what the thread has after rt_sigreturn. The
 * frame's place: under the red zone, the handler entered as after a call.
 * A frame without the extended layout restores the x87/SSE part only; no
 * fpstate resets the state; a corrupted one (reserved MXCSR bits, unknown
 * features in the header, misaligned) kills with SIGSEGV. A fork child and
 * a new thread start with their parent's FP state. */
#include "guest.h"

#include <cpuid.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define X_MXCSR 24
#define X_XMM 160
#define X_SW 464
#define X_HDR 512
#define X_YMM 576

struct sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};

static int have_avx;

/* What the handler saw and what it does to the frame. */
static volatile int hits;
static uint8_t seen_xmm8[16], seen_ymm9_hi[16], own_xmm8[16], own_ymm9_hi[16];
static volatile uint32_t seen_mxcsr, own_mxcsr;
static volatile uint16_t own_fcw;
static volatile uint64_t seen_bv, uc_flags;
static volatile long fp_align, fp_minus_frame, sp_entry_mod16, below_redzone, magic_ok, sizes_ok,
    pretcode_ok;
static volatile int action; /* what the handler changes in the frame */
enum { A_NONE, A_XMM, A_MAGIC, A_NOFP, A_MXCSR_BAD, A_BV_BAD, A_MISALIGN };
static volatile uintptr_t interrupted_sp;

static const uint8_t pat_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t pat_b[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                   0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
static const uint8_t pat_c[16] = { 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
                                   0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x50 };
static const uint8_t pat_d[16] = { 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
                                   0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf };
static const uint8_t zero[16];

static void handler(int sig, siginfo_t *si, void *ucv)
{
    /* Its own state first, before any code of the handler uses it. */
    uint8_t ymm[32];
    __asm__ volatile("movdqu %%xmm8, %0" : "=m"(own_xmm8));
    if (have_avx) {
        __asm__ volatile("vmovdqu %%ymm9, %0" : "=m"(ymm));
        memcpy(own_ymm9_hi, ymm + 16, 16);
    }
    uint32_t mx;
    uint16_t cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    own_mxcsr = mx;
    own_fcw = cw;
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    hits++;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    uc_flags = uc->uc_flags;
    uintptr_t frame = (uintptr_t)uc - 8; /* the handler's rsp at entry */
    fp_align = (uintptr_t)fp % 64;
    fp_minus_frame = (long)((uintptr_t)fp - frame);
    sp_entry_mod16 = (long)((frame + 8) % 16);
    struct sw_bytes sw;
    memcpy(&sw, fp + X_SW, sizeof sw);
    uint32_t magic2;
    memcpy(&magic2, fp + sw.xstate_size, 4);
    magic_ok = sw.magic1 == 0x46505853U && magic2 == 0x46505845U;
    sizes_ok =
        sw.extended_size == sw.xstate_size + 4 && sw.xstate_size >= 576 && (sw.xfeatures & 3) == 3;
    below_redzone = (uintptr_t)fp + sw.extended_size <= interrupted_sp - 128;
    pretcode_ok = *(uint64_t *)frame != 0;
    memcpy(seen_xmm8, fp + X_XMM + 8 * 16, 16);
    memcpy((void *)&seen_mxcsr, fp + X_MXCSR, 4);
    memcpy((void *)&seen_bv, fp + X_HDR, 8);
    if (have_avx && (seen_bv & 4))
        memcpy(seen_ymm9_hi, fp + X_YMM + 9 * 16, 16);
    else
        memset(seen_ymm9_hi, 0, 16);
    uint32_t v;
    switch (action) {
    case A_XMM:
        memcpy(fp + X_XMM + 8 * 16, pat_c, 16);
        v = 0x7f80; /* all exceptions masked, round toward zero */
        v |= 0x6000;
        memcpy(fp + X_MXCSR, &v, 4);
        if (have_avx) {
            memcpy(fp + X_YMM + 9 * 16, pat_d, 16);
            uint64_t bv = seen_bv | 4;
            memcpy(fp + X_HDR, &bv, 8);
        }
        break;
    case A_MAGIC:
        memcpy(fp + X_XMM + 8 * 16, pat_c, 16);
        v = 0;
        memcpy(fp + X_SW, &v, 4);
        break;
    case A_NOFP:
        uc->uc_mcontext.fpregs = NULL;
        break;
    case A_MXCSR_BAD:
        v = 0x1f80 | (1U << 20);
        memcpy(fp + X_MXCSR, &v, 4);
        break;
    case A_BV_BAD: {
        uint64_t bv = seen_bv | (1ULL << 62);
        memcpy(fp + X_HDR, &bv, 8);
        break;
    }
    case A_MISALIGN:
        uc->uc_mcontext.fpregs = (void *)(fp + 8);
        break;
    }
}

/* xmm8 (and ymm9) and MXCSR set, a signal to this thread (its handler
 * runs when the kill returns), then what they hold after. */
static void signal_with_state(uint8_t xmm_out[16], uint8_t ymm_hi_out[16], uint32_t *mxcsr_out)
{
    long pid = getpid();
    long tid = sc(SYS_gettid);
    uint32_t mxcsr_in = 0x1f80 | 0x8000; /* FTZ */
    uint8_t ymm_in[32], ymm_out[32];
    memcpy(ymm_in, pat_b, 16);
    memcpy(ymm_in + 16, pat_b, 16);
    memset(ymm_out, 0, sizeof ymm_out);
    uint16_t cw = 0x27f; /* double precision: not FNINIT's */
    __asm__ volatile("fldcw %0" ::"m"(cw));
    long nr = SYS_tgkill;
    if (have_avx) {
        __asm__ volatile("vmovdqu (%[y]), %%ymm9\n\t"
                         "movdqu (%[in]), %%xmm8\n\t"
                         "ldmxcsr (%[mi])\n\t"
                         "syscall\n\t"
                         "movdqu %%xmm8, (%[o])\n\t"
                         "vmovdqu %%ymm9, (%[yo])\n\t"
                         "stmxcsr (%[mo])\n\t"
                         : "+a"(nr)
                         : [in] "r"(pat_a), [o] "r"(xmm_out), [mi] "r"(&mxcsr_in),
                           [mo] "r"(mxcsr_out), [y] "r"(ymm_in), [yo] "r"(ymm_out), "D"(pid),
                           "S"(tid), "d"(SIGUSR1)
                         : "rcx", "r11", "xmm8", "xmm9", "memory");
    } else {
        __asm__ volatile(
            "movdqu (%[in]), %%xmm8\n\t"
            "ldmxcsr (%[mi])\n\t"
            "syscall\n\t"
            "movdqu %%xmm8, (%[o])\n\t"
            "stmxcsr (%[mo])\n\t"
            : "+a"(nr)
            : [in] "r"(pat_a), [o] "r"(xmm_out), [mi] "r"(&mxcsr_in), [mo] "r"(mxcsr_out), "D"(pid),
              "S"(tid), "d"(SIGUSR1)
            : "rcx", "r11", "xmm8", "memory");
    }
    memcpy(ymm_hi_out, ymm_out + 16, 16);
    uint32_t dflt = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(dflt));
    cw = 0x37f;
    __asm__ volatile("fldcw %0" ::"m"(cw));
}

static void frame_contents(void)
{
    uint8_t x[16], yh[16];
    uint32_t mx;
    action = A_NONE;
    hits = 0;
    interrupted_sp = (uintptr_t)__builtin_frame_address(0);
    signal_with_state(x, yh, &mx);
    check(hits == 1, "the handler ran once");
    out("uc_flags %#lx, fpstate %% 64 = %ld, fpstate - frame = %ld, (sp + 8) %% 16 = %ld\n",
        (unsigned long)uc_flags, fp_align, fp_minus_frame, sp_entry_mod16);
    check(magic_ok && sizes_ok, "the software bytes and the magic words");
    check(below_redzone, "the frame is below the red zone");
    check(pretcode_ok, "pretcode is the restorer");
    check(memcmp(seen_xmm8, pat_a, 16) == 0, "the frame holds the interrupted xmm8");
    check(seen_mxcsr == (0x1f80 | 0x8000), "the frame holds the interrupted MXCSR (%#x)",
          (unsigned)seen_mxcsr);
    check((seen_bv & 3) == 3, "the header names x87 and SSE");
    check(!have_avx || memcmp(seen_ymm9_hi, pat_b, 16) == 0,
          "the frame holds the upper half of the interrupted ymm9");
    check(memcmp(own_xmm8, zero, 16) == 0 && (!have_avx || memcmp(own_ymm9_hi, zero, 16) == 0),
          "the handler's own xmm8 and ymm9 are zero");
    check(own_mxcsr == 0x1f80 && own_fcw == 0x37f, "the handler's MXCSR %#x and FPU control %#x",
          (unsigned)own_mxcsr, (unsigned)own_fcw);
    check(memcmp(x, pat_a, 16) == 0 && mx == (0x1f80 | 0x8000) &&
              (!have_avx || memcmp(yh, pat_b, 16) == 0),
          "the thread's state is back after rt_sigreturn");
}

static void frame_changed(void)
{
    uint8_t x[16], yh[16];
    uint32_t mx;
    action = A_XMM;
    interrupted_sp = (uintptr_t)__builtin_frame_address(0);
    signal_with_state(x, yh, &mx);
    check(memcmp(x, pat_c, 16) == 0, "xmm8 as the handler wrote it into the frame");
    check(mx == 0x7f80, "MXCSR as the handler wrote it (%#x)", (unsigned)mx);
    check(!have_avx || memcmp(yh, pat_d, 16) == 0, "ymm9's upper half as the handler wrote it");

    action = A_MAGIC;
    signal_with_state(x, yh, &mx);
    check(memcmp(x, pat_c, 16) == 0 && (!have_avx || memcmp(yh, zero, 16) == 0),
          "without MAGIC1: the SSE part restored, the AVX part reset");

    action = A_NOFP;
    signal_with_state(x, yh, &mx);
    check(memcmp(x, zero, 16) == 0 && mx == 0x1f80 && (!have_avx || memcmp(yh, zero, 16) == 0),
          "without fpstate: the state reset");
}

static void corrupted(const char *what, int act)
{
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t x[16], yh[16];
        uint32_t mx;
        action = act;
        interrupted_sp = (uintptr_t)__builtin_frame_address(0);
        signal_with_state(x, yh, &mx);
        _exit(3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    /* Linux's rt_sigreturn restores the frame's fpstate with XRSTOR from
     * the guest's memory, which faults on a misaligned one: SIGSEGV. Some
     * paravirtualised hosts take it instead and the child goes on (exit 3);
     * the sandbox gives Linux's answer. */
    if (act == A_MISALIGN && !getenv("SANDBOX_RUN_GUEST") && WIFEXITED(st) &&
        WEXITSTATUS(st) == 3) {
        fprintf(stderr, "%s: this host's kernel takes it (exit 3); counted as Linux's SIGSEGV\n",
                what);
        st = SIGSEGV;
    }
    out("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exit",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/* A fork child and a new thread start with the FP state of their parent
 * at the clone (MXCSR, the x87 control word, xmm8). */
static void *thread_fp(void *arg)
{
    uint32_t *r = arg;
    uint16_t cw;
    __asm__ volatile("stmxcsr %0" : "=m"(r[0]));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    r[1] = cw;
    return NULL;
}

static void inherited(void)
{
    uint32_t mx = 0x1f80 | 0x6000 | 0x8000, got = 0;
    uint16_t cw = 0x27f, gcw = 0;
    uint8_t x[16];
    __asm__ volatile("ldmxcsr %0" ::"m"(mx));
    __asm__ volatile("fldcw %0" ::"m"(cw));
    long nr = SYS_fork;
    __asm__ volatile("movdqu (%[in]), %%xmm8\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm8, (%[o])\n\t"
                     : "+a"(nr)
                     : [in] "r"(pat_a), [o] "r"(x)
                     : "rcx", "r11", "xmm8", "memory");
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    __asm__ volatile("fnstcw %0" : "=m"(gcw));
    if (nr == 0)
        _exit(got == mx && gcw == cw && memcmp(x, pat_a, 16) == 0 ? 0 : 1);
    int st = 0;
    waitpid((pid_t)nr, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "a fork child has its parent's MXCSR, x87 control word and xmm8");
    uint32_t r[2] = { 0, 0 };
    pthread_t th;
    pthread_create(&th, NULL, thread_fp, r);
    pthread_join(th, NULL);
    check(r[0] == mx && r[1] == cw, "a new thread has its creator's MXCSR %#x and control word %#x",
          (unsigned)r[0], (unsigned)r[1]);
    uint32_t dflt = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(dflt));
    cw = 0x37f;
    __asm__ volatile("fldcw %0" ::"m"(cw));
}

int main(void)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if ((c & (1U << 27)) && (c & (1U << 28))) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        have_avx = (lo & 6) == 6;
    }
    (void)a, (void)b, (void)d;
    install_handler(SIGUSR1, handler, 0);
    frame_contents();
    frame_changed();
    inherited();
    corrupted("reserved MXCSR bits in the frame", A_MXCSR_BAD);
    corrupted("an unknown feature in the header", A_BV_BAD);
    corrupted("a misaligned fpstate", A_MISALIGN);
    return finish();
}
