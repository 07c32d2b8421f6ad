/* sig_kick.c: a signal reaches a thread that runs only its own code (a
 * loop without any syscall) at once, not at its next syscall: a handled
 * signal from another thread (tgkill, kill of the process) and from
 * another process (kill, tgkill) runs its handler, which ends the loop;
 * rounds in which the signal is sent just as the spinner comes
 * back from a syscall lose none; storms from two senders at once
 * (standard signals coalesce: every one sent before a final "done" signal
 * has been handled by the time "done" is; queued real-time signals under
 * a small RLIMIT_SIGPENDING are each handled exactly once); SIGKILL and a
 * handler-less SIGTERM end a spinning process; SIGSTOP stops a process
 * whose two threads spin, SIGCONT lets it go on. Signals with a default
 * action go only to children: in the sandbox this program is pid 1. */
#include "proc_util.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Shared with children (MAP_SHARED), so other processes see the flags. */
struct shared {
    volatile int hit;          /* handler runs (SIGUSR1) */
    volatile int done;         /* the "done" handler ran */
    volatile int ready;        /* the spinner is in its loop */
    volatile int tid;          /* the spinner's tid */
    volatile int phase;        /* race rounds: the round the spinner is in */
    volatile long counted;     /* storm: handler runs */
    volatile long sent[2];     /* storm: signals each sender got in */
    volatile long at_done;     /* storm: counted when "done" ran */
    volatile long pending_end; /* storm: sigpending after "done" */
};
static struct shared *sh;

static void on_usr1(int sig)
{
    (void)sig;
    sh->hit++;
}

static void on_count(int sig)
{
    (void)sig;
    sh->counted++;
}

static void on_done(int sig)
{
    (void)sig;
    sh->at_done = sh->counted;
    sh->done = 1;
}

static void handle(int sig, void (*fn)(int), int also_block)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    if (also_block)
        sigaddset(&sa.sa_mask, also_block);
    sigaction(sig, &sa, NULL);
}

/* Spin in user code until the handler has run want times: no syscall. */
static void spin_until_hit(int want)
{
    while (sh->hit < want)
        ;
}

static void *spinner(void *arg)
{
    int want = (int)(long)arg;
    sh->tid = (int)sc(SYS_gettid);
    mask_signal(SIGUSR1, SIG_UNBLOCK);
    sh->ready = 1;
    spin_until_hit(want);
    return NULL;
}

/* SIGUSR1 to on_usr1, blocked in this thread: a thread started on fn
 * (which unblocks it) is the one that takes it. */
static pthread_t start_spinner(void *(*fn)(void *), void *arg)
{
    handle(SIGUSR1, on_usr1, 0);
    mask_signal(SIGUSR1, SIG_BLOCK);
    pthread_t th;
    pthread_create(&th, NULL, fn, arg);
    return th;
}

/* A thread of this process spins; the main thread, which blocks SIGUSR1,
 * signals it with tgkill, then with kill of the process (the spinner is
 * the only thread that takes it). */
static void test_other_thread(void)
{
    sh->hit = 0;
    sh->ready = 0;
    pthread_t th = start_spinner(spinner, (void *)2L);
    while (!sh->ready)
        sched_yield();
    check_ret(sc(SYS_tgkill, getpid(), sh->tid, SIGUSR1), 0, "tgkill(spinning thread, SIGUSR1)");
    while (sh->hit < 1)
        sched_yield();
    check(1, "the spinning thread ran its handler (tgkill)");
    check_ret(sc(SYS_kill, getpid(), SIGUSR1), 0, "kill(own process, SIGUSR1)");
    pthread_join(th, NULL);
    check(sh->hit == 2, "the spinning thread ran its handler (kill), and its loop ended: %d runs",
          sh->hit);
}

/* A child process spins in a thread (its main thread blocks SIGUSR1 and
 * waits for it); this process signals it with kill, then tgkill. */
static void test_other_process(void)
{
    sh->hit = 0;
    sh->ready = 0;
    pid_t c = fork_checked();
    if (c == 0) {
        pthread_join(start_spinner(spinner, (void *)2L), NULL);
        _exit(0);
    }
    while (!sh->ready)
        sched_yield();
    check_ret(sc(SYS_kill, c, SIGUSR1), 0, "kill(spinning process, SIGUSR1)");
    while (sh->hit < 1)
        sched_yield();
    check_ret(sc(SYS_tgkill, c, sh->tid, SIGUSR1), 0,
              "tgkill(spinning thread of a child, SIGUSR1)");
    check_wait(c, "exited 0", "the child's spinning thread ran both handlers and ended");
}

/* Rounds in which the spinner makes a syscall and then spins, while the
 * other thread sends one signal as soon as the round starts: the signal
 * lands in the syscall, on the way back from it, or in the loop, and
 * must end the loop each time. */
#define RACE_ROUNDS 300
static void *race_spinner(void *arg)
{
    (void)arg;
    mask_signal(SIGUSR1, SIG_UNBLOCK);
    sh->tid = (int)sc(SYS_gettid);
    for (int r = 0; r < RACE_ROUNDS; r++) {
        sh->phase = r + 1;
        sc(SYS_getppid);
        spin_until_hit(r + 1);
    }
    return NULL;
}

static void test_race(void)
{
    sh->hit = 0;
    sh->phase = 0;
    pthread_t th = start_spinner(race_spinner, NULL);
    int bad = 0;
    for (int r = 0; r < RACE_ROUNDS; r++) {
        /* Spin briefly (then give way: in the sandbox the spinner's
         * syscall needs a CPU too) until the round starts. */
        for (int i = 0; sh->phase < r + 1; i++)
            if (i > 1000)
                sched_yield();
        if (sc(SYS_tgkill, getpid(), sh->tid, SIGUSR1) != 0)
            bad++;
        while (sh->hit < r + 1)
            sched_yield();
    }
    pthread_join(th, NULL);
    check(bad == 0 && sh->hit == RACE_ROUNDS,
          "%d rounds of a signal sent as the spinner returns from a syscall: each handled",
          RACE_ROUNDS);
}

/* A sender process: n signals at the spinner by kill. Real-time ones
 * queue, each taking a place under the spinner's RLIMIT_SIGPENDING: the
 * sender keeps their number in flight well below it (past it Linux would
 * keep a real-time signal from kill pending without queueing it). */
#define RT_LIMIT 64
#define RT_WINDOW 16
static void sender(pid_t target, int sig, long n, int idx, int queued)
{
    pid_t c = fork();
    if (c != 0)
        return;
    long got = 0;
    while (got < n) {
        /* Queued: at most RT_WINDOW (plus one per sender) in flight. */
        while (queued && sh->sent[0] + sh->sent[1] - sh->counted >= RT_WINDOW)
            sched_yield();
        if (sc(SYS_kill, target, sig) != 0)
            _exit(2);
        got++;
        sh->sent[idx] = got;
    }
    _exit(0);
}

/* The storm: a spinning child, two senders of n signals each; then "done"
 * (a higher signal, which the counting handler blocks, so every counted
 * signal pending when it comes is taken first). */
static void storm(const char *what, int sig, int done_sig, long n, int queued)
{
    sh->counted = 0;
    sh->done = 0;
    sh->ready = 0;
    sh->at_done = -1;
    sh->pending_end = -1;
    sh->sent[0] = sh->sent[1] = 0;
    pid_t c = fork();
    if (c == 0) {
        if (queued) {
            struct rlimit rl = { RT_LIMIT, RT_LIMIT };
            setrlimit(RLIMIT_SIGPENDING, &rl);
        }
        handle(sig, on_count, done_sig);
        handle(done_sig, on_done, 0);
        mask_signal(sig, SIG_UNBLOCK);
        mask_signal(done_sig, SIG_UNBLOCK);
        sh->ready = 1;
        while (!sh->done)
            ;
        sigset_t p;
        sigpending(&p);
        sh->pending_end = sigismember(&p, sig) || sigismember(&p, done_sig);
        _exit(0);
    }
    while (!sh->ready)
        sched_yield();
    sender(c, sig, n, 0, queued);
    sender(c, sig, n, 1, queued);
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        int st = 0;
        long r = wait_raw(-1, &st, 0);
        if (r <= 0 || r == c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            ok = 0;
    }
    check(ok && sh->sent[0] == n && sh->sent[1] == n, "%s: two senders got %ld signals in each",
          what, n);
    sc(SYS_kill, c, done_sig);
    check_wait(c, "exited 0", "the spinner took \"done\" and ended");
    if (queued)
        check(sh->at_done == 2 * n, "%s: each queued signal handled exactly once before \"done\"",
              what);
    else
        check(sh->at_done >= 1 && sh->at_done <= 2 * n,
              "%s: handled between once and once per signal before \"done\"", what);
    check(sh->pending_end == 0, "%s: nothing left pending", what);
}

/* A spinning child without handlers: SIGKILL, SIGTERM end it. */
static void test_fatal(int sig)
{
    sh->ready = 0;
    pid_t c = fork();
    if (c == 0) {
        no_core();
        sh->ready = 1;
        for (;;)
            sh->hit++;
    }
    while (!sh->ready)
        sched_yield();
    char want[64], what[64];
    snprintf(want, sizeof want, "killed by %s", sig_name(sig));
    snprintf(what, sizeof what, "kill(spinning child, %s)", sig_name(sig));
    check_ret(sc(SYS_kill, c, sig), 0, what);
    check_wait(c, want, what);
}

static void *spin_forever(void *arg)
{
    (void)arg;
    for (;;)
        sh->counted++;
    return NULL;
}

/* A process whose two threads both spin: SIGSTOP stops the whole group
 * (each thread must stop, not only the one that took the signal), SIGCONT
 * lets it go on, SIGKILL ends it. */
static void test_stop(void)
{
    sh->ready = 0;
    pid_t c = fork();
    if (c == 0) {
        pthread_t th;
        pthread_create(&th, NULL, spin_forever, NULL);
        sh->ready = 1;
        for (;;)
            sh->hit++;
    }
    while (!sh->ready)
        sched_yield();
    check_ret(sc(SYS_kill, c, SIGSTOP), 0, "kill(process of two spinning threads, SIGSTOP)");
    int st = 0;
    check_eq(wait_raw(c, &st, WUNTRACED), c, "... it stops");
    check(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "... %s", status_name(st));
    check_ret(sc(SYS_kill, c, SIGCONT), 0, "kill(stopped process, SIGCONT)");
    check_eq(wait_raw(c, &st, WCONTINUED), c, "... it goes on");
    check(WIFCONTINUED(st), "... %s", status_name(st));
    check_ret(sc(SYS_kill, c, SIGKILL), 0, "kill(process of two spinning threads, SIGKILL)");
    check_wait(c, "killed by SIGKILL", "... it ends");
}

int main(void)
{
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    test_other_thread();
    test_other_process();
    test_race();
    storm("standard storm", SIGUSR1, SIGUSR2, 10000, 0);
    storm("real-time storm", SIGRTMIN, SIGRTMIN + 1, 1000, 1);
    test_fatal(SIGKILL);
    test_fatal(SIGTERM);
    test_stop();
    return finish();
}
