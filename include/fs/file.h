/* Open file descriptions and fd tables. A struct file is shared between fds
 * and processes; its behaviour comes from a static const file_ops table. */
#ifndef FS_FILE_H
#define FS_FILE_H

#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct file;
struct task;
struct stat;

struct file_ops {
    const char *name;
    /* NULL read/write means EBADF-style "not supported" (EINVAL, as Linux). */
    ssize_t (*read)(struct file *f, void *buf, size_t len);
    ssize_t (*write)(struct file *f, const void *buf, size_t len);
    int (*stat)(struct file *f, struct stat *st);
    /* Returns -ENOTTY for requests it does not know. */
    long (*ioctl)(struct task *t, struct file *f, unsigned long req, uint64_t arg);
    void (*release)(struct file *f);
};

struct file {
    const struct file_ops *ops;
    int refs;                 /* atomic */
    int flags;                /* O_ACCMODE and status flags */
    pthread_mutex_t pos_lock;
    off_t pos;
    void *priv;
    int host_fd;              /* host-backed files; -1 otherwise */
};

#define FD_MAX_DEFAULT 1024

struct fd_entry {
    struct file *f;
    int cloexec;
};

struct fdtable {
    pthread_mutex_t lock;
    int refs;
    int n;                    /* capacity of fd[] */
    struct fd_entry *fd;
};

struct file *file_new(const struct file_ops *ops, int flags);
void file_get(struct file *f);
void file_put(struct file *f);

struct fdtable *fdtable_new(void);
void fdtable_put(struct fdtable *t);
/* The file at fd with a reference taken, or NULL. */
struct file *fd_get(struct fdtable *t, int fd);
/* Install f at exactly fd (replacing what was there); takes over the caller's reference. */
int fd_install_at(struct fdtable *t, int fd, struct file *f, int cloexec);
int fd_close(struct fdtable *t, int fd);

/* The guest's standard streams: files over host descriptors the sentry owns. */
struct file *hoststream_open(int host_fd);

#endif
