/* Loading an ELF program into a guest address space as Linux's binfmt_elf
 * does: the program opened and read through the guest's file system, the
 * stack, the mmap area, the segments and the break placed as Linux x86-64
 * places them (randomised unless the personality has ADDR_NO_RANDOMIZE),
 * and the initial stack with Linux's auxv order. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "loader/elf.h"
#include "loader/exec.h"
#include "loader/stack.h"
#include "fs/file/file.h"
#include "fs/pathop.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"

/* Linux x86-64's layout (arch/x86/mm/mmap.c, fs/binfmt_elf.c, fs/exec.c,
 * mm/util.c, checked against Linux 6.18 with 4-level page tables). */
#define ELF_ET_DYN_BASE (TASK_SIZE / 3 * 2) /* where PIE programs go */
#define STACK_RND_MASK 0x3fffffULL          /* 22 bits of pages */
#define MMAP_RND_BITS 28                    /* mmap64_rnd_bits */
#define BRK_RND_RANGE (1ULL << 30)          /* arch_randomize_brk, 64-bit */
#define STACK_ALIGN_RND 8192                /* arch_align_stack */
#define STACK_GUARD_GAP (256 * GUEST_PAGE)
#define MMAP_GAP_MIN (128ULL << 20)
#define MMAP_GAP_MAX (TASK_SIZE / 6 * 5)
#define MMAP_MIN_ADDR 0x10000ULL
#define MAX_ALIGN (1ULL << 40)
#ifndef ADDR_NO_RANDOMIZE
#define ADDR_NO_RANDOMIZE 0x0040000
#endif
#define MAX_IMAGE (1ULL << 30)
#define STACK_IMAGE_MAX (2u << 20) /* room for argv, envp and auxv */

/* As Linux's do_open_execat and may_open with MAY_EXEC: the path is
 * followed; directories, devices, FIFOs and sockets give EACCES, and so do
 * a noexec mount and a file without exec permission for t. */
int exec_open(struct task *t, int dirfd, const char *path, struct file **out)
{
    struct path p;
    int r = task_lookup(t, dirfd, path, LOOKUP_FOLLOW, &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (!S_ISREG(i->mode) || (p.mnt && (p.mnt->flags & MNT_NOEXEC)))
        r = -EACCES;
    if (r == 0)
        r = vfs_permission(t->cred, i, MAY_EXEC);
    if (r == 0)
        r = vfs_open_path(t->cred, &p, O_RDONLY, out);
    path_put(&p);
    return r;
}

int exec_read(struct file *f, const char *path, struct exec_file *ef, char *err, size_t errlen)
{
    memset(ef, 0, sizeof(*ef));
    file_get(f);
    ef->file = f;
    if (strlen(path) >= sizeof(ef->path)) {
        snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    strcpy(ef->path, path);
    struct stat st;
    int r = f->inode ? vfs_getattr(f->inode, &st) : -EACCES;
    if (r < 0) {
        snprintf(err, errlen, "%s", strerror(-r));
        return r;
    }
    if ((uint64_t)st.st_size > MAX_IMAGE) {
        snprintf(err, errlen, "file too large to load");
        return -ENOEXEC;
    }
    /* Read through the file's own read operation, as the kernel's
     * kernel_read does: whatever file system holds it. */
    size_t len = (size_t)st.st_size;
    char *data = malloc(len ? len : 1);
    if (!data) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ef->data = data;
    size_t got = 0;
    off_t pos = 0;
    while (got < len) {
        ssize_t n = f->ops->read ? f->ops->read(f, data + got, len - got, &pos) : -EINVAL;
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror((int)-n));
            return (int)n;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    ef->len = got;

    struct elf_image img;
    char why[160];
    if (!elf_is_elf(data, got)) {
        snprintf(err, errlen, "not an x86-64 ELF executable");
        return -ENOEXEC;
    }
    if (elf_parse(data, got, &img, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "not a loadable x86-64 ELF executable: %s", why);
        return -ENOEXEC;
    }
    if (img.has_interp) {
        snprintf(err, errlen,
                 "dynamically linked executables (interpreter %s) are not supported yet",
                 img.interp);
        return -ENOEXEC;
    }
    return 0;
}

void exec_file_free(struct exec_file *ef)
{
    free(ef->data);
    ef->data = NULL;
    if (ef->file)
        file_put(ef->file);
    ef->file = NULL;
}

/* Where the stack, the mmap area, the image and the break go: Linux's
 * choices (arch_pick_mmap_layout, randomize_stack_top, setup_arg_pages,
 * load_elf_binary), each random part zero without randomisation. */
struct layout {
    uint64_t stack_top, ssize;
    uint64_t mmap_base;
    uint64_t bias; /* added to the image's addresses */
    uint64_t brk;
    uint64_t stack_pad; /* arch_align_stack's offset below the strings */
};

static int choose_layout(struct task *t, const struct elf_image *img, int randomize,
                         struct layout *L, char *err, size_t errlen)
{
    struct mm *mm = t->proc->mm;
    uint64_t rv[6] = { 0 };
    if (randomize && getrandom(rv, sizeof(rv), 0) != (ssize_t)sizeof(rv)) {
        snprintf(err, errlen, "getrandom failed");
        return -EIO;
    }

    /* The stack: its size is the limit, within reason (it does not grow). */
    uint64_t rlim = t->proc->rlim[RLIMIT_STACK].cur;
    uint64_t ssize = rlim;
    if (ssize > (256ULL << 20))
        ssize = 256ULL << 20;
    if (ssize < (128ULL << 10))
        ssize = 128ULL << 10;
    L->ssize = ssize = PAGE_UP(ssize);
    uint64_t stack_rnd = (rv[0] & STACK_RND_MASK) * GUEST_PAGE;
    uint64_t top = TASK_SIZE - stack_rnd;
    top = PAGE_UP((top - rv[1] % STACK_ALIGN_RND) & ~15ULL);
    /* Below anything already there (the host's vDSO, the stub region),
     * with the guard gap under it free too. */
    uint64_t span = ssize + STACK_GUARD_GAP;
    uint64_t at = vma_find_free(&mm->vmas, span, MMAP_MIN_ADDR, top);
    if (!at) {
        snprintf(err, errlen, "no room for the stack");
        return -ENOMEM;
    }
    uint64_t moved = top - (at + span);
    L->stack_top = top = at + span;

    /* mmap_base: below the stack's largest extent and its randomisation. */
    uint64_t gap = rlim, pad = (randomize ? STACK_RND_MASK * GUEST_PAGE : 0) + STACK_GUARD_GAP;
    if (gap + pad > gap)
        gap += pad;
    if (gap < MMAP_GAP_MIN)
        gap = MMAP_GAP_MIN;
    else if (gap > MMAP_GAP_MAX)
        gap = MMAP_GAP_MAX;
    uint64_t mmap_rnd = (rv[2] & ((1ULL << MMAP_RND_BITS) - 1)) * GUEST_PAGE;
    uint64_t base_top = TASK_SIZE - moved;
    if (base_top < gap + mmap_rnd + MMAP_GAP_MIN) {
        snprintf(err, errlen, "no room for the mmap area");
        return -ENOMEM;
    }
    L->mmap_base = PAGE_DOWN(base_top - gap - mmap_rnd);

    /* The image: ET_EXEC where it says; a PIE program (with an
     * interpreter) at ELF_ET_DYN_BASE plus a random offset; a static PIE,
     * being its own loader, at the top of the mmap area. */
    uint64_t align = img->align > GUEST_PAGE ? img->align : GUEST_PAGE;
    uint64_t size = img->hi - img->lo;
    L->bias = 0;
    if (img->type == ET_DYN) {
        if (align > MAX_ALIGN) {
            snprintf(err, errlen, "segment alignment 0x%llx too large", (unsigned long long)align);
            return -ENOMEM;
        }
        uint64_t start;
        if (img->has_interp) {
            start = ELF_ET_DYN_BASE + (rv[3] & ((1ULL << MMAP_RND_BITS) - 1)) * GUEST_PAGE;
            start &= ~(align - 1);
        } else {
            start =
                vma_find_free(&mm->vmas, size + align - GUEST_PAGE, MMAP_MIN_ADDR, L->mmap_base);
            start = (start + align - 1) & ~(align - 1);
        }
        L->bias = PAGE_DOWN(start - img->lo);
    }
    uint64_t lo = img->lo + L->bias, hi = img->hi + L->bias;
    if (lo < MMAP_MIN_ADDR || hi > TASK_SIZE || hi < lo || vma_overlaps(&mm->vmas, lo, hi) ||
        (lo < top && hi > top - span)) {
        snprintf(err, errlen, "image at 0x%llx-0x%llx does not fit the address space",
                 (unsigned long long)lo, (unsigned long long)hi);
        return -ENOEXEC;
    }

    /* The break: after the image, a page further and up to 1 GiB higher
     * when randomised; a static PIE's in the unused ELF_ET_DYN_BASE area. */
    uint64_t brk = hi;
    int brk_moved = 0;
    if (img->type == ET_DYN && !img->has_interp) {
        brk = PAGE_UP(ELF_ET_DYN_BASE);
        brk_moved = 1;
    }
    if (randomize) {
        if (!brk_moved)
            brk += GUEST_PAGE;
        brk += (rv[4] % (BRK_RND_RANGE / GUEST_PAGE)) * GUEST_PAGE;
    }
    L->brk = brk;
    L->stack_pad = rv[5] % STACK_ALIGN_RND;
    return 0;
}

/* The stack, then the image: each segment's pages carry the file bytes
 * from the page start, as a file mapping would (the tail after p_filesz
 * stays zero); then the protections, and the holes between segments
 * unmapped. 0 or -errno. */
static long map_image(struct task *t, const struct exec_file *ef, const struct elf_image *img,
                      const struct layout *L)
{
    struct mm *mm = t->proc->mm;
    uint64_t bias = L->bias, lo = img->lo + bias, hi = img->hi + bias;
    /* The stack first, as setup_arg_pages comes before the segments. */
    long r = mm_map_fixed(t, L->stack_top - L->ssize, L->ssize,
                          PROT_READ | PROT_WRITE | (img->exec_stack ? PROT_EXEC : 0), VMA_STACK);
    if (r < 0)
        return r;
    mm->stack_top = L->stack_top;
    mm->mmap_base = L->mmap_base;
    r = mm_map_fixed(t, lo, hi - lo, PROT_READ | PROT_WRITE, VMA_IMAGE);
    if (r < 0)
        return r;
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t pad = s->vaddr & (GUEST_PAGE - 1);
        if (s->filesz == 0)
            continue;
        r = copy_out(t, s->vaddr + bias - pad, ef->data + s->offset - pad, s->filesz + pad);
        if (r < 0)
            return r;
        uint64_t end_file = s->vaddr + bias + s->filesz;
        uint64_t page_end = PAGE_UP(end_file);
        if (s->memsz > s->filesz && page_end > end_file) {
            static const char zeros[GUEST_PAGE];
            r = copy_out(t, end_file, zeros, page_end - end_file);
            if (r < 0)
                return r;
        }
    }
    uint64_t covered = lo;
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint64_t start = PAGE_DOWN(s->vaddr + bias), end = PAGE_UP(s->vaddr + bias + s->memsz);
        if (start > covered && (r = mm_munmap(t, covered, start - covered)) < 0)
            return r;
        if (end > start && (r = mm_mprotect(t, start, end - start, s->prot)) < 0)
            return r;
        if (end > covered)
            covered = end;
    }
    mm->brk_start = mm->brk = L->brk;
    return 0;
}

/* The auxiliary vector, as Linux's create_elf_tables orders it; returns
 * its length (aux has room for 32). */
static int fill_auxv(struct task *t, const struct elf_image *img, uint64_t bias,
                     struct auxv_ent *aux)
{
    struct mm *mm = t->proc->mm;
    const struct creds *c = t->cred;
    int na = 0;
#define AUX(type_, val_)                                                                           \
    aux[na++] = (struct auxv_ent)                                                                  \
    {                                                                                              \
        (type_), (uint64_t)(val_)                                                                  \
    }
    if (mm->vdso)
        AUX(AT_SYSINFO_EHDR, mm->vdso);
    AUX(51 /* AT_MINSIGSTKSZ */, getauxval(51));
    AUX(AT_HWCAP, getauxval(AT_HWCAP));
    AUX(AT_PAGESZ, GUEST_PAGE);
    AUX(AT_CLKTCK, 100);
    AUX(AT_PHDR, img->phdr_vaddr ? img->phdr_vaddr + bias : 0);
    AUX(AT_PHENT, img->phent);
    AUX(AT_PHNUM, img->phnum);
    AUX(AT_BASE, 0);
    AUX(AT_FLAGS, 0);
    AUX(AT_ENTRY, img->entry + bias);
    AUX(AT_UID, c->uid);
    AUX(AT_EUID, c->euid);
    AUX(AT_GID, c->gid);
    AUX(AT_EGID, c->egid);
    AUX(AT_SECURE, 0);
    AUX(AT_RANDOM, 0);
    AUX(AT_HWCAP2, getauxval(AT_HWCAP2));
    AUX(AT_EXECFN, 0);
    AUX(AT_PLATFORM, 0);
    if (getauxval(27))
        AUX(27 /* AT_RSEQ_FEATURE_SIZE */, getauxval(27));
    if (getauxval(28))
        AUX(28 /* AT_RSEQ_ALIGN */, getauxval(28));
#undef AUX
    return na;
}

/* The initial stack (argv, envp, auxv) at L's top, with *rsp where it
 * starts; records where argv's and envp's strings went, for
 * /proc/PID/cmdline and environ. 0 or -errno with a reason in err. */
static int build_stack(struct task *t, const struct exec_file *ef, const struct elf_image *img,
                       const struct layout *L, char *const argv[], char *const envp[],
                       uint64_t *rsp, char *err, size_t errlen)
{
    struct mm *mm = t->proc->mm;
    uint64_t stack_top = L->stack_top;
    int argc = 0, envc = 0;
    while (argv[argc])
        argc++;
    while (envp[envc])
        envc++;
    struct auxv_ent aux[32];
    struct stack_params sp = {
        .argc = argc,
        .argv = (const char *const *)argv,
        .envc = envc,
        .envp = (const char *const *)envp,
        .execfn = ef->path,
        .platform = "x86_64",
        .align_pad = L->stack_pad,
        .auxv = aux,
        .nauxv = fill_auxv(t, img, L->bias, aux),
    };
    if (getrandom(sp.random, sizeof(sp.random), 0) != sizeof(sp.random)) {
        snprintf(err, errlen, "getrandom failed");
        return -EIO;
    }
    size_t blen = L->ssize < STACK_IMAGE_MAX ? (size_t)L->ssize : STACK_IMAGE_MAX;
    uint8_t *buf = malloc(blen);
    if (!buf)
        return -ENOMEM;
    int r = stack_build(stack_top, &sp, buf, blen, rsp);
    if (r == 0)
        r = copy_out(t, *rsp, buf + (blen - (stack_top - *rsp)), stack_top - *rsp);
    if (r == 0) {
        uint8_t *top = buf + blen;
        uint64_t v0 = 0, e0 = 0;
        memcpy(&v0, top - (stack_top - *rsp) + 8, 8);
        memcpy(&e0, top - (stack_top - *rsp) + 8 + 8 * ((uint64_t)argc + 1), 8);
        size_t elen = 0;
        for (int i = 0; i < envc; i++)
            elen += strlen(envp[i]) + 1;
        mm->arg_start = argc ? v0 : e0;
        mm->arg_end = envc ? e0 : mm->arg_start;
        for (int i = 0; !envc && i < argc; i++)
            mm->arg_end += strlen(argv[i]) + 1;
        mm->env_start = envc ? e0 : mm->arg_end;
        mm->env_end = mm->env_start + elen;
    }
    free(buf);
    if (r < 0)
        snprintf(err, errlen, r == -E2BIG ? "argument list too long" : "cannot build the stack");
    return r;
}

/* /proc/PID/exe is the file itself; its name, as the process sees it now,
 * labels the image in /proc/PID/maps. */
static void set_exe(struct task *t, const struct exec_file *ef)
{
    struct mm *mm = t->proc->mm;
    file_get(ef->file);
    pthread_mutex_lock(&mm->lock);
    struct file *old = mm->exe_file;
    mm->exe_file = ef->file;
    pthread_mutex_unlock(&mm->lock);
    if (old)
        file_put(old);
    mm->exe[0] = 0;
    if (ef->file->dentry) {
        struct fs_struct *fs = t->proc->fs;
        pthread_mutex_lock(&fs->lock);
        struct path root = fs->root;
        path_get(&root);
        pthread_mutex_unlock(&fs->lock);
        struct path p = { ef->file->mnt, ef->file->dentry };
        if (vfs_d_path(&p, &root, mm->exe, sizeof(mm->exe)) < 0)
            mm->exe[0] = 0;
        path_put(&root);
    }
}

int exec_load(struct task *t, const struct exec_file *ef, char *const argv[], char *const envp[],
              char *err, size_t errlen)
{
    struct elf_image img;
    char why[160];
    if (elf_parse(ef->data, ef->len, &img, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s", why);
        return -ENOEXEC;
    }
    struct layout L;
    int randomize = !(t->proc->personality & ADDR_NO_RANDOMIZE);
    long r = choose_layout(t, &img, randomize, &L, err, errlen);
    if (r < 0)
        return (int)r;
    t->proc->mm->randomize = randomize;
    r = map_image(t, ef, &img, &L);
    if (r < 0) {
        snprintf(err, errlen, "cannot map the image: %s", strerror((int)-r));
        return (int)r;
    }
    uint64_t rsp;
    r = build_stack(t, ef, &img, &L, argv, envp, &rsp, err, errlen);
    if (r < 0)
        return (int)r;
    set_exe(t, ef);
    memset(&t->regs, 0, sizeof(t->regs));
    t->regs.rip = img.entry + L.bias;
    t->regs.rsp = rsp;
    t->regs.eflags = 0x200;
    return 0;
}
