/* sig_frame_moved.c: rt_sigreturn takes the FP state from wherever the
 * frame's fpstate pointer names, and faults exactly where Linux does: a
 * handler that copies the state elsewhere and points the frame there gets
 * what it wrote; a frame on an alternate stack that ends where the memory
 * ends is restored; a moved state that lies partly past the end of its
 * mapping kills with SIGSEGV unless the frame says it has only the legacy
 * (FXSAVE) part, which then is all that is read. Many signals in a row
 * each find and restore the state of the moment. */
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define X_XMM 160
#define X_SW 464

struct sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};

enum { M_NONE, M_XMM, M_MOVE, M_MOVE_TO, M_MOVE_TO_FX };
static volatile int mode;
static volatile int hits;
static uint8_t *volatile move_to; /* M_MOVE_TO*: where the state goes */
static uint8_t moved[16384] __attribute__((aligned(64)));
static volatile unsigned seen_tag;

static void pattern(uint8_t p[16], unsigned tag)
{
    for (int i = 0; i < 16; i++)
        p[i] = (uint8_t)(tag * 7 + (unsigned)i);
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    struct sw_bytes sw;
    memcpy(&sw, fp + X_SW, sizeof sw);
    hits++;
    seen_tag = fp[X_XMM + 8 * 16];
    uint8_t p[16];
    pattern(p, seen_tag + 1);
    switch (mode) {
    case M_XMM:
        memcpy(fp + X_XMM + 8 * 16, p, 16);
        break;
    case M_MOVE:
        memcpy(moved, fp, sw.extended_size);
        memcpy(moved + X_XMM + 8 * 16, p, 16);
        uc->uc_mcontext.fpregs = (void *)moved;
        break;
    case M_MOVE_TO:
        /* Only as much as fits before the end of the mapping. */
        memcpy(move_to, fp, 512);
        memcpy(move_to + X_XMM + 8 * 16, p, 16);
        uc->uc_mcontext.fpregs = (void *)move_to;
        break;
    case M_MOVE_TO_FX: {
        memcpy(move_to, fp, 512);
        memcpy(move_to + X_XMM + 8 * 16, p, 16);
        uint32_t no = 0;
        memcpy(move_to + X_SW, &no, 4); /* no MAGIC1: the legacy part only */
        uc->uc_mcontext.fpregs = (void *)move_to;
        break;
    }
    }
}

/* xmm8 set to the pattern of tag, a signal to this thread, then xmm8. */
static void signal_with_xmm8(unsigned tag, uint8_t out_xmm8[16])
{
    uint8_t in[16];
    pattern(in, tag);
    long pid = getpid();
    long tid = sc(SYS_gettid);
    long nr = SYS_tgkill;
    __asm__ volatile("movdqu (%[in]), %%xmm8\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm8, (%[o])\n\t"
                     : "+a"(nr)
                     : [in] "r"(in), [o] "r"(out_xmm8), "D"(pid), "S"(tid), "d"(SIGUSR1)
                     : "rcx", "r11", "xmm8", "memory");
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(SIGUSR1, &sa, NULL);
}

static int is_pattern(const uint8_t x[16], unsigned tag)
{
    uint8_t p[16];
    pattern(p, tag);
    return memcmp(x, p, 16) == 0;
}

/* Signal tag in mode m and check xmm8 after the return: what the handler
 * wrote into the frame (tag * 7 + 1) or, in M_NONE, the tag's own. */
static void xmm8_after(int m, unsigned tag, const char *what)
{
    uint8_t x[16];
    mode = m;
    signal_with_xmm8(tag, x);
    check(is_pattern(x, m == M_NONE ? tag : (uint8_t)(tag * 7) + 1u), "%s", what);
}

static void in_place(void)
{
    uint8_t x[16];
    mode = M_NONE;
    int bad = 0;
    for (unsigned i = 0; i < 2000; i++) {
        signal_with_xmm8(i, x);
        if (!is_pattern(x, i) || seen_tag != (uint8_t)(i * 7))
            bad++;
    }
    check(hits == 2000 && bad == 0,
          "2000 signals in a row: each frame holds xmm8, each restores it");
    xmm8_after(M_XMM, 40, "xmm8 as the handler wrote it into the frame");
}

static void moved_state(void)
{
    xmm8_after(M_MOVE, 9, "the state taken from where the handler moved it");
    xmm8_after(M_NONE, 10, "the next signal restores in place again");
}

/* The frame on an alternate stack whose top is the end of its mapping. */
static void altstack_at_end(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t size = 16 * (size_t)pg;
    uint8_t *m =
        mmap(NULL, size + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        check(0, "mmap");
        return;
    }
    munmap(m + size, (size_t)pg); /* nothing above the stack */
    stack_t ss = { .ss_sp = m, .ss_flags = 0, .ss_size = size };
    sigaltstack(&ss, NULL);
    install(SA_ONSTACK);
    xmm8_after(M_XMM, 21, "a frame at the very top of an alternate stack");
    xmm8_after(M_NONE, 22, "and again without changes");
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    install(0);
    munmap(m, size);
}

/* In a child: the state moved to the last 512 bytes of a mapping. */
static void cut_short(const char *what, int m_mode)
{
    pid_t pid = fork();
    if (pid == 0) {
        long pg = sysconf(_SC_PAGESIZE);
        uint8_t *m =
            mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            _exit(4);
        munmap(m + pg, (size_t)pg);
        move_to = m + pg - 512;
        mode = m_mode;
        uint8_t x[16];
        signal_with_xmm8(30, x);
        _exit(is_pattern(x, 30 * 7 + 1) ? 0 : 3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    out("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exit",
        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

int main(void)
{
    install(0);
    in_place();
    moved_state();
    altstack_at_end();
    cut_short("the whole state moved to 512 bytes before the end of memory", M_MOVE_TO);
    cut_short("the legacy part alone moved there", M_MOVE_TO_FX);
    return g_failed ? 1 : 0;
}
