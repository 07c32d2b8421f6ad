#!/usr/bin/env bash
# run-tsan.sh: the sentry built with ThreadSanitizer (build-tsan/), its unit
# tests and the guest tests on both platforms; a data race or lock-order
# report fails the test that shows it. tools/tsan.supp lists the one kind
# of report that is not a sentry race (memory shared with the stub).
# Usage: tools/run-tsan.sh [meson test arguments, e.g. a test name]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=build-tsan
if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null
else
    meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null
fi || exit 1
ninja -C "$dir" >/dev/null || exit 1
export TSAN_OPTIONS="suppressions=$PWD/tools/tsan.supp halt_on_error=1 exitcode=66 second_deadlock_stack=1"
meson test -C "$dir" --num-processes 2 --timeout-multiplier 3 --print-errorlogs \
    --suite unit --suite guest "$@"
