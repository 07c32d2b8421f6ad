/* Starting and stopping stub processes, shared by both platforms: the stub
 * binary is embedded in sandbox-run and executed from a sealed memfd, with a
 * fresh memfd of sysmsg pages as its only file descriptor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

int stub_spawn(const struct platform *plat, int ptrace_mode, struct stub **out, struct guest_ctx **ctxp)
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
    struct stub *s = calloc(1, sizeof(*s));
    struct guest_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!s || !ctx) {
        free(s);
        free(ctx);
        munmap(msgs, size);
        close(memfd);
        return -ENOMEM;
    }
    s->msgs = msgs;
    s->plat = plat;
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
        if (dup2(memfd, STUB_SYSMSG_FD) < 0 || dup2(stub_exec_fd, STUB_SYSMSG_FD + 1) < 0)
            _exit(127);
        fcntl(STUB_SYSMSG_FD + 1, F_SETFD, FD_CLOEXEC);
        /* The stub keeps no host descriptor but the sysmsg memfd, which it
         * closes once mapped: not even the standard streams. */
        syscall(SYS_close_range, 0, STUB_SYSMSG_FD - 1, 0);
        syscall(SYS_close_range, STUB_SYSMSG_FD + 2, ~0U, 0);
        char *const argv[] = { "sandbox-run-stub", ptrace_mode ? "p" : "s", NULL };
        char *const envp[] = { NULL };
        syscall(SYS_execveat, STUB_SYSMSG_FD + 1, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
    }
    int e = errno;
    close(memfd);
    if (pid < 0) {
        munmap(msgs, size);
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

void stub_free(struct stub *s)
{
    if (!s)
        return;
    munmap(s->msgs, STUB_MAX_THREADS * SYSMSG_SIZE);
    if (s->pidfd >= 0)
        close(s->pidfd);
    free(s);
}

void stub_mark_dead(struct stub *s, int status)
{
    s->status = status;
    atomic_store((_Atomic int *)&s->dead, 1);
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

const struct platform *platform_by_name(const char *name)
{
    if (strcmp(name, "systrap") == 0)
        return &platform_systrap;
    if (strcmp(name, "ptrace") == 0)
        return &platform_ptrace;
    return NULL;
}
