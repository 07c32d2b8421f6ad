/* ELF executable parsing: validates an x86-64 ELF image held in memory and
 * describes what the loader must map (PT_LOAD), the interpreter path, the
 * program header address for AT_PHDR and the stack's executability. Pure:
 * no guest process, no mapping. */
#ifndef LOADER_ELF_H
#define LOADER_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t vaddr, memsz, filesz, offset;
    int prot; /* PROT_* from p_flags */
};

struct elf_image {
    int type;       /* ET_EXEC or ET_DYN */
    uint64_t entry; /* e_entry, unrelocated */
    /* Unrelocated address of the program headers in memory (AT_PHDR - bias):
	 * PT_PHDR's p_vaddr if present, else e_phoff mapped through the PT_LOAD
	 * whose file range holds the whole table; 0 if not mapped. */
    uint64_t phdr_vaddr;
    uint16_t phent, phnum;
    struct elf_segment seg[ELF_MAX_SEGMENTS]; /* PT_LOAD only, file order */
    int nseg;
    /* Page-aligned span of all PT_LOAD: lo = floor(min vaddr),
	 * hi = ceil(max vaddr + memsz). */
    uint64_t lo, hi;
    /* The largest p_align of the PT_LOADs, at least a page (Linux's
	 * maximum_alignment): where an ET_DYN image may be placed. */
    uint64_t align;
    int has_interp;    /* PT_INTERP present */
    char interp[4096]; /* its NUL-terminated string (p_filesz <= PATH_MAX) */
    /* PT_GNU_STACK has PF_X, or there is no PT_GNU_STACK (Linux on x86-64
	 * then gives the legacy executable stack). */
    int exec_stack;
};

/* Parses buf[0..len). Returns 0, or -ENOEXEC with a one-line human reason in
 * err (if err is non-NULL and errlen > 0). Never reads outside buf. */
int elf_parse(const void *buf, size_t len, struct elf_image *img, char *err, size_t errlen);

/* A file read at offsets: read fills dst with len bytes at off (0, or
 * -errno; a short read is the reader's -EIO); size is the file's size. */
struct elf_reader {
    int (*read)(void *ctx, void *dst, size_t len, uint64_t off);
    void *ctx;
    uint64_t size;
};

/* The same for a file that is read only where the headers say: the ELF
 * header, the program headers and PT_INTERP's path. Segments are checked
 * against rd->size. A read error is returned as it is. */
int elf_parse_file(const struct elf_reader *rd, struct elf_image *img, char *err, size_t errlen);

/* 1 if buf starts with the ELF magic, else 0: tells "not ELF" (exit 126)
 * from a malformed ELF. */
int elf_is_elf(const void *buf, size_t len);

#endif /* LOADER_ELF_H */
