/* bench.h: what the microbenchmarks share: giving up with errno's message,
 * the monotonic clock, the iteration count and the result line, and a
 * timed pipe round trip between two processes. Each includes it after
 * defining BENCH_NAME, the prefix of its messages. */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", BENCH_NAME, what, strerror(errno));
    exit(1);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* vDSO: not itself a syscall */
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* The operation, argv[1]; without it, the usage line ("usage: PROGRAM
 * ARGS") and status 2. */
__attribute__((unused)) static const char *op_arg(int argc, char **argv, const char *args)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s %s\n", argv[0], args);
        exit(2);
    }
    return argv[1];
}

/* The iteration count: argv[i], or def without it. One below 1 ends the
 * program (status 2). */
static long count_arg(int argc, char **argv, int i, long def)
{
    long n = argc > i ? strtol(argv[i], NULL, 10) : def;
    if (n <= 0) {
        fprintf(stderr, "%s: bad iteration count\n", BENCH_NAME);
        exit(2);
    }
    return n;
}

/* The untimed rounds before n timed ones (the first calls fault in code
 * and fill caches): a tenth of n, at least least. */
static long warm_of(long n, long least)
{
    return n / 10 < least ? least : n / 10;
}

/* The result: "OP N ops X.XXX us/op" for n operations from t0 to t1. */
static void report(const char *op, long n, double t0, double t1)
{
    printf("%s %ld ops %.3f us/op\n", op, n, (t1 - t0) / n);
}

/* A byte's round trip between two processes over two pipes, warm times
 * untimed, then n times between *t0 and *t1: a forked child sends back
 * each byte it reads. With use_poll both sides wait in poll before each
 * read. Returns the child, which exits (0) once its pipe is closed here: the
 * caller reaps it. */
__attribute__((unused)) static pid_t pipe_round_trips(long warm, long n, int use_poll, double *t0,
                                                      double *t1)
{
    int down[2], up[2];
    if (pipe(down) || pipe(up))
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    char c = 'x';
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        struct pollfd p = { down[0], POLLIN, 0 };
        while ((!use_poll || poll(&p, 1, -1) == 1) && read(down[0], &c, 1) == 1)
            if (write(up[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    struct pollfd p = { up[0], POLLIN, 0 };
    for (long i = -warm; i < n; i++) {
        if (i == 0)
            *t0 = now_us();
        if (write(down[1], &c, 1) != 1 || (use_poll && poll(&p, 1, -1) != 1) ||
            read(up[0], &c, 1) != 1)
            die(use_poll ? "poll round trip" : "pipe round trip");
    }
    *t1 = now_us();
    close(down[1]);
    return pid;
}

#endif
