/* proc.c: process and thread microbenchmarks. Times N iterations of one
 * operation with CLOCK_MONOTONIC and prints microseconds per operation:
 *   fork     fork, the child _exits at once, waitpid
 *   spawn    posix_spawn of PROGRAM (a tiny static program), waitpid
 *   thread   pthread_create of a thread that returns at once, pthread_join
 *   futex    one round trip between two threads through futex wait/wake
 *   pipe     one round trip of a byte between two processes over two pipes
 * Usage: proc OP [N] [PROGRAM]  (prints "OP N ops X.XXX us/op") */
#define _GNU_SOURCE
#define BENCH_NAME "proc"
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "proc: child %d did not exit 0\n", (int)pid);
        exit(1);
    }
}

static void *nothing(void *arg)
{
    return arg;
}

/* Futex ping-pong: the word says whose turn it is (0 main, 1 partner). */
static int turn;
static long rounds;

static void futex_wait(int *w, int v)
{
    syscall(SYS_futex, w, 128 /* FUTEX_WAIT_PRIVATE */, v, NULL, NULL, 0);
}

static void futex_wake(int *w)
{
    syscall(SYS_futex, w, 129 /* FUTEX_WAKE_PRIVATE */, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 1)
            futex_wait(&turn, 0);
        __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
        futex_wake(&turn);
    }
    return NULL;
}

static void ping(void)
{
    __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
    futex_wake(&turn);
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0)
        futex_wait(&turn, 1);
}

int main(int argc, char **argv)
{
    const char *op = op_arg(argc, argv, "fork|spawn|thread|futex|pipe [N] [PROGRAM]");
    long n = count_arg(argc, argv, 2, 1000);
    const char *prog = argc > 3 ? argv[3] : NULL;
    long warm = warm_of(n, 5);
    double t0 = 0, t1;

    if (strcmp(op, "fork") == 0) {
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            pid_t pid = fork();
            if (pid < 0)
                die("fork");
            if (pid == 0)
                _exit(0);
            reap(pid);
        }
    } else if (strcmp(op, "spawn") == 0) {
        if (!prog) {
            fprintf(stderr, "proc: spawn needs a PROGRAM\n");
            return 2;
        }
        char *args[] = { (char *)prog, NULL };
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            pid_t pid;
            int e = posix_spawn(&pid, prog, NULL, NULL, args, environ);
            if (e) {
                errno = e;
                die("posix_spawn");
            }
            reap(pid);
        }
    } else if (strcmp(op, "thread") == 0) {
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            pthread_t t;
            int e = pthread_create(&t, NULL, nothing, NULL);
            if (e) {
                errno = e;
                die("pthread_create");
            }
            pthread_join(t, NULL);
        }
    } else if (strcmp(op, "futex") == 0) {
        rounds = n + warm;
        pthread_t t;
        int e = pthread_create(&t, NULL, partner, NULL);
        if (e) {
            errno = e;
            die("pthread_create");
        }
        for (long i = -warm; i < n; i++) {
            if (i == 0)
                t0 = now_us();
            ping();
        }
        t1 = now_us();
        pthread_join(t, NULL);
        report(op, n, t0, t1);
        return 0;
    } else if (strcmp(op, "pipe") == 0) {
        pid_t pid = pipe_round_trips(warm, n, 0, &t0, &t1);
        reap(pid);
        report(op, n, t0, t1);
        return 0;
    } else {
        fprintf(stderr, "proc: unknown op '%s'\n", op);
        return 2;
    }
    t1 = now_us();
    report(op, n, t0, t1);
    return 0;
}
