#!/usr/bin/env bash
# compare.sh: runs one guest natively and under the sandbox, in the same
# scratch directory with the same argv, and requires identical stdout and
# exit status (signal death counts as 128+N). Silent on success.
# Usage: tests/guest/compare.sh SANDBOX_RUN PLATFORM GUEST_BINARY [ARGS...]
# Env: EXPECT_STATUS, if set, is the status both runs must also have.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 SANDBOX_RUN PLATFORM GUEST_BINARY [ARGS...]" >&2
    exit 2
fi

# Absolute paths: we cd away, and argv[0]/AT_EXECFN must match across runs.
abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    */*) printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")" ;;
    *) command -v "$1" ;; # a bare name is looked up like the shell would
    esac
}
sandbox=$(abspath "$1") || { echo "compare.sh: no $1" >&2; exit 2; }
platform=$2
guest=$(abspath "$3") || { echo "compare.sh: no $3" >&2; exit 2; }
shift 3
# Otherwise both runs could fail alike with 126/127 and "match".
for f in "$sandbox" "$guest"; do
    [ -f "$f" ] && [ -x "$f" ] || { echo "compare.sh: $f is not executable" >&2; exit 2; }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/guest-compare.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 2
ulimit -c 0 # a crashing guest should not leave cores around

# The outer 2>/dev/null only hides bash's "Segmentation fault" notices.
{ env -u SANDBOX_RUN_GUEST timeout 60 "$guest" "$@" \
    </dev/null >native.out 2>native.err; } 2>/dev/null
native=$?
# The sandbox's root is read-only and its /tmp private: the scratch
# directory is bound in read-write at the same path, so both runs work in
# it, and the guest's own directory read-only, so that it can see its
# executable (/proc/self/exe, realpath(argv[0])) wherever the build is.
# The guest is uid 0 unless told otherwise: as an unprivileged user it gets
# that user's ids, so that both runs are the same user.
user=()
[ "$(id -u)" -eq 0 ] || user=(--user "$(id -u):$(id -g)")
{ SANDBOX_RUN_GUEST=1 timeout 60 "$sandbox" --platform="$platform" "${user[@]}" \
    --bind "$scratch:$scratch" --bind "$(dirname "$guest"):$(dirname "$guest"):ro" -- \
    "$guest" "$@" </dev/null >sandbox.out 2>sandbox.err; } 2>/dev/null
sandboxed=$?

bad=
cmp -s native.out sandbox.out || bad="stdout differs"
[ "$native" -eq "$sandboxed" ] || bad="${bad:+$bad, }status differs"
if [ -n "${EXPECT_STATUS:-}" ] &&
    { [ "$native" -ne "$EXPECT_STATUS" ] || [ "$sandboxed" -ne "$EXPECT_STATUS" ]; }; then
    bad="${bad:+$bad, }expected status $EXPECT_STATUS"
fi
[ -z "$bad" ] && exit 0

name=$(basename "$guest")
echo "=== $name (--platform=$platform): $bad"
echo "status: native $native, sandboxed $sandboxed"
diff -u --label "native/$name" --label "sandboxed/$name" native.out sandbox.out
if [ -n "${EXPECT_STATUS:-}" ] && [ "$native" -ne "$EXPECT_STATUS" ]; then
    echo "--- native stderr (first 40 lines):"
    head -n 40 native.err | sed '$a\'
fi
echo "--- sandboxed stderr (first 40 lines):"
head -n 40 sandbox.err | sed '$a\'
exit 1
