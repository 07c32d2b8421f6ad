# lib.sh: the start the e2e scripts share; sourced after `set -u`.

# e2e_init NAME WHERE ARGS...: ARGS must be SANDBOX_RUN alone. Sets sb (its
# real path), src (this folder), fails (0) and tmp, a new directory
# NAME.XXXXXX (its real path: the guest sees no symlink on the way),
# removed when the script exits, on a signal too. WHERE "tmp" puts it in
# TMPDIR; "beside" in E2E_SCRATCH, by default next to SANDBOX_RUN, or in
# /var/tmp when that is under /tmp, which the guest sees as its own tmpfs.
e2e_init() {
    local name=$1 where=$2
    shift 2
    [ $# -eq 1 ] || { echo "usage: $0 SANDBOX_RUN" >&2; exit 2; }
    sb=$(realpath "$1") || exit 2
    src=$(cd "$(dirname "$0")" && pwd)
    fails=0
    local parent=${TMPDIR:-/tmp}
    if [ "$where" = beside ]; then
        parent=${E2E_SCRATCH:-$(dirname "$sb")}
        # A checkout under /tmp is not visible to the guest: use /var/tmp.
        case $parent/ in /tmp/*) [ -z "${E2E_SCRATCH:-}" ] && parent=/var/tmp ;; esac
    fi
    tmp=$(mktemp -d "$parent/$name.XXXXXX") || exit 2
    tmp=$(realpath "$tmp")
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 129' HUP INT TERM PIPE # so that the EXIT trap cleans up
}

# One result line a check; fail counts it.
ok() { echo "ok   $*"; }
fail() {
    echo "FAIL $*"
    fails=$((fails + 1))
}

# compare_runs NAME NATIVE_STATUS SANDBOXED_STATUS: one result line for a
# program run natively and sandboxed, whose outputs are $tmp/n.out and
# $tmp/s.out (stderr $tmp/s.err): the same status and stdout, or a failure
# with the difference. SHOW=1 prints the native output too.
compare_runs() {
    local name=$1 ns=$2 ss=$3
    [ -n "${SHOW:-}" ] && cat "$tmp/n.out"
    if [ "$ns" = "$ss" ] && cmp -s "$tmp/n.out" "$tmp/s.out"; then
        ok "$name (status $ns)"
    else
        fail "$name: status native $ns, sandboxed $ss"
        diff -u --label native --label sandbox "$tmp/n.out" "$tmp/s.out" | head -20
        grep -v '^sandbox-run: ' "$tmp/s.err" | head -5 | sed 's/^/  stderr: /'
    fi
}
