#!/usr/bin/env bash
# host_reactor.sh: a guest waits on its standard streams when they are host
# pipes, and is woken when they change (the sentry's reactor), natively and
# on both platforms, with the same transcript:
#  - seq: stdin is a pipe that a harness writes 1 s after the guest
#    started waiting (a reply on stdout each time says it may go on): the
#    guest waits in poll, epoll_wait, select, a blocking read and an
#    edge-triggered epoll_wait (which reports one new write once), then
#    the harness closes the pipe and poll reports the hang-up, read 0.
#    Last the guest writes 1 MiB to its stdout pipe in one write, which the
#    harness reads only 1 s later: the write waits and completes.
#  - tty: the same with a terminal (a pty) as stdin, stdout and stderr;
#    end of file is ^D.
#  - ctty: the terminal as the controlling terminal, opened as /dev/tty:
#    poll, epoll_wait and read of it woken by input 1 s later, and an
#    alarm ending a read of it (EINTR).
#  - intr: an alarm's handler without SA_RESTART ends a blocking read of an
#    idle stdin pipe (EINTR), and a blocking write of 1 MiB to a stdout
#    pipe nobody reads ends with what fit in the pipe.
#  - idle: while the guest waits in a read of an idle stdin pipe, in
#    epoll_wait on it, and in nanosleep, the whole sandbox (every thread of
#    sandbox-run, the spawner and the stubs) uses next to no CPU: under 30%
#    of 2 s, a bound far above the few ms it takes (printed), and far below
#    a busy poll loop.
# Usage: tests/e2e/host_reactor.sh SANDBOX_RUN
set -u
. "$(dirname "$0")/lib.sh"
e2e_init host_reactor beside "$@"
cd "$tmp" || exit 2
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

cat >hr.c <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    if (write(1, b, (size_t)n) != n)
        exit(3);
}
/* One line from stdin (the harness writes one at a time). */
static const char *line(void)
{
    static char b[64];
    ssize_t n = read(0, b, sizeof(b) - 1);
    if (n < 0)
        return strerror(errno);
    b[n] = 0;
    if (n && b[n - 1] == '\n')
        b[n - 1] = 0;
    return n ? b : "EOF";
}
static void on_alrm(int s) { (void)s; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "seq")) {
        struct pollfd p = { 0, POLLIN, 0 };
        say("waiting in poll\n");
        int r = poll(&p, 1, -1);
        say("poll %d revents %#x, read %s\n", r, p.revents, line());

        int ep = epoll_create1(0);
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = 7 };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e))
            return 2;
        say("waiting in epoll_wait\n");
        r = epoll_wait(ep, &e, 1, -1);
        say("epoll_wait %d events %#x data %d, read %s\n", r, e.events, (int)e.data.u64, line());

        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(0, &rd);
        say("waiting in select\n");
        r = select(1, &rd, NULL, NULL, NULL);
        say("select %d readable %d, read %s\n", r, FD_ISSET(0, &rd), line());

        say("waiting in read\n");
        say("read %s\n", line());

        e.events = EPOLLIN | EPOLLET;
        epoll_ctl(ep, EPOLL_CTL_MOD, 0, &e);
        say("waiting in edge-triggered epoll_wait\n");
        r = epoll_wait(ep, &e, 1, -1);
        int again = epoll_wait(ep, &e, 1, 300); /* no new write: no event */
        say("epoll_wait %d, again %d, read %s\n", r, again, line());

        say("waiting for the hang-up\n");
        r = poll(&p, 1, -1);
        say("poll %d revents %#x, read %s\n", r, p.revents, line());

        size_t len = 1 << 20;
        char *big = malloc(len);
        memset(big, 'x', len);
        say("writing 1 MiB\n");
        ssize_t n = write(1, big, len);
        say("\nwrote %zd\n", n);
        return 0;
    }
    if (!strcmp(mode, "devtty")) {
        int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
        if (tty < 0)
            return 4;
        char b[64];
        struct pollfd p = { tty, POLLIN, 0 };
        say("waiting in poll of /dev/tty\n");
        int r = poll(&p, 1, -1);
        ssize_t n = read(tty, b, sizeof(b));
        say("poll %d revents %#x, read %zd\n", r, p.revents, n);
        int ep = epoll_create1(0);
        struct epoll_event e = { .events = EPOLLIN };
        epoll_ctl(ep, EPOLL_CTL_ADD, tty, &e);
        say("waiting in epoll_wait on /dev/tty\n");
        r = epoll_wait(ep, &e, 1, -1);
        n = read(tty, b, sizeof(b));
        say("epoll_wait %d events %#x, read %zd\n", r, e.events, n);
        say("waiting in read of /dev/tty\n");
        n = read(tty, b, sizeof(b));
        say("read %zd\n", n);
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alrm; /* no SA_RESTART */
        sigaction(SIGALRM, &sa, NULL);
        alarm(1);
        n = read(tty, b, sizeof(b));
        say("read %zd %s\n", n, n < 0 ? strerror(errno) : "");
        return 0;
    }
    if (!strcmp(mode, "intr")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alrm; /* no SA_RESTART */
        sigaction(SIGALRM, &sa, NULL);
        alarm(1);
        char c;
        ssize_t n = read(0, &c, 1);
        fprintf(stderr, "read %zd %s\n", n, n < 0 ? strerror(errno) : "");
        size_t len = 1 << 20;
        char *big = malloc(len);
        memset(big, 'x', len);
        alarm(1);
        n = write(1, big, len);
        fprintf(stderr, "write %zd %s\n", n, n < 0 ? strerror(errno) : "");
        return 0;
    }
    if (!strcmp(mode, "idle-read")) {
        say("ready\n");
        say("read %s\n", line());
        return 0;
    }
    if (!strcmp(mode, "idle-epoll")) {
        int ep = epoll_create1(0);
        struct epoll_event e = { .events = EPOLLIN };
        epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e);
        say("ready\n");
        int r = epoll_wait(ep, &e, 1, -1);
        say("epoll_wait %d, read %s\n", r, line());
        return 0;
    }
    if (!strcmp(mode, "idle-sleep")) {
        struct timespec d = { 3, 0 };
        say("ready\n");
        nanosleep(&d, NULL);
        say("slept\n");
        return 0;
    }
    return 2;
}
EOF
sed -i 's/#include <errno.h>/#include <errno.h>\n#include <stdarg.h>/' hr.c
${MUSL_GCC:-musl-gcc} -static -O1 hr.c -o hr || exit 2

# The harness: runs COMMAND... with pipes as stdin and stdout, and prints
# the transcript of MODE (seq, tty, intr, idle-read, idle-epoll, idle-sleep).
cat >harness.py <<'EOF'
import os, subprocess, sys, time

mode, cmd = sys.argv[1], sys.argv[2:]

from tree_cpu import tree_cpu_ns  # tests/e2e/tree_cpu.py

if mode == 'intr':
    # stdin: a pipe nobody writes; stdout: a pipe nobody reads until the end.
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    out = p.stdout.read()
    p.wait()
    sys.stdout.write(err.decode())
    print("stdout got %d bytes, status %d" % (len(out), p.returncode))
    sys.exit(0)

if mode in ('tty', 'ctty'):
    # stdin, stdout and stderr a terminal (a pty without echo, so that the
    # transcript is the guest's); end of file is ^D. ctty: the controlling
    # terminal of a new session, which the guest opens as /dev/tty.
    import fcntl, pty, termios
    m, s = pty.openpty()
    a = termios.tcgetattr(s)
    a[3] &= ~termios.ECHO
    termios.tcsetattr(s, termios.TCSANOW, a)
    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    p = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, start_new_session=mode == 'ctty',
                         preexec_fn=ctty if mode == 'ctty' else None)
    os.close(s)
    buf = [b'']
    def more():
        try:
            d = os.read(m, 65536)
        except OSError: # EIO: the guest is gone
            d = b''
        buf[0] += d
        return d
    def rline():
        while b'\n' not in buf[0] and more():
            pass
        l, _, buf[0] = buf[0].partition(b'\n')
        print(l.decode().rstrip('\r'))
    def send(s, delay):
        time.sleep(delay)
        os.write(m, s.encode())
    def hang_up():
        os.write(m, b'\x04')
    def rest():
        while more():
            pass
        return buf[0].decode().replace('\r', '')
else:
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    def rline():
        l = p.stdout.readline().decode()
        sys.stdout.write(l)
        sys.stdout.flush()
    def send(s, delay):
        time.sleep(delay)
        p.stdin.write(s.encode())
        p.stdin.flush()
    def hang_up():
        p.stdin.close()
    def rest():
        return p.stdout.read().decode()

if mode in ('seq', 'tty'):
    rline(); send("p\n", 1.0)
    rline(); rline(); send("e\n", 1.0)
    rline(); rline(); send("s\n", 1.0)
    rline(); rline(); send("r\n", 1.0)
    rline(); rline(); send("t\n", 1.0)
    rline()
    rline()
    time.sleep(1.0)
    hang_up()
    rline()
    rline()
    time.sleep(1.0) # the guest's write waits on the full pipe meanwhile
    r = rest()
    print("then %d x and: %s" % (r.count('x'), r.replace('x', '').strip()))
elif mode == 'ctty':
    rline(); send("p\n", 1.0)
    rline(); rline(); send("e\n", 1.0)
    rline(); rline(); send("r\n", 1.0)
    rline()
    rline() # the alarm's EINTR
else:
    rline() # ready: the guest waits from now on
    c0, t0 = tree_cpu_ns(p.pid), time.monotonic()
    time.sleep(2.0)
    c1, t1 = tree_cpu_ns(p.pid), time.monotonic()
    if mode != 'idle-sleep':
        send("go\n", 0)
    rline()
    pct = 100.0 * (c1 - c0) / 1e9 / (t1 - t0)
    print("idle: %s" % ("under 30% of the CPU" if pct < 30 else "busy"))
    sys.stderr.write("%s: %.2f ms CPU in %.2f s (%.2f%%)\n" % (mode, (c1 - c0) / 1e6, t1 - t0, pct))
p.wait()
print("status %d" % p.returncode)
EOF

# HARNESS_MODE:GUEST_MODE
export PYTHONPATH="$src" # harness.py imports tree_cpu.py
for run in seq:seq tty:seq ctty:devtty intr:intr idle-read:idle-read idle-epoll:idle-epoll \
    idle-sleep:idle-sleep; do
    mode=${run%%:*}
    timeout 60 python3 harness.py "$mode" ./hr "${run#*:}" >"n.$mode" 2>/dev/null
    for plat in systrap ptrace; do
        timeout 60 python3 harness.py "$mode" "$sb" --platform="$plat" -- "$tmp/hr" "${run#*:}" \
            >"s.$mode" 2>"e.$mode"
        grep -v '^sandbox-run: ' "e.$mode" | sed "s/^/  $plat /"
        if cmp -s "n.$mode" "s.$mode"; then
            ok "$plat: $mode as natively"
        else
            fail "$plat: $mode differs"
            diff -u --label native --label sandbox "n.$mode" "s.$mode" | head -30
        fi
    done
done
[ -n "${SHOW:-}" ] && cat n.seq n.tty n.ctty n.intr
echo "$fails failed"
[ "$fails" -eq 0 ]
