/* The stub: the program that holds a guest address space. It maps its
 * sysmsg pages, installs its trap handlers and a seccomp filter that traps
 * every syscall not made by its own text, and then enters the guest through
 * its handler. Its only descriptor is the fd-passing socket (STUB_FDPASS_FD).
 * Freestanding: no libc, no TLS, no stack protector. */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <asm/sigcontext.h>
#include <asm/signal.h>
#include <asm/siginfo.h>
#include <asm/ucontext.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/mman.h>
#include <linux/prctl.h>

#include "base.h"
#include "platform/handoff.h"
#include "platform/layout.h"
#include "platform/sysmsg.h"

#define MSG_DONTWAIT_ 0x40
#define ARCH_SET_GS_ 0x1001
#define ARCH_SET_FS_ 0x1002
#define AT_HWCAP2_ 26
#define HWCAP2_FSGSBASE_ (1UL << 1)
#define MINCORE_MAX 512 /* STUB_MINCORE_MAX: the sysmsg scratch space */
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

extern char stub_text_end[];
extern char stub_image_end[];
extern char stub_sigreturn[];

/* What stub_return pops: the guest's registers, then an iretq frame. */
struct return_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t rip, cs, rflags, rsp, ss;
};
extern void stub_return(struct return_frame *f, void *xsave) __attribute__((noreturn));
_Static_assert(sizeof(struct return_frame) == sizeof(((struct sysmsg *)0)->frame),
               "stub_return's frame is the sysmsg's");
/* stub_return's last instructions: from the check of the kick word to the
 * iretq, and the trap it makes when the word is set (entry.S). */
extern char stub_return_window[], stub_return_pending[], stub_return_window_end[];
extern char stub_enter_guest[];
extern long stub_clone(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls,
                       uint64_t slotkind);
void stub_child_start(uint64_t slotkind) __attribute__((noreturn));

/* The general registers, rsp and rip from src to dst, both structs that
 * name them as Linux does (struct guest_regs, struct sigcontext, struct
 * return_frame); the flags, the segments and orig_rax are each caller's. */
#define COPY_GPRS(dst, src)                                                                        \
    do {                                                                                           \
        (dst)->r8 = (src)->r8;                                                                     \
        (dst)->r9 = (src)->r9;                                                                     \
        (dst)->r10 = (src)->r10;                                                                   \
        (dst)->r11 = (src)->r11;                                                                   \
        (dst)->r12 = (src)->r12;                                                                   \
        (dst)->r13 = (src)->r13;                                                                   \
        (dst)->r14 = (src)->r14;                                                                   \
        (dst)->r15 = (src)->r15;                                                                   \
        (dst)->rdi = (src)->rdi;                                                                   \
        (dst)->rsi = (src)->rsi;                                                                   \
        (dst)->rbp = (src)->rbp;                                                                   \
        (dst)->rbx = (src)->rbx;                                                                   \
        (dst)->rdx = (src)->rdx;                                                                   \
        (dst)->rax = (src)->rax;                                                                   \
        (dst)->rcx = (src)->rcx;                                                                   \
        (dst)->rsp = (src)->rsp;                                                                   \
        (dst)->rip = (src)->rip;                                                                   \
    } while (0)

/* RFLAGS bits a guest may set, as the kernel's sigreturn allows (FIX_EFLAGS), plus IF. */
#define GUEST_FLAGS_MASK 0x50dd5ULL
#define FP_XSTATE_MAGIC1_ 0x46505853U

/* Every system call of the stub goes through stub_sc6 (entry.S). */
extern long stub_sc6(long nr, long a, long b, long c, long d, long e, long f);
#define sc6 stub_sc6
#define sc0(n) sc6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* A start-up failure ends the stub with status 100 + code. Once the filter
 * is in place exit_group is refused from here, so that a guest jumping into
 * this code cannot end its address space with a status of its choosing: the
 * trap that follows is a fault in stub text, which the sentry turns into a
 * SIGSEGV of the guest. */
static __attribute__((noreturn)) void die(int code)
{
    sc1(__NR_exit_group, 100 + code);
    for (;;)
        __builtin_trap();
}

static inline uint32_t aload(uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void futex_wait(uint32_t *p, uint32_t val)
{
    sc6(__NR_futex, (long)p, FUTEX_WAIT, val, 0, 0, 0);
}

static void futex_wake(uint32_t *p)
{
    sc6(__NR_futex, (long)p, FUTEX_WAKE, 1, 0, 0, 0);
}

static void yield(void)
{
    sc0(__NR_sched_yield);
}

/* Hand the turn to the sentry and wait until it hands it back. */
static void post_and_wait(struct sysmsg *m)
{
    handoff_give(&m->state, SM_SENTRY, &m->sentry_sleeping, futex_wake);
    handoff_wait(&m->state, SM_SENTRY, &m->stub_sleeping, &m->spin_limit, yield, futex_wait, 0, 0);
}

static inline uint64_t rdfsbase(void)
{
    uint64_t v;
    __asm__ volatile("rdfsbase %0" : "=r"(v));
    return v;
}
static inline uint64_t rdgsbase(void)
{
    uint64_t v;
    __asm__ volatile("rdgsbase %0" : "=r"(v));
    return v;
}
static inline void wrfsbase(uint64_t v)
{
    __asm__ volatile("wrfsbase %0" ::"r"(v) : "memory");
}
static inline void wrgsbase(uint64_t v)
{
    __asm__ volatile("wrgsbase %0" ::"r"(v) : "memory");
}

/* Whether the kernel manages the FS and GS bases that rdfsbase and
 * wrfsbase read and write (AT_HWCAP2 has HWCAP2_FSGSBASE). Without it the
 * instructions may still run (the CPU allows them, as under some
 * paravirtualised kernels) while the kernel's context switch puts back the
 * bases it knows of, so a base set with wrfsbase is lost at the thread's
 * next switch: then the bases go through arch_prctl, and the page keeps
 * what was set last (sysmsg.fs_set, gs_set), so that a trap costs no
 * extra call while the guest leaves its bases alone. */
static int fsgsbase;

static void bases_get(struct sysmsg *m, struct guest_regs *r)
{
    if (fsgsbase) {
        r->fs_base = rdfsbase();
        r->gs_base = rdgsbase();
    } else {
        r->fs_base = m->fs_set;
        r->gs_base = m->gs_set;
    }
}

static void bases_set(struct sysmsg *m, const struct guest_regs *r)
{
    if (fsgsbase) {
        wrfsbase(r->fs_base);
        wrgsbase(r->gs_base);
        return;
    }
    /* A base the kernel refuses (not a user address) leaves the old one,
     * as the sentry's arch_prctl would have refused it. */
    if (r->fs_base != m->fs_set && sc2(__NR_arch_prctl, ARCH_SET_FS_, r->fs_base) == 0)
        m->fs_set = r->fs_base;
    if (r->gs_base != m->gs_set && sc2(__NR_arch_prctl, ARCH_SET_GS_, r->gs_base) == 0)
        m->gs_set = r->gs_base;
}

static inline int in_stub_text(uint64_t ip)
{
    return ip >= STUB_BASE && ip < (uint64_t)(uintptr_t)stub_text_end;
}

/* The guest's registers from the signal frame into its sysmsg page. */
static void save_regs(struct sysmsg *m, const struct sigcontext *g, int sig)
{
    struct guest_regs *r = &m->regs;
    COPY_GPRS(r, g);
    r->eflags = g->eflags;
    r->orig_rax = sig == SIGSYS ? g->rax : (uint64_t)-1;
    bases_get(m, r);
}

/* SMC_MAPFD: receive the descriptor tagged m->sc_nr, map it, close it.
 * Everything read here is on the guest's own page; whatever a guest
 * writes there, each call is one the filter allows for any arguments
 * (recvmsg on STUB_FDPASS_FD without waiting, a MAP_FIXED mmap outside
 * the stub region, close of anything but STUB_FDPASS_FD), and the sentry
 * checks the result. */
#define EAGAIN_ 11
static int64_t map_fd(struct sysmsg *m)
{
    struct sysmsg_fdpass *b = (struct sysmsg_fdpass *)(void *)m->scratch;
    for (int tries = 0; tries < 8; tries++) {
        b->msg_controllen = SYSMSG_FDPASS_CTL_SIZE;
        b->msg_flags = 0;
        b->cmsg_len = 0;
        long n = sc3(__NR_recvmsg, STUB_FDPASS_FD, b, MSG_DONTWAIT_);
        if (n < 0)
            return n;
        int fd = sysmsg_fdpass_fd(b, n);
        if (fd < 0)
            return -EAGAIN_; /* nothing of ours came */
        if (b->seq != m->sc_nr) {
            /* Left over from an earlier request that failed half-way. */
            sc1(__NR_close, fd);
            continue;
        }
        long r = sc6(__NR_mmap, (long)m->sc_args[0], (long)m->sc_args[1], (long)m->sc_args[2],
                     (long)m->sc_args[3], fd, (long)m->sc_args[4]);
        sc1(__NR_close, fd);
        return r;
    }
    return -EAGAIN_;
}

/* Post the event, then run what the sentry asks until it says resume. */
static void serve(struct sysmsg *m)
{
    for (;;) {
        post_and_wait(m);
        uint32_t cmd = m->cmd;
        if (cmd == SMC_SYSCALL)
            m->sc_ret =
                sc6((long)m->sc_nr, (long)m->sc_args[0], (long)m->sc_args[1], (long)m->sc_args[2],
                    (long)m->sc_args[3], (long)m->sc_args[4], (long)m->sc_args[5]);
        else if (cmd == SMC_CLONE)
            m->sc_ret = stub_clone(m->sc_args[0], m->sc_args[1], m->sc_args[2], m->sc_args[3],
                                   m->sc_args[4], m->sc_args[5]);
        else if (cmd == SMC_MAPFD)
            m->sc_ret = map_fd(m);
        else if (cmd == SMC_EXIT)
            for (;;)
                sc1(__NR_exit, 0);
        else
            break;
    }
}

/* Back to the guest without rt_sigreturn: iretq with the registers the
 * sentry handed back and the FP state the kernel saved (stub_return), the
 * frame in the sysmsg page, where an interrupt in stub_return's window
 * finds it (frame_regs). */
static void fast_return(struct sysmsg *m, const struct guest_regs *r, const struct sigcontext *g,
                        uint64_t flags, const struct _fpstate *fp)
{
    struct return_frame *fr = (struct return_frame *)(void *)m->frame;
    COPY_GPRS(fr, r);
    fr->cs = g->cs;
    fr->rflags = flags;
    fr->ss = g->ss;
    stub_return(fr, (void *)fp);
}

/* The guest's registers from the frame stub_return was returning with:
 * the thread was interrupted on its way back (in stub_return's window),
 * which counts as an interrupt of the guest at the frame's registers. The
 * FS and GS bases and the FP state are the guest's already. */
static void frame_regs(struct sysmsg *m, const struct return_frame *f)
{
    struct guest_regs *r = &m->regs;
    COPY_GPRS(r, f);
    r->eflags = f->rflags;
    r->orig_rax = (uint64_t)-1;
    bases_get(m, r);
}

static inline int in_return_window(uint64_t ip)
{
    return ip >= (uint64_t)(uintptr_t)stub_return_window &&
           ip < (uint64_t)(uintptr_t)stub_return_window_end;
}

/* Whether sp lies on one of the stub threads' signal stacks. */
static inline int on_signal_stacks(uint64_t sp)
{
    return sp >= SIGSTACK_BASE && sp < STUB_REGION_END;
}

static void set_interrupt_event(struct sysmsg *m)
{
    m->ev.kind = EV_INTERRUPT;
    m->ev.signo = STUB_INTERRUPT_SIG;
    m->ev.code = 0;
    m->ev.addr = 0;
    m->ev.arch = 0;
}

/* The registers the sentry handed back into the signal frame, for a return
 * through rt_sigreturn. */
static void load_regs(struct sigcontext *g, const struct guest_regs *r, uint64_t flags)
{
    COPY_GPRS(g, r);
    g->eflags = flags;
}

/* One handler for every trap: syscalls (SIGSYS), faults, and the sentry's
 * interrupt. Runs on this thread's signal stack, whose slot names its sysmsg.
 * Syscalls and faults run with no signal blocked (SA_NODEFER, empty mask) so
 * that the handler can return to the guest with stub_return (xrstor + iretq)
 * instead of rt_sigreturn; the interrupt handler blocks everything and
 * returns the usual way. */
static void handler(int sig, siginfo_t *si, void *ucv)
{
    struct ucontext *uc = ucv;
    struct sigcontext *g = &uc->uc_mcontext;
    /* An interrupt that lands in the stub's own work is dropped, but for
     * one in stub_return's window (below): the thread is with the sentry
     * (this handler before its post, a requested call, a new thread on its
     * way to its first post), which takes the signal the interrupt was for
     * when the post arrives, or it is on its way back to the guest before
     * the window, whose check of the kick word (set by the sentry before
     * it sent the interrupt) makes it trap again. The stub's own work runs
     * on the signal stacks (the window on the sysmsg frame); stub text run
     * on any other stack is a guest that jumped there, e.g. to wait in one
     * of the stub's futex calls: an interrupt of the guest where it is, so
     * that the sentry can deliver its signal or end it. (A guest that
     * jumps there with its stack on a signal stack, or with this signal
     * blocked, is not interrupted at all: the sentry gives up waiting for
     * such a thread when its task must end, see systrap.c.) */
    int from_frame = 0;
    if (sig == STUB_INTERRUPT_SIG && in_stub_text(g->rip)) {
        if (in_return_window(g->rip))
            from_frame = 1;
        else if (on_signal_stacks(g->rsp))
            return;
    }
    /* A SIGSYS or fault signal sent from outside (kill, tgkill) is neither a
     * syscall nor a fault of the guest: only the kernel's own are reported
     * (SYS_SECCOMP, or si_code > 0 for a fault). */
    if (sig == SIGSYS ? si->si_code != 1 /* SYS_SECCOMP */
                      : sig != STUB_INTERRUPT_SIG && si->si_code <= 0)
        return;
    /* stub_return found the kick word set: an interrupt of the guest at
     * the frame's registers. (A guest that jumps there posts an interrupt
     * with registers of its own choosing, as it could by writing its page.)
     * Any other fault in stub text (a guest that jumped into the stub) is
     * reported like any other fault: the sentry makes it a SIGSEGV of the
     * guest, as a jump to unmapped memory would be. */
    if (sig == SIGILL && g->rip == (uint64_t)(uintptr_t)stub_return_pending)
        from_frame = 1;

    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t slot = (sp - SIGSTACK_BASE) / SIGSTACK_SIZE;
    if (sp < SIGSTACK_BASE || slot >= STUB_MAX_THREADS)
        die(1); /* entered by a jump, not by a signal: traps, see die() */
    struct sysmsg *m = (struct sysmsg *)(uintptr_t)(SYSMSG_BASE + slot * SYSMSG_SIZE);
    struct guest_regs *r = &m->regs;

    m->ev.signo = sig;
    m->ev.code = si->si_code;
    m->ev.addr = 0;
    m->ev.arch = 0;
    if (from_frame) {
        frame_regs(m, (const struct return_frame *)(const void *)m->frame);
        set_interrupt_event(m);
    } else if (sig == SIGSYS) {
        save_regs(m, g, sig);
        m->ev.kind = EV_SYSCALL;
        m->ev.arch = si->si_arch;
    } else if (sig == STUB_INTERRUPT_SIG) {
        save_regs(m, g, sig);
        m->ev.kind = EV_INTERRUPT;
    } else {
        save_regs(m, g, sig);
        m->ev.kind = EV_FAULT;
        m->ev.addr = (uint64_t)(uintptr_t)si->si_addr;
    }
    m->ev.trapno = g->trapno;
    m->ev.err = g->err;
    m->ev.cr2 = g->cr2;
    m->ev.fpstate = (uint64_t)(uintptr_t)g->fpstate;

    serve(m);

    const struct _fpstate *fp = (const struct _fpstate *)g->fpstate;
    if (sig != STUB_INTERRUPT_SIG) {
        if (fp && fp->sw_reserved.magic1 == FP_XSTATE_MAGIC1_ && ((uintptr_t)fp & 63) == 0) {
            bases_set(m, r);
            fast_return(m, r, g, (r->eflags & GUEST_FLAGS_MASK) | 0x202, fp);
        }
        /* The slow way back (rt_sigreturn) has no window: the interrupt
         * stays blocked until rt_sigreturn unblocks it at the guest's
         * instruction, and one whose kick came before is taken here. */
        unsigned long intr = 1UL << (STUB_INTERRUPT_SIG - 1);
        sc4(__NR_rt_sigprocmask, SIG_BLOCK, &intr, 0, 8);
        while (aload(&m->kick)) {
            r->orig_rax = (uint64_t)-1;
            set_interrupt_event(m);
            serve(m);
        }
    }
    /* The interrupt's own handler runs with every signal blocked: one that
     * comes meanwhile lands at the guest's instruction after rt_sigreturn. */
    bases_set(m, r);
    load_regs(g, r, (r->eflags & GUEST_FLAGS_MASK) | 0x202);
}

struct ksigaction {
    void (*handler)(int, siginfo_t *, void *);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

/* The seccomp filter, built at start-up into this buffer. Classic BPF sees
 * each 64-bit argument as two 32-bit words. */
static struct sock_filter prog[640];
static unsigned nprog;

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define RET_EPERM (SECCOMP_RET_ERRNO | 1 /* EPERM */)

static void op(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
    if (nprog >= ARRAY_SIZE(prog))
        die(8);
    prog[nprog++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}
static void ld(uint32_t off)
{
    op(BPF_LD | BPF_W | BPF_ABS, off, 0, 0);
}
static void ret(uint32_t v)
{
    op(BPF_RET | BPF_K, v, 0, 0);
}
/* Continue when the test of A against k comes out as pass_if says, refuse
 * the call otherwise; the require_* names are its uses. */
static void require(uint16_t test, uint32_t k, int pass_if)
{
    op(BPF_JMP | test | BPF_K, k, pass_if ? 1 : 0, pass_if ? 0 : 1);
    ret(RET_EPERM);
}
#define require_eq(k) require(BPF_JEQ, (k), 1)
#define require_ne(k) require(BPF_JEQ, (k), 0)
#define require_le(k) require(BPF_JGT, (k), 0)
#define require_clear(mask) require(BPF_JSET, (mask), 0)
#define require_set(mask) require(BPF_JSET, (mask), 1)
static void require_hi0(int arg)
{
    ld(ARG_HI(arg));
    require_eq(0);
}

/* ALLOW when every (offset, value) pair matches exactly; otherwise go on
 * with the checks that follow. */
static void allow_exact(const uint32_t (*c)[2], unsigned n)
{
    unsigned jumps[16];
    if (n > ARRAY_SIZE(jumps))
        die(8);
    for (unsigned i = 0; i < n; i++) {
        ld(c[i][0]);
        op(BPF_JMP | BPF_JEQ | BPF_K, c[i][1], 0, 0);
        jumps[i] = nprog - 1;
    }
    ret(SECCOMP_RET_ALLOW);
    for (unsigned i = 0; i < n; i++)
        prog[jumps[i]].jf = (uint8_t)(nprog - jumps[i] - 1);
}

#define STUB_HI ((uint32_t)(STUB_BASE >> 32))
_Static_assert((uint32_t)STUB_BASE == 0 && ((STUB_REGION_END - 1) >> 32) == STUB_HI,
               "the range check below assumes the stub region starts a 4 GiB block");

/* Refuse unless [arg a, arg a + arg l) and the stub region do not meet:
 * the range lies wholly below STUB_BASE or starts at STUB_REGION_END or
 * above. The end is a 64-bit sum, worked out in 32-bit halves (M[0] the
 * length's high word, M[1] the end's low word). The region is sealed too
 * (mseal); this also holds where the kernel has no mseal. */
static void require_outside_stub(int a, int l)
{
    ld(ARG_HI(a));
    require_le(0x7fff);                           /* a user address */
    op(BPF_JMP | BPF_JGT | BPF_K, STUB_HI, 0, 1); /* above the block: fine */
    op(BPF_JMP | BPF_JA, 0, 0, 0);                /* -> end (patched) */
    unsigned to_end1 = nprog - 1;
    op(BPF_JMP | BPF_JEQ | BPF_K, STUB_HI, 0, 3); /* in the block: */
    ld(ARG_LO(a));
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)STUB_REGION_END, 0, 0); /* past the region -> end */
    unsigned to_end2 = nprog - 1;
    ret(RET_EPERM);
    /* Below the block: the end must be at most STUB_BASE. */
    ld(ARG_HI(l));
    require_le(0x7fff);
    op(BPF_ST, 0, 0, 0);
    ld(ARG_LO(l));
    op(BPF_MISC | BPF_TAX, 0, 0, 0);
    ld(ARG_LO(a));
    op(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
    op(BPF_ST, 1, 0, 0);
    op(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 2); /* sum >= len: no carry */
    op(BPF_LD | BPF_IMM, 0, 0, 0);
    op(BPF_JMP | BPF_JA, 1, 0, 0);
    op(BPF_LD | BPF_IMM, 1, 0, 0);
    op(BPF_MISC | BPF_TAX, 0, 0, 0);
    ld(ARG_HI(a));
    op(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0);
    op(BPF_MISC | BPF_TAX, 0, 0, 0);
    op(BPF_LD | BPF_MEM, 0, 0, 0);
    op(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0); /* A = the end's high word */
    require_le(STUB_HI);
    op(BPF_JMP | BPF_JEQ | BPF_K, STUB_HI, 0, 0); /* below the block -> end */
    unsigned to_end3 = nprog - 1;
    op(BPF_LD | BPF_MEM, 1, 0, 0);
    require_eq(0); /* ends exactly at STUB_BASE */
    unsigned end = nprog;
    prog[to_end1].k = end - to_end1 - 1;
    prog[to_end2].jt = (uint8_t)(end - to_end2 - 1);
    prog[to_end3].jf = (uint8_t)(end - to_end3 - 1);
}

/* when_nr(n) ... end_nr(): the checks in between apply to syscall n and
 * end in ALLOW; other numbers jump past them. */
static unsigned when_nr(uint32_t nr)
{
    ld(offsetof(struct seccomp_data, nr));
    op(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 0);
    return nprog - 1;
}
static void end_nr(unsigned at)
{
    ret(SECCOMP_RET_ALLOW);
    if (nprog - at - 1 > 255)
        die(8);
    prog[at].jf = (uint8_t)(nprog - at - 1);
}

/* No MAP_LOCKED: the sentry keeps memory locks in its own model and asks
 * for MAP_POPULATE instead (see sys_mlock). */
#define MAP_ALLOWED                                                                                \
    (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE |         \
     MAP_HUGETLB | (0x3fU << 26) /* MAP_HUGE_ sizes */)
#define PROT_ALLOWED (PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)

/* The filter's rules for the handoff: rt_sigreturn and the futex on the sysmsg words. */
static void filter_handoff(void)
{
    unsigned at;
    at = when_nr(__NR_rt_sigreturn);
    end_nr(at);

    /* The handoff: FUTEX_WAIT and FUTEX_WAKE (shared: the sentry is another
     * process) on a word of this stub's sysmsg pages. */
    at = when_nr(__NR_futex);
    ld(ARG_LO(1));
    require_le(FUTEX_WAKE);
    _Static_assert(FUTEX_WAIT == 0 && FUTEX_WAKE == 1, "futex ops");
    ld(ARG_HI(0));
    require_eq(STUB_HI);
    ld(ARG_LO(0));
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)SYSMSG_BASE, 1, 0);
    ret(RET_EPERM);
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)(SYSMSG_BASE + STUB_MAX_THREADS * SYSMSG_SIZE), 0, 1);
    ret(RET_EPERM);
    end_nr(at);
}

/* The filter's rules for the memory calls the sentry asks the stub to make. */
static void filter_memory(void)
{
    unsigned at;
    /* mmap as mm_mmap asks for it: always MAP_FIXED, private or shared,
     * and only the flags it forwards. */
    at = when_nr(__NR_mmap);
    /* The one mapping into the stub region: a fork child's own sysmsg
     * pages over the ones it shares with its parent (stub_child_start),
     * from fd 3, where the sentry put them. */
    static const uint32_t sysmsg_remap[][2] = {
        { ARG_LO(0), (uint32_t)SYSMSG_BASE },
        { ARG_HI(0), STUB_HI },
        { ARG_LO(1), STUB_MAX_THREADS * SYSMSG_SIZE },
        { ARG_HI(1), 0 },
        { ARG_LO(2), PROT_READ | PROT_WRITE },
        { ARG_LO(3), MAP_SHARED | MAP_FIXED },
        { ARG_LO(4), STUB_SYSMSG_FD },
        { ARG_LO(5), 0 },
        { ARG_HI(5), 0 },
    };
    allow_exact(sysmsg_remap, ARRAY_SIZE(sysmsg_remap));
    require_outside_stub(0, 1);
    ld(ARG_LO(2));
    require_clear(~(uint32_t)PROT_ALLOWED);
    require_hi0(2);
    ld(ARG_LO(3));
    require_clear(~(uint32_t)MAP_ALLOWED);
    require_set(MAP_FIXED);
    op(BPF_ALU | BPF_AND | BPF_K, MAP_TYPE, 0, 0);
    require_ne(0);
    require_ne(MAP_SHARED_VALIDATE);
    require_hi0(3);
    end_nr(at);

    at = when_nr(__NR_munmap);
    require_outside_stub(0, 1);
    end_nr(at);

    at = when_nr(__NR_mprotect);
    require_outside_stub(0, 1);
    ld(ARG_LO(2));
    require_clear(~(uint32_t)PROT_ALLOWED);
    require_hi0(2);
    end_nr(at);

    /* mremap in place (flags 0) or to a fixed address (MAYMOVE | FIXED). */
    at = when_nr(__NR_mremap);
    require_outside_stub(0, 1);
    require_outside_stub(0, 2);
    require_outside_stub(4, 2);
    ld(ARG_LO(3));
    op(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0);
    require_eq(MREMAP_MAYMOVE | MREMAP_FIXED);
    require_hi0(3);
    end_nr(at);

    /* The advice sys_madvise forwards: 0-4 and 8-25 (not the hardware
     * poisoning ones, 100 and 101, nor any added later). */
    at = when_nr(__NR_madvise);
    require_outside_stub(0, 1);
    ld(ARG_LO(2));
    require_le(25);
    op(BPF_JMP | BPF_JGE | BPF_K, 8, 2, 0);
    require_le(4);
    end_nr(at);

    /* mincore as stub_mincore asks for it: a range outside the stub region
     * of at most MINCORE_MAX pages, the vector inside the sysmsg pages with
     * room for that many bytes, so the host writes nowhere else. Those
     * pages are the guest's to write anyway, and the residency of its own
     * pages is what the guest's own mincore tells it. */
    at = when_nr(__NR_mincore);
    require_outside_stub(0, 1);
    require_hi0(1);
    ld(ARG_LO(1));
    require_le(MINCORE_MAX * 4096);
    ld(ARG_HI(2));
    require_eq(STUB_HI);
    ld(ARG_LO(2));
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)SYSMSG_BASE, 1, 0);
    ret(RET_EPERM);
    require_le((uint32_t)(SYSMSG_BASE + STUB_MAX_THREADS * SYSMSG_SIZE - MINCORE_MAX));
    end_nr(at);
}

/* The filter's rules for taking the host descriptor a file mapping needs. */
static void filter_fd_passing(void)
{
    unsigned at;
    /* File-backed mmap: receive the host fd on STUB_FDPASS_FD without
     * blocking, map it, close it. A guest that jumps here can only take
     * fds in flight for its own mmap calls; it cannot close the socket. */
    at = when_nr(__NR_recvmsg);
    ld(ARG_LO(0));
    require_eq(STUB_FDPASS_FD);
    ld(ARG_LO(2));
    require_eq(MSG_DONTWAIT_);
    end_nr(at);

    at = when_nr(__NR_close);
    ld(ARG_LO(0));
    require_ne(STUB_FDPASS_FD);
    end_nr(at);
}

/* The filter's rules for new threads and fork children and what each does at its start. */
static void filter_threads(void)
{
    unsigned at;
    /* New threads and fork children (stub_clone): only the two flag sets
     * the sentry uses, nothing written to guest memory. Each call must
     * also be one the sentry asked for: the spawner's filter sends it to
     * the sentry (a user notification) first, which refuses any other, so
     * a guest jumping here gains no thread or process. */
    at = when_nr(__NR_clone);
    ld(ARG_HI(0));
    require_eq(0);
    ld(ARG_LO(0));
    op(BPF_JMP | BPF_JEQ | BPF_K, STUB_CLONE_THREAD_FLAGS, 2, 0); /* past the require */
    require_eq(STUB_CLONE_FORK_FLAGS);
    for (int i = 2; i <= 4; i++) {
        ld(ARG_LO(i));
        require_eq(0);
        require_hi0(i);
    }
    end_nr(at);

    /* A thread's start (stub_child_start, thread_start): its hello to the
     * sentry (gettid, answered by the sentry through the spawner's
     * filter), the kernel's clear of its state word at its exit, its
     * signal stack and mask; a fork child's parent-death signal and check;
     * the yield of a handoff's spin. Each only changes the calling thread. */
    static const int plain[] = { __NR_gettid,      __NR_getppid,        __NR_set_tid_address,
                                 __NR_sigaltstack, __NR_rt_sigprocmask, __NR_exit,
                                 __NR_sched_yield };
    for (unsigned i = 0; i < ARRAY_SIZE(plain); i++) {
        at = when_nr((uint32_t)plain[i]);
        end_nr(at);
    }
    /* The FS and GS bases of the calling thread (bases_set); the kernel
     * refuses what is not a user address. */
    at = when_nr(__NR_arch_prctl);
    require_hi0(0);
    ld(ARG_LO(0));
    op(BPF_JMP | BPF_JEQ | BPF_K, ARCH_SET_FS_, 2, 0); /* past the require */
    require_eq(ARCH_SET_GS_);
    end_nr(at);

    at = when_nr(__NR_prctl);
    ld(ARG_LO(0));
    require_eq(PR_SET_PDEATHSIG);
    ld(ARG_LO(1));
    require_eq(9 /* SIGKILL */);
    end_nr(at);
}

static void install_filter(void)
{
    uint64_t lo = STUB_BASE, hi = (uint64_t)(uintptr_t)stub_text_end;
    /* A syscall not made by the stub's own text goes to the sentry. */
    ld(offsetof(struct seccomp_data, instruction_pointer) + 4);
    op(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(lo >> 32), 1, 0);
    ret(SECCOMP_RET_TRAP);
    ld(offsetof(struct seccomp_data, instruction_pointer));
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)lo, 1, 0);
    ret(SECCOMP_RET_TRAP);
    op(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)hi, 0, 1);
    ret(SECCOMP_RET_TRAP);

    /* From stub text: only the calls the stub makes, with the arguments
     * the stub or the sentry's requests pass; anything else is EPERM, so
     * a guest that jumps here can do nothing it could not do itself. */
    ld(offsetof(struct seccomp_data, arch));
    require_eq(AUDIT_ARCH_X86_64);

    filter_handoff();
    filter_memory();
    filter_fd_passing();
    filter_threads();
    ret(RET_EPERM);

    struct sock_fprog fp = { .len = (unsigned short)nprog, .filter = prog };
    if (sc6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) != 0)
        die(4);
    if (sc3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0)
        die(5);
}

static int ptrace_mode;
static long spawner_pid; /* the stub's parent, whose child a fork child is too */

static struct sysmsg *slot_msg(unsigned slot)
{
    return (struct sysmsg *)(uintptr_t)(SYSMSG_BASE + slot * SYSMSG_SIZE);
}

/* Every stub thread's start: the kernel clears its state word at its exit
 * (SM_GONE, and wakes a sleeping sentry), its signal stack is its slot's,
 * no signal is blocked; under ptrace it waits for its tracer. Then it
 * enters the guest through the handler (ud2), which posts the first event. */
static __attribute__((noreturn)) void thread_start(unsigned slot)
{
    struct sysmsg *m = slot_msg(slot);
    sc1(__NR_set_tid_address, &m->state);
    /* Not a user address: the first return sets both bases (bases_set). */
    m->fs_set = m->gs_set = ~0ULL;
    stack_t ss = { .ss_sp = (void *)(uintptr_t)(SIGSTACK_BASE + slot * SIGSTACK_SIZE),
                   .ss_flags = 0,
                   .ss_size = SIGSTACK_SIZE };
    sc2(__NR_sigaltstack, &ss, 0);
    unsigned long none = 0;
    sc4(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
    if (ptrace_mode) {
        while (!aload(&m->go))
            futex_wait(&m->go, 0);
    }
    /* Enter the guest: the trap reaches the handler, which reports to the
     * sentry and returns into whatever registers the sentry sets. */
    __asm__ volatile(".globl stub_enter_guest\nstub_enter_guest: ud2");
    die(6);
}

/* The hello of a new thread or fork child: a gettid that the spawner's
 * filter turns into a notification to the sentry, which learns the
 * thread's host id from the kernel, and for a fork child installs its own
 * sysmsg memfd at STUB_SYSMSG_FD and its own fd-passing socket at
 * STUB_FDPASS_FD (in place of the parent's) and answers STUB_FDPASS_FD
 * (a thread: 0). */
#define HELLO_MAGIC 0x68656c6cUL

/* A child that cannot start ends its own thread (exit): before a fork
 * child has mapped its own sysmsg pages it shares its parent's, and die()
 * would trap into the handler and post on them. */
static __attribute__((noreturn)) void child_give_up(void)
{
    for (;;)
        sc1(__NR_exit, 0);
}

/* A new thread or fork child of stub_clone (entry.S), on its slot's stack. */
void stub_child_start(uint64_t slotkind)
{
    unsigned slot = slotkind & 0xff;
    unsigned kind = (slotkind >> 16) & 0xff;
    if (kind == STUB_CHILD_FORK) {
        /* Die with the spawner like every stub; a spawner already gone
         * before the prctl shows as a different parent. */
        sc2(__NR_prctl, PR_SET_PDEATHSIG, 9);
        if (sc0(__NR_getppid) != spawner_pid)
            child_give_up();
    }
    /* A thread is answered 0, a fork child STUB_FDPASS_FD (its own socket
     * is there now); 1: the sentry gave up on this clone; anything else:
     * refused. */
    if (sc3(__NR_gettid, HELLO_MAGIC, kind, slot) != (kind == STUB_CHILD_FORK ? STUB_FDPASS_FD : 0))
        child_give_up();
    if (kind == STUB_CHILD_FORK) {
        long r = sc6(__NR_mmap, SYSMSG_BASE, STUB_MAX_THREADS * SYSMSG_SIZE, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, STUB_SYSMSG_FD, 0);
        if (r != (long)SYSMSG_BASE)
            child_give_up();
        sc1(__NR_close, STUB_SYSMSG_FD);
    }
    thread_start(slot);
}

/* argv[1] is "s" for systrap or "p" for ptrace. */
void stub_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    ptrace_mode = argc > 1 && argv[1][0] == 'p';
    long *p = sp + 1 + argc + 1;
    while (*p)
        p++; /* the environment */
    for (p++; p[0]; p += 2)
        if (p[0] == AT_HWCAP2_)
            fsgsbase = (p[1] & HWCAP2_FSGSBASE_) != 0;
    spawner_pid = sc0(__NR_getppid);

    long r = sc6(__NR_mmap, SYSMSG_BASE, STUB_MAX_THREADS * SYSMSG_SIZE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED, STUB_SYSMSG_FD, 0);
    if (r != (long)SYSMSG_BASE)
        die(2);
    sc1(__NR_close, STUB_SYSMSG_FD);
    r = sc6(__NR_mmap, SIGSTACK_BASE, STUB_MAX_THREADS * SIGSTACK_SIZE, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (r != (long)SIGSTACK_BASE)
        die(3);

    struct ksigaction sa = {
        .handler = handler,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_NODEFER,
        .restorer = (void (*)(void))stub_sigreturn,
        .mask = 0,
    };
    static const int sigs[] = { SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
    for (unsigned i = 0; i < ARRAY_SIZE(sigs); i++)
        sc4(__NR_rt_sigaction, sigs[i], &sa, 0, 8);
    struct ksigaction irq = {
        .handler = handler,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
        .restorer = (void (*)(void))stub_sigreturn,
        .mask = ~0UL,
    };
    sc4(__NR_rt_sigaction, STUB_INTERRUPT_SIG, &irq, 0, 8);
    /* Host signals other than the sentry's are ignored; the guest's own
     * signals are emulated by the sentry. (SIGCHLD keeps its default: the
     * stub has no children, its forks are the spawner's.) */
    struct ksigaction ign = { .handler = (void *)SIG_IGN,
                              .flags = SA_RESTORER,
                              .restorer = (void (*)(void))stub_sigreturn };
    static const int ignored[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE,  SIGALRM, SIGTERM, SIGUSR1,
                                   SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGURG,  SIGXFSZ };
    for (unsigned i = 0; i < ARRAY_SIZE(ignored); i++)
        sc4(__NR_rt_sigaction, ignored[i], &ign, 0, 8);

    /* Seal the stub's image and its signal stacks, so that not even a guest
     * jumping into stub text can unmap, move, remap or change the
     * protection of any of them (before the filter, which does not allow
     * mseal; a kernel without mseal has the filter's range checks). The
     * sysmsg pages stay unsealed: a fork child maps its own over them;
     * the filter allows only that one mapping there. */
    sc3(462 /* mseal */, STUB_BASE, (uintptr_t)stub_image_end - STUB_BASE, 0);
    sc3(462, SIGSTACK_BASE, STUB_MAX_THREADS * SIGSTACK_SIZE, 0);
    install_filter();
    thread_start(0);
}
