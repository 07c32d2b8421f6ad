/* Address-space operations: mmap, munmap, mprotect, mremap, brk and the
 * loader's fixed mappings. The VMA set is updated only after the stub has
 * made the host mapping, so the two never disagree about what exists. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/file/devices.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/vfs/vfs.h"
#include "platform/layout.h"
#include "platform/platform.h"
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
    return stub_syscall6(t->ctx, SYS_mmap, addr, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1,
                         0);
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

int mm_cap_ipc_lock(struct task *t)
{
    return creds_capable(t->cred, GCAP_IPC_LOCK);
}

int mm_can_mlock(struct task *t)
{
    return t->proc->rlim[RLIMIT_MEMLOCK].cur != 0 || mm_cap_ipc_lock(t);
}

/* Linux compares page counts: total_vm + npages > rlimit >> PAGE_SHIFT. */
int mm_may_expand(struct task *t, uint64_t add)
{
    uint64_t limit = t->proc->rlim[RLIMIT_AS].cur / GUEST_PAGE;
    uint64_t total = vma_mapped_bytes(&t->proc->mm->vmas, 0, UINT64_MAX) / GUEST_PAGE;
    return total + add / GUEST_PAGE <= limit && total + add / GUEST_PAGE >= total;
}

int mm_may_lock_more(struct task *t, uint64_t add)
{
    if (mm_cap_ipc_lock(t))
        return 1;
    uint64_t limit = t->proc->rlim[RLIMIT_MEMLOCK].cur / GUEST_PAGE;
    uint64_t locked = vma_locked_bytes(&t->proc->mm->vmas, 0, UINT64_MAX) / GUEST_PAGE;
    return locked + add / GUEST_PAGE <= limit && locked + add / GUEST_PAGE >= locked;
}

/* The host faults the pages in (MADV_POPULATE_WRITE where a write fault is
 * what Linux's populate_vma_page_range uses: private writable mappings, to
 * break copy-on-write; MADV_POPULATE_READ otherwise). Linux's populate
 * forces its way into pages it may not read and fails only on PROT_NONE
 * (EFAULT, mlock's ENOMEM); the host's MADV_POPULATE_READ refuses pages
 * it cannot read (execute-only, write-only shared): those are left to
 * fault when touched. */
long mm_populate_locked(struct task *t, uint64_t start, uint64_t end, int ignore_errors)
{
    struct vma_set *s = &t->proc->mm->vmas;
    long at = vma_find_above(s, start);
    for (size_t i = at < 0 ? s->n : (size_t)at; i < s->n && s->v[i].start < end; i++) {
        const struct vma *v = &s->v[i];
        if ((v->locked & (VMA_LOCKED | VMA_LOCKONFAULT)) != VMA_LOCKED || v->kind == VMA_STUB ||
            v->kind == VMA_VDSO || v->kind == VMA_VVAR)
            continue;
        uint64_t a = v->start > start ? v->start : start, b = v->end < end ? v->end : end;
        long r;
        if (v->prot == PROT_NONE)
            r = -EFAULT;
        else if (!(v->prot & PROT_READ) && !((v->prot & PROT_WRITE) && !(v->flags & MAP_SHARED)))
            r = 0;
        else {
            int adv = (v->prot & PROT_WRITE) && !(v->flags & MAP_SHARED) ? MADV_POPULATE_WRITE
                                                                         : MADV_POPULATE_READ;
            r = stub_syscall6(t->ctx, SYS_madvise, a, b - a, (uint64_t)adv, 0, 0, 0);
        }
        if (r < 0 && !ignore_errors) /* __mlock_posix_error_return */
            return r == -EFAULT ? -ENOMEM : r == -ENOMEM ? -EAGAIN : r;
    }
    return 0;
}

/* MAP_32BIT: Linux's find_start_end gives [1 GiB, 2 GiB), the start moved
 * up by a random number of pages below 32 MiB when randomising, and
 * arch_get_unmapped_area searches bottom-up from there. */
#define MAP32_BEGIN 0x40000000ULL
#define MAP32_END 0x80000000ULL
#define MAP32_RND 0x02000000ULL

static uint64_t map32_begin(const struct mm *mm)
{
    uint64_t r = 0;
    if (mm->randomize && getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = 0;
    return MAP32_BEGIN + (r % (MAP32_RND / GUEST_PAGE)) * GUEST_PAGE;
}

/* The flags a MAP_SHARED_VALIDATE mapping may carry, as Linux's
 * LEGACY_MAP_MASK (checked on Linux 6.18): the type, MAP_FIXED,
 * MAP_ANONYMOUS, MAP_32BIT, MAP_ABOVE4G, MAP_GROWSDOWN, MAP_DENYWRITE,
 * MAP_EXECUTABLE, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK,
 * MAP_STACK, MAP_HUGETLB, MAP_UNINITIALIZED and the MAP_HUGE_ size bits.
 * Not MAP_FIXED_NOREPLACE, which Linux refuses there too. */
#define LEGACY_MAP_MASK 0x7c07f9f3

/* A host descriptor for the stub to map f with: the stub's copy can be
 * taken by a guest thread that calls recvmsg from stub text, so it must not
 * allow more than f does. A tmpfs file's memfd is read-write even when the
 * guest opened the file read-only: then pass a read-only reopening of it,
 * which *tmp holds for the caller to close. */
static int mmap_host_fd(struct file *f, int hfd, int *tmp)
{
    *tmp = -1;
    if ((f->flags & O_ACCMODE) != O_RDONLY)
        return hfd;
    int fl = fcntl(hfd, F_GETFL);
    if (fl < 0)
        return -errno;
    if ((fl & O_ACCMODE) == O_RDONLY)
        return hfd;
    int fd = host_reopen(hfd, O_RDONLY);
    if (fd < 0)
        return fd;
    *tmp = fd;
    return fd;
}

/* Linux's file_mmap_ok: off + len must stay within the largest offset of
 * the file (LLONG_MAX for regular files, ULONG_MAX for devices). */
static int file_mmap_ok(const struct file *f, uint64_t off, uint64_t alen)
{
    uint64_t max = f->inode && S_ISREG(f->inode->mode) ? (uint64_t)INT64_MAX : UINT64_MAX;
    return alen <= max && off / GUEST_PAGE <= (max - alen) / GUEST_PAGE;
}

/* The checks do_mmap makes of a file mapping once the range is chosen, in
 * its order; fills in what the VMA records. *zero is set for /dev/zero,
 * whose mappings are anonymous memory. */
static long file_mmap_check(struct file *f, uint64_t off, uint64_t alen, int prot, int flags,
                            struct vma *nv, int *zero)
{
    int acc = f->flags & O_ACCMODE;
    int may_read = acc == O_RDONLY || acc == O_RDWR, may_write = acc == O_WRONLY || acc == O_RDWR;
    *zero = dev_is_zero(f);
    if (!file_mmap_ok(f, off, alen))
        return -EOVERFLOW;
    switch (flags & MAP_TYPE) {
    case MAP_SHARED:
        flags &= LEGACY_MAP_MASK; /* plain MAP_SHARED ignores unknown flags */
        /* fall through */
    case MAP_SHARED_VALIDATE:
        if (flags & ~LEGACY_MAP_MASK)
            return -EOPNOTSUPP;
        if ((prot & PROT_WRITE) && !may_write)
            return -EACCES;
        /* A memfd sealed against writes refuses writable shared maps. */
        if (f->inode && (f->inode->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
            if (prot & PROT_WRITE)
                return -EPERM;
            nv->noprot |= PROT_WRITE;
        }
        if (!may_write)
            nv->noprot |= PROT_WRITE;
        nv->flags = MAP_SHARED;
        /* fall through */
    case MAP_PRIVATE:
        if (!may_read)
            return -EACCES;
        if (f->mnt && (f->mnt->flags & MNT_NOEXEC)) {
            if (prot & PROT_EXEC)
                return -EPERM;
            nv->noprot |= PROT_EXEC;
        }
        if (!f->ops->mmap_fd && !*zero)
            return -ENODEV; /* pipes, directories, most devices */
        if (flags & MAP_GROWSDOWN)
            return -EINVAL;
        return 0;
    default:
        return -EINVAL;
    }
}

/* Where a mapping of alen bytes goes (mm->lock held): at addr for
 * MAP_FIXED and MAP_FIXED_NOREPLACE, else at the hint if it is free, else
 * top-down below mmap_base, then anywhere above it. 0 or -errno. */
static long mmap_range(struct mm *mm, uint64_t addr, uint64_t alen, int flags, uint64_t *out)
{
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (addr & (GUEST_PAGE - 1))
            return -EINVAL;
        if (alen > TASK_SIZE || addr > TASK_SIZE - alen || touches_stub(addr, addr + alen))
            return -ENOMEM;
        /* With or without MAP_FIXED, as Linux adds MAP_FIXED to it. */
        if ((flags & MAP_FIXED_NOREPLACE) && vma_overlaps(&mm->vmas, addr, addr + alen))
            return -EEXIST;
        *out = addr;
        return 0;
    }
    if (alen > TASK_SIZE)
        return -ENOMEM;
    /* round_hint_to_min: a hint below mmap_min_addr asks for it. */
    uint64_t start = 0, hint = PAGE_DOWN(addr);
    if (hint && hint < MMAP_MIN_ADDR)
        hint = MMAP_MIN_ADDR;
    uint64_t hint_end = flags & MAP_32BIT ? MAP32_END : TASK_SIZE;
    if (hint && alen <= hint_end && hint <= hint_end - alen && !touches_stub(hint, hint + alen) &&
        !vma_overlaps(&mm->vmas, hint, hint + alen))
        start = hint;
    if (!start && (flags & MAP_32BIT)) {
        start = vma_find_free_low(&mm->vmas, alen, map32_begin(mm), MAP32_END);
        if (!start)
            return -ENOMEM;
    }
    if (!start)
        start = vma_find_free(&mm->vmas, alen, MMAP_MIN_ADDR, mm->mmap_base);
    /* Then anywhere above it, as Linux falls back to a bottom-up search;
     * the stub region and the vDSO are VMAs, so skipped. */
    if (!start)
        start = vma_find_free(&mm->vmas, alen, mm->mmap_base, TASK_SIZE);
    if (!start)
        return -ENOMEM;
    *out = start;
    return 0;
}

/* Have the stub map [start, start + alen) with prot: f's host descriptor
 * (a read-only one when f is read-only) at off, or with f NULL anonymous
 * memory; hflags are the type and the flags passed on, flags the call's
 * (MAP_HUGETLB and its size bits go to anonymous mappings). The address
 * mapped, or -errno. */
static long stub_mmap(struct task *t, struct file *f, uint64_t start, uint64_t alen, int prot,
                      int hflags, int flags, uint64_t off)
{
    if (!f)
        return host_mmap(t, start, alen, prot,
                         hflags | (flags & (MAP_HUGETLB | (int)(0x3fU << 26))) | MAP_ANONYMOUS |
                             MAP_FIXED);
    int hfd = f->ops->mmap_fd(f);
    int tmp = -1;
    if (hfd >= 0)
        hfd = mmap_host_fd(f, hfd, &tmp);
    long ret = hfd;
    if (hfd >= 0)
        ret = stub_map_fd(t->ctx, hfd, start, alen, prot, hflags | MAP_FIXED, off);
    if (tmp >= 0)
        close(tmp);
    return ret;
}

static long do_mmap(struct task *t, struct file *f, uint64_t addr, uint64_t len, int prot,
                    int flags, uint64_t off);

long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
    if (off & (GUEST_PAGE - 1))
        return -EINVAL;
    struct file *f = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        f = fget(t, fd);
        if (!f)
            return -EBADF;
        if (flags & MAP_HUGETLB) { /* only hugetlbfs files take it */
            file_put(f);
            return -EINVAL;
        }
    }
    long ret = do_mmap(t, f, addr, len, prot, flags, off);
    if (f)
        file_put(f);
    return ret;
}

long mm_mmap_file(struct task *t, struct file *f, uint64_t addr, uint64_t len, int prot, int flags,
                  uint64_t off)
{
    if (off & (GUEST_PAGE - 1))
        return -EINVAL;
    return do_mmap(t, f, addr, len, prot, flags & ~MAP_ANONYMOUS, off);
}

/* mmap of f (NULL: anonymous memory) once the descriptor is resolved;
 * off is page-aligned. The VMA takes a reference of its own to f. */
static long do_mmap(struct task *t, struct file *f, uint64_t addr, uint64_t len, int prot,
                    int flags, uint64_t off)
{
    struct mm *mm = t->proc->mm;
    long ret = -EINVAL;
    uint64_t alen = PAGE_UP(len);
    if (len == 0)
        return ret;
    ret = -ENOMEM;
    if (alen == 0 || alen < len)
        return ret;

    pthread_mutex_lock(&mm->lock);
    uint64_t start;
    ret = mmap_range(mm, addr, alen, flags, &start);
    if (ret < 0)
        goto out;

    /* The mapping type is checked once the range is chosen, as in Linux. */
    int type = flags & MAP_TYPE;
    struct vma nv = { .start = start,
                      .end = start + alen,
                      .prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
                      .flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN),
                      .kind = VMA_ANON };
    /* Linux's can_do_mlock and mlock_future_ok come before the file's checks. */
    nv.locked = mm->def_locked | (flags & MAP_LOCKED ? VMA_LOCKED : 0);
    ret = -EPERM;
    if ((flags & MAP_LOCKED) && !mm_can_mlock(t))
        goto out;
    ret = -EAGAIN;
    if (nv.locked && !mm_may_lock_more(t, alen))
        goto out;
    int zero = 0;
    if (f) {
        ret = file_mmap_check(f, off, alen, prot, flags, &nv, &zero);
        if (ret < 0)
            goto out;
        type = nv.flags & MAP_SHARED ? MAP_SHARED : MAP_PRIVATE;
        nv.flags = type;
    } else if (type != MAP_SHARED && type != MAP_PRIVATE) {
        ret = -EINVAL;
        goto out;
    }
    /* RLIMIT_AS, as mmap_region checks it: pages already mapped in the
     * range (replaced by MAP_FIXED) do not count. */
    ret = -ENOMEM;
    if (!mm_may_expand(t, alen - vma_mapped_bytes(&mm->vmas, start, start + alen)))
        goto out;
    /* The host is asked to fault a locked mapping in (as Linux's populate
     * of a VM_LOCKED mapping), not to lock it: see sys_mlock. */
    int keep = MAP_NORESERVE | MAP_POPULATE;
    if ((nv.locked & (VMA_LOCKED | VMA_LOCKONFAULT)) == VMA_LOCKED)
        flags |= MAP_POPULATE;
    else if (nv.locked)
        flags &= ~MAP_POPULATE;
    if (f && !(zero && type == MAP_SHARED)) {
        /* A private /dev/zero mapping is anonymous memory but shows the
         * file in /proc/PID/maps, as in Linux; a shared one is plain
         * shared anonymous memory. */
        nv.kind = VMA_FILE;
        nv.file = f;
        nv.off = off;
        struct stat st;
        if (f->inode && vfs_getattr(f->inode, &st) == 0) {
            nv.dev = st.st_dev;
            nv.ino = st.st_ino;
        }
    }
    /* Shared anonymous memory gets an identity of its own (shared futex keys). */
    if (type == MAP_SHARED && nv.kind == VMA_ANON) {
        static uint64_t shm_next_id;
        nv.shm_id = __atomic_add_fetch(&shm_next_id, 1, __ATOMIC_RELAXED);
    }
    /* Linux's mmap ignores unknown protection bits; the host is asked for
     * the known ones only (the stub's filter refuses any other). */
    prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
    ret = stub_mmap(t, f && !zero ? f : NULL, start, alen, prot, type | (flags & keep), flags, off);
    if (ret < 0)
        goto out;
    if ((uint64_t)ret != start) {
        ret = -ENOMEM;
        goto out;
    }
    vma_remove(&mm->vmas, start, start + alen);
    ret = vma_insert_vma(&mm->vmas, &nv);
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
    long ret =
        host_mmap(t, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE);
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
        /* Write access to a shared mapping of a file not open for writing,
         * or exec on a noexec mount, was given up at mmap (VM_MAY*). */
        ret = 0;
        for (long i = vma_find(&mm->vmas, addr);
             i >= 0 && (size_t)i < mm->vmas.n && mm->vmas.v[i].start < end; i++)
            if (p & mm->vmas.v[i].noprot)
                ret = -EACCES;
        if (ret == 0)
            ret = stub_syscall6(t->ctx, SYS_mprotect, addr, alen, (uint64_t)p, 0, 0, 0);
        if (ret == 0)
            ret = vma_protect(&mm->vmas, addr, end, p & (PROT_READ | PROT_WRITE | PROT_EXEC));
    }
    pthread_mutex_unlock(&mm->lock);
    return ret;
}

/* Record that the range v described (from its old start) now lies at
 * [at, at + len); mremap keeps the mapping's file and offset. */
static void vma_move(struct vma_set *s, const struct vma *v, uint64_t at, uint64_t len)
{
    struct vma nv = *v;
    nv.start = at;
    nv.end = at + len;
    vma_insert_vma(s, &nv);
}

/* What Linux's mremap checks before growing a mapping by add bytes, of
 * which freed are mapped now and unmapped first (a MREMAP_FIXED target):
 * a locked mapping's growth against RLIMIT_MEMLOCK, then RLIMIT_AS. */
static long mremap_may_grow(struct task *t, const struct vma *v, uint64_t add, uint64_t freed)
{
    if ((v->locked & VMA_LOCKED) && !mm_may_lock_more(t, add))
        return -EAGAIN;
    if (add > freed && !mm_may_expand(t, add - freed))
        return -ENOMEM;
    return 0;
}

/* A locked mapping's new pages are faulted in, as Linux's mremap does. */
static void mremap_populate(struct task *t, const struct vma *v, uint64_t at, uint64_t ao,
                            uint64_t an)
{
    if (an > ao && (v->locked & VMA_LOCKED))
        mm_populate_locked(t, at + ao, at + an, 1);
}

/* Moves or resizes [old, old + ao) to [dst, dst + an) on the host (in place
 * when dst is old), then the VMAs; v is what the range was. Under mm->lock. */
static long mremap_commit(struct task *t, struct mm *mm, struct vma *v, uint64_t old, uint64_t ao,
                          uint64_t an, uint64_t dst)
{
    int hflags = dst == old ? 0 : MREMAP_MAYMOVE | MREMAP_FIXED;
    long r = stub_syscall6(t->ctx, SYS_mremap, old, ao, an, hflags, dst == old ? 0 : dst, 0);
    if (r < 0)
        return r;
    vma_remove(&mm->vmas, old, old + ao);
    if (dst != old)
        vma_remove(&mm->vmas, dst, dst + an);
    vma_move(&mm->vmas, v, dst, an);
    mremap_populate(t, v, dst, ao, an);
    return (long)dst;
}

/* MREMAP_FIXED: to naddr, replacing what is there (Linux's mremap_to). */
static long mremap_to(struct task *t, struct mm *mm, struct vma *v, uint64_t old, uint64_t ao,
                      uint64_t an, uint64_t naddr)
{
    if ((naddr & (GUEST_PAGE - 1)) || an > TASK_SIZE || naddr > TASK_SIZE - an)
        return -EINVAL;
    if (naddr < old + ao && old < naddr + an)
        return -EINVAL;
    if (touches_stub(naddr, naddr + an))
        return -ENOMEM;
    if (!v->end || v->kind == VMA_STUB || ao > v->end - old || ao == 0)
        return -EFAULT;
    if (an > ao) {
        long r = mremap_may_grow(t, v, an - ao, vma_mapped_bytes(&mm->vmas, naddr, naddr + an));
        if (r < 0)
            return r;
    }
    return mremap_commit(t, mm, v, old, ao, an, naddr);
}

/* Not larger: the tail goes. */
static long mremap_shrink(struct task *t, struct mm *mm, const struct vma *v, uint64_t old,
                          uint64_t ao, uint64_t an)
{
    if (!v->end || v->kind == VMA_STUB)
        return -EFAULT;
    if (ao > an) {
        long r = host_munmap(t, old + an, ao - an);
        if (r < 0)
            return r;
        vma_remove(&mm->vmas, old + an, old + ao);
    }
    return (long)old;
}

/* Larger: in place when the pages after it are free, else (MREMAP_MAYMOVE)
 * to a free range. */
static long mremap_grow(struct task *t, struct mm *mm, struct vma *v, uint64_t old, uint64_t ao,
                        uint64_t an, int flags)
{
    if (!v->end || v->kind == VMA_STUB || v->kind == VMA_VDSO || v->kind == VMA_VVAR ||
        ao > v->end - old || ao == 0)
        return -EFAULT;
    long r = mremap_may_grow(t, v, an - ao, 0);
    if (r < 0)
        return r;
    uint64_t grow_end = old + an;
    if (grow_end > old && grow_end <= TASK_SIZE && !touches_stub(old, grow_end) &&
        !vma_overlaps(&mm->vmas, old + ao, grow_end))
        return mremap_commit(t, mm, v, old, ao, an, old);
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    uint64_t dst = vma_find_free(&mm->vmas, an, MMAP_MIN_ADDR, mm->mmap_base);
    if (!dst)
        return -ENOMEM;
    return mremap_commit(t, mm, v, old, ao, an, dst);
}

long mm_mremap(struct task *t, uint64_t old, uint64_t olen, uint64_t nlen, int flags,
               uint64_t naddr)
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
    long i = vma_find(&mm->vmas, old);
    /* What the moved range was, from old on, with a file reference of its
     * own: removing the old range may drop the set's last one. No VMA there:
     * all zero (v.end 0). */
    struct vma v = i >= 0 ? mm->vmas.v[i] : (struct vma){ 0 };
    v.off += old - v.start;
    if (v.file)
        file_get(v.file);
    long ret;
    if (flags & MREMAP_FIXED)
        ret = mremap_to(t, mm, &v, old, ao, an, naddr);
    else if (ao >= an)
        ret = mremap_shrink(t, mm, &v, old, ao, an);
    else
        ret = mremap_grow(t, mm, &v, old, ao, an, flags);
    if (v.file)
        file_put(v.file);
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
        /* check_brk_limits: mlock_future_ok under mlockall(MCL_FUTURE). */
        if (mm->def_locked && !mm_may_lock_more(t, newp - oldp))
            goto out;
        /* Keep a guard page between the heap and the next mapping, as Linux does. */
        if (touches_stub(oldp, newp + GUEST_PAGE) ||
            vma_overlaps(&mm->vmas, oldp, newp + GUEST_PAGE))
            goto out;
        /* do_brk_flags: RLIMIT_AS. */
        if (!mm_may_expand(t, newp - oldp))
            goto out;
        int populate =
            (mm->def_locked & (VMA_LOCKED | VMA_LOCKONFAULT)) == VMA_LOCKED ? MAP_POPULATE : 0;
        long r = host_mmap(t, oldp, newp - oldp, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | populate);
        if (r < 0)
            goto out;
        struct vma hv = { .start = oldp,
                          .end = newp,
                          .prot = PROT_READ | PROT_WRITE,
                          .flags = MAP_PRIVATE,
                          .kind = VMA_HEAP,
                          .locked = mm->def_locked };
        vma_insert_vma(&mm->vmas, &hv);
    }
    pthread_mutex_lock(&mm->view_lock);
    mm->brk = addr;
    pthread_mutex_unlock(&mm->view_lock);
    cur = addr;
out:
    pthread_mutex_unlock(&mm->lock);
    return (long)cur;
}

long mm_madvise(struct task *t, uint64_t start, uint64_t len, int advice)
{
    if (start + len > TASK_SIZE || (start < STUB_REGION_END && start + len > STUB_BASE))
        return -ENOMEM;
    struct mm *mm = t->proc->mm;
    pthread_mutex_lock(&mm->lock);
    long r = stub_syscall6(t->ctx, SYS_madvise, start, len, (uint64_t)advice, 0, 0, 0);
    pthread_mutex_unlock(&mm->lock);
    return r;
}

long mm_mincore(struct task *t, uint64_t start, uint64_t pages, uint64_t vec)
{
    struct mm *mm = t->proc->mm;
    unsigned char buf[STUB_MINCORE_MAX];
    while (pages) {
        pthread_mutex_lock(&mm->lock);
        long i = vma_find(&mm->vmas, start);
        if (i < 0 || mm->vmas.v[i].kind == VMA_STUB) {
            pthread_mutex_unlock(&mm->lock);
            return -ENOMEM;
        }
        uint64_t n = (mm->vmas.v[i].end - start) / GUEST_PAGE;
        if (n > pages)
            n = pages;
        if (n > sizeof(buf))
            n = sizeof(buf);
        long r = stub_mincore(t->ctx, start, n, buf);
        pthread_mutex_unlock(&mm->lock);
        if (r < 0)
            return r;
        if (copy_out(t, vec, buf, n) < 0)
            return -EFAULT;
        vec += n;
        start += n * GUEST_PAGE;
        pages -= n;
    }
    return 0;
}

void mm_kill(struct mm *mm)
{
    if (mm->stub)
        stub_kill(mm->stub);
}

void mm_allow_exe_write(struct mm *mm)
{
    pthread_mutex_lock(&mm->lock);
    pthread_mutex_lock(&mm->view_lock);
    int denied = mm->exe_denied;
    mm->exe_denied = 0;
    pthread_mutex_unlock(&mm->view_lock);
    pthread_mutex_unlock(&mm->lock);
    if (denied)
        inode_allow_write(mm->exe_file->inode);
}

void mm_release_mappings(struct mm *mm)
{
    pthread_mutex_lock(&mm->lock);
    vma_set_free(&mm->vmas);
    pthread_mutex_unlock(&mm->lock);
}

void mm_kill_last(struct mm *mm, struct guest_ctx *ctx)
{
    mm_kill(mm);
    if (ctx && ctx->stub->plat->reap_thread)
        ctx->stub->plat->reap_thread(ctx);
    stub_ctx_free(ctx);
}

struct mm *mm_new(void)
{
    struct mm *mm = calloc(1, sizeof(*mm));
    if (!mm)
        return NULL;
    mm->refs = 1;
    pthread_mutex_init(&mm->lock, NULL);
    pthread_mutex_init(&mm->view_lock, NULL);
    vma_set_init(&mm->vmas);
    mm->vmas.lock = &mm->view_lock;
    return mm;
}

struct mm *mm_get(struct mm *mm)
{
    __atomic_add_fetch(&mm->refs, 1, __ATOMIC_RELAXED);
    return mm;
}

struct mm *process_mm_get(struct process *p)
{
    pthread_mutex_lock(&p->lock);
    struct mm *mm = p->mm ? mm_get(p->mm) : NULL;
    pthread_mutex_unlock(&p->lock);
    return mm;
}

void mm_put(struct mm *mm)
{
    if (!mm || __atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    stub_release(mm->stub);
    if (mm->exe_file && mm->exe_denied)
        inode_allow_write(mm->exe_file->inode);
    if (mm->exe_file)
        file_put(mm->exe_file);
    vma_set_free(&mm->vmas);
    pthread_mutex_destroy(&mm->view_lock);
    pthread_mutex_destroy(&mm->lock);
    free(mm);
}

/* ---- the address space's host threads ---- */

int mm_threads_movable(const struct mm *mm)
{
    return mm->stub->plat->ctx_movable;
}

int mm_new_thread(struct task *t, struct guest_ctx **out)
{
    return stub_new_thread(t->ctx, out);
}

struct mm *mm_dup(struct task *t, struct guest_ctx **out, int *err)
{
    struct mm *mm = t->proc->mm, *n = NULL;
    struct stub *s;
    pthread_mutex_lock(&mm->lock);
    *err = stub_fork(t->ctx, &s, out);
    if (*err == 0) {
        n = mm_fork(mm, s);
        if (!n) {
            stub_release(s);
            free(*out);
            *out = NULL;
            *err = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&mm->lock);
    return n;
}

void mm_end_thread(struct guest_ctx *ctx)
{
    stub_exit_thread(ctx);
}

void mm_forget_thread(struct guest_ctx *ctx)
{
    stub_forget_thread(ctx);
}

void mm_abandon_thread(struct guest_ctx *ctx)
{
    /* Take its first post (ptrace: become its tracer), then end it. */
    if (ctx->stub->plat->attach(ctx) == 0)
        stub_exit_thread(ctx);
    else
        stub_forget_thread(ctx);
}

void mm_kick_thread(struct guest_ctx *ctx)
{
    ctx->stub->plat->interrupt(ctx);
}

void mm_kill_thread(struct guest_ctx *ctx)
{
    const struct platform *plat = ctx->stub->plat;
    if (plat->kill)
        plat->kill(ctx);
    else
        plat->interrupt(ctx);
}

void task_kick(struct task *t)
{
    /* The flag's store and this load are sequentially consistent, as the
     * task loop's store of ctx->running and its check of the flag
     * (task_turn): one of the two sides sees the other's store. */
    task_interrupt(t);
    struct guest_ctx *ctx = t->ctx;
    if (!ctx || !__atomic_load_n(&ctx->running, __ATOMIC_SEQ_CST))
        return;
    /* A task that must end (process_kill sets the flag before it kicks)
     * ends even if its thread never comes back from guest code. */
    if (__atomic_load_n(&t->exiting, __ATOMIC_SEQ_CST))
        mm_kill_thread(ctx);
    else
        mm_kick_thread(ctx);
}

struct mm *mm_fork(struct mm *old, struct stub *stub)
{
    struct mm *mm = mm_new();
    if (!mm)
        return NULL;
    int r = 0;
    for (size_t i = 0; i < old->vmas.n && r == 0; i++) {
        /* Memory locks are not inherited (mlock(2)): VM_LOCKED is cleared. */
        struct vma v = old->vmas.v[i];
        v.locked = 0;
        r = vma_insert_vma(&mm->vmas, &v);
    }
    mm->brk_start = old->brk_start;
    mm->brk = old->brk;
    mm->mmap_base = old->mmap_base;
    mm->stack_top = old->stack_top;
    mm->randomize = old->randomize;
    mm->vdso = old->vdso;
    mm->start_code = old->start_code;
    mm->end_code = old->end_code;
    mm->start_data = old->start_data;
    mm->end_data = old->end_data;
    mm->arg_start = old->arg_start;
    mm->arg_end = old->arg_end;
    mm->env_start = old->env_start;
    mm->env_end = old->env_end;
    mm->exe_file = old->exe_file;
    if (mm->exe_file) {
        file_get(mm->exe_file);
        mm->exe_denied = inode_deny_write(mm->exe_file->inode) == 0;
    }
    memcpy(mm->exe, old->exe, sizeof(mm->exe));
    if (r < 0) {
        mm_put(mm);
        return NULL;
    }
    mm->stub = stub;
    return mm;
}

int mm_adopt_stub(struct task *t)
{
    struct mm *mm = t->proc->mm;
    struct stub *s = mm->stub;
    int r = stub_trim(t->ctx);
    if (r < 0)
        return r;
    vma_insert(&mm->vmas, STUB_BASE, STUB_REGION_END, PROT_NONE, MAP_PRIVATE, VMA_STUB);
    for (int i = 0; i < s->nhost_maps; i++) {
        const struct stub_host_map *h = &s->host_maps[i];
        vma_insert(&mm->vmas, h->start, h->end, h->prot, MAP_PRIVATE,
                   h->vdso ? VMA_VDSO : VMA_VVAR);
        if (h->vdso)
            mm->vdso = h->start;
    }
    return 0;
}

/* What an exec keeps of the address space: the stub region, and the vDSO
 * and vvar pages the host gave the stub (Linux maps a new vDSO; the stub's
 * stays where it is). */
static int exec_keeps(const struct vma *v)
{
    return v->kind == VMA_STUB || v->kind == VMA_VDSO || v->kind == VMA_VVAR;
}

int mm_exec_private(struct task *t)
{
    const struct platform *plat = t->proc->sandbox->plat;
    struct mm *old = t->proc->mm, *mm = mm_new();
    struct stub *s = NULL;
    struct guest_ctx *ctx = NULL;
    if (!mm)
        return -ENOMEM;
    int r = plat->stub_create(&s, &ctx);
    if (r < 0) {
        mm_put(mm);
        return r;
    }
    mm->stub = s;
    /* This sentry thread serves the new stub's thread from now on (under
     * ptrace: becomes its tracer), and lets go of its thread in the
     * shared stub, which the other users keep. */
    r = plat->attach(ctx);
    if (r < 0) {
        free(ctx);
        mm_put(mm);
        return r;
    }
    /* A borrowed thread stays its vfork parent's. */
    struct guest_ctx *old_ctx = NULL;
    if (t->borrowed) {
        t->borrowed = 0;
        t->attached = 1;
    } else {
        old_ctx = t->ctx;
    }
    /* ctx under the process lock: task_kick reads it there. */
    pthread_mutex_lock(&t->proc->lock);
    t->ctx = ctx;
    t->proc->mm = mm;
    pthread_mutex_unlock(&t->proc->lock);
    if (old_ctx)
        stub_exit_thread(old_ctx);
    mm_put(old);
    return mm_adopt_stub(t);
}

int mm_exec_reset(struct task *t)
{
    struct mm *mm = t->proc->mm;
    long r = 0;
    pthread_mutex_lock(&mm->lock);
    size_t i = 0;
    while (i < mm->vmas.n) {
        const struct vma *v = mm->vmas.v;
        if (exec_keeps(&v[i])) {
            i++;
            continue;
        }
        /* One munmap for each run of adjacent mappings. */
        uint64_t start = v[i].start, end = v[i].end;
        for (size_t j = i + 1; j < mm->vmas.n && v[j].start == end && !exec_keeps(&v[j]); j++)
            end = v[j].end;
        r = host_munmap(t, start, end - start);
        if (r < 0)
            break;
        r = vma_remove(&mm->vmas, start, end);
        if (r < 0)
            break;
    }
    mm->vdso = 0;
    for (i = 0; i < mm->vmas.n; i++)
        if (mm->vmas.v[i].kind == VMA_VDSO && !mm->vdso)
            mm->vdso = mm->vmas.v[i].start;
    mm->mmap_base = mm->stack_top = 0;
    mm->def_locked = 0;
    pthread_mutex_lock(&mm->view_lock);
    mm->brk_start = mm->brk = 0;
    mm->start_code = mm->end_code = mm->start_data = mm->end_data = 0;
    mm->arg_start = mm->arg_end = mm->env_start = mm->env_end = 0;
    pthread_mutex_unlock(&mm->view_lock);
    pthread_mutex_unlock(&mm->lock);
    return (int)r;
}
