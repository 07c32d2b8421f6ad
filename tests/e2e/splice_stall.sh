#!/usr/bin/env bash
# splice_stall.sh: a splice that waits for its source does not stall the
# other users of the pipe it fills. The guest's stdin is a host pipe that
# stays empty for 2 s; a child splices from it into a guest pipe, while
# the parent writes into that pipe and reads the byte back. On Linux a
# splice from a pipe waits for input before it locks the pipe it fills, so
# the parent is done at once; the sentry reads its host stdin as a file,
# and must not hold the guest pipe meanwhile either. The child's splice
# then takes the newline that arrives. Natively and on both platforms.
# Usage: tests/e2e/splice_stall.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init splice_stall beside "$@"
cd "$tmp" || exit 2

cat >stall.c <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(void)
{
    int p[2], go[2];
    if (pipe(p) || pipe(go))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char c = 'g';
        if (write(go[1], &c, 1) != 1)
            _exit(1);
        /* Blocks in the host read of stdin until the newline comes. */
        ssize_t n = splice(0, NULL, p[1], NULL, 4096, 0);
        _exit(n == 1 ? 0 : 2);
    }
    char c;
    if (read(go[0], &c, 1) != 1)
        return 1;
    usleep(200 * 1000); /* the child is in its splice by now */
    double t0 = now();
    if (write(p[1], "x", 1) != 1 || read(p[0], &c, 1) != 1 || c != 'x')
        return 1;
    double dt = now() - t0;
    printf("%s\n", dt < 1.0 ? "the pipe is free" : "the pipe waited for the splice");
    int st;
    waitpid(pid, &st, 0);
    printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "spliced the newline" : "failed");
    return 0;
}
EOF
${MUSL_GCC:-musl-gcc} -static -O1 stall.c -o stall || exit 2

for plat in native systrap ptrace; do
    if [ "$plat" = native ]; then
        out=$( (sleep 2; echo) | timeout 20 ./stall)
    else
        out=$( (sleep 2; echo) | timeout 20 "$sb" --platform="$plat" -- "$tmp/stall")
    fi
    if [ "$out" = "the pipe is free
child: spliced the newline" ]; then
        ok "$plat: a splice waiting for its source leaves the pipe free"
    else
        fail "$plat: got: $(echo "$out" | tr '\n' ';')"
    fi
done
echo "$fails failed"
[ "$fails" -eq 0 ]
