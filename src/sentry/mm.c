/* Address-space operations: mmap, munmap, mprotect, mremap, brk and the
 * loader's fixed mappings. The VMA set is updated only after the stub has
 * made the host mapping, so the two never disagree about what exists. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "fs/file.h"
#include "platform/layout.h"
#include "sentry/kernel.h"

#define MMAP_MIN_ADDR 0x10000ULL
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#define MREMAP_DONTUNMAP_ 4

static long host_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags)
{
    return stub_syscall6(t->ctx, SYS_mmap, addr, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1, 0);
}

static long host_munmap(struct task *t, uint64_t addr, uint64_t len)
{
    return stub_syscall6(t->ctx, SYS_munmap, addr, len, 0, 0, 0, 0);
}

/* A range the guest may not map over or change: the stub region. */
static int touches_stub(uint64_t start, uint64_t end)
{
    return start < STUB_REGION_END && end > STUB_BASE;
}

long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
    struct mm *mm = t->proc->mm;
    if (off & (GUEST_PAGE - 1))
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS)) {
        struct file *f = fd_get(t->proc->files, fd);
        if (!f)
            return -EBADF;
        /* File mappings come with the file system; a stream is not mappable. */
        int acc = f->flags & O_ACCMODE;
        int type = flags & MAP_TYPE;
        long err = -ENODEV;
        if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && (prot & PROT_WRITE) && acc == O_RDONLY)
            err = -EACCES;
        else if (acc == O_WRONLY)
            err = -EACCES;
        file_put(f);
        return err;
    }
    if (len == 0)
        return -EINVAL;
    uint64_t alen = PAGE_UP(len);
    if (alen == 0 || alen < len)
        return -ENOMEM;
    /* Anonymous mappings take only MAP_SHARED or MAP_PRIVATE (not
     * MAP_SHARED_VALIDATE), checked after the address is chosen in Linux;
     * no other error depends on the order here. */
    int type = flags & MAP_TYPE;
    if (type != MAP_SHARED && type != MAP_PRIVATE)
        return -EINVAL;

    pthread_mutex_lock(&mm->lock);
    long ret;
    uint64_t start;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        start = addr;
        ret = -EINVAL;
        if (start & (GUEST_PAGE - 1))
            goto out;
        ret = -ENOMEM;
        if (alen > TASK_SIZE || start > TASK_SIZE - alen)
            goto out;
        if (touches_stub(start, start + alen))
            goto out;
        if (!(flags & MAP_FIXED) && vma_overlaps(&mm->vmas, start, start + alen)) {
            ret = -EEXIST;
            goto out;
        }
    } else {
        start = 0;
        ret = -ENOMEM;
        if (alen > TASK_SIZE)
            goto out;
        uint64_t hint = PAGE_DOWN(addr);
        if (hint && hint >= MMAP_MIN_ADDR && hint <= TASK_SIZE - alen &&
            !touches_stub(hint, hint + alen) && !vma_overlaps(&mm->vmas, hint, hint + alen))
            start = hint;
        if (!start)
            start = vma_find_free(&mm->vmas, alen, MMAP_MIN_ADDR, mm->mmap_base);
        if (!start)
            start = vma_find_free(&mm->vmas, alen, mm->mmap_base, STUB_BASE);
        if (!start)
            goto out;
    }
    int hflags = (flags & (MAP_SHARED | MAP_PRIVATE | MAP_NORESERVE | MAP_POPULATE | MAP_LOCKED |
                           MAP_HUGETLB | (int)(0x3fU << 26))) |
                 MAP_ANONYMOUS | MAP_FIXED;
    ret = host_mmap(t, start, alen, prot, hflags);
    if (ret < 0)
        goto out;
    if ((uint64_t)ret != start) {
        ret = -ENOMEM;
        goto out;
    }
    vma_remove(&mm->vmas, start, start + alen);
    ret = vma_insert(&mm->vmas, start, start + alen, prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
                     flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN), VMA_ANON);
    if (ret == 0)
        ret = (long)start;
out:
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

long mm_map_fixed(struct task *t, uint64_t addr, uint64_t len, int prot, int kind)
{
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    long ret = host_mmap(t, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE);
    if (ret >= 0) {
        vma_remove(&mm->vmas, addr, addr + len);
        ret = vma_insert(&mm->vmas, addr, addr + len, prot, MAP_PRIVATE, kind);
    }
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

long mm_munmap(struct task *t, uint64_t addr, uint64_t len)
{
    struct mm *mm = t->proc->mm;
    if ((addr & (GUEST_PAGE - 1)) || addr > TASK_SIZE || len > TASK_SIZE - addr)
        return -EINVAL;
    len = PAGE_UP(len);
    if (len == 0)
        return -EINVAL;
    if (touches_stub(addr, addr + len))
        return -EINVAL;
    pthread_mutex_lock(&mm->lock);
    long ret = 0;
    if (vma_overlaps(&mm->vmas, addr, addr + len)) {
        ret = host_munmap(t, addr, len);
        if (ret == 0)
            ret = vma_remove(&mm->vmas, addr, addr + len);
    }
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot)
{
    struct mm *mm = t->proc->mm;
    if (addr & (GUEST_PAGE - 1))
        return -EINVAL;
    if (len == 0)
        return 0;
    uint64_t alen = PAGE_UP(len);
    uint64_t end = addr + alen;
    if (alen < len || end <= addr)
        return -ENOMEM;
    int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    int p = prot & ~grows;
    if (p & ~(PROT_READ | PROT_WRITE | PROT_EXEC | 0x8 /* PROT_SEM */))
        return -EINVAL;
    if (end > TASK_SIZE || touches_stub(addr, end))
        return -ENOMEM;
    pthread_mutex_lock(&mm->lock);
    long ret = -ENOMEM;
    if (vma_covers(&mm->vmas, addr, end)) {
        ret = stub_syscall6(t->ctx, SYS_mprotect, addr, alen, (uint64_t)p, 0, 0, 0);
        if (ret == 0)
            ret = vma_protect(&mm->vmas, addr, end, p & (PROT_READ | PROT_WRITE | PROT_EXEC));
    }
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

long mm_mremap(struct task *t, uint64_t old, uint64_t olen, uint64_t nlen, int flags, uint64_t naddr)
{
    struct mm *mm = t->proc->mm;
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP_))
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if ((flags & MREMAP_DONTUNMAP_) && (!(flags & MREMAP_MAYMOVE) || olen != nlen))
        return -EINVAL;
    if (old & (GUEST_PAGE - 1))
        return -EINVAL;
    uint64_t ao = PAGE_UP(olen), an = PAGE_UP(nlen);
    if (an == 0 || an < nlen || ao < olen)
        return -EINVAL;
    if (flags & MREMAP_DONTUNMAP_)
        return -EINVAL; /* not supported yet: needs page-table moves the VMA model does not track */
    pthread_mutex_lock(&mm->lock);
    long ret;
    long i = vma_find(&mm->vmas, old);
    struct vma v = i >= 0 ? mm->vmas.v[i] : (struct vma){ 0 };
    if (flags & MREMAP_FIXED) {
        ret = -EINVAL;
        if ((naddr & (GUEST_PAGE - 1)) || an > TASK_SIZE || naddr > TASK_SIZE - an)
            goto out;
        if (naddr < old + ao && old < naddr + an)
            goto out;
        ret = -ENOMEM;
        if (touches_stub(naddr, naddr + an))
            goto out;
        ret = -EFAULT;
        if (i < 0 || v.kind == VMA_STUB || ao > v.end - old || ao == 0)
            goto out;
        ret = stub_syscall6(t->ctx, SYS_mremap, old, ao, an, MREMAP_MAYMOVE | MREMAP_FIXED, naddr, 0);
        if (ret < 0)
            goto out;
        vma_remove(&mm->vmas, old, old + ao);
        vma_remove(&mm->vmas, naddr, naddr + an);
        vma_insert(&mm->vmas, naddr, naddr + an, v.prot, v.flags, v.kind);
        ret = (long)naddr;
        goto out;
    }
    if (ao >= an) {
        ret = -EFAULT;
        if (i < 0 || v.kind == VMA_STUB)
            goto out;
        ret = (long)old;
        if (ao > an) {
            long r = host_munmap(t, old + an, ao - an);
            if (r < 0) {
                ret = r;
                goto out;
            }
            vma_remove(&mm->vmas, old + an, old + ao);
        }
        goto out;
    }
    ret = -EFAULT;
    if (i < 0 || v.kind == VMA_STUB || v.kind == VMA_VDSO || v.kind == VMA_VVAR || ao > v.end - old || ao == 0)
        goto out;
    uint64_t grow_end = old + an;
    if (grow_end > old && grow_end <= TASK_SIZE && !touches_stub(old, grow_end) &&
        !vma_overlaps(&mm->vmas, old + ao, grow_end)) {
        ret = stub_syscall6(t->ctx, SYS_mremap, old, ao, an, 0, 0, 0);
        if (ret >= 0) {
            vma_remove(&mm->vmas, old, old + ao);
            vma_insert(&mm->vmas, old, grow_end, v.prot, v.flags, v.kind);
            ret = (long)old;
        }
        goto out;
    }
    ret = -ENOMEM;
    if (!(flags & MREMAP_MAYMOVE))
        goto out;
    uint64_t dst = vma_find_free(&mm->vmas, an, MMAP_MIN_ADDR, mm->mmap_base);
    if (!dst)
        goto out;
    ret = stub_syscall6(t->ctx, SYS_mremap, old, ao, an, MREMAP_MAYMOVE | MREMAP_FIXED, dst, 0);
    if (ret < 0)
        goto out;
    vma_remove(&mm->vmas, old, old + ao);
    vma_insert(&mm->vmas, dst, dst + an, v.prot, v.flags, v.kind);
    ret = (long)dst;
out:
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

long mm_brk(struct task *t, uint64_t addr)
{
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    uint64_t cur = mm->brk;
    if (addr < mm->brk_start || addr > TASK_SIZE)
        goto out;
    uint64_t limit = t->proc->rlim[RLIMIT_DATA].cur;
    if (limit != ~0ULL && addr - mm->brk_start > limit)
        goto out;
    uint64_t oldp = PAGE_UP(mm->brk), newp = PAGE_UP(addr);
    if (newp < oldp) {
        if (host_munmap(t, newp, oldp - newp) < 0)
            goto out;
        vma_remove(&mm->vmas, newp, oldp);
    } else if (newp > oldp) {
        /* Keep a guard page between the heap and the next mapping, as Linux does. */
        if (touches_stub(oldp, newp + GUEST_PAGE) || vma_overlaps(&mm->vmas, oldp, newp + GUEST_PAGE))
            goto out;
        long r = host_mmap(t, oldp, newp - oldp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
        if (r < 0)
            goto out;
        vma_insert(&mm->vmas, oldp, newp, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_HEAP);
    }
    mm->brk = addr;
    cur = addr;
out:
    pthread_mutex_unlock(&mm->lock);
    return (long)cur;
}

int mm_adopt_stub(struct task *t)
{
    struct mm *mm = t->proc->mm;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", mm->stub->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    struct { uint64_t s, e; } drop[16];
    int ndrop = 0;
    char line[512];
    vma_insert(&mm->vmas, STUB_BASE, STUB_REGION_END, PROT_NONE, MAP_PRIVATE, VMA_STUB);
    while (fgets(line, sizeof(line), f)) {
        unsigned long long s, e;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3)
            continue;
        if (s >= STUB_BASE && e <= STUB_REGION_END)
            continue;
        int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                   (perms[2] == 'x' ? PROT_EXEC : 0);
        if (strstr(line, "[vdso]")) {
            vma_insert(&mm->vmas, s, e, prot, MAP_PRIVATE, VMA_VDSO);
            mm->vdso = s;
        } else if (strstr(line, "[vvar")) {
            vma_insert(&mm->vmas, s, e, prot, MAP_PRIVATE, VMA_VVAR);
        } else if (strstr(line, "[vsyscall]")) {
            continue; /* above TASK_SIZE; not ours to manage */
        } else if (ndrop < 16) {
            drop[ndrop].s = s;
            drop[ndrop].e = e;
            ndrop++;
        }
    }
    fclose(f);
    for (int i = 0; i < ndrop; i++) {
        long r = host_munmap(t, drop[i].s, drop[i].e - drop[i].s);
        if (r < 0)
            return (int)r;
    }
    return 0;
}
