/* Identity, time and system information: getpid, gettid, getppid, uname,
 * supplementary groups, clocks, sysinfo, getrandom, resource limits. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "fs/procfs/procfs.h"
#include "sentry/kernel.h"
#include "sentry/ktime.h"
#include "sentry/syscall.h"

SYSCALL_DEFINE0(getpid)
{
    return t->proc->pid;
}

SYSCALL_DEFINE0(gettid)
{
    return t->tid;
}

SYSCALL_DEFINE0(getppid)
{
    return process_ppid(t->proc);
}

/* Linux's getgroups: size 0 asks for the count; the list is copied only
 * when it fits. The size is an int. */
SYSCALL_DEFINE2(getgroups, int, size, uint64_t, list)
{
    const struct creds *c = t->cred;
    if (size < 0)
        return -EINVAL;
    if (size == 0)
        return c->ngroups;
    if (c->ngroups > size)
        return -EINVAL;
    if (copy_out(t, list, c->groups, (size_t)c->ngroups * sizeof(uint32_t)) < 0)
        return -EFAULT;
    return c->ngroups;
}

SYSCALL_DEFINE1(uname, uint64_t, buf)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    return copy_out(t, buf, &u, sizeof(u)) < 0 ? -EFAULT : 0;
}

/* The figures /proc/uptime, /proc/meminfo and /proc/loadavg show, from the
 * one function that makes them. procs is Linux's nr_threads: a guest is one
 * process with one thread (as /proc/loadavg counts too). */
SYSCALL_DEFINE1(sysinfo, uint64_t, info)
{
    struct sysinfo si;
    procfs_sysinfo(&si, 1);
    return copy_out(t, info, &si, sizeof(si)) < 0 ? -EFAULT : 0;
}

SYSCALL_DEFINE0(sched_yield)
{
    sched_yield();
    return 0;
}

/* clock_gettime and clock_getres: the clock's time or resolution, out to
 * tp (which clock_getres may leave NULL). */
static long clock_read(struct task *t, const struct sysargs *a, int getres)
{
    int clockid = (int)a->a[0];
    uint64_t tp = a->a[1];
    struct gclock c;
    long r = gclock_get(t, clockid, 1, &c);
    if (r < 0)
        return r;
    struct timespec ts;
    if (!gclock_is_cpu(&c)) {
        /* The host's own, which also says which of them exist here (the
         * alarm clocks need a wake-up device). */
        if ((getres ? clock_getres(c.host, &ts) : clock_gettime(c.host, &ts)) < 0)
            return -errno;
    } else if (getres) {
        gclock_res(&c, &ts);
    } else {
        int64_t ns = gclock_now(&c);
        ts.tv_sec = ns / NSEC_PER_SEC;
        ts.tv_nsec = ns % NSEC_PER_SEC;
    }
    gclock_put(&c);
    if (getres && tp == 0)
        return 0;
    return copy_out(t, tp, &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

SYSCALL_AS(clock_gettime, clock_read, 0)
SYSCALL_AS(clock_getres, clock_read, 1)

SYSCALL_DEFINE2(gettimeofday, uint64_t, utv, uint64_t, utz)
{
    struct timeval tv;
    struct timezone tz;
    if (gettimeofday(&tv, &tz) < 0)
        return -errno;
    if (utv && copy_out(t, utv, &tv, sizeof(tv)) < 0)
        return -EFAULT;
    if (utz && copy_out(t, utz, &tz, sizeof(tz)) < 0)
        return -EFAULT;
    return 0;
}

SYSCALL_DEFINE1(time, uint64_t, tloc)
{
    int64_t now = (int64_t)time(NULL);
    if (tloc && copy_out(t, tloc, &now, sizeof(now)) < 0)
        return -EFAULT;
    return now;
}

SYSCALL_DEFINE3(getrandom, uint64_t, buf, size_t, len, unsigned, flags)
{
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | 0x4 /* GRND_INSECURE */))
        return -EINVAL;
    if ((flags & (GRND_RANDOM | 0x4)) == (GRND_RANDOM | 0x4))
        return -EINVAL;
    if (len > (size_t)(0x7fffffff & ~4095))
        len = 0x7fffffff & ~4095;
    if (!guest_range_ok(buf, len))
        return -EFAULT;
    uint8_t tmp[4096];
    size_t done = 0;
    while (done < len) {
        /* Stop at the first guest page that faults, as copy_to_user would. */
        size_t n = 4096 - ((buf + done) & 4095);
        if (n > len - done)
            n = len - done;
        ssize_t g = getrandom(tmp, n, 0);
        if (g < 0)
            return done ? (long)done : -errno;
        long c = copy_out_partial(t, buf + done, tmp, (size_t)g);
        if (c <= 0)
            return done ? (long)done : -EFAULT;
        done += (size_t)c;
        if ((size_t)c < (size_t)g)
            break;
    }
    return (long)done;
}

/* prlimit64 and the older getrlimit/setrlimit share this. */
static long do_prlimit(struct task *t, int pid, unsigned res, uint64_t unew, uint64_t uold)
{
    struct guest_rlimit nl;
    if (unew && copy_in(t, &nl, unew, sizeof(nl)) < 0)
        return -EFAULT;
    if (pid != 0 && pid != t->proc->pid)
        return -ESRCH;
    if (res >= GUEST_RLIM_NLIMITS)
        return -EINVAL;
    struct process *p = t->proc;
    pthread_mutex_lock(&p->sandbox->lock);
    struct guest_rlimit old = p->rlim[res];
    long r = 0;
    if (unew) {
        if (nl.cur > nl.max)
            r = -EINVAL;
        else if (nl.max > old.max && !creds_capable(t->cred, GCAP_SYS_RESOURCE))
            r = -EPERM;
        else if (res == RLIMIT_NOFILE && nl.max > 1048576)
            r = -EPERM;
        else {
            /* Others read a limit without this lock (relaxed atomics). */
            __atomic_store_n(&p->rlim[res].cur, nl.cur, __ATOMIC_RELAXED);
            __atomic_store_n(&p->rlim[res].max, nl.max, __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&p->sandbox->lock);
    if (r == 0 && uold && copy_out(t, uold, &old, sizeof(old)) < 0)
        return -EFAULT;
    return r;
}

SYSCALL_DEFINE4(prlimit64, int, pid, unsigned, resource, uint64_t, new_limit, uint64_t, old_limit)
{
    return do_prlimit(t, pid, resource, new_limit, old_limit);
}

SYSCALL_DEFINE2(getrlimit, unsigned, res, uint64_t, rlim)
{
    if (res >= GUEST_RLIM_NLIMITS)
        return -EINVAL;
    /* Unlike prlimit64's, these pointers are not optional: NULL faults. */
    if (!rlim)
        return -EFAULT;
    return do_prlimit(t, 0, res, 0, rlim);
}

SYSCALL_DEFINE2(setrlimit, unsigned, resource, uint64_t, rlim)
{
    if (!rlim)
        return -EFAULT;
    return do_prlimit(t, 0, resource, rlim, 0);
}
