/* signalfd (Linux's fs/signalfd.c): a file that takes the signals of a
 * mask from whoever reads it, as rt_sigtimedwait would, as 128-byte
 * signalfd_siginfo records. What it reads and how ready it is are the
 * caller's: its own pending signals and its process's, at the time.
 *
 * Readers and pollers wait on the sandbox's one signalfd queue, which
 * every new pending signal wakes: a signalfd polled by another process
 * than its maker (it was inherited or passed) has no process of its own
 * whose end could free a queue it is hooked on, as Linux's signalfd_cleanup
 * has to handle; the sandbox outlives every file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/file/anon.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "sentry/kernel.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define SFD_CLOEXEC_ O_CLOEXEC
#define SFD_NONBLOCK_ O_NONBLOCK

struct signalfd {
    uint64_t mask; /* atomic: signalfd4 on the file changes it */
};

/* struct signalfd_siginfo. */
struct k_signalfd_siginfo {
    uint32_t signo;
    int32_t errno_, code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb, pad2;
    int32_t syscall;
    uint64_t call_addr;
    uint32_t arch;
    uint8_t pad[28];
};
_Static_assert(sizeof(struct k_signalfd_siginfo) == 128, "signalfd_siginfo");

enum layout { SIL_KILL, SIL_TIMER, SIL_POLL, SIL_FAULT, SIL_CHLD, SIL_RT, SIL_SYS };

/* Which members of a siginfo are meant (Linux's siginfo_layout). */
static enum layout siginfo_layout(int sig, int code)
{
    if (code > 0 && code < 0x80 /* SI_KERNEL */) {
        static const struct {
            int sig, limit;
            enum layout l;
        } filter[] = {
            { SIGILL, 11, SIL_FAULT }, { SIGFPE, 15, SIL_FAULT }, { SIGSEGV, 10, SIL_FAULT },
            { SIGBUS, 5, SIL_FAULT },  { SIGTRAP, 6, SIL_FAULT }, { SIGCHLD, 6, SIL_CHLD },
            { SIGSYS, 2, SIL_SYS },
        };
        for (size_t i = 0; i < sizeof(filter) / sizeof(filter[0]); i++)
            if (filter[i].sig == sig)
                return code <= filter[i].limit ? filter[i].l : SIL_KILL;
        return code <= 6 /* NSIGPOLL */ ? SIL_POLL : SIL_KILL;
    }
    if (code == -2 /* SI_TIMER */)
        return SIL_TIMER;
    if (code == -5 /* SI_SIGIO */)
        return SIL_POLL;
    return code < 0 ? SIL_RT : SIL_KILL;
}

/* signalfd_copyinfo: the members the layout says, the rest zero. */
static void to_record(const struct sig_info *in, struct k_signalfd_siginfo *o)
{
    memset(o, 0, sizeof(*o));
    o->signo = (uint32_t)in->signo;
    o->errno_ = in->errno_;
    o->code = in->code;
    int layout = siginfo_layout(in->signo, in->code);
    /* The sender: kill, a child's state, a queued signal. */
    if (layout == SIL_KILL || layout == SIL_CHLD || layout == SIL_RT) {
        o->pid = (uint32_t)in->pid;
        o->uid = in->uid;
    }
    switch (layout) {
    case SIL_KILL:
        break;
    case SIL_TIMER:
        o->tid = (uint32_t)in->timer_id;
        o->overrun = (uint32_t)in->overrun;
        o->ptr = in->timer_value;
        o->int_ = (int32_t)in->timer_value;
        break;
    case SIL_POLL:
        o->band = (uint32_t)in->band;
        o->fd = in->fd;
        break;
    case SIL_FAULT:
        o->addr = in->addr;
        break;
    case SIL_CHLD:
        o->status = in->status;
        o->utime = (uint64_t)in->utime;
        o->stime = (uint64_t)in->stime;
        break;
    case SIL_RT:
        o->ptr = in->value;
        o->int_ = (int32_t)in->value;
        break;
    case SIL_SYS: /* call_addr, syscall, arch: the fault members' place */
        o->call_addr = in->addr;
        memcpy(&o->syscall, in->fields + 8, sizeof(o->syscall));
        memcpy(&o->arch, in->fields + 12, sizeof(o->arch));
        break;
    }
}

static uint64_t sfd_mask(struct file *f)
{
    struct signalfd *s = f->priv;
    return __atomic_load_n(&s->mask, __ATOMIC_RELAXED);
}

/* One signal of the mask for the caller, waiting for it unless nonblock:
 * its number, -EAGAIN, or -ERESTARTSYS. */
static int take_one(struct task *t, uint64_t mask, int nonblock, struct sig_info *info)
{
    struct waitq *wq = &t->proc->sandbox->wait_signalfd;
    struct waiter w;
    waiter_init_task(&w, t);
    for (;;) {
        task_sleep_prepare(t);
        waitq_add(wq, &w);
        int sig = signal_dequeue(t, mask, info);
        int r = sig ? sig : nonblock ? -EAGAIN : task_sleep(t, NULL, 0);
        waitq_remove(&w);
        if (r != 0)
            return r;
    }
}

static ssize_t signalfd_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    (void)pos;
    struct task *t = current_task;
    size_t n = len / sizeof(struct k_signalfd_siginfo);
    if (!n)
        return -EINVAL;
    int nonblock = __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
    uint64_t mask = sfd_mask(f);
    size_t got = 0;
    for (; got < n; got++) {
        struct sig_info info;
        int r = take_one(t, mask, nonblock || got > 0, &info);
        if (r < 0)
            return got ? (ssize_t)(got * sizeof(struct k_signalfd_siginfo)) : r;
        to_record(&info, (struct k_signalfd_siginfo *)buf + got);
    }
    return (ssize_t)(got * sizeof(struct k_signalfd_siginfo));
}

static unsigned signalfd_poll(struct file *f, struct poll_table *pt)
{
    struct task *t = current_task;
    if (!t)
        return 0;
    if (pt)
        poll_wait(pt, &t->proc->sandbox->wait_signalfd);
    return (signal_pending_set(t) & sfd_mask(f)) ? POLLIN : 0;
}

static int signalfd_fdinfo(struct file *f, char *buf, size_t len)
{
    /* The mask as set, less SIGKILL and SIGSTOP. */
    return fdinfo_printf(buf, len, "sigmask:\t%016llx\n", (unsigned long long)sfd_mask(f));
}

static void signalfd_release(struct file *f)
{
    free(f->priv);
}

static const struct file_ops signalfd_ops = {
    .name = "signalfd",
    .read = signalfd_read,
    .stat = anon_inode_stat,
    .poll = signalfd_poll,
    .release = signalfd_release,
    .fdinfo = signalfd_fdinfo,
    .read_empty = 1,
};

static long do_signalfd4(struct task *t, int fd, uint64_t umask, uint64_t sizemask, int flags)
{
    if (sizemask != sizeof(uint64_t))
        return -EINVAL;
    uint64_t mask;
    if (copy_in(t, &mask, umask, sizeof(mask)) < 0)
        return -EFAULT;
    if (flags & ~(SFD_CLOEXEC_ | SFD_NONBLOCK_))
        return -EINVAL;
    mask &= ~UNBLOCKABLE;
    if (fd != -1) {
        struct file *f = fget(t, fd);
        if (!f)
            return -EBADF;
        long r = fd;
        if (f->ops != &signalfd_ops) {
            r = -EINVAL;
        } else {
            struct signalfd *s = f->priv;
            __atomic_store_n(&s->mask, mask, __ATOMIC_RELAXED);
            wake_up_all(&t->proc->sandbox->wait_signalfd);
        }
        file_put(f);
        return r;
    }
    struct signalfd *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->mask = mask;
    struct file *f = file_new(&signalfd_ops, O_RDWR | (flags & O_NONBLOCK));
    if (!f) {
        free(s);
        return -ENOMEM;
    }
    f->priv = s;
    f->fmode |= FMODE_STREAM | FMODE_NOOP_LLSEEK;
    return fd_install_new(t, f, !!(flags & O_CLOEXEC));
}

SYSCALL_DEFINE3(signalfd, int, fd, uint64_t, umask, uint64_t, sizemask)
{
    return do_signalfd4(t, fd, umask, sizemask, 0);
}

SYSCALL_DEFINE4(signalfd4, int, fd, uint64_t, umask, uint64_t, sizemask, int, flags)
{
    return do_signalfd4(t, fd, umask, sizemask, flags);
}
