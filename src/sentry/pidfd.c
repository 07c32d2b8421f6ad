/* pidfds: a file that names a process (pidfd_open, CLONE_PIDFD). It polls
 * readable once the process has exited, and with POLLHUP too once it is
 * reaped; /proc/PID/fdinfo shows its pid (-1 once reaped). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "sentry/kernel.h"
#include "sentry/process.h"

static unsigned pidfd_poll(struct file *f, struct poll_table *pt)
{
    struct process *p = f->priv;
    if (pt)
        poll_wait(pt, &p->wait_pidfd);
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int st = p->state;
    pthread_mutex_unlock(&box->tasklist);
    if (st == PROC_REAPED)
        return POLLIN | POLLRDNORM | POLLHUP;
    return st == PROC_ZOMBIE ? POLLIN | POLLRDNORM : 0;
}

static void pidfd_release(struct file *f)
{
    process_put(f->priv);
}

static int pidfd_fdinfo(struct file *f, char *buf, size_t len)
{
    struct process *p = f->priv;
    struct sandbox *box = p->sandbox;
    pthread_mutex_lock(&box->tasklist);
    int pid = p->state == PROC_REAPED ? -1 : p->pid;
    pthread_mutex_unlock(&box->tasklist);
    return fdinfo_printf(buf, len, "Pid:\t%d\nNSpid:\t%d\n", pid, pid);
}

static const struct file_ops pidfd_ops = {
    .name = "pidfd",
    .poll = pidfd_poll,
    .release = pidfd_release,
    .fdinfo = pidfd_fdinfo,
};

struct process *pidfd_process(struct file *f)
{
    return f && f->ops == &pidfd_ops ? f->priv : NULL;
}

int pidfd_install(struct task *t, struct process *p, int nonblock)
{
    struct file *f = file_new(&pidfd_ops, O_RDWR | (nonblock ? O_NONBLOCK : 0));
    if (!f)
        return -ENOMEM;
    f->fmode |= FMODE_STREAM;
    f->priv = process_get(p);
    return fd_install_new(t, f, 1);
}
