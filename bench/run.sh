#!/usr/bin/env bash
# run.sh: the benchmark suite, native against sandbox-run in one invocation.
# 1. bench/getppid.c: a syscall round trip, natively and under the systrap
#    and ptrace platforms.
# 2. bench/fs.c: file-system operations (open+close, stat, 4 KiB pread,
#    4 KiB pwrite+fsync, getdents64 of a 1000-entry directory), natively and
#    under systrap, on hostfs (a scratch directory next to SANDBOX_RUN,
#    bind-mounted into the sandbox at the same path) and on tmpfs (natively
#    a directory in /dev/shm; sandboxed, the sandbox's own /tmp).
# 3. bench/proc.c: processes and threads (fork+exit+wait, posix_spawn of a
#    tiny static program + wait, thread create+join, a futex round trip
#    between two threads, a pipe round trip between two processes), and
#    the wall time of busybox sh running that tiny program 200 times,
#    natively and under both platforms. A row whose sandboxed run fails
#    (no fork in the sandbox yet) reads n/a and does not fail the suite.
# 4. bench/sig.c: signals and readiness (a signal to oneself through its
#    handler, a kill+sigwaitinfo round trip between two processes, a pipe
#    round trip through poll, epoll_wait over 100 descriptors with one
#    ready, an eventfd round trip between threads), and the CPU time the
#    whole sandbox uses while its guest sleeps 2 s, natively and under both
#    platforms; and the CPU it uses per second of its guest's wait (after
#    start-up) in nanosleep, in a read of an idle stdin pipe and in
#    epoll_wait on one.
# Each figure is the best of $RUNS runs; ratios are to native in this run.
# Usage: bench/run.sh SANDBOX_RUN
# Env: N_NATIVE, N_SYSTRAP (200000), N_PTRACE (20000), RUNS (3),
#      N_OPEN, N_STAT, N_READ (10000), N_WRITE (300), N_GETDENTS (200),
#      FS_TMPFS (the native tmpfs directory's parent, default /dev/shm),
#      N_FORK, N_SPAWN (500), N_THREAD (1000), N_FUTEX, N_PIPE (5000),
#      BUSYBOX (/bin/busybox), N_SIG (5000).
set -u

[ $# -eq 1 ] || { echo "usage: $0 SANDBOX_RUN" >&2; exit 2; }
sandbox=$1
src=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-3}

# Next to sandbox-run, not in /tmp: the guest finds its program in its own
# file system, where /tmp is its private tmpfs.
# (Under /tmp, which the guest sees as its own tmpfs, /var/tmp instead.)
here=$(dirname "$(realpath "$sandbox")")
case $here/ in /tmp/*) here=/var/tmp ;; esac
tmp=$(mktemp -d "$here/bench.XXXXXX") || exit 1
shm=
# The sandbox's own /tmp is private; a stand-in that runs natively would
# leave this behind in the host's /tmp, hence the unique name and cleanup.
sbx_tmp=/tmp/fs-bench.$$
hostdir=
trap 'rm -rf "$tmp" "$sbx_tmp" ${shm:+"$shm"} ${hostdir:+"$hostdir"}' EXIT
trap 'exit 129' HUP INT TERM PIPE # so that the EXIT trap cleans up
for b in getppid fs proc sig; do
    ${MUSL_GCC:-musl-gcc} -static -O2 -Wall -Wextra -Werror \
        "$src/$b.c" -o "$tmp/$b" || exit 1
done
printf 'int main(void) { return 0; }\n' >"$tmp/true.c"
${MUSL_GCC:-musl-gcc} -static -O2 "$tmp/true.c" -o "$tmp/true" || exit 1

# Prints the best value of the field before UNIT over $runs runs of
# "$@", or nothing on failure. Usage: best UNIT COMMAND...
best() {
    local unit=$1 b='' v
    shift
    for _ in $(seq "$runs"); do
        v=$("$@" </dev/null 2>/dev/null |
            awk -v u="$unit" '{ for (i = 2; i <= NF; i++) if ($i == u) print $(i - 1) }') ||
            return
        [ -n "$v" ] || return
        b=$(awk -v a="$v" -v b="$b" 'BEGIN { print (b == "" || a < b) ? a : b }')
    done
    echo "$b"
}

native=$(best ns/call "$tmp/getppid" "${N_NATIVE:-200000}")
systrap=$(best ns/call "$sandbox" --platform=systrap -- "$tmp/getppid" "${N_SYSTRAP:-200000}")
ptrace=$(best ns/call "$sandbox" --platform=ptrace -- "$tmp/getppid" "${N_PTRACE:-20000}")

# "X.XX us" and, relative to native, "(Rx)"; n/a when a run failed.
us() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.2f us", v / 1000 }' || echo "n/a"; }
ratio() {
    [ -n "$1" ] && [ -n "$native" ] &&
        awk -v v="$1" -v n="$native" 'BEGIN { if (n > 0) printf " (%.1fx)", v / n }'
}
echo "getppid  native $(us "$native")  systrap $(us "$systrap")$(ratio "$systrap")  ptrace $(us "$ptrace")$(ratio "$ptrace")"
ok=1
[ -n "$native" ] && [ -n "$systrap" ] && [ -n "$ptrace" ] || ok=0

# File-system operations. The hostfs directory is bound at its own path;
# the sandbox's tmpfs is its private /tmp, fresh in every run (fs.c sets up
# its files itself, outside the timed loop).
# hostfs: next to SANDBOX_RUN (the build directory), where the bind's mount
# point already exists in the guest's root, else in $tmp.
hostdir=$tmp/fs-hostfs
if [ -w "$here" ]; then
    hostdir=$(mktemp -d "$here/bench-fs.XXXXXX") || exit 1
    hostdir=$(cd "$hostdir" && pwd)
fi
mkdir -p "$hostdir"
shmparent=${FS_TMPFS:-/dev/shm}
if [ "$(stat -f -c %T "$shmparent" 2>/dev/null)" = tmpfs ]; then
    shm=$(mktemp -d "$shmparent/bench-fs.XXXXXX") || exit 1
fi

echo
echo "file system  (us/op, best of $runs; target: sandbox within 10x of native)"
printf '%-14s %-7s %10s %10s %10s\n' op fs native systrap ratio
fs_row() { # LABEL OP N
    local label=$1 op=$2 n=$3 fs nat sbx r
    for fs in hostfs tmpfs; do
        if [ "$fs" = hostfs ]; then
            nat=$(best us/op "$tmp/fs" "$hostdir" "$op" "$n")
            sbx=$(best us/op "$sandbox" --platform=systrap --bind "$hostdir:$hostdir" -- \
                "$tmp/fs" "$hostdir" "$op" "$n")
        else
            nat=
            [ -n "$shm" ] && nat=$(best us/op "$tmp/fs" "$shm" "$op" "$n")
            sbx=$(best us/op "$sandbox" --platform=systrap -- "$tmp/fs" "$sbx_tmp" "$op" "$n")
        fi
        r=n/a
        if [ -n "$nat" ] && [ -n "$sbx" ]; then
            r=$(awk -v s="$sbx" -v n="$nat" 'BEGIN {
                if (n > 0) printf "%.1fx%s", s / n, (s / n > 10 ? " over" : ""); else print "n/a" }')
        else
            ok=0
        fi
        printf '%-14s %-7s %10s %10s %10s\n' "$label" "$fs" "${nat:-n/a}" "${sbx:-n/a}" "$r"
    done
}
fs_row open+close open "${N_OPEN:-10000}"
fs_row stat stat "${N_STAT:-10000}"
fs_row read-4k read4k "${N_READ:-10000}"
fs_row write-4k+sync write4k "${N_WRITE:-300}"
fs_row getdents-1k getdents "${N_GETDENTS:-200}"
[ -n "$shm" ] || echo "(no native tmpfs: $shmparent is not a tmpfs; set FS_TMPFS)"

# Processes and threads. The sandboxed runs see $tmp (next to
# SANDBOX_RUN, or /var/tmp) through the default root.
echo
echo "processes and threads  (us/op, best of $runs; n/a: the sandboxed run failed)"
printf '%-18s %10s %10s %8s %10s %8s\n' op native systrap ratio ptrace ratio
rel() { # SANDBOXED NATIVE
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1fx", s / n; else print "n/a" }'
    else
        echo n/a
    fi
}
proc_row() { # LABEL OP N
    local label=$1 op=$2 n=$3 nat sys ptr
    nat=$(best us/op "$tmp/proc" "$op" "$n" "$tmp/true")
    sys=$(best us/op "$sandbox" --platform=systrap -- "$tmp/proc" "$op" "$n" "$tmp/true")
    ptr=$(best us/op "$sandbox" --platform=ptrace -- "$tmp/proc" "$op" "$n" "$tmp/true")
    printf '%-18s %10s %10s %8s %10s %8s\n' "$label" "${nat:-n/a}" "${sys:-n/a}" \
        "$(rel "$sys" "$nat")" "${ptr:-n/a}" "$(rel "$ptr" "$nat")"
}
proc_row fork+exit+wait fork "${N_FORK:-500}"
proc_row spawn+exec+wait spawn "${N_SPAWN:-500}"
proc_row thread+join thread "${N_THREAD:-1000}"
proc_row futex-pingpong futex "${N_FUTEX:-5000}"
proc_row pipe-pingpong pipe "${N_PIPE:-5000}"

# A shell script: busybox sh runs the tiny static program 200 times.
# Wall time of the whole invocation in ms (sandbox start-up included).
bb=${BUSYBOX:-/bin/busybox}
# Prints "X ms" (the command's wall time) if it succeeded.
wall_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" </dev/null >/dev/null 2>&1 || return
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000)) us"
}
script="i=0; while [ \$i -lt 200 ]; do $tmp/true; i=\$((i + 1)); done"
if [ -x "$bb" ]; then
    nat=$(best us wall_ms "$bb" sh -c "$script")
    sys=$(best us wall_ms "$sandbox" --platform=systrap -- "$bb" sh -c "$script")
    ptr=$(best us wall_ms "$sandbox" --platform=ptrace -- "$bb" sh -c "$script")
    ms() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.1f ms", v / 1000 }' || echo n/a; }
    printf '%-18s %10s %10s %8s %10s %8s\n' "sh: 200 commands" "$(ms "$nat")" "$(ms "$sys")" \
        "$(rel "$sys" "$nat")" "$(ms "$ptr")" "$(rel "$ptr" "$nat")"
else
    echo "(no $bb: the shell row is left out)"
fi

# Signals and readiness.
echo
echo "signals and readiness  (us/op, best of $runs; target: sandbox within 10x of native)"
printf '%-18s %10s %10s %8s %10s %8s\n' op native systrap ratio ptrace ratio
sig_row() { # LABEL OP N
    local label=$1 op=$2 n=$3 nat sys ptr
    nat=$(best us/op "$tmp/sig" "$op" "$n")
    sys=$(best us/op "$sandbox" --platform=systrap -- "$tmp/sig" "$op" "$n")
    ptr=$(best us/op "$sandbox" --platform=ptrace -- "$tmp/sig" "$op" "$((n / 5))")
    printf '%-18s %10s %10s %8s %10s %8s\n' "$label" "${nat:-n/a}" "${sys:-n/a}" \
        "$(rel "$sys" "$nat")" "${ptr:-n/a}" "$(rel "$ptr" "$nat")"
}
nsig=${N_SIG:-5000}
sig_row signal-to-self raise "$nsig"
sig_row kill+sigwaitinfo sigwait "$nsig"
sig_row pipe-via-poll pollpipe "$nsig"
sig_row epoll-100-1-ready epoll100 "$nsig"
sig_row eventfd-threads eventfd "$nsig"
# CPU (user + system, every process it waited for) of a 2 s sleep.
cpu_ms() {
    python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.1f ms" % ((r.ru_utime + r.ru_stime) * 1000))' "$@" 2>/dev/null
}
if command -v python3 >/dev/null; then
    nat=$(best ms cpu_ms "$tmp/sig" idle 2000)
    sys=$(best ms cpu_ms "$sandbox" --platform=systrap -- "$tmp/sig" idle 2000)
    ptr=$(best ms cpu_ms "$sandbox" --platform=ptrace -- "$tmp/sig" idle 2000)
    printf '%-18s %10s %10s %8s %10s %8s\n' "idle 2 s: CPU ms" "${nat:-n/a}" "${sys:-n/a}" "" \
        "${ptr:-n/a}" ""
fi
# CPU ms per second of waiting: every thread of the command and of the
# processes under it (the spawner, the stubs), from /proc's schedstat,
# over 1.5 s of its 2 s wait from the guest's "ready", with an idle
# pipe as its stdin.
idle_cpu() {
    PYTHONPATH="$src/../tests/e2e" python3 -c '
import os, subprocess, sys, time
from tree_cpu import tree_cpu_ns as cpu_ns
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
if p.stdout.readline() != b"ready\n":
    sys.exit(1)
c0, t0 = cpu_ns(p.pid), time.monotonic()
time.sleep(1.5)
c1, t1 = cpu_ns(p.pid), time.monotonic()
p.stdout.read()
if p.wait() != 0:
    sys.exit(1)
print("%.2f CPU-ms/s" % ((c1 - c0) / 1e6 / (t1 - t0)))' "$@" 2>/dev/null
}
if command -v python3 >/dev/null; then
    for w in sleep read epoll; do
        nat=$(best CPU-ms/s idle_cpu "$tmp/sig" "idle$w" 2000)
        sys=$(best CPU-ms/s idle_cpu "$sandbox" --platform=systrap -- "$tmp/sig" "idle$w" 2000)
        ptr=$(best CPU-ms/s idle_cpu "$sandbox" --platform=ptrace -- "$tmp/sig" "idle$w" 2000)
        printf '%-18s %10s %10s %8s %10s %8s\n' "idle $w: CPU ms/s" "${nat:-n/a}" "${sys:-n/a}" "" \
            "${ptr:-n/a}" ""
    done
fi

[ "$ok" -eq 1 ]
