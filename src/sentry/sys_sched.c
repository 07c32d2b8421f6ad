/* The scheduler as the guest sees it: nice values (getpriority,
 * setpriority), scheduling policies and priorities, the CPU affinity set,
 * the round-robin interval, and the CPU time the host accounts to the
 * guest (getrusage, times). All of it is guest-visible state kept per
 * task: the host threads and the stub keep their own scheduling, so a
 * guest can neither raise its host priority nor pin host threads.
 *
 * The calls that name a task by pid accept 0 and the caller's own tid;
 * any other pid is ESRCH until the process table resolves it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <unistd.h>

#include "base.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define GUEST_SCHED_OTHER 0
#define GUEST_SCHED_FIFO 1
#define GUEST_SCHED_RR 2
#define GUEST_SCHED_BATCH 3
#define GUEST_SCHED_IDLE 5
#define GUEST_SCHED_DEADLINE 6
#define GUEST_SCHED_EXT 7
#define GUEST_SCHED_RESET_ON_FORK 0x40000000
#define GUEST_RLIMIT_NICE 13
#define GUEST_RLIMIT_RTPRIO 14

/* The task pid names: 0 or the caller itself. */
static struct task *find_task(struct task *t, int pid)
{
    return pid == 0 || pid == t->tid ? t : NULL;
}

/* The task pid names, into *out, for the calls that read a task's
 * scheduling: EINVAL for a negative pid, ESRCH for one that names none. */
static long sched_task(struct task *t, int pid, struct task **out)
{
    if (pid < 0)
        return -EINVAL;
    *out = find_task(t, pid);
    return *out ? 0 : -ESRCH;
}

static uint64_t rlimit_cur(struct task *t, int res)
{
    struct process *p = t->proc;
    pthread_mutex_lock(&p->sandbox->lock);
    uint64_t v = p->rlim[res].cur;
    pthread_mutex_unlock(&p->sandbox->lock);
    return v;
}

/* Linux's can_nice: a nice value the caller may move to, as the rlimit
 * style 1..40 against RLIMIT_NICE, or with CAP_SYS_NICE. */
static int can_nice(struct task *t, int nice)
{
    return (uint64_t)(20 - nice) <= rlimit_cur(t, GUEST_RLIMIT_NICE) ||
           creds_capable(t->cred, GCAP_SYS_NICE);
}

/* ---- nice values ---- */

/* The task that getpriority's and setpriority's which and who name, into
 * *out (PRIO_PROCESS: a task, PRIO_PGRP: a process group, PRIO_USER: a
 * real uid): ESRCH if none. */
static long prio_target(struct task *t, int which, int who, struct task **out)
{
    switch (which) {
    case PRIO_PROCESS:
        *out = find_task(t, who);
        break;
    case PRIO_PGRP:
        /* The caller's group is the only one (no process groups yet). */
        *out = who == 0 || who == t->proc->pid ? t : NULL;
        break;
    case PRIO_USER:
        *out = (uint32_t)who == t->cred->uid || who == 0 ? t : NULL;
        break;
    default:
        return -EINVAL;
    }
    return *out ? 0 : -ESRCH;
}

SYSCALL_DEFINE2(getpriority, int, which, int, who)
{
    struct task *p;
    long r = prio_target(t, which, who, &p);
    return r < 0 ? r : 20 - p->nice; /* 1..40: a positive result is never an error */
}

SYSCALL_DEFINE3(setpriority, int, which, int, who, int, nice)
{
    struct task *p;
    long r = prio_target(t, which, who, &p);
    if (r < 0)
        return r;
    if (nice < -20)
        nice = -20;
    if (nice > 19)
        nice = 19;
    /* set_one_prio: the target's real or effective uid is the caller's
     * euid (always so for the caller itself), then can_nice to go lower. */
    const struct creds *c = t->cred;
    if (p->cred->uid != c->euid && p->cred->euid != c->euid && !creds_capable(c, GCAP_SYS_NICE))
        return -EPERM;
    if (nice < p->nice && !can_nice(t, nice))
        return -EACCES;
    p->nice = nice;
    return 0;
}

/* ---- policies ---- */

static int valid_policy(int policy)
{
    return policy == GUEST_SCHED_OTHER || policy == GUEST_SCHED_FIFO || policy == GUEST_SCHED_RR ||
           policy == GUEST_SCHED_BATCH || policy == GUEST_SCHED_IDLE ||
           policy == GUEST_SCHED_DEADLINE;
}

static int rt_policy(int policy)
{
    return policy == GUEST_SCHED_FIFO || policy == GUEST_SCHED_RR;
}

/* Linux's do_sched_setscheduler and __sched_setscheduler for a policy
 * (-1: keep the current one, sched_setparam) and a struct sched_param. */
static long do_setscheduler(struct task *t, int pid, int policy, uint64_t uparam)
{
    if (!uparam || pid < 0)
        return -EINVAL;
    int prio;
    if (copy_in(t, &prio, uparam, sizeof(prio)) < 0)
        return -EFAULT;
    struct task *p = find_task(t, pid);
    if (!p)
        return -ESRCH;
    int reset = 0;
    if (policy < 0) {
        policy = p->sched_policy;
        reset = p->sched_reset_on_fork;
    } else {
        reset = !!(policy & GUEST_SCHED_RESET_ON_FORK);
        policy &= ~GUEST_SCHED_RESET_ON_FORK;
        if (!valid_policy(policy))
            return -EINVAL;
    }
    /* FIFO and RR take 1..99, the others 0; SCHED_DEADLINE needs
     * sched_setattr's runtime and deadline, which this call cannot give. */
    if (prio < 0 || prio > 99 || rt_policy(policy) != (prio != 0) || policy == GUEST_SCHED_DEADLINE)
        return -EINVAL;
    if (!creds_capable(t->cred, GCAP_SYS_NICE)) {
        if (rt_policy(policy)) {
            uint64_t lim = rlimit_cur(t, GUEST_RLIMIT_RTPRIO);
            if (policy != p->sched_policy && !lim)
                return -EPERM;
            if ((uint64_t)prio > (uint64_t)p->sched_priority && (uint64_t)prio > lim)
                return -EPERM;
        }
        if (p->sched_policy == GUEST_SCHED_IDLE && policy != GUEST_SCHED_IDLE &&
            !can_nice(t, p->nice))
            return -EPERM;
        if (p->sched_reset_on_fork && !reset)
            return -EPERM;
    }
    p->sched_policy = policy;
    p->sched_priority = prio;
    p->sched_reset_on_fork = reset;
    return 0;
}

SYSCALL_DEFINE3(sched_setscheduler, int, pid, int, policy, uint64_t, param)
{
    if (policy < 0)
        return -EINVAL;
    return do_setscheduler(t, pid, policy, param);
}

SYSCALL_DEFINE2(sched_setparam, int, pid, uint64_t, param)
{
    return do_setscheduler(t, pid, -1, param);
}

SYSCALL_DEFINE1(sched_getscheduler, int, pid)
{
    struct task *p;
    long r = sched_task(t, pid, &p);
    if (r < 0)
        return r;
    return p->sched_policy | (p->sched_reset_on_fork ? GUEST_SCHED_RESET_ON_FORK : 0);
}

SYSCALL_DEFINE2(sched_getparam, int, pid, uint64_t, uparam)
{
    if (!uparam)
        return -EINVAL;
    struct task *p;
    long r = sched_task(t, pid, &p);
    if (r < 0)
        return r;
    int prio = rt_policy(p->sched_policy) ? p->sched_priority : 0;
    return copy_out(t, uparam, &prio, sizeof(prio)) < 0 ? -EFAULT : 0;
}

/* The priority range's end for policy: rt_end for the real-time ones, 0
 * for the others. The ranges know SCHED_EXT (7, Linux 6.12) too, though no
 * BPF scheduler can be loaded in the sandbox, so sched_setscheduler
 * refuses it. */
static long priority_limit(int policy, long rt_end)
{
    if (rt_policy(policy))
        return rt_end;
    return valid_policy(policy) || policy == GUEST_SCHED_EXT ? 0 : -EINVAL;
}

SYSCALL_DEFINE1(sched_get_priority_max, int, policy)
{
    return priority_limit(policy, 99);
}

SYSCALL_DEFINE1(sched_get_priority_min, int, policy)
{
    return priority_limit(policy, 1);
}

/* SCHED_RR's time slice is Linux's default 100 ms; the fair classes
 * report no fixed slice (0). */
SYSCALL_DEFINE2(sched_rr_get_interval, int, pid, uint64_t, tp)
{
    struct task *p;
    long r = sched_task(t, pid, &p);
    if (r < 0)
        return r;
    struct timespec ts = { 0, p->sched_policy == GUEST_SCHED_RR ? 100000000L : 0 };
    return copy_out(t, tp, &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

/* ---- CPU affinity ---- */

/* The CPUs the host lets the sentry use: the guest's whole set, and the
 * one a task has until it sets its own. n is the mask's size in bytes
 * (cpumask_size, at most sizeof(cpus)); 0 on error. */
static size_t host_cpus(uint64_t *cpus, size_t cap)
{
    memset(cpus, 0, cap);
    long r = syscall(SYS_sched_getaffinity, 0, cap, cpus);
    return r > 0 ? (size_t)r : 0;
}

SYSCALL_DEFINE3(sched_getaffinity, int, pid, uint64_t, len, uint64_t, umask)
{
    uint64_t mask[16];
    /* The host kernel checks len exactly as for the guest (at least
     * nr_cpu_ids bits, a multiple of a long) and says how much it fills. */
    long r = syscall(SYS_sched_getaffinity, 0, len < sizeof(mask) ? len : sizeof(mask), mask);
    if (r < 0)
        return -errno;
    struct task *p = find_task(t, pid);
    if (!p)
        return -ESRCH;
    if (p->cpus_set)
        for (size_t i = 0; i < ARRAY_SIZE(mask); i++)
            mask[i] &= p->cpus[i];
    return copy_out(t, umask, mask, (size_t)r) < 0 ? -EFAULT : r;
}

SYSCALL_DEFINE3(sched_setaffinity, int, pid, uint64_t, len, uint64_t, umask)
{
    uint64_t want[16], host[16];
    size_t n = host_cpus(host, sizeof(host));
    if (!n)
        return -EINVAL;
    /* As get_user_cpu_mask: a shorter mask is zero-extended, a longer one
     * read only as far as the kernel's mask goes. */
    memset(want, 0, sizeof(want));
    if (copy_in(t, want, umask, len < n ? len : n) < 0)
        return -EFAULT;
    struct task *p = find_task(t, pid);
    if (!p)
        return -ESRCH;
    const struct creds *c = t->cred, *pc = p->cred;
    if (c->euid != pc->euid && c->euid != pc->uid && !creds_capable(c, GCAP_SYS_NICE))
        return -EPERM;
    int any = 0;
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        want[i] &= host[i];
        any |= want[i] != 0;
    }
    if (!any)
        return -EINVAL;
    memcpy(p->cpus, want, sizeof(p->cpus));
    p->cpus_set = 1;
    return 0;
}

/* ---- CPU time ---- */

/* The stub process's figures are the process's own (its threads are the
 * stub's threads, so RUSAGE_THREAD gives the same); its reaped children's
 * were summed as they were reaped. */
SYSCALL_DEFINE2(getrusage, int, who, uint64_t, usage)
{
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    struct proc_usage pu;
    if (who == RUSAGE_CHILDREN) {
        process_child_usage(t->proc, &pu);
    } else {
        struct mm_usage u;
        mm_host_usage(t->proc->mm, &u, 1);
        pu = (struct proc_usage){ u.utime, u.stime, u.minflt, u.majflt, u.hwm };
    }
    struct rusage ru;
    usage_to_rusage(&pu, &ru);
    return copy_out(t, usage, &ru, sizeof(ru)) < 0 ? -EFAULT : 0;
}

SYSCALL_DEFINE1(times, uint64_t, ubuf)
{
    if (ubuf) {
        struct mm_usage u;
        mm_host_usage(t->proc->mm, &u, 0);
        struct proc_usage c;
        process_child_usage(t->proc, &c);
        int64_t tms[4] = { (int64_t)u.utime, (int64_t)u.stime, (int64_t)c.utime, (int64_t)c.stime };
        if (copy_out(t, ubuf, tms, sizeof(tms)) < 0)
            return -EFAULT;
    }
    /* Clock ticks since an arbitrary point: the host's, as Linux counts
     * them for every process. */
    struct tms dummy;
    return (long)times(&dummy);
}
