/* Loading an ELF program into a guest address space as Linux's binfmt_elf
 * does: segments at their addresses (static-PIE at ELF_ET_DYN_BASE), the
 * break after the image, and the initial stack with Linux's auxv order. */
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

#include "loader/elf.h"
#include "loader/exec.h"
#include "loader/stack.h"
#include "platform/layout.h"
#include "sentry/kernel.h"

#define ELF_ET_DYN_BASE 0x555555554000ULL
#define MAX_IMAGE (1ULL << 30)
#define STACK_IMAGE_MAX (2u << 20) /* room for argv, envp and auxv */

int exec_read(const char *path, struct exec_file *ef, char *err, size_t errlen)
{
    memset(ef, 0, sizeof(*ef));
    if (strlen(path) >= sizeof(ef->path)) {
        snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    strcpy(ef->path, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s", strerror(EACCES));
        return -EACCES;
    }
    if (access(path, X_OK) < 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    if ((uint64_t)st.st_size > MAX_IMAGE) {
        close(fd);
        snprintf(err, errlen, "file too large to load");
        return -ENOEXEC;
    }
    size_t len = (size_t)st.st_size;
    char *data = malloc(len ? len : 1);
    if (!data) {
        close(fd);
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, data + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    ef->data = data;
    ef->len = got;
    if (!realpath(path, ef->real))
        snprintf(ef->real, sizeof(ef->real), "%s", path);

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
        snprintf(err, errlen, "dynamically linked executables (interpreter %s) are not supported yet", img.interp);
        return -ENOEXEC;
    }
    return 0;
}

void exec_file_free(struct exec_file *ef)
{
    free(ef->data);
    ef->data = NULL;
}

int exec_load(struct task *t, const struct exec_file *ef, char *const argv[], char *const envp[],
              char *err, size_t errlen)
{
    struct mm *mm = t->proc->mm;
    struct elf_image img;
    char why[160];
    if (elf_parse(ef->data, ef->len, &img, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s", why);
        return -ENOEXEC;
    }
    uint64_t bias = img.type == ET_DYN ? ELF_ET_DYN_BASE - img.lo : 0;
    uint64_t lo = img.lo + bias, hi = img.hi + bias;
    if (hi > STUB_BASE || lo < 0x10000) {
        snprintf(err, errlen, "image at 0x%llx-0x%llx does not fit the address space",
                 (unsigned long long)lo, (unsigned long long)hi);
        return -ENOEXEC;
    }
    long r = mm_map_fixed(t, lo, hi - lo, PROT_READ | PROT_WRITE, VMA_IMAGE);
    if (r < 0)
        goto fail;
    /* Each segment's pages carry the file bytes from the page start, as a
     * file mapping would; the tail after p_filesz stays zero. */
    for (int i = 0; i < img.nseg; i++) {
        const struct elf_segment *s = &img.seg[i];
        uint64_t pad = s->vaddr & (GUEST_PAGE - 1);
        uint64_t start = s->vaddr + bias - pad;
        uint64_t n = s->filesz + pad;
        if (s->filesz == 0)
            continue;
        r = copy_out(t, start, ef->data + s->offset - pad, n);
        if (r < 0)
            goto fail;
        uint64_t end_file = s->vaddr + bias + s->filesz;
        uint64_t page_end = PAGE_UP(end_file);
        if (s->memsz > s->filesz && page_end > end_file) {
            static const char zeros[4096];
            r = copy_out(t, end_file, zeros, page_end - end_file);
            if (r < 0)
                goto fail;
        }
    }
    /* Protections, then holes between segments unmapped. */
    uint64_t covered = lo;
    for (int i = 0; i < img.nseg; i++) {
        const struct elf_segment *s = &img.seg[i];
        uint64_t start = PAGE_DOWN(s->vaddr + bias), end = PAGE_UP(s->vaddr + bias + s->memsz);
        if (start > covered) {
            r = mm_munmap(t, covered, start - covered);
            if (r < 0)
                goto fail;
        }
        if (end > start) {
            r = mm_mprotect(t, start, end - start, s->prot);
            if (r < 0)
                goto fail;
        }
        if (end > covered)
            covered = end;
    }
    mm->brk_start = mm->brk = hi;

    /* The stack, below the stub region. */
    uint64_t ssize = t->proc->rlim[RLIMIT_STACK].cur;
    if (ssize > (256ULL << 20))
        ssize = 256ULL << 20;
    if (ssize < (128ULL << 10))
        ssize = 128ULL << 10;
    ssize = PAGE_UP(ssize);
    uint64_t stack_top = STUB_BASE - (16ULL << 20);
    if (vma_overlaps(&mm->vmas, stack_top - ssize, stack_top)) {
        snprintf(err, errlen, "no room for the stack");
        return -ENOMEM;
    }
    r = mm_map_fixed(t, stack_top - ssize, ssize, PROT_READ | PROT_WRITE | (img.exec_stack ? PROT_EXEC : 0),
                     VMA_STACK);
    if (r < 0)
        goto fail;
    mm->stack_top = stack_top;
    uint64_t gap = ssize < (128ULL << 20) ? (128ULL << 20) : ssize;
    mm->mmap_base = PAGE_DOWN(stack_top - ssize - gap);

    int argc = 0, envc = 0;
    while (argv[argc])
        argc++;
    while (envp[envc])
        envc++;
    struct creds *c = &t->proc->creds;
    struct auxv_ent aux[32];
    int na = 0;
#define AUX(type_, val_) aux[na++] = (struct auxv_ent){ (type_), (uint64_t)(val_) }
    if (mm->vdso)
        AUX(AT_SYSINFO_EHDR, mm->vdso);
    AUX(51 /* AT_MINSIGSTKSZ */, getauxval(51));
    AUX(AT_HWCAP, getauxval(AT_HWCAP));
    AUX(AT_PAGESZ, 4096);
    AUX(AT_CLKTCK, 100);
    AUX(AT_PHDR, img.phdr_vaddr ? img.phdr_vaddr + bias : 0);
    AUX(AT_PHENT, img.phent);
    AUX(AT_PHNUM, img.phnum);
    AUX(AT_BASE, 0);
    AUX(AT_FLAGS, 0);
    AUX(AT_ENTRY, img.entry + bias);
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
    struct stack_params sp = {
        .argc = argc, .argv = (const char *const *)argv,
        .envc = envc, .envp = (const char *const *)envp,
        .execfn = ef->path, .platform = "x86_64",
        .auxv = aux, .nauxv = na,
    };
    if (getrandom(sp.random, sizeof(sp.random), 0) != sizeof(sp.random)) {
        snprintf(err, errlen, "getrandom failed");
        return -EIO;
    }
    size_t blen = ssize < STACK_IMAGE_MAX ? (size_t)ssize : STACK_IMAGE_MAX;
    uint8_t *buf = malloc(blen);
    if (!buf)
        return -ENOMEM;
    uint64_t rsp;
    r = stack_build(stack_top, &sp, buf, blen, &rsp);
    if (r == 0)
        r = copy_out(t, rsp, buf + (blen - (stack_top - rsp)), stack_top - rsp);
    if (r == 0) {
        /* Where argv's and envp's strings went, for /proc/PID/cmdline and environ. */
        uint8_t *top = buf + blen;
        uint64_t v0 = 0, e0 = 0;
        memcpy(&v0, top - (stack_top - rsp) + 8, 8);
        memcpy(&e0, top - (stack_top - rsp) + 8 + 8 * ((uint64_t)argc + 1), 8);
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
    if (r < 0) {
        snprintf(err, errlen, r == -E2BIG ? "argument list too long" : "cannot build the stack");
        return (int)r;
    }

    snprintf(mm->exe, sizeof(mm->exe), "%s", ef->real);
    memset(&t->regs, 0, sizeof(t->regs));
    t->regs.rip = img.entry + bias;
    t->regs.rsp = rsp;
    t->regs.eflags = 0x200;
    return 0;
fail:
    snprintf(err, errlen, "cannot map the image: %s", strerror((int)-r));
    return (int)r;
}
