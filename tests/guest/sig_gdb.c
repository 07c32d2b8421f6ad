/* sig_gdb.c: a program for gdb to take a backtrace of from inside a signal
 * handler (tests/e2e/gdb_sigframe.sh), through the signal frame to the
 * interrupted functions. main calls f1, f2, f3; f3 then
 *  - "usr1": sends itself SIGUSR1 (a raw tgkill, so that the interrupted
 *    instruction is in f3), taken by an SA_SIGINFO handler on the thread's
 *    stack;
 *  - "segv": writes to a page it mapped PROT_NONE, a SIGSEGV taken by an
 *    SA_SIGINFO | SA_ONSTACK handler on the alternate stack, which makes
 *    the page writable, so that the write is done again and succeeds.
 * The handler calls in_handler, which prints "ready" and spins without a
 * system call (a thread in one would show the sandbox's own code to a
 * debugger, not the guest's) until SIGUSR2 comes, then the handler
 * returns and the functions return in turn. Built only (it waits for a
 * SIGUSR2): run by the e2e test, natively and sandboxed.
 * Usage: sig_gdb usr1|segv */
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t released;
static volatile int depth;
static volatile char *page;
static char alt[65536] __attribute__((aligned(16)));

static void on_usr2(int sig)
{
    (void)sig;
    released = 1;
}

/* No inlining, cloning or tail calls: each function is a frame of its
 * own, under its own name. */
#define FRAME __attribute__((noipa))

FRAME static void in_handler(void)
{
    out("ready\n");
    while (!released)
        __asm__ volatile("pause");
    depth++;
}

FRAME static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    check(sig == SIGUSR1 && si->si_code == SI_TKILL, "SIGUSR1 from tgkill");
    in_handler();
    depth++;
}

FRAME static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char here;
    check(sig == SIGSEGV && si->si_addr == (void *)page, "SIGSEGV at the page");
    check(&here >= alt && &here < alt + sizeof alt, "the handler runs on the alternate stack");
    in_handler();
    check(mprotect((void *)page, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect");
    depth++;
}

FRAME static void f3(int segv)
{
    if (segv)
        *page = 1;
    else
        sc(SYS_tgkill, sc(SYS_getpid), sc(SYS_gettid), SIGUSR1);
    depth++;
}

FRAME static void f2(int segv)
{
    f3(segv);
    depth++;
}

FRAME static void f1(int segv)
{
    f2(segv);
    depth++;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    check(sigaction(sig, &sa, 0) == 0, "sigaction");
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "usr1") != 0 && strcmp(argv[1], "segv") != 0)) {
        out("usage: sig_gdb usr1|segv\n");
        return 2;
    }
    int segv = strcmp(argv[1], "segv") == 0;
    signal(SIGUSR2, on_usr2);
    handle(SIGUSR1, on_usr1, 0);
    handle(SIGSEGV, on_segv, SA_ONSTACK);
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
    check(sigaltstack(&ss, 0) == 0, "sigaltstack");
    page = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(page != MAP_FAILED, "mmap");
    f1(segv);
    check(depth == 5, "every function returned");
    if (segv)
        check(*page == 1, "the write was done again after the handler");
    return finish();
}
