/* Pipes and FIFOs: the pipe object (a ring of pages), anonymous pipes on
 * pipefs, the FIFO rendezvous at open, pipe fcntls, and the pipe halves
 * of splice and tee. The syscalls themselves live in src/fs/sys_*.c.
 *
 * Blocking calls sleep with sched/wait.h as current_task and return
 * -ERESTARTSYS when it is interrupted. -EPIPE means the caller must also
 * send SIGPIPE to the writer (as Linux's send_sig in pipe_write) once
 * signals exist; these functions do not. */
#ifndef FS_PIPE_H
#define FS_PIPE_H

#include <stddef.h>
#include <sys/types.h>

struct file;
struct inode;
struct super_block;
struct task;

#define PIPE_PAGE 4096u   /* one slot of the ring */
#define PIPE_DEF_SLOTS 16 /* 65536 bytes by default */
#define PIPE_MAX_SIZE_DEFAULT 1048576u

/* /proc/sys/fs/pipe-max-size: F_SETPIPE_SZ above it needs CAP_SYS_RESOURCE. */
extern unsigned int pipe_max_size;

/* pipe2: a new anonymous pipe as a read file and a write file (flags:
 * O_NONBLOCK, O_DIRECT for packet mode, O_CLOEXEC which the caller applies
 * to the fds; others -EINVAL; O_NOTIFICATION_PIPE -ENOPKG, as a kernel
 * without CONFIG_WATCH_QUEUE). fstat gives S_IFIFO | 0600 on pipefs, owned
 * by t's fsuid/fsgid. Both files hold a reference to the pipefs inode. */
int pipe_create(struct task *t, int flags, struct file **rd, struct file **wr);

/* Open of a FIFO inode i (any file system; also a pipefs inode reopened
 * through /proc/PID/fd): one pipe per (i->sb, i->ino), kept while anyone
 * has it open. Sets f->ops, f->priv and FMODE_STREAM on success only.
 * O_RDONLY waits for a writer unless O_NONBLOCK; O_WRONLY waits for a
 * reader, or -ENXIO with O_NONBLOCK; O_RDWR never waits. Waits end with
 * -ERESTARTSYS if t is interrupted. The VFS must not open a hostfs FIFO
 * on the host. */
int fifo_open(struct task *t, struct inode *i, struct file *f, int flags);
/* The file operations of a FIFO inode (init_special_inode): open is
 * fifo_open as current_task. */
extern const struct file_ops fifo_fops;

/* pipefs's super block (NULL if it could not be made): its st_dev and its
 * inode counter also number the host pipes the guest gets as standard
 * streams, so that every pipe the guest sees is on one pipefs with
 * distinct numbers, as in Linux. */
struct super_block *pipefs_super(void);

/* 1 if f is a pipe or an open FIFO (its reads and writes are these). */
int file_is_pipe(struct file *f);

/* F_GETPIPE_SZ / F_SETPIPE_SZ (arg is fcntl's argument as unsigned int):
 * the capacity in bytes; -EBADF if f is not a pipe; -EINVAL for other
 * commands or a size above 2^31; -EPERM above pipe_max_size without
 * CAP_SYS_RESOURCE (euid 0 until capabilities exist); -EBUSY if the
 * pages in use do not fit. Sizes round up to a power-of-two number of
 * pages, at least one. */
long pipe_fcntl(struct task *t, struct file *f, unsigned int cmd, unsigned int arg);

/* ---- splice and tee (no guest copies; the caller checks fds and flags) ----
 * All give -EINVAL if a file that must be a pipe is not, -EBADF if it is
 * not open for the needed direction, 0 for len 0. nonblock is
 * SPLICE_F_NONBLOCK or the relevant O_NONBLOCK (for splice, Linux uses the
 * other file's O_NONBLOCK; the pipe-to-pipe calls add both pipes' own). */

/* Takes len bytes (or what is there) and returns how many it took, or
 * -errno; a short count stops the transfer. Called under the pipe's lock:
 * must not touch the same pipe. */
typedef ssize_t (*pipe_consume_fn)(void *ctx, const void *data, size_t len);
/* Fills buf with up to len bytes and returns how many, 0 at end, or -errno. */
typedef ssize_t (*pipe_produce_fn)(void *ctx, void *buf, size_t len);

/* Splice out of a pipe: as read(2) (waits for data unless nonblock; 0 at
 * end of data with no writers), handing the bytes to consume; they leave
 * the pipe as it accepts them. Returns the bytes moved or -errno. */
ssize_t pipe_splice_out(struct file *pf, size_t len, int nonblock, pipe_consume_fn consume,
                        void *ctx);
/* Splice into a pipe: waits for a free slot (-EPIPE without readers,
 * -EAGAIN if nonblock), then fills free slots from produce, one page per
 * call, until len, a short count, or the pipe is full. Not atomic. */
ssize_t pipe_splice_in(struct file *pf, size_t len, int nonblock, pipe_produce_fn produce,
                       void *ctx);
/* The same with a buffer of the sentry. */
ssize_t pipe_read_buf(struct file *pf, void *buf, size_t len, int nonblock);
ssize_t pipe_write_buf(struct file *pf, const void *buf, size_t len, int nonblock);

/* splice between two pipes: moves up to len bytes (whole pages move
 * without copying). tee: copies up to len bytes of in's content to out
 * without consuming them. Both wait for data in in and room in out unless
 * nonblock; 0 when in is empty with no writers; -EPIPE if out has no
 * readers; -EINVAL if in and out are the same pipe. */
ssize_t pipe_splice_pipe(struct file *in, struct file *out, size_t len, int nonblock);
ssize_t pipe_tee(struct file *in, struct file *out, size_t len, int nonblock);

#endif
