#!/usr/bin/env bash
# run-all.sh: runs every guest test built by build.sh through compare.sh,
# with each test's arguments and expected exit status; one line per test.
# Usage: tests/guest/run-all.sh SANDBOX_RUN PLATFORM OUTDIR
set -u

[ $# -eq 3 ] || { echo "usage: $0 SANDBOX_RUN PLATFORM OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
sandbox=$1 platform=$2 dir=$3

# name  expected-status  [args...]
tests=(
    "hello 3"
    "hello.glibc 3"
    "hello.pie.glibc 3"
    "hello.pie.musl 3"
    "ids 0"
    "args 4"
    "mem 0"
    "fault 139"
    "fault_ro 139"
    "rwx 0"
    "badptr 0"
    "sigmask 0"
    "misc 0"
    "misc.glibc 0"
    "auxv 0"
    "regs 0"
)

failed=0
for t in "${tests[@]}"; do
    read -r name status <<<"$t"
    args=()
    [ "$name" = args ] && args=(a "b c" "")
    if EXPECT_STATUS=$status "$here/compare.sh" "$sandbox" "$platform" \
        "$dir/$name" "${args[@]}"; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
done
echo "# ${#tests[@]} tests, $failed failed (--platform=$platform)"
[ $failed -eq 0 ]
