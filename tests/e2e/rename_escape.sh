#!/usr/bin/env bash
# rename_escape.sh: ".." never leaves the host directory a hostfs mount was
# made from, whatever other host processes do meanwhile. The guest
# (tests/e2e/rename_escape.c, built here with musl-gcc -static) starts in
# MNT/sub/deep of a host directory HOST, says ready, and waits; this script
# then moves HOST/sub to OUTSIDE/sub (outside HOST) and says go; the guest
# tries creates, renames, links, opens, chdir and stat through "..", from
# a symlink to "../x",
# its cwd, from descriptors of the moved directories, after fchdir, through
# "inner/../x" and /proc/self/cwd/.., and the old names from MNT.
# Two layouts: --bind HOST:/b (MNT /b), and --root HOST --rw (MNT /).
# Checked, on each platform: the guest's lines are exactly the expected
# ones below (every ".." from a moved directory is ENOENT, as Linux's
# path_connected() gives; getcwd says "(unreachable)"); no name the guest
# tried to make exists anywhere under the test's directory; the host tree is
# exactly what the script and the guest's set-up made.
# When this runs as root with unshare(1), the same guest first runs under
# real Linux in the same layout (a mount namespace with HOST bound on a
# mount point, or bound on itself and chrooted into): that checks the
# expected lines are Linux's own.
# Usage: tests/e2e/rename_escape.sh SANDBOX_RUN
# Exit: 0 all passed, 1 a failure, 2 setup error.
set -u

. "$(dirname "$0")/lib.sh"
e2e_init rename_escape tmp "$@"

${MUSL_GCC:-musl-gcc} -static -O1 -Wall -Wextra -Werror -o "$tmp/guest" "$src/rename_escape.c" || exit 2

# What Linux answers (checked below against a real bind mount when root).
expected() { # KIND: "bind" or "root"
    cat <<'EOF'
before stat(..): OK
open ../../x-up2 O_CREAT: ENOENT
open ../x-up1 O_CREAT: ENOENT
mkdir ../x-mkdir: ENOENT
mkdir ../../x-mkdir2: ENOENT
mknod ../x-fifo: ENOENT
symlink ../x-sym: ENOENT
rename victim ../x-ren: ENOENT
link victim ../x-link: ENOENT
rename ../deep ../x-ren2: ENOENT
open uplink (-> ../x-via-link) O_CREAT: ENOENT
stat ..: ENOENT
lstat ../..: ENOENT
access ..: ENOENT
mkdir ..: EEXIST
rmdir ../deep: ENOENT
open .. O_DIRECTORY: ENOENT
open .. O_PATH: ENOENT
chdir ..: ENOENT
openat(dot, ../x-dot) O_CREAT: ENOENT
openat(sub, ../x-sub) O_CREAT: ENOENT
openat(sub, ..) O_DIRECTORY: ENOENT
openat(sub_path, ..) O_PATH: ENOENT
fstatat(sub, deep): OK
openat(inner, ..): ENOENT
open inner/../x-a-b O_CREAT: ENOENT
open inner/../victim: ENOENT
fchdir(inner): OK
chdir .. from inner: ENOENT
open ../../x-inner O_CREAT: ENOENT
fchdir(sub): OK
open ../x-fchdir O_CREAT: ENOENT
getcwd: (unreachable)
EOF
    # Linux names the host path from the file system's root; the sandbox
    # the path from the mount's host directory (nothing of the host's).
    # Neither is beneath /b; under --root both start with "/".
    if [ "$1" = bind ]; then
        echo "readlink /proc/self/cwd: not under MNT"
    else
        echo "readlink /proc/self/cwd: under MNT"
    fi
    cat <<'EOF'
stat /proc/self/cwd/..: ENOENT
open /proc/self/cwd/../x-proc O_CREAT: ENOENT
stat MNT/sub: ENOENT
open MNT/sub/deep/../x-old O_CREAT: ENOENT
open MNT/sub/x-old2 O_CREAT: ENOENT
stat victim: OK
stat inner/.: OK
done
EOF
}

# The host tree after a run, relative to the layout's directory.
expected_tree() { # KIND
    {
        echo ./HOST
        echo ./OUTSIDE
        echo ./OUTSIDE/sub
        echo ./OUTSIDE/sub/deep
        echo ./OUTSIDE/sub/deep/go
        echo ./OUTSIDE/sub/deep/inner
        echo ./OUTSIDE/sub/deep/ready
        echo ./OUTSIDE/sub/deep/uplink
        echo ./OUTSIDE/sub/deep/victim
        if [ "$1" = bind ]; then
            echo ./mnt
        else
            printf './HOST/%s\n' dev proc tmp guest
        fi
    } | sort
}

layout() { # DIR KIND
    rm -rf "$1"
    mkdir -p "$1/HOST/sub/deep" "$1/OUTSIDE" || return
    if [ "$2" = bind ]; then
        mkdir "$1/mnt"
    else
        mkdir "$1/HOST/dev" "$1/HOST/proc" "$1/HOST/tmp" && cp "$tmp/guest" "$1/HOST/guest"
    fi
}

# Run "$@" in the background, move HOST/sub out once the guest is ready,
# then let it go on; sets status.
race() { # DIR COMMAND...
    local d=$1 i=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null &
    local pid=$!
    while [ ! -e "$d/HOST/sub/deep/ready" ]; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    if [ -e "$d/HOST/sub/deep/ready" ]; then
        mv "$d/HOST/sub" "$d/OUTSIDE/sub" && : >"$d/OUTSIDE/sub/deep/go"
    fi
    wait $pid
    status=$?
}

check() { # NAME DIR KIND
    local name=$1 d=$2 kind=$3 why=''
    [ "$status" -eq 0 ] || why="guest exit status $status"
    expected "$kind" >"$tmp/want"
    if ! cmp -s "$tmp/want" "$tmp/out"; then
        why="${why:+$why, }unexpected answers"
    fi
    local made
    made=$(find "$tmp" \( -name 'x-*' -o -name escaped \) -print | head -5)
    [ -z "$made" ] || why="${why:+$why, }made outside: $made"
    (cd "$d" && find . -mindepth 1 -print | sort) >"$tmp/tree"
    expected_tree "$kind" >"$tmp/want-tree"
    if ! cmp -s "$tmp/want-tree" "$tmp/tree"; then
        why="${why:+$why, }host tree differs"
    fi
    if [ -z "$why" ]; then
        echo "ok   $name"
        return
    fi
    echo "FAIL $name: $why"
    diff -u --label want --label got "$tmp/want" "$tmp/out" | head -40
    diff -u --label want --label got "$tmp/want-tree" "$tmp/tree" | head -20
    grep . "$tmp/err" | head -10 | sed 's/^/  stderr: /'
    fails=$((fails + 1))
}

d=$tmp/t

# Real Linux: a bind mount, and a root that is a bind mount of itself (a
# plain chroot has no mount root to stop at: its ".." walks out).
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
    unshare -m -p -f --propagation private true 2>/dev/null; then
    layout "$d" bind || exit 2
    # shellcheck disable=SC2016 # expanded by the inner sh
    race "$d" unshare -m --propagation private -- sh -c '
        mount --bind "$1/HOST" "$1/mnt" || exit 2
        exec "$2" "$1/mnt" "$1/mnt/sub/deep"' sh "$d" "$tmp/guest"
    check "reference bind: real Linux (mount namespace)" "$d" bind
    layout "$d" root || exit 2
    # shellcheck disable=SC2016
    race "$d" unshare -m -p -f --propagation private -- sh -c '
        mount --bind "$1" "$1" && mount -t proc proc "$1/proc" || exit 2
        exec chroot "$1" /guest "" /sub/deep' sh "$d/HOST"
    check "reference root: real Linux (mount namespace, chroot)" "$d" root
else
    echo "skip reference: needs root and unshare with mount and pid namespaces"
fi

for p in systrap ptrace; do
    layout "$d" bind || exit 2
    race "$d" timeout 60 "$sb" --platform=$p --bind "$d/HOST:/b" \
        --bind "$tmp/guest:/guest:ro" --cwd /b/sub/deep -- /guest /b
    check "bind ($p)" "$d" bind
    layout "$d" root || exit 2
    race "$d" timeout 60 "$sb" --platform=$p --root "$d/HOST" --rw --cwd /sub/deep -- /guest ""
    check "root ($p)" "$d" root
done

echo "# rename_escape: $fails failed"
[ "$fails" -eq 0 ]
