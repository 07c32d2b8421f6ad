/* The guest's controlling terminal (src/sentry/tty.c): the host terminal
 * sandbox-run's standard input is, when it is one. The sentry keeps the
 * terminal's session and foreground process group itself (the job-control
 * ioctls never reach the host, whose terminal keeps sandbox-run in its
 * foreground); the termios settings and the window size are the host
 * terminal's own, and are put back when sandbox-run ends. */
#ifndef SENTRY_TTY_H
#define SENTRY_TTY_H

struct process;
struct sandbox;
struct task;

/* At start-up, for the sandbox's init t (fds 0-2 installed, as
 * process_new_init leaves them): if sandbox-run's standard input is a
 * terminal, it becomes the sandbox's terminal (box->tty) and the
 * controlling terminal of init's session, with init's group in the
 * foreground; those of fds 0-2 that are that terminal become terminal
 * files (job control on read, write and ioctl). Its settings are saved for
 * tty_host_restore. 0, or -ENOMEM. */
int tty_setup(struct sandbox *box, struct task *t);

/* The terminal's foreground process group, or 0 when the sandbox has no
 * terminal or the terminal has none. */
int tty_foreground(struct sandbox *box);

/* Under box->tasklist: p leaves its session's terminal (setsid); a
 * session leader's exit takes the terminal from its whole session and
 * sends SIGHUP to the foreground group (Linux's disassociate_ctty): the
 * group to signal is returned (0 for none), for the caller to signal
 * once the lock is dropped. */
void tty_leave_locked(struct process *p);
int tty_session_exit_locked(struct process *p);

/* Put the host terminal's settings back as they were at start-up
 * (async-signal-safe: one ioctl). Nothing without a terminal. */
void tty_host_restore(void);

#endif
