/* Memory syscalls: brk, mmap, munmap, mprotect, mremap, msync, madvise,
 * mincore, mlock, mlock2, munlock, mlockall, munlockall; personality,
 * whose one meaningful flag is about the address space. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fs/file/file.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

SYSCALL_DEFINE1(brk, uint64_t, addr)
{
    return mm_brk(t, addr);
}

SYSCALL_DEFINE6(mmap, uint64_t, addr, uint64_t, length, int, prot, int, flags, int, fd, uint64_t,
                offset)
{
    return mm_mmap(t, addr, length, prot, flags, fd, offset);
}

SYSCALL_DEFINE2(munmap, uint64_t, addr, uint64_t, length)
{
    return mm_munmap(t, addr, length);
}

SYSCALL_DEFINE3(mprotect, uint64_t, addr, uint64_t, len, int, prot)
{
    return mm_mprotect(t, addr, len, prot);
}

SYSCALL_DEFINE5(mremap, uint64_t, old_address, uint64_t, old_size, uint64_t, new_size, int, flags,
                uint64_t, new_address)
{
    return mm_mremap(t, old_address, old_size, new_size, flags, new_address);
}

/* As Linux's msync: MS_ASYNC does nothing (dirty pages of a shared
 * mapping are already in the file's page cache), MS_SYNC is an fsync of
 * each shared file mapping in the range (vfs_fsync_range, datasync), done
 * by the sentry on the file it holds: the host mapping and the sentry's
 * descriptor share the host page cache. Unmapped gaps give ENOMEM. */
SYSCALL_DEFINE3(msync, uint64_t, start, uint64_t, len, int, flags)
{
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

SYSCALL_DEFINE3(madvise, uint64_t, start, uint64_t, len, int, advice)
{
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

/* mincore asks the host: the stub runs mincore on its own pages, which are
 * the guest's, into the scratch space of the thread's sysmsg page (up to
 * its size a call), and the sentry copies the bytes out. So residency is
 * the host's own answer, including a file's pages that are in the host's
 * page cache but not yet mapped. Linux's checks come first: an unaligned
 * start is EINVAL, a range beyond the user space ENOMEM, a vector beyond
 * it EFAULT; then each run of pages in one mapping is filled in turn and
 * an unmapped page (or the stub region) ends the call with ENOMEM, the
 * bytes before it written, as do_mincore does. */
SYSCALL_DEFINE3(mincore, uint64_t, start, uint64_t, len, uint64_t, vec)
{
    if (start & (GUEST_PAGE - 1))
        return -EINVAL;
    if (!guest_range_ok(start, len))
        return -ENOMEM;
    uint64_t pages = len / GUEST_PAGE + ((len & (GUEST_PAGE - 1)) != 0);
    if (!guest_range_ok(vec, pages))
        return -EFAULT;
    return mm_mincore(t, start, pages, vec);
}

/* Memory locks live in the sentry's VMA model only (vma.locked): they
 * show in VmLck, count against RLIMIT_MEMLOCK exactly as Linux counts
 * them (CAP_IPC_LOCK in the guest's effective set lifts the limit), pass
 * to new mappings under mlockall(MCL_FUTURE), and make the stub fault the
 * pages in as Linux's mlock does. The host is never asked to lock: the
 * stub has no capabilities, so the host's RLIMIT_MEMLOCK (often 8 MiB)
 * would refuse what a root guest may lock, and a sandbox should not pin
 * host memory on a guest's say. So the guest's locked pages are resident
 * when the call returns but the host may still reclaim or swap them. */

/* apply_vma_lock_flags: set the lock flags on [start, end), which must be
 * mapped from start; on a gap the pages before it keep their new flags
 * and the call fails with ENOMEM. mm locked. */
static long apply_lock(struct vma_set *s, uint64_t start, uint64_t end, int locked)
{
    if (end < start)
        return -EINVAL;
    if (end == start)
        return 0;
    long i = vma_find(s, start);
    if (i < 0 || s->v[i].kind == VMA_STUB)
        return -ENOMEM;
    uint64_t at = start;
    for (size_t j = (size_t)i; j < s->n && at < end; j++) {
        if ((j > (size_t)i && s->v[j].start != at) || s->v[j].kind == VMA_STUB)
            break;
        at = s->v[j].end < end ? s->v[j].end : end;
    }
    long r = vma_set_locked(s, start, at, locked);
    if (r < 0)
        return r;
    return at < end ? -ENOMEM : 0;
}

static long do_mlock(struct task *t, uint64_t start, uint64_t len, int locked)
{
    if (!mm_can_mlock(t))
        return -EPERM;
    /* Linux's arithmetic, wrap-arounds included. */
    len = PAGE_UP(len + (start & (GUEST_PAGE - 1)));
    start = PAGE_DOWN(start);
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    /* Pages of the range already locked do not count twice. */
    uint64_t again = vma_locked_bytes(&mm->vmas, start, start + len);
    long r = -ENOMEM;
    if (mm_may_lock_more(t, len - (again < len ? again : len)))
        r = apply_lock(&mm->vmas, start, start + len, locked);
    if (r == 0)
        r = mm_populate_locked(t, start, start + len, 0);
    pthread_mutex_unlock(&mm->lock);
    return r;
}

SYSCALL_DEFINE2(mlock, uint64_t, addr, uint64_t, len)
{
    return do_mlock(t, addr, len, VMA_LOCKED);
}

#define MLOCK_ONFAULT_ 1
#define MCL_ONFAULT_ 4

SYSCALL_DEFINE3(mlock2, uint64_t, addr, uint64_t, len, unsigned, flags)
{
    if (flags & ~(unsigned)MLOCK_ONFAULT_)
        return -EINVAL;
    return do_mlock(t, addr, len, VMA_LOCKED | (flags & MLOCK_ONFAULT_ ? VMA_LOCKONFAULT : 0));
}

SYSCALL_DEFINE2(munlock, uint64_t, start, uint64_t, len)
{
    len = PAGE_UP(len + (start & (GUEST_PAGE - 1)));
    start = PAGE_DOWN(start);
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    long r = apply_lock(&mm->vmas, start, start + len, 0);
    pthread_mutex_unlock(&mm->lock);
    return r;
}

/* apply_mlockall_flags: MCL_FUTURE sets the flags of new mappings (with
 * MCL_ONFAULT, lock on fault), MCL_CURRENT those of every mapping; mm locked. */
static long apply_mlockall(struct task *t, int flags)
{
    struct mm *mm = t->proc->mm;
    int onfault = flags & MCL_ONFAULT_ ? VMA_LOCKONFAULT : 0;
    mm->def_locked = flags & MCL_FUTURE ? VMA_LOCKED | onfault : 0;
    if ((flags & MCL_FUTURE) && !(flags & MCL_CURRENT))
        return 0;
    return vma_set_locked(&mm->vmas, 0, UINT64_MAX, flags & MCL_CURRENT ? VMA_LOCKED | onfault : 0);
}

SYSCALL_DEFINE1(mlockall, int, flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT_)) || flags == MCL_ONFAULT_)
        return -EINVAL;
    if (!mm_can_mlock(t))
        return -EPERM;
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    /* Linux weighs the whole address space (total_vm) against the limit. */
    long r = -ENOMEM;
    uint64_t total = vma_mapped_bytes(&mm->vmas, 0, UINT64_MAX) / GUEST_PAGE;
    if (!(flags & MCL_CURRENT) || mm_cap_ipc_lock(t) ||
        total <= t->proc->rlim[RLIMIT_MEMLOCK].cur / GUEST_PAGE)
        r = apply_mlockall(t, flags);
    if (r == 0 && (flags & MCL_CURRENT))
        mm_populate_locked(t, 0, UINT64_MAX, 1);
    pthread_mutex_unlock(&mm->lock);
    return r;
}

SYSCALL_DEFINE0(munlockall)
{
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    long r = apply_mlockall(t, 0);
    pthread_mutex_unlock(&mm->lock);
    return r;
}

/* personality(2), as Linux since execution domains went away: any value is
 * taken as it is (only ADDR_NO_RANDOMIZE changes anything here, at the next
 * execve: the loader reads it), 0xffffffff only asks; the old value is
 * returned. The argument is an unsigned int: higher bits are ignored. */
SYSCALL_DEFINE1(personality, uint32_t, want)
{
    uint32_t *p = &t->proc->personality;
    if (want == 0xffffffffU)
        return (long)__atomic_load_n(p, __ATOMIC_RELAXED);
    return (long)__atomic_exchange_n(p, want, __ATOMIC_RELAXED);
}
