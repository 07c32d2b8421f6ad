/* The x86-64 signal frame: what the sentry writes on the guest's stack
 * to run a handler (Linux's rt_sigframe, arch/x86/kernel/signal_64.c, with
 * the FP state of arch/x86/kernel/fpu/signal.c), and what rt_sigreturn
 * takes back from it (with the FP state and the alternate stack); the
 * alternate stack's changes (sigaltstack, restore_altstack). */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/process.h"

#define FIX_EFLAGS 0x50dd5ULL /* AC OF DF TF SF ZF AF PF CF RF, as sigreturn */
#define SA_RESTORER_ 0x04000000ULL
#define SS_AUTODISARM_ (1U << 31)
#define MINSIGSTKSZ_ 2048 /* x86-64's */

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

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

/* ---- the XSAVE area (standard form) ---- */

/* The legacy (FXSAVE) region's fields used here, by offset. */
#define FX_FCW 0
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32   /* st0..st7, 16 bytes each */
#define FX_XMM 160 /* xmm0..xmm15 */
#define FX_SW 464  /* sw_reserved: struct _fpx_sw_bytes */
#define XSAVE_HDR 512
#define XSAVE_EXT 576 /* the first extended component */

#define XMAGIC1 0x46505853U /* FP_XSTATE_MAGIC1 */
#define XMAGIC2 0x46505845U /* FP_XSTATE_MAGIC2 */

#define XF_FP 0x1ULL
#define XF_SSE 0x2ULL
#define XF_YMM 0x4ULL
#define XF_XTILE_DATA (1ULL << 18)
#define MXCSR_DEFAULT 0x1f80U

struct fpx_sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "_fpx_sw_bytes");

struct xsave_header {
    uint64_t xstate_bv, xcomp_bv, reserved[6];
};

/* The host's XSAVE layout for a process, as its kernel gives it in a
 * signal frame: the features XCR0 enables (less AMX's tile data, which a
 * process has only after asking for it), the size of the standard-form
 * area up to the last of them, each extended component's place, and the
 * MXCSR bits FXRSTOR accepts. */
static struct {
    uint32_t size;
    uint64_t xfeatures;
    uint32_t mxcsr_mask;
    uint32_t off[64], len[64];
} fpl;
static pthread_once_t fpl_once = PTHREAD_ONCE_INIT;

static void fpl_init(void)
{
    unsigned a, b, c, d;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    fpl.xfeatures = (((uint64_t)hi << 32) | lo) & ~XF_XTILE_DATA;
    fpl.size = XSAVE_EXT;
    for (int i = 2; i < 64; i++) {
        if (!(fpl.xfeatures & (1ULL << i)))
            continue;
        __cpuid_count(0xd, i, a, b, c, d);
        fpl.off[i] = b;
        fpl.len[i] = a;
        if (b + a > fpl.size)
            fpl.size = b + a;
    }
    static uint8_t fx[512] __attribute__((aligned(16)));
    __asm__ volatile("fxsave64 %0" : "=m"(fx));
    memcpy(&fpl.mxcsr_mask, fx + FX_MXCSR_MASK, 4);
    if (!fpl.mxcsr_mask)
        fpl.mxcsr_mask = 0xffbf;
}

size_t fpu_xstate_size(void)
{
    pthread_once(&fpl_once, fpl_init);
    return fpl.size;
}

static uint64_t hdr_bv(const uint8_t *x)
{
    uint64_t v;
    memcpy(&v, x + XSAVE_HDR, 8);
    return v;
}

/* Give every component not in bv its initial value in x (the x87 and SSE
 * registers in place, the extended ones zeroed), so that x reads the same
 * whatever its header says; then the header says FP and SSE are there
 * and the rest as bv. MXCSR is left as it is. */
static void fp_materialize(uint8_t *x, uint64_t bv)
{
    if (!(bv & XF_FP)) {
        memset(x, 0, FX_MXCSR);
        memset(x + FX_ST, 0, FX_XMM - FX_ST);
        uint16_t fcw = 0x37f;
        memcpy(x + FX_FCW, &fcw, 2);
    }
    if (!(bv & XF_SSE))
        memset(x + FX_XMM, 0, 256);
    for (int i = 2; i < 64; i++) {
        if ((fpl.xfeatures & (1ULL << i)) && !(bv & (1ULL << i)))
            memset(x + fpl.off[i], 0, fpl.len[i]);
    }
    struct xsave_header h = { .xstate_bv = (bv & fpl.xfeatures) | XF_FP | XF_SSE };
    memcpy(x + XSAVE_HDR, &h, sizeof(h));
}

/* The state a handler starts with (Linux's fpu__clear_user_states): the
 * x87 unit as after FNINIT, MXCSR's default, every register zero. */
static void fp_init_state(uint8_t *x)
{
    memset(x, 0, fpl.size);
    uint32_t mxcsr = MXCSR_DEFAULT;
    memcpy(x + FX_MXCSR, &mxcsr, 4);
    memcpy(x + FX_MXCSR_MASK, &fpl.mxcsr_mask, 4);
    fp_materialize(x, 0);
}

static int fp_get(struct task *t, uint8_t *x)
{
    return task_fpstate_get(t, x, fpl.size);
}

static int fp_set(struct task *t, const uint8_t *x)
{
    return task_fpstate_set(t, x, fpl.size);
}

/* Scratch space for an XSAVE area (or a frame with one): on the stack
 * when it fits, as it does for every layout without AMX tile data, else
 * allocated; zeroed. */
#define FP_SCRATCH 4096
struct fp_scratch {
    uint8_t buf[FP_SCRATCH] __attribute__((aligned(64)));
};

static uint8_t *scratch_get(struct fp_scratch *sc, size_t size)
{
    if (size > sizeof(sc->buf))
        return calloc(1, size);
    memset(sc->buf, 0, size);
    return sc->buf;
}

static void scratch_put(struct fp_scratch *sc, uint8_t *p)
{
    if (p != sc->buf)
        free(p);
}

/* ---- the alternate stack ---- */

static int on_stack(const struct task *t, uint64_t sp)
{
    return sp > t->sas_sp && sp - t->sas_sp <= t->sas_size;
}

/* Linux's on_sig_stack: never with SS_AUTODISARM (the stack is disarmed
 * while a handler runs on it). */
static int on_sig_stack(const struct task *t, uint64_t sp)
{
    return !(t->sas_flags & SS_AUTODISARM_) && on_stack(t, sp);
}

/* ---- delivery ---- */

/* The interrupted registers as the frame keeps them (Linux's
 * setup_sigcontext); fp: where the FP state went. */
static void setup_sigcontext(struct k_sigcontext *mc, const struct task *t, uint64_t oldmask,
                             uint64_t fp)
{
    const struct guest_regs *r = &t->regs;
    *mc = (struct k_sigcontext){ .r8 = r->r8,
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
                                 .err = t->error_code,
                                 .trapno = t->trap_nr,
                                 .oldmask = oldmask,
                                 .cr2 = t->cr2,
                                 .fpstate = fp };
}

/* The registers the handler starts with, its frame at sp; a stack armed
 * with SS_AUTODISARM is disarmed for the handler's time (the frame keeps
 * it: rt_sigreturn restores it). */
static void enter_handler(struct task *t, uint64_t handler, int sig, uint64_t sp)
{
    t->regs.rip = handler;
    t->regs.rsp = sp;
    t->regs.rdi = (uint64_t)sig;
    t->regs.rsi = sp + offsetof(struct k_rt_sigframe, info);
    t->regs.rdx = sp + offsetof(struct k_rt_sigframe, uc);
    t->regs.rax = 0;
    t->regs.eflags &= ~(0x400ULL | 0x100ULL | 0x10000ULL); /* DF, TF, RF */
    t->regs.orig_rax = (uint64_t)-1;
    if (t->sas_flags & SS_AUTODISARM_) {
        t->sas_sp = t->sas_size = 0;
        t->sas_flags = SS_DISABLE;
    }
}

int sigframe_setup(struct task *t, int sig, const struct guest_sigaction *act,
                   const struct sig_info *info, uint64_t oldmask)
{
    fpu_xstate_size();
    if (!(act->flags & SA_RESTORER_))
        return -EFAULT; /* x86-64 has no default restorer */
    const struct guest_regs *r = &t->regs;
    /* The interrupted thread's FP state goes into the frame, as the
     * kernel's signal frame has it: the header names FP and SSE always,
     * the software bytes describe the layout, MAGIC2 ends it. */
    size_t fsz = fpl.size + 4;
    struct fp_scratch sc;
    uint8_t *x = scratch_get(&sc, fsz);
    if (!x)
        return -ENOMEM;
    if (fp_get(t, x) < 0) {
        scratch_put(&sc, x);
        return -EFAULT;
    }
    fp_materialize(x, hdr_bv(x));
    struct fpx_sw_bytes sw = { .magic1 = XMAGIC1,
                               .extended_size = (uint32_t)fsz,
                               .xfeatures = fpl.xfeatures,
                               .xstate_size = fpl.size };
    memcpy(x + FX_SW, &sw, sizeof(sw));
    uint32_t magic2 = XMAGIC2;
    memcpy(x + fpl.size, &magic2, 4);

    /* Where it goes (get_sigframe): below the red zone, or at the top of
     * the alternate stack for SA_ONSTACK when not on it already; the FP
     * state 64-byte aligned, the frame under it so that the handler
     * starts as after a call ((sp + 8) % 16 == 0). A frame that would
     * not fit the alternate stack it is on is a SIGSEGV. */
    int nested = on_sig_stack(t, r->rsp), entering = 0;
    uint64_t sp = r->rsp - 128;
    if ((act->flags & SA_ONSTACK) && t->sas_size && !on_sig_stack(t, sp)) {
        sp = t->sas_sp + t->sas_size;
        entering = 1;
    }
    uint64_t fp = (sp - fsz) & ~63ULL;
    sp = ((fp - sizeof(struct k_rt_sigframe)) & ~15ULL) - 8;
    if ((nested || entering) && !on_stack(t, sp)) {
        scratch_put(&sc, x);
        return -EFAULT;
    }

    struct k_rt_sigframe f;
    memset(&f, 0, sizeof(f));
    f.pretcode = act->restorer;
    f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    f.uc.ss_sp = t->sas_sp;
    f.uc.ss_flags = (int32_t)t->sas_flags;
    f.uc.ss_size = t->sas_size;
    setup_sigcontext(&f.uc.mc, t, oldmask, fp);
    f.uc.sigmask = oldmask;
    f.info = *info;
    f.info.signo = sig;
    /* One host call for both (the bytes between them are left as they are). */
    const struct guest_span spans[2] = { { fp, x, fsz }, { sp, &f, sizeof(f) } };
    int bad = copy_out_spans(t, spans, 2) < 0;
    if (!bad) {
        /* The handler's own FP state starts clean. */
        fp_init_state(x);
        bad = fp_set(t, x) < 0;
    }
    scratch_put(&sc, x);
    if (bad)
        return -EFAULT;
    enter_handler(t, act->handler, sig, sp);
    return 0;
}

/* ---- rt_sigreturn ---- */

/* What rt_sigreturn read of the frame in one go: the bytes from at on,
 * as far as they could be read (len). A read inside them is served from
 * here, any other goes to the guest. */
struct frame_bytes {
    uint64_t at;
    size_t len;
    const uint8_t *b;
};

static int frame_read(struct task *t, const struct frame_bytes *fb, void *dst, uint64_t src,
                      size_t len)
{
    if (fb && src >= fb->at && src - fb->at <= fb->len && len <= fb->len - (src - fb->at)) {
        memcpy(dst, fb->b + (src - fb->at), len);
        return 0;
    }
    return copy_in(t, dst, src, len);
}

/* The FP state from the frame at ufp as Linux's fpu__restore_sig takes it:
 * none (0) resets it; a frame without the extended layout (magic words,
 * sizes) loads the x87 and SSE registers only (FXRSTOR) and resets the
 * rest; otherwise XRSTOR of the features the frame names. What the
 * instruction would refuse (#GP: misalignment, reserved MXCSR bits, a
 * header with unknown features or reserved bits) fails, as an
 * unreadable frame does. 0 or -EFAULT. */
static int fp_restore(struct task *t, uint64_t ufp, const struct frame_bytes *fb)
{
    struct fp_scratch sc;
    uint8_t *x = scratch_get(&sc, fpl.size);
    if (!x)
        return -EFAULT;
    int r = -EFAULT;
    if (!ufp) {
        fp_init_state(x);
        r = fp_set(t, x);
        scratch_put(&sc, x);
        return r;
    }
    if (frame_read(t, fb, x, ufp, XSAVE_HDR) < 0)
        goto out;
    struct fpx_sw_bytes sw;
    memcpy(&sw, x + FX_SW, sizeof(sw));
    int fx_only = sw.magic1 != XMAGIC1 || sw.xstate_size < XSAVE_EXT || sw.xstate_size > fpl.size ||
                  sw.xstate_size > sw.extended_size;
    if (!fx_only) {
        uint32_t magic2;
        if (frame_read(t, fb, &magic2, ufp + sw.xstate_size, 4) < 0)
            goto out;
        fx_only = magic2 != XMAGIC2;
    }
    uint64_t xrestore = fx_only ? XF_FP | XF_SSE : sw.xfeatures & fpl.xfeatures;
    uint64_t bv = XF_FP | XF_SSE;
    if (!fx_only) {
        if ((ufp & 63) ||
            frame_read(t, fb, x + XSAVE_HDR, ufp + XSAVE_HDR, fpl.size - XSAVE_HDR) < 0)
            goto out;
        struct xsave_header h;
        memcpy(&h, x + XSAVE_HDR, sizeof(h));
        if ((h.xstate_bv & ~fpl.xfeatures) || h.xcomp_bv)
            goto out;
        for (int i = 0; i < 6; i++)
            if (h.reserved[i])
                goto out;
        bv = h.xstate_bv & xrestore;
    } else if (ufp & 15) {
        goto out;
    }
    uint32_t mxcsr;
    memcpy(&mxcsr, x + FX_MXCSR, 4);
    if (xrestore & (XF_SSE | XF_YMM)) {
        if (mxcsr & ~fpl.mxcsr_mask)
            goto out;
    } else {
        mxcsr = MXCSR_DEFAULT; /* SSE reset with the rest */
        memcpy(x + FX_MXCSR, &mxcsr, 4);
    }
    memcpy(x + FX_MXCSR_MASK, &fpl.mxcsr_mask, 4);
    memset(x + FX_SW, 0, XSAVE_HDR - FX_SW);
    fp_materialize(x, bv);
    r = fp_set(t, x) < 0 ? -EFAULT : 0;
out:
    scratch_put(&sc, x);
    return r;
}

int sigframe_restore(struct task *t, uint64_t *mask)
{
    fpu_xstate_size();
    struct k_ucontext uc;
    uint64_t frame = t->regs.rsp - 8;
    uint64_t ucp = frame + offsetof(struct k_rt_sigframe, uc);
    /* The context and, where sigframe_setup puts it, the FP state above
     * it in one read; what it did not get (a frame laid out otherwise, or
     * memory that ends) is read on its own, so the faults are as if every
     * piece were read alone. */
    size_t span =
        sizeof(struct k_rt_sigframe) - offsetof(struct k_rt_sigframe, uc) + 64 + 16 + fpl.size + 4;
    struct fp_scratch sc;
    uint8_t *pre = scratch_get(&sc, span);
    struct frame_bytes fb = { ucp, 0, pre };
    long got = pre ? copy_in_partial(t, pre, ucp, span) : -1;
    if (got > 0)
        fb.len = (size_t)got;
    if (frame_read(t, &fb, &uc, ucp, sizeof(uc)) < 0) {
        scratch_put(&sc, pre);
        return -EFAULT;
    }
    struct guest_regs *r = &t->regs;
    const struct k_sigcontext *m = &uc.mc;
    r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
    r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
    r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
    r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp, r->rip = m->rip;
    r->eflags = (r->eflags & ~FIX_EFLAGS) | (m->eflags & FIX_EFLAGS);
    r->orig_rax = (uint64_t)-1;
    *mask = uc.sigmask & ~UNBLOCKABLE;
    int fr = fp_restore(t, m->fpstate, &fb);
    scratch_put(&sc, pre);
    if (fr < 0)
        return -EFAULT;
    /* restore_altstack: as sigaltstack from the restored stack pointer,
     * its refusals ignored. */
    (void)sigaltstack_set(t, uc.ss_sp, uc.ss_flags, uc.ss_size, r->rsp);
    return 0;
}

/* ---- sigaltstack ---- */

long sigaltstack_set(struct task *t, uint64_t ss_sp, int32_t ss_flags, uint64_t ss_size,
                     uint64_t sp)
{
    if (on_sig_stack(t, sp))
        return -EPERM;
    uint32_t mode = (uint32_t)ss_flags & ~SS_AUTODISARM_;
    if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
        return -EINVAL;
    if (mode == SS_DISABLE) {
        ss_sp = 0;
        ss_size = 0;
    } else if (ss_size < MINSIGSTKSZ_) {
        return -ENOMEM;
    }
    t->sas_sp = ss_sp;
    t->sas_size = ss_size;
    t->sas_flags = (uint32_t)ss_flags;
    return 0;
}
