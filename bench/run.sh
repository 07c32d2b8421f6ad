#!/usr/bin/env bash
# run.sh: builds bench/getppid.c (musl static) and times it natively and
# under sandbox-run's systrap and ptrace platforms; best of 3 runs each.
# Usage: bench/run.sh SANDBOX_RUN
# Env: N_NATIVE, N_SYSTRAP (200000), N_PTRACE (20000), RUNS (3).
set -u

[ $# -eq 1 ] || { echo "usage: $0 SANDBOX_RUN" >&2; exit 2; }
sandbox=$1
src=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-3}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/getppid
${MUSL_GCC:-musl-gcc} -static -O2 -Wall -Wextra -Werror \
    "$src/getppid.c" -o "$bin" || exit 1

# Prints the best ns/call over $runs runs of "$@", or nothing on failure.
best() {
    local b= v
    for _ in $(seq "$runs"); do
        v=$("$@" </dev/null 2>/dev/null | awk '/ns\/call/ { print $4 }') ||
            return
        [ -n "$v" ] || return
        b=$(awk -v a="$v" -v b="$b" 'BEGIN { print (b == "" || a < b) ? a : b }')
    done
    echo "$b"
}

native=$(best "$bin" "${N_NATIVE:-200000}")
systrap=$(best "$sandbox" --platform=systrap -- "$bin" "${N_SYSTRAP:-200000}")
ptrace=$(best "$sandbox" --platform=ptrace -- "$bin" "${N_PTRACE:-20000}")

# "X.XX us" and, relative to native, "(Rx)"; n/a when a run failed.
us() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.2f us", v / 1000 }' || echo "n/a"; }
ratio() {
    [ -n "$1" ] && [ -n "$native" ] &&
        awk -v v="$1" -v n="$native" 'BEGIN { if (n > 0) printf " (%.1fx)", v / n }'
}
echo "getppid  native $(us "$native")  systrap $(us "$systrap")$(ratio "$systrap")  ptrace $(us "$ptrace")$(ratio "$ptrace")"
[ -n "$native" ] && [ -n "$systrap" ] && [ -n "$ptrace" ]
