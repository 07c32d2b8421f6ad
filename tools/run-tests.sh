#!/usr/bin/env bash
# run-tests.sh: builds sandbox-run and runs the whole test suite: unit tests,
# guest tests on both platforms, command-line tests, then the same again in
# a sanitizer build (ASan + UBSan); the guest tests run once more as an
# unprivileged user (tools/run-rootless.sh), and the unit and guest tests in
# a ThreadSanitizer build (tools/run-tsan.sh). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
failures= # the names of the tests that failed, repeated before the total
# What each failure printed, repeated (shortened) before the total too: CI
# keeps only the tail of this script's output.
details=$(mktemp) || exit 1
trap 'rm -f "$details"' EXIT
# After a meson test run that failed: its summary, the names and states of
# the failed tests (added to $failures as LABEL:NAME(STATE)), and the
# first lines of what they printed (also kept in $details).
# Usage: report_meson_failures LABEL OUTPUT_FILE CONTEXT_PATTERN LINES
report_meson_failures() {
    sed -n '/Summary of Failures/,$p' "$2"
    failures+=$(grep -aE '^ *[0-9]+/[0-9]+ ' "$2" | grep -avE ' (OK|SKIP) ' | sort -u |
        awk -v d="$1" '{ printf " %s:%s(%s)", d, $4, $5 }')
    grep -a -B2 -A"$4" -E "$3" "$2" | head -300 | tee -a "$details"
}
run_suite() { # BUILD_DIR [meson setup options...]
    local dir=$1
    shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi || { failed=$((failed + 1)); return; }
    ninja -C "$dir" >/dev/null || { failed=$((failed + 1)); return; }
    meson test -C "$dir" --print-errorlogs --num-processes 2 >"$dir/test-output.txt" 2>&1
    grep -E '^ *[0-9]+/[0-9]+ ' "$dir/test-output.txt"
    local ok fail
    ok=$(awk '/^Ok:/ { print $2 }' "$dir/test-output.txt")
    fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ { s += $NF } END { print s + 0 }' "$dir/test-output.txt")
    if [ -z "$ok" ]; then
        sed -n '1,60p' "$dir/test-output.txt"
        failed=$((failed + 1))
        return
    fi
    [ "$fail" -eq 0 ] || report_meson_failures "$dir" "$dir/test-output.txt" '^=== ' 40
    passed=$((passed + ok))
    failed=$((failed + fail))
}

echo "== build/ (release)"
run_suite build
echo "== rootless: the guest tests again as an unprivileged user (uid 65534)"
if [ "$(id -u)" -eq 0 ]; then
    tools/run-rootless.sh build >build/rootless-output.txt 2>&1
    grep -a -E 'FAIL' -A40 build/rootless-output.txt | head -200 | tee -a "$details"
    tail -n 1 build/rootless-output.txt
    failures+=$(awk '/^rootless .* FAIL$/ { printf " rootless:%s", $2 }' build/rootless-output.txt)
    rp=$(awk '/^rootless: / { print $2 }' build/rootless-output.txt)
    rf=$(awk '/^rootless: / { print $4 }' build/rootless-output.txt)
    passed=$((passed + ${rp:-0}))
    failed=$((failed + ${rf:-1}))
else
    echo "skipped: already unprivileged (the runs above were rootless)"
fi
echo "== build-sanitize/ (address,undefined)"
# A UBSan report ends the process, so a guest test sees it as a changed exit
# status (compare.sh does not read stderr); the fuzz suite reads stderr too.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
unset UBSAN_OPTIONS
echo "== build-tsan/ (thread): the unit and guest tests"
# Several guest tasks run at once: a data race or lock-order inversion in
# the sentry fails the test that shows it (tools/tsan.supp: the one kind of
# report about memory shared with the stub).
tools/run-tsan.sh >build/tsan-output.txt 2>&1
grep -E '^ *[0-9]+/[0-9]+ ' build/tsan-output.txt | grep -vE ' (OK|SKIP) ' | head -40
tp=$(awk '/^Ok:/ { print $2 }' build/tsan-output.txt)
tf=$(awk '/^(Fail|Timeout|Unexpected Pass):/ { s += $NF } END { print s + 0 }' build/tsan-output.txt)
[ "$tf" -eq 0 ] ||
    report_meson_failures build-tsan build/tsan-output.txt '^(=== |WARNING: ThreadSanitizer|==[0-9]+==)' 60
[ -n "$tp" ] || { sed -n '1,40p' build/tsan-output.txt; tf=$((tf + 1)); }
passed=$((passed + ${tp:-0}))
failed=$((failed + tf))

if [ -n "$failures" ]; then
    echo "== the failures again (their first lines)"
    grep -av '^ *$' "$details" | cut -c1-160 | head -n 80
    echo "failed:$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
