#!/usr/bin/env bash
# run.sh: runs the syscall fuzzer (tests/fuzz/fuzz.c) under sandbox-run
# (best the sanitizer build) again and again with fresh seeds for a bounded
# time, and fails on anything that is not the guest's own doing:
#   - a sanitizer report on stderr (ASan, UBSan "runtime error", LSan)
#   - an exit status that is not the guest's: the fuzzer exits 0 after its
#     calls, or dies of a signal a guest can die of (SIGSEGV, SIGBUS, SIGILL,
#     SIGFPE, SIGXFSZ, SIGSYS); 125 (sandbox-run error), 134 (abort) and
#     anything else are sentry failures
#   - a hang: the fuzzer's call log stops changing for --hang seconds while
#     its last call is not one that may block (then it is killed)
#   - a host file changed outside the guest's writable trees: the guest's
#     read-only root (with a canary directory in it) and the directories
#     around it are snapshotted before and compared after each run
# Each failure prints the seed, the signature, the last calls from the log
# and the command that replays it: the same seed makes the same calls.
#
# Usage: tests/fuzz/run.sh SANDBOX_RUN FUZZ_BINARY [--platform systrap|ptrace|both]
#            [--seconds N] [--seed S] [--calls N] [--hang T] [--replay] [--strace]
#            [--keep DIR] [--last N]
#   --seed S    first seed (default: random); runs use S, S+1, ...
#   --replay    run seed S once and show its log, stderr and status
#   --calls N   calls per run (default 5000)
# Exit: 0 no failures, 1 failures (known-open ones do not count), 2 usage.
set -u

usage() { sed -n '/^# Usage:/,/^# Exit:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
sb=$(realpath "$1") && fz=$(realpath "$2") || usage
shift 2
platform=both seconds=60 seed= calls=5000 hang=20 replay=0 strace= keep= last=25
while [ $# -gt 0 ]; do
    case $1 in
    --platform) platform=$2; shift ;;
    --platform=*) platform=${1#*=} ;;
    --seconds) seconds=$2; shift ;;
    --seed) seed=$2; shift ;;
    --calls) calls=$2; shift ;;
    --hang) hang=$2; shift ;;
    --replay) replay=1 ;;
    --strace) strace=--strace ;;
    --keep) keep=$2; shift ;;
    --last) last=$2; shift ;;
    *) usage ;;
    esac
    shift
done
case $platform in systrap | ptrace) plats=("$platform") ;; both) plats=(systrap ptrace) ;; *) usage ;; esac
[ -x "$sb" ] && [ -x "$fz" ] || { echo "run.sh: $sb or $fz is not executable" >&2; exit 2; }
# First seed: --seed, else $FUZZ_SEED, else the suite's fixed one, else random.
[ -n "$seed" ] || seed=${FUZZ_SEED:-${FUZZ_SEED_DEFAULT:-$(( (RANDOM << 15 | RANDOM) ))}}

# Known-open failures: a pattern (grep -E, matched against the report) and
# what it is. A failure that matches is reported as known and does not fail
# the run. Keep this list short and remove entries once they are fixed.
known=(
    # (none open at the moment; e.g. 'in vfs_lookup_parent_at|rename/link/symlink with a NULL second path')
)

# Calls that may park the guest for good (the log stops on them): the
# fuzzer gives them bounded forms, so a stop here is still reported, but
# as "parked" rather than as a sentry hang.
blocking='^(creat|read|write|readv|writev|pread64|pwrite64|preadv|pwritev|preadv2|pwritev2|open|openat|openat2|sendfile|splice|tee|copy_file_range|poll|ppoll|select|pselect6|flock|fcntl|ioctl)$'

# Guest-side deaths: SIGILL 4, SIGBUS 7, SIGFPE 8, SIGSEGV 11, SIGXFSZ 25, SIGSYS 31.
guest_status=' 0 132 135 136 139 153 159 '

drv=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-drv.XXXXXX") || exit 2
drv=$(realpath "$drv")
cleanup() {
    [ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
    if [ -n "$keep" ]; then mkdir -p "$keep" && cp -a "$drv/." "$keep/"; fi
    rm -rf "$drv"
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM

# The host layout of one run, fresh each time. TOP is snapshotted whole,
# except the guest's writable trees:
#   TOP/outside/secret      a file no guest may change
#   TOP/a/b/c/root/         the guest's read-only root, canary/ in it
#   TOP/a/b/c/scratch/      bound read-write at /scratch
#   TOP/a/b/c/log/          bound read-write at /log (the call log)
# The nesting puts the targets of "../../.." symlinks in scratch inside TOP.
layout() {
    rm -rf "$drv/top"
    top=$drv/top
    work=$top/a/b/c
    mkdir -p "$top/outside" "$work/root/canary/dir" "$work/root/scratch" "$work/root/log" \
        "$work/root/tmp" "$work/root/proc" "$work/root/dev" "$work/root/etc" \
        "$work/scratch" "$work/log" || return
    printf 'SECRET\n' >"$top/outside/secret"
    printf 'canary\n' >"$work/root/canary/file"
    printf 'inner\n' >"$work/root/canary/dir/inner"
    ln -s file "$work/root/canary/link"
    printf 'decoy\n' >"$work/root/etc/passwd"
    : >"$work/log/ring"
}
snapshot() {
    (cd "$top" && find . \( -path ./a/b/c/scratch -o -path ./a/b/c/log \) -prune -o \
        -printf '%p %y %m %n %U %G %s %i %T@ %C@ %l\n' | sort &&
        find . \( -path ./a/b/c/scratch -o -path ./a/b/c/log \) -prune -o -type f -print0 |
        sort -z | xargs -0r sha256sum
        # the fuzzer's own directory is bound read-only (its /proc/self/exe)
        cd "$(dirname "$fz")" && ls -l --time-style=+%s.%N . && sha256sum "$fz")
}

# The last calls, oldest first, from the ring (records "SEQ NR NAME ARGS... = RESULT").
last_calls() { # N
    grep -a -v '^done' "$work/log/ring" | tr -s ' ' | grep -a '^[0-9]' | sort -n | tail -n "$1"
}
ncalls() {
    local d
    d=$(head -c 256 "$work/log/ring" | grep -ao '^done [0-9]*' | cut -d' ' -f2)
    if [ -n "$d" ]; then echo "$d"; return; fi
    last_calls 1 | awk '{ print $1 + 0 }'
}

runs=0 total_calls=0 fails=0 knowns=0 parked=0 deaths=0
failed_seeds=() known_seeds=()

# One run: seed, platform. Sets $verdict to ok, death, parked, known or fail
# and $why to the signature.
one() {
    local s=$1 plat=$2
    layout || { echo "run.sh: cannot make the layout in $drv" >&2; exit 2; }
    local before after
    before=$(snapshot)
    local -a cmd=("$sb" --platform="$plat" $strace --root="$work/root" --bind="$work/scratch:/scratch"
        --bind="$work/log:/log" --bind="$(dirname "$fz"):/fuzzbin:ro" --tmpfs=/tmp:size=64m
        --cwd=/ -- "/fuzzbin/$(basename "$fz")" /scratch/t /tmp/t /canary /log/ring "$s" "$calls")
    printf '%q ' "${cmd[@]}" >"$drv/cmd"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "${cmd[@]}" </dev/null >/dev/null 2>"$drv/err" &
    pid=$!
    local stamp old= still=0 hung=
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.2
        stamp=$(stat -c '%Y %s' "$work/log/ring" 2>/dev/null; md5sum <"$work/log/ring" 2>/dev/null)
        if [ "$stamp" = "$old" ]; then
            still=$((still + 1))
        else
            still=0 old=$stamp
        fi
        if [ "$still" -ge $((hang * 5)) ]; then
            hung=$(last_calls 1 | awk '{ print $3 }')
            kill -KILL "$pid" 2>/dev/null
            break
        fi
    done
    { wait "$pid"; } 2>/dev/null # no "Killed" notice from the shell
    local rc=$?
    pid=
    after=$(snapshot)
    local c
    c=$(ncalls)
    total_calls=$((total_calls + ${c:-0}))
    runs=$((runs + 1))

    why= verdict=ok
    # Signature: each UBSan location once, and the ASan/LSan error with the
    # first frame in the sentry's sources.
    local ub asan frame
    ub=$(grep -a -oE '[^ ]*src/[^ :]+:[0-9]+:[0-9]+: runtime error: .*' "$drv/err" | sed 's/^[./]*//' |
        sed -E 's/(value|address) [-0-9a-fx]+/\1 N/g' | sort -u | head -n 5 | paste -sd';' -)
    asan=$(grep -a -m1 -oE 'ERROR: [A-Za-z]+Sanitizer: [^(]*' "$drv/err")
    if [ -n "$asan" ]; then
        frame=$(sed -n '/ERROR: [A-Za-z]*Sanitizer/,$p' "$drv/err" | grep -a -m1 -E '^ +#[0-9]+ .* in [A-Za-z_0-9]+ .*src/' |
            sed -E 's/.* in ([A-Za-z_0-9]+) .*(src\/[^ ]*)$/\1 \2/')
        asan="$asan${frame:+[$frame]}"
    fi
    if [ -n "$ub$asan" ]; then
        why="sanitizer: ${asan}${asan:+${ub:+; }}${ub}"
    elif [ -n "$hung" ] && [[ ! $hung =~ $blocking ]]; then
        why="hang: no progress for ${hang}s after $hung"
    elif [ -n "$hung" ]; then
        verdict=parked why="parked in $hung"
    elif [[ $guest_status != *" $rc "* ]]; then
        why="status $rc: $(grep -a -v 'unimplemented syscall\|unknown syscall' "$drv/err" | head -n 1)"
    elif [ "$rc" -ne 0 ]; then
        verdict=death why="guest died, status $rc"
    fi
    if [ "$before" != "$after" ]; then
        why="host tree changed outside the writable trees${why:+; $why}"
        verdict=fail
        diff <(echo "$before") <(echo "$after") | head -n 20 >"$drv/snapdiff"
    fi
    if [ "$verdict" = ok ] && [ -n "$why" ]; then
        verdict=fail
        local k
        for k in "${known[@]}"; do
            if grep -a -q -E "${k%%|*}" "$drv/err"; then
                verdict=known why="$why (known: ${k#*|})"
            fi
        done
    fi
}

report() { # seed platform
    echo "--- seed $1 --platform $2: $why"
    [ -f "$drv/snapdiff" ] && sed 's/^/    /' "$drv/snapdiff" && rm -f "$drv/snapdiff"
    echo "    last calls (seq nr name args = result):"
    last_calls "$last" | cut -c1-200 | sed 's/^/      /'
    echo "    stderr:"
    grep -a -v 'unimplemented syscall\|unknown syscall' "$drv/err" | head -n 30 | sed 's/^/      /'
    echo "    replay: $0 $sb $fz --platform $2 --seed $1 --calls $calls --replay"
}

if [ "$replay" -eq 1 ]; then
    for plat in "${plats[@]}"; do
        one "$seed" "$plat"
        echo "seed $seed --platform $plat: $verdict${why:+: $why} ($(ncalls) calls)"
        echo "command: $(cat "$drv/cmd")"
        report "$seed" "$plat"
        [ "$verdict" = fail ] && fails=$((fails + 1))
    done
    [ "$fails" -eq 0 ]
    exit
fi

summary() {
    echo "fuzz: $runs runs, $total_calls calls, seeds $seed..$((s - 1)), platform $platform," \
        "$fails failures${failed_seeds[*]:+ (${failed_seeds[*]})}, $knowns known${known_seeds[*]:+ (${known_seeds[*]})}," \
        "$parked parked, $deaths guest deaths"
}
# Stopped early: still say what was done.
trap 'summary; exit 129' HUP INT TERM

end=$((SECONDS + seconds))
s=$seed
while [ "$SECONDS" -lt "$end" ]; do
    for plat in "${plats[@]}"; do
        one "$s" "$plat"
        case $verdict in
        fail) fails=$((fails + 1)); failed_seeds+=("$s/$plat"); report "$s" "$plat" ;;
        known) knowns=$((knowns + 1)); known_seeds+=("$s/$plat"); echo "--- seed $s --platform $plat: $why" ;;
        parked) parked=$((parked + 1)); echo "--- seed $s --platform $plat: $why (not a failure)" ;;
        death) deaths=$((deaths + 1)) ;;
        esac
    done
    s=$((s + 1))
done
summary
[ "$fails" -eq 0 ]
