/* sig_onstack.c: handlers on the alternate stack as Linux runs them: an
 * SA_ONSTACK handler's frame goes at the top of the stack sigaltstack set
 * (a handler without SA_ONSTACK stays on the thread's stack), a nested one
 * goes below the first on the same stack, the frame's uc_stack holds the
 * stack as set, sigaltstack in the handler says SS_ONSTACK; SS_AUTODISARM
 * disarms the stack while the handler runs and rt_sigreturn arms it again
 * from uc_stack (a handler that changes uc_stack changes the stack); a
 * SIGSEGV of a bad stack pointer is handled on the alternate stack; a frame
 * that does not fit the alternate stack, or a bad stack without one, kills
 * with SIGSEGV. */
#include "guest.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char alt[65536] __attribute__((aligned(16)));
static char alt2[16384] __attribute__((aligned(16)));

static volatile uintptr_t where1, where2;
static volatile long uc_sp_ok, uc_size, uc_flags1, uc_flags2, in_flags, in_size;
static volatile int nest, change_uc;

static int on_alt(uintptr_t p)
{
    return p >= (uintptr_t)alt && p < (uintptr_t)alt + sizeof alt;
}

#define UNUSED __attribute__((unused))

static void raise_self(int sig)
{
    sc(SYS_tgkill, getpid(), sc(SYS_gettid), sig);
}

static void inner(UNUSED int sig, UNUSED siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    char here;
    where2 = (uintptr_t)&here;
    uc_flags2 = uc->uc_stack.ss_flags;
}

static void outer(UNUSED int sig, UNUSED siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    char here;
    where1 = (uintptr_t)&here;
    uc_sp_ok = uc->uc_stack.ss_sp == alt;
    uc_size = (long)uc->uc_stack.ss_size;
    uc_flags1 = uc->uc_stack.ss_flags;
    stack_t cur;
    sigaltstack(NULL, &cur);
    in_flags = cur.ss_flags;
    in_size = (long)cur.ss_size;
    if (nest)
        raise_self(SIGUSR2);
    if (change_uc) {
        uc->uc_stack.ss_sp = alt2;
        uc->uc_stack.ss_size = sizeof alt2;
        uc->uc_stack.ss_flags = 0;
    }
}

static void set_alt(void *sp, size_t size, int flags)
{
    stack_t ss = { .ss_sp = sp, .ss_size = size, .ss_flags = flags };
    check(sigaltstack(&ss, NULL) == 0, "sigaltstack(%zu, %#x)", size, (unsigned)flags);
}

static void describe_now(const char *when)
{
    stack_t cur;
    sigaltstack(NULL, &cur);
    out("%s: %s size %zu flags %#x\n", when,
        cur.ss_sp == alt    ? "alt"
        : cur.ss_sp == alt2 ? "alt2"
        : cur.ss_sp         ? "other"
                            : "null",
        cur.ss_size, (unsigned)cur.ss_flags);
}

static void basic(void)
{
    set_alt(alt, sizeof alt, 0);
    install_handler(SIGUSR1, outer, SA_ONSTACK);
    install_handler(SIGUSR2, inner, SA_ONSTACK);
    nest = 1;
    raise_self(SIGUSR1);
    out("SA_ONSTACK: on it %d, uc_stack ours %d size %ld flags %#lx, sigaltstack in the handler "
        "flags %#lx\n",
        on_alt(where1), (int)uc_sp_ok, uc_size, (unsigned long)uc_flags1, (unsigned long)in_flags);
    out("nested: on it %d, below the first %d, uc_stack flags %#lx\n", on_alt(where2),
        where2 < where1, (unsigned long)uc_flags2);
    check(where1 > (uintptr_t)alt + sizeof alt - 8192, "the first frame is at the top");
    nest = 0;

    install_handler(SIGUSR1, outer, 0);
    raise_self(SIGUSR1);
    out("without SA_ONSTACK: on it %d\n", on_alt(where1));
    install_handler(SIGUSR1, outer, SA_ONSTACK);
}

static void autodisarm(void)
{
    set_alt(alt, sizeof alt, SS_AUTODISARM);
    nest = 1;
    raise_self(SIGUSR1);
    out("SS_AUTODISARM: on it %d, uc_stack ours %d flags %#lx, in the handler flags %#lx size "
        "%ld\n",
        on_alt(where1), (int)uc_sp_ok, (unsigned long)uc_flags1, (unsigned long)in_flags, in_size);
    out("nested while disarmed: on it %d, below the first %d, uc_stack flags %#lx\n",
        on_alt(where2), where2 < where1, (unsigned long)uc_flags2);
    nest = 0;
    describe_now("after the handler");

    change_uc = 1;
    raise_self(SIGUSR1);
    change_uc = 0;
    describe_now("after a handler that changed uc_stack");
    set_alt(NULL, 0, SS_DISABLE);
}

static sigjmp_buf jb;
static volatile uintptr_t segv_where;
static void segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si, (void)ucv;
    char here;
    segv_where = (uintptr_t)&here;
    siglongjmp(jb, 1);
}

/* A push with the stack pointer at an unmapped address. */
static void bad_sp(void)
{
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov $0x1000, %%rsp\n\t"
                     "push %%rax\n\t"
                     "mov %%rbx, %%rsp\n\t" ::
                         : "rbx", "memory");
}

static void segv_on_alt(void)
{
    set_alt(alt, sizeof alt, 0);
    install_handler(SIGSEGV, segv, SA_ONSTACK);
    if (sigsetjmp(jb, 1) == 0) {
        bad_sp();
        out("FAIL the push did not fault\n");
    }
    out("a bad stack pointer's SIGSEGV on the alternate stack: %d\n", on_alt(segv_where));
    signal(SIGSEGV, SIG_DFL);
    set_alt(NULL, 0, SS_DISABLE);
}

static void *thread_main(void *arg)
{
    (void)arg;
    raise_self(SIGUSR1);
    return NULL;
}

/* A thread starts without the alternate stack (sas_ss_reset). */
static void in_thread(void)
{
    set_alt(alt, sizeof alt, 0);
    install_handler(SIGUSR1, outer, SA_ONSTACK);
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
    out("a new thread's handler: on it %d, uc_stack ours %d size %ld flags %#lx\n", on_alt(where1),
        (int)uc_sp_ok, uc_size, (unsigned long)uc_flags1);
    set_alt(NULL, 0, SS_DISABLE);
}

static volatile int depth;
static void recurse(int sig)
{
    depth++;
    raise_self(sig);
}

static void child(const char *what, int how)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (how == 0) {
            /* A frame that cannot fit (MINSIGSTKSZ is less than a frame
             * with the XSAVE area of an AVX machine). */
            set_alt(alt, 2048, 0);
            install_handler(SIGUSR1, outer, SA_ONSTACK);
            raise_self(SIGUSR1);
        } else if (how == 1) {
            /* Nested handlers until the stack is full. */
            set_alt(alt, sizeof alt, 0);
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = recurse;
            sa.sa_flags = SA_ONSTACK | SA_NODEFER;
            sigaction(SIGUSR1, &sa, NULL);
            raise_self(SIGUSR1);
        } else {
            /* A bad stack and no alternate one: the frame cannot be written. */
            install_handler(SIGSEGV, segv, 0);
            bad_sp();
        }
        _exit(3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    out("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exit",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    basic();
    autodisarm();
    segv_on_alt();
    in_thread();
    child("a frame larger than the alternate stack", 0);
    child("nested handlers past the alternate stack's end", 1);
    child("a bad stack pointer without an alternate stack", 2);
    return finish();
}
