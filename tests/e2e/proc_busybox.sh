#!/usr/bin/env bash
# proc_busybox.sh: busybox sh scripts that create processes, run natively
# and inside the sandbox in the same scratch directory (bound at its own
# path, reset to the same files before each run): pipelines, subshells,
# command substitution, background jobs and wait, xargs -P4, find -exec,
# here-documents, loops, exit statuses, signals to jobs, traps, awk's
# pipes and system(), busybox timeout (TERM and KILL). stdout and the exit status must match.
#
# Skipped (exit 77) while the sandbox cannot fork: the probe is
# `busybox sh -c 'true | true'` inside it.
# Usage: tests/e2e/proc_busybox.sh SANDBOX_RUN
#   (tests/e2e/native-run.sh as SANDBOX_RUN checks this script's own logic)
# Env: BUSYBOX (/bin/busybox).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init proc-busybox beside "$@"
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "proc_busybox.sh: no $bb (apt-get install busybox-static)" >&2; exit 2; }
export LC_ALL=C

if ! timeout 30 "$sb" -- "$bb" sh -c 'true | true' </dev/null >/dev/null 2>&1; then
    echo "skip: the sandbox cannot fork yet (busybox sh -c 'true | true' fails in it)"
    exit 77
fi

w=$tmp/w
fixture() {
    rm -rf "$w" && mkdir -p "$w/d/sub" || exit 2
    printf 'one\ntwo\nthree\n' >"$w/d/a.txt"
    printf 'needle\nhay\n' >"$w/d/sub/b.txt"
    printf 'x\n' >"$w/d/sub/c.dat"
}

# t NAME SCRIPT: the script under busybox sh, natively then sandboxed.
t() {
    local name=$1 script=$2 ns ss
    fixture
    (cd "$w" && env -i PATH=/usr/bin:/bin LC_ALL=C timeout 60 "$bb" sh -c "$script" \
        </dev/null >"$tmp/n.out" 2>"$tmp/n.err")
    ns=$?
    fixture
    (cd "$w" && env -i PATH=/usr/bin:/bin LC_ALL=C timeout 60 "$sb" --bind "$w:$w" --cwd "$w" -- \
        "$bb" sh -c "$script" </dev/null >"$tmp/s.out" 2>"$tmp/s.err")
    ss=$?
    compare_runs "$name" "$ns" "$ss"
}

# shellcheck disable=SC2016 # every script is expanded by busybox sh
{
t pipeline 'seq 1 100 | grep 7 | wc -l; seq 1 5 | sort -r | head -2 | tr "\n" " "; echo'
t "long pipeline" 'seq 1 2000 | cat | cat | cat | cat | cat | cat | grep -c 1'
t "pipeline status" 'false | true; echo $?; true | false; echo $?; ! true; echo $?'
t subshell 'x=1; (x=2; echo in $x; cd d; pwd); echo out $x; pwd'
t "command substitution" 'a=$(echo hi | tr a-z A-Z); b=`expr 3 + 4`; echo "$a $b $(echo $(echo nested))"'
t "background and wait" 'for i in 1 2 3 4; do (echo job$i > f$i) & done; wait; cat f1 f2 f3 f4'
t "wait status" 'sh -c "exit 3" & p=$!; wait $p; echo st=$?; (exit 5) & wait $!; echo st=$?'
t "kill a job" 'sleep 30 & p=$!; kill $p; wait $p; echo st=$?'
t "kill -9 a job" 'sleep 30 & p=$!; kill -9 $p; wait $p; echo st=$?'
t "job signals itself" 'sh -c "kill -TERM \$\$"; echo st=$?; sh -c "kill -INT \$\$"; echo st=$?'
t "xargs -P4" 'seq 1 20 | xargs -P4 -n1 expr 2 \* | sort -n | tr "\n" " "; echo'
t "xargs -P4 sh" 'seq 1 12 | xargs -P4 -n1 sh -c "echo \$((\$1 * \$1)) > sq.\$1" _; cat sq.* | sort -n | tr "\n" " "; echo'
t "find -exec ;" 'find d -type f -exec wc -c {} \; | sort'
t "find -exec +" 'find d -name "*.txt" -exec cat {} + | sort'
t here-doc 'x=var; cat <<EOF
line one $x
$(echo substituted)
EOF
while read a b; do echo "$b $a"; done <<EOF
1 one
2 two
EOF
cat <<"EOF"
not $expanded
EOF'
t loops 'for i in $(seq 1 6); do sh -c "exit $i"; echo "$i -> $?"; done; n=0; while [ $n -lt 5 ]; do n=$((n+1)); done; echo n=$n'
t "exit status" 'echo before; exit 7'
t "set -e" '(set -e; echo a; false; echo never); echo sub=$?'
t trap '(trap "echo trapped on exit" EXIT; echo body); sh -c "trap \"echo got TERM; exit 9\" TERM; kill -TERM \$\$; echo not here"; echo st=$?'
t "exec" 'sh -c "exec echo replaced; echo not here"; (exec sh -c "exit 4"); echo st=$?'
t "read from a pipe" 'echo a b c | { read x y z; echo $z $y $x; }; printf "1\n2\n3\n" | while read l; do echo got $l; done'
t "awk pipes" 'awk "BEGIN { while ((\"seq 3\" | getline l) > 0) print \"got \" l; r = system(\"exit 3\"); print \"system \" r; print \"to sort\" | \"sort\" }"'
t "nested shells" 'sh -c "sh -c \"sh -c \\\"echo deep; exit 6\\\"\"; echo mid=\$?"; echo top=$?'
t "many processes" 'i=0; while [ $i -lt 100 ]; do /bin/busybox true; i=$((i+1)); done; echo done $i'
t "redirections across processes" 'exec 3>log; (echo from-sub >&3); sh -c "echo from-child >&3"; echo from-shell >&3; exec 3>&-; cat log'
t "sleep and time order" '(sleep 0.2; echo second) & echo first; wait'
# timeout's watcher kills its parent, which ran exec sleep: 1 s, not 5.
# (The command must not be the sandbox's pid 1: like a pid namespace's
# init, pid 1 ignores default-action signals from inside the sandbox, so
# `sandbox-run -- busybox timeout 1 sleep 5` takes 5 s, as it would as a
# container's init; docs/architecture.md, Signals.)
t "timeout" 'for s in TERM KILL; do a=$(date +%s); timeout -s $s 1 sleep 5; st=$?; e=$(($(date +%s) - a)); [ $e -lt 4 ] && echo "$s: within 4 s, status $st" || echo "$s: took $e s, status $st"; done'
}

echo "# proc_busybox: $fails failed"
[ "$fails" -eq 0 ]
