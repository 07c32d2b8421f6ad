/* A process's descriptors: the fd table and descriptor lookup. */
#ifndef FS_FDTABLE_H
#define FS_FDTABLE_H

#include <pthread.h>

struct file;
struct task;

struct fd_entry {
    struct file *f;
    int cloexec;
};

struct fdtable {
    pthread_mutex_t lock;
    int refs;
    int n; /* capacity of fd[] */
    struct fd_entry *fd;
};

struct fdtable *fdtable_new(void);
struct fdtable *fdtable_copy(struct fdtable *t);
struct fdtable *fdtable_get(struct fdtable *t);
void fdtable_put(struct fdtable *t);
/* The file at fd with a reference taken, or NULL. */
struct file *fd_get(struct fdtable *t, int fd);
/* The same for most syscalls: O_PATH files count as not open (EBADF). */
struct file *fget(struct task *t, int fd);
/* Install f at exactly fd (replacing what was there); takes over the caller's reference. */
int fd_install_at(struct fdtable *t, int fd, struct file *f, int cloexec);
/* Install f at the lowest free fd >= min below limit; -EMFILE if none.
 * Takes over the reference on success only. */
int fd_install(struct fdtable *t, int min, int limit, struct file *f, int cloexec);
/* The caller's descriptor limit: RLIMIT_NOFILE, at most Linux's nr_open. */
int fd_limit(struct task *t);
/* A new file f at t's lowest free fd: the fd, or -errno with f dropped. */
int fd_install_new(struct task *t, struct file *f, int cloexec);
int fd_close(struct fdtable *t, int fd);

#endif
