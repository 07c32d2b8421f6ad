#!/usr/bin/env bash
# stub.sh: the stub process as the host sees it, on both platforms: while a
# guest spins, /proc/STUB/status shows no capability in any set (the
# bounding set only when sandbox-run runs as root: without CAP_SETPCAP it
# cannot be changed, and there is nothing in it to use), no_new_privs and a
# seccomp filter. Then the stub is killed from the host with SIGKILL, as the
# OOM killer would: sandbox-run exits 125 with one line on stderr.
# Usage: tests/e2e/stub.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init stub tmp "$@"
cd "$tmp" || exit 2

printf 'int main(void) { for (volatile unsigned long i = 0;; i++) ; }\n' > spin.c
musl-gcc -static -O1 -o spin spin.c || exit 2

for plat in systrap ptrace; do
    "$sb" --platform="$plat" --bind "$tmp:$tmp:ro" -- "$tmp/spin" >out 2>err </dev/null &
    pid=$!
    # sandbox-run's only child is the spawner, whose only child is the
    # stub; wait until it runs the guest.
    stub=
    for _ in $(seq 100); do
        spawner=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr -d ' \n')
        stub=$(cat /proc/"$spawner"/task/*/children 2>/dev/null | tr -d ' \n')
        [ -n "$stub" ] && grep -q '^Seccomp:[[:space:]]*2' /proc/"$stub"/status 2>/dev/null && break
        sleep 0.05
    done
    if [ -z "$stub" ]; then
        fail "$plat: no stub process found"
        kill -9 "$pid"
        wait "$pid"
        continue
    fi
    st=$(cat /proc/"$stub"/status)
    field() { awk -v f="$1:" '$1 == f { print $2 }' <<<"$st"; }
    for f in CapInh CapPrm CapEff CapAmb; do
        [ "$(field $f)" = 0000000000000000 ] && ok "$plat: stub $f 0" || fail "$plat: stub $f $(field $f)"
    done
    if [ "$(id -u)" = 0 ]; then
        [ "$(field CapBnd)" = 0000000000000000 ] && ok "$plat: stub CapBnd 0" || fail "$plat: stub CapBnd $(field CapBnd)"
    fi
    [ "$(field NoNewPrivs)" = 1 ] && ok "$plat: stub NoNewPrivs 1" || fail "$plat: stub NoNewPrivs $(field NoNewPrivs)"
    [ "$(field Seccomp)" = 2 ] && ok "$plat: stub Seccomp 2" || fail "$plat: stub Seccomp $(field Seccomp)"
    # No descriptor but the fd-passing socket (4).
    fds=$(ls /proc/"$stub"/fd | tr '\n' ' ')
    [ "$fds" = "4 " ] && ok "$plat: stub holds only fd 4" || fail "$plat: stub fds: $fds"

    kill -9 "$stub"
    wait "$pid"
    rc=$?
    lines=$(wc -l <err)
    if [ "$rc" -eq 125 ] && [ "$lines" -eq 1 ] && grep -q '^sandbox-run: .*killed from outside' err; then
        ok "$plat: stub killed from the host: status 125, one line"
    else
        fail "$plat: stub killed from the host: status $rc, stderr:"
        head -5 err
    fi
done
[ $fails -eq 0 ]
