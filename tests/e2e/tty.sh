#!/usr/bin/env bash
# tty.sh: the guest's controlling terminal. Each run gets a fresh
# pseudo-terminal from tests/e2e/tty_drive.py (the command is the leader of
# a new session with the terminal as its controlling terminal, as under
# python's pty.fork()), which types into it and prints what it showed,
# normalised. Native and sandboxed runs on both platforms must show the
# same and end with the same status:
#  a. tty_ctl (tests/guest/tty_ctl.c): /dev/tty, the job-control ioctls,
#     termios, background reads and writes, a line typed to a foreground
#     child;
#  b. an interactive bash in the sandbox: a job ended by Ctrl-C (status
#     130), one stopped by Ctrl-Z, listed by jobs, continued by fg, ended by
#     Ctrl-C, and one that handles SIGTSTP as less and vi do (stops itself
#     from its handler), continued by fg;
#  c. the sandbox as a job of an interactive bash on the host: the same,
#     Ctrl-Z stops sandbox-run as it would stop the program, and the
#     program's handlers run for SIGTSTP and SIGCONT (the job is a small
#     program that says when it runs and when SIGCONT continues it, so that
#     no Ctrl-C or Ctrl-Z is typed before it runs);
#  d. (sandbox only: natively the settings would stay changed) the
#     terminal's settings are those from before once sandbox-run ended
#     after its guest set raw mode and -echo: a normal exit (checked under
#     an interactive bash), and deaths by SIGTERM and SIGINT. Not after
#     SIGKILL, which no program can catch;
#  e. (sandbox only) TIOCSTI is refused, even to the guest's root, and
#     types nothing into the host's terminal.
# With tests/e2e/native-run.sh as SANDBOX_RUN, which checks this script's
# logic, a to c pass and d and e fail.
# Skipped (77) without python3. Usage: tests/e2e/tty.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init tty beside "$@"
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
cd "$tmp" || exit 2

# tty_ctl as meson built it next to sandbox-run, else built here; a copy in
# the scratch directory, which the guest sees wherever the build is.
built=$(dirname "$sb")/tests/guest/tty_ctl
if [ -x "$built" ]; then
    cp "$built" tty_ctl || exit 2
else
    ${MUSL_GCC:-musl-gcc} -static -O1 -std=gnu17 -I "$src/../../include" "$src/../guest/tty_ctl.c" \
        -o tty_ctl || exit 2
fi

cat >sleeper.c <<'EOF'
#include <signal.h>
#include <string.h>
#include <unistd.h>
static void say(const char *m)
{
    write(1, m, strlen(m));
}
static void on_cont(int s)
{
    (void)s;
    say("continued\n");
}
/* As interactive programs (less, vi) take the terminal's stop: put the
 * terminal right, then stop for real, and take it again once continued
 * (saying so then: a line written at once could come before the
 * terminal's echo of the Ctrl-Z). */
static void on_tstp(int s)
{
    signal(s, SIG_DFL);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, s);
    sigprocmask(SIG_UNBLOCK, &m, 0);
    raise(s);
    say("resumed in its SIGTSTP handler\n");
    signal(s, on_tstp);
}
/* sleeper [tstp]: says it runs, then sleeps until a signal ends it; says
 * so each time SIGCONT continues it; with "tstp" it handles SIGTSTP. */
int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cont;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCONT, &sa, 0);
    if (argc > 1 && strcmp(argv[1], "tstp") == 0)
        signal(SIGTSTP, on_tstp);
    say("sleeping\n");
    for (;;)
        pause();
}
EOF
${MUSL_GCC:-musl-gcc} -static -O1 sleeper.c -o sleeper || exit 2

# drive OUT TTY_DRIVE_ARGS...: runs tty_drive.py (every signal at its
# default: a script's background job has SIGINT and SIGQUIT ignored) into
# OUT, less the sandbox's notes on unimplemented syscalls, which it writes
# to the same terminal; its stderr to OUT with .out made .err. Prints the
# command's status, as the driver's last line gives it.
drive() {
    local out=$1
    shift
    env --default-signal python3 "$src/tty_drive.py" "$@" 2>"${out%.out}.err" |
        grep -av '^sandbox-run: unimplemented syscall' >"$out"
    sed -n 's/^status //p' "$out" | tail -n 1
}

# Checks that a native transcript says what Linux does: OUT LABEL
# PATTERN...: each an extended regular expression for one whole line.
native_has() {
    local out=$1 label=$2 p
    shift 2
    for p in "$@"; do
        if ! grep -qxE "$p" "$out"; then
            fail "native: $label: no line $p"
            sed 's/^/  native: /' "$out" | head -40
            return
        fi
    done
    ok "native: $label"
}

plats=(systrap ptrace)
# The guest is uid 0 unless told otherwise: as an unprivileged user both
# runs are that user (as in tests/guest/compare.sh).
user=()
[ "$(id -u)" -eq 0 ] || user=(--user "$(id -u):$(id -g)")

# a. tty_ctl.
a=(--timeout 45 e:'ready for a line' 's:typed by the driver\n' --)
ns=$(drive "$tmp/n.out" "${a[@]}" "$tmp/tty_ctl")
native_has "$tmp/n.out" "tty_ctl" '# [0-9]+ checks, 0 failed' 'status 0'
for plat in "${plats[@]}"; do
    ss=$(drive "$tmp/s.out" "${a[@]}" "$sb" --platform="$plat" "${user[@]}" -- "$tmp/tty_ctl")
    compare_runs "$plat: tty_ctl on a terminal" "$ns" "$ss"
done

# b and c: a job ended by Ctrl-C, one stopped by Ctrl-Z and continued by
# fg, then ended by Ctrl-C, and the same with a job that handles SIGTSTP;
# JOB is what bash is told to run.
job_steps() {
    local job=$1
    steps=(e:'\$ $' "s:$job\n" e:'sleeping\n' 's:\x03' e:'\$ $' 's:echo st=$?\n'
        e:'st=[0-9]+\n\$ $' "s:$job\n" e:'sleeping\n' 's:\x1a' e:'Stopped.*\n\$ $' 's:jobs\n'
        e:'Stopped.*\n\$ $' 's:fg\n' e:'continued\n' 's:\x03' e:'\$ $' 's:echo st=$?\n'
        e:'st=[0-9]+\n\$ $' "s:$job tstp\n" e:'sleeping\n' 's:\x1a' e:'Stopped.*\n\$ $'
        's:fg\n' e:'resumed.*\n' 's:\x03' e:'\$ $' 's:echo st=$?\n' e:'st=[0-9]+\n\$ $'
        's:exit\n')
}
# PS1 is set by env(1) right before bash: a non-interactive bash on the way
# (tests/e2e/native-run.sh) would drop it.
shell_env=(--env HISTFILE= --env TERM=dumb --env LC_ALL=C)
bash_i=(/usr/bin/env 'PS1=$ ' /bin/bash --norc --noprofile -i)
want_job=('\$ \./sleeper' 'sleeping' 'st=130' '\[1\]\+ +Stopped +\./sleeper' '\$ fg' 'continued'
    '\[1\]\+ +Stopped +\./sleeper tstp' 'resumed in its SIGTSTP handler' 'status 0')

# b. bash in the sandbox.
job_steps ./sleeper
ns=$(drive "$tmp/n.out" "${shell_env[@]}" "${steps[@]}" -- "${bash_i[@]}")
native_has "$tmp/n.out" "interactive bash, Ctrl-C, Ctrl-Z, fg" "${want_job[@]}"
for plat in "${plats[@]}"; do
    ss=$(drive "$tmp/s.out" "${shell_env[@]}" "${steps[@]}" -- "$sb" --platform="$plat" "${user[@]}" -- "${bash_i[@]}")
    compare_runs "$plat: interactive bash in the sandbox: Ctrl-C, Ctrl-Z, jobs, fg" "$ns" "$ss"
done

# c. the sandbox as a job of the host's bash (the command typed differs:
# the sandbox's part of it is taken out of what the terminal showed). The
# native run is b's.
for plat in "${plats[@]}"; do
    pre="$sb --platform=$plat ${user[*]}${user[*]:+ }-- "
    job_steps "$pre./sleeper"
    ss=$(drive "$tmp/s.out" "${shell_env[@]}" --strip "$pre" "${steps[@]}" -- "${bash_i[@]}")
    compare_runs "$plat: the sandbox as a host shell's job: Ctrl-C, Ctrl-Z, jobs, fg" "$ns" "$ss"
done

# d. The terminal's settings after the guest made it raw and -echo
# (sandbox only). A normal exit, under the host's bash: stty -g before
# and after.
for plat in "${plats[@]}"; do
    pre="$sb --platform=$plat ${user[*]}${user[*]:+ }-- "
    st=$(drive "$tmp/s.out" "${shell_env[@]}" --strip "$pre" e:'\$ $' \
        "s:stty -g >before; $pre/bin/stty raw -echo; echo st=\$?; stty -g | cmp -s before - && echo same || echo changed\n" \
        e:'\n(same|changed)\n' 's:stty sane; exit\n' -- "${bash_i[@]}")
    if [ "$st" = 0 ] && grep -qx 'st=0' "$tmp/s.out" && grep -qx same "$tmp/s.out"; then
        ok "$plat: the terminal's settings after the guest's stty raw -echo: restored"
    else
        fail "$plat: the terminal's settings after the guest's stty raw -echo (status $st)"
        sed 's/^/  /' "$tmp/s.out" | head -20
    fi
    # Deaths by a signal sent to sandbox-run, the session's leader here:
    # the settings the driver saw before it started.
    for sig in TERM INT; do
        case $sig in TERM) want=143 ;; INT) want=130 ;; esac
        st=$(drive "$tmp/s.out" e:'raw\n' t:raw "k:$sig" x t:same -- "$sb" --platform="$plat" "${user[@]}" -- \
            /bin/sh -c '/bin/stty raw -echo && echo raw && exec /bin/sleep 100')
        if [ "$st" = "$want" ] && ! grep -q '^driver: ' "$tmp/s.out"; then
            ok "$plat: the terminal's settings after SIG$sig ended sandbox-run: restored (status $st)"
        else
            fail "$plat: the terminal's settings after SIG$sig ended sandbox-run: status $st (want $want)"
            sed 's/^/  /' "$tmp/s.out" | head -20
        fi
    done
done

# e. (sandbox only: natively root may do it) TIOCSTI, which would type
# into the host's terminal what the host's shell reads after the sandbox,
# is refused even to the guest's root on its own controlling terminal, and
# nothing reaches the terminal's input.
cat >sti.c <<'EOF'
#include <poll.h>
#include <stdio.h>
#include <sys/ioctl.h>
int main(void)
{
    const char *s = "#sti\n";
    int refused = 0;
    for (const char *c = s; *c; c++)
        refused += ioctl(0, TIOCSTI, c) < 0;
    struct pollfd p = { 0, POLLIN, 0 };
    int input = poll(&p, 1, 200) > 0;
    printf("TIOCSTI %s, %s\n", refused == 5 ? "refused" : refused ? "partly refused" : "accepted",
           input ? "input appeared" : "no input");
    return 0;
}
EOF
${MUSL_GCC:-musl-gcc} -static -O1 sti.c -o sti || exit 2
for plat in "${plats[@]}"; do
    st=$(drive "$tmp/s.out" -- "$sb" --platform="$plat" "${user[@]}" -- "$tmp/sti")
    if [ "$st" = 0 ] && grep -qx 'TIOCSTI refused, no input' "$tmp/s.out"; then
        ok "$plat: TIOCSTI on the controlling terminal: refused, no input"
    else
        fail "$plat: TIOCSTI on the controlling terminal (status $st)"
        sed 's/^/  /' "$tmp/s.out" | head -10
    fi
done

echo "$fails failed"
[ "$fails" -eq 0 ]
