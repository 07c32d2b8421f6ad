#!/usr/bin/env bash
# rename_threads.sh: the hostfs rules under real concurrency. A guest with
# six threads (tests/e2e/rename_threads.c) renames directories of a bind
# mount back and forth while other threads create, open and walk paths
# through them with ".."; meanwhile this script moves a directory of the
# mount's host directory out of it (to OUTSIDE) and back, again and again.
# Checked on both platforms: the guest ends normally and no name it made
# (all start with "x-") exists anywhere outside the host directory HOST.
# Usage: tests/e2e/rename_threads.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init rename_threads beside "$@"
${MUSL_GCC:-musl-gcc} -static -O1 -Wall -Wextra -Werror -pthread -o "$tmp/guest" \
    "$src/rename_threads.c" || exit 2

for plat in systrap ptrace; do
    d=$tmp/$plat
    rm -rf "$d"
    mkdir -p "$d/HOST/d1/d2/d3" "$d/HOST/f1" "$d/OUTSIDE" || exit 2
    "$sb" --platform="$plat" --bind "$d/HOST:/b" -- "$tmp/guest" /b 3 >"$tmp/out" 2>"$tmp/err" \
        </dev/null &
    pid=$!
    # The host moves HOST/f1 out and back, and HOST/d1 when it is there.
    while kill -0 "$pid" 2>/dev/null; do
        mv "$d/HOST/f1" "$d/OUTSIDE/f1" 2>/dev/null && mv "$d/OUTSIDE/f1" "$d/HOST/f1" 2>/dev/null
        mv "$d/HOST/d1" "$d/OUTSIDE/d1" 2>/dev/null && mv "$d/OUTSIDE/d1" "$d/HOST/d1" 2>/dev/null
    done
    wait "$pid"
    st=$?
    [ -e "$d/OUTSIDE/d1" ] && mv "$d/OUTSIDE/d1" "$d/HOST/d1"
    # Names made inside a mount's host directory (any platform's) are fine.
    escaped=$(find "$tmp" -maxdepth 6 -name 'x-*' -not -path '*/HOST/*' 2>/dev/null | head -5)
    if [ "$st" -eq 0 ] && grep -qx done "$tmp/out" && [ -z "$escaped" ]; then
        ok "$plat: six threads renaming and walking, the host moving: nothing outside HOST"
    else
        fail "$plat: status $st, escaped: ${escaped:-none}"
        head -5 "$tmp/err"
    fi
done
[ $fails -eq 0 ]
