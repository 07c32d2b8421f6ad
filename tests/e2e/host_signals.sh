#!/usr/bin/env bash
# host_signals.sh: signals sent to sandbox-run from the host. Each goes to
# the sandbox's pid 1: one it handles runs its handler (SIGTERM, SIGUSR1,
# SIGHUP, SIGWINCH), one it leaves at the default ends sandbox-run as it
# would end the program (status 128+N); compared with the program run
# natively and sent the same signal. A second SIGTERM within 3 s ends the
# sandbox even when pid 1 handles it (sandbox only). Both platforms. A
# signal sandbox-run was started with ignored stays ignored (nohup), so
# every run starts with all signals at their defaults.
# Usage: tests/e2e/host_signals.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init host_signals beside "$@"
cd "$tmp" || exit 2

cat >h.c <<'EOF'
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on(int s) { got = s; }
/* h [SIG...]: handles the signals named by number, says it is ready,
 * waits for one and prints it; "stay" as the first argument: never exits. */
int main(int argc, char **argv)
{
    int stay = argc > 1 && strcmp(argv[1], "stay") == 0;
    for (int i = 1 + stay; i < argc; i++)
        signal(atoi(argv[i]), on);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        while (!got)
            pause();
        printf("got %d\n", (int)got);
        fflush(stdout);
        if (!stay)
            return 0;
        got = 0;
    }
}
EOF
sed -i 's/#include <unistd.h>/#include <stdlib.h>\n#include <unistd.h>/' h.c
${MUSL_GCC:-musl-gcc} -static -O1 h.c -o h || exit 2

# run OUT COMMAND...: starts it, waits for "ready", sends $SIG, waits
# (stderr to OUT with .out made .err).
run() {
    local out=$1 pid st
    shift
    # Every signal at its default, as a terminal's foreground job has them
    # (a script's background job inherits SIGINT and SIGQUIT ignored).
    env --default-signal "$@" >"$out" 2>"${out%.out}.err" </dev/null &
    pid=$!
    for _ in $(seq 600); do grep -q ready "$out" 2>/dev/null && break; sleep 0.05; done
    kill -s "$SIG" "$pid"
    wait "$pid"
    st=$?
    return $st
}

# case LABEL SIG HANDLED...
t() {
    local label=$1 ns ss plat
    SIG=$2
    shift 2
    run "$tmp/n.out" ./h "$@"
    ns=$?
    for plat in systrap ptrace; do
        run "$tmp/s.out" "$sb" --platform="$plat" -- "$tmp/h" "$@"
        ss=$?
        compare_runs "$plat: $label" "$ns" "$ss"
    done
}
t "SIGTERM handled by pid 1" TERM 15
t "SIGTERM at its default ends it" TERM
t "SIGUSR1 handled" USR1 10
t "SIGHUP handled" HUP 1
t "SIGHUP at its default" HUP
t "SIGWINCH handled" WINCH 28
t "SIGQUIT handled" QUIT 3

# A second SIGTERM within 3 s ends the sandbox whatever pid 1 does.
for plat in systrap ptrace; do
    env --default-signal "$sb" --platform="$plat" -- "$tmp/h" stay 15 >"$tmp/s.out" 2>/dev/null \
        </dev/null &
    pid=$!
    for _ in $(seq 600); do grep -q ready "$tmp/s.out" 2>/dev/null && break; sleep 0.05; done
    kill -TERM "$pid"
    for _ in $(seq 200); do grep -q "got 15" "$tmp/s.out" 2>/dev/null && break; sleep 0.05; done
    kill -TERM "$pid"
    wait "$pid"
    st=$?
    if [ "$st" = 143 ] && grep -q "got 15" "$tmp/s.out"; then
        ok "$plat: a second SIGTERM ends the sandbox (status 143)"
    else
        fail "$plat: a second SIGTERM: status $st, output $(tr '\n' ' ' <"$tmp/s.out")"
    fi
done
echo "$fails failed"
[ "$fails" -eq 0 ]
