/* ELF executable parsing with libelf: header and program header validation,
 * PT_LOAD layout checks, PT_INTERP, PT_PHDR and PT_GNU_STACK. */
#include "base.h"
#include "loader/elf.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ELF_MAX_PHNUM 128
#define ELF_MAX_SPAN (64ULL << 30)

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -ENOEXEC;
}

int elf_is_elf(const void *buf, size_t len)
{
    return buf && len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

static int make_prot(uint32_t flags)
{
    int prot = 0;

    if (flags & PF_R)
        prot |= PROT_READ;
    if (flags & PF_W)
        prot |= PROT_WRITE;
    if (flags & PF_X)
        prot |= PROT_EXEC;
    return prot;
}

/* Checks one PT_LOAD against the file and the previous PT_LOAD; appends it. */
static int add_load(struct elf_image *img, const GElf_Phdr *ph, uint64_t len, char *err,
                    size_t errlen)
{
    struct elf_segment *s;
    uint64_t end;

    if (img->nseg >= ELF_MAX_SEGMENTS)
        return refuse(err, errlen, "more than %d PT_LOAD segments", ELF_MAX_SEGMENTS);
    if (ph->p_filesz > ph->p_memsz)
        return refuse(err, errlen, "segment file size exceeds memory size");
    /* A segment with no file bytes reads nothing, so its offset only
	 * matters for page congruence. */
    if (ph->p_filesz && (ph->p_offset > len || ph->p_filesz > len - ph->p_offset))
        return refuse(err, errlen, "segment outside file");
    if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end) || end > TASK_SIZE)
        return refuse(err, errlen, "segment outside user address space");
    if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)))
        return refuse(err, errlen, "segment alignment not a power of two");
    /* mmap maps whole pages, so file offset and address must agree in
	 * their page offsets. */
    if ((ph->p_vaddr - ph->p_offset) % GUEST_PAGE)
        return refuse(err, errlen, "segment address and file offset not page-congruent");
    if (img->nseg > 0) {
        const struct elf_segment *prev = &img->seg[img->nseg - 1];

        if (ph->p_vaddr < prev->vaddr)
            return refuse(err, errlen, "PT_LOAD segments not sorted by address");
        /* Sharing a page with the previous segment is fine (text end and
		 * data start); starting inside it is not. */
        if (ph->p_vaddr < prev->vaddr + prev->memsz)
            return refuse(err, errlen, "overlapping segments");
    }
    if (ph->p_align > img->align)
        img->align = ph->p_align;
    s = &img->seg[img->nseg++];
    s->vaddr = ph->p_vaddr;
    s->memsz = ph->p_memsz;
    s->filesz = ph->p_filesz;
    s->offset = ph->p_offset;
    s->prot = make_prot(ph->p_flags);
    return 0;
}

/* As load_elf_binary: p_filesz from 2 to PATH_MAX, the last byte NUL;
 * the path is the string up to the first NUL. */
static int read_interp(struct elf_image *img, const GElf_Phdr *ph, const struct elf_reader *rd,
                       char *err, size_t errlen)
{
    if (ph->p_filesz < 2 || ph->p_filesz > sizeof(img->interp))
        return refuse(err, errlen,
                      ph->p_filesz < 2 ? "interpreter path not NUL-terminated"
                                       : "interpreter path too long");
    if (ph->p_offset > rd->size || ph->p_filesz > rd->size - ph->p_offset)
        return refuse(err, errlen, "interpreter path outside file");
    int r = rd->read(rd->ctx, img->interp, (size_t)ph->p_filesz, ph->p_offset);
    if (r < 0) {
        img->interp[0] = 0;
        if (err && errlen)
            snprintf(err, errlen, "cannot read the interpreter path: %s", strerror(-r));
        return r;
    }
    if (img->interp[ph->p_filesz - 1] != '\0') {
        img->interp[0] = 0;
        return refuse(err, errlen, "interpreter path not NUL-terminated");
    }
    if (img->interp[0] == '\0')
        return refuse(err, errlen, "empty interpreter path");
    img->has_interp = 1;
    return 0;
}

/* Validates the raw header fields that bound every later read. */
static int check_ehdr(const Elf64_Ehdr *eh, uint64_t len, char *err, size_t errlen)
{
    uint64_t tab;

    if (eh->e_machine != EM_X86_64)
        return refuse(err, errlen, "not x86-64 (e_machine %u)", eh->e_machine);
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return refuse(err, errlen, "not an executable (e_type %u)", eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return refuse(err, errlen, "bad program header entry size %u", eh->e_phentsize);
    if (eh->e_phnum == 0)
        return refuse(err, errlen, "no program headers");
    if (eh->e_phnum > ELF_MAX_PHNUM)
        return refuse(err, errlen, "too many program headers (%u)", eh->e_phnum);
    tab = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr); /* <= 7168: no overflow */
    if (eh->e_phoff > len || tab > len - eh->e_phoff)
        return refuse(err, errlen, "truncated program headers");
    return 0;
}

/* Header plus program headers, repacked contiguously for libelf. */
union elf_copy {
    Elf64_Ehdr eh;
    unsigned char b[sizeof(Elf64_Ehdr) + ELF_MAX_PHNUM * sizeof(Elf64_Phdr)];
};

/* The program headers: loadable segments, the interpreter, PT_PHDR and
 * PT_GNU_STACK (the first of each counts, as in Linux). */
static int read_phdrs(Elf *e, int phnum, struct elf_image *img, const struct elf_reader *rd,
                      int *seen_phdr, char *err, size_t errlen)
{
    int seen_stack = 0, ret = 0;

    for (int i = 0; i < phnum; i++) {
        GElf_Phdr ph;

        if (!gelf_getphdr(e, i, &ph))
            return refuse(err, errlen, "libelf: %s", elf_errmsg(-1));
        switch (ph.p_type) {
        case PT_LOAD:
            ret = add_load(img, &ph, rd->size, err, errlen);
            break;
        case PT_INTERP:
            /* Linux uses the first one. */
            if (!img->has_interp)
                ret = read_interp(img, &ph, rd, err, errlen);
            break;
        case PT_PHDR:
            if (!*seen_phdr) {
                img->phdr_vaddr = ph.p_vaddr;
                *seen_phdr = 1;
            }
            break;
        case PT_GNU_STACK:
            if (!seen_stack) {
                img->exec_stack = !!(ph.p_flags & PF_X);
                seen_stack = 1;
            }
            break;
        default:
            break;
        }
        if (ret)
            return ret;
    }
    return 0;
}

/* The image's page-aligned extent, and where the program headers are
 * in memory when no PT_PHDR says so (inside a loaded segment). */
static int finish_image(struct elf_image *img, uint64_t phoff, size_t tab, int seen_phdr, char *err,
                        size_t errlen)
{
    if (img->nseg == 0)
        return refuse(err, errlen, "no loadable segments");
    /* Sorted and non-overlapping, so the first starts lowest and the last
	 * ends highest; ends are <= TASK_SIZE so rounding cannot overflow. */
    img->lo = img->seg[0].vaddr & ~(GUEST_PAGE - 1);
    img->hi = (img->seg[img->nseg - 1].vaddr + img->seg[img->nseg - 1].memsz + GUEST_PAGE - 1) &
              ~(GUEST_PAGE - 1);
    if (img->align < GUEST_PAGE)
        img->align = GUEST_PAGE;
    if (img->hi - img->lo > ELF_MAX_SPAN)
        return refuse(err, errlen, "address span of segments too large");

    if (!seen_phdr) {
        for (int i = 0; i < img->nseg; i++) {
            const struct elf_segment *s = &img->seg[i];

            if (s->offset <= phoff && phoff - s->offset <= s->filesz &&
                tab <= s->filesz - (phoff - s->offset)) {
                img->phdr_vaddr = s->vaddr + (phoff - s->offset);
                break;
            }
        }
    }
    return 0;
}

/* The reader of a file held in memory. */
struct mem_file {
    const unsigned char *b;
    size_t len;
};

static int mem_read_at(void *ctx, void *dst, size_t len, uint64_t off)
{
    const struct mem_file *m = ctx;
    if (off > m->len || len > m->len - off)
        return -EIO;
    memcpy(dst, m->b + off, len);
    return 0;
}

int elf_parse(const void *buf, size_t len, struct elf_image *img, char *err, size_t errlen)
{
    struct mem_file m = { buf, buf ? len : 0 };
    struct elf_reader rd = { mem_read_at, &m, m.len };
    return elf_parse_file(&rd, img, err, errlen);
}

int elf_parse_file(const struct elf_reader *rd, struct elf_image *img, char *err, size_t errlen)
{
    unsigned char b[EI_NIDENT];
    union elf_copy copy;
    Elf64_Ehdr raw;
    GElf_Ehdr geh;
    Elf *e;
    size_t tab;
    int seen_phdr = 0, ret = 0;
    uint64_t len = rd->size;

    if (err && errlen)
        err[0] = '\0';
    if (!img)
        return refuse(err, errlen, "no image");
    memset(img, 0, sizeof(*img));
    if (len < SELFMAG || (ret = rd->read(rd->ctx, b, SELFMAG, 0)) < 0 || !elf_is_elf(b, SELFMAG))
        return ret < 0 ? ret : refuse(err, errlen, "not an ELF file");
    if (len < EI_NIDENT)
        return refuse(err, errlen, "truncated ELF header");
    if ((ret = rd->read(rd->ctx, b, EI_NIDENT, 0)) < 0)
        return ret;
    if (b[EI_CLASS] != ELFCLASS64)
        return refuse(err, errlen, "not a 64-bit ELF file");
    if (b[EI_DATA] != ELFDATA2LSB)
        return refuse(err, errlen, "not a little-endian ELF file");
    if (len < sizeof(Elf64_Ehdr))
        return refuse(err, errlen, "truncated ELF header");
    if ((ret = rd->read(rd->ctx, &raw, sizeof(raw), 0)) < 0)
        return ret;
    ret = check_ehdr(&raw, len, err, errlen);
    if (ret)
        return ret;

    /* libelf wants a writable char * and may keep pointers into it; give
	 * it a private copy of just what we use. Section headers are hidden
	 * so it never walks them, and EI_VERSION is normalised because Linux
	 * does not check it while libelf would refuse the file. */
    tab = (size_t)raw.e_phnum * sizeof(Elf64_Phdr);
    copy.eh = raw;
    copy.eh.e_ident[EI_VERSION] = EV_CURRENT;
    copy.eh.e_version = EV_CURRENT;
    copy.eh.e_phoff = sizeof(Elf64_Ehdr);
    copy.eh.e_shoff = 0;
    copy.eh.e_shnum = 0;
    copy.eh.e_shstrndx = SHN_UNDEF;
    if ((ret = rd->read(rd->ctx, copy.b + sizeof(Elf64_Ehdr), tab, raw.e_phoff)) < 0)
        return ret;

    if (elf_version(EV_CURRENT) == EV_NONE)
        return refuse(err, errlen, "libelf: %s", elf_errmsg(-1));
    e = elf_memory((char *)copy.b, sizeof(Elf64_Ehdr) + tab);
    if (!e)
        return refuse(err, errlen, "libelf: %s", elf_errmsg(-1));
    if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &geh)) {
        ret = refuse(err, errlen, "libelf: %s", elf_errmsg(-1));
        goto out;
    }

    img->type = geh.e_type;
    img->entry = geh.e_entry;
    img->phent = geh.e_phentsize;
    img->phnum = geh.e_phnum;
    img->exec_stack = 1;

    ret = read_phdrs(e, geh.e_phnum, img, rd, &seen_phdr, err, errlen);
    if (ret)
        goto out;

    ret = finish_image(img, raw.e_phoff, tab, seen_phdr, err, errlen);
out:
    elf_end(e);
    if (ret)
        memset(img, 0, sizeof(*img));
    return ret;
}
