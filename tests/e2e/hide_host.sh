#!/usr/bin/env bash
# hide_host.sh: procfs and stat never show the guest a host path or the
# host's number for an object of the sandbox. Host layout, fresh each run:
#   T/xyz-hostsecret-PID-root/   the guest's read-only root (--root), with
#                                bin/busybox (a copy of the static busybox)
#   T/xyz-hostsecret-PID-data/   bound read-write at /data, the cwd; holds
#                                "input" (the guest's stdin) and receives
#                                the guest's stderr ("err")
# Each busybox applet runs with stdin the host file data/input, stdout a
# host pipe and stderr the host file data/err, in a clean environment. It
# reads mountinfo, mounts, the fd and fdinfo directories, the magic links,
# status, stat, statm, maps, environ and cmdline, and greps all of /proc/.
# Checked on each platform: the distinctive name "xyz-hostsecret" is in no
# output; /data is a hostfs mount with root / and source "hostfs"; stdin
# and stderr (host files) link to host:[N] and stdout (a host pipe) to
# pipe:[N], with N the inode stat gives, which is not the host's.
# Usage: tests/e2e/hide_host.sh SANDBOX_RUN
# Env: BUSYBOX (/bin/busybox). Exit: 0 passed, 1 a failure, 2 setup
# error, 77 (skip) without a static busybox.
set -u

[ $# -eq 1 ] || { echo "usage: $0 SANDBOX_RUN" >&2; exit 2; }
sb=$(realpath "$1") || exit 2
bb=${BUSYBOX:-/bin/busybox}
if ! [ -x "$bb" ] || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    echo "skip: no static busybox at $bb"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hide-host.XXXXXX") || exit 2
tmp=$(realpath "$tmp")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP INT TERM PIPE
word="xyz-hostsecret-$$"
root="$tmp/$word-root"
data="$tmp/$word-data"
mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/tmp" "$root/data" "$data" || exit 2
cp "$bb" "$root/bin/busybox" || exit 2
printf 'input line\n' >"$data/input"
fails=0

fail() {
    echo "FAIL ($plat): $*"
    fails=$((fails + 1))
}

# run OUT APPLET ARGS...: the applet in the sandbox; its stdout in OUT,
# the host's name of its stdout pipe in OUT.hostpipe.
run() {
    local o=$1
    shift
    : >"$data/err"
    # The group's stdout is the host pipe that sandbox-run gets.
    { readlink "/proc/$BASHPID/fd/1" >"$o.hostpipe"
      env -i PATH=/bin timeout 60 "$sb" --platform="$plat" --root "$root" --bind "$data:/data" \
          --cwd /data -- /bin/busybox "$@" <"$data/input" 2>"$data/err"
      echo "status $?" >"$o.status"
    } | cat >"$o"
    cat "$data/err" >>"$o.err"
}

# The number in "NAME -> kind:[N]" of an ls -l line for fd NAME.
link_of() { # FILE FD
    sed -n "s/^.* $2 -> \(.*\)\$/\1/p" "$1" | head -n 1
}

for plat in systrap ptrace; do
    o="$tmp/$plat"
    mkdir -p "$o"
    run "$o/mounts" cat /proc/self/mountinfo /proc/self/mounts /proc/mounts /proc/1/mountinfo
    run "$o/fds" ls -l /proc/self/fd/ /proc/self/
    run "$o/fdinfo" cat /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2
    run "$o/files" cat /proc/self/status /proc/self/stat /proc/self/statm /proc/self/maps \
        /proc/self/environ /proc/self/cmdline /proc/self/comm
    for l in cwd root fd/0 fd/1 fd/2; do
        run "$o/link-${l/\//}" readlink "/proc/self/$l"
    done
    run "$o/stat" stat -L -c '%n %d %i' /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2
    # Its own argument must not match itself in /proc/1/cmdline: [t].
    run "$o/grep" grep -rsl -e 'xyz-hostsecre[t]' /proc/
    grep -q '^status 0$' "$o/grep.status" && fail "grep -r found the host's name in: $(cat "$o/grep")"
    # The same walk finds what is there.
    run "$o/grep-control" grep -rsl -e 'MemTota[l]' -e '^CapEff:' /proc/
    grep -qx /proc/meminfo "$o/grep-control" && grep -qx /proc/1/status "$o/grep-control" ||
        fail "grep -r /proc/ did not find meminfo and 1/status: $(head -c 300 "$o/grep-control")"

    for f in mounts fds fdinfo files link-cwd link-root link-fd0 link-fd1 link-fd2 stat; do
        grep -q '^status 0$' "$o/$f.status" || fail "$f: $(cat "$o/$f.status"): $(head -c 300 "$o/$f.err")"
    done
    if grep -l -a -F "$word" "$o"/* | grep -v -e '\.hostpipe$' -e '\.err$' >"$o/leaks"; then
        fail "the host's name shows in: $(tr '\n' ' ' <"$o/leaks")"
        grep -a -F "$word" "$o"/* | head -n 5
    fi

    # /data: a whole hostfs, named neutrally, in mountinfo and mounts.
    grep -Eq '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ / /data rw,[^ ]* - hostfs hostfs rw' "$o/mounts" ||
        fail "mountinfo has no hostfs line for /data: $(grep ' /data ' "$o/mounts")"
    grep -q '^hostfs /data hostfs rw' "$o/mounts" || fail "mounts has no hostfs line for /data"
    grep -q '^hostfs / hostfs ro' "$o/mounts" || fail "mounts has no read-only hostfs root"

    # The standard streams: host files are host:[N], the host pipe pipe:[N].
    in=$(link_of "$o/fds" 0) out=$(link_of "$o/fds" 1) err=$(link_of "$o/fds" 2)
    [[ $in =~ ^host:\[([0-9]+)\]$ ]] && in_ino=${BASH_REMATCH[1]} || { fail "fd 0 -> '$in'"; in_ino=x; }
    [[ $out =~ ^pipe:\[([0-9]+)\]$ ]] || fail "fd 1 -> '$out'"
    [[ $err =~ ^host:\[([0-9]+)\]$ ]] || fail "fd 2 -> '$err'"
    grep -q ' cwd -> /data$' "$o/fds" || fail "cwd -> $(link_of "$o/fds" cwd)"
    grep -q ' root -> /$' "$o/fds" || fail "root -> $(link_of "$o/fds" root)"
    # readlink agrees, and stat -L gives the link's number as the inode.
    l=$(cat "$o/link-cwd" "$o/link-root" "$o/link-fd0" "$o/link-fd2" | tr '\n' ' ')
    [ "$l" = "/data / $in $err " ] || fail "readlink cwd, root, fd/0, fd/2: $l"
    [[ $(cat "$o/link-fd1") =~ ^pipe:\[([0-9]+)\]$ ]] || fail "readlink fd/1: $(cat "$o/link-fd1")"
    pipe_ino=${BASH_REMATCH[1]:-y}
    host_pipe=$(sed -n 's/^pipe:\[\([0-9]*\)\]$/\1/p' "$o/stat.hostpipe")
    read -r _ _ ino0 <<<"$(sed -n 1p "$o/stat")"
    read -r _ _ ino1 <<<"$(sed -n 2p "$o/stat")"
    grep -q "^ino:	$ino0\$" "$o/fdinfo" || fail "fdinfo 0 has no ino: $ino0"
    # A fresh sandbox numbers its streams alike every time.
    [ "$ino0" = "$in_ino" ] || fail "stat -L fd 0 inode $ino0, link host:[$in_ino]"
    [ "$ino1" = "$pipe_ino" ] || fail "stat -L fd 1 inode $ino1, link pipe:[$pipe_ino]"
    [ -n "$host_pipe" ] && [ "$ino1" != "$host_pipe" ] || fail "the host pipe's inode $host_pipe shows"
    [ "$ino0" != "$(stat -c %i "$data/input")" ] || fail "stdin shows the host file's inode"
done

[ "$fails" -eq 0 ] && echo "hide_host: all checks passed on both platforms"
[ "$fails" -eq 0 ]
