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

#include "platform/layout.h"
#include "platform/sysmsg.h"

extern char stub_text_end[];
extern char stub_sigreturn[];

/* What stub_return pops: the guest's registers, then an iretq frame. */
struct return_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t rip, cs, rflags, rsp, ss;
};
extern void stub_return(struct return_frame *f, void *xsave) __attribute__((noreturn));
extern char stub_enter_guest[];

/* RFLAGS bits a guest may set, as the kernel's sigreturn allows (FIX_EFLAGS), plus IF. */
#define GUEST_FLAGS_MASK 0x50dd5ULL
#define FP_XSTATE_MAGIC1_ 0x46505853U

static inline long sc6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sc0(n) sc6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static __attribute__((noreturn)) void die(int code)
{
    for (;;)
        sc1(__NR_exit_group, 100 + code);
}

static inline uint32_t aload(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static void futex_wait(uint32_t *p, uint32_t val)
{
    sc6(__NR_futex, (long)p, FUTEX_WAIT, val, 0, 0, 0);
}

static void futex_wake(uint32_t *p)
{
    sc6(__NR_futex, (long)p, FUTEX_WAKE, 1, 0, 0, 0);
}

/* Hand the turn to the sentry and wait until it hands it back. */
static void post_and_wait(struct sysmsg *m)
{
    __atomic_store_n(&m->state, SM_SENTRY, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&m->sentry_sleeping, __ATOMIC_SEQ_CST))
        futex_wake(&m->state);
    uint32_t spins = m->spin_limit;
    for (uint32_t i = 0; i < spins; i++) {
        if (aload(&m->state) != SM_SENTRY)
            return;
        __builtin_ia32_pause();
    }
    for (;;) {
        __atomic_store_n(&m->stub_sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&m->state, __ATOMIC_SEQ_CST) != SM_SENTRY)
            break;
        futex_wait(&m->state, SM_SENTRY);
        if (aload(&m->state) != SM_SENTRY)
            break;
    }
    __atomic_store_n(&m->stub_sleeping, 0, __ATOMIC_RELAXED);
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
static inline void wrfsbase(uint64_t v) { __asm__ volatile("wrfsbase %0" ::"r"(v) : "memory"); }
static inline void wrgsbase(uint64_t v) { __asm__ volatile("wrgsbase %0" ::"r"(v) : "memory"); }

static inline int in_stub_text(uint64_t ip)
{
    return ip >= STUB_BASE && ip < (uint64_t)(uintptr_t)stub_text_end;
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
    /* An interrupt that lands in the stub itself (in this handler, or on its
     * way back to the guest) is dropped: the thread is with the sentry or
     * about to be, and the sentry re-sends interrupts it still needs. */
    if (sig == STUB_INTERRUPT_SIG && in_stub_text(g->rip))
        return;
    if (sig != SIGSYS && sig != STUB_INTERRUPT_SIG && in_stub_text(g->rip) &&
        g->rip != (uint64_t)(uintptr_t)stub_enter_guest)
        die(7); /* a fault in the stub: the guest corrupted its own stub state */

    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t slot = (sp - SIGSTACK_BASE) / SIGSTACK_SIZE;
    if (sp < SIGSTACK_BASE || slot >= STUB_MAX_THREADS)
        die(1);
    struct sysmsg *m = (struct sysmsg *)(uintptr_t)(SYSMSG_BASE + slot * SYSMSG_SIZE);
    struct guest_regs *r = &m->regs;

    r->r8 = g->r8; r->r9 = g->r9; r->r10 = g->r10; r->r11 = g->r11;
    r->r12 = g->r12; r->r13 = g->r13; r->r14 = g->r14; r->r15 = g->r15;
    r->rdi = g->rdi; r->rsi = g->rsi; r->rbp = g->rbp; r->rbx = g->rbx;
    r->rdx = g->rdx; r->rax = g->rax; r->rcx = g->rcx; r->rsp = g->rsp;
    r->rip = g->rip; r->eflags = g->eflags;
    r->orig_rax = sig == SIGSYS ? g->rax : (uint64_t)-1;
    r->fs_base = rdfsbase();
    r->gs_base = rdgsbase();

    m->ev.signo = sig;
    m->ev.code = si->si_code;
    m->ev.addr = 0;
    m->ev.arch = 0;
    if (sig == SIGSYS) {
        m->ev.kind = EV_SYSCALL;
        m->ev.arch = si->si_arch;
    } else if (sig == STUB_INTERRUPT_SIG) {
        m->ev.kind = EV_INTERRUPT;
    } else {
        m->ev.kind = EV_FAULT;
        m->ev.addr = (uint64_t)(uintptr_t)si->si_addr;
    }

    for (;;) {
        post_and_wait(m);
        if (m->cmd != SMC_SYSCALL)
            break;
        m->sc_ret = sc6((long)m->sc_nr, (long)m->sc_args[0], (long)m->sc_args[1],
                        (long)m->sc_args[2], (long)m->sc_args[3], (long)m->sc_args[4],
                        (long)m->sc_args[5]);
    }

    wrfsbase(r->fs_base);
    wrgsbase(r->gs_base);
    uint64_t flags = (r->eflags & GUEST_FLAGS_MASK) | 0x202;
    const struct _fpstate *fp = (const struct _fpstate *)g->fpstate;
    if (sig != STUB_INTERRUPT_SIG && fp && fp->sw_reserved.magic1 == FP_XSTATE_MAGIC1_ &&
        ((uintptr_t)fp & 63) == 0) {
        struct return_frame f = {
            .r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
            .rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
            .rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
            .rip = r->rip, .cs = g->cs, .rflags = flags, .rsp = r->rsp, .ss = g->ss,
        };
        stub_return(&f, (void *)fp);
    }
    g->r8 = r->r8; g->r9 = r->r9; g->r10 = r->r10; g->r11 = r->r11;
    g->r12 = r->r12; g->r13 = r->r13; g->r14 = r->r14; g->r15 = r->r15;
    g->rdi = r->rdi; g->rsi = r->rsi; g->rbp = r->rbp; g->rbx = r->rbx;
    g->rdx = r->rdx; g->rax = r->rax; g->rcx = r->rcx; g->rsp = r->rsp;
    g->rip = r->rip; g->eflags = flags;
}

struct ksigaction {
    void (*handler)(int, siginfo_t *, void *);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

#define ALLOW(nr)                                          \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),       \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void install_filter(void)
{
    uint64_t lo = STUB_BASE, hi = (uint64_t)(uintptr_t)stub_text_end;
    /* Syscalls are allowed only when made by the stub's own text, and only
     * those the stub needs; all else, from anywhere, goes to the sentry. */
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(lo >> 32), 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)lo, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)hi, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(__NR_futex),
        ALLOW(__NR_rt_sigreturn),
        ALLOW(__NR_sched_yield),
        ALLOW(__NR_mmap),
        ALLOW(__NR_munmap),
        ALLOW(__NR_mprotect),
        ALLOW(__NR_mremap),
        ALLOW(__NR_madvise),
        /* File-backed mmap: receive the host fd on STUB_FDPASS_FD, map it,
         * close it. A guest that jumps here can only take fds in flight for
         * its own mmap calls, or close its own socket. */
        ALLOW(__NR_recvmsg),
        ALLOW(__NR_close),
        ALLOW(__NR_exit),
        ALLOW(__NR_exit_group),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
    if (sc6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) != 0)
        die(4);
    if (sc3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        die(5);
}

/* argv[1] is "s" for systrap or "p" for ptrace. */
void stub_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    int ptrace_mode = argc > 1 && argv[1][0] == 'p';

    long r = sc6(__NR_mmap, SYSMSG_BASE, STUB_MAX_THREADS * SYSMSG_SIZE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED, STUB_SYSMSG_FD, 0);
    if (r != (long)SYSMSG_BASE)
        die(2);
    sc1(__NR_close, STUB_SYSMSG_FD);
    r = sc6(__NR_mmap, SIGSTACK_BASE, STUB_MAX_THREADS * SIGSTACK_SIZE, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (r != (long)SIGSTACK_BASE)
        die(3);

    stack_t ss = { .ss_sp = (void *)(uintptr_t)SIGSTACK_BASE, .ss_flags = 0, .ss_size = SIGSTACK_SIZE };
    sc2(__NR_sigaltstack, &ss, 0);

    struct ksigaction sa = {
        .handler = handler,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_NODEFER,
        .restorer = (void (*)(void))stub_sigreturn,
        .mask = 0,
    };
    static const int sigs[] = { SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sc4(__NR_rt_sigaction, sigs[i], &sa, 0, 8);
    struct ksigaction irq = {
        .handler = handler,
        .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
        .restorer = (void (*)(void))stub_sigreturn,
        .mask = ~0UL,
    };
    sc4(__NR_rt_sigaction, STUB_INTERRUPT_SIG, &irq, 0, 8);
    /* Host signals other than the sentry's are ignored; the guest's own
     * signals are emulated by the sentry. */
    struct ksigaction ign = { .handler = (void *)SIG_IGN, .flags = SA_RESTORER,
                              .restorer = (void (*)(void))stub_sigreturn };
    static const int ignored[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1,
                                   SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGURG, SIGXFSZ };
    for (unsigned i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        sc4(__NR_rt_sigaction, ignored[i], &ign, 0, 8);
    unsigned long none = 0;
    sc4(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);

    /* Seal the text so not even a guest jumping into it can change it
     * (before the filter, which does not allow mseal). */
    sc3(462 /* mseal */, STUB_BASE, (uintptr_t)stub_text_end - STUB_BASE, 0);
    install_filter();

    struct sysmsg *m = (struct sysmsg *)(uintptr_t)SYSMSG_BASE;
    if (ptrace_mode) {
        while (!aload(&m->go))
            futex_wait(&m->go, 0);
    }
    /* Enter the guest: the trap reaches the handler, which reports to the
     * sentry and returns into whatever registers the sentry sets. */
    __asm__ volatile(".globl stub_enter_guest\nstub_enter_guest: ud2");
    die(6);
}
