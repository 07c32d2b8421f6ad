/* Identity, time and system information: getpid and friends, uname,
 * clocks, getrandom, resource limits, CPU affinity. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel.h"
#include "sentry/syscall.h"

long sys_getpid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->pid;
}

long sys_gettid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->tid;
}

long sys_getppid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->ppid;
}

long sys_getuid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->creds.uid;
}

long sys_geteuid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->creds.euid;
}

long sys_getgid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->creds.gid;
}

long sys_getegid(struct task *t, const struct sysargs *a)
{
    (void)a;
    return t->proc->creds.egid;
}

long sys_uname(struct task *t, const struct sysargs *a)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    return copy_out(t, a->a[0], &u, sizeof(u)) < 0 ? -EFAULT : 0;
}

long sys_sched_yield(struct task *t, const struct sysargs *a)
{
    (void)t;
    (void)a;
    sched_yield();
    return 0;
}

/* Map a guest clock id to a host one: CPU-time clocks of the guest itself
 * become the stub process's clock. */
static long host_clock(struct task *t, int64_t id, clockid_t *out)
{
    if (id >= 0) {
        if (id > 11 || id == 10)
            return -EINVAL;
        if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID)
            goto self_cpu;
        *out = (clockid_t)id;
        return 0;
    }
    /* Encoded CPU clock: ~pid << 3 | type (| 4 for a thread). */
    if ((id & 7) == 7)
        return -EINVAL;
    int64_t pid = ~(id >> 3);
    if (pid != 0 && pid != t->proc->pid && pid != t->tid)
        return -EINVAL;
self_cpu:
    /* Shifted as unsigned: a left shift of a negative value is undefined. */
    *out = (clockid_t)((~(uint64_t)t->proc->mm->stub->pid << 3) | 2);
    return 0;
}

long sys_clock_gettime(struct task *t, const struct sysargs *a)
{
    clockid_t c;
    long r = host_clock(t, (int)a->a[0], &c);
    if (r < 0)
        return r;
    struct timespec ts;
    if (clock_gettime(c, &ts) < 0)
        return -errno;
    return copy_out(t, a->a[1], &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_clock_getres(struct task *t, const struct sysargs *a)
{
    clockid_t c;
    long r = host_clock(t, (int)a->a[0], &c);
    if (r < 0)
        return r;
    struct timespec ts;
    if (clock_getres(c, &ts) < 0)
        return -errno;
    if (a->a[1] == 0)
        return 0;
    return copy_out(t, a->a[1], &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_gettimeofday(struct task *t, const struct sysargs *a)
{
    struct timeval tv;
    struct timezone tz;
    if (gettimeofday(&tv, &tz) < 0)
        return -errno;
    if (a->a[0] && copy_out(t, a->a[0], &tv, sizeof(tv)) < 0)
        return -EFAULT;
    if (a->a[1] && copy_out(t, a->a[1], &tz, sizeof(tz)) < 0)
        return -EFAULT;
    return 0;
}

long sys_time(struct task *t, const struct sysargs *a)
{
    int64_t now = (int64_t)time(NULL);
    if (a->a[0] && copy_out(t, a->a[0], &now, sizeof(now)) < 0)
        return -EFAULT;
    return now;
}

long sys_getrandom(struct task *t, const struct sysargs *a)
{
    uint64_t buf = a->a[0];
    size_t len = a->a[1];
    unsigned flags = (unsigned)a->a[2];
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

long sys_sched_getaffinity(struct task *t, const struct sysargs *a)
{
    int pid = (int)a->a[0];
    uint64_t len = a->a[1];
    uint8_t mask[1024];
    /* The host kernel checks len exactly as for the guest; then the pid. */
    long r = syscall(SYS_sched_getaffinity, 0, len < sizeof(mask) ? len : sizeof(mask), mask);
    if (r < 0)
        return -errno;
    if (pid != 0 && pid != t->tid)
        return -ESRCH;
    return copy_out(t, a->a[2], mask, (size_t)r) < 0 ? -EFAULT : r;
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
    pthread_mutex_lock(&p->sb->lock);
    struct guest_rlimit old = p->rlim[res];
    long r = 0;
    if (unew) {
        if (nl.cur > nl.max)
            r = -EINVAL;
        else if (nl.max > old.max && p->creds.euid != 0)
            r = -EPERM;
        else if (res == RLIMIT_NOFILE && nl.max > 1048576)
            r = -EPERM;
        else
            p->rlim[res] = nl;
    }
    pthread_mutex_unlock(&p->sb->lock);
    if (r == 0 && uold && copy_out(t, uold, &old, sizeof(old)) < 0)
        return -EFAULT;
    return r;
}

long sys_prlimit64(struct task *t, const struct sysargs *a)
{
    return do_prlimit(t, (int)a->a[0], (unsigned)a->a[1], a->a[2], a->a[3]);
}

long sys_getrlimit(struct task *t, const struct sysargs *a)
{
    unsigned res = (unsigned)a->a[0];
    if (res >= GUEST_RLIM_NLIMITS)
        return -EINVAL;
    return do_prlimit(t, 0, res, 0, a->a[1]);
}

long sys_setrlimit(struct task *t, const struct sysargs *a)
{
    return do_prlimit(t, 0, (unsigned)a->a[0], a->a[1], 0);
}
