/* Memory syscalls: brk, mmap, munmap, mprotect, mremap, msync, madvise;
 * personality, whose one meaningful flag is about the address space. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fs/file.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

long sys_brk(struct task *t, const struct sysargs *a)
{
    uint64_t addr = a->a[0];
    return mm_brk(t, addr);
}

long sys_mmap(struct task *t, const struct sysargs *a)
{
    uint64_t addr = a->a[0];
    uint64_t length = a->a[1];
    int prot = (int)a->a[2];
    int flags = (int)a->a[3];
    int fd = (int)a->a[4];
    uint64_t offset = a->a[5];
    return mm_mmap(t, addr, length, prot, flags, fd, offset);
}

long sys_munmap(struct task *t, const struct sysargs *a)
{
    uint64_t addr = a->a[0];
    uint64_t length = a->a[1];
    return mm_munmap(t, addr, length);
}

long sys_mprotect(struct task *t, const struct sysargs *a)
{
    uint64_t addr = a->a[0];
    uint64_t len = a->a[1];
    int prot = (int)a->a[2];
    return mm_mprotect(t, addr, len, prot);
}

long sys_mremap(struct task *t, const struct sysargs *a)
{
    uint64_t old_address = a->a[0];
    uint64_t old_size = a->a[1];
    uint64_t new_size = a->a[2];
    int flags = (int)a->a[3];
    uint64_t new_address = a->a[4];
    return mm_mremap(t, old_address, old_size, new_size, flags, new_address);
}

/* As Linux's msync: MS_ASYNC does nothing (dirty pages of a shared
 * mapping are already in the file's page cache), MS_SYNC is an fsync of
 * each shared file mapping in the range (vfs_fsync_range, datasync), done
 * by the sentry on the file it holds: the host mapping and the sentry's
 * descriptor share the host page cache. Unmapped gaps give ENOMEM. */
long sys_msync(struct task *t, const struct sysargs *a)
{
    uint64_t start = a->a[0], len = a->a[1];
    int flags = (int)a->a[2];
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
        return -EINVAL;
    if (start & (GUEST_PAGE - 1))
        return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC))
        return -EINVAL;
    uint64_t end = start + PAGE_UP(len);
    if (PAGE_UP(len) < len || end < start)
        return -ENOMEM;
    if (end == start)
        return 0;
    struct mm *mm = t->proc->mm;
    long unmapped = 0;
    for (;;) {
        struct file *f = NULL;
        pthread_mutex_lock(&mm->lock);
        const struct vma_set *s = &mm->vmas;
        long i = vma_find_above(s, start);
        /* The stub region is not the guest's: as if unmapped. */
        if (i < 0 || s->v[i].kind == VMA_STUB || s->v[i].start >= end) {
            pthread_mutex_unlock(&mm->lock);
            return -ENOMEM;
        }
        const struct vma *v = &s->v[i];
        if (start < v->start) {
            if (flags == MS_ASYNC) {
                pthread_mutex_unlock(&mm->lock);
                return -ENOMEM;
            }
            start = v->start;
            unmapped = -ENOMEM;
        }
        if ((flags & MS_SYNC) && v->file && (v->flags & MAP_SHARED)) {
            f = v->file;
            file_get(f);
        }
        start = v->end;
        pthread_mutex_unlock(&mm->lock);
        if (f) {
            long r = f->ops->fsync ? f->ops->fsync(f, 1) : 0;
            file_put(f);
            if (r < 0)
                return r;
        }
        if (start >= end)
            return unmapped;
    }
}

long sys_madvise(struct task *t, const struct sysargs *a)
{
    uint64_t start = a->a[0], len = a->a[1];
    int advice = (int)a->a[2];
    /* Advice that only concerns the guest's own pages goes to the stub;
     * hardware-poisoning advice would reach host pages and is refused. */
    if (advice == 100 || advice == 101)
        return -EPERM;
    if (!((advice >= 0 && advice <= 4) || (advice >= 8 && advice <= 25)))
        return -EINVAL;
    if (start & (GUEST_PAGE - 1))
        return -EINVAL;
    uint64_t alen = PAGE_UP(len);
    if (alen < len || start + alen < start)
        return -EINVAL;
    if (alen == 0)
        return 0;
    return mm_madvise(t, start, alen, advice);
}

/* personality(2), as Linux since execution domains went away: any value is
 * taken as it is (only ADDR_NO_RANDOMIZE changes anything here, at the next
 * execve: the loader reads it), 0xffffffff only asks; the old value is
 * returned. The argument is an unsigned int: higher bits are ignored. */
long sys_personality(struct task *t, const struct sysargs *a)
{
    uint32_t want = (uint32_t)a->a[0];
    uint32_t *p = &t->proc->personality;
    if (want == 0xffffffffU)
        return (long)__atomic_load_n(p, __ATOMIC_RELAXED);
    return (long)__atomic_exchange_n(p, want, __ATOMIC_RELAXED);
}
