#!/usr/bin/env bash
# timerfd_cancel.sh: TFD_TIMER_CANCEL_ON_SET. A guest blocks in the read
# of an absolute CLOCK_REALTIME timerfd armed with it; the host's clock is
# then set (to the time it already reads, a jump of microseconds): the
# read gives ECANCELED, once, and a timer without the flag (or a relative
# one) goes on. Natively and on both platforms, compared. Setting the
# clock needs root: skipped (77) otherwise.
# Usage: tests/e2e/timerfd_cancel.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init timerfd_cancel beside "$@"
cd "$tmp" || exit 2
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
python3 -c 'import time; time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME))' \
    2>/dev/null || { echo "skip: setting the clock needs root"; exit 77; }

cat >c.c <<'EOF'
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
static int armed(int clock, int flags, int secs)
{
    int fd = timerfd_create(clock, TFD_CLOEXEC);
    struct itimerspec its = { { 0, 0 }, { secs, 0 } };
    if (flags & TFD_TIMER_ABSTIME)
        clock_gettime(clock, &its.it_value), its.it_value.tv_sec += secs;
    if (timerfd_settime(fd, flags, &its, NULL) < 0)
        printf("settime: %s\n", strerror(errno));
    return fd;
}
static const char *rd(int fd, int nonblock)
{
    if (nonblock) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 0) == 0)
            return "not readable";
    }
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v) ? "expired" : strerror(errno);
}
int main(void)
{
    int cancel = armed(CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, 60);
    int abs = armed(CLOCK_REALTIME, TFD_TIMER_ABSTIME, 60);
    int rel = armed(CLOCK_REALTIME, TFD_TIMER_CANCEL_ON_SET, 60); /* not absolute: no cancel */
    printf("armed\n");
    fflush(stdout);
    printf("cancel-on-set, blocking read: %s\n", rd(cancel, 0));
    printf("then: %s\n", rd(cancel, 1));
    printf("absolute without the flag: %s\n", rd(abs, 1));
    printf("relative with the flag: %s\n", rd(rel, 1));
    return 0;
}
EOF
${MUSL_GCC:-musl-gcc} -static -O1 -o c c.c || exit 2

# run OUT CMD...: CMD's stdout to OUT; the clock is set once it says armed.
run() {
    local out=$1
    shift
    python3 - "$out" "$@" <<'EOF'
import subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
first = p.stdout.readline()
time.sleep(0.5)  # into its read
time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME))
try:
    rest, _ = p.communicate(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
    rest, _ = p.communicate()
open(out, "wb").write(first + rest)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
EOF
}

run "$tmp/n.out" ./c
ns=$?
for plat in systrap ptrace; do
    run "$tmp/s.out" "$sb" --platform="$plat" -- ./c 2>"$tmp/s.err"
    compare_runs "$plat: TFD_TIMER_CANCEL_ON_SET and a set clock" "$ns" "$?"
done
exit "$fails"
