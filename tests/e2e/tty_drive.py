#!/usr/bin/env python3
"""tty_drive.py: runs a command on a fresh pseudo-terminal, as its session
leader with the terminal as its controlling terminal (what pty.fork()
gives), follows a script of steps, and prints what the terminal showed,
normalised, then "status N" (the command's exit status, 128+N for a death
by signal N). Never hangs: every wait is bounded, the whole run by
--timeout seconds; at the end every process left in the new session is
killed.

Usage: tty_drive.py [--timeout S] [--strip TEXT]... [--env NAME=VALUE]... [STEP...]
                    -- COMMAND [ARG...]
(--env sets a variable for the command: a python3 that is a shell script,
as pyenv's shims, would lose PS1 on the way.)

Steps, in order:
  e:REGEX   wait until the output after the last match matches REGEX
            (a Python regular expression over the normalised text)
  s:TEXT    type TEXT (Python escapes: \\n, \\x03 for Ctrl-C, \\x1a Ctrl-Z)
  k:SIG     send signal SIG (a name: TERM, INT) to the command
  t:raw     check that the terminal is in raw mode without echo now
  t:same    check that the settings equal those it started with
  x         wait for the command to exit (implied at the end)
A step that fails prints "driver: ..." and ends the script: the command is
then killed. Normalising: CR LF and lone CRs become LF, terminal escape
sequences and bells go, each --strip TEXT is removed.

Only the standard library: os, pty, select, signal, termios, time, re.
"""
import codecs
import errno
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|\x07")


class Term:
    def __init__(self, argv, env, deadline):
        self.deadline = deadline
        self.raw = b""
        self.pos = 0  # where the next e: step starts looking (normalised text)
        self.status = None
        self.eof = False
        self.strip = []
        master, slave = os.openpty()
        # A fixed size, so that programs that ask get the same answer; wide, so
        # that no shell wraps or scrolls a long command line it echoes.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 500, 0, 0))
        self.initial = termios.tcgetattr(slave)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                # Every signal at its default and none blocked, as a
                # terminal's job starts (CI starts scripts with SIGINT
                # and SIGQUIT ignored; Python ignores SIGPIPE).
                for s in signal.valid_signals():
                    if s not in (signal.SIGKILL, signal.SIGSTOP):
                        try:
                            signal.signal(s, signal.SIG_DFL)
                        except (OSError, ValueError):
                            pass
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.environ.update(env)
                os.execvp(argv[0], argv)
            except OSError as e:
                os.write(2, ("driver: cannot run %s: %s\n" % (argv[0], e.strerror)).encode())
            os._exit(127)
        os.close(slave)
        self.pid = pid
        self.master = master

    def left(self):
        return self.deadline - time.monotonic()

    def text(self):
        t = self.raw.decode("utf-8", "replace")
        t = ESCAPES.sub("", t)
        t = t.replace("\r\n", "\n").replace("\r", "\n")
        for s in self.strip:
            t = t.replace(s, "")
        return t

    def reap(self):
        """Whether the command has ended; it stays a zombie (WNOWAIT), so
        that its pid, the session's id, names no other process until
        cleanup() has killed what is left in the session."""
        if self.status is None:
            try:
                r = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            if r is not None and r.si_pid == self.pid:
                exited = r.si_code == os.CLD_EXITED
                self.status = r.si_status if exited else 128 + r.si_status
        return self.status is not None

    def pump(self, wait):
        """Reads what is there, waiting up to wait seconds for it."""
        if self.eof:
            if wait > 0:
                time.sleep(min(wait, 0.05))
            return
        r, _, _ = select.select([self.master], [], [], max(0.0, wait))
        if r:
            try:
                data = os.read(self.master, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""
            if data:
                self.raw += data
            else:
                self.eof = True

    def expect(self, regex):
        rx = re.compile(regex)
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return True
            if self.left() <= 0:
                return self.fail("no %r in time" % regex)
            if self.eof:
                return self.fail("no %r before the end" % regex)
            self.pump(min(0.2, self.left()))

    def send(self, text):
        data = codecs.decode(text, "unicode_escape").encode("latin-1")
        while data:
            n = os.write(self.master, data)
            data = data[n:]
        return True

    def wait_exit(self):
        while not self.reap():
            if self.left() <= 0:
                return self.fail("the command did not exit in time")
            self.pump(0.1)
        # What it wrote before it exited may still be on its way: read to
        # the end (EIO once every holder of the terminal is gone), or until
        # nothing comes for a while (a process left holding it).
        quiet = time.monotonic() + 1.0
        end = time.monotonic() + 3.0
        while not self.eof and time.monotonic() < min(quiet, end):
            n = len(self.raw)
            self.pump(0.1)
            if len(self.raw) != n:
                quiet = time.monotonic() + 1.0
        return True

    def fail(self, why):
        self.raw += ("\ndriver: %s\n" % why).encode()
        return False

    def session_pids(self):
        """Every process still in the session we made (its sid is our pid)."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rfind(")") + 2 :].split()
            if len(fields) > 3 and int(fields[3]) == self.pid:
                pids.append(int(d))
        return pids

    def cleanup(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        for p in self.session_pids():
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        end = time.monotonic() + 5
        while not self.reap() and time.monotonic() < end:
            time.sleep(0.05)
        try:
            os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        os.close(self.master)


def settings_diff(a, b):
    names = ("iflag", "oflag", "cflag", "lflag", "ispeed", "ospeed")
    out = ["%s %#o -> %#o" % (n, x, y) for n, x, y in zip(names, a, b) if x != y]
    if a[6] != b[6]:
        out.append("control characters")
    return ", ".join(out)


def main(args):
    timeout = 30.0
    strip = []
    env = {}
    steps = []
    while args and args[0] != "--":
        a = args.pop(0)
        if a == "--timeout":
            timeout = float(args.pop(0))
        elif a == "--strip":
            strip.append(args.pop(0))
        elif a == "--env":
            name, _, value = args.pop(0).partition("=")
            env[name] = value
        else:
            steps.append(a)
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    argv = args[1:]
    t = Term(argv, env, time.monotonic() + timeout)
    t.strip = strip
    try:
        ok = True
        for s in steps + ["x"]:
            if s.startswith("e:"):
                ok = t.expect(s[2:])
            elif s.startswith("s:"):
                ok = t.send(s[2:])
            elif s.startswith("k:"):
                os.kill(t.pid, getattr(signal, "SIG" + s[2:]))
            elif s == "t:raw":
                a = termios.tcgetattr(t.master)
                lflag = a[3]
                if lflag & (termios.ICANON | termios.ECHO | termios.ISIG):
                    ok = t.fail("the terminal is not raw and -echo: lflag %#o" % lflag)
            elif s == "t:same":
                now = termios.tcgetattr(t.master)
                if now != t.initial:
                    ok = t.fail("the terminal's settings changed: " + settings_diff(t.initial, now))
            elif s == "x":
                ok = t.wait_exit()
            else:
                print("tty_drive.py: bad step %r" % s, file=sys.stderr)
                return 2
            if not ok:
                break
    finally:
        t.cleanup()
    sys.stdout.write(t.text())
    if not t.text().endswith("\n"):
        sys.stdout.write("\n")
    print("status %s" % ("none" if t.status is None else t.status))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
