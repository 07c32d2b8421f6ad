/* Guest memory access: copy_in, copy_out and strncpy_in, the only way the
 * sentry reads or writes guest memory. process_vm_readv/writev on the stub;
 * a bad guest pointer is -EFAULT, never a sentry fault. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "sentry/kernel.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

int guest_range_ok(uint64_t addr, size_t len)
{
    if (len == 0)
        return 1;
    return addr + len >= addr && addr + len <= TASK_SIZE;
}

/* The stub region is the guest's "kernel" half: syscalls never read or
 * write it. Returns how many bytes from addr lie before it (all of len if
 * the range does not touch it). */
static size_t before_stub(uint64_t addr, size_t len)
{
    if (addr + len <= STUB_BASE || addr >= STUB_REGION_END)
        return len;
    return addr < STUB_BASE ? (size_t)(STUB_BASE - addr) : 0;
}

/* Copy as much as the guest's pages allow; returns the bytes copied. */
static size_t mem_xfer(pid_t pid, int write, void *local, uint64_t remote, size_t len)
{
    size_t done = 0;
    while (done < len) {
        struct iovec l = { (uint8_t *)local + done, len - done };
        struct iovec r = { (void *)(uintptr_t)(remote + done), len - done };
        ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0)
                          : process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

/* All of len or -EFAULT. */
static int mem_copy(pid_t pid, int write, void *local, uint64_t remote, size_t len)
{
    return mem_xfer(pid, write, local, remote, len) == len ? 0 : -EFAULT;
}

int mem_read(pid_t pid, void *dst, uint64_t src, size_t len)
{
    return mem_copy(pid, 0, dst, src, len);
}

int mem_write(pid_t pid, uint64_t dst, const void *src, size_t len)
{
    return mem_copy(pid, 1, (void *)src, dst, len);
}

long mem_strncpy(pid_t pid, char *dst, uint64_t src, size_t max)
{
    size_t got = 0;
    if (max == 0)
        return -ENAMETOOLONG;
    while (got < max) {
        /* Read up to the end of the page so a short string next to an
         * unmapped page is not an error. */
        uint64_t a = src + got;
        size_t chunk = (size_t)(GUEST_PAGE - (a & (GUEST_PAGE - 1)));
        if (chunk > max - got)
            chunk = max - got;
        struct iovec l = { dst + got, chunk }, r = { (void *)(uintptr_t)a, chunk };
        ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            return -EFAULT;
        char *z = memchr(dst + got, 0, (size_t)n);
        if (z)
            return z - dst;
        got += (size_t)n;
    }
    dst[max - 1] = 0;
    return -ENAMETOOLONG;
}

static pid_t guest_pid(struct task *t)
{
    /* A live thread of the stub: the leader may have exited before the rest. */
    return __atomic_load_n(&t->proc->mm->stub->mem_pid, __ATOMIC_RELAXED);
}

/* copy_in and copy_out: a copy that failed because the thread it went
 * through exited meanwhile is made once more through the live thread the
 * stub names now. */
static int copy_whole(struct task *t, int write, void *local, uint64_t remote, size_t len)
{
    if (!guest_range_ok(remote, len) || before_stub(remote, len) != len)
        return -EFAULT;
    pid_t pid = guest_pid(t);
    int r = mem_copy(pid, write, local, remote, len);
    if (r < 0 && guest_pid(t) != pid)
        r = mem_copy(guest_pid(t), write, local, remote, len);
    return r;
}

int copy_in(struct task *t, void *dst, uint64_t src, size_t len)
{
    return copy_whole(t, 0, dst, src, len);
}

int copy_out(struct task *t, uint64_t dst, const void *src, size_t len)
{
    return copy_whole(t, 1, (void *)src, dst, len);
}

/* Up to ARRAY_SIZE(l) of the spans in one host call. */
static int spans_out(struct task *t, const struct guest_span *s, size_t n)
{
    struct iovec l[64], r[64];
    size_t total = 0;
    int whole = n <= ARRAY_SIZE(l);
    for (size_t i = 0; whole && i < n; i++) {
        if (!guest_range_ok(s[i].addr, s[i].len) || before_stub(s[i].addr, s[i].len) != s[i].len)
            whole = 0;
        l[i] = (struct iovec){ (void *)s[i].buf, s[i].len };
        r[i] = (struct iovec){ (void *)(uintptr_t)s[i].addr, s[i].len };
        total += s[i].len;
    }
    if (whole && process_vm_writev(guest_pid(t), l, n, r, n, 0) == (ssize_t)total)
        return 0;
    /* Not in one go (a fault, a short copy, a thread gone): one by one,
     * which says which piece faults and rewrites what got written. */
    for (size_t i = 0; i < n; i++)
        if (copy_out(t, s[i].addr, s[i].buf, s[i].len) < 0)
            return -EFAULT;
    return 0;
}

int copy_out_spans(struct task *t, const struct guest_span *s, size_t n)
{
    for (size_t i = 0; i < n; i += 64)
        if (spans_out(t, s + i, n - i < 64 ? n - i : 64) < 0)
            return -EFAULT;
    return 0;
}

long copy_in_partial(struct task *t, void *dst, uint64_t src, size_t len)
{
    if (!guest_range_ok(src, len))
        return -EFAULT;
    return (long)mem_xfer(guest_pid(t), 0, dst, src, before_stub(src, len));
}

long copy_out_partial(struct task *t, uint64_t dst, const void *src, size_t len)
{
    if (!guest_range_ok(dst, len))
        return -EFAULT;
    return (long)mem_xfer(guest_pid(t), 1, (void *)src, dst, before_stub(dst, len));
}

int task_fpstate_get(struct task *t, void *buf, size_t size)
{
    const struct platform *plat = t->proc->sandbox->plat;
    if (!t->ctx || !plat->get_fpstate)
        return -EFAULT;
    return plat->get_fpstate(t->ctx, buf, size) < 0 ? -EFAULT : 0;
}

int task_fpstate_set(struct task *t, const void *buf, size_t size)
{
    const struct platform *plat = t->proc->sandbox->plat;
    if (!t->ctx || !plat->set_fpstate)
        return -EFAULT;
    return plat->set_fpstate(t->ctx, buf, size) < 0 ? -EFAULT : 0;
}

long strncpy_in(struct task *t, char *dst, uint64_t src, size_t max)
{
    if (src >= TASK_SIZE)
        return -EFAULT;
    size_t lim = before_stub(src, TASK_SIZE - src);
    if (lim == 0)
        return -EFAULT;
    if (max > lim) {
        /* The string cannot run past the end of what the guest may name. */
        long n = mem_strncpy(guest_pid(t), dst, src, lim);
        return n == -ENAMETOOLONG ? -EFAULT : n;
    }
    return mem_strncpy(guest_pid(t), dst, src, max);
}

long import_iovec(struct task *t, uint64_t uiov, uint64_t cnt, struct iovec **out)
{
    *out = NULL;
    if (cnt > UIO_MAXIOV)
        return -EINVAL;
    if (cnt == 0)
        return 0;
    struct iovec *iov = malloc(cnt * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    if (copy_in(t, iov, uiov, cnt * sizeof(*iov)) < 0) {
        free(iov);
        return -EFAULT;
    }
    long total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if ((ssize_t)iov[i].iov_len < 0) {
            free(iov);
            return -EINVAL;
        }
        if (!guest_range_ok((uint64_t)(uintptr_t)iov[i].iov_base, iov[i].iov_len)) {
            free(iov);
            return -EFAULT;
        }
        if (iov[i].iov_len > (size_t)(MAX_RW_COUNT - total))
            iov[i].iov_len = (size_t)(MAX_RW_COUNT - total);
        total += (long)iov[i].iov_len;
    }
    *out = iov;
    return total;
}
