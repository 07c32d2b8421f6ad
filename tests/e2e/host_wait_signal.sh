#!/usr/bin/env bash
# host_wait_signal.sh: a signal ends a guest's read of a host stream that
# waits for input (the sentry waits in a host call then, not in one of its
# own sleeps). The guest's stdin is a FIFO that has a writer but never
# gets data, so only a signal can end the read: a child process sends
# SIGALRM, whose handler has SA_RESTART (the read goes on waiting), then
# SIGUSR1, whose handler has not (the read fails with EINTR). Natively and
# on both platforms.
# Usage: tests/e2e/host_wait_signal.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init host_wait_signal beside "$@"
cd "$tmp" || exit 2

cat >hw.c <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile sig_atomic_t alrm, usr1;
static void on_alrm(int s) { (void)s; alrm++; }
static void on_usr1(int s) { (void)s; usr1++; }
int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alrm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        usleep(300 * 1000);
        kill(parent, SIGALRM);
        usleep(300 * 1000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    char b;
    ssize_t n = read(0, &b, 1);
    int e = errno;
    waitpid(c, NULL, 0);
    printf("read: %s, SIGALRM handled %d, SIGUSR1 handled %d\n",
           n < 0 ? strerror(e) : "data", (int)alrm, (int)usr1);
    return 0;
}
EOF
${MUSL_GCC:-musl-gcc} -static -O1 hw.c -o hw || exit 2
mkfifo fifo || exit 2
exec 4<>fifo # a writer that never writes
want="read: Interrupted system call, SIGALRM handled 1, SIGUSR1 handled 1"

for plat in native systrap ptrace; do
    if [ "$plat" = native ]; then
        out=$(timeout 20 ./hw <fifo)
    else
        out=$(timeout 20 "$sb" --platform="$plat" -- "$tmp/hw" <fifo)
    fi
    if [ "$out" = "$want" ]; then
        ok "$plat: a restarting handler leaves the host read waiting, another ends it (EINTR)"
    else
        fail "$plat: got: $out"
    fi
done
exec 4>&-
echo "$fails failed"
[ "$fails" -eq 0 ]
