#!/usr/bin/env bash
# gdb_sigframe.sh: gdb's backtrace walks out of a signal handler through the
# sentry's signal frame as through the kernel's. tests/guest/sig_gdb.c
# (musl and glibc builds, static, with -g) calls f1, f2, f3, which takes a
# signal: SIGUSR1 from tgkill to an SA_SIGINFO handler ("usr1"), or a
# SIGSEGV to an SA_SIGINFO handler on the alternate stack, which fixes the
# fault ("segv"). The handler calls in_handler, which prints "ready" and
# spins in the guest's own code. The host's gdb then attaches (batch mode)
# to the host process that runs the program: natively the program itself,
# sandboxed (systrap) the stub process of its address space, a descendant
# of sandbox-run that maps the program's file (a spare stub maps none), with
# the program's file for the symbols. Its backtrace, each frame's function
# and return address, must be
#   in_handler, on_usr1|on_segv, <signal handler called>, f3, f2, f1, main
# and the same natively and sandboxed: gdb finds the sigreturn trampoline
# (the program's sa_restorer, __restore_rt: by its name in musl, by its CFI
# in glibc) and reads the interrupted registers from the ucontext the frame
# holds at the trampoline's stack pointer. gdb then detaches, a SIGUSR2
# ends the wait (sandboxed: sent to sandbox-run, which passes it to pid 1),
# the handler returns through rt_sigreturn, and the program's output and
# status must match the native run's.
# Only systrap: under --platform=ptrace the sentry is the stub's tracer, and
# a thread has one tracer, so gdb cannot attach there; that run checks that
# gdb is refused and the program goes on and ends as natively.
# gdb must be installed (tools/setup.sh installs it); skipped (77) only where
# the host refuses gdb's ptrace of the native program (Yama's ptrace_scope
# above 0 without CAP_SYS_PTRACE, since gdb is not the program's ancestor;
# a container whose seccomp profile refuses ptrace).
# With tests/e2e/native-run.sh as SANDBOX_RUN, which checks this script's
# logic, every run is native: all passes but the ptrace refusals.
# Usage: tests/e2e/gdb_sigframe.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init gdb_sigframe beside "$@"
cd "$tmp" || exit 2

gdb=$(command -v gdb) || {
    echo "FAIL no gdb on this host (tools/setup.sh installs it)"
    exit 1
}

# The programs as meson built them next to sandbox-run, else built here; a
# copy in the scratch directory, which the guest sees at the same path.
for b in sig_gdb sig_gdb.glibc; do
    built=$(dirname "$sb")/tests/guest/$b
    if [ -x "$built" ]; then
        cp "$built" "$b" || exit 2
    elif [ "$b" = sig_gdb ]; then
        ${MUSL_GCC:-musl-gcc} -static -g -O1 -std=gnu17 -I "$src/../../include" \
            "$src/../guest/sig_gdb.c" -o "$b" || exit 2
    else
        ${GLIBC_CC:-gcc} -static -g -O1 -std=gnu17 "$src/../guest/sig_gdb.c" -o "$b" || exit 2
    fi
done

# The program or sandbox-run that runs now, killed if the script ends early.
running=
trap '[ -n "$running" ] && kill -9 "$running" 2>/dev/null; rm -rf "$tmp"' EXIT

state() { awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null; }
descendants() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}
# host_of PID FILE: PID or the descendant of it that maps FILE (by path and
# inode): the host process whose threads run the program.
host_of() {
    local ino p
    ino=$(stat -c %i "$2") || return 1
    for p in "$1" $(descendants "$1"); do
        awk -v f="$2" -v i="$ino" '$5 == i && $6 == f { m = 1 } END { exit !m }' \
            "/proc/$p/maps" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

# The backtrace, one frame a line: the function, and for the callers the
# address gdb gives (a return address, or the interrupted instruction's
# after the signal frame). The innermost frame's address is wherever the
# spin was stopped: not compared.
frames() {
    awk '/^#[0-9]+ / {
        if ($0 ~ /<signal handler called>/) { print "<signal handler called>"; next }
        n = $1; l = $0; a = ""
        sub(/^#[0-9]+ +/, "", l)
        if (l ~ /^0x[0-9a-f]+ in /) { a = l; sub(/ in .*/, "", a); sub(/^0x[0-9a-f]+ in /, "", l) }
        sub(/^0x0+/, "0x", a)
        sub(/ .*/, "", l)
        if (n != "#0")
            l = l " " a
        print l
    }' "$1"
}

# run native|systrap|ptrace PROG MODE OUT: runs PROG MODE, natively or
# sandboxed on that platform, its stdout in OUT.out and stderr in OUT.err;
# once it is ready gdb's answer in OUT.gdb and the frames of its backtrace
# in OUT.bt; then releases it; its status in st (killed after 30 s if it
# does not end; it has 30 s to get ready).
run() {
    local how=$1 prog=$2 mode=$3 o=$4 pid host
    rm -f "$o".*
    if [ "$how" = native ]; then
        "$tmp/$prog" "$mode" >"$o.out" 2>"$o.err" </dev/null &
    else
        "$sb" --platform="$how" --bind "$tmp:$tmp:ro" -- "$tmp/$prog" "$mode" \
            >"$o.out" 2>"$o.err" </dev/null &
    fi
    pid=$!
    running=$pid
    for _ in $(seq 600); do
        grep -q '^ready$' "$o.out" 2>/dev/null && break
        sleep 0.05
    done
    if grep -q '^ready$' "$o.out" && host=$(host_of "$pid" "$tmp/$prog"); then
        # gdb detaches as it quits: the thread goes on spinning.
        timeout 60 "$gdb" -nx -batch -iex 'set exec-file-mismatch off' \
            -iex 'set debuginfod enabled off' -iex 'set print frame-arguments none' \
            -iex 'set print frame-info location-and-address' \
            -p "$host" -ex bt "$tmp/$prog" </dev/null >"$o.gdb" 2>&1
        frames "$o.gdb" >"$o.bt"
    fi
    kill -USR2 "$pid" 2>/dev/null
    for _ in $(seq 600); do
        case $(state "$pid") in Z | X | '') break ;; esac
        sleep 0.05
    done
    case $(state "$pid") in
    Z | X | '') ;;
    *) kill -9 "$pid" ;;
    esac
    wait "$pid"
    st=$?
    running=
}

# check_shape OUT WHAT NAME: OUT.bt is the handler, in_handler, the signal
# frame, f3, f2, f1, main (the handler's name in want).
check_shape() {
    if [ ! -s "$1.bt" ]; then
        fail "$3: no backtrace $2"
        sed -n '1,5s/^/  /p' "$1.gdb" "$1.err" 2>/dev/null
    elif ! awk '{ f = $1 == "<signal" ? $0 : $1; print f }' "$1.bt" | cmp -s - want; then
        fail "$3: the backtrace $2 is not in_handler, the handler, the signal frame, f3, f2, f1, main"
        grep '^#' "$1.gdb" | sed 's/^/  /'
    fi
}

for prog in sig_gdb sig_gdb.glibc; do
    for mode in usr1 segv; do
        name="$prog $mode"
        printf '%s\n' in_handler "on_$mode" '<signal handler called>' f3 f2 f1 main >want
        run native "$prog" "$mode" n
        ns=$st
        if grep -q '^ptrace: Operation not permitted' n.gdb 2>/dev/null; then
            echo "the host refuses gdb's ptrace of a native program: skipped"
            exit 77
        fi
        check_shape n natively "$name"
        run systrap "$prog" "$mode" s
        check_shape s sandboxed "$name"
        if [ -s n.bt ] && [ -s s.bt ]; then
            if cmp -s n.bt s.bt; then
                ok "$name: gdb's backtrace ($(tr '\n' ' ' <s.bt | sed 's/ *$//'))"
            else
                fail "$name: gdb's backtraces differ"
                diff -u --label native --label sandbox n.bt s.bt | sed 's/^/  /'
            fi
        fi
        compare_runs "$name: output after gdb detached" "$ns" "$st"
        # Under ptrace gdb is refused, and the program goes on as natively.
        run ptrace "$prog" "$mode" s
        if grep -q '^ptrace: Operation not permitted' s.gdb 2>/dev/null && [ ! -s s.bt ]; then
            ok "$name (ptrace): gdb may not attach, the sentry traces the stub"
        else
            fail "$name (ptrace): gdb was not refused"
            sed -n '1,5s/^/  /p' s.gdb 2>/dev/null
        fi
        compare_runs "$name (ptrace): output after gdb's refusal" "$ns" "$st"
    done
done
[ $fails -eq 0 ]
