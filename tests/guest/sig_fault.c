/* sig_fault.c: faults delivered to handlers as Linux delivers them: each
 * kind (SIGSEGV MAPERR and ACCERR on read, write and fetch, a #GP; SIGBUS
 * past the end of a file mapping; SIGFPE; SIGILL; SIGTRAP) with its si_code,
 * si_addr and the sigcontext's trapno, err and cr2; a handler that fixes the
 * cause (mprotect, mmap, ftruncate, or a new rip in the ucontext) and
 * returns resumes the program; a fault whose signal is blocked or ignored,
 * or that recurs inside its own handler, kills with that signal; a handler
 * leaves by siglongjmp and the next fault is delivered again. */
#include "guest.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define PF_PROT 1
#define PF_WRITE 2
#define PF_USER 4
#define PF_INSTR 16
/* Whether the page was present (X86_PF_PROT) and whether it was a write
 * (X86_PF_WRITE) a ptrace tracer cannot see: not compared. */
#define PF_BITS (PF_PROT | PF_WRITE)

static volatile int hits;
static volatile int g_sig, g_code;
static volatile uintptr_t g_addr, g_rip, g_cr2;
static volatile long g_trapno, g_err;
/* What the handler does to resume: 0 nothing (the cause was fixed), or
 * skip this many bytes of the instruction, or return from a call. */
static volatile int fix_kind;
static void *volatile fix_page;
static volatile size_t fix_len;
static volatile int fix_fd = -1;
static sigjmp_buf jb;
static volatile int use_jump;

enum { FIX_MPROTECT = 1, FIX_MMAP, FIX_TRUNCATE, FIX_SKIP2, FIX_SKIP3, FIX_RET, FIX_TF, FIX_NONE };

static void handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    hits++;
    g_sig = sig;
    g_code = si->si_code;
    g_addr = (uintptr_t)si->si_addr;
    g_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    g_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    g_err = uc->uc_mcontext.gregs[REG_ERR];
    g_cr2 = (uintptr_t)uc->uc_mcontext.gregs[REG_CR2];
    if (use_jump)
        siglongjmp(jb, 1);
    switch (fix_kind) {
    case FIX_MPROTECT:
        mprotect(fix_page, fix_len, PROT_READ | PROT_WRITE | PROT_EXEC);
        break;
    case FIX_MMAP:
        mmap(fix_page, fix_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
             0);
        break;
    case FIX_TRUNCATE:
        ftruncate(fix_fd, (off_t)fix_len);
        break;
    case FIX_SKIP2:
        uc->uc_mcontext.gregs[REG_RIP] += 2;
        break;
    case FIX_SKIP3:
        uc->uc_mcontext.gregs[REG_RIP] += 3;
        break;
    case FIX_RET: {
        /* As if the called function returned at once. */
        uint64_t *sp = (uint64_t *)uc->uc_mcontext.gregs[REG_RSP];
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)sp[0];
        uc->uc_mcontext.gregs[REG_RSP] += 8;
        break;
    }
    case FIX_TF:
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
        break;
    default:
        break;
    }
}

static void *page(int prot)
{
    return mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void report(const char *what, int sig, int code, uintptr_t addr)
{
    check(hits == 1 && g_sig == sig && g_code == code && g_addr == addr,
          "%s: one signal %d code %d at the address (got %d: %d code %d, addr ok %d)", what, sig,
          code, hits, g_sig, g_code, g_addr == addr);
    hits = 0;
}

/* A read (or a write of 42) at p + off that faults with SIGSEGV code; the
 * handler fixes the page by fix and the access is done again. */
static void segv_access(const char *what, char *p, int fix, size_t off, int write, int code)
{
    fix_kind = fix;
    fix_page = p;
    fix_len = 4096;
    char v;
    if (write) {
        *(volatile char *)(p + off) = 42;
        v = p[off];
    } else {
        v = *(volatile char *)(p + off);
    }
    report(what, SIGSEGV, code, (uintptr_t)(p + off));
    out("  trapno %ld err %#lx cr2 ok %d value %d\n", g_trapno, g_err & ~PF_BITS,
        g_cr2 == (uintptr_t)(p + off), v);
    munmap(p, 4096);
}

static void segv_maperr(void)
{
    char *p = page(PROT_READ);
    munmap(p, 4096);
    segv_access("read of unmapped memory", p, FIX_MMAP, 100, 0, SEGV_MAPERR);
}

static void segv_accerr_read(void)
{
    segv_access("read of PROT_NONE", page(PROT_NONE), FIX_MPROTECT, 8, 0, SEGV_ACCERR);
}

static void segv_accerr_write(void)
{
    segv_access("write to PROT_READ", page(PROT_READ), FIX_MPROTECT, 16, 1, SEGV_ACCERR);
}

static void segv_fetch(void)
{
    unsigned char *p = page(PROT_READ | PROT_WRITE);
    p[0] = 0xc3; /* ret */
    mprotect(p, 4096, PROT_READ);
    fix_kind = FIX_RET;
    ((void (*)(void))(void *)p)();
    report("call into a page without PROT_EXEC", SIGSEGV, SEGV_ACCERR, (uintptr_t)p);
    out("  trapno %ld err %#lx rip ok %d\n", g_trapno, g_err & ~PF_BITS, g_rip == (uintptr_t)p);
    munmap(p, 4096);
}

static void segv_gp(void)
{
    /* A non-canonical address: a #GP, SIGSEGV with SI_KERNEL and no address. */
    fix_kind = FIX_SKIP3;
    uintptr_t at;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "movabs $0x8000000000000000, %%rcx\n\t"
                     "1: mov (%%rcx), %%al\n\t" /* 8a 01 plus a nop: 3 bytes */
                     "nop\n\t"
                     : "=&r"(at)
                     :
                     : "rcx", "rax", "memory");
    report("non-canonical address", SIGSEGV, SI_KERNEL, 0);
    out("  trapno %ld err %#lx rip ok %d\n", g_trapno, g_err, g_rip == at);
}

static void bus_past_eof(void)
{
    int fd = open("sig_fault.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[100] = { 1 };
    write(fd, buf, sizeof buf);
    char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    if (!check(fd >= 0 && p != MAP_FAILED, "a file mapping of 100 bytes in the cwd"))
        return;
    fix_kind = FIX_TRUNCATE;
    fix_fd = fd;
    fix_len = 8192;
    char v = *(volatile char *)(p + 4096 + 5);
    report("read past the end of a file mapping", SIGBUS, BUS_ADRERR, (uintptr_t)(p + 4096 + 5));
    out("  trapno %ld cr2 ok %d value %d first %d\n", g_trapno, g_cr2 == (uintptr_t)(p + 4101), v,
        p[0]);
    munmap(p, 8192);
    close(fd);
    unlink("sig_fault.data");
}

static void fpe(void)
{
    fix_kind = FIX_SKIP3;
    uintptr_t at;
    long q;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "xor %%edx, %%edx\n\t"
                     "mov $7, %%eax\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "1: div %%rcx\n\t" /* 48 f7 f1 */
                     : "=&r"(at), "=a"(q)
                     :
                     : "rcx", "rdx");
    report("division by zero", SIGFPE, FPE_INTDIV, at);
    out("  trapno %ld err %#lx rip ok %d rax %ld\n", g_trapno, g_err, g_rip == at, q);
}

static void ill(void)
{
    fix_kind = FIX_SKIP2;
    uintptr_t at;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "1: ud2\n\t"
                     : "=r"(at));
    report("ud2", SIGILL, ILL_ILLOPN, at);
    out("  trapno %ld err %#lx rip ok %d\n", g_trapno, g_err, g_rip == at);
}

/* A fault with rax holding what looks like a restart code (-ERESTARTSYS):
 * the return from its handler is no syscall to restart. */
static void ill_restart_lookalike(void)
{
    fix_kind = FIX_SKIP2;
    uintptr_t at;
    long rax;
    __asm__ volatile("mov $-512, %%rax\n\t"
                     "lea 1f(%%rip), %0\n\t"
                     "1: ud2\n\t"
                     : "=r"(at), "=&a"(rax));
    report("ud2 with rax -512", SIGILL, ILL_ILLOPN, at);
    check(rax == -512, "rax is still -512 after the handler (%ld)", rax);
}

static void trap(void)
{
    fix_kind = FIX_NONE;
    uintptr_t at;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "int3\n\t"
                     "1:\n\t"
                     : "=r"(at));
    report("int3", SIGTRAP, SI_KERNEL, 0);
    out("  trapno %ld err %#lx rip after it %d\n", g_trapno, g_err, g_rip == at);
}

/* The trap flag set by popf: the instruction after it traps (#DB),
 * SIGTRAP with TRAP_TRACE at the next instruction; the handler clears
 * the flag in the frame. */
static void single_step(void)
{
    fix_kind = FIX_TF;
    uintptr_t at;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "pushf\n\t"
                     "orq $0x100, (%%rsp)\n\t"
                     "popf\n\t"
                     "nop\n\t"
                     "1: nop\n\t"
                     : "=r"(at)
                     :
                     : "cc", "memory");
    report("the trap flag", SIGTRAP, TRAP_TRACE, at);
    out("  trapno %ld err %#lx rip ok %d\n", g_trapno, g_err, g_rip == at);
}

/* In a child: fault the way `how` says; the parent reports how it died. */
static void child_dies(const char *what, int how)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *p = page(PROT_READ);
        munmap(p, 4096);
        fix_kind = FIX_NONE;
        if (how == 0) {
            install_handler(SIGSEGV, handler, 0);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGSEGV);
            sigprocmask(SIG_BLOCK, &s, NULL);
        } else if (how == 1) {
            signal(SIGSEGV, SIG_IGN);
        } else {
            install_handler(SIGILL, handler, 0);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGILL);
            sigprocmask(SIG_BLOCK, &s, NULL);
            __asm__ volatile("ud2");
            _exit(3);
        }
        (void)*(volatile char *)p;
        _exit(2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    out("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exit",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static volatile int in_handler_faults;
static void fault_in_handler(int sig)
{
    (void)sig;
    in_handler_faults++;
    (void)*(volatile char *)8; /* again, with SIGSEGV blocked */
}

static void child_handler_faults(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, fault_in_handler);
        (void)*(volatile char *)16;
        _exit(2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    out("a fault inside its own handler: %s %d\n", WIFSIGNALED(st) ? "killed by" : "exit",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void longjmp_out(void)
{
    use_jump = 1;
    volatile int n = 0;
    for (volatile int i = 0; i < 3; i++) {
        if (sigsetjmp(jb, 1) == 0)
            (void)*(volatile char *)(uintptr_t)(24 + i);
        else
            n++;
    }
    use_jump = 0;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    check(n == 3 && !sigismember(&cur, SIGSEGV),
          "siglongjmp out of the handler three times, SIGSEGV unblocked after (%d)", n);
    hits = 0;
}

int main(void)
{
    install_handler(SIGSEGV, handler, 0);
    install_handler(SIGBUS, handler, 0);
    install_handler(SIGFPE, handler, 0);
    install_handler(SIGILL, handler, 0);
    install_handler(SIGTRAP, handler, 0);
    segv_maperr();
    segv_accerr_read();
    segv_accerr_write();
    segv_fetch();
    segv_gp();
    bus_past_eof();
    fpe();
    ill();
    ill_restart_lookalike();
    trap();
    single_step();
    longjmp_out();
    child_dies("a fault with its signal blocked", 0);
    child_dies("a fault with its signal ignored", 1);
    child_dies("ud2 with SIGILL blocked", 2);
    child_handler_faults();
    return finish();
}
