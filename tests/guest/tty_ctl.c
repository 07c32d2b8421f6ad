/* tty_ctl.c: the controlling terminal. Run on a terminal that is its
 * controlling terminal, as the leader of that session and in the
 * foreground (as under python's pty.fork(); tests/e2e/tty.sh does it),
 * natively and as the sandbox's pid 1: /dev/tty; the job-control ioctls
 * (TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY, TIOCNOTTY) with Linux's
 * errors; termios and the window size; TIOCSTI refused; background reads
 * (SIGTTIN, or EIO when SIGTTIN is ignored or blocked or the group is
 * orphaned), background writes under TOSTOP (SIGTTOU), background
 * tcsetattr and tcsetpgrp (SIGTTOU unless ignored); handing the terminal to
 * a child's group and taking it back as a shell does, the child reading a
 * line that the driver types after the "ready" line. Nothing printed names
 * a pid, a session or a terminal: the checks compare them. Every child's
 * stop is ended by the parent (SIGKILL) and every child reaped. */
#include "proc_util.h"

#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

/* How long a parent waits for a child's stop or exit (ms): only a wrong
 * answer (a read that blocks where Linux stops or fails) takes it. */
#define CHILD_WAIT_MS 5000
/* How long the foreground child waits for the typed line (ms). */
#define LINE_WAIT_MS 15000

static pid_t g_me;     /* our pid, for the children */
static int g_tty = -1; /* /dev/tty opened O_RDWR */

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void set_sig(int sig, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigaction(sig, &sa, NULL);
}

/* What a raw call gave, as a child's exit status carries it: 0 on
 * success, the errno otherwise (always below 126); WRONG for a call that
 * succeeded with a wrong value. */
#define WRONG 120
static __attribute__((noreturn)) void exit_with(long r)
{
    _exit(r >= 0 ? 0 : (int)-r);
}

/* How a child ended (finish_child): "0", "-EIO", "a wrong value",
 * "stopped by SIGTTIN", "killed by SIGKILL" or "no answer in 5 s". */
struct outcome {
    char s[64];
};

/* Waits up to CHILD_WAIT_MS for pid to exit or stop (re-arming the
 * alarm, the safety net); a child still running then, or stopped, is
 * killed and reaped. Says which it was. */
static struct outcome finish_child(pid_t pid)
{
    struct outcome o;
    int st = 0;
    long r = 0;
    alarm(20);
    for (int i = 0; i < CHILD_WAIT_MS / 10 && r == 0; i++) {
        r = sc(SYS_wait4, pid, &st, WUNTRACED | WNOHANG, 0);
        if (r == -EINTR)
            r = 0;
        if (r == 0)
            pause_ms(10);
    }
    if (r < 0) {
        snprintf(o.s, sizeof o.s, "wait4 %s", ret_name(r));
        return o;
    }
    if (r == 0)
        snprintf(o.s, sizeof o.s, "no answer in %d s", CHILD_WAIT_MS / 1000);
    else if (WIFEXITED(st) && WEXITSTATUS(st) == WRONG)
        snprintf(o.s, sizeof o.s, "a wrong value");
    else if (WIFEXITED(st))
        snprintf(o.s, sizeof o.s, "%s", WEXITSTATUS(st) ? ret_name(-WEXITSTATUS(st)) : "0");
    else
        snprintf(o.s, sizeof o.s, "%s", status_name(st));
    if (r == 0 || WIFSTOPPED(st)) {
        kill(pid, SIGKILL);
        wait_raw(pid, &st, 0);
    }
    return o;
}

static void expect(struct outcome o, const char *want, const char *what)
{
    if (strcmp(o.s, want) == 0)
        check(1, "%s: %s", what, want);
    else
        check(0, "%s: %s, want %s", what, o.s, want);
}

/* Runs fn in a child of its own process group (a background job: both
 * sides call setpgid, as shells do) and reports how it ended. */
static struct outcome run_bg(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        no_core();
        setpgid(0, 0);
        fn();
        _exit(0);
    }
    setpgid(pid, pid);
    return finish_child(pid);
}

/* A child that steps with us on two pipes: it says it is ready on q and
 * waits for the go on p (child_ready); we wait_byte(q[0]), act, and
 * send_byte(p[1]). Returns fork's. */
static pid_t fork_stepped(int p[2], int q[2])
{
    two_pipes(p, q);
    return fork();
}

static void child_ready(int p[2], int q[2])
{
    send_byte(q[1]);
    wait_byte(p[0]);
}

static long tiocgpgrp(int fd)
{
    int v = -1;
    long r = sc(SYS_ioctl, fd, TIOCGPGRP, &v);
    return r < 0 ? r : v;
}

static long tiocgsid(int fd)
{
    int v = -1;
    long r = sc(SYS_ioctl, fd, TIOCGSID, &v);
    return r < 0 ? r : v;
}

static long tiocspgrp(int fd, int pgrp)
{
    return sc(SYS_ioctl, fd, TIOCSPGRP, &pgrp);
}

/* Takes the terminal back for our group from the background, as a shell
 * does: with SIGTTOU ignored for the call. */
static long take_back(void)
{
    set_sig(SIGTTOU, SIG_IGN);
    long r = tiocspgrp(0, getpgrp());
    set_sig(SIGTTOU, SIG_DFL);
    return r;
}

static long lflag(void)
{
    struct termios t;
    long r = sc(SYS_ioctl, 0, TCGETS, &t);
    return r < 0 ? r : (long)t.c_lflag;
}

/* ---- /dev/tty and the ids ---- */

static void test_basics(void)
{
    check(isatty(0) && isatty(1), "isatty(0) and isatty(1)");
    g_tty = (int)sc(SYS_open, "/dev/tty", O_RDWR | O_CLOEXEC);
    check(g_tty >= 0, "open(/dev/tty, O_RDWR) (%s)", g_tty >= 0 ? "ok" : ret_name(g_tty));
    struct stat sb;
    long r = g_tty >= 0 ? sc(SYS_fstat, g_tty, &sb) : -EBADF;
    check(r == 0 && S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 5 && minor(sb.st_rdev) == 0,
          "fstat(/dev/tty): a character device 5,0");
    check(isatty(g_tty), "isatty(/dev/tty fd)");

    long sid = sc(SYS_getsid, 0);
    check_eq(sid, getpid(), "getsid(0) == getpid(): a session leader");
    check_eq(tiocgsid(0), sid, "TIOCGSID(0) == getsid(0)");
    check_eq(tiocgsid(g_tty), sid, "TIOCGSID(/dev/tty) == getsid(0)");
    check_eq(tiocgpgrp(0), getpgrp(), "TIOCGPGRP(0) == getpgrp(): in the foreground");
    check_eq(tiocgpgrp(1), getpgrp(), "TIOCGPGRP(1) == getpgrp()");
    check_eq(tiocgpgrp(g_tty), getpgrp(), "TIOCGPGRP(/dev/tty) == getpgrp()");

    int p[2];
    pipe(p);
    check_err(tiocgpgrp(p[0]), ENOTTY, "TIOCGPGRP on a pipe");
    check_err(tiocgsid(p[0]), ENOTTY, "TIOCGSID on a pipe");
    check_err(tiocspgrp(p[1], getpgrp()), ENOTTY, "TIOCSPGRP on a pipe");
    struct termios t;
    check_err(sc(SYS_ioctl, p[0], TCGETS, &t), ENOTTY, "TCGETS on a pipe");
    check_err(sc(SYS_ioctl, p[0], TIOCSCTTY, 0), ENOTTY, "TIOCSCTTY on a pipe");
    check_err(sc(SYS_ioctl, p[0], TIOCNOTTY), ENOTTY, "TIOCNOTTY on a pipe");
    close_pipe(p);
    check_err(sc(SYS_ioctl, 0, TIOCGPGRP, BADPTR), EFAULT, "TIOCGPGRP to a bad pointer");
    check_err(sc(SYS_ioctl, 0, TIOCGSID, BADPTR), EFAULT, "TIOCGSID to a bad pointer");
}

/* ---- termios and the window size ---- */

static void test_termios(void)
{
    struct termios t0, t;
    check_ret(sc(SYS_ioctl, 0, TCGETS, &t0), 0, "TCGETS");
    check((t0.c_lflag & (ECHO | ICANON)) == (ECHO | ICANON), "ECHO and ICANON on at the start");
    check(!(t0.c_lflag & TOSTOP), "TOSTOP off at the start");
    static const struct {
        int act;
        const char *name;
    } acts[] = { { TCSANOW, "TCSANOW" }, { TCSADRAIN, "TCSADRAIN" }, { TCSAFLUSH, "TCSAFLUSH" } };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        t = t0;
        t.c_lflag &= ~ECHO;
        int r = tcsetattr(0, acts[i].act, &t);
        long l = lflag();
        check(r == 0 && l >= 0 && !(l & ECHO) && (l & ICANON), "tcsetattr(%s, -echo): read back",
              acts[i].name);
        r = tcsetattr(0, acts[i].act, &t0);
        l = lflag();
        check(r == 0 && l >= 0 && (l & ECHO), "tcsetattr(%s, echo): read back", acts[i].name);
    }
    /* The same terminal through /dev/tty. */
    t = t0;
    t.c_lflag &= ~ECHO;
    check_ret(sc(SYS_ioctl, g_tty, TCSETS, &t), 0, "TCSETS(-echo) on /dev/tty");
    long l = lflag();
    check(l >= 0 && !(l & ECHO), "... TCGETS on fd 0 sees it");
    check_ret(sc(SYS_ioctl, g_tty, TCSETS, &t0), 0, "TCSETS(echo) on /dev/tty");
    l = lflag();
    check(l >= 0 && (l & ECHO), "... TCGETS on fd 0 sees it");
    check_err(sc(SYS_ioctl, 0, TCGETS, BADPTR), EFAULT, "TCGETS to a bad pointer");
    check_err(sc(SYS_ioctl, 0, TCSETS, BADPTR), EFAULT, "TCSETS from a bad pointer");
    l = lflag();
    check(l >= 0 && (l & ECHO), "... and the settings stay");

    struct winsize ws;
    check_ret(sc(SYS_ioctl, 0, TIOCGWINSZ, &ws), 0, "TIOCGWINSZ");
    check_ret(sc(SYS_ioctl, g_tty, TIOCGWINSZ, &ws), 0, "TIOCGWINSZ on /dev/tty");
    check_err(sc(SYS_ioctl, 0, TIOCGWINSZ, BADPTR), EFAULT, "TIOCGWINSZ to a bad pointer");
}

/* ---- TIOCSPGRP ---- */

static void test_tiocspgrp(void)
{
    check_err(tiocspgrp(0, -1), EINVAL, "TIOCSPGRP(-1)");
    check_err(tiocspgrp(0, INT32_MAX), ESRCH, "TIOCSPGRP(a group that cannot exist)");
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    int st;
    wait_raw(gone, &st, 0);
    check_err(tiocspgrp(0, gone), ESRCH, "TIOCSPGRP(the pid of a reaped child)");
    check_err(sc(SYS_ioctl, 0, TIOCSPGRP, BADPTR), EFAULT, "TIOCSPGRP from a bad pointer");
    check_eq(tiocgpgrp(0), getpgrp(), "... the foreground stays ours");

    /* A child in a session of its own: its group is not this session's. */
    int p[2], q[2];
    pid_t c = fork_stepped(p, q);
    if (c == 0) {
        setsid();
        child_ready(p, q);
        _exit(0);
    }
    wait_byte(q[0]);
    check_err(tiocspgrp(0, c), EPERM, "TIOCSPGRP(the group of a child in another session)");
    send_byte(p[1]);
    check_wait(c, "exited 0", "the child in another session");

    /* A child in a group of its own in our session. */
    c = fork();
    if (c == 0) {
        setpgid(0, 0);
        wait_byte(p[0]);
        _exit(0);
    }
    setpgid(c, c);
    check_ret(tiocspgrp(0, c), 0, "TIOCSPGRP(a child's group)");
    check_eq(tiocgpgrp(0), c, "TIOCGPGRP reads the child's group back");
    check_eq(tiocgpgrp(g_tty), c, "... on /dev/tty too");
    /* Now in the background: back to our group as a shell does. */
    mask_signal(SIGTTOU, SIG_BLOCK);
    check_ret(tiocspgrp(0, getpgrp()), 0,
              "TIOCSPGRP(our group) from the background, SIGTTOU blocked");
    mask_signal(SIGTTOU, SIG_UNBLOCK);
    check_eq(tiocgpgrp(0), getpgrp(), "TIOCGPGRP reads our group back");
    send_byte(p[1]);
    check_wait(c, "exited 0", "the child in its own group");
    close_pipe(p);
    close_pipe(q);
}

/* ---- background reads ---- */

static void bg_read(void)
{
    char c;
    exit_with(sc(SYS_read, 0, &c, 1));
}
static void bg_read_ign(void)
{
    set_sig(SIGTTIN, SIG_IGN);
    bg_read();
}
static void bg_read_blocked(void)
{
    mask_signal(SIGTTIN, SIG_BLOCK);
    bg_read();
}
static volatile sig_atomic_t g_caught;
static void on_sig(int sig)
{
    g_caught = sig;
}
/* A handler without SA_RESTART: it runs, and the read fails with EINTR
 * (with SA_RESTART it would take SIGTTIN again and again). */
static void bg_read_caught(void)
{
    char c;
    set_sig(SIGTTIN, on_sig);
    long r = sc(SYS_read, 0, &c, 1);
    exit_with(g_caught == SIGTTIN ? r : -WRONG);
}
static void bg_read_tty(void)
{
    char c;
    set_sig(SIGTTIN, SIG_IGN);
    exit_with(sc(SYS_read, g_tty, &c, 1));
}
/* What a background job may do without a stop: read the settings and
 * the foreground group. */
static void bg_query(void)
{
    struct termios t;
    struct winsize ws;
    long r = sc(SYS_ioctl, 0, TCGETS, &t);
    if (r == 0)
        r = sc(SYS_ioctl, 0, TIOCGWINSZ, &ws);
    if (r == 0)
        r = tiocgpgrp(0) == g_me ? 0 : -WRONG;
    if (r == 0)
        r = tiocgsid(0) == g_me ? 0 : -WRONG;
    exit_with(r);
}

static void test_bg_read(void)
{
    expect(run_bg(bg_read), "stopped by SIGTTIN", "background read");
    expect(run_bg(bg_read_ign), "-EIO", "background read, SIGTTIN ignored");
    expect(run_bg(bg_read_blocked), "-EIO", "background read, SIGTTIN blocked");
    expect(run_bg(bg_read_caught), "-EINTR", "background read, SIGTTIN caught");
    expect(run_bg(bg_read_tty), "-EIO", "background read of /dev/tty, SIGTTIN ignored");
    expect(run_bg(bg_query), "0", "background TCGETS, TIOCGWINSZ, TIOCGPGRP, TIOCGSID");
}

/* ---- background writes ---- */

static void bg_write_line(const char *line)
{
    exit_with(sc(SYS_write, 1, line, strlen(line)));
}
static void bg_write(void)
{
    bg_write_line("(a background child's line)\n");
}
static void bg_write_ign(void)
{
    set_sig(SIGTTOU, SIG_IGN);
    bg_write_line("(a background child's line, SIGTTOU ignored)\n");
}
static void bg_write_blocked(void)
{
    mask_signal(SIGTTOU, SIG_BLOCK);
    bg_write_line("(a background child's line, SIGTTOU blocked)\n");
}

static int set_tostop(int on)
{
    struct termios t;
    if (tcgetattr(0, &t) < 0)
        return -1;
    if (on)
        t.c_lflag |= TOSTOP;
    else
        t.c_lflag &= ~TOSTOP;
    return tcsetattr(0, TCSANOW, &t);
}

static void test_bg_write(void)
{
    expect(run_bg(bg_write), "0", "background write without TOSTOP");
    check(set_tostop(1) == 0 && (lflag() & TOSTOP), "tcsetattr(TOSTOP)");
    expect(run_bg(bg_write), "stopped by SIGTTOU", "background write with TOSTOP");
    expect(run_bg(bg_write_ign), "0", "background write with TOSTOP, SIGTTOU ignored");
    expect(run_bg(bg_write_blocked), "0", "background write with TOSTOP, SIGTTOU blocked");
    check(set_tostop(0) == 0 && !(lflag() & TOSTOP), "tcsetattr(-TOSTOP)");
}

/* ---- background tcsetattr and tcsetpgrp ---- */

static void bg_tcsetattr(void)
{
    struct termios t;
    tcgetattr(0, &t);
    exit_with(sc(SYS_ioctl, 0, TCSETS, &t));
}
static void bg_tcsetattr_ign(void)
{
    set_sig(SIGTTOU, SIG_IGN);
    bg_tcsetattr();
}
static void bg_tcsetpgrp(void)
{
    exit_with(tiocspgrp(0, getpgrp()));
}
static void bg_tcsetpgrp_back(void)
{
    exit_with(tiocspgrp(0, g_me));
}

static void test_bg_tcset(void)
{
    expect(run_bg(bg_tcsetattr), "stopped by SIGTTOU", "background tcsetattr");
    expect(run_bg(bg_tcsetattr_ign), "0", "background tcsetattr, SIGTTOU ignored");
    expect(run_bg(bg_tcsetpgrp), "stopped by SIGTTOU", "background tcsetpgrp(own group)");
    expect(run_bg(bg_tcsetpgrp_back), "stopped by SIGTTOU",
           "background tcsetpgrp(the foreground group)");
    check_eq(tiocgpgrp(0), getpgrp(), "... the foreground stays ours");

    /* With SIGTTOU ignored, as shells do: the child takes the terminal. */
    int p[2], q[2];
    pid_t c = fork_stepped(p, q);
    if (c == 0) {
        setpgid(0, 0);
        set_sig(SIGTTOU, SIG_IGN);
        long r = tiocspgrp(0, getpgrp());
        child_ready(p, q);
        exit_with(r);
    }
    setpgid(c, c);
    alarm(20);
    wait_byte(q[0]);
    check_eq(
        tiocgpgrp(0), c,
        "background tcsetpgrp(own group), SIGTTOU ignored: the child's group is the foreground");
    check_ret(take_back(), 0, "we take it back from the background, SIGTTOU ignored");
    check_eq(tiocgpgrp(0), getpgrp(), "TIOCGPGRP reads our group back");
    send_byte(p[1]);
    expect(finish_child(c), "0", "... the child's tcsetpgrp");
    close_pipe(p);
    close_pipe(q);
}

/* ---- the foreground handed to a child, as a shell runs a job ---- */

static void test_fg_handoff(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        wait_byte(p[0]);
        if (tiocgpgrp(0) != getpgrp()) {
            out("FAIL the child is not in the foreground\n");
            _exit(1);
        }
        out("ready for a line\n");
        struct pollfd pf = { 0, POLLIN, 0 };
        long r = sc(SYS_poll, &pf, 1, LINE_WAIT_MS);
        char line[128];
        long n = r == 1 ? sc(SYS_read, 0, line, sizeof line - 1) : r;
        if (n <= 0) {
            out("FAIL the foreground child's read: %s\n", r == 0 ? "no line typed" : ret_name(n));
            _exit(1);
        }
        line[n] = 0;
        line[strcspn(line, "\n")] = 0;
        out("ok   the foreground child read the line: %s\n", line);
        _exit(0);
    }
    setpgid(c, c);
    check_ret(tiocspgrp(0, c), 0, "tcsetpgrp(the child's group) from the foreground");
    send_byte(p[1]);
    int st = 0;
    long r = 0;
    alarm(LINE_WAIT_MS / 1000 + 10);
    for (int i = 0; i < (LINE_WAIT_MS + 5000) / 10 && r == 0; i++) {
        r = sc(SYS_wait4, c, &st, WUNTRACED | WNOHANG, 0);
        if (r == -EINTR)
            r = 0;
        if (r == 0)
            pause_ms(10);
    }
    if (r == 0 || (r == c && WIFSTOPPED(st))) {
        kill(c, SIGKILL);
        wait_raw(c, &st, 0);
    }
    check(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the foreground child: %s",
          r == c ? status_name(st) : "no answer");
    check_ret(take_back(), 0, "tcsetpgrp(our group) from the background, SIGTTOU ignored");
    check_eq(tiocgpgrp(0), getpgrp(), "TIOCGPGRP reads our group back");
    close_pipe(p);
}

/* ---- orphaned process groups ---- */

/* A grandchild in a group of its own: its parent leaves the session
 * (setsid), so no member of the group has a parent in the session outside
 * it: an orphaned group. Its background read fails with EIO, no stop. The
 * child reports the grandchild's outcome as its own. */
static void test_orphaned(void)
{
    int p[2], q[2];
    pid_t c = fork_stepped(p, q);
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            no_core();
            setpgid(0, 0);
            child_ready(p, q);
            bg_read();
        }
        setpgid(g, g);
        wait_byte(q[0]);
        long r = sc(SYS_setsid);
        send_byte(p[1]);
        struct outcome o = finish_child(g);
        if (r < 0)
            _exit(100);
        if (strcmp(o.s, "-EIO") == 0)
            _exit(0);
        _exit(strncmp(o.s, "stopped", 7) == 0 ? 101 : 102);
    }
    int st = 0;
    alarm(20);
    long r = wait_raw(c, &st, 0);
    const char *got = r != c                   ? "wait failed"
                      : !WIFEXITED(st)         ? status_name(st)
                      : WEXITSTATUS(st) == 0   ? "-EIO"
                      : WEXITSTATUS(st) == 100 ? "the parent's setsid failed"
                      : WEXITSTATUS(st) == 101 ? "stopped"
                                               : "no EIO";
    check(strcmp(got, "-EIO") == 0,
          "background read in an orphaned group (the parent left the session): %s%s", got,
          strcmp(got, "-EIO") == 0 ? "" : ", want -EIO");
    close_pipe(p);
    close_pipe(q);
}

/* A grandchild whose parent exited goes to us (a subreaper: natively and
 * as the sandbox's pid 1 alike), a parent in the session outside its
 * group: the group is not orphaned, and its background read stops it. */
static void test_reparented(void)
{
    check_ret(sc(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1), 0, "PR_SET_CHILD_SUBREAPER");
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            no_core();
            setpgid(0, 0);
            /* Until the parent's exit gives us to the subreaper. */
            for (int i = 0; i < 1000 && getppid() != g_me; i++)
                pause_ms(10);
            if (getppid() != g_me)
                _exit(99);
            bg_read();
        }
        setpgid(g, g);
        sc(SYS_write, p[1], &g, sizeof g);
        _exit(0);
    }
    close(p[1]);
    pid_t g = 0;
    long n = sc(SYS_read, p[0], &g, sizeof g);
    check_wait(c, "exited 0", "the grandchild's parent");
    if (n == sizeof g)
        expect(finish_child(g), "stopped by SIGTTIN",
               "background read by a grandchild given to us, not orphaned");
    else
        check(0, "the grandchild's pid: read %s", ret_name(n));
    close(p[0]);
    sc(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0);
}

/* ---- TIOCNOTTY, setsid, TIOCSCTTY, TIOCSTI ---- */

/* Drops every capability, so that CAP_SYS_ADMIN changes no answer. */
static long drop_caps(void)
{
    struct {
        uint32_t version;
        int pid;
    } h = { 0x20080522u, 0 };
    uint32_t d[6] = { 0, 0, 0, 0, 0, 0 };
    return sc(SYS_capset, &h, d);
}

static void test_detach(void)
{
    pid_t c = fork_checked();
    if (c == 0) {
        check_err(sc(SYS_ioctl, 0, TIOCSCTTY, 0), EPERM, "child: TIOCSCTTY, not a session leader");
        check_ret(sc(SYS_ioctl, 0, TIOCNOTTY), 0, "child: TIOCNOTTY, not a session leader");
        check_err(sc(SYS_open, "/dev/tty", O_RDWR), ENXIO, "child: then open(/dev/tty)");
        check_err(tiocgpgrp(0), ENOTTY, "child: then TIOCGPGRP(0)");
        check_err(tiocgsid(0), ENOTTY, "child: then TIOCGSID(0)");
        check_err(sc(SYS_ioctl, 0, TIOCNOTTY), ENOTTY, "child: TIOCNOTTY again");
        check(isatty(0), "child: fd 0 is still a terminal");
        check_eq(sc(SYS_getsid, 0), g_me, "child: still in our session");
        child_done();
    }
    check_wait(c, "exited 0", "the TIOCNOTTY child");
    check_eq(tiocgpgrp(0), getpgrp(), "our terminal is still ours");
    check_eq(tiocgsid(0), getpid(), "... and our session's");

    c = fork_checked();
    if (c == 0) {
        check_eq(sc(SYS_setsid), getpid(), "child: setsid");
        check_err(sc(SYS_open, "/dev/tty", O_RDWR), ENXIO, "child: then open(/dev/tty)");
        check_err(tiocgpgrp(0), ENOTTY, "child: then TIOCGPGRP(0)");
        check_err(tiocgsid(0), ENOTTY, "child: then TIOCGSID(0)");
        check_err(sc(SYS_ioctl, 0, TIOCSCTTY, 0), EPERM,
                  "child: TIOCSCTTY of another session's terminal");
        /* Without CAP_SYS_ADMIN. (On its own terminal Linux's answer
         * depends on the sysctl dev.tty.legacy_tiocsti: not checked.) */
        check_ret(drop_caps(), 0, "child: capset(nothing)");
        char x = 'x';
        long r = sc(SYS_ioctl, 0, TIOCSTI, &x);
        check(r == -EPERM || r == -EIO, "child: TIOCSTI on a terminal not ours: refused%s%s",
              r == -EPERM || r == -EIO ? "" : " -> ", r == -EPERM || r == -EIO ? "" : ret_name(r));
        child_done();
    }
    check_wait(c, "exited 0", "the setsid child");
    check_ret(sc(SYS_ioctl, 0, TIOCSCTTY, 0), 0, "TIOCSCTTY of our own terminal");
    check_ret(sc(SYS_ioctl, g_tty, TIOCSCTTY, 0), 0, "TIOCSCTTY on /dev/tty");
    check_eq(tiocgsid(0), getpid(), "TIOCGSID(0) == getpid()");
    check_eq(tiocgpgrp(0), getpgrp(), "TIOCGPGRP(0) == getpgrp()");
}

int main(void)
{
    alarm(20);
    g_me = getpid();
    if (!isatty(0)) {
        out("FAIL stdin is not a terminal: run by tests/e2e/tty.sh\n");
        return 1;
    }
    test_basics();
    alarm(20);
    test_termios();
    alarm(20);
    test_tiocspgrp();
    test_bg_read();
    test_bg_write();
    test_bg_tcset();
    test_fg_handoff();
    test_orphaned();
    test_reparented();
    alarm(20);
    test_detach();
    if (g_tty >= 0)
        close(g_tty);
    return finish();
}
