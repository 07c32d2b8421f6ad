#!/usr/bin/env bash
# busybox.sh: Debian's static busybox (busybox-static) runs applets inside the
# sandbox; each applet's stdout, exit status and, where it changes files, the
# resulting directory tree are compared with the same applet run natively on
# an identical copy of the same files at the same path.
#
# Variants (one sandbox-run invocation per applet: no fork in the sandbox
# yet, so no shell pipelines inside it):
#  bind         a scratch directory on the host's disk (next to SANDBOX_RUN,
#               or E2E_SCRATCH), bound read-write at its own path:
#               --bind DIR:DIR --cwd DIR. Native runs use the same DIR, reset
#               to the same files before each run, so absolute paths (readlink
#               -f) and owners and times (ls -la, tar tvf, stat) must match.
#  tmpfs-bind   the same applets on a scratch directory in a host tmpfs
#               (/dev/shm, or E2E_TMPFS), bound the same way: hostfs over a
#               tmpfs-backed directory (sizes, block counts and readdir order
#               as tmpfs gives them). Skipped if there is no host tmpfs.
#  sandbox-tmp  the sandbox's own tmpfs: --cwd /tmp. Its contents vanish with
#               each sandbox-run invocation and setting up files needs a shell
#               that forks, so these applets need no prior state: they create
#               everything they use in the one invocation (mkdir -p, cp -a and
#               tar x from the fixture, bound read-only; dd; awk and sh
#               builtins that write files and read them back). Only stdout and
#               status are compared (the tree is gone afterwards); the native
#               runs happen in a fresh empty directory in the host tmpfs.
#
# What is compared: stdout byte for byte, the exit status, and a listing of
# the scratch tree (path, type, mode, links, owner, group, size, mtime,
# symlink target, sha256). Left out of the listing: atime (reads change it),
# ctime and inode numbers (the tree is recreated between the two runs when
# the applet changed it). An mtime at or after this script's start is shown
# as "new": both runs create files, at different moments. stat's output
# leaves out the device number (a sandbox mount may number devices its own
# way) and the access time; its inode numbers must match (stat changes
# nothing, so both runs see the same host files).
# stderr is compared only for the tests of error cases, without sandbox-run's
# own "sandbox-run: ..." lines.
# By design different, so only checked for plausibility on both sides:
#  df    succeeds and lists a file system mounted on /
#  ps    prints a header with PID and a line for busybox itself
#  free  prints a Mem: line
# busybox runs some applets in-process: "xargs -0 echo" needs no fork (echo
# is a NOFORK applet), "xargs -0 wc" does. Applets marked "needs fork" are
# run and reported as "xfail" (or "xpass" once the sandbox can fork), and
# never counted as passed. CHECK_FORK=1 runs the native side under strace -f and
# fails any test whose mark disagrees with what the applet really does.
#
# Usage: tests/e2e/busybox.sh SANDBOX_RUN
#   (tests/e2e/native-run.sh as SANDBOX_RUN checks this script's own logic)
# Env: BUSYBOX (/bin/busybox), E2E_SCRATCH (parent of the bind variant's
#      scratch dir), E2E_TMPFS (/dev/shm), CHECK_FORK.
# Exit: 0 all passed, 1 a failure, 77 (skip) when sandbox-run has no --root.
set -u
umask 022
export LC_ALL=C

[ $# -eq 1 ] || { echo "usage: $0 SANDBOX_RUN" >&2; exit 2; }
sb=$(realpath "$1") || exit 2
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "busybox.sh: no $bb (apt-get install busybox-static)" >&2; exit 2; }
if "$bb" 2>&1 | head -1 | grep -qv '^BusyBox'; then
    echo "busybox.sh: $bb is not busybox" >&2
    exit 2
fi

# The VFS options are newer than this script may be: skip, not fail, when
# sandbox-run rejects them as unknown.
"$sb" --root / -- "$bb" true >/dev/null 2>"${TMPDIR:-/tmp}/busybox-e2e-probe.$$"
probe=$?
if [ "$probe" -eq 2 ] && grep -q 'unknown option' "${TMPDIR:-/tmp}/busybox-e2e-probe.$$"; then
    rm -f "${TMPDIR:-/tmp}/busybox-e2e-probe.$$"
    echo "skip: sandbox-run has no --root/--bind yet"
    exit 77
fi
rm -f "${TMPDIR:-/tmp}/busybox-e2e-probe.$$"

start=$(date +%s)
stamp=1600000000 # every fixture file's mtime (2020-09-13)
base=${E2E_SCRATCH:-$(dirname "$sb")}
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/busybox-e2e.XXXXXX") || exit 2
work=$(realpath "$work")
shm=
trap 'rm -rf "$work" ${shm:+"$shm"}' EXIT
trap 'exit 129' HUP INT TERM PIPE # so that the EXIT trap cleans up
tmpfs_parent=${E2E_TMPFS:-/dev/shm}
if [ "$(stat -f -c %T "$tmpfs_parent" 2>/dev/null)" = tmpfs ]; then
    shm=$(mktemp -d "$tmpfs_parent/busybox-e2e.XXXXXX") || exit 2
    shm=$(realpath "$shm")
fi
check_fork=
if [ -n "${CHECK_FORK:-}" ]; then
    command -v strace >/dev/null || { echo "busybox.sh: CHECK_FORK needs strace" >&2; exit 2; }
    check_fork=1
fi

passed=0 failed=0 xfailed=0

# The fixture, built once in $work/master and copied (cp -a) into a scratch
# directory before each run: files, a hard link, symlinks (to a file, to a
# directory, dangling), modes, a binary file, a tar archive and a gzip file.
mkfixture() { # DIR
    local f=$1 block='' i
    mkdir -p "$f/d/sub/deep" "$f/d/empty" "$f/x"
    printf 'apple\nbanana\napple pie\ncherry\n' >"$f/d/a.txt"
    printf 'second file\nwith a needle\n' >"$f/d/b.txt"
    printf 'needle in sub\nhay\n' >"$f/d/sub/c.txt"
    printf '#!/bin/sh\necho deep needle\n' >"$f/d/sub/deep/run.sh"
    for i in $(seq 0 255); do block+=$(printf '\\0%03o' "$i"); done
    for i in $(seq 32); do printf '%b' "$block"; done >"$f/d/sub/bin.dat"
    ln -s a.txt "$f/d/link"
    ln -s sub "$f/d/sublink"
    ln -s nowhere "$f/d/dangling"
    ln "$f/d/a.txt" "$f/d/hard"
    printf 'pear\napple\nfig\napple\nbanana\nfig\nfig\nkiwi\n' >"$f/words"
    printf 'apple\napple\nbanana\nfig\nfig\nfig\nkiwi\npear\n' >"$f/sorted"
    printf 'root:x:0:0\nuser:y:1000:100\nnobody:z:65534:65534\n' >"$f/fields"
    printf 'd/a.txt\0d/b.txt\0d/sub/c.txt\0' >"$f/list0"
    printf 'gzipped text\n%.0s' $(seq 50) | gzip -n >"$f/g.txt.gz"
    chmod 640 "$f/d/b.txt"
    chmod 750 "$f/d/sub"
    chmod 755 "$f/d/sub/deep/run.sh"
    chmod 700 "$f/d/empty"
    find "$f" -depth -exec touch -h -d "@$stamp" {} +
    (cd "$f" && "$bb" tar cf arch.tar d) || return
    touch -d "@$stamp" "$f/arch.tar" "$f"
}

reset() { # DIR: make DIR an exact copy of the fixture again
    find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} + &&
        cp -a "$work/master/." "$1/" &&
        touch -d "@$stamp" "$1"
}

# The tree under DIR, one line per file, then sha256 of regular files.
snapshot() { # DIR
    (
        cd "$1" || exit
        find . -printf '%p %y %m %n %u %g %s %T@ %l\n' | sort |
            awk -v s="$start" '{ if ($8 + 0 >= s) $8 = "new"; print }'
        find . -type f -print0 | sort -z | xargs -0 -r sha256sum
    )
}

# Runs "$@" with stdin from $in (or /dev/null), stdout and stderr into
# $1.out/$1.err, the status into $1.st. Native runs go through strace when
# CHECK_FORK is set; $1.forked then says whether the applet forked.
run() { # PREFIX native|sandbox COMMAND...
    local p=$1 side=$2
    shift 2
    local input=/dev/null
    [ -n "$in" ] && input=$in
    if [ "$side" = native ] && [ -n "$check_fork" ]; then
        timeout 30 strace -f -qq -e trace=clone,clone3,fork,vfork -o "$p.strace" \
            "$@" <"$input" >"$p.out" 2>"$p.err"
        echo $? >"$p.st"
        grep -Eq '(clone|clone3|fork|vfork)\(' "$p.strace" && echo yes >"$p.forked"
    else
        timeout 30 "$@" <"$input" >"$p.out" 2>"$p.err"
        echo $? >"$p.st"
    fi
}

pass() { echo "ok   $1"; passed=$((passed + 1)); }

# Plausibility checks for the applets whose output differs by design.
check_df() { awk '$NF == "/" { f = 1 } END { exit !f }' "$1"; }
check_ps() { head -1 "$1" | grep -qw PID && sed 1d "$1" | grep -q busybox; }
check_free() { grep -q '^ *Mem:' "$1"; }

# Reports one test from the files native.* and sandbox.* in $out.
# Uses $name, $fork, $check, $want_st, $cmp_err, $cmp_tree.
verdict() {
    local n=$out/native s=$out/sandbox why='' ns ss
    ns=$(cat "$n.st") ss=$(cat "$s.st")
    if [ -n "$check_fork" ]; then
        if [ -f "$n.forked" ] && [ -z "$fork" ]; then
            echo "FAIL $name: forks natively but is not marked needs-fork"
            failed=$((failed + 1))
            return
        elif [ ! -f "$n.forked" ] && [ -n "$fork" ]; then
            echo "FAIL $name: marked needs-fork but does not fork natively"
            failed=$((failed + 1))
            return
        fi
    fi
    if [ "$ns" != "$want_st" ]; then
        echo "FAIL $name: the native run exited $ns, not $want_st (a broken test?)"
        head -5 "$n.err"
        failed=$((failed + 1))
        return
    fi
    if [ -n "$check" ]; then
        [ "$ss" = 0 ] || why="status $ss"
        "check_$check" "$n.out" || why="${why:+$why, }native output implausible"
        "check_$check" "$s.out" || why="${why:+$why, }sandboxed output implausible"
    else
        [ "$ns" = "$ss" ] || why="status $ss, native $ns"
        cmp -s "$n.out" "$s.out" || why="${why:+$why, }stdout differs"
        if [ -n "$cmp_err" ]; then
            grep -v '^sandbox-run: ' "$s.err" >"$s.err2"
            cmp -s "$n.err" "$s.err2" || why="${why:+$why, }stderr differs"
        fi
        if [ -n "$cmp_tree" ] && ! cmp -s "$n.tree" "$s.tree"; then
            why="${why:+$why, }resulting tree differs"
        fi
    fi
    if [ -n "$fork" ]; then
        xfailed=$((xfailed + 1))
        if [ -z "$why" ]; then
            echo "xpass $name: needs fork, yet matched (drop its needs-fork mark); not counted"
        else
            echo "xfail $name: needs fork, expected to fail until the sandbox forks ($why); not counted"
        fi
        return
    fi
    if [ -z "$why" ]; then
        pass "$name"
        return
    fi
    echo "FAIL $name: $why"
    if [ -n "$check" ]; then
        head -5 "$s.out"
    else
        diff -u --label native --label sandbox "$n.out" "$s.out" 2>/dev/null | head -30
        [ -n "$cmp_err" ] && diff -u --label native.err --label sandbox.err "$n.err" "$s.err2" | head -10
        [ -n "$cmp_tree" ] && diff -u --label native.tree --label sandbox.tree "$n.tree" "$s.tree" | head -30
    fi
    grep . "$s.err" | head -5 | sed 's/^/  stderr: /'
    failed=$((failed + 1))
}

# Options of the test functions, before "--":
#   fork      needs fork (xfail until the sandbox forks)
#   in=FILE   stdin from FILE (relative to the scratch directory)
#   st=N      the status both runs must have (default 0)
#   err       compare stderr too
#   check=X   check_X both outputs instead of comparing them
#   once      only in the first bind variant
parse_opts() {
    fork='' in='' want_st=0 cmp_err='' check='' once=''
    nopts=0
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case $1 in
        fork) fork=1 ;;
        in=*) in=${1#in=} ;;
        st=*) want_st=${1#st=} ;;
        err) cmp_err=1 ;;
        check=*) check=${1#check=} ;;
        once) once=1 ;;
        *) echo "busybox.sh: bad test option $1" >&2; exit 2 ;;
        esac
        nopts=$((nopts + 1))
        shift
    done
}

# The start of t and tc: LABEL [OPTIONS] -- sets name and the options, and
# nskip, how many words the caller shifts to reach the applet.
begin_test() {
    name="$1 ($variant)"
    shift
    parse_opts "$@"
    nskip=$((nopts + 2))
}

# A test in a bind variant: t LABEL [OPTIONS] -- APPLET [ARG...]
# The scratch directory $dir is reset, the applet run natively in it; if
# the tree changed it is reset again; then the applet runs sandboxed.
t() {
    begin_test "$@"
    shift "$nskip"
    [ -n "$once" ] && [ "$variant" != bind ] && return
    cmp_tree=1
    [ -n "$check" ] && cmp_tree=''
    rm -f "$out"/*
    reset "$dir" || { echo "FAIL $name: cannot reset $dir"; failed=$((failed + 1)); return; }
    (cd "$dir" && run "$out/native" native "$bb" "$@")
    snapshot "$dir" >"$out/native.tree"
    if ! cmp -s "$out/native.tree" "$work/fresh.tree"; then
        reset "$dir" || { echo "FAIL $name: cannot reset $dir"; failed=$((failed + 1)); return; }
    fi
    (cd "$dir" && run "$out/sandbox" sandbox "$sb" "${sbargs[@]}" -- "$bb" "$@")
    snapshot "$dir" >"$out/sandbox.tree"
    verdict
}

# A test in the sandbox's own /tmp: tc LABEL [OPTIONS] -- APPLET [ARG...]
# Native: a fresh empty directory; sandboxed: --cwd /tmp, fresh each run.
tc() {
    begin_test "$@"
    shift "$nskip"
    cmp_tree=''
    rm -f "$out"/*
    rm -rf "$nat_cwd" "$sbx_cwd" && mkdir -p "$nat_cwd" "$sbx_cwd" || exit 2
    (cd "$nat_cwd" && run "$out/native" native "$bb" "$@")
    (cd "$sbx_cwd" && run "$out/sandbox" sandbox "$sb" "${sbargs[@]}" -- "$bb" "$@")
    verdict
}

# Every sandbox-run invocation of a variant must at least start.
preflight() {
    local err
    if ! err=$(cd "$1" && timeout 30 "$sb" "${sbargs[@]}" -- "$bb" true 2>&1 </dev/null); then
        echo "FAIL $variant: busybox true does not run with ${sbargs[*]}: skipping the variant"
        printf '%s\n' "$err" | head -5 | sed 's/^/  /'
        failed=$((failed + 1))
        return 1
    fi
}

stat_fmt='%n|%F|%a|%A|%s|%b|%B|%h|%i|%u|%g|%U|%G|%y|%Y|%z|%Z|%o|%N'

applets() {
    t "ls -la"          -- ls -la d
    t "ls -laR"         -- ls -laR d
    t "ls -lan --full-time" -- ls -lan --full-time d/sub
    t cat               -- cat d/a.txt d/sub/c.txt d/link
    t "cat missing"     st=1 err -- cat d/missing
    t "cp -a"           -- cp -a d copy
    t mv                -- mv d/b.txt d/empty d/sub
    t "rm -r"           -- rm -r d/sub
    t "rm dir"          st=1 err -- rm d/sub
    t "mkdir -p"        -- mkdir -p x/y/z d/sub/new
    t "mkdir exists"    st=1 err -- mkdir d
    t "ln -s"           -- ln -s ../a.txt d/sub/newlink
    t ln                -- ln d/b.txt d/sub/b-hard
    t "readlink -f"     -- readlink -f d/sublink/c.txt
    t "readlink -f .."  -- readlink -f d/sublink/../b.txt
    t readlink          -- readlink d/link
    t realpath          -- realpath d/link d/dangling . d/sublink/../b.txt
    t find              -- find d
    t "find -name"      -- find . -name '*.txt' -type f
    t "grep -r"         -- grep -rn needle d
    t "sed -i"          -- sed -i s/apple/APPLE/g d/a.txt
    t sort              -- sort words
    t "sort -ru"        -- sort -r -u words
    t uniq              -- uniq -c sorted
    t wc                -- wc d/a.txt words d/sub/bin.dat
    t head              -- head -n 3 words
    t tail              -- tail -n 2 words
    t "tail -c"         -- tail -c 300 d/sub/bin.dat
    t cut               -- cut -d: -f1,3 fields
    t tr                in=words -- tr a-z A-Z
    t "tar c"           -- tar cf new.tar d
    t "tar tvf"         -- tar tvf arch.tar
    t "tar x"           -- tar xf arch.tar -C x
    t gzip              -- gzip d/sub/bin.dat
    t gunzip            -- gunzip g.txt.gz
    t md5sum            -- md5sum d/a.txt d/sub/bin.dat arch.tar
    t sha256sum         -- sha256sum d/a.txt d/sub/bin.dat arch.tar
    t du                -- du -a d
    t df                check=df once -- df
    t stat              -- stat -c "$stat_fmt" d d/a.txt d/hard d/link d/dangling d/sub/bin.dat d/empty
    t "touch -d"        -- touch -d '2021-02-03 04:05:06' d/a.txt newfile
    t touch             -- touch d/b.txt newfile
    t chmod             -- chmod -R go-rwx d
    t "chmod mode"      -- chmod 4751 d/a.txt
    t dd                -- dd if=d/sub/bin.dat of=dd.out bs=1k skip=2 count=3
    t "dd stdout"       -- dd if=d/sub/bin.dat bs=100 skip=3 count=2
    t od                -- od -A x -t x1 d/sub/bin.dat
    t "od -c"           -- od -c d/a.txt
    t "xargs -0 echo"   in=list0 -- xargs -0 echo
    t "xargs -0 wc"     fork in=list0 -- xargs -0 wc -c
    t ps                check=ps once -- ps
    t free              check=free once -- free
    t id                -- id
    t "id -G"           -- id -G
}

out=$work/out
mkdir -p "$out" "$work/master" || exit 2
mkfixture "$work/master" || { echo "busybox.sh: cannot build the fixture" >&2; exit 2; }

for variant in bind tmpfs-bind; do
    if [ "$variant" = bind ]; then
        dir=$work/scratch
    elif [ -n "$shm" ]; then
        dir=$shm
    else
        echo "skip tmpfs-bind: $tmpfs_parent is not a tmpfs"
        continue
    fi
    mkdir -p "$dir" || exit 2
    sbargs=(--bind "$dir:$dir" --cwd "$dir")
    preflight "$dir" || continue
    reset "$dir" || exit 2
    snapshot "$dir" >"$work/fresh.tree"
    applets
done

variant=sandbox-tmp
sbargs=(--bind "$work/master:$work/master:ro" --cwd /tmp)
nat_cwd=${shm:-$work}/native-cwd
sbx_cwd=$work/sandbox-cwd
m=$work/master
mkdir -p "$sbx_cwd" || exit 2
if preflight "$sbx_cwd"; then
    tc "mkdir -p"       -- mkdir -p a/b/c
    tc "cp -a"          -- cp -a "$m/d" copy
    tc "tar xvf"        -- tar xvf "$m/arch.tar"
    tc "dd"             -- dd if="$m/d/sub/bin.dat" of=out bs=1k
    tc "sort -o"        -- sort -o sorted "$m/words"
    tc "awk write+read" -- awk 'BEGIN {
        f = "data"
        for (i = 0; i < 2000; i++) print i, i * i > f
        close(f)
        while ((getline l < f) > 0) { n++; s += length(l) }
        close(f)
        printf "tail\n" >> f
        close(f)
        while ((getline l < f) > 0) last = l
        close(f)
        print n, s, last }'
    # ash builtins and redirections only: no fork (CHECK_FORK verifies it).
    # shellcheck disable=SC2016 # expanded by busybox sh
    tc "sh builtins"    -- sh -c '
        echo one > f1; echo two >> f1; read a < f1; echo "read: $a"
        while read l; do echo "line: $l"; done < f1
        : > f2; [ -s f2 ] || echo "f2 is empty"; [ -f f2 ] && echo "f2 is a file"
        printf "%s\n" x y z > f3; set -- f*; echo "glob: $# $*"
        exec 3> f4; echo via-fd3 >&3; exec 3>&-; read b < f4; echo "fd 3: $b"
        [ -d . ] && [ -w . ] && echo "cwd is a writable directory"
        [ -e nothing ] || echo "no such file"'
fi

echo "# busybox: $passed passed, $failed failed, $xfailed need fork (not counted)"
[ "$failed" -eq 0 ]
