#!/usr/bin/env bash
# run-rootless.sh: runs every guest test (both platforms) once more as an
# unprivileged host user (uid and gid 65534, no supplementary groups), to show
# that sandbox-run needs no privilege. The build directory may sit where that
# user cannot reach (a checkout under /root), so sandbox-run, compare.sh and
# the guest binaries are copied to a fresh directory under /tmp first; the
# test list, arguments and expected statuses come from meson's own
# introspection, so nothing here repeats tests/guest/meson.build.
# Prints one line per test and "rootless: N passed, N failed".
# Usage: tools/run-rootless.sh BUILD_DIR   (as root)
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "run-rootless.sh: needs root to switch to an unprivileged user" >&2
    exit 2
fi

work=$(mktemp -d /tmp/rootless.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/guests"
cp "$build/sandbox-run" "$src/tests/guest/compare.sh" "$work/"
cp "$build"/tests/guest/* "$work/guests/" 2>/dev/null
chmod -R a+rX "$work"

# One line per guest test: EXPECT_STATUS, then the command (tab-separated).
tests=$(meson introspect --tests "$build" | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if not any(s.split(":")[-1] == "guest" for s in t["suite"]):
        continue
    cmd = t["cmd"]
    if os.path.basename(cmd[0]) != "compare.sh":
        continue  # a test that switches user itself (setpriv) is rootless already
    status = t.get("env", {}).get("EXPECT_STATUS", "0")
    print("\t".join([t["name"], status, os.path.basename(cmd[2]), cmd[3]] + cmd[4:]))
') || { echo "run-rootless.sh: cannot list the guest tests" >&2; exit 2; }

passed=0 failed=0
while IFS=$'\t' read -r name status plat guest args; do
    # shellcheck disable=SC2086 # args are the test's own, tab-free words
    out=$(cd "$work" && EXPECT_STATUS=$status setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$work/compare.sh" "$work/sandbox-run" "$plat" "$work/guests/$(basename "$guest")" ${args:+$args} 2>&1)
    if [ $? -eq 0 ]; then
        passed=$((passed + 1))
        echo "rootless $name OK"
    else
        failed=$((failed + 1))
        echo "rootless $name FAIL"
        printf '%s\n' "$out" | head -40
    fi
done <<<"$tests"
echo "rootless: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
