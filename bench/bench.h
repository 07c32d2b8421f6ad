/* bench.h: what the microbenchmarks share: giving up with errno's message
 * and the monotonic clock. Each includes it after defining BENCH_NAME, the
 * prefix of its messages. */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#endif
