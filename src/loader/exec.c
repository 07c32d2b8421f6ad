/* Loading a program as Linux's execve does: the file opened through the
 * guest's file system with execve's checks, #! scripts (binfmt_script),
 * the ELF program and its interpreter checked (binfmt_elf) before the
 * point of no return, then mapped from their files with the stack, the
 * mmap area, the segments and the break placed as Linux x86-64 places
 * them (randomised unless the personality has ADDR_NO_RANDOMIZE), and the
 * initial stack with Linux's auxv order. */
#define _GNU_SOURCE
#include <elf.h>
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
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#define READ_IMPLIES_EXEC_ 0x0400000

/* As Linux's do_open_execat and may_open with MAY_EXEC: directories,
 * devices, FIFOs and sockets give EACCES, and so do a noexec mount and a
 * file without exec permission for t (read permission is not needed). */
int exec_open(struct task *t, int dirfd, const char *path, int flags, struct file **out)
{
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return -EINVAL;
    struct path p;
    int r = task_lookup(t, dirfd, path, at_lookup_flags(flags), &p);
    if (r < 0)
        return r;
    struct inode *i = p.d->inode;
    if (S_ISLNK(i->mode))
        r = -ELOOP;
    else if (!S_ISREG(i->mode) || (p.mnt && (p.mnt->flags & MNT_NOEXEC)))
        r = -EACCES;
    if (r == 0)
        r = vfs_permission(t->cred, i, MAY_EXEC);
    if (r == 0)
        r = vfs_open_path(t->cred, &p, O_RDONLY | VFS_OPEN_EXEC, out);
    /* do_open_execat: a file someone has open for writing is busy. */
    if (r == 0 && inode_has_writers((*out)->inode)) {
        file_put(*out);
        *out = NULL;
        r = -ETXTBSY;
    }
    path_put(&p);
    return r;
}

int exec_init(struct exec_prog *bp, struct file *f, const char *filename)
{
    memset(bp, 0, sizeof(*bp));
    bp->file = f;
    bp->filename = strdup(filename);
    bp->interp_name = strdup(filename);
    bp->img = calloc(1, sizeof(*bp->img));
    bp->interp_img = calloc(1, sizeof(*bp->interp_img));
    if (!bp->filename || !bp->interp_name || !bp->img || !bp->interp_img)
        return -ENOMEM;
    return 0;
}

void exec_prog_free(struct exec_prog *bp)
{
    if (bp->file)
        file_put(bp->file);
    if (bp->interp)
        file_put(bp->interp);
    free(bp->img);
    free(bp->interp_img);
    free(bp->filename);
    free(bp->interp_name);
    exec_args_free(&bp->args);
    memset(bp, 0, sizeof(*bp));
}

void exec_comm(const struct exec_prog *bp, char comm[16])
{
    const char *name = bp->filename;
    size_t n;
    if (bp->fdpath && bp->file->dentry) {
        /* The file's own name. A file with no directory (a memfd) has the
         * name /proc shows for it: its own is what lies between the "/"
         * and " (deleted)". */
        const struct dentry *d = bp->file->dentry;
        name = d->name;
        n = strlen(name);
        const char *del = " (deleted)";
        if (!d->parent && name[0] == '/') {
            name++;
            n--;
            if (n >= strlen(del) && strcmp(name + n - strlen(del), del) == 0)
                n -= strlen(del);
        }
        if (n > 15)
            n = 15;
    } else {
        const char *slash = strrchr(name, '/');
        if (slash)
            name = slash + 1;
        n = strnlen(name, 15);
    }
    memcpy(comm, name, n);
    memset(comm + n, 0, 16 - n);
}

/* ---- reading the files ---- */

/* Up to len bytes of f at off through its own read operation, as the
 * kernel's kernel_read: whatever file system holds it. The byte count or
 * -errno. */
static ssize_t read_at(struct file *f, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    off_t pos = (off_t)off;
    while (got < len) {
        ssize_t n = f->ops->read ? f->ops->read(f, (char *)buf + got, len - got, &pos) : -EINVAL;
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > 0)
        fsnotify_access(f); /* as kernel_read */
    return (ssize_t)got;
}

static int file_size(struct file *f, uint64_t *size)
{
    struct stat st;
    int r = f->inode ? vfs_getattr(f->inode, &st) : -EACCES;
    if (r == 0)
        *size = (uint64_t)st.st_size;
    return r;
}

/* elf_reader on a file: a short read is -EIO, as Linux's elf_read. */
static int elf_read(void *ctx, void *dst, size_t len, uint64_t off)
{
    ssize_t n = read_at(ctx, dst, len, off);
    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -EIO;
}

static int parse_file(struct file *f, struct elf_image *img, char *why, size_t whylen)
{
    struct elf_reader rd = { elf_read, f, 0 };
    int r = file_size(f, &rd.size);
    if (r < 0)
        return r;
    return elf_parse_file(&rd, img, why, whylen);
}

/* ---- #! scripts (binfmt_script) ---- */

static int spacetab(char c)
{
    return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (!spacetab(*first))
            return first;
    return NULL;
}

static const char *next_terminator(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (spacetab(*first) || !*first)
            return first;
    return NULL;
}

/* buf (EXEC_BUF_SIZE bytes, NUL-padded past the file's end) starts with
 * "#!": parse the line as load_script does. A newline ends it; without
 * one in the buffer the interpreter's name must be followed by a blank or
 * NUL (else it could be cut: ENOEXEC), and the argument is cut at the
 * buffer's end. Trailing blanks are dropped; one optional argument is
 * the rest of the line. Then argv becomes [interp, arg, script, argv[1..]]
 * and the interpreter is opened. */
static int load_script(struct task *t, struct exec_prog *bp, char *buf, char *err, size_t errlen)
{
    char *buf_end = buf + EXEC_BUF_SIZE - 1;
    char *i_end = memchr(buf, '\n', EXEC_BUF_SIZE);
    if (!i_end) {
        const char *p = next_non_spacetab(buf + 2, buf_end);
        if (!p || !next_terminator(p, buf_end)) {
            snprintf(err, errlen, "#! line too long");
            return -ENOEXEC;
        }
        i_end = buf_end;
    }
    while (spacetab(i_end[-1]))
        i_end--;
    const char *i_name = next_non_spacetab(buf + 2, i_end);
    if (!i_name || i_name == i_end) {
        snprintf(err, errlen, "no interpreter in the #! line");
        return -ENOEXEC;
    }
    const char *i_arg = NULL;
    char *i_sep = (char *)next_terminator(i_name, i_end);
    if (i_sep && *i_sep)
        i_arg = next_non_spacetab(i_sep, i_end);
    if (bp->path_inaccessible) {
        snprintf(err, errlen, "a script named by a close-on-exec descriptor cannot be run");
        return -ENOENT;
    }
    exec_args_drop_first(&bp->args);
    int r = exec_args_push_first(&bp->args, bp->interp_name);
    *i_end = 0;
    if (r == 0 && i_arg) {
        *i_sep = 0;
        r = exec_args_push_first(&bp->args, i_arg);
    }
    if (r == 0)
        r = exec_args_push_first(&bp->args, i_name);
    if (r < 0) {
        snprintf(err, errlen, "%s", strerror(-r));
        return r;
    }
    char *name = strdup(i_name);
    if (!name)
        return -ENOMEM;
    free(bp->interp_name);
    bp->interp_name = name;
    struct file *f;
    r = exec_open(t, AT_FDCWD, name, 0, &f);
    if (r < 0) {
        snprintf(err, errlen, "interpreter %s: %s", name, strerror(-r));
        return r;
    }
    file_put(bp->file);
    bp->file = f;
    return 0;
}

/* ---- ELF checks (binfmt_elf, before begin_new_exec) ---- */

static int check_elf(struct task *t, struct exec_prog *bp, char *err, size_t errlen)
{
    char why[160];
    int r = parse_file(bp->file, bp->img, why, sizeof(why));
    if (r < 0) {
        if (r == -ENOEXEC)
            snprintf(err, errlen, "not a loadable x86-64 ELF program: %s", why);
        else
            snprintf(err, errlen, "%s", strerror(-r));
        return r;
    }
    if (!bp->img->has_interp)
        return 0;
    r = exec_open(t, AT_FDCWD, bp->img->interp, 0, &bp->interp);
    if (r < 0) {
        snprintf(err, errlen, "interpreter %s: %s", bp->img->interp, strerror(-r));
        return r;
    }
    /* load_elf_binary reads the interpreter's ELF header first: a file
     * too short for one is an I/O error, then the checks are ELIBBAD. */
    uint64_t size = 0;
    r = file_size(bp->interp, &size);
    if (r == 0 && size < sizeof(Elf64_Ehdr))
        r = -EIO;
    if (r < 0) {
        snprintf(err, errlen, "interpreter %s: %s", bp->img->interp, strerror(-r));
        return r;
    }
    r = parse_file(bp->interp, bp->interp_img, why, sizeof(why));
    if (r == -ENOEXEC) {
        /* Not ELF, not x86-64, unreadable program headers. */
        snprintf(err, errlen, "interpreter %s: %s", bp->img->interp, why);
        return -ELIBBAD;
    }
    if (r < 0)
        snprintf(err, errlen, "interpreter %s: %s", bp->img->interp, strerror(-r));
    return r;
}

int exec_prepare(struct task *t, struct exec_prog *bp, char *err, size_t errlen)
{
    /* exec_binprm: at most EXEC_MAX_DEPTH rewrites before ELOOP. */
    for (int depth = 0;; depth++) {
        if (depth > EXEC_MAX_DEPTH) {
            snprintf(err, errlen, "too many levels of #! interpreters");
            return -ELOOP;
        }
        char buf[EXEC_BUF_SIZE];
        memset(buf, 0, sizeof(buf));
        ssize_t n = read_at(bp->file, buf, sizeof(buf), 0);
        if (n < 0) {
            snprintf(err, errlen, "%s", strerror((int)-n));
            return (int)n;
        }
        if (buf[0] == '#' && buf[1] == '!') {
            int r = load_script(t, bp, buf, err, errlen);
            if (r == 0)
                continue;
            if (r != -ENOEXEC)
                return r;
        }
        if (!elf_is_elf(buf, (size_t)n)) {
            if (!(buf[0] == '#' && buf[1] == '!'))
                snprintf(err, errlen, "not an x86-64 ELF program nor a #! script");
            return -ENOEXEC;
        }
        return check_elf(t, bp, err, errlen);
    }
}

/* Bytes the initial stack image takes at most: the strings, their
 * pointers, the auxv, AT_RANDOM's bytes, the platform string and the
 * alignment padding, with room to spare. */
static size_t stack_image_size(const struct exec_prog *bp)
{
    size_t n = strlen(bp->filename) + 1;
    for (int i = 0; i < bp->args.argc; i++)
        n += strlen(bp->args.argv[i]) + 1;
    for (int i = 0; i < bp->args.envc; i++)
        n += strlen(bp->args.envp[i]) + 1;
    n += ((size_t)bp->args.argc + (size_t)bp->args.envc + 3) * 8;
    return PAGE_UP(n + 64 * 16 + STACK_ALIGN_RND + 2 * GUEST_PAGE);
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

static int choose_layout(struct task *t, const struct elf_image *img, int randomize, size_t strings,
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
    /* Room for the strings execve allowed, whatever the limit is now. */
    if (ssize < strings + (128ULL << 10))
        ssize = strings + (128ULL << 10);
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

/* Map [start, start + len) of anonymous memory, as vm_brk_flags does for
 * a segment's zero-fill pages. */
static long map_anon(struct task *t, uint64_t start, uint64_t len, int prot)
{
    if (len == 0)
        return 0;
    return mm_map_fixed(t, start, len, prot, VMA_ANON);
}

/* The pages of s that hold file bytes, for a file with no host pages to
 * map (no mmap_fd): anonymous memory filled from the file, then given the
 * segment's protection. */
static long copy_segment(struct task *t, struct file *f, uint64_t start, uint64_t len, uint64_t off,
                         int prot)
{
    long r = mm_map_fixed(t, start, len, PROT_READ | PROT_WRITE, VMA_IMAGE);
    char *buf = r < 0 ? NULL : malloc(1 << 16);
    if (r < 0 || !buf)
        return r < 0 ? r : -ENOMEM;
    for (uint64_t done = 0; done < len && r >= 0;) {
        size_t chunk = len - done < (1 << 16) ? (size_t)(len - done) : (1 << 16);
        ssize_t n = read_at(f, buf, chunk, off + done);
        if (n <= 0) {
            r = n;
            break;
        }
        r = copy_out(t, start + done, buf, (size_t)n);
        done += (uint64_t)n;
    }
    free(buf);
    if (r >= 0)
        r = mm_mprotect(t, start, len, prot);
    return r;
}

/* One PT_LOAD, as Linux 6.18's elf_load: the file's pages mapped private
 * from the file (through the same path as a guest's mmap of it), the rest
 * of the last file page zeroed (only where writable: an error zeroing a
 * read-only page is ignored, as padzero's), and the pages past it up to
 * p_memsz anonymous, read-write (and executable if the segment is). */
static long load_segment(struct task *t, struct file *f, const struct elf_segment *s, uint64_t bias)
{
    uint64_t va = s->vaddr + bias, pad = va & (GUEST_PAGE - 1);
    uint64_t zero_start, zero_end;
    long r;
    if (s->filesz) {
        uint64_t start = va - pad, len = PAGE_UP(s->filesz + pad), off = s->offset - pad;
        if (f->ops->mmap_fd)
            r = mm_mmap_file(t, f, start, len, s->prot, MAP_PRIVATE | MAP_FIXED, off);
        else
            r = copy_segment(t, f, start, len, off, s->prot);
        if (r < 0)
            return r;
        zero_start = va + s->filesz;
        zero_end = va + s->memsz;
        if (s->memsz > s->filesz && (zero_start & (GUEST_PAGE - 1))) {
            static const char zeros[GUEST_PAGE];
            r = copy_out(t, zero_start, zeros, PAGE_UP(zero_start) - zero_start);
            if (r < 0 && (s->prot & PROT_WRITE))
                return -EFAULT;
        }
    } else {
        zero_start = va - pad;
        zero_end = zero_start + pad + s->memsz;
    }
    if (s->memsz > s->filesz) {
        zero_start = PAGE_UP(zero_start);
        zero_end = PAGE_UP(zero_end);
        if (zero_end > zero_start) {
            r = map_anon(t, zero_start, zero_end - zero_start,
                         PROT_READ | PROT_WRITE | (s->prot & PROT_EXEC));
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static long load_segments(struct task *t, struct file *f, const struct elf_image *img,
                          uint64_t bias)
{
    for (int i = 0; i < img->nseg; i++) {
        long r = load_segment(t, f, &img->seg[i], bias);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The stack, then the program's segments; the code and data bounds and
 * the break. 0 or -errno. */
static long map_image(struct task *t, struct file *f, const struct elf_image *img,
                      const struct layout *L)
{
    struct mm *mm = t->proc->mm;
    /* The stack first, as setup_arg_pages comes before the segments. */
    long r = mm_map_fixed(t, L->stack_top - L->ssize, L->ssize,
                          PROT_READ | PROT_WRITE | (img->exec_stack ? PROT_EXEC : 0), VMA_STACK);
    if (r < 0)
        return r;
    mm->stack_top = L->stack_top;
    mm->mmap_base = L->mmap_base;
    r = load_segments(t, f, img, L->bias);
    if (r < 0)
        return r;
    /* load_elf_binary's bounds: code from the executable segments, data
     * up to the highest file byte. */
    uint64_t start_code = UINT64_MAX, end_code = 0, start_data = 0, end_data = 0;
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];
        if ((s->prot & PROT_EXEC) && s->vaddr < start_code)
            start_code = s->vaddr;
        if (start_data < s->vaddr)
            start_data = s->vaddr;
        if ((s->prot & PROT_EXEC) && end_code < s->vaddr + s->filesz)
            end_code = s->vaddr + s->filesz;
        if (end_data < s->vaddr + s->filesz)
            end_data = s->vaddr + s->filesz;
    }
    pthread_mutex_lock(&mm->view_lock);
    mm->start_code = start_code + L->bias;
    mm->end_code = end_code + L->bias;
    mm->start_data = start_data + L->bias;
    mm->end_data = end_data + L->bias;
    mm->brk_start = mm->brk = L->brk;
    pthread_mutex_unlock(&mm->view_lock);
    return 0;
}

/* The interpreter, as load_elf_interp: an ET_DYN one wherever mmap would
 * put its whole span (top-down below the mmap base), an ET_EXEC one at
 * its own addresses. Its load address (AT_BASE) in *base. */
static long map_interp(struct task *t, struct file *f, const struct elf_image *img, uint64_t *base)
{
    struct mm *mm = t->proc->mm;
    uint64_t bias = 0;
    if (img->type == ET_DYN) {
        uint64_t start = vma_find_free(&mm->vmas, img->hi - img->lo, MMAP_MIN_ADDR, mm->mmap_base);
        if (!start)
            start = vma_find_free(&mm->vmas, img->hi - img->lo, mm->mmap_base, TASK_SIZE);
        if (!start)
            return -ENOMEM;
        bias = start - img->lo;
    } else if (vma_overlaps(&mm->vmas, img->lo, img->hi)) {
        return -EINVAL;
    }
    *base = bias;
    return load_segments(t, f, img, bias);
}

/* The auxiliary vector, as Linux's create_elf_tables orders it; returns
 * its length (aux has room for 32). */
static int fill_auxv(struct task *t, const struct elf_image *img, uint64_t bias,
                     uint64_t interp_base, int secure, struct auxv_ent *aux)
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
    AUX(AT_BASE, interp_base);
    AUX(AT_FLAGS, 0);
    AUX(AT_ENTRY, img->entry + bias);
    AUX(AT_UID, c->uid);
    AUX(AT_EUID, c->euid);
    AUX(AT_GID, c->gid);
    AUX(AT_EGID, c->egid);
    AUX(AT_SECURE, secure);
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
static int build_stack(struct task *t, const struct exec_prog *bp, const struct layout *L,
                       uint64_t interp_base, uint64_t *rsp, char *err, size_t errlen)
{
    struct mm *mm = t->proc->mm;
    uint64_t stack_top = L->stack_top;
    int argc = bp->args.argc, envc = bp->args.envc;
    char *const *argv = bp->args.argv, *const *envp = bp->args.envp;
    struct auxv_ent aux[32];
    struct stack_params sp = {
        .argc = argc,
        .argv = (const char *const *)argv,
        .envc = envc,
        .envp = (const char *const *)envp,
        .execfn = bp->filename,
        .platform = "x86_64",
        .align_pad = L->stack_pad,
        .auxv = aux,
        .nauxv = fill_auxv(t, bp->img, L->bias, interp_base, bp->secure, aux),
    };
    if (getrandom(sp.random, sizeof(sp.random), 0) != sizeof(sp.random)) {
        snprintf(err, errlen, "getrandom failed");
        return -EIO;
    }
    size_t blen = stack_image_size(bp);
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
        uint64_t arg_start = argc ? v0 : e0, arg_end = envc ? e0 : arg_start;
        for (int i = 0; !envc && i < argc; i++)
            arg_end += strlen(argv[i]) + 1;
        uint64_t env_start = envc ? e0 : arg_end;
        pthread_mutex_lock(&mm->view_lock);
        mm->arg_start = arg_start;
        mm->arg_end = arg_end;
        mm->env_start = env_start;
        mm->env_end = env_start + elen;
        pthread_mutex_unlock(&mm->view_lock);
    }
    free(buf);
    if (r < 0)
        snprintf(err, errlen, r == -E2BIG ? "argument list too long" : "cannot build the stack");
    return r;
}

/* /proc/PID/exe is the file itself; its name, as the process sees it now,
 * labels the image in /proc/PID/maps. */
static void set_exe(struct task *t, struct file *f)
{
    struct mm *mm = t->proc->mm;
    char *name = calloc(1, sizeof(mm->exe));
    if (name && f->dentry) {
        struct fs_struct *fs = t->proc->fs;
        pthread_mutex_lock(&fs->lock);
        struct path root = fs->root;
        path_get(&root);
        pthread_mutex_unlock(&fs->lock);
        struct path p = { f->mnt, f->dentry };
        if (vfs_d_path(&p, &root, name, sizeof(mm->exe)) < 0)
            name[0] = 0;
        path_put(&root);
    }
    file_get(f);
    /* Writers are denied while it runs (a writer that came after
     * exec_open's check wins: the deny is then not held). */
    int denied = inode_deny_write(f->inode) == 0;
    pthread_mutex_lock(&mm->lock);
    pthread_mutex_lock(&mm->view_lock);
    struct file *old = mm->exe_file;
    int old_denied = mm->exe_denied;
    mm->exe_file = f;
    mm->exe_denied = denied;
    memcpy(mm->exe, name ? name : "", name ? sizeof(mm->exe) : 1);
    pthread_mutex_unlock(&mm->view_lock);
    pthread_mutex_unlock(&mm->lock);
    free(name);
    if (old && old_denied)
        inode_allow_write(old->inode);
    if (old)
        file_put(old);
}

int exec_load(struct task *t, struct exec_prog *bp, char *err, size_t errlen)
{
    struct layout L;
    struct process *p = t->proc;
    /* SET_PERSONALITY: a 64-bit program does not get READ_IMPLIES_EXEC. */
    p->personality &= ~READ_IMPLIES_EXEC_;
    int randomize = !(p->personality & ADDR_NO_RANDOMIZE);
    long r = choose_layout(t, bp->img, randomize, stack_image_size(bp), &L, err, errlen);
    if (r < 0)
        return (int)r;
    p->mm->randomize = randomize;
    r = map_image(t, bp->file, bp->img, &L);
    if (r < 0) {
        snprintf(err, errlen, "cannot map the program: %s", strerror((int)-r));
        return (int)r;
    }
    uint64_t entry = bp->img->entry + L.bias, interp_base = 0;
    if (bp->interp) {
        r = map_interp(t, bp->interp, bp->interp_img, &interp_base);
        if (r < 0) {
            snprintf(err, errlen, "cannot map the interpreter %s: %s", bp->img->interp,
                     strerror((int)-r));
            return (int)r;
        }
        entry = bp->interp_img->entry + interp_base;
    }
    uint64_t rsp;
    r = build_stack(t, bp, &L, interp_base, &rsp, err, errlen);
    if (r < 0)
        return (int)r;
    set_exe(t, bp->file);
    memset(&t->regs, 0, sizeof(t->regs));
    t->regs.rip = entry;
    t->regs.rsp = rsp;
    t->regs.eflags = 0x200;
    return 0;
}
