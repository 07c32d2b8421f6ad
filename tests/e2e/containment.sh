#!/usr/bin/env bash
# containment.sh: killing sandbox-run from the host leaves nothing behind.
# A guest (containment_block.c) blocks for good in a pipe read; sandbox-run (started with SIGINT
# and SIGQUIT at their defaults, as a terminal's foreground job has them,
# not ignored as a script's background job would) is sent SIGTERM, SIGINT
# or SIGKILL, on both platforms, then:
#  - sandbox-run must be gone within 10 s (its status is printed, not
#    checked: whether it forwards the signal to the guest is its choice);
#  - every stub process it had (its children, recorded with their start
#    times before the signal so that a reused pid is not mistaken for one)
#    must be dead within 5 s: gone, or a zombie (reaping the orphan is
#    init's business, and some inits take a second or more).
# A variant whose guest ignores SIGTERM and SIGINT is then sent SIGKILL.
# Anything left over is reported and then killed by its recorded pid.
# Usage: tests/e2e/containment.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init containment beside "$@"
cd "$tmp" || exit 2

musl-gcc -static -O1 -o block "$src/containment_block.c" || exit 2

# The start time (field 22 of /proc/PID/stat) names a process for good.
starttime() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
# Alive: that same process, not yet dead. A zombie no longer runs: the
# orphaned stub waits there for init to reap it, which some inits (in
# containers) do only every second or so.
state() { awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null; }
alive() {
    [ -n "$(starttime "$1")" ] && [ "$(starttime "$1")" = "$2" ] &&
        case $(state "$1") in Z | X | '') false ;; *) true ;; esac
}

# run PLATFORM SIGNAL [GUEST-ARG]
run() {
    local plat=$1 sig=$2 arg=${3:-} name pid stubs=() starts=() i st left=
    name="$plat: SIG$sig${arg:+ (guest ignores TERM and INT)}"
    rm -f out err
    env --default-signal=INT,QUIT "$sb" --platform="$plat" --bind "$tmp:$tmp:ro" -- \
        "$tmp/block" ${arg:+"$arg"} >out 2>err </dev/null &
    pid=$!
    for _ in $(seq 200); do
        grep -q ready out 2>/dev/null && break
        sleep 0.05
    done
    if ! grep -q ready out; then
        fail "$name: the guest did not start"
        head -3 err
        kill -9 "$pid"
        { wait "$pid"; } 2>/dev/null
        return
    fi
    # sandbox-run's child, the spawner, and the spawner's children, the stubs.
    for s in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        stubs+=("$s")
        starts+=("$(starttime "$s")")
        for c in $(cat /proc/"$s"/task/*/children 2>/dev/null); do
            stubs+=("$c")
            starts+=("$(starttime "$c")")
        done
    done
    if [ ${#stubs[@]} -eq 0 ]; then
        fail "$name: no stub process found"
        kill -9 "$pid"
        { wait "$pid"; } 2>/dev/null
        return
    fi
    local sbstart
    sbstart=$(starttime "$pid")
    kill -"$sig" "$pid"
    # sandbox-run is our child: wait for it, with a deadline. The shell may
    # reap it meanwhile and the pid be reused: alive compares start times.
    for _ in $(seq 200); do
        alive "$pid" "$sbstart" || break
        sleep 0.05
    done
    if alive "$pid" "$sbstart"; then
        if [ -n "$arg" ] && [ "$sig" != KILL ]; then
            # A guest that ignores the signal may keep sandbox-run alive.
            ok "$name: sandbox-run still running (the guest ignores it); now SIGKILL"
            kill -KILL "$pid"
        else
            fail "$name: sandbox-run still running 10 s after the signal"
            kill -KILL "$pid"
        fi
    fi
    { wait "$pid"; } 2>/dev/null
    st=$?
    for _ in $(seq 100); do
        left=
        for i in "${!stubs[@]}"; do
            alive "${stubs[$i]}" "${starts[$i]}" && left+=" ${stubs[$i]}"
        done
        [ -z "$left" ] && break
        sleep 0.05
    done
    if [ -z "$left" ]; then
        ok "$name: sandbox-run exited $st, no stub left (${#stubs[@]} stub(s))"
    else
        fail "$name: sandbox-run exited $st, stub(s) left:$left"
        for i in $left; do
            sed 's/^/  /' /proc/"$i"/status 2>/dev/null | grep -E '^  (Name|State|PPid)'
            kill -9 "$i" 2>/dev/null
        done
    fi
}

# stderr off: bash's own "Killed" notices about the jobs.
for plat in systrap ptrace; do
    for sig in TERM INT KILL; do
        run "$plat" "$sig" 2>/dev/null
    done
    run "$plat" TERM ignore 2>/dev/null
    run "$plat" KILL ignore 2>/dev/null
done
echo "# containment: $fails failed"
[ "$fails" -eq 0 ]
