/* eventfd and eventfd2 (Linux's fs/eventfd.c, do_eventfd). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>

#include "fs/file/eventfd.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

static long do_eventfd(struct task *t, unsigned count, int flags)
{
    if (flags & ~(EVENTFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    struct file *f = eventfd_file(count, flags);
    if (!f)
        return -ENOMEM;
    return fd_install_new(t, f, !!(flags & O_CLOEXEC));
}

SYSCALL_DEFINE1(eventfd, unsigned, initval)
{
    return do_eventfd(t, initval, 0);
}

SYSCALL_DEFINE2(eventfd2, unsigned, initval, int, flags)
{
    return do_eventfd(t, initval, flags);
}
