/* timerfd_create, timerfd_settime, timerfd_gettime (Linux's fs/timerfd.c):
 * the checks and copies; the timer is src/fs/file/timerfd.c. The alarm
 * clocks need CAP_WAKE_ALARM to make and to set a timer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/timerfd.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/mm.h"
#include "sentry/syscall.h"

#define GCAP_WAKE_ALARM 35

SYSCALL_DEFINE2(timerfd_create, int, clockid, int, flags)
{
    if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) || !timerfd_clock_ok(clockid))
        return -EINVAL;
    if (timerfd_clock_alarm(clockid) && !creds_capable(t->cred, GCAP_WAKE_ALARM))
        return -EPERM;
    struct file *f = timerfd_file(clockid, flags);
    if (!f)
        return -ENOMEM;
    return fd_install_new(t, f, !!(flags & O_CLOEXEC));
}

/* timerfd_fget: -EBADF, or -EINVAL for a file that is no timerfd. */
static struct file *timerfd_fget(struct task *t, int fd, long *err)
{
    struct file *f = fget(t, fd);
    if (!f) {
        *err = -EBADF;
        return NULL;
    }
    if (timerfd_clockid(f) < 0) {
        file_put(f);
        *err = -EINVAL;
        return NULL;
    }
    return f;
}

SYSCALL_DEFINE4(timerfd_settime, int, fd, int, flags, uint64_t, unew, uint64_t, uold)
{
    struct itimerspec nv, old;
    long r = ktime_itimerspec_in(t, unew, &nv);
    if (r < 0)
        return r;
    if (flags & ~(TIMERFD_ABSTIME | TIMERFD_CANCEL_ON_SET))
        return -EINVAL;
    struct file *f = timerfd_fget(t, fd, &r);
    if (!f)
        return r;
    if (timerfd_clock_alarm(timerfd_clockid(f)) && !creds_capable(t->cred, GCAP_WAKE_ALARM)) {
        file_put(f);
        return -EPERM;
    }
    r = timerfd_set(f, flags, &nv, &old);
    file_put(f);
    if (r == 0 && uold)
        r = ktime_itimerspec_out(t, uold, &old);
    return r;
}

SYSCALL_DEFINE2(timerfd_gettime, int, fd, uint64_t, curr_value)
{
    long r;
    struct file *f = timerfd_fget(t, fd, &r);
    if (!f)
        return r;
    struct itimerspec cur;
    timerfd_get(f, &cur);
    file_put(f);
    return ktime_itimerspec_out(t, curr_value, &cur);
}
