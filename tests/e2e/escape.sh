#!/usr/bin/env bash
# escape.sh: a guest (tests/e2e/escape.c, built here with musl-gcc -static)
# tries to escape a read-only --root and a bind mount; see escape.c for the
# list of attempts. Host layout, fresh for every run, in a temp dir OUTER:
#   OUTER/secret        "SECRET", which the guest must never read
#   OUTER/outer-marker  which no guest directory listing may show
#   OUTER/inner/        bound read-write at /mnt: plain files and symlinks
#                       to /etc/passwd, OUTER/secret, ../secret, ../../secret,
#                       "..", "../..", "/" and OUTER
#   OUTER/root/         the guest's read-only root (--root, no --rw): the
#                       escape binary, /ro-file, /ro-dir, mount points
#                       (proc, dev, tmp, mnt) and decoys /secret, /etc/passwd
# Run: sandbox-run --root OUTER/root --bind OUTER/inner:/mnt --cwd /mnt --
#      OUTER/root/escape OUTER (the program path is still resolved on the
#      host; the root holds the binary too, at /escape).
# Checked, on each platform: the guest's exit status is 0 and its report
# ends normally; its output never holds the secret; OUTER, apart from
# inner/, is unchanged: names, types, modes, link counts, owners, sizes,
# inode numbers, mtimes, ctimes, symlink targets and sha256 of every file
# (atimes are left out: reading changes them).
# When this runs as root with unshare(1), the same guest first runs under
# real Linux in the same layout (a mount namespace: the root bound
# read-only, inner on /mnt, proc, a tmpfs on /tmp, then chroot as pid 1 of
# a pid namespace): that checks the guest's expectations are Linux's own.
# Usage: tests/e2e/escape.sh SANDBOX_RUN
# Exit: 0 all passed, 1 a failure, 2 setup error, 77 (skip) when
# sandbox-run has no --root yet.
set -u

. "$(dirname "$0")/lib.sh"
e2e_init escape tmp "$@"

${MUSL_GCC:-musl-gcc} -static -O1 -Wall -Wextra -Werror -o "$tmp/escape" "$src/escape.c" || exit 2

"$sb" --root / -- "$tmp/escape" / >/dev/null 2>"$tmp/probe"
if [ $? -eq 2 ] && grep -q 'unknown option' "$tmp/probe"; then
    echo "skip: sandbox-run has no --root/--bind yet"
    exit 77
fi

layout() { # OUTER
    local o=$1
    rm -rf "$o"
    mkdir -p "$o/inner/sub/deeper" "$o/root/ro-dir/empty" "$o/root/etc" \
        "$o/root/proc" "$o/root/dev" "$o/root/tmp" "$o/root/mnt" || return
    printf SECRET >"$o/secret"
    : >"$o/outer-marker"
    : >"$o/root/escape-root-marker"
    printf 'ro\n' >"$o/root/ro-file"
    printf 'inner\n' >"$o/root/ro-dir/inner-file"
    ln -s ro-file "$o/root/ro-link"
    printf 'decoy: /secret of the guest root\n' >"$o/root/secret"
    printf 'decoy: /etc/passwd of the guest root\n' >"$o/root/etc/passwd"
    cp "$tmp/escape" "$o/root/escape"
    : >"$o/inner/inner-marker"
    printf 'plain\n' >"$o/inner/plain"
    ln -s /etc/passwd "$o/inner/abs-passwd"
    ln -s "$o/secret" "$o/inner/abs-secret"
    ln -s "$o" "$o/inner/abs-outer"
    ln -s ../secret "$o/inner/rel-secret"
    ln -s ../../secret "$o/inner/sub/rel2"
    ln -s ../../../../../../secret "$o/inner/sub/deeper/rel3"
    ln -s .. "$o/inner/up"
    ln -s ../.. "$o/inner/sub/upup"
    ln -s / "$o/inner/rootlink"
}

# Everything in OUTER but inner/: stat fields without atime, then sha256.
snapshot() { # OUTER
    (
        cd "$1" || exit
        find . -path ./inner -prune -o -printf '%p %y %m %n %u %g %s %i %T@ %C@ %l\n' | sort
        find . -path ./inner -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum
    )
}

# check NAME: judges $tmp/out, $tmp/err, $status and the snapshots.
check() {
    local name=$1 why=''
    [ "$status" -eq 0 ] || why="guest exit status $status"
    tail -1 "$tmp/out" | grep -qx '# escape: 0 failed' || why="${why:+$why, }guest report incomplete"
    if grep -q SECRET "$tmp/out" "$tmp/err"; then
        why="${why:+$why, }the secret's text reached the output"
    fi
    if ! cmp -s "$tmp/before" "$tmp/after"; then
        why="${why:+$why, }host files outside the mount changed"
    fi
    if [ -z "$why" ]; then
        echo "ok   $name ($(grep -c '^ok ' "$tmp/out") attempts)"
        return
    fi
    echo "FAIL $name: $why"
    grep -v '^ok ' "$tmp/out" | head -40
    grep . "$tmp/err" | head -10 | sed 's/^/  stderr: /'
    diff -u --label before --label after "$tmp/before" "$tmp/after" | head -30
    fails=$((fails + 1))
}

o=$tmp/outer

# Real Linux in the same layout: validates escape.c's expectations.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
    unshare -m -p -f --propagation private true 2>/dev/null; then
    layout "$o" || exit 2
    snapshot "$o" >"$tmp/before"
    # shellcheck disable=SC2016 # expanded by the inner sh
    (cd "$o/inner" && unshare -m -p -f --propagation private -- sh -c '
        set -e
        r=$1 o=$2
        mount --bind "$r" "$r"
        mount --bind "$o/inner" "$r/mnt"
        mount -t proc proc "$r/proc"
        mount -t tmpfs tmpfs "$r/tmp"
        mount -o remount,bind,ro "$r"
        cd "$r/mnt"
        exec chroot "$r" /escape "$o"' sh "$o/root" "$o") >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    snapshot "$o" >"$tmp/after"
    check "reference: real Linux (mount namespace, chroot)"
else
    echo "skip reference: needs root and unshare with mount and pid namespaces"
fi

for p in systrap ptrace; do
    layout "$o" || exit 2
    snapshot "$o" >"$tmp/before"
    (cd "$o/inner" && timeout 60 "$sb" --platform=$p --root "$o/root" --bind "$o/inner:/mnt" \
        --cwd /mnt -- /escape "$o") >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    snapshot "$o" >"$tmp/after"
    check "escape attempts ($p)"
done

echo "# escape: $fails failed"
[ "$fails" -eq 0 ]
