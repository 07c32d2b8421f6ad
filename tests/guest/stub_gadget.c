/* stub_gadget.c: a guest that jumps to a `syscall; ret` in the stub's text
 * with registers of its own choosing gains nothing: every call the stub
 * itself may make is refused (EPERM) for any argument the stub and the
 * sentry never pass, everything else from stub text is refused too, and
 * the stub region (text, sysmsg pages, signal stacks) and the fd-passing
 * socket stay as they were. Natively there is no stub: the same lines are
 * printed without the calls. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "stub_util.h"

/* musl ships no kernel headers. */
#define FUTEX_WAKE 1
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | 128)
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void *g;
static int box;

/* Expects the call through the stub to be refused with EPERM. */
static void refused(const char *name, long r)
{
    if (!box) {
        check(1, "%s: refused", name);
        return;
    }
    check(r == -EPERM, "%s: refused%s%s", name, r == -EPERM ? "" : ", got ",
          r == -EPERM ? "" : ret_name(r));
}

/* A page is mapped if write(2) can read it (an unmapped one is EFAULT). */
static int mapped(int fd, uint64_t addr)
{
    return sc(SYS_write, fd, addr, 1) == 1;
}

int main(void)
{
    box = sandboxed();
    if (box) {
        g = stub_syscall_ret();
        check(g != NULL, "found a syscall; ret in stub text");
        if (!g)
            return finish();
    } else {
        check(1, "found a syscall; ret in stub text");
    }
    int p[2];
    check_ret(sc(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2");
    const long RW = PROT_READ | PROT_WRITE, ANON = MAP_PRIVATE | MAP_ANONYMOUS;
    char *scratch = (char *)sc(SYS_mmap, 0, 65536, RW, ANON, -1, 0);
    check((long)scratch > 0, "scratch mapping");
    scratch[0] = 1;
    unsigned char text0[16], text1[16];
    if (box)
        memcpy(text0, (void *)STUB_BASE, sizeof(text0));

    /* mmap: page 0, flags the sentry never forwards, no MAP_FIXED, and the
     * stub region itself. */
    refused("mmap page 0", box ? vs(g, SYS_mmap, 0, 4096, RW, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap MAP_GROWSDOWN",
            box ? vs(g, SYS_mmap, scratch, 4096, RW, ANON | MAP_FIXED | MAP_GROWSDOWN, -1, 0) : 0);
    refused("mmap MAP_32BIT",
            box ? vs(g, SYS_mmap, scratch, 4096, RW, ANON | MAP_FIXED | MAP_32BIT, -1, 0) : 0);
    refused("mmap MAP_FIXED_NOREPLACE",
            box ? vs(g, SYS_mmap, scratch, 4096, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0) : 0);
    refused("mmap without MAP_FIXED", box ? vs(g, SYS_mmap, 0, 4096, RW, ANON, -1, 0) : 0);
    refused("mmap MAP_SHARED_VALIDATE",
            box ? vs(g, SYS_mmap, scratch, 4096, RW,
                     MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                : 0);
    refused("mmap PROT_GROWSDOWN",
            box ? vs(g, SYS_mmap, scratch, 4096, RW | PROT_GROWSDOWN, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap over the stub text",
            box ? vs(g, SYS_mmap, STUB_BASE, 4096, RW, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap over a sysmsg page",
            box ? vs(g, SYS_mmap, SYSMSG_BASE, 4096, RW, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap over a signal stack",
            box ? vs(g, SYS_mmap, SIGSTACK_BASE, 4096, RW, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap across the stub region from below",
            box ? vs(g, SYS_mmap, STUB_BASE - 4096, 8192, RW, ANON | MAP_FIXED, -1, 0) : 0);
    refused("mmap in the gap after the sysmsg pages",
            box ? vs(g, SYS_mmap, SYSMSG_BASE + 0x400000, 4096, RW, ANON | MAP_FIXED, -1, 0) : 0);

    /* Memory locks live in the sentry's model: MAP_LOCKED never reaches
     * the host, so it is no flag the stub may pass. */
    refused("mmap MAP_LOCKED",
            box ? vs(g, SYS_mmap, scratch, 4096, RW, ANON | MAP_FIXED | MAP_LOCKED, -1, 0) : 0);

    /* mincore: only of guest pages, at most 512 of them, into the sysmsg
     * pages (the sysmsg scratch space is where the sentry asks for it). */
    refused("mincore of the stub text", box ? vs(g, SYS_mincore, STUB_BASE, 4096, SYSMSG_BASE) : 0);
    refused("mincore of a signal stack",
            box ? vs(g, SYS_mincore, SIGSTACK_BASE, 4096, SYSMSG_BASE) : 0);
    refused("mincore into guest memory",
            box ? vs(g, SYS_mincore, scratch, 4096, scratch + 4096) : 0);
    refused("mincore into the stub text", box ? vs(g, SYS_mincore, scratch, 4096, STUB_BASE) : 0);
    refused("mincore of 513 pages", box ? vs(g, SYS_mincore, scratch, 513 * 4096, SYSMSG_BASE) : 0);
    refused("mincore into the end of the sysmsg pages",
            box ? vs(g, SYS_mincore, scratch, 4096, SYSMSG_BASE + 256 * SYSMSG_SIZE - 256) : 0);

    /* munmap, mremap, mprotect, madvise of the stub region. */
    refused("munmap a sysmsg page", box ? vs(g, SYS_munmap, SYSMSG_BASE, 4096) : 0);
    refused("munmap a signal stack", box ? vs(g, SYS_munmap, SIGSTACK_BASE, SIGSTACK_SIZE) : 0);
    refused("munmap the stub text", box ? vs(g, SYS_munmap, STUB_BASE, 4096) : 0);
    refused("munmap everything from 1 TiB up",
            box ? vs(g, SYS_munmap, 1UL << 40, (1UL << 47) - (1UL << 40) - 4096) : 0);
    refused("munmap with a wrapping length", box ? vs(g, SYS_munmap, 0x10000, -0x10000L) : 0);
    refused("mremap a signal stack away",
            box ? vs(g, SYS_mremap, SIGSTACK_BASE, SIGSTACK_SIZE, SIGSTACK_SIZE,
                     MREMAP_MAYMOVE | MREMAP_FIXED, scratch)
                : 0);
    refused("mremap onto a sysmsg page",
            box ? vs(g, SYS_mremap, scratch, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, SYSMSG_BASE)
                : 0);
    refused("mremap growing into the stub",
            box ? vs(g, SYS_mremap, STUB_BASE - 4096, 4096, 8192, 0, 0) : 0);
    refused("mremap MREMAP_MAYMOVE alone",
            box ? vs(g, SYS_mremap, scratch, 4096, 8192, MREMAP_MAYMOVE, 0) : 0);
    refused("mprotect a sysmsg page read-only",
            box ? vs(g, SYS_mprotect, SYSMSG_BASE, 4096, PROT_READ) : 0);
    refused("mprotect the stub text writable",
            box ? vs(g, SYS_mprotect, STUB_BASE, 4096, RW | PROT_EXEC) : 0);
    refused("mprotect PROT_GROWSDOWN",
            box ? vs(g, SYS_mprotect, scratch, 4096, RW | PROT_GROWSDOWN) : 0);
    refused("madvise MADV_HWPOISON", box ? vs(g, SYS_madvise, scratch, 4096, MADV_HWPOISON) : 0);
    refused("madvise MADV_SOFT_OFFLINE",
            box ? vs(g, SYS_madvise, scratch, 4096, MADV_SOFT_OFFLINE) : 0);
    refused("madvise advice 5", box ? vs(g, SYS_madvise, scratch, 4096, 5) : 0);
    refused("madvise MADV_DONTNEED a signal stack",
            box ? vs(g, SYS_madvise, SIGSTACK_BASE, 4096, MADV_DONTNEED) : 0);

    /* futex: only WAIT and WAKE, only on the stub's own sysmsg words. */
    static uint32_t word;
    refused("futex FUTEX_LOCK_PI", box ? vs(g, SYS_futex, &word, FUTEX_LOCK_PI, 0, 0) : 0);
    word = 1; /* a "tid" to probe */
    refused("futex FUTEX_UNLOCK_PI", box ? vs(g, SYS_futex, &word, FUTEX_UNLOCK_PI, 0, 0) : 0);
    refused("futex FUTEX_TRYLOCK_PI", box ? vs(g, SYS_futex, &word, FUTEX_TRYLOCK_PI, 0, 0) : 0);
    refused("futex FUTEX_WAKE on guest memory", box ? vs(g, SYS_futex, &word, FUTEX_WAKE, 1) : 0);
    refused("futex FUTEX_CMP_REQUEUE on a sysmsg word",
            box ? vs(g, SYS_futex, SYSMSG_BASE, FUTEX_CMP_REQUEUE, 1, 1, &word, 0) : 0);
    refused("futex FUTEX_WAKE_PRIVATE on a sysmsg word",
            box ? vs(g, SYS_futex, SYSMSG_BASE, FUTEX_WAKE_PRIVATE, 1) : 0);

    /* The fd-passing socket and exits. */
    char buf[8];
    struct iovec iov = { buf, sizeof buf };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    refused("recvmsg blocking", box ? vs(g, SYS_recvmsg, 4, &mh, 0) : 0);
    refused("recvmsg on another fd", box ? vs(g, SYS_recvmsg, 0, &mh, MSG_DONTWAIT) : 0);
    refused("close the fd-passing socket", box ? vs(g, SYS_close, 4) : 0);
    /* (exit of the stub thread is allowed: the sentry needs it to end a
     * guest thread; a guest that uses it loses its thread, and the sentry
     * makes that a SIGSEGV of the process: stub_jump_exit.c.) */
    refused("exit_group of the stub", box ? vs(g, SYS_exit_group, 7) : 0);
    /* Anything else from stub text. */
    refused("getpid", box ? vs(g, SYS_getpid) : 0);
    refused("kill", box ? vs(g, SYS_kill, 1, 9) : 0);
    refused("openat", box ? vs(g, SYS_openat, AT_FDCWD, "/", O_RDONLY) : 0);
    /* A new stub thread's own set-up calls are allowed under systrap (each
     * changes only the calling thread; here nothing, a query); the ptrace
     * platform refuses every call from stub text. */
    long ra = box ? vs(g, SYS_sigaltstack, 0, 0) : 0;
    check(ra == 0 || ra == -EPERM, "sigaltstack: only a query of its own");
    ra = box ? vs(g, SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 8) : 0;
    check(ra == 0 || ra == -EPERM, "rt_sigprocmask: only a query of its own");
    refused("clone", box ? vs(g, SYS_clone, 0, 0, 0, 0, 0) : 0);
    /* Even with exactly the flags and stack the stub's own threads get,
     * a clone the sentry did not ask for is refused (the spawner's filter
     * asks the sentry first): the guest gains no host thread or process. */
    refused("clone of a stub thread",
            box ? vs(g, SYS_clone, STUB_CLONE_THREAD_FLAGS,
                     SIGSTACK_BASE + (STUB_MAX_THREADS - 1 + 1) * SIGSTACK_SIZE - 64, 0, 0, 0)
                : 0);
    refused("clone of a stub process",
            box ? vs(g, SYS_clone, STUB_CLONE_FORK_FLAGS, 0, 0, 0, 0) : 0);
    refused("gettid hello of a stub thread", box ? vs(g, SYS_gettid, 0x68656c6cUL, 1, 5) : 0);
    refused("mseal", box ? vs(g, 462, scratch, 4096, 0) : 0);

    /* Nothing changed: the stub's text, its sysmsg and signal stack pages
     * (read directly: a missing page would be a SIGSEGV), page 0, and
     * file-backed mmap, which needs the fd-passing socket. */
    if (box) {
        memcpy(text1, (void *)STUB_BASE, sizeof(text1));
        volatile uint32_t *sm = (volatile uint32_t *)SYSMSG_BASE;
        volatile char *ss = (volatile char *)SIGSTACK_BASE;
        (void)*sm;
        (void)*ss;
        check(memcmp(text0, text1, sizeof(text0)) == 0,
              "stub text, sysmsg page and signal stack intact");
        check(!mapped(p[1], 0), "page 0 not mapped");
    } else {
        check(1, "stub text, sysmsg page and signal stack intact");
        check(1, "page 0 not mapped");
    }
    int fd = (int)sc(SYS_openat, AT_FDCWD, "stub_gadget.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    check(fd >= 0, "create a file");
    check_ret(sc(SYS_write, fd, "mapped\n", 7), 7, "write it");
    char *m = (char *)sc(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    check((long)m > 0 && memcmp(m, "mapped\n", 7) == 0, "file mmap still works");
    sc(SYS_close, fd);
    sc(SYS_unlink, "stub_gadget.tmp");
    return finish();
}
