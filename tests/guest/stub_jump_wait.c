/* stub_jump_wait.c: a guest thread that jumps into the stub's futex waits
 * (the `syscall; ret` of its one system call with a FUTEX_WAIT on a word
 * of its sysmsg page, the loop of a new thread's wait for its tracer on
 * the `go` word, the handoff's sleep loop) and stays there does not hang
 * the sandbox: a SIGKILL of its process ends it, and so does an exit_group
 * of another thread; a handled signal runs its handler there (while the
 * guest leaves the host's interrupt signal unblocked and its stack its
 * own). Natively there is no stub: each child blocks in a futex wait on a
 * private word instead, which must end the same way. The parent reports
 * how each child ended; alarm() makes a hang a failure. Also: a vfork
 * parent runs on after its child was killed (that kill is not the
 * parent's), and a child left waiting does not keep the sandbox from
 * ending with its pid 1. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stub_util.h"

#define FUTEX_WAIT 0

/* An untouched page (the last slot's): its words are the guest's to set.
 * pad2[0] stays 0: the waits for `go` wait on it (the real go word is 1
 * under ptrace, where the tracer sets it). */
static volatile struct sysmsg *const mlast =
    (volatile struct sysmsg *)(SYSMSG_BASE + (STUB_MAX_THREADS - 1) * SYSMSG_SIZE);

static int box;
static void *g_sc;     /* the stub's `syscall; ret` */
static void *g_goloop; /* thread_start's wait on m->go: mov (%rbx),%eax; test; je */
static void *g_sleep;  /* the handoff's sleep: mov (%rbx),%eax; cmp $1,%eax; je */
static int report_fd = -1;
static uint32_t private_word;

/* A stack of the child's own for the jumps (one child at a time). */
static char jump_stack[2][65536] __attribute__((aligned(64)));

/* Whether code at p..p+back holds `mov $SYS_futex, %edi` (the stub's
 * futex calls go through stub_sc6, nr in edi). */
static int calls_futex(const unsigned char *from, const unsigned char *to)
{
    for (const unsigned char *p = from; p + 5 <= to; p++)
        if (p[0] == 0xbf && p[1] == SYS_futex && p[2] == 0 && p[3] == 0 && p[4] == 0)
            return 1;
    return 0;
}

/* The head of a loop that reads (%rbx), tests it and jumps back (rel8)
 * over a futex call: pat is the read and the test, then 0x74 (je). */
static void *find_loop(const unsigned char *pat, int n)
{
    const unsigned char *p = (const unsigned char *)STUB_BASE;
    for (int i = 64; i + n + 2 < 16384; i++) {
        if (memcmp(p + i, pat, n) != 0 || p[i + n] != 0x74)
            continue;
        signed char rel = (signed char)p[i + n + 1];
        const unsigned char *target = p + i + n + 2 + rel;
        if (rel < 0 && target < p + i && calls_futex(target, p + i))
            return (void *)(p + i);
    }
    return NULL;
}

/* Jump to target with rbx, rbp and rsp set (never returns). */
static __attribute__((noreturn)) void jump_regs(void *target, uint64_t rbx, uint64_t rbp,
                                                uint64_t rsp)
{
    __asm__ volatile(
        "mov %%rcx, %%rbx\n\tmov %%rsi, %%rbp\n\tmov %%rdi, %%rsp\n\tjmp *%%rax" ::"a"(target),
        "c"(rbx), "S"(rbp), "D"(rsp)
        : "memory");
    __builtin_unreachable();
}

static uint64_t stack_top(int which)
{
    return (uint64_t)(uintptr_t)(jump_stack[which] + sizeof(jump_stack[which]) - 64);
}

/* Natively: the wait that stands in for the stub's, forever. */
static __attribute__((noreturn)) void native_wait(void)
{
    for (;;)
        sc(SYS_futex, &private_word, FUTEX_WAIT | 128 /* PRIVATE */, 0, 0);
}

enum entry { E_SYSCALL, E_GOLOOP, E_SLEEP, E_GOLOOP_SIGSTACK };
static const char *const entry_name[] = { "the stub's syscall; ret, FUTEX_WAIT",
                                          "the stub's wait for go", "the stub's handoff sleep",
                                          "the stub's wait for go on the signal stack" };

/* Block in the stub (sandboxed) or in a private futex (natively). */
static __attribute__((noreturn)) void hang(enum entry e, int which)
{
    if (!box)
        native_wait();
    switch (e) {
    case E_SYSCALL:
        for (;;)
            vs(g_sc, SYS_futex, &mlast->pad2[0], FUTEX_WAIT, 0);
    case E_GOLOOP:
        jump_regs(g_goloop, (uint64_t)(uintptr_t)&mlast->pad2[0], 0, stack_top(which));
    case E_SLEEP:
        /* Waits while the word is 1 (SM_SENTRY); rbp: the "sleeping" flag. */
        mlast->pad0[0] = 1;
        jump_regs(g_sleep, (uint64_t)(uintptr_t)&mlast->pad0[0],
                  (uint64_t)(uintptr_t)&mlast->pad1[0], stack_top(which));
    case E_GOLOOP_SIGSTACK:
        /* Slot 0's signal stack: the forking thread's, so this thread's. */
        jump_regs(g_goloop, (uint64_t)(uintptr_t)&mlast->pad2[0], 0,
                  SIGSTACK_BASE + SIGSTACK_SIZE / 2);
    }
    native_wait();
}

/* Block every host signal the thread could take (the sentry's interrupt
 * among them, from stub text: the guest's own mask is not changed) but
 * the trap signals, without which the stub cannot serve a syscall. */
#define BIT(sig) (1ULL << ((sig)-1))
static void block_all(void)
{
    uint64_t all =
        ~(BIT(SIGSYS) | BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGFPE) | BIT(SIGILL) | BIT(SIGTRAP));
    if (box)
        vs(g_sc, SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, 8);
    else
        sc(SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, 8);
}

static void on_usr1(int sig)
{
    (void)sig;
    char c = 'h';
    sc(SYS_write, report_fd, &c, 1);
}

/* Read one byte from fd within ms milliseconds: the byte, or -1. */
static int read_byte(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    if (poll(&p, 1, ms) != 1 || read(fd, &c, 1) != 1)
        return -1;
    return c;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Reap c within a bounded time (alarm ends the test otherwise; then the
 * whole test's alarm again) and say how it ended. */
static void reap(pid_t c, const char *what, int want_sig, int want_code)
{
    int st = 0;
    unsigned whole = alarm(30);
    pid_t r = waitpid(c, &st, 0);
    alarm(whole);
    if (want_sig)
        check(r == c && WIFSIGNALED(st) && WTERMSIG(st) == want_sig, "%s: killed by signal %d",
              what, want_sig);
    else
        check(r == c && WIFEXITED(st) && WEXITSTATUS(st) == want_code, "%s: exited %d", what,
              want_code);
}

/* A child that hangs at entry e; with_usr1, a SIGUSR1 first, whose handler
 * must run; then SIGKILL. */
static void kill_case(enum entry e, int masked, int with_usr1)
{
    int p[2];
    pid_t c = fork_piped(p, &report_fd);
    if (c == 0) {
        signal(SIGUSR1, on_usr1);
        if (masked)
            block_all();
        char r = 'r';
        sc(SYS_write, report_fd, &r, 1);
        hang(e, 0);
    }
    char what[160];
    snprintf(what, sizeof what, "%s%s", masked ? "signals blocked, " : "", entry_name[e]);
    check(c > 0 && read_byte(p[0], 30000) == 'r', "%s: child ready", what);
    pause_ms(100); /* most likely in its wait by now; either way it must end */
    if (with_usr1) {
        kill(c, SIGUSR1);
        check(read_byte(p[0], 30000) == 'h', "%s: SIGUSR1's handler ran", what);
    }
    kill(c, SIGKILL);
    reap(c, what, SIGKILL, 0);
    close(p[0]);
}

static int ready_fd;

static void *hang_thread(void *arg)
{
    (void)arg;
    block_all();
    char r = 'r';
    sc(SYS_write, ready_fd, &r, 1);
    hang(E_GOLOOP, 1);
}

/* A child whose second thread hangs in the stub with every signal
 * blocked; its first thread calls exit_group (or the parent kills it). */
static void thread_case(int by_kill)
{
    int p[2];
    pid_t c = fork_piped(p, &ready_fd);
    if (c == 0) {
        pthread_t th;
        if (pthread_create(&th, NULL, hang_thread, NULL) != 0)
            _exit(99);
        if (by_kill)
            for (;;)
                pause();
        pause_ms(300); /* the thread is most likely in its wait */
        sc(SYS_exit_group, 5);
    }
    const char *what = by_kill ? "a thread hangs in the stub, the process is killed"
                               : "a thread hangs in the stub, another calls exit_group(5)";
    check(c > 0 && read_byte(p[0], 30000) == 'r', "%s: thread ready", what);
    if (by_kill) {
        pause_ms(100);
        kill(c, SIGKILL);
        reap(c, what, SIGKILL, 0);
    } else {
        reap(c, what, 0, 5);
    }
    close(p[0]);
}

/* Natively a vDSO call; in the sandbox too (the host's vDSO): no trap. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A vfork child killed while it runs only its own code (the kill that ends
 * a task that does not come back is for the child, not for the parent whose
 * host thread it runs on): the parent then runs on, for longer than that
 * kill's grace period, without a trap, and is not taken for lost. */
static void vfork_case(void)
{
    volatile pid_t *pid =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pid == MAP_FAILED) {
        check(0, "mmap");
        return;
    }
    pid_t killer = fork();
    if (killer == 0) {
        for (int i = 0; i < 30000 && !*pid; i++)
            pause_ms(1);
        pause_ms(100);
        kill(*pid, SIGKILL);
        _exit(0);
    }
    pid_t c = vfork();
    if (c == 0) {
        *pid = (pid_t)sc(SYS_getpid);
        for (;;)
            __asm__ volatile("" ::: "memory");
    }
    reap(c, "a vfork child that spins", SIGKILL, 0);
    double t0 = now_s();
    while (now_s() - t0 < 1.5)
        ;
    check(1, "its parent runs on, 1.5 s without a trap");
    reap(killer, "the killer", 0, 0);
    munmap((void *)pid, 4096);
}

/* A child left waiting in the stub, deaf to the interrupt, when the test
 * (the sandbox's pid 1) ends: the sandbox ends all the same (natively
 * its parent's death kills it). */
static void orphan_case(void)
{
    int p[2];
    pid_t c = fork_piped(p, NULL);
    if (c == 0) {
        /* Before the 'r': the parent is alive at the prctl. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        block_all();
        char r = 'r';
        sc(SYS_write, p[1], &r, 1);
        hang(E_GOLOOP, 0);
    }
    check(c > 0 && read_byte(p[0], 30000) == 'r',
          "a child waits in the stub, deaf to the interrupt, as the test ends");
    pause_ms(100);
    close(p[0]);
}

/* The safety net: a handler, as the sandbox's pid 1 ignores a signal
 * whose default action would end it. */
static void on_alarm(int sig)
{
    (void)sig;
    out("FAIL timed out\n");
    sc(SYS_exit_group, 1);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(120); /* the whole test; each wait has its own too */
    box = sandboxed();
    if (box) {
        static const unsigned char go_loop[] = { 0x8b, 0x03, 0x85, 0xc0 };
        static const unsigned char sleep_loop[] = { 0x8b, 0x03, 0x83, 0xf8, 0x01 };
        g_sc = stub_syscall_ret();
        g_goloop = find_loop(go_loop, sizeof go_loop);
        g_sleep = find_loop(sleep_loop, sizeof sleep_loop);
    }
    check(!box || g_sc, "found the stub's syscall; ret");
    check(!box || g_goloop, "found the stub's wait for go");
    check(!box || g_sleep, "found the stub's handoff sleep");
    if (box && (!g_sc || !g_goloop || !g_sleep))
        return finish();

    /* The handler runs where the guest waits with its own stack. */
    kill_case(E_SYSCALL, 0, 1);
    kill_case(E_GOLOOP, 0, 1);
    kill_case(E_SLEEP, 0, 1);
    /* No signal reaches the thread: only its end. */
    kill_case(E_SYSCALL, 1, 0);
    kill_case(E_GOLOOP, 1, 0);
    kill_case(E_SLEEP, 1, 0);
    kill_case(E_GOLOOP_SIGSTACK, 0, 0);
    thread_case(0);
    thread_case(1);
    vfork_case();
    orphan_case();
    return finish();
}
