/* Check suite for src/loader/elf.c: valid hand-built images, one malformed
 * variant per refusal rule, truncation at every length, random byte flips,
 * and the host's /bin/true. */
#include "loader/elf.h"

#include <check.h>

#include "unit.h"
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TB_SIZE 0x4000

/* A test image: ehdr at 0, program headers right after it. */
struct tb {
    _Alignas(8) unsigned char b[TB_SIZE];
    size_t len;
};

static Elf64_Ehdr *EH(struct tb *t)
{
    return (Elf64_Ehdr *)t->b;
}
static Elf64_Phdr *PH(struct tb *t, int i)
{
    return (Elf64_Phdr *)(t->b + sizeof(Elf64_Ehdr)) + i;
}

static void tb_init(struct tb *t, int type, int phnum)
{
    Elf64_Ehdr *eh = EH(t);

    memset(t, 0, sizeof(*t));
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = type;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = phnum;
}

static void ph_set(struct tb *t, int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
                   uint64_t filesz, uint64_t memsz, uint64_t align)
{
    Elf64_Phdr *ph = PH(t, i);

    ph->p_type = type;
    ph->p_flags = flags;
    ph->p_offset = off;
    ph->p_vaddr = ph->p_paddr = vaddr;
    ph->p_filesz = filesz;
    ph->p_memsz = memsz;
    ph->p_align = align;
}

#define INTERP "/lib64/ld-linux-x86-64.so.2"
#define INTERP_OFF 0x180
#define BASIC_PHNUM 5
#define BASIC_LEN 0x240

/* ET_EXEC with PT_PHDR, PT_INTERP, text (r-x) and data (rw-, with bss, on
 * the page after text's) and a non-executable PT_GNU_STACK. */
static void make_basic(struct tb *t)
{
    tb_init(t, ET_EXEC, BASIC_PHNUM);
    EH(t)->e_entry = 0x400100;
    ph_set(t, 0, PT_PHDR, PF_R, 64, 0x400040, BASIC_PHNUM * 56, BASIC_PHNUM * 56, 8);
    ph_set(t, 1, PT_INTERP, PF_R, INTERP_OFF, 0x400000 + INTERP_OFF, sizeof(INTERP), sizeof(INTERP),
           1);
    ph_set(t, 2, PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x200, 0x200, 0x1000);
    ph_set(t, 3, PT_LOAD, PF_R | PF_W, 0x200, 0x401200, 0x40, 0x1000, 0x1000);
    ph_set(t, 4, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
    memcpy(t->b + INTERP_OFF, INTERP, sizeof(INTERP));
    t->len = BASIC_LEN;
}

static char err[256];

/* Parses from an exactly-sized heap copy so ASan sees any overread. */
static int parse_len(const struct tb *t, size_t len, struct elf_image *img)
{
    unsigned char *copy = malloc(len ? len : 1);
    int rc;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, t->b, len);
    memset(err, 'X', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    rc = elf_parse(copy, len, img, err, sizeof(err));
    free(copy);
    return rc;
}

static int parse(const struct tb *t, struct elf_image *img)
{
    return parse_len(t, t->len, img);
}

/* Expects a refusal whose reason contains want. */
static void refused(struct tb *t, const char *want)
{
    struct elf_image img;
    int rc = parse(t, &img);

    ck_assert_msg(rc == -ENOEXEC, "want refusal '%s', got %d", want, rc);
    ck_assert_msg(strstr(err, want), "reason '%s' lacks '%s'", err, want);
    ck_assert_int_eq(img.nseg, 0);
}

/* Parses t, which must be accepted; returns the image. */
static struct elf_image accepted(struct tb *t)
{
    struct elf_image img;

    ck_assert_int_eq(parse(t, &img), 0);
    return img;
}

START_TEST(basic_exec)
{
    struct tb t;
    struct elf_image img;

    make_basic(&t);
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(img.type, ET_EXEC);
    ck_assert_uint_eq(img.entry, 0x400100);
    ck_assert_uint_eq(img.phdr_vaddr, 0x400040);
    ck_assert_uint_eq(img.phent, sizeof(Elf64_Phdr));
    ck_assert_uint_eq(img.phnum, BASIC_PHNUM);
    ck_assert_int_eq(img.nseg, 2);
    ck_assert_uint_eq(img.seg[0].vaddr, 0x400000);
    ck_assert_uint_eq(img.seg[0].memsz, 0x200);
    ck_assert_uint_eq(img.seg[0].filesz, 0x200);
    ck_assert_uint_eq(img.seg[0].offset, 0);
    ck_assert_int_eq(img.seg[0].prot, PROT_READ | PROT_EXEC);
    ck_assert_uint_eq(img.seg[1].vaddr, 0x401200);
    ck_assert_uint_eq(img.seg[1].memsz, 0x1000);
    ck_assert_uint_eq(img.seg[1].filesz, 0x40);
    ck_assert_uint_eq(img.seg[1].offset, 0x200);
    ck_assert_int_eq(img.seg[1].prot, PROT_READ | PROT_WRITE);
    ck_assert_uint_eq(img.lo, 0x400000);
    ck_assert_uint_eq(img.hi, 0x403000);
    ck_assert_int_eq(img.has_interp, 1);
    ck_assert_str_eq(img.interp, INTERP);
    ck_assert_int_eq(img.exec_stack, 0);
    ck_assert_int_eq(elf_is_elf(t.b, t.len), 1);
}
END_TEST

START_TEST(phdr_without_pt_phdr)
{
    struct tb t;

    make_basic(&t);
    PH(&t, 0)->p_type = PT_NULL;
    ck_assert_uint_eq(accepted(&t).phdr_vaddr, 0x400040);

    /* Text starting at file offset 0x1000 does not contain the table. */
    make_basic(&t);
    PH(&t, 0)->p_type = PT_NULL;
    ph_set(&t, 2, PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0x10, 0x10, 0x1000);
    ph_set(&t, 3, PT_LOAD, PF_R | PF_W, 0x1010, 0x401010, 0x10, 0x10, 0x1000);
    t.len = 0x1020;
    ck_assert_uint_eq(accepted(&t).phdr_vaddr, 0);

    /* A segment holding only part of the table does not map it. */
    make_basic(&t);
    PH(&t, 0)->p_type = PT_NULL;
    PH(&t, 2)->p_filesz = 64 + 56;
    ck_assert_uint_eq(accepted(&t).phdr_vaddr, 0);
}
END_TEST

START_TEST(pt_phdr_wins)
{
    struct tb t;

    make_basic(&t);
    PH(&t, 0)->p_vaddr = 0x400080; /* odd, but PT_PHDR is authoritative */
    ck_assert_uint_eq(accepted(&t).phdr_vaddr, 0x400080);
}
END_TEST

START_TEST(static_pie)
{
    struct tb t;
    struct elf_image img;

    /* ET_DYN at 0 with no interpreter and no PT_GNU_STACK; the two
	 * segments share page 0x1000. */
    tb_init(&t, ET_DYN, 2);
    EH(&t)->e_entry = 0x1040;
    ph_set(&t, 0, PT_LOAD, PF_R | PF_X, 0, 0, 0x1100, 0x1100, 0x1000);
    ph_set(&t, 1, PT_LOAD, PF_R | PF_W, 0x1100, 0x1100, 0x20, 0x5000, 0x1000);
    t.len = 0x1120;
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_int_eq(img.type, ET_DYN);
    ck_assert_uint_eq(img.entry, 0x1040);
    ck_assert_uint_eq(img.lo, 0);
    ck_assert_uint_eq(img.hi, 0x7000);
    ck_assert_uint_eq(img.phdr_vaddr, 64);
    ck_assert_int_eq(img.has_interp, 0);
    ck_assert_str_eq(img.interp, "");
    ck_assert_int_eq(img.exec_stack, 1);
    ck_assert_int_eq(img.nseg, 2);
}
END_TEST

START_TEST(dyn_nonzero_lo_and_quirks)
{
    struct tb t;
    struct elf_image img;

    /* ET_DYN prelinked high, p_align 0 and 1, an empty (memsz 0) PT_LOAD
	 * after data, PF_X stack, EI_VERSION 0 (Linux does not check it). */
    make_basic(&t);
    EH(&t)->e_type = ET_DYN;
    EH(&t)->e_ident[EI_VERSION] = 0;
    PH(&t, 2)->p_align = 0;
    PH(&t, 3)->p_align = 1;
    PH(&t, 4)->p_flags = PF_R | PF_W | PF_X;
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_uint_eq(img.lo, 0x400000);
    ck_assert_int_eq(img.exec_stack, 1);

    tb_init(&t, ET_DYN, 3);
    ph_set(&t, 0, PT_LOAD, PF_R, 0, 0x10000, 0x100, 0x100, 0x1000);
    ph_set(&t, 1, PT_LOAD, PF_R | PF_W, 0x100, 0x11100, 0x10, 0x10, 0x1000);
    ph_set(&t, 2, PT_LOAD, PF_R, 0x110, 0x12110, 0, 0, 0x1000);
    t.len = 0x110;
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_int_eq(img.nseg, 3);
    ck_assert_uint_eq(img.lo, 0x10000);
    ck_assert_uint_eq(img.hi, 0x13000);
    ck_assert_int_eq(img.seg[0].prot, PROT_READ);
}
END_TEST

START_TEST(max_segments)
{
    struct tb t;
    struct elf_image img;

    tb_init(&t, ET_EXEC, ELF_MAX_SEGMENTS + 1);
    for (int i = 0; i <= ELF_MAX_SEGMENTS; i++)
        ph_set(&t, i, PT_LOAD, PF_R, 0x1000, 0x400000 + 0x1000 * (uint64_t)i, 0x10, 0x10, 0x1000);
    t.len = 0x1010;
    refused(&t, "more than 16 PT_LOAD");

    EH(&t)->e_phnum = ELF_MAX_SEGMENTS;
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_int_eq(img.nseg, ELF_MAX_SEGMENTS);
}
END_TEST

/* make_basic, the given changes to t, then refused with want: one line a
 * case. */
#define REFUSED_WITH(want, ...)                                                                    \
    do {                                                                                           \
        make_basic(&t);                                                                            \
        __VA_ARGS__;                                                                               \
        refused(&t, want);                                                                         \
    } while (0)

/* One case per refusal rule. */
START_TEST(malformed_header)
{
    struct tb t;

    REFUSED_WITH("not an ELF file", t.b[1] = 'e');
    ck_assert_int_eq(elf_is_elf(t.b, t.len), 0);

    REFUSED_WITH("64-bit", EH(&t)->e_ident[EI_CLASS] = ELFCLASS32);
    ck_assert_int_eq(elf_is_elf(t.b, t.len), 1);

    REFUSED_WITH("little-endian", EH(&t)->e_ident[EI_DATA] = ELFDATA2MSB);
    REFUSED_WITH("not x86-64", EH(&t)->e_machine = EM_386);
    REFUSED_WITH("not x86-64", EH(&t)->e_machine = EM_AARCH64);
    REFUSED_WITH("not an executable", EH(&t)->e_type = ET_REL);
    REFUSED_WITH("not an executable", EH(&t)->e_type = ET_CORE);
    REFUSED_WITH("entry size", EH(&t)->e_phentsize = 32);
    REFUSED_WITH("no program headers", EH(&t)->e_phnum = 0);
    REFUSED_WITH("too many program headers", EH(&t)->e_phnum = 129, t.len = TB_SIZE);
    REFUSED_WITH("too many program headers", EH(&t)->e_phnum = PN_XNUM);
    REFUSED_WITH("truncated program headers", EH(&t)->e_phoff = BASIC_LEN - 56 * BASIC_PHNUM + 1);
    /* phoff + size wraps. */
    REFUSED_WITH("truncated program headers", EH(&t)->e_phoff = UINT64_MAX - 100);
    REFUSED_WITH("truncated ELF header", t.len = 40);
    REFUSED_WITH("not an ELF file", t.len = 3);
}
END_TEST

START_TEST(malformed_segments)
{
    struct tb t;

    REFUSED_WITH("no loadable segments", PH(&t, 2)->p_type = PT_NULL, PH(&t, 3)->p_type = PT_NOTE);
    REFUSED_WITH("file size exceeds memory size", PH(&t, 3)->p_filesz = 0x2000);
    /* One byte past the end of the file. */
    REFUSED_WITH("segment outside file", PH(&t, 3)->p_filesz = 0x41);
    /* Offset + filesz wraps. */
    REFUSED_WITH("segment outside file", PH(&t, 3)->p_offset = UINT64_MAX - 0xf);
    REFUSED_WITH("segment outside file", PH(&t, 3)->p_offset = BASIC_LEN + 0x1000);
    /* vaddr + memsz wraps. */
    REFUSED_WITH("user address space", PH(&t, 3)->p_vaddr = UINT64_MAX - 0x7ff,
                 PH(&t, 3)->p_offset = 0x800, PH(&t, 3)->p_filesz = 0);
    REFUSED_WITH("user address space", PH(&t, 3)->p_vaddr = 0x7ffffffff200);
    REFUSED_WITH("user address space", PH(&t, 3)->p_vaddr = 0x800000000200); /* kernel half */
    REFUSED_WITH("power of two", PH(&t, 3)->p_align = 0x3000);
    REFUSED_WITH("page-congruent", PH(&t, 3)->p_vaddr = 0x401300);
    REFUSED_WITH("not sorted", PH(&t, 3)->p_vaddr = 0x300200); /* data below text */
    /* Data starts inside text. */
    REFUSED_WITH("overlapping", PH(&t, 3)->p_vaddr = 0x400100, PH(&t, 3)->p_offset = 0x100);
    REFUSED_WITH("span", PH(&t, 3)->p_vaddr = 0x400200 + (65ULL << 30));

    make_basic(&t); /* exactly 64 GiB is still fine */
    PH(&t, 3)->p_vaddr = 0x400200 + (64ULL << 30) - 0x2000;
    {
        struct elf_image img;
        ck_assert_int_eq(parse(&t, &img), 0);
        ck_assert_uint_eq(img.hi - img.lo, 64ULL << 30);
    }
}
END_TEST

START_TEST(malformed_interp)
{
    struct tb t;
    struct elf_image img;

    /* NUL outside filesz */
    REFUSED_WITH("not NUL-terminated", PH(&t, 1)->p_filesz = sizeof(INTERP) - 1);
    REFUSED_WITH("not NUL-terminated", PH(&t, 1)->p_filesz = 0);
    REFUSED_WITH("not NUL-terminated", memset(t.b + INTERP_OFF, 'a', 0x40),
                 PH(&t, 1)->p_filesz = 0x40);
    REFUSED_WITH("empty interpreter", t.b[INTERP_OFF] = '\0');

    /* A p_filesz past PATH_MAX is refused, as load_elf_binary does. */
    make_basic(&t);
    PH(&t, 1)->p_offset = 0x300;
    PH(&t, 1)->p_filesz = 4097;
    memset(t.b + 0x300, 'a', 4096);
    t.b[0x300 + 4096] = '\0';
    t.len = 0x300 + 4097;
    refused(&t, "too long");

    /* 4095 characters fit. */
    PH(&t, 1)->p_filesz = 4096;
    t.b[0x300 + 4095] = '\0';
    ck_assert_int_eq(parse(&t, &img), 0);
    ck_assert_uint_eq(strlen(img.interp), 4095);

    REFUSED_WITH("outside file", PH(&t, 1)->p_offset = BASIC_LEN - 4);
    REFUSED_WITH("outside file", PH(&t, 1)->p_offset = UINT64_MAX - 2);
}
END_TEST

START_TEST(truncation)
{
    struct tb t;
    struct elf_image img;

    make_basic(&t);
    for (size_t len = 0; len < BASIC_LEN; len++) {
        int rc = parse_len(&t, len, &img);

        ck_assert_msg(rc == -ENOEXEC, "len %zu: rc %d", len, rc);
        ck_assert_msg(err[0] && err[0] != 'X', "len %zu: no reason", len);
    }
    ck_assert_int_eq(parse_len(&t, BASIC_LEN, &img), 0);
    ck_assert_int_eq(elf_parse(NULL, 0, &img, err, sizeof(err)), -ENOEXEC);
    /* No error buffer is fine too. */
    ck_assert_int_eq(elf_parse(t.b, 10, &img, NULL, 0), -ENOEXEC);
    ck_assert_int_eq(elf_parse(t.b, 10, &img, err, 1), -ENOEXEC);
    ck_assert_str_eq(err, "");
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Whatever a successful parse returns must be self-consistent. */
static void check_sane(const struct elf_image *img, size_t len)
{
    ck_assert(img->type == ET_EXEC || img->type == ET_DYN);
    ck_assert(img->nseg >= 1 && img->nseg <= ELF_MAX_SEGMENTS);
    ck_assert(img->lo <= img->hi && img->hi - img->lo <= (64ULL << 30));
    ck_assert(img->hi <= 0x7ffffffff000ULL);
    for (int i = 0; i < img->nseg; i++) {
        const struct elf_segment *s = &img->seg[i];

        ck_assert(s->filesz <= s->memsz);
        ck_assert(!s->filesz || s->offset + s->filesz <= len);
        ck_assert(s->vaddr >= img->lo && s->vaddr + s->memsz <= img->hi);
        ck_assert((s->vaddr - s->offset) % 4096 == 0);
        if (i)
            ck_assert(s->vaddr >= s[-1].vaddr + s[-1].memsz);
    }
    ck_assert(memchr(img->interp, '\0', sizeof(img->interp)));
    ck_assert(!img->has_interp || img->interp[0]);
}

START_TEST(fuzz_flips)
{
    struct tb base, t;
    struct elf_image img;
    int ok = 0;

    make_basic(&base);
    for (int iter = 0; iter < 5000; iter++) {
        int flips = 1 + (int)(next_rand() % 4);
        size_t len = base.len;

        t = base;
        for (int f = 0; f < flips; f++) {
            /* Mostly the header and program headers, where parsing
			 * decisions are made. */
            size_t span = next_rand() % 4 ? 64 + 56 * BASIC_PHNUM : base.len;
            size_t pos = next_rand() % span;

            t.b[pos] ^= (unsigned char)(1u << (next_rand() % 8));
            if (next_rand() % 8 == 0)
                t.b[pos] = (unsigned char)next_rand();
        }
        if (next_rand() % 16 == 0)
            len = next_rand() % (base.len + 1);
        int rc = parse_len(&t, len, &img);

        ck_assert_msg(rc == 0 || rc == -ENOEXEC, "iter %d: rc %d", iter, rc);
        if (rc == 0) {
            check_sane(&img, len);
            ok++;
        }
    }
    /* Flips of unused bytes keep the image valid: both paths were run. */
    ck_assert_int_gt(ok, 0);
    ck_assert_int_lt(ok, 5000);
}
END_TEST

START_TEST(host_bin_true)
{
    FILE *f = fopen("/bin/true", "rb");
    struct elf_image img;
    unsigned char *buf;
    long n;

    if (!f)
        return; /* not readable here: nothing to compare against */
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    buf = malloc((size_t)n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);

    ck_assert_int_eq(elf_is_elf(buf, (size_t)n), 1);
    ck_assert_msg(elf_parse(buf, (size_t)n, &img, err, sizeof(err)) == 0, "/bin/true: %s", err);
    check_sane(&img, (size_t)n);
    ck_assert_int_eq(img.has_interp, 1);
    ck_assert_msg(strstr(img.interp, "ld-linux") || strstr(img.interp, "ld-musl"), "interp %s",
                  img.interp);
    ck_assert_int_ge(img.nseg, 2);
    ck_assert_uint_eq(img.phent, sizeof(Elf64_Phdr));
    ck_assert_uint_ne(img.phdr_vaddr, 0);
    ck_assert(img.entry >= img.lo && img.entry < img.hi);
    ck_assert_int_eq(img.exec_stack, 0);
    free(buf);
}
END_TEST

UNIT_MAIN("loader_elf", "parse", NULL, NULL, 60, basic_exec, phdr_without_pt_phdr, pt_phdr_wins,
          static_pie, dyn_nonzero_lo_and_quirks, max_segments, malformed_header, malformed_segments,
          malformed_interp, truncation, fuzz_flips, host_bin_true)
