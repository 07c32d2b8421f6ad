/* Starting and stopping stub processes, shared by both platforms: the stub
 * binary is embedded in sandbox-run and executed from a sealed memfd, with a
 * fresh memfd of sysmsg pages (which it closes once mapped) and one end of
 * an fd-passing socket as its file descriptors; and file-backed mmap in a
 * stub, which passes the host fd over that socket for one call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "array.h"
#include "base.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "platform/spawner.h"
#include "platform/sysmsg.h"
#include <sys/epoll.h>
#include <pthread.h>

extern const char stub_blob[];
extern const char stub_blob_end[];

static int stub_exec_fd = -1;
uint32_t stub_spin_rounds;

/* The monitor: one sentry thread that notices every stub's death (its
 * pidfd), asks the spawner for its status without reaping it, and wakes
 * the sentry threads that wait on it. */
static int mon_epoll = -1;
static pthread_mutex_t mon_lock = PTHREAD_MUTEX_INITIALIZER;
/* The stubs being watched, under mon_lock: an event that epoll_wait
 * returned for a stub released meanwhile must not touch it. */
static struct stub **mon_set;
static size_t mon_n, mon_cap;

static int mon_has(const struct stub *s)
{
    for (size_t i = 0; i < mon_n; i++)
        if (mon_set[i] == s)
            return 1;
    return 0;
}

static void mon_forget(const struct stub *s)
{
    for (size_t i = 0; i < mon_n; i++)
        if (mon_set[i] == s) {
            mon_set[i] = mon_set[--mon_n];
            return;
        }
}

static void *monitor(void *arg)
{
    (void)arg;
    for (;;) {
        struct epoll_event ev[16];
        int n = epoll_wait(mon_epoll, ev, 16, -1);
        if (n < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&mon_lock);
        for (int i = 0; i < n; i++) {
            struct stub *s = ev[i].data.ptr;
            /* Gone from the set if it was released meanwhile (stub_release). */
            if (!mon_has(s))
                continue;
            int status;
            if (spawner_wait(s->pid, 0, &status) == 0) {
                epoll_ctl(mon_epoll, EPOLL_CTL_DEL, s->pidfd, NULL);
                mon_forget(s);
                stub_mark_dead(s, status);
            }
        }
        pthread_mutex_unlock(&mon_lock);
    }
    return NULL;
}

static void monitor_add(struct stub *s)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
    if (ARRAY_GROW(mon_set, mon_cap, mon_n + 1, 64) < 0)
        return; /* out of memory: this stub goes unwatched */
    if (s->pidfd >= 0 && epoll_ctl(mon_epoll, EPOLL_CTL_ADD, s->pidfd, &ev) == 0)
        mon_set[mon_n++] = s;
}

static int stub_tid_known(struct stub *s, pid_t tid);
static int stub_pid_known(pid_t pid);

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
    stub_spin_rounds = spin_permits() ? 4000 : 0;
    mon_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (mon_epoll < 0)
        return -errno;
    static const struct spawner_hooks hooks = { stub_tid_known, stub_pid_known };
    int r = spawner_start(stub_exec_fd, &hooks);
    if (r < 0)
        return r;
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&th, &at, monitor, NULL);
    pthread_attr_destroy(&at);
    return r ? -r : 0;
}

/* The sysmsg page of slot in the pages at msgs (the sentry's mapping). */
static struct sysmsg *slot_msg(void *msgs, int slot)
{
    return (struct sysmsg *)((char *)msgs + (size_t)slot * SYSMSG_SIZE);
}

/* The scratch space of ctx's page at the address the stub sees it. */
static uint64_t stub_scratch(const struct guest_ctx *ctx)
{
    return SYSMSG_BASE + (uint64_t)ctx->slot * SYSMSG_SIZE + offsetof(struct sysmsg, scratch);
}

/* A stub's sentry side before it has a process: its sysmsg pages (a memfd,
 * returned in *memfd for the stub, mapped here) with the page of slot, its
 * first thread's, ready (the others are touched when a thread takes them),
 * and a socket pair whose [1] is the stub's end. */
static int channel_new(const struct platform *plat, int slot, struct stub **out, int *memfd,
                       int *stub_sock)
{
    size_t size = STUB_MAX_THREADS * SYSMSG_SIZE;
    int mfd = memfd_create("sandbox-run-sysmsg", MFD_CLOEXEC);
    if (mfd < 0)
        return -errno;
    if (ftruncate(mfd, (off_t)size) < 0) {
        int e = errno;
        close(mfd);
        return -e;
    }
    void *msgs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (msgs == MAP_FAILED) {
        int e = errno;
        close(mfd);
        return -e;
    }
    /* Datagram boundaries keep each passed fd with its sequence number. */
    int sv[2];
    struct stub *s = calloc(1, sizeof(*s));
    if (!s || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = s ? errno : ENOMEM;
        free(s);
        munmap(msgs, size);
        close(mfd);
        return -e;
    }
    s->msgs = msgs;
    s->plat = plat;
    s->fdpass_fd = sv[0];
    s->pidfd = -1;
    pthread_mutex_init(&s->fdpass_lock, NULL);
    pthread_mutex_init(&s->slot_lock, NULL);
    struct sysmsg *m = slot_msg(msgs, slot);
    m->state = SM_STUB;
    m->spin_limit = stub_spin_rounds;
    *out = s;
    *memfd = mfd;
    *stub_sock = sv[1];
    return 0;
}

static void channel_free(struct stub *s)
{
    munmap(s->msgs, STUB_MAX_THREADS * SYSMSG_SIZE);
    if (s->pidfd >= 0)
        close(s->pidfd);
    close(s->fdpass_fd);
    pthread_mutex_destroy(&s->fdpass_lock);
    pthread_mutex_destroy(&s->slot_lock);
    free(s);
}

static struct guest_ctx *ctx_new(struct stub *s, int slot, pid_t tid)
{
    struct guest_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->stub = s;
    ctx->slot = slot;
    ctx->tid = tid;
    ctx->m = slot_msg(s->msgs, slot);
    return ctx;
}

/* The host pids of every stub process not yet reaped, under pids_lock (a
 * leaf). The spawner reaps a stub only when the sentry releases it, so no
 * pid here is reused meanwhile: a fork child's hello from one of these
 * pids comes from a process that exists already, not from the new child. */
static pthread_mutex_t pids_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *pids;
static size_t pids_n, pids_cap;

static int pid_add(pid_t pid)
{
    pthread_mutex_lock(&pids_lock);
    if (ARRAY_GROW(pids, pids_cap, pids_n + 1, 64) < 0) {
        pthread_mutex_unlock(&pids_lock);
        return -ENOMEM;
    }
    pids[pids_n++] = pid;
    pthread_mutex_unlock(&pids_lock);
    return 0;
}

static void pid_remove(pid_t pid)
{
    pthread_mutex_lock(&pids_lock);
    for (size_t i = 0; i < pids_n; i++)
        if (pids[i] == pid) {
            pids[i] = pids[--pids_n];
            break;
        }
    pthread_mutex_unlock(&pids_lock);
}

static int stub_pid_known(pid_t pid)
{
    int known = 0;
    pthread_mutex_lock(&pids_lock);
    for (size_t i = 0; i < pids_n && !known; i++)
        known = pids[i] == pid;
    pthread_mutex_unlock(&pids_lock);
    return known;
}

/* The stub process of s is pid (from the kernel, via the spawner). */
static int stub_adopt_pid(struct stub *s, pid_t pid)
{
    s->pid = pid;
    s->mem_pid = pid;
    int r = pid_add(pid);
    if (r < 0)
        return r;
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (s->pidfd < 0)
        return -errno;
    pthread_mutex_lock(&mon_lock);
    monitor_add(s);
    pthread_mutex_unlock(&mon_lock);
    return 0;
}

static int stub_spawn_now(const struct platform *plat, int ptrace_mode, struct stub **out,
                          struct guest_ctx **ctxp)
{
    struct stub *s;
    int memfd, sock;
    int r = channel_new(plat, 0, &s, &memfd, &sock);
    if (r < 0)
        return r;
    pid_t pid = spawner_spawn(memfd, sock, ptrace_mode);
    close(memfd);
    close(sock);
    if (pid < 0) {
        channel_free(s);
        return pid;
    }
    struct guest_ctx *ctx = ctx_new(s, 0, pid);
    s->tids[0] = pid;
    r = ctx ? stub_adopt_pid(s, pid) : -ENOMEM;
    if (r < 0) {
        free(ctx);
        s->dead = 1;
        stub_release(s);
        return r;
    }
    *out = s;
    *ctxp = ctx;
    return 0;
}

int stub_trim(struct guest_ctx *ctx)
{
    struct stub *s = ctx->stub;
    if (s->trimmed)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", s->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    struct {
        uint64_t s, e;
    } drop[16];
    int ndrop = 0;
    char line[512];
    s->nhost_maps = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long b, e;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &b, &e, perms) != 3)
            continue;
        if (b >= STUB_BASE && e <= STUB_REGION_END)
            continue;
        int vdso = strstr(line, "[vdso]") != NULL;
        if (vdso || strstr(line, "[vvar")) {
            if (s->nhost_maps < STUB_HOST_MAPS)
                s->host_maps[s->nhost_maps++] =
                    (struct stub_host_map){ b, e,
                                            (perms[0] == 'r' ? PROT_READ : 0) |
                                                (perms[1] == 'w' ? PROT_WRITE : 0) |
                                                (perms[2] == 'x' ? PROT_EXEC : 0),
                                            vdso };
        } else if (strstr(line, "[vsyscall]")) {
            continue; /* above the user address limit: not the guest's */
        } else if (ndrop < 16) {
            drop[ndrop].s = b;
            drop[ndrop].e = e;
            ndrop++;
        }
    }
    fclose(f);
    for (int i = 0; i < ndrop; i++) {
        long r = stub_syscall6(ctx, SYS_munmap, drop[i].s, drop[i].e - drop[i].s, 0, 0, 0, 0);
        if (r < 0)
            return (int)r;
    }
    s->trimmed = 1;
    return 0;
}

/* A spare stub for the next exec (systrap: under ptrace the sentry thread
 * that serves a stub must be the one that started tracing it). Starting a
 * stub (the spawner's fork and exec of the stub image, the stub's set-up
 * until its first post) is most of the cost of an exec that needs a new
 * address space (vfork or posix_spawn, then exec), so after the sandbox's
 * first stub every stub taken is replaced in the background, by one
 * helper thread, while the guest goes on. A spare is a stub like any
 * other, its process known and watched, parked at a post, but trimmed
 * already (stub_trim): the helper serves it until it is taken. */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spare_cv = PTHREAD_COND_INITIALIZER;
static struct {
    struct stub *stub; /* the spare, or NULL */
    struct guest_ctx *ctx;
    const struct platform *plat;
    int wanted;   /* the helper should start one */
    int starting; /* the helper is starting one */
    int closed;   /* stub_host_fini: no more */
    int helper;   /* the helper thread runs */
    int spawns;   /* stub_spawn calls so far */
} spare;

/* A stub of the spawner's, attached and trimmed (the first stub's start
 * and the fallback of a spare's). */
static int stub_spawn_trimmed(const struct platform *plat, struct stub **out,
                              struct guest_ctx **ctxp)
{
    int r = stub_spawn_now(plat, 0, out, ctxp);
    if (r == 0 && (plat->attach(*ctxp) < 0 || stub_trim(*ctxp) < 0)) {
        stub_ctx_free(*ctxp);
        stub_release(*out);
        r = -1;
    }
    return r;
}

/* The template: a stub that never runs guest code, trimmed, which the
 * helper forks for each spare (stub_fork: the child says hello and gets
 * its own channel, as a guest fork's does). A fork of so small a process
 * costs far less than the spawner's fork and exec of the stub image and
 * the new stub's set-up. Its children inherit its vDSO placement, so it
 * is made anew every TEMPLATE_USES spares (an exec re-randomizes it on
 * Linux). Only the helper uses it while it runs; stub_host_fini ends it. */
#define TEMPLATE_USES 32
static struct stub *tmpl;
static struct guest_ctx *tmpl_ctx;
static int tmpl_uses;

static void template_end(void)
{
    if (!tmpl)
        return;
    stub_ctx_free(tmpl_ctx);
    stub_release(tmpl);
    tmpl = NULL;
    tmpl_ctx = NULL;
}

static int spare_from_template(const struct platform *plat, struct stub **out,
                               struct guest_ctx **ctxp)
{
    if (tmpl && (tmpl_uses >= TEMPLATE_USES || __atomic_load_n(&tmpl->dead, __ATOMIC_SEQ_CST)))
        template_end();
    if (!tmpl) {
        int r = stub_spawn_trimmed(plat, &tmpl, &tmpl_ctx);
        if (r < 0)
            return r;
        tmpl_uses = 0;
    }
    struct stub *s;
    struct guest_ctx *ctx;
    int r = stub_fork(tmpl_ctx, &s, &ctx);
    if (r < 0) {
        template_end();
        return r;
    }
    tmpl_uses++;
    s->trimmed = 1;
    s->nhost_maps = tmpl->nhost_maps;
    memcpy(s->host_maps, tmpl->host_maps, sizeof(s->host_maps));
    if (plat->attach(ctx) < 0) {
        stub_ctx_free(ctx);
        stub_release(s);
        return -1;
    }
    stub_pair_unspin(ctx);
    *out = s;
    *ctxp = ctx;
    return 0;
}

static void *spare_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&spare_lock);
    for (;;) {
        while (!spare.closed && (!spare.wanted || spare.stub))
            pthread_cond_wait(&spare_cv, &spare_lock);
        if (spare.closed)
            break;
        spare.wanted = 0;
        spare.starting = 1;
        const struct platform *plat = spare.plat;
        pthread_mutex_unlock(&spare_lock);
        struct stub *s = NULL;
        struct guest_ctx *ctx = NULL;
        int r = spare_from_template(plat, &s, &ctx);
        if (r < 0)
            r = stub_spawn_trimmed(plat, &s, &ctx);
        pthread_mutex_lock(&spare_lock);
        spare.starting = 0;
        if (r == 0) {
            spare.stub = s;
            spare.ctx = ctx;
        }
        pthread_cond_broadcast(&spare_cv);
    }
    spare.starting = 0;
    pthread_cond_broadcast(&spare_cv);
    pthread_mutex_unlock(&spare_lock);
    return NULL;
}

/* Under spare_lock: ask the helper for a spare (started on first use). */
static void spare_want(const struct platform *plat)
{
    if (spare.closed)
        return;
    if (!spare.helper) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        spare.helper = pthread_create(&th, &at, spare_main, NULL) == 0;
        pthread_attr_destroy(&at);
        if (!spare.helper)
            return;
    }
    spare.plat = plat;
    spare.wanted = 1;
    pthread_cond_broadcast(&spare_cv);
}

int stub_spawn(const struct platform *plat, int ptrace_mode, struct stub **out,
               struct guest_ctx **ctxp)
{
    if (ptrace_mode)
        return stub_spawn_now(plat, ptrace_mode, out, ctxp);
    pthread_mutex_lock(&spare_lock);
    struct stub *s = spare.stub;
    struct guest_ctx *ctx = spare.ctx;
    spare.stub = NULL;
    spare.ctx = NULL;
    if (spare.spawns++ > 0)
        spare_want(plat);
    pthread_mutex_unlock(&spare_lock);
    if (s && s->plat == plat && !__atomic_load_n(&s->dead, __ATOMIC_SEQ_CST)) {
        *out = s;
        *ctxp = ctx;
        return 0;
    }
    if (s) {
        free(ctx);
        stub_release(s);
    }
    return stub_spawn_now(plat, ptrace_mode, out, ctxp);
}

void stub_host_fini(void)
{
    pthread_mutex_lock(&spare_lock);
    spare.closed = 1;
    pthread_cond_broadcast(&spare_cv);
    while (spare.starting)
        pthread_cond_wait(&spare_cv, &spare_lock);
    struct stub *s = spare.stub;
    struct guest_ctx *ctx = spare.ctx;
    spare.stub = NULL;
    spare.ctx = NULL;
    pthread_mutex_unlock(&spare_lock);
    if (s) {
        free(ctx);
        stub_release(s);
    }
    template_end();
}

/* A stub the sentry kills itself is no news for the monitor: taken out of
 * its set first, so that the death wakes neither the monitor nor, through
 * its status query, the spawner. stub_release reaps it. */
void stub_kill(struct stub *s)
{
    pthread_mutex_lock(&mon_lock);
    if (mon_has(s)) {
        epoll_ctl(mon_epoll, EPOLL_CTL_DEL, s->pidfd, NULL);
        mon_forget(s);
    }
    pthread_mutex_unlock(&mon_lock);
    if (s->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
}

void stub_interrupt(struct guest_ctx *ctx)
{
    syscall(SYS_tgkill, ctx->stub->pid, ctx->tid, STUB_INTERRUPT_SIG);
}

void stub_release(struct stub *s)
{
    if (!s)
        return;
    if (s->pid > 0) {
        stub_kill(s);
        if (s->plat->release)
            s->plat->release(s);
        int status;
        if (spawner_wait(s->pid, 1, &status) == 0) {
            stub_mark_dead(s, status);
            pid_remove(s->pid);
        }
    }
    channel_free(s);
}

static int stub_tid_known(struct stub *s, pid_t tid)
{
    int known = 0;
    pthread_mutex_lock(&s->slot_lock);
    for (int i = 0; i < STUB_MAX_THREADS && !known; i++)
        known = s->tids[i] == tid;
    pthread_mutex_unlock(&s->slot_lock);
    return known;
}

/* tids[slot] of a thread told to end whose end is not yet seen: the slot
 * is free once the kernel has cleared its state word at the thread's exit
 * (set_tid_address in thread_start). */
#define SLOT_EXITING (-2)

static uint32_t *slot_state(struct stub *s, int slot)
{
    return &slot_msg(s->msgs, slot)->state;
}

static int slot_gone(struct stub *s, int slot)
{
    return __atomic_load_n(slot_state(s, slot), __ATOMIC_SEQ_CST) == SM_GONE ||
           __atomic_load_n(&s->dead, __ATOMIC_SEQ_CST);
}

/* A free slot of s, reserved (tids[slot] = -1), or -EAGAIN. With every
 * slot taken but some ending, waits for one of those (at most 2 s; then
 * it is taken anyway, as a thread that does not end is the guest's doing
 * and a slot only holds that thread's own page). */
static int slot_alloc(struct stub *s)
{
    int slot = -EAGAIN, exiting = -1;
    pthread_mutex_lock(&s->slot_lock);
    for (int i = 0; i < STUB_MAX_THREADS && slot < 0; i++) {
        if (s->tids[i] == SLOT_EXITING && exiting < 0)
            exiting = i;
        if (s->tids[i] == 0 || (s->tids[i] == SLOT_EXITING && slot_gone(s, i))) {
            s->tids[i] = -1;
            slot = i;
        }
    }
    if (slot < 0 && exiting >= 0)
        s->tids[exiting] = -1;
    pthread_mutex_unlock(&s->slot_lock);
    if (slot < 0 && exiting >= 0) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        for (int i = 0; i < 100 && !slot_gone(s, exiting); i++) {
            uint32_t st = __atomic_load_n(slot_state(s, exiting), __ATOMIC_SEQ_CST);
            syscall(SYS_futex, slot_state(s, exiting), FUTEX_WAIT, st, &ts, NULL, 0);
        }
        slot = exiting;
    }
    return slot;
}

static void slot_set(struct stub *s, int slot, pid_t tid)
{
    pthread_mutex_lock(&s->slot_lock);
    s->tids[slot] = tid;
    /* Copies go through a thread that is alive. */
    if (__atomic_load_n(&s->mem_pid, __ATOMIC_RELAXED) <= 0 && tid > 0)
        __atomic_store_n(&s->mem_pid, tid, __ATOMIC_RELAXED);
    if (tid == 0 && __atomic_load_n(&s->mem_pid, __ATOMIC_RELAXED) > 0) {
        pid_t alive = 0;
        for (int i = 0; i < STUB_MAX_THREADS && !alive; i++)
            if (s->tids[i] > 0)
                alive = s->tids[i];
        __atomic_store_n(&s->mem_pid, alive, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&s->slot_lock);
}

int stub_new_thread(struct guest_ctx *ctx, struct guest_ctx **out)
{
    struct stub *s = ctx->stub;
    int slot = slot_alloc(s);
    if (slot < 0)
        return slot;
    struct sysmsg *m = slot_msg(s->msgs, slot);
    memset(m, 0, sizeof(*m));
    m->state = SM_STUB;
    m->spin_limit = stub_spin_rounds;
    uint64_t top = SIGSTACK_BASE + (uint64_t)(slot + 1) * SIGSTACK_SIZE - 64;
    uint64_t args[6] = {
        STUB_CLONE_THREAD_FLAGS, top, 0, 0, 0, (uint64_t)slot | (uint64_t)STUB_CHILD_THREAD << 16
    };
    stub_clone_begin(s, ctx->tid, args, STUB_CHILD_THREAD, (unsigned)slot, NULL);
    long r = s->plat->run_clone(ctx, args);
    pid_t tid = stub_clone_end(r > 0 ? (int)r : (int)(r < 0 ? r : -EFAULT));
    if (tid <= 0) {
        slot_set(s, slot, 0);
        return r == -ESRCH ? -ESRCH : -EAGAIN;
    }
    struct guest_ctx *n = ctx_new(s, slot, tid);
    if (!n) {
        /* The thread waits in its start code until the stub goes. */
        slot_set(s, slot, tid);
        return -ENOMEM;
    }
    slot_set(s, slot, tid);
    *out = n;
    return 0;
}

int stub_fork(struct guest_ctx *ctx, struct stub **out_stub, struct guest_ctx **out)
{
    struct stub *parent = ctx->stub, *s;
    int fds[2];
    int r = channel_new(parent->plat, ctx->slot, &s, &fds[0], &fds[1]);
    if (r < 0)
        return r;
    uint64_t args[6] = {
        STUB_CLONE_FORK_FLAGS, 0, 0, 0, 0, (uint64_t)ctx->slot | (uint64_t)STUB_CHILD_FORK << 16
    };
    stub_clone_begin(parent, ctx->tid, args, STUB_CHILD_FORK, (unsigned)ctx->slot, fds);
    long cr = parent->plat->run_clone(ctx, args);
    pid_t pid = stub_clone_end(cr > 0 ? (int)cr : (int)(cr < 0 ? cr : -EFAULT));
    close(fds[0]);
    close(fds[1]);
    if (pid <= 0) {
        channel_free(s);
        return cr == -ESRCH ? -ESRCH : -EAGAIN;
    }
    struct guest_ctx *n = ctx_new(s, ctx->slot, pid);
    s->tids[ctx->slot] = pid;
    r = n ? stub_adopt_pid(s, pid) : -ENOMEM;
    if (r < 0) {
        free(n);
        stub_release(s);
        return r;
    }
    *out_stub = s;
    *out = n;
    return 0;
}

void stub_pair_unspin(struct guest_ctx *ctx)
{
    if (ctx->spin_permit) {
        spin_permit_put();
        ctx->spin_permit = 0;
    }
}

void stub_ctx_free(struct guest_ctx *ctx)
{
    if (ctx)
        stub_pair_unspin(ctx);
    free(ctx);
}

void stub_forget_thread(struct guest_ctx *ctx)
{
    /* Its slot stays taken: the thread may not really be gone. */
    stub_ctx_free(ctx);
}

void stub_exit_thread(struct guest_ctx *ctx)
{
    struct stub *s = ctx->stub;
    /* Copies go through another live thread from now on: once its leader
     * thread has exited, the stub's pid names a zombie with no memory. */
    pthread_mutex_lock(&s->slot_lock);
    if (s->mem_pid == ctx->tid) {
        pid_t alive = 0;
        for (int i = 0; i < STUB_MAX_THREADS && !alive; i++)
            if (s->tids[i] > 0 && s->tids[i] != ctx->tid)
                alive = s->tids[i];
        if (alive)
            __atomic_store_n(&s->mem_pid, alive, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&s->slot_lock);
    /* The slot is taken again once the thread is seen gone (slot_alloc):
     * nobody waits for that here. */
    if (!__atomic_load_n(&s->dead, __ATOMIC_SEQ_CST))
        s->plat->run_exit(ctx);
    slot_set(s, ctx->slot, SLOT_EXITING);
    stub_ctx_free(ctx);
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
    /* Wake the sentry threads of its slots in use (the others' pages were
     * never touched). */
    pthread_mutex_lock(&s->slot_lock);
    for (int i = 0; i < STUB_MAX_THREADS; i++) {
        if (!s->tids[i])
            continue;
        struct sysmsg *m = slot_msg(s->msgs, i);
        __atomic_store_n(&m->state, SM_DEAD, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &m->state, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    pthread_mutex_unlock(&s->slot_lock);
}

long stub_syscall6(struct guest_ctx *ctx, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
                   uint64_t a3, uint64_t a4, uint64_t a5)
{
    const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
    return ctx->stub->plat->stub_syscall(ctx, nr, args);
}

/* struct sysmsg_fdpass is struct msghdr, struct iovec, the tag and one
 * SCM_RIGHTS control message, laid out as the kernel reads them. */
_Static_assert(
    offsetof(struct sysmsg_fdpass, msg_iov) == offsetof(struct msghdr, msg_iov) &&
        offsetof(struct sysmsg_fdpass, msg_iovlen) == offsetof(struct msghdr, msg_iovlen) &&
        offsetof(struct sysmsg_fdpass, msg_control) == offsetof(struct msghdr, msg_control) &&
        offsetof(struct sysmsg_fdpass, msg_controllen) == offsetof(struct msghdr, msg_controllen) &&
        offsetof(struct sysmsg_fdpass, msg_flags) == offsetof(struct msghdr, msg_flags) &&
        offsetof(struct sysmsg_fdpass, iov_base) == sizeof(struct msghdr) &&
        offsetof(struct sysmsg_fdpass, cmsg_len) - offsetof(struct sysmsg_fdpass, seq) == 8 &&
        SYSMSG_FDPASS_CMSG_LEN == CMSG_LEN(sizeof(int)) &&
        SYSMSG_FDPASS_CTL_SIZE == CMSG_SPACE(sizeof(int)) && SYSMSG_SOL_SOCKET == SOL_SOCKET &&
        SYSMSG_SCM_RIGHTS == SCM_RIGHTS &&
        offsetof(struct sysmsg_fdpass, fd) - offsetof(struct sysmsg_fdpass, cmsg_len) ==
            sizeof(struct cmsghdr),
    "struct sysmsg_fdpass matches <sys/socket.h>");

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

/* Lay out the recvmsg buffers in the scratch space of ctx's page, with
 * pointers as the stub sees them. */
static void fdpass_prepare(struct guest_ctx *ctx)
{
    struct sysmsg_fdpass *b = (struct sysmsg_fdpass *)(void *)ctx->m->scratch;
    uint64_t at = stub_scratch(ctx);
    memset(b, 0, sizeof(*b));
    b->iov_base = at + offsetof(struct sysmsg_fdpass, seq);
    b->iov_len = sizeof(b->seq);
    b->msg_iov = at + offsetof(struct sysmsg_fdpass, iov_base);
    b->msg_iovlen = 1;
    b->msg_control = at + offsetof(struct sysmsg_fdpass, cmsg_len);
    b->msg_controllen = SYSMSG_FDPASS_CTL_SIZE;
}

long stub_map_fd(struct guest_ctx *ctx, int host_fd, uint64_t addr, uint64_t len, int prot,
                 int flags, uint64_t off)
{
    struct stub *s = ctx->stub;
    uint64_t at = stub_scratch(ctx);

    pthread_mutex_lock(&s->fdpass_lock);
    uint64_t seq = ++s->fdpass_seq;
    long ret = fdpass_send(s->fdpass_fd, host_fd, seq);
    if (ret == 0 && s->plat->map_fd) {
        /* Receive, map and close in one turn (the stub skips a message
         * left over from an earlier call that failed half-way). */
        fdpass_prepare(ctx);
        ret = s->plat->map_fd(ctx, seq, addr, len, prot, flags, off);
        pthread_mutex_unlock(&s->fdpass_lock);
        return ret;
    }
    /* A message left over from an earlier call that failed half-way is
     * received, closed and skipped; the tag tells it from ours. */
    for (int tries = 0; ret == 0; tries++) {
        if (tries == 8) {
            ret = -EAGAIN;
            break;
        }
        fdpass_prepare(ctx);
        long n = stub_syscall6(ctx, SYS_recvmsg, STUB_FDPASS_FD, at, MSG_DONTWAIT, 0, 0, 0);
        if (n == -ESRCH) {
            ret = n;
            break;
        }
        /* Copy once: other guest threads can write the page. Nothing to
         * receive means a guest thread took the fd from stub text. */
        struct sysmsg_fdpass got;
        memcpy(&got, ctx->m->scratch, sizeof(got));
        int rfd = n < 0 ? -1 : sysmsg_fdpass_fd(&got, n);
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
    uint64_t at = stub_scratch(ctx);
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
