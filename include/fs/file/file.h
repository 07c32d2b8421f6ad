/* Open file descriptions and fd tables. A struct file is shared between fds
 * and processes; its behaviour comes from a static const file_ops table. */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct creds;

struct file;
struct task;
struct poll_table;
struct waitq;
struct stat;
struct inode;
struct dentry;
struct mount;

/* getdents: the file calls emit for each entry from ctx->pos on, and
 * advances ctx->pos to the entry's successor cookie after each one that
 * emit accepted; it stops when emit returns nonzero (buffer full). */
struct dir_context {
    int (*emit)(struct dir_context *ctx, const char *name, size_t namelen, uint64_t ino,
                unsigned type /* DT_* */);
    off_t pos;
};

/* Open file operations. NULL members have these defaults:
 * read/write: -EINVAL; llseek: the generic one on f->pos (SEEK_END uses
 * the size from stat), or -ESPIPE for stream files; iterate: -ENOTDIR;
 * stat: the inode's getattr; ioctl: -ENOTTY; fsync: -EINVAL; fallocate:
 * -EOPNOTSUPP (-ENODEV for non-regular files); mmap_fd: -ENODEV;
 * truncate: through the inode's setattr; open, release: nothing. */
struct file_ops {
    const char *name;
    /* pos is the file position to use and advance (ignored by streams). */
    ssize_t (*read)(struct file *f, void *buf, size_t len, off_t *pos);
    ssize_t (*write)(struct file *f, const void *buf, size_t len, off_t *pos);
    off_t (*llseek)(struct file *f, off_t off, int whence);
    int (*iterate)(struct file *f, struct dir_context *ctx);
    int (*stat)(struct file *f, struct stat *st);
    /* Returns -ENOTTY for requests it does not know. The caller (whose
     * memory arg points into) is current_task (sched/wait.h). */
    long (*ioctl)(struct file *f, unsigned long req, uint64_t arg);
    int (*fsync)(struct file *f, int datasync);
    int (*fallocate)(struct file *f, int mode, off_t off, off_t len);
    /* Readiness (POLLIN, POLLOUT, ...); with pt, also hook the caller on
     * the queues that will announce a change, with poll_wait. NULL: always
     * ready for reading and writing, as Linux's DEFAULT_POLLMASK. */
    unsigned (*poll)(struct file *f, struct poll_table *pt);
    /* A host descriptor whose pages back this file (borrowed), for mmap. */
    int (*mmap_fd)(struct file *f);
    /* Special files and devices (init_special_inode): the open itself,
     * with the open flags; it may set f->ops for what was opened (a FIFO
     * end), or refuse (-ENXIO for a terminal the guest does not have). A
     * FIFO open may sleep as current_task. NULL: the inode's open. */
    int (*open)(struct file *f, int flags);
    void (*release)(struct file *f);
    /* O_DIRECT: the alignment the file's direct I/O needs (Linux's
     * STATX_DIOALIGN): of buffer addresses (*mem) and of positions and
     * lengths (*off); 0 when anything goes. NULL: none needed. */
    void (*dio_align)(struct file *f, unsigned *mem, unsigned *off);
    /* The largest offset of the file's file system (Linux's s_maxbytes);
     * NULL: OFF_MAX. */
    off_t (*max_bytes)(struct file *f);
    /* Nonzero: writes succeed without reading the caller's buffer, so a
     * bad pointer is no error (/dev/null). */
    int write_discards;
    /* Nonzero: a read of 0 bytes still calls read (eventfd and timerfd
     * refuse it); otherwise it returns 0 without the file. */
    int read_empty;
    /* Nonzero: writev calls write once per iovec (Linux's files with a
     * write but no write_iter: eventfd); otherwise once with them all. */
    int write_segments;
    /* Nonzero: what a read returns is copied out whole or the read is
     * EFAULT, its data lost (eventfd's 8 bytes); otherwise a copy that
     * faults part way makes a short read (timerfd's too). */
    int read_whole;
    /* Nonzero (at most 16): a write moves exactly this many bytes (eventfd's
     * 8): other lengths are EINVAL before the buffer is read, and a buffer
     * that cannot be read whole EFAULT. */
    size_t write_size;
    /* Lines this kind of file adds to /proc/PID/fdinfo (each ending in a
     * newline), written into buf; their length. NULL: none. */
    int (*fdinfo)(struct file *f, char *buf, size_t len);
};

#define FMODE_STREAM 1 /* no position: pread/pwrite/lseek give ESPIPE */
#define FMODE_PATH 2   /* O_PATH: only the name */
#define FMODE_WRITER 4 /* counted in its inode's writers (file_count_writer) */
/* A stream whose lseek succeeds and leaves the position at 0 (Linux's
 * noop_llseek: eventfd, timerfd); pread and pwrite still give ESPIPE. */
#define FMODE_NOOP_LLSEEK 8
/* Opened by path and told to fsnotify (fs/vfs/fsnotify.h): its close is too. */
#define FMODE_NOTIFY 16

struct file {
    const struct file_ops *ops;
    int refs;  /* atomic */
    int flags; /* O_ACCMODE and status flags (O_APPEND, O_NONBLOCK, ...) */
    int fmode; /* FMODE_* */
    pthread_mutex_t pos_lock;
    off_t pos;
    void *priv;
    int host_fd;         /* host-backed files; -1 otherwise */
    struct inode *inode; /* with a reference, or NULL */
    struct mount *mnt;   /* where it was opened (both NULL for anonymous files) */
    struct dentry *dentry;
    /* Linux's f_cred: the opener's credentials, with a reference (put
     * with the file). linkat(AT_EMPTY_PATH) without CAP_DAC_READ_SEARCH
     * needs a file opened with the caller's current creds (the same
     * object, as Linux compares them). NULL for files not opened by path
     * (the standard streams, pipes, memfds). */
    const struct creds *opener;
    /* epoll (fs/file/eventpoll.h): the epoll items that watch this file,
     * under the epoll code's lock, and what drops them when the last
     * reference goes (set by the first registration; NULL: none ever). */
    void *ep_items;
    void (*ep_release)(struct file *f);
};

/* A newly opened f with write access to a regular file counts in the
 * inode's writers until it is released (Linux's get_write_access):
 * 0, or -ETXTBSY while the file runs as a program. */
int file_count_writer(struct file *f);
/* Deny writers to i while a program runs from it (-ETXTBSY if it has
 * some now), and allow them again (Linux's deny/allow_write_access). */
int inode_deny_write(struct inode *i);
void inode_allow_write(struct inode *i);
/* Whether some open file counts in i's writers now. */
int inode_has_writers(const struct inode *i);

/* Linux's FMODE_READ and FMODE_WRITE: access mode 3 (O_ACCMODE) gives
 * neither; such a descriptor exists for ioctls only. */
static inline int file_readable(const struct file *f)
{
    int acc = f->flags & O_ACCMODE;
    return acc == O_RDONLY || acc == O_RDWR;
}
static inline int file_writable(const struct file *f)
{
    int acc = f->flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR;
}

/* File change notification of an open file (fs/vfs/fsnotify.h), as
 * Linux's include/linux/fsnotify.h: opened (IN_OPEN; a file opened by
 * path, not O_PATH, is marked FMODE_NOTIFY and its events follow), read
 * (IN_ACCESS), written or truncated (IN_MODIFY), on the file and on its
 * directory with its name; its last reference gone (IN_CLOSE_WRITE or
 * IN_CLOSE_NOWRITE, then IN_DELETE_SELF for the last user of an unlinked
 * inode). */
void fsnotify_open(struct file *f);
void fsnotify_access(struct file *f);
void fsnotify_modify(struct file *f);
void fsnotify_close(struct file *f);
/* RLIMIT_FSIZE of the calling task, as Linux's generic_write_check_limits
 * and inode_newsize_ok apply it to regular files: a write of *len bytes at
 * pos that crosses the limit is cut to it; one that starts at or past it,
 * or a size (len NULL: growing to pos) past it, is -EFBIG. Linux also
 * raises SIGXFSZ then; that comes with signal delivery. */
long fsize_limit(off_t pos, size_t *len);
/* The same for a size change of i to size (truncate): only growing is
 * limited, as inode_newsize_ok. */
long fsize_limit_grow(struct inode *i, off_t size);

struct file *file_new(const struct file_ops *ops, int flags);
/* lseek on f->pos: SEEK_END from the size stat gives; -EINVAL for a
 * negative result or bad whence. (f->pos_lock held by the caller.) */
off_t file_generic_llseek(struct file *f, off_t off, int whence);
/* The position lseek gives on a file of size bytes without holes
 * (Linux's generic_file_llseek_size): -EINVAL past maxbytes, below 0 or for
 * a bad whence, -ENXIO for SEEK_DATA/SEEK_HOLE at or past the size. It
 * leaves f->pos alone. */
off_t file_llseek_size(struct file *f, off_t off, int whence, off_t size, off_t maxbytes);
/* A new host descriptor for the same host file as host_fd, opened with
 * flags through /proc/self/fd (which names exactly that inode); the new
 * descriptor or -errno. */
int host_reopen(int host_fd, int flags);
/* fsync for files with nothing to write back (tmpfs). */
int file_noop_fsync(struct file *f, int datasync);
/* An fdinfo operation's text, formatted into buf: its length, or 0 (no
 * lines) when it does not fit in len. */
int fdinfo_printf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void file_get(struct file *f);
void file_put(struct file *f);

/* The guest's standard streams: files over host descriptors the sentry owns. */
struct file *hoststream_open(int host_fd);

#endif
