/* getppid.c: syscall round-trip microbenchmark: N getppid calls through
 * syscall() (never cached by libc), reported as nanoseconds per call. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* vDSO: not itself a syscall */
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [ITERATIONS]\n", argv[0]);
        return 2;
    }
    /* Warm up: first calls may fault in code or patch call sites. */
    for (int i = 0; i < 100; i++)
        syscall(SYS_getppid);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    double t1 = now_ns();
    printf("getppid %ld calls %.2f ns/call\n", n, (t1 - t0) / n);
    return 0;
}
