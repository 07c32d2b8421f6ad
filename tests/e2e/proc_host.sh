#!/usr/bin/env bash
# proc_host.sh: the host's own dynamically linked programs, run with the
# default root (the host's /, read-only) natively and inside the sandbox,
# in the same scratch directory (bound read-write at its own path, reset
# before each run): /bin/bash scripts with pipes, loops, process
# substitution and background jobs; /usr/bin/env; /usr/bin/python3 with
# threading, subprocess and multiprocessing; /usr/bin/perl with fork,
# pipes and backticks; make building a small C program with the host's cc
# (cc1, as, collect2 and ld all run inside the sandbox), then running it;
# bash traps, kill %1, wait -n and a stopped job; python3's alarm,
# setitimer, signal.pause, sigtimedwait, a stopped and continued child and
# selectors; python3's asyncio (timers, subprocesses, wait_for, streams
# over a socketpair).
# stdout and the exit status must match. Every program gets the same
# small environment (env -i) on both sides.
#
# multiprocessing keeps its semaphores in /dev/shm, so the python runs get
# a tmpfs there in the sandbox (--tmpfs /dev/shm); natively the host's.
# Skipped (exit 77) while the sandbox cannot run a dynamic program that
# forks: the probe is `/bin/sh -c 'true | true'` inside it.
# Usage: tests/e2e/proc_host.sh SANDBOX_RUN
#   (tests/e2e/native-run.sh as SANDBOX_RUN checks this script's own logic)
set -u
. "$(dirname "$0")/lib.sh"
e2e_init proc-host beside "$@"
export LC_ALL=C

if ! timeout 30 "$sb" -- /bin/sh -c 'true | true' </dev/null >/dev/null 2>&1; then
    echo "skip: the sandbox cannot run a dynamic program that forks yet (/bin/sh -c 'true | true')"
    exit 77
fi

w=$tmp/w
fixture() {
    rm -rf "$w" && mkdir -p "$w" || exit 2
    cat >"$w/main.c" <<'EOF'
#include <stdio.h>
int twice(int);
int main(void) { printf("built in the sandbox: %d\n", twice(21)); return 0; }
EOF
    cat >"$w/util.c" <<'EOF'
int twice(int x) { return 2 * x; }
EOF
    printf 'CC = cc\nall: hello\nhello: main.o util.o\n\t$(CC) -o $@ main.o util.o\n%%.o: %%.c\n\t$(CC) -O1 -c $<\nclean:\n\trm -f hello *.o\n' >"$w/Makefile"
}

# t NAME [SANDBOX-OPTION...] -- PROGRAM [ARG...]
t() {
    local name=$1 ns ss
    shift
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    local envv=(env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$w")
    fixture
    (cd "$w" && timeout 120 "${envv[@]}" "$@" </dev/null >"$tmp/n.out" 2>"$tmp/n.err")
    ns=$?
    fixture
    (cd "$w" && timeout 120 "${envv[@]}" "$sb" --bind "$w:$w" --cwd "$w" "${opts[@]}" -- "$@" \
        </dev/null >"$tmp/s.out" 2>"$tmp/s.err")
    ss=$?
    compare_runs "$name" "$ns" "$ss"
}

# shellcheck disable=SC2016 # expanded by the programs under test
{
t "bash pipes and loops" -- /bin/bash -c '
    seq 1 50 | grep 5 | sort -rn | head -3
    for i in 1 2 3; do echo "$i squared $((i * i))"; done | tac
    total=0; while read n; do total=$((total + n)); done < <(seq 1 100); echo "total $total"
    diff <(echo same) <(echo same) && echo "process substitution"
    out=$(ls /nonexistent 2>&1 | wc -l); echo "lines $out"
    (exit 4); echo "subshell $?"
    for i in 1 2 3; do (echo "job $i" > "job.$i") & done; wait; cat job.1 job.2 job.3
    sleep 30 & kill $!; wait $!; echo "killed job $?"
    bash -c "exit 9"; echo "child bash $?"'
t "bash exit status" -- /bin/bash -c 'echo out; exit 3'
t "env" -- /usr/bin/env -i A=1 'B=two words' /usr/bin/env
t "env runs a program" -- /usr/bin/env /bin/echo via env
t "python3 threading" -- /usr/bin/python3 -c '
import threading
res = [0] * 16
def work(i): res[i] = sum(range(i * 1000))
ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for t in ts: t.start()
for t in ts: t.join()
print(res[:4], sum(res))
lock = threading.Lock(); n = [0]
def inc():
    for _ in range(10000):
        with lock: n[0] += 1
ts = [threading.Thread(target=inc) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("counter", n[0])'
t "python3 subprocess" -- /usr/bin/python3 -c '
import subprocess, sys
print(subprocess.run(["/bin/echo", "from echo"], capture_output=True, text=True).stdout.strip())
print("status", subprocess.run(["/bin/sh", "-c", "exit 3"]).returncode)
p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
print(p.communicate("through cat\n")[0].strip(), p.returncode)
print(subprocess.check_output("seq 1 5 | tac | head -2", shell=True, text=True).split())
sys.exit(5)'
t "python3 multiprocessing" --tmpfs /dev/shm -- /usr/bin/python3 -c '
import multiprocessing as mp, os
def sq(x): return x * x
def child(q): q.put(("child", os.getppid() == parent))
if __name__ == "__main__":
    parent = os.getpid()
    with mp.Pool(2) as p: print(p.map(sq, range(10)))
    q = mp.Queue(); pr = mp.Process(target=child, args=(q,)); pr.start()
    print(q.get()); pr.join(); print("exitcode", pr.exitcode)'
t "perl fork" -- /usr/bin/perl -e '
$| = 1;
my $parent = $$;
my $pid = fork();
if ($pid == 0) { print "child ppid ok\n" if getppid() == $parent; exit 3 }
waitpid($pid, 0); print "status ", $? >> 8, "\n";
open(my $f, "-|", "/bin/echo", "piped") or die; print "read: ", <$f>; close $f;
print "backticks: ", `echo hi | tr a-z A-Z`;
my @kids = map { my $p = fork(); if (!$p) { exit $_ } $p } 1 .. 5;
my $sum = 0; for (@kids) { waitpid($_, 0); $sum += $? >> 8 } print "sum $sum\n";
system("/bin/sh", "-c", "exit 7"); print "system ", $? >> 8, "\n"'
t "make and cc" -- /bin/sh -c 'make -j2 && ./hello && make && make clean'
t "bash signals and jobs" -- /bin/bash -c '
    trap "echo got USR1" USR1
    trap "echo got TERM; exit 6" TERM
    sleep 20 & p=$!
    kill -USR1 $$
    kill %1; wait $p; echo "job killed: $?"
    (sleep 0.3; exit 3) & (sleep 0.1; exit 4) &
    wait -n; echo "wait -n: $?"
    wait
    sleep 20 & q=$!; kill -STOP $q; kill -CONT $q; kill -KILL $q; wait $q; echo "stopped, continued, killed: $?"
    kill -TERM $$; echo "not reached"'
t "python3 signals and timers" -- /usr/bin/python3 -c '
import os, select, selectors, signal, time
got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append("alarm"))
signal.alarm(1); time.sleep(3); print("alarm:", got)
signal.signal(signal.SIGALRM, lambda s, f: got.append("itimer"))
signal.setitimer(signal.ITIMER_REAL, 0.2, 0.1)
while got.count("itimer") < 3: signal.pause()
signal.setitimer(signal.ITIMER_REAL, 0); print("itimer fired", got.count("itimer"), "times")
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
os.kill(os.getpid(), signal.SIGUSR1)
si = signal.sigtimedwait({signal.SIGUSR1}, 1); print("sigtimedwait:", si.si_signo == signal.SIGUSR1, si.si_pid == os.getpid())
pid = os.fork()
if pid == 0: time.sleep(30); os._exit(0)
os.kill(pid, signal.SIGSTOP); print("stopped:", os.WIFSTOPPED(os.waitpid(pid, os.WUNTRACED)[1]))
os.kill(pid, signal.SIGCONT); print("continued:", os.WIFCONTINUED(os.waitpid(pid, os.WCONTINUED)[1]))
os.kill(pid, signal.SIGTERM); print("killed by", os.WTERMSIG(os.waitpid(pid, 0)[1]))
sel = selectors.DefaultSelector(); r, w = os.pipe(); sel.register(r, selectors.EVENT_READ)
os.write(w, b"x"); print("selectors:", len(sel.select(1)))'
t "python3 asyncio" -- /usr/bin/python3 -c '
import asyncio, socket
async def tick(name, delay, out):
    await asyncio.sleep(delay); out.append(name)
async def main():
    out = []
    await asyncio.gather(tick("b", 0.2, out), tick("a", 0.1, out), tick("c", 0.3, out))
    print("timers:", out)
    p = await asyncio.create_subprocess_exec("/bin/echo", "from echo", stdout=asyncio.subprocess.PIPE)
    print("echo:", (await p.stdout.read()).decode().strip(), await p.wait())
    p = await asyncio.create_subprocess_exec("/bin/cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    o, _ = await p.communicate(b"through cat\n"); print("cat:", o.decode().strip(), p.returncode)
    try:
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.2)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    wa.write(b"ping\n"); await wa.drain()
    line = await rb.readline(); print("b got", line)
    wb.write(b"pong " * 20000 + b"\n"); await wb.drain()
    print("a got", len(await ra.readexactly(100001)), "bytes")
    wa.close(); await wa.wait_closed()
    print("eof:", await rb.read())
    wb.close(); await wb.wait_closed()
asyncio.run(main())
print("done")'
}

echo "# proc_host: $fails failed"
[ "$fails" -eq 0 ]
