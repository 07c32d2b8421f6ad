/* stub_forge.c: a guest that writes its own sysmsg page (an event, the
 * registers and the state word, then wakes the sentry from stub text) gets
 * no more than it could get with a trap: a well-formed syscall post is
 * served exactly as a trapped syscall, anything malformed is dropped (the
 * thread goes on with the registers the sentry holds), and a well-formed
 * fault is a fault (the last case: SIGSEGV, status 139). Under ptrace the
 * page is no input at all (the sentry reads registers with ptrace), and
 * natively there is no page: the same lines are printed without forging,
 * and the run ends with a NULL write. */
#include <fcntl.h>
#include <signal.h>
#include "stub_util.h"

#define FUTEX_WAKE 1

static volatile struct sysmsg *const m = (volatile struct sysmsg *)SYSMSG_BASE;
static void *g;
static int forging;

/* Post ev with registers r (the last trap's, with what set() changes), wake
 * the sentry, and wait until it has taken the post. */
static int forge(uint32_t kind, int signo, int code, uint32_t arch, long nr, long a, long b)
{
    if (!forging)
        return 1;
    struct guest_regs r;
    memcpy(&r, (const void *)&m->regs, sizeof r);
    r.rax = (uint64_t)nr;
    r.rdi = (uint64_t)a;
    r.rsi = (uint64_t)b;
    memcpy((void *)&m->regs, &r, sizeof r);
    m->ev.kind = kind;
    m->ev.signo = signo;
    m->ev.code = code;
    m->ev.arch = arch;
    m->ev.addr = 0x1234;
    __atomic_store_n(&m->state, SM_SENTRY, __ATOMIC_SEQ_CST);
    vs(g, SYS_futex, &m->state, FUTEX_WAKE, 1);
    for (long i = 0; i < 4000000000L; i++) {
        if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != SM_SENTRY)
            return 1;
        __builtin_ia32_pause();
    }
    return 0;
}

static int has_fd(int fd)
{
    return sc(SYS_fcntl, fd, F_GETFD) >= 0;
}

/* A forged syscall post that must be dropped: dup2(1, fd) must not happen. */
static void dropped(const char *what, uint32_t kind, int signo, int code, uint32_t arch, int fd)
{
    int taken = forge(kind, signo, code, arch, SYS_dup2, 1, fd);
    check(taken && !has_fd(fd), "forged %s: dropped", what);
}

int main(void)
{
    forging = sandboxed() && m->go == 0; /* ptrace sets go; systrap never does */
    if (forging) {
        g = stub_syscall_ret();
        if (!g) {
            out("FAIL no syscall; ret in stub text\n");
            return 1;
        }
    }
    int taken = forge(EV_SYSCALL, SIGSYS, 1, T_AUDIT_ARCH_X86_64, SYS_dup2, 1, 98);
    long rax = forging ? (long)m->regs.rax : 98;
    check(taken && rax == 98 && (!forging || has_fd(98)),
          "forged syscall post: served as a trapped dup2(1, 98)");
    taken = forge(EV_SYSCALL, SIGSYS, 1, T_AUDIT_ARCH_I386, 41 /* i386 dup */, 1, 0);
    rax = forging ? (long)m->regs.rax : -ENOSYS;
    check(taken && rax == -ENOSYS, "forged i386 syscall post: served as a trapped one (ENOSYS)");

    dropped("syscall post with arch 0x1234", EV_SYSCALL, SIGSYS, 1, 0x1234, 97);
    dropped("syscall post with si_code 5", EV_SYSCALL, SIGSYS, 5, T_AUDIT_ARCH_X86_64, 96);
    dropped("syscall post with signal SIGSEGV", EV_SYSCALL, SIGSEGV, 1, T_AUDIT_ARCH_X86_64, 95);
    dropped("fault with signal 1000", EV_FAULT, 1000, 1, 0, 94);
    dropped("fault with signal 0", EV_FAULT, 0, 1, 0, 94);
    dropped("fault with SIGKILL", EV_FAULT, SIGKILL, 1, 0, 94);
    dropped("fault with SIGSYS", EV_FAULT, SIGSYS, 1, 0, 94);
    dropped("SIGSEGV with si_code 77", EV_FAULT, SIGSEGV, 77, 0, 94);
    dropped("SIGSEGV with si_code SI_USER", EV_FAULT, SIGSEGV, 0, 0, 94);
    dropped("SIGBUS with si_code -6", EV_FAULT, SIGBUS, -6, 0, 94);
    dropped("event kind 99", 99, SIGSYS, 1, T_AUDIT_ARCH_X86_64, 93);
    dropped("event kind 0", 0, SIGSYS, 1, T_AUDIT_ARCH_X86_64, 93);
    dropped("interrupt with signal 9", EV_INTERRUPT, SIGKILL, 0, 0, 92);
    taken = forge(EV_INTERRUPT, SIGUSR2, -6, 0, SYS_dup2, 1, 91);
    check(taken && !has_fd(91), "forged interrupt: a spurious stop");
    check(sc(SYS_getpid) == (sandboxed() ? 1 : sc(SYS_getpid)),
          "still running, syscalls still trap");

    out("forging a SIGSEGV fault\n");
    forge(EV_FAULT, SIGSEGV, 1 /* SEGV_MAPERR */, 0, 0, 0, 0);
    if (forging) {
        out("FAIL still alive after a forged SIGSEGV\n");
        return 1;
    }
    volatile int *volatile p = NULL;
    *p = 1;
    return 1;
}
