/* Guest memory access: copy_in, copy_out and strncpy_in, the only way the
 * sentry reads or writes guest memory. process_vm_readv/writev on the stub;
 * a bad guest pointer is -EFAULT, never a sentry fault. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "platform/layout.h"
#include "sentry/kernel.h"

int guest_range_ok(uint64_t addr, size_t len)
{
    if (len == 0)
        return 1;
    if (addr + len < addr || addr + len > TASK_SIZE)
        return 0;
    /* The stub region is the guest's "kernel" half: not addressable by syscalls. */
    if (addr < STUB_REGION_END && addr + len > STUB_BASE)
        return 0;
    return 1;
}

int mem_read(pid_t pid, void *dst, uint64_t src, size_t len)
{
    uint8_t *d = dst;
    while (len > 0) {
        struct iovec l = { d, len }, r = { (void *)(uintptr_t)src, len };
        ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            return -EFAULT;
        d += n;
        src += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int mem_write(pid_t pid, uint64_t dst, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len > 0) {
        struct iovec l = { (void *)s, len }, r = { (void *)(uintptr_t)dst, len };
        ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            return -EFAULT;
        s += n;
        dst += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
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
        size_t chunk = (size_t)(4096 - (a & 4095));
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
    return t->proc->mm->stub->pid;
}

int copy_in(struct task *t, void *dst, uint64_t src, size_t len)
{
    if (!guest_range_ok(src, len))
        return -EFAULT;
    return mem_read(guest_pid(t), dst, src, len);
}

int copy_out(struct task *t, uint64_t dst, const void *src, size_t len)
{
    if (!guest_range_ok(dst, len))
        return -EFAULT;
    return mem_write(guest_pid(t), dst, src, len);
}

long strncpy_in(struct task *t, char *dst, uint64_t src, size_t max)
{
    if (src >= TASK_SIZE || (src >= STUB_BASE && src < STUB_REGION_END))
        return -EFAULT;
    uint64_t lim = TASK_SIZE - src;
    if (src < STUB_BASE && STUB_BASE - src < lim)
        lim = STUB_BASE - src;
    if (max > lim) {
        /* The string cannot run past the end of what the guest may name. */
        long n = mem_strncpy(guest_pid(t), dst, src, (size_t)lim);
        return n == -ENAMETOOLONG ? -EFAULT : n;
    }
    return mem_strncpy(guest_pid(t), dst, src, max);
}
