#!/usr/bin/env bash
# check-format.sh: every C file is as .clang-format says (4 spaces, 100
# columns, the project's one style). Skipped (77) without clang-format.
# Run tools/check-format.sh --fix to apply it.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null || { echo "clang-format not found: skipped"; exit 77; }
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests bench examples -name '*.[ch]')
if [ "${1:-}" = --fix ]; then
    clang-format -i "${files[@]}"
    exit
fi
bad=0
for f in "${files[@]}"; do
    if ! clang-format "$f" | cmp -s - "$f"; then
        echo "not formatted: $f (tools/check-format.sh --fix)"
        bad=1
    fi
done
exit $bad
