/* The guest's controlling terminal: the host terminal sandbox-run was
 * started on (its standard input), as Linux's tty layer shows one to the
 * processes of a session (drivers/tty/tty_jobctrl.c, tty_io.c).
 *
 * What is the sentry's own, under box->tasklist: the session the terminal
 * controls (tty.sid), its foreground process group (tty.pgrp), and each
 * process's controlling terminal (process.tty, inherited at fork, dropped
 * by setsid and TIOCNOTTY). The job-control ioctls work on those and never
 * reach the host: there, sandbox-run stays in the terminal's foreground,
 * and the terminal's signals (Ctrl-C, Ctrl-Z) come to sandbox-run, which
 * gives them to the guest's foreground group (sandbox.c).
 *
 * What is the host terminal's own: its settings (the termios calls) and
 * window size go through to it, with Linux's job-control checks first; the
 * settings found at start-up are put back when sandbox-run ends. Calls
 * that would reach beyond the terminal's settings (TIOCSTI's typed input,
 * TIOCCONS, a hangup, the locked settings) are refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base.h"
#include "fs/file/devices.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/tty.h"

struct tty {
    int host_fd; /* the sentry's descriptor of the host terminal */
    dev_t rdev;  /* the host terminal, to know fds 0-2 that are it */
    int sid;     /* the session it controls, 0 for none (tasklist) */
    int pgrp;    /* its foreground group, 0 for none (tasklist) */
    int excl;    /* TIOCEXCL, the guest's own (relaxed atomics) */
};

/* The settings to put back, for tty_host_restore at any exit. */
static int saved_fd = -1;
static struct termios saved_tio;
/* The sandbox's terminal, which lives as long as sandbox-run (the
 * sandbox's own record of it goes with its frame). */
static struct tty *host_tty;

/* A terminal file's operations: the host stream's, with job control on
 * read, write and ioctl (terminal_ops); and the same for a file opened as
 * /dev/tty, which keeps the device's own inode for fstat (devtty_ops). */
static const struct file_ops *stream_ops;
static struct file_ops terminal_ops, devtty_ops;

static struct tty *tty_of(struct task *t)
{
    return t->proc->sandbox->tty;
}

/* Writes check only with TOSTOP set, which is the host terminal's. */
static int tostop(struct tty *tty)
{
    struct termios tio;
    return ioctl(tty->host_fd, TCGETS, &tio) == 0 && (tio.c_lflag & TOSTOP);
}

/* Linux's __tty_check_change: a process of tty's session outside its
 * foreground group may not read (sig SIGTTIN) or change the terminal
 * (SIGTTOU). Such a call sends sig to the caller's group and restarts
 * once the group is continued; with sig ignored or blocked, a read gives
 * EIO and a change goes ahead; an orphaned group gets EIO. if_tostop: a
 * write, checked only with TOSTOP set (asked of the host for a background
 * writer only, not on every write). */
static int check_change(struct task *t, struct tty *tty, int sig, int if_tostop)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int pgrp = p->pgid, fg = tty->pgrp;
    int mine = p->tty == tty && fg && pgrp != fg;
    int orphaned = mine && pgrp_orphaned_locked(box, pgrp, NULL);
    pthread_mutex_unlock(&box->tasklist);
    if (!mine || (if_tostop && !tostop(tty)))
        return 0;
    if (signal_ignored_or_blocked(t, sig))
        return sig == SIGTTIN ? -EIO : 0;
    if (orphaned)
        return -EIO;
    signal_pgrp(box, pgrp, sig);
    return -ERESTARTSYS;
}

static ssize_t tty_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    int r = check_change(current_task, tty_of(current_task), SIGTTIN, 0);
    return r < 0 ? r : stream_ops->read(f, buf, len, pos);
}

static ssize_t tty_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    struct task *t = current_task;
    struct tty *tty = tty_of(t);
    int r = check_change(t, tty, SIGTTOU, 1);
    return r < 0 ? r : stream_ops->write(f, buf, len, pos);
}

/* ---- the job-control ioctls ---- */

/* The session of process group pgrp (or, with no such group, of the
 * process pgrp): -ESRCH for neither. Under tasklist. */
static int session_of_pgrp_locked(struct sandbox *box, int pgrp)
{
    int sid = -ESRCH;
    list_for_each (q, &box->procs, struct process, pid_node) {
        if (q->state == PROC_REAPED)
            continue;
        if (q->pgid == pgrp)
            return q->sid;
        if (q->pid == pgrp)
            sid = q->sid;
    }
    return sid;
}

static long tiocspgrp(struct task *t, struct tty *tty, uint64_t arg)
{
    long r = check_change(t, tty, SIGTTOU, 0);
    if (r == -EIO)
        return -ENOTTY;
    if (r)
        return r;
    int pgrp;
    if (copy_in(t, &pgrp, arg, sizeof(pgrp)) < 0)
        return -EFAULT;
    if (pgrp < 0)
        return -EINVAL;
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int sid = session_of_pgrp_locked(box, pgrp);
    if (p->tty != tty || tty->sid != p->sid)
        r = -ENOTTY;
    else if (sid < 0)
        r = sid;
    else if (sid != p->sid)
        r = -EPERM;
    else
        tty->pgrp = pgrp;
    pthread_mutex_unlock(&box->tasklist);
    return r;
}

/* TIOCGPGRP and TIOCGSID: for the caller's own terminal only. */
static long tiocg(struct task *t, struct tty *tty, uint64_t arg, int sid)
{
    struct sandbox *box = t->proc->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int mine = t->proc->tty == tty;
    int v = sid ? tty->sid : tty->pgrp;
    pthread_mutex_unlock(&box->tasklist);
    if (!mine || (sid && !v))
        return -ENOTTY;
    return copy_out(t, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

/* TIOCSCTTY: a session leader without a terminal takes this one, which
 * must control no session, or be taken from one (arg 1, CAP_SYS_ADMIN). */
static long tiocsctty(struct task *t, struct file *f, struct tty *tty, uint64_t arg)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    int admin = creds_capable(t->cred, GCAP_SYS_ADMIN);
    long r = 0;
    pthread_mutex_lock(&box->tasklist);
    int leader = p->sid == p->pid;
    if (leader && tty->sid == p->sid) {
        r = 0; /* already its own */
    } else if (!leader || p->tty) {
        r = -EPERM;
    } else if (!file_readable(f) && !admin) {
        r = -EPERM;
    } else if (tty->sid && !(arg == 1 && admin)) {
        r = -EPERM;
    } else {
        if (tty->sid) /* taken from its session */
            list_for_each (q, &box->procs, struct process, pid_node)
                if (q->sid == tty->sid && q->tty == tty)
                    q->tty = NULL;
        tty->sid = p->sid;
        tty->pgrp = p->pgid;
        p->tty = tty;
    }
    pthread_mutex_unlock(&box->tasklist);
    return r;
}

/* The session loses its terminal: every process of it, and the terminal
 * its session and group. The old foreground group, or 0. Under tasklist. */
static int disassociate_locked(struct sandbox *box, struct tty *tty)
{
    int fg = tty->pgrp;
    list_for_each (q, &box->procs, struct process, pid_node)
        if (q->tty == tty && q->sid == tty->sid)
            q->tty = NULL;
    tty->sid = 0;
    tty->pgrp = 0;
    return fg;
}

/* TIOCNOTTY: a process leaves its terminal; a session leader takes it
 * from its whole session, and the foreground group gets SIGHUP and
 * SIGCONT. */
static long tiocnotty(struct task *t, struct tty *tty)
{
    struct process *p = t->proc;
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    if (p->tty != tty) {
        pthread_mutex_unlock(&box->tasklist);
        return -ENOTTY;
    }
    int fg = 0;
    if (p->sid == p->pid)
        fg = disassociate_locked(box, tty);
    else
        p->tty = NULL;
    pthread_mutex_unlock(&box->tasklist);
    if (fg) {
        signal_pgrp(box, fg, SIGHUP);
        signal_pgrp(box, fg, SIGCONT);
    }
    return 0;
}

/* ---- the host terminal's own ioctls ---- */

/* Sizes of what the settings calls move: the kernel's struct termios (36
 * bytes), termios2 (44) and termio (18). */
#define TERMIOS_K 36
#define TERMIOS2_K 44
#define TERMIO_K 18
#define TCGETS2_ 0x802C542AUL
#define TCSETS2_ 0x402C542BUL
#define TCSETSW2_ 0x402C542CUL
#define TCSETSF2_ 0x402C542DUL
#define TIOCGEXCL_ 0x80045440UL

/* A get: the host terminal's structure of size bytes, out to arg. */
static long host_get(struct task *t, struct tty *tty, unsigned long req, uint64_t arg, size_t size)
{
    unsigned char buf[64];
    memset(buf, 0, sizeof(buf));
    if (ioctl(tty->host_fd, req, buf) < 0)
        return -errno;
    return copy_out(t, arg, buf, size) < 0 ? -EFAULT : 0;
}

/* A set: size bytes from arg to the host terminal, after the job-control
 * check (change 1). */
static long host_set(struct task *t, struct tty *tty, unsigned long req, uint64_t arg, size_t size,
                     int change)
{
    if (change) {
        long r = check_change(t, tty, SIGTTOU, 0);
        if (r)
            return r;
    }
    unsigned char buf[64];
    memset(buf, 0, sizeof(buf));
    if (copy_in(t, buf, arg, size) < 0)
        return -EFAULT;
    return ioctl(tty->host_fd, req, buf) < 0 ? -errno : 0;
}

/* A call whose argument is a value (TCSBRK, TCXONC, TCFLSH), after the
 * job-control check. */
static long host_value(struct task *t, struct tty *tty, unsigned long req, uint64_t arg)
{
    long r = check_change(t, tty, SIGTTOU, 0);
    if (r)
        return r;
    return ioctl(tty->host_fd, req, (unsigned long)(int)arg) < 0 ? -errno : 0;
}

static long tty_ioctl(struct file *f, unsigned long req, uint64_t arg)
{
    struct task *t = current_task;
    struct tty *tty = tty_of(t);
    switch (req) {
    case TIOCGPGRP:
        return tiocg(t, tty, arg, 0);
    case TIOCGSID:
        return tiocg(t, tty, arg, 1);
    case TIOCSPGRP:
        return tiocspgrp(t, tty, arg);
    case TIOCSCTTY:
        return tiocsctty(t, f, tty, arg);
    case TIOCNOTTY:
        return tiocnotty(t, tty);
    case TCGETS:
    case TIOCGLCKTRMIOS:
        return host_get(t, tty, req, arg, TERMIOS_K);
    case TCGETS2_:
        return host_get(t, tty, req, arg, TERMIOS2_K);
    case TCGETA:
        return host_get(t, tty, req, arg, TERMIO_K);
    case TIOCGWINSZ:
        return host_get(t, tty, req, arg, sizeof(struct winsize));
    case TIOCOUTQ:
    case TIOCINQ:
        return host_get(t, tty, req, arg, sizeof(int));
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return host_set(t, tty, req, arg, TERMIOS_K, 1);
    case TCSETS2_:
    case TCSETSW2_:
    case TCSETSF2_:
        return host_set(t, tty, req, arg, TERMIOS2_K, 1);
    case TCSETA:
    case TCSETAW:
    case TCSETAF:
        return host_set(t, tty, req, arg, TERMIO_K, 1);
    case TIOCSWINSZ: /* the host tells its foreground (sandbox-run) SIGWINCH */
        return host_set(t, tty, req, arg, sizeof(struct winsize), 0);
    case TCSBRK:
    case TCSBRKP:
    case TCXONC:
    case TCFLSH:
        return host_value(t, tty, req, arg);
    case TIOCEXCL:
    case TIOCNXCL:
        __atomic_store_n(&tty->excl, req == TIOCEXCL, __ATOMIC_RELAXED);
        return 0;
    case TIOCGEXCL_: {
        int v = __atomic_load_n(&tty->excl, __ATOMIC_RELAXED);
        return copy_out(t, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
    }
    case TIOCGETD: {
        int ldisc = 0; /* N_TTY */
        return copy_out(t, arg, &ldisc, sizeof(ldisc)) < 0 ? -EFAULT : 0;
    }
    case TIOCSETD: {
        int ldisc;
        if (copy_in(t, &ldisc, arg, sizeof(ldisc)) < 0)
            return -EFAULT;
        return ldisc == 0 ? 0 : ldisc < 0 || ldisc >= 30 ? -EINVAL : -EPERM;
    }
    case TIOCSTI:
        /* Input typed into the host terminal would outlive the sandbox:
         * refused as Linux refuses it with legacy TIOCSTI off. */
        return -EIO;
    case TIOCCONS:
    case TIOCVHANGUP:
    case TIOCSLCKTRMIOS:
        return -EPERM; /* CAP_SYS_ADMIN over the host's terminal */
    default:
        return -ENOTTY;
    }
}

/* ---- /dev/tty ---- */

/* The caller's controlling terminal, opened again (ENXIO without one). */
static int devtty_open(struct file *f, int flags)
{
    struct task *t = current_task;
    struct sandbox *box = t->proc->sandbox;
    pthread_mutex_lock(&box->tasklist);
    struct tty *tty = t->proc->tty;
    pthread_mutex_unlock(&box->tasklist);
    if (!tty)
        return -ENXIO;
    int fd = host_reopen(tty->host_fd,
                         (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return fd;
    f->host_fd = fd;
    f->ops = &devtty_ops;
    f->fmode |= FMODE_STREAM;
    return 0;
}

int tty_setup(struct sandbox *box, struct task *t)
{
    struct stat st;
    if (!isatty(0) || fstat(0, &st) < 0)
        return 0;
    struct tty *tty = calloc(1, sizeof(*tty));
    if (!tty)
        return -ENOMEM;
    tty->host_fd = fcntl(0, F_DUPFD_CLOEXEC, 10);
    if (tty->host_fd < 0) {
        free(tty);
        return -errno;
    }
    tty->rdev = st.st_rdev;
    host_tty = tty;
    if (tcgetattr(tty->host_fd, &saved_tio) == 0)
        saved_fd = tty->host_fd;
    struct process *p = t->proc;
    for (int fd = 0; fd < 3; fd++) {
        struct file *f = fget(t, fd);
        if (!f)
            continue;
        if (!stream_ops)
            stream_ops = f->ops;
        struct stat fs;
        if (f->host_fd >= 0 && f->ops == stream_ops && fstat(f->host_fd, &fs) == 0 &&
            S_ISCHR(fs.st_mode) && fs.st_rdev == tty->rdev) {
            if (!terminal_ops.name) {
                terminal_ops = *stream_ops;
                terminal_ops.name = "tty";
                terminal_ops.read = tty_read;
                terminal_ops.write = tty_write;
                terminal_ops.ioctl = tty_ioctl;
                devtty_ops = terminal_ops;
                devtty_ops.stat = NULL; /* the device's inode */
            }
            f->ops = &terminal_ops;
            if (f->inode)
                f->inode->fops = &terminal_ops; /* a reopen through /proc */
        }
        file_put(f);
    }
    devices_set_ctty_open(devtty_open);
    pthread_mutex_lock(&box->tasklist);
    tty->sid = p->sid;
    tty->pgrp = p->pgid;
    p->tty = tty;
    box->tty = tty;
    pthread_mutex_unlock(&box->tasklist);
    return 0;
}

int tty_foreground(struct sandbox *box)
{
    pthread_mutex_lock(&box->tasklist);
    int fg = box->tty ? box->tty->pgrp : 0;
    pthread_mutex_unlock(&box->tasklist);
    return fg;
}

void tty_leave_locked(struct process *p)
{
    p->tty = NULL;
}

int tty_session_exit_locked(struct process *p)
{
    struct tty *tty = p->tty;
    if (!tty || p->sid != p->pid || tty->sid != p->sid)
        return 0;
    return disassociate_locked(p->sandbox, tty);
}

void tty_host_restore(void)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSANOW, &saved_tio);
}
