/* How stub processes and threads come to exist, for both platforms.
 *
 * The spawner: a small process forked from sandbox-run at start-up, before
 * any thread exists, that starts stubs (fork + execveat of the sealed stub
 * image) and reaps them when the sentry releases them. Every stub is its
 * child, and so is every fork of a stub (CLONE_PARENT), so host pids are
 * never reused while the sentry may still name them; every stub dies with
 * it (PR_SET_PDEATHSIG), and it dies with sandbox-run. The sentry itself
 * never forks or execs after start-up.
 *
 * The supervisor: before it starts any stub the spawner installs a seccomp
 * filter on itself, which every stub inherits, that turns the stub's clone
 * and gettid calls into user notifications to the sentry. A clone from
 * stub text proceeds only if the sentry asked that stub thread for exactly
 * that clone, so a guest that jumps into the stub's code cannot make a
 * thread or process the sentry does not know. A new thread or fork child
 * says hello with gettid: the notification gives the sentry its host id
 * from the kernel, and a fork child gets its own sysmsg memfd and
 * fd-passing socket installed by the sentry (SECCOMP_IOCTL_NOTIF_ADDFD)
 * in place of the parent's, which the parent never holds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/spawner.h"
#include "platform/sysmsg.h"

#define HELLO_MAGIC 0x68656c6cUL /* stub.c's */

enum { SP_SPAWN = 1, SP_STATUS, SP_REAP };

struct sp_req {
    int op;
    int ptrace_mode;
    pid_t pid;
};

struct sp_rep {
    int ret; /* pid, 0, or -errno */
    int status;
};

static int sp_sock = -1;      /* the sentry's end */
static pid_t sp_pid;          /* the spawner */
static int sup_listener = -1; /* the notification fd */
static pthread_mutex_t sp_lock = PTHREAD_MUTEX_INITIALIZER;

pid_t spawner_host_pid(void)
{
    return sp_pid;
}

/* ---- in the spawner ---- */

/* The filter every stub inherits: clone and gettid from the stub image go
 * to the sentry; everything else is left to the stub's own filter. */
static int install_notify_filter(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(STUB_BASE >> 32), 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)(STUB_BASE + STUB_IMAGE_SIZE), 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_gettid, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    };
    _Static_assert((uint32_t)STUB_BASE == 0, "the image starts a 4 GiB block");
    struct sock_fprog fp = { .len = ARRAY_SIZE(f), .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                        &fp);
}

static int send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
    struct iovec iov = { (void *)data, len };
    uint64_t ctl[CMSG_SPACE(2 * sizeof(int)) / 8 + 1] = { 0 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        msg.msg_control = ctl;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

/* Receive len bytes and up to maxfds descriptors; returns how many fds. */
static int recv_fds(int sock, void *data, size_t len, int *fds, int maxfds)
{
    struct iovec iov = { data, len };
    uint64_t ctl[CMSG_SPACE(2 * sizeof(int)) / 8 + 1];
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
    };
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len)
        return -1;
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(fd));
            if (got < maxfds)
                fds[got++] = fd;
            else
                close(fd);
        }
    }
    return got;
}

/* In the child of stub_spawn, before the exec (async-signal-safe calls
 * only): no capability in any set, securebits that keep uid 0 from getting
 * any back at execve (or later), and no_new_privs. Without CAP_SETPCAP (not
 * root) the securebits and the bounding set cannot be changed, but then
 * there is nothing to lose either: the permitted set is empty and
 * no_new_privs keeps execve from adding to it. Returns -1 if that cannot
 * be made to hold. */
static int drop_privileges(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    /* Needs CAP_SETPCAP, so before the capabilities go. */
    prctl(PR_SET_SECUREBITS,
          SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
              SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
              SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
          0, 0, 0);
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
            break; /* past the last capability this kernel knows */
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct {
        uint32_t version;
        int pid;
    } hdr = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
    struct {
        uint32_t effective, permitted, inheritable;
    } data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (syscall(SYS_capset, &hdr, data) != 0)
        return -1;
    return 0;
}

/* In the spawner: fork and exec one stub with sysmsg_fd and sock as its
 * descriptors. Its pid or -errno. */
static int stub_exec_child(int sysmsg_fd, int sock, int exec_fd, int ptrace_mode)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setsid(); /* terminal signals go to the sentry, which forwards them */
        /* Move the sources out of the way first: one of them may sit on a
         * number another is about to be dup2'd to. */
        int mfd = fcntl(sysmsg_fd, F_DUPFD, 16), sfd = fcntl(sock, F_DUPFD, 16);
        const int efd = STUB_FDPASS_FD + 1;
        if (mfd < 0 || sfd < 0 || dup2(mfd, STUB_SYSMSG_FD) < 0 || dup2(sfd, STUB_FDPASS_FD) < 0 ||
            dup2(exec_fd, efd) < 0)
            _exit(127);
        fcntl(efd, F_SETFD, FD_CLOEXEC);
        /* The stub keeps no host descriptor but the sysmsg memfd, which it
         * closes once mapped, and its end of the fd-passing socket: not
         * even the standard streams. */
        syscall(SYS_close_range, 0, STUB_SYSMSG_FD - 1, 0);
        syscall(SYS_close_range, efd + 1, ~0U, 0);
        /* The stub keeps no host privilege a guest could borrow by jumping
         * into its code. Must not fail where it matters: a stub that could
         * keep capabilities is not started. */
        if (drop_privileges() < 0)
            _exit(126);
        char *const argv[] = { "sandbox-run-stub", ptrace_mode ? "p" : "s", NULL };
        char *const envp[] = { NULL };
        syscall(SYS_execveat, efd, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
    }
    return pid < 0 ? -errno : pid;
}

static void spawner_serve(int sock, int exec_fd)
{
    for (;;) {
        struct sp_req q;
        int fds[2] = { -1, -1 };
        int nfds = recv_fds(sock, &q, sizeof(q), fds, 2);
        if (nfds < 0)
            _exit(0); /* the sentry is gone */
        struct sp_rep rep = { 0, 0 };
        if (q.op == SP_SPAWN && nfds == 2) {
            rep.ret = stub_exec_child(fds[0], fds[1], exec_fd, q.ptrace_mode);
        } else if (q.op == SP_STATUS || q.op == SP_REAP) {
            siginfo_t si;
            memset(&si, 0, sizeof(si));
            int flags = WEXITED | (q.op == SP_STATUS ? WNOWAIT | WNOHANG : 0);
            int r;
            do
                r = waitid(P_PID, (id_t)q.pid, &si, flags);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                rep.ret = -errno;
            else if (si.si_pid == 0)
                rep.ret = -EAGAIN; /* still running */
            else
                rep.status = si.si_code == CLD_EXITED
                                 ? (si.si_status & 0xff) << 8
                                 : si.si_status | (si.si_code == CLD_DUMPED ? 0x80 : 0);
        } else {
            rep.ret = -EINVAL;
        }
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        if (send_fds(sock, &rep, sizeof(rep), NULL, 0) < 0)
            _exit(0);
    }
}

static const struct spawner_hooks *sup_hooks;

int spawner_start(int exec_fd, const struct spawner_hooks *hooks)
{
    sup_hooks = hooks;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        prctl(PR_SET_NAME, "sandbox-run-spawner");
        close(sv[0]);
        /* Nothing of sandbox-run's but the socket and the stub image. */
        int sock = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);
        int efd = fcntl(exec_fd, F_DUPFD_CLOEXEC, sock + 1);
        if (sock < 0 || efd < 0)
            _exit(1);
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && nul >= 0; fd++)
            dup3(nul, fd, 0);
        syscall(SYS_close_range, 3, sock - 1, 0);
        syscall(SYS_close_range, sock + 1, efd - 1, 0);
        syscall(SYS_close_range, efd + 1, ~0U, 0);
        signal(SIGPIPE, SIG_IGN);
        int listener = install_notify_filter();
        if (listener < 0 || send_fds(sock, &listener, sizeof(listener), &listener, 1) < 0)
            _exit(1);
        close(listener);
        spawner_serve(sock, efd);
        _exit(0);
    }
    close(sv[1]);
    sp_sock = sv[0];
    sp_pid = pid;
    int dummy, fd = -1;
    if (recv_fds(sp_sock, &dummy, sizeof(dummy), &fd, 1) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -EPERM;
    }
    sup_listener = fd;
    return supervisor_start();
}

static int spawner_call(const struct sp_req *q, const int *fds, int nfds, struct sp_rep *rep)
{
    pthread_mutex_lock(&sp_lock);
    int r = send_fds(sp_sock, q, sizeof(*q), fds, nfds);
    if (r == 0)
        r = recv_fds(sp_sock, rep, sizeof(*rep), NULL, 0) < 0 ? -1 : 0;
    pthread_mutex_unlock(&sp_lock);
    return r < 0 ? -EPIPE : 0;
}

pid_t spawner_spawn(int sysmsg_fd, int stub_sock, int ptrace_mode)
{
    struct sp_req q = { SP_SPAWN, ptrace_mode, 0 };
    struct sp_rep rep;
    int fds[2] = { sysmsg_fd, stub_sock };
    if (spawner_call(&q, fds, 2, &rep) < 0)
        return -EPIPE;
    return rep.ret;
}

int spawner_wait(pid_t pid, int reap, int *status)
{
    struct sp_req q = { reap ? SP_REAP : SP_STATUS, 0, pid };
    struct sp_rep rep;
    if (spawner_call(&q, NULL, 0, &rep) < 0)
        return -EPIPE;
    if (rep.ret == 0)
        *status = rep.status;
    return rep.ret;
}

/* ---- the supervisor: a sentry thread answering the notifications ---- */

/* The one clone in flight (sandbox-wide: clone_lock), and what the
 * supervisor learnt of its child. */
static pthread_mutex_t clone_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sup_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sup_cv = PTHREAD_COND_INITIALIZER;
static struct {
    int active;
    struct stub *stub; /* the stub asked to clone */
    pid_t by_tid;      /* the stub thread asked */
    uint64_t args[6];  /* the exact clone arguments */
    int kind;          /* STUB_CHILD_THREAD or STUB_CHILD_FORK */
    unsigned slot;     /* the child's slot */
    int permitted;     /* the clone was let through */
    pid_t child;       /* the child's host tid, from its hello */
    int fork_fds[2];   /* fork: its sysmsg memfd and socket end */
} want;
static int late_child, late_kind;

/* Whether tid is a thread of the process pid: /proc/PID/task/TID names
 * only the threads of that thread group. */
static int thread_of(pid_t pid, pid_t tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
    return access(path, F_OK) == 0;
}

/* Install srcfd as newfd in the notifying process; with
 * SECCOMP_ADDFD_FLAG_SEND (flags), also answer the notification with
 * newfd, in the same round trip to the target. */
static int addfd(int listener, uint64_t id, int srcfd, int newfd, uint32_t flags)
{
    struct seccomp_notif_addfd a = {
        .id = id,
        .flags = SECCOMP_ADDFD_FLAG_SETFD | flags,
        .srcfd = (uint32_t)srcfd,
        .newfd = (uint32_t)newfd,
        .newfd_flags = 0,
    };
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) == newfd ? 0 : -1;
}

/* How judge's answer goes back. */
enum { ANSWER_VALUE, ANSWER_CONTINUE, ANSWERED };

/* The answer to one notification: *how says whether to let the clone
 * proceed, to answer with the value returned (0, -EPERM), or that the
 * answer went already (a fork child's hello). Under sup_mu. */
static long judge(const struct seccomp_notif *n, int *how)
{
    *how = ANSWER_VALUE;
    const struct seccomp_data *d = &n->data;
    pid_t tid = (pid_t)n->pid; /* from the kernel */
    if (!want.active) {
        /* The child of a clone given up on: it ends itself (its hello
         * returns 1). */
        if (d->nr == __NR_gettid && d->args[0] == HELLO_MAGIC && late_child &&
            d->args[1] == (uint64_t)late_kind) {
            late_child = 0;
            return 1;
        }
        return -EPERM;
    }
    if (d->nr == __NR_clone) {
        /* Again after a signal: a clone interrupted before it began (in
         * this wait, or -ERESTARTNOINTR from the host's fork) is made
         * anew and notifies again. Only that very thread, stopped in stub
         * code on the sentry's request, can ask with that tid. */
        if (want.child || tid != want.by_tid || memcmp(d->args, want.args, sizeof(want.args)))
            return -EPERM;
        want.permitted = 1;
        *how = ANSWER_CONTINUE;
        return 0;
    }
    /* gettid: a hello, from the child of the clone just let through. */
    if (d->args[0] != HELLO_MAGIC || !want.permitted || want.child ||
        d->args[1] != (uint64_t)want.kind || d->args[2] != want.slot)
        return -EPERM;
    if (want.kind == STUB_CHILD_THREAD) {
        /* A thread of the stub asked, not one known already. */
        if (!thread_of(want.stub->pid, tid) || sup_hooks->tid_known(want.stub, tid))
            return -EPERM;
    } else {
        /* A new process (a thread-group leader: pidfd_open refuses other
         * threads), not one of the stubs already known: a guest in
         * another stub process that jumps into stub text to say this
         * hello first would take the child's channel. (Its parent is the
         * spawner, as for every process under this filter: the clone
         * flags, checked by both filters, include CLONE_PARENT.) Its own
         * sysmsg memfd and socket go in place of its parent's; the
         * second install answers the hello with STUB_FDPASS_FD. */
        int pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
        if (pidfd >= 0)
            close(pidfd);
        if (pidfd < 0 || sup_hooks->pid_known(tid))
            return -EPERM;
        if (addfd(sup_listener, n->id, want.fork_fds[0], STUB_SYSMSG_FD, 0) < 0 ||
            addfd(sup_listener, n->id, want.fork_fds[1], STUB_FDPASS_FD, SECCOMP_ADDFD_FLAG_SEND) <
                0)
            return -EPERM;
        *how = ANSWERED;
    }
    want.child = tid;
    return 0;
}

static void *supervisor(void *arg)
{
    (void)arg;
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
        return NULL;
    struct seccomp_notif *n =
        calloc(1, sz.seccomp_notif > sizeof(*n) ? sz.seccomp_notif : sizeof(*n));
    struct seccomp_notif_resp *r =
        calloc(1, sz.seccomp_notif_resp > sizeof(*r) ? sz.seccomp_notif_resp : sizeof(*r));
    if (!n || !r)
        return NULL;
    for (;;) {
        memset(n, 0, sz.seccomp_notif);
        if (ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            break;
        }
        int how;
        pthread_mutex_lock(&sup_mu);
        long v = judge(n, &how);
        pthread_mutex_unlock(&sup_mu);
        memset(r, 0, sz.seccomp_notif_resp);
        r->id = n->id;
        if (how == ANSWER_CONTINUE) {
            r->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        } else if (v < 0) {
            r->error = (int32_t)v;
        } else {
            r->val = v;
        }
        int lost = how != ANSWERED && ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_SEND, r) < 0;
        pthread_mutex_lock(&sup_mu);
        /* Its thread left the wait (a signal: the call is made anew and
         * notifies again): nothing was let through. */
        if (lost && v >= 0 && want.active) {
            if (how == ANSWER_CONTINUE)
                want.permitted = 0;
            else if (n->data.nr == __NR_gettid && want.child == (pid_t)n->pid)
                want.child = 0;
        }
        pthread_cond_broadcast(&sup_cv);
        pthread_mutex_unlock(&sup_mu);
    }
    free(n);
    free(r);
    return NULL;
}

int supervisor_start(void)
{
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&th, &at, supervisor, NULL);
    pthread_attr_destroy(&at);
    return r ? -r : 0;
}

void stub_clone_begin(struct stub *s, pid_t by_tid, const uint64_t args[6], int kind, unsigned slot,
                      const int fork_fds[2])
{
    pthread_mutex_lock(&clone_lock);
    pthread_mutex_lock(&sup_mu);
    want.active = 1;
    want.stub = s;
    want.by_tid = by_tid;
    memcpy(want.args, args, sizeof(want.args));
    want.kind = kind;
    want.slot = slot;
    want.permitted = 0;
    want.child = 0;
    want.fork_fds[0] = fork_fds ? fork_fds[0] : -1;
    want.fork_fds[1] = fork_fds ? fork_fds[1] : -1;
    pthread_mutex_unlock(&sup_mu);
}

pid_t stub_clone_end(int clone_ret)
{
    pthread_mutex_lock(&sup_mu);
    /* A child says hello at once. The result the stub reports is only a
     * hint (a guest can forge it under systrap): a clone the supervisor
     * let through is waited for, briefly if it claims to have failed. */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    if (clone_ret > 0) {
        dl.tv_sec += 5;
    } else {
        dl.tv_nsec += 200 * 1000 * 1000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
    }
    while (want.permitted && !want.child && pthread_cond_timedwait(&sup_cv, &sup_mu, &dl) == 0)
        ;
    pid_t child = want.permitted ? want.child : 0;
    /* A child that says hello after this is told to end itself. */
    late_child = want.permitted && !want.child;
    late_kind = want.kind;
    want.active = 0;
    pthread_mutex_unlock(&sup_mu);
    pthread_mutex_unlock(&clone_lock);
    return child;
}
