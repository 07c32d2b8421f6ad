/* Starting and stopping stub processes, shared by both platforms: the stub
 * binary is embedded in sandbox-run and executed from a sealed memfd, with a
 * fresh memfd of sysmsg pages (which it closes once mapped) and one end of
 * an fd-passing socket as its file descriptors; and file-backed mmap in a
 * stub, which passes the host fd over that socket for one call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/sysmsg.h"

extern const char stub_blob[];
extern const char stub_blob_end[];

static int stub_exec_fd = -1;
uint32_t stub_spin_rounds;

int stub_host_init(void)
{
    int fd = memfd_create("sandbox-run-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    size_t len = (size_t)(stub_blob_end - stub_blob);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, stub_blob + off, len - off);
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        off += (size_t)n;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    /* Keep it above the low numbers the child of stub_spawn rearranges. */
    stub_exec_fd = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    close(fd);
    if (stub_exec_fd < 0)
        return -errno;

    /* Spinning only helps when the other side can run at the same time. */
    cpu_set_t set;
    int ncpu = 1;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        ncpu = CPU_COUNT(&set);
    stub_spin_rounds = ncpu > 1 ? 4000 : 0;
    return 0;
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

int stub_spawn(const struct platform *plat, int ptrace_mode, struct stub **out,
               struct guest_ctx **ctxp)
{
    size_t size = STUB_MAX_THREADS * SYSMSG_SIZE;
    int memfd = memfd_create("sandbox-run-sysmsg", MFD_CLOEXEC);
    if (memfd < 0)
        return -errno;
    if (ftruncate(memfd, (off_t)size) < 0) {
        int e = errno;
        close(memfd);
        return -e;
    }
    void *msgs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (msgs == MAP_FAILED) {
        int e = errno;
        close(memfd);
        return -e;
    }
    /* Datagram boundaries keep each passed fd with its sequence number. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        munmap(msgs, size);
        close(memfd);
        return -e;
    }
    struct stub *s = calloc(1, sizeof(*s));
    struct guest_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!s || !ctx) {
        free(s);
        free(ctx);
        munmap(msgs, size);
        close(memfd);
        close(sv[0]);
        close(sv[1]);
        return -ENOMEM;
    }
    s->msgs = msgs;
    s->plat = plat;
    s->fdpass_fd = sv[0];
    pthread_mutex_init(&s->fdpass_lock, NULL);
    struct sysmsg *m = msgs;
    m->spin_limit = stub_spin_rounds;

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
        int mfd = fcntl(memfd, F_DUPFD, 16), sfd = fcntl(sv[1], F_DUPFD, 16);
        const int exec_fd = STUB_FDPASS_FD + 1;
        if (mfd < 0 || sfd < 0 || dup2(mfd, STUB_SYSMSG_FD) < 0 || dup2(sfd, STUB_FDPASS_FD) < 0 ||
            dup2(stub_exec_fd, exec_fd) < 0)
            _exit(127);
        fcntl(exec_fd, F_SETFD, FD_CLOEXEC);
        /* The stub keeps no host descriptor but the sysmsg memfd, which it
         * closes once mapped, and its end of the fd-passing socket: not
         * even the standard streams. */
        syscall(SYS_close_range, 0, STUB_SYSMSG_FD - 1, 0);
        syscall(SYS_close_range, exec_fd + 1, ~0U, 0);
        /* The stub keeps no host privilege a guest could borrow by jumping
         * into its code. Must not fail where it matters: a stub that could
         * keep capabilities is not started. */
        if (drop_privileges() < 0)
            _exit(126);
        char *const argv[] = { "sandbox-run-stub", ptrace_mode ? "p" : "s", NULL };
        char *const envp[] = { NULL };
        syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
    }
    int e = errno;
    close(memfd);
    close(sv[1]);
    if (pid < 0) {
        munmap(msgs, size);
        close(sv[0]);
        pthread_mutex_destroy(&s->fdpass_lock);
        free(s);
        free(ctx);
        return -e;
    }
    s->pid = pid;
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    ctx->stub = s;
    ctx->slot = 0;
    ctx->tid = pid;
    ctx->m = m;
    *out = s;
    *ctxp = ctx;
    return 0;
}

void stub_kill(struct stub *s)
{
    if (s->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
    else
        kill(s->pid, SIGKILL);
}

void stub_interrupt(struct guest_ctx *ctx)
{
    syscall(SYS_tgkill, ctx->stub->pid, ctx->tid, STUB_INTERRUPT_SIG);
}

void stub_free(struct stub *s)
{
    if (!s)
        return;
    munmap(s->msgs, STUB_MAX_THREADS * SYSMSG_SIZE);
    if (s->pidfd >= 0)
        close(s->pidfd);
    close(s->fdpass_fd);
    pthread_mutex_destroy(&s->fdpass_lock);
    free(s);
}

void stub_mark_dead(struct stub *s, int status)
{
    /* The first report wins: under ptrace both the tracer and the monitor
     * can reap the stub, and only the one that did knows its status. */
    int unclaimed = 0;
    if (!__atomic_compare_exchange_n(&s->status_claimed, &unclaimed, 1, 0, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        return;
    s->status = status;
    __atomic_store_n(&s->dead, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < STUB_MAX_THREADS; i++) {
        struct sysmsg *m = (struct sysmsg *)((char *)s->msgs + (size_t)i * SYSMSG_SIZE);
        __atomic_store_n(&m->state, SM_DEAD, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &m->state, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

long stub_syscall6(struct guest_ctx *ctx, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
                   uint64_t a3, uint64_t a4, uint64_t a5)
{
    const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
    return ctx->stub->plat->stub_syscall(ctx, nr, args);
}

/* What the stub's recvmsg uses, in the scratch space of a sysmsg page. */
struct fdpass_buf {
    struct msghdr msg;
    struct iovec iov;
    uint64_t seq;                              /* the data: the call's tag */
    uint64_t ctl[CMSG_SPACE(sizeof(int)) / 8]; /* one SCM_RIGHTS fd */
};
_Static_assert(sizeof(struct fdpass_buf) <= sizeof(((struct sysmsg *)0)->scratch),
               "fdpass buffers fit the sysmsg scratch space");

static int fdpass_send(int sock, int fd, uint64_t seq)
{
    struct iovec iov = { &seq, sizeof(seq) };
    uint64_t ctl[CMSG_SPACE(sizeof(int)) / 8] = { 0 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
    };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    /* Never block or take SIGPIPE: the guest can close the stub's end. */
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == ENOMEM || errno == ENOBUFS ? -ENOMEM : -EAGAIN;
    return 0;
}

/* The fd number a recvmsg of n bytes left in b (a copy), or -1. */
static int fdpass_received(const struct fdpass_buf *b, long n)
{
    const struct cmsghdr *c = (const struct cmsghdr *)b->ctl;
    if (n != (long)sizeof(b->seq) || b->msg.msg_controllen < CMSG_LEN(sizeof(int)) ||
        b->msg.msg_controllen > sizeof(b->ctl) || c->cmsg_len != CMSG_LEN(sizeof(int)) ||
        c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    return fd;
}

long stub_map_fd(struct guest_ctx *ctx, int host_fd, uint64_t addr, uint64_t len, int prot,
                 int flags, uint64_t off)
{
    struct stub *s = ctx->stub;
    struct fdpass_buf *b = (struct fdpass_buf *)(void *)ctx->m->scratch;
    /* The same buffers as the stub sees them. */
    uint64_t at =
        SYSMSG_BASE + (uint64_t)ctx->slot * SYSMSG_SIZE + offsetof(struct sysmsg, scratch);

    pthread_mutex_lock(&s->fdpass_lock);
    uint64_t seq = ++s->fdpass_seq;
    long ret = fdpass_send(s->fdpass_fd, host_fd, seq);
    /* A message left over from an earlier call that failed half-way is
     * received, closed and skipped; the tag tells it from ours. */
    for (int tries = 0; ret == 0; tries++) {
        if (tries == 8) {
            ret = -EAGAIN;
            break;
        }
        memset(b, 0, sizeof(*b));
        b->iov.iov_base = (void *)(uintptr_t)(at + offsetof(struct fdpass_buf, seq));
        b->iov.iov_len = sizeof(b->seq);
        b->msg.msg_iov = (void *)(uintptr_t)(at + offsetof(struct fdpass_buf, iov));
        b->msg.msg_iovlen = 1;
        b->msg.msg_control = (void *)(uintptr_t)(at + offsetof(struct fdpass_buf, ctl));
        b->msg.msg_controllen = sizeof(b->ctl);
        long n = stub_syscall6(ctx, SYS_recvmsg, STUB_FDPASS_FD, at, MSG_DONTWAIT, 0, 0, 0);
        if (n == -ESRCH) {
            ret = n;
            break;
        }
        /* Copy once: other guest threads can write the page. Nothing to
         * receive means a guest thread took the fd from stub text. */
        struct fdpass_buf got;
        memcpy(&got, b, sizeof(got));
        int rfd = n < 0 ? -1 : fdpass_received(&got, n);
        if (rfd < 0) {
            ret = -EAGAIN;
            break;
        }
        if (got.seq != seq) {
            stub_syscall6(ctx, SYS_close, (uint64_t)rfd, 0, 0, 0, 0, 0);
            continue;
        }
        ret = stub_syscall6(ctx, SYS_mmap, addr, len, (uint64_t)prot, (uint64_t)flags,
                            (uint64_t)rfd, off);
        stub_syscall6(ctx, SYS_close, (uint64_t)rfd, 0, 0, 0, 0, 0);
        break;
    }
    pthread_mutex_unlock(&s->fdpass_lock);
    return ret;
}

_Static_assert(STUB_MINCORE_MAX == sizeof(((struct sysmsg *)0)->scratch),
               "mincore's vector is the sysmsg scratch space (the stub's filter allows that size)");

long stub_mincore(struct guest_ctx *ctx, uint64_t addr, uint64_t npages, unsigned char *vec)
{
    if (npages > STUB_MINCORE_MAX)
        return -EINVAL;
    uint64_t at =
        SYSMSG_BASE + (uint64_t)ctx->slot * SYSMSG_SIZE + offsetof(struct sysmsg, scratch);
    long r = stub_syscall6(ctx, SYS_mincore, addr, npages * 4096, at, 0, 0, 0);
    if (r < 0)
        return r;
    /* Copy once; only bit 0 means anything (the others are reserved). */
    memcpy(vec, ctx->m->scratch, npages);
    for (uint64_t i = 0; i < npages; i++)
        vec[i] &= 1;
    return 0;
}

const struct platform *platform_by_name(const char *name)
{
    if (strcmp(name, "systrap") == 0)
        return &platform_systrap;
    if (strcmp(name, "ptrace") == 0)
        return &platform_ptrace;
    return NULL;
}
