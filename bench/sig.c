/* sig.c: signal and readiness microbenchmarks. Times N iterations of one
 * operation with CLOCK_MONOTONIC and prints microseconds per operation:
 *   raise     a signal to oneself: kill, the handler, rt_sigreturn
 *   sigwait   a round trip between two processes: kill, then the other
 *             takes it with sigwaitinfo and answers the same way
 *   pollpipe  a pipe round trip between two processes, each waiting in
 *             poll before it reads
 *   epoll100  epoll_wait over 100 eventfds, one of them readable
 *   eventfd   a round trip between two threads over two eventfds
 *   idle      no loop: sleeps N milliseconds (the caller measures the CPU
 *             the sandbox used meanwhile)
 *   idlesleep, idleread, idleepoll
 *             no loop: says "ready" on stdout, then waits N milliseconds
 *             in nanosleep, in a read of stdin (ended by an alarm), or in
 *             epoll_wait on stdin (the caller gives an idle pipe as stdin
 *             and samples the sandbox's CPU after "ready")
 * Usage: sig OP [N]  (prints "OP N ops X.XXX us/op") */
#define _GNU_SOURCE
#define BENCH_NAME "sig"
#include "bench.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long g_caught;
static void on_usr1(int sig)
{
    (void)sig;
    g_caught++;
}

static void on_alrm(int sig)
{
    (void)sig;
}

static int ev[2];
static long g_rounds;

static void *echo_thread(void *arg)
{
    (void)arg;
    uint64_t v;
    for (long i = 0; i < g_rounds; i++)
        if (read(ev[0], &v, 8) != 8 || write(ev[1], &v, 8) != 8)
            die("eventfd echo");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *op =
        op_arg(argc, argv,
               "raise|sigwait|pollpipe|epoll100|eventfd|idle|idlesleep|idleread|idleepoll [N]");
    long n = count_arg(argc, argv, 2, 1000);
    long warm = warm_of(n, 5);
    double t0 = 0;
    if (strcmp(op, "raise") == 0) {
        signal(SIGUSR1, on_usr1);
        pid_t me = getpid();
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            kill(me, SIGUSR1);
        }
        if (g_caught != n + warm)
            die("raise: a signal lost");
    } else if (strcmp(op, "sigwait") == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, 0);
        pid_t parent = getpid(), pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            for (;;) {
                if (sigwaitinfo(&s, 0) != SIGUSR1)
                    _exit(1);
                kill(parent, SIGUSR1);
            }
        }
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            kill(pid, SIGUSR1);
            if (sigwaitinfo(&s, 0) != SIGUSR1)
                die("sigwaitinfo");
        }
        double t1 = now_us();
        kill(pid, SIGKILL);
        waitpid(pid, 0, 0);
        report(op, n, t0, t1);
        return 0;
    } else if (strcmp(op, "pollpipe") == 0) {
        double t1;
        pid_t pid = pipe_round_trips(warm, n, 1, &t0, &t1);
        waitpid(pid, 0, 0);
        report(op, n, t0, t1);
        return 0;
    } else if (strcmp(op, "epoll100") == 0) {
        int ep = epoll_create1(0);
        for (int i = 0; i < 100; i++) {
            int fd = eventfd(i == 57, 0);
            struct epoll_event e = { EPOLLIN, { .u32 = (uint32_t)i } };
            if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e))
                die("epoll set");
        }
        struct epoll_event out[8];
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            if (epoll_wait(ep, out, 8, -1) != 1 || out[0].data.u32 != 57)
                die("epoll_wait");
        }
    } else if (strcmp(op, "eventfd") == 0) {
        ev[0] = eventfd(0, 0);
        ev[1] = eventfd(0, 0);
        g_rounds = n + warm;
        pthread_t t;
        if (pthread_create(&t, 0, echo_thread, 0))
            die("pthread_create");
        uint64_t v = 1;
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            if (write(ev[0], &v, 8) != 8 || read(ev[1], &v, 8) != 8)
                die("eventfd round trip");
        }
        double t1 = now_us();
        pthread_join(t, 0);
        report(op, n, t0, t1);
        return 0;
    } else if (strcmp(op, "idle") == 0) {
        struct timespec d = { n / 1000, (n % 1000) * 1000000 };
        nanosleep(&d, 0);
        printf("%s %ld ms slept\n", op, n);
        return 0;
    } else if (strcmp(op, "idlesleep") == 0 || strcmp(op, "idleread") == 0 ||
               strcmp(op, "idleepoll") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alrm; /* no SA_RESTART: the alarm ends the read */
        sigaction(SIGALRM, &sa, 0);
        int ep = epoll_create1(0);
        struct epoll_event e = { .events = EPOLLIN };
        if (ep < 0 || (op[4] == 'e' && epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e) < 0))
            die("epoll on stdin");
        if (write(1, "ready\n", 6) != 6)
            die("write");
        struct timespec d = { n / 1000, (n % 1000) * 1000000 };
        struct itimerval it = { { 0, 0 }, { n / 1000, (n % 1000) * 1000 } };
        char c;
        if (op[4] == 's')
            nanosleep(&d, 0);
        else if (op[4] == 'r' && (setitimer(ITIMER_REAL, &it, 0) < 0 || read(0, &c, 1) != -1))
            die("idleread: stdin is not an idle pipe");
        else if (op[4] == 'e' && epoll_wait(ep, &e, 1, (int)n) != 0)
            die("idleepoll: stdin is not an idle pipe");
        printf("%s %ld ms waited\n", op, n);
        return 0;
    } else {
        fprintf(stderr, "sig: unknown op '%s'\n", op);
        return 2;
    }
    double t1 = now_us();
    report(op, n, t0, t1);
    return 0;
}
