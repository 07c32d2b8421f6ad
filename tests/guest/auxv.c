/* auxv.c: the initial stack as the loader built it: argv, envp and the
 * auxiliary vector, its values and Linux's order of entries; the program
 * file behind AT_EXECFN and /proc/self/exe. */
#include "guest.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char _start[];
/* Linker-defined: the ELF header of this executable, as mapped. */
extern const Elf64_Ehdr __ehdr_start;

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

static const char *at_name(unsigned long t)
{
    switch (t) {
    case AT_NULL:
        return "NULL";
    case AT_PHDR:
        return "PHDR";
    case AT_PHENT:
        return "PHENT";
    case AT_PHNUM:
        return "PHNUM";
    case AT_PAGESZ:
        return "PAGESZ";
    case AT_BASE:
        return "BASE";
    case AT_FLAGS:
        return "FLAGS";
    case AT_ENTRY:
        return "ENTRY";
    case AT_UID:
        return "UID";
    case AT_EUID:
        return "EUID";
    case AT_GID:
        return "GID";
    case AT_EGID:
        return "EGID";
    case AT_PLATFORM:
        return "PLATFORM";
    case AT_HWCAP:
        return "HWCAP";
    case AT_CLKTCK:
        return "CLKTCK";
    case AT_SECURE:
        return "SECURE";
    case AT_RANDOM:
        return "RANDOM";
    case AT_HWCAP2:
        return "HWCAP2";
    case AT_EXECFN:
        return "EXECFN";
    case AT_SYSINFO_EHDR:
        return "SYSINFO_EHDR";
    case AT_MINSIGSTKSZ:
        return "MINSIGSTKSZ";
    case AT_RSEQ_FEATURE_SIZE:
        return "RSEQ_FEATURE_SIZE";
    case AT_RSEQ_ALIGN:
        return "RSEQ_ALIGN";
    default:
        return NULL;
    }
}

int main(int argc, char **argv, char **envp)
{
    check(argv[argc] == NULL, "argv[argc] is NULL");
    char **e = envp;
    while (*e)
        e++;
    unsigned long *auxv = (unsigned long *)(e + 1);
    size_t n = 0;
    while (auxv[2 * n] != AT_NULL)
        n++;
    check(n > 10 && n < 64, "auxv has a plausible length");

    /* Types in Linux's order; values differ between runs so stay quiet. */
    char line[1024];
    int len = snprintf(line, sizeof line, "auxv:");
    int dup = 0;
    unsigned long val[64] = { 0 };
    int seen[64] = { 0 };
    for (size_t i = 0; i <= n; i++) {
        unsigned long t = auxv[2 * i];
        const char *nm = at_name(t);
        if (nm)
            len += snprintf(line + len, sizeof line - len, " %s", nm);
        else
            len += snprintf(line + len, sizeof line - len, " %lu", t);
        if (t < 64) {
            dup |= seen[t];
            seen[t] = 1;
            val[t] = auxv[2 * i + 1];
        }
    }
    out("%s\n", line);
    check(!dup, "no auxv type repeats");

    for (unsigned long t = 1; t < 64; t++)
        if (seen[t] && getauxval(t) != val[t])
            check(0, "getauxval(AT_%s) agrees", at_name(t));
    check(getauxval(AT_PAGESZ) == val[AT_PAGESZ], "getauxval agrees");

    check(val[AT_PAGESZ] == 4096, "AT_PAGESZ is 4096");
    check(val[AT_PHENT] == sizeof(Elf64_Phdr), "AT_PHENT is 56");
    check(val[AT_PHNUM] == __ehdr_start.e_phnum, "AT_PHNUM matches the ELF");
    check(val[AT_PHDR] == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff,
          "AT_PHDR points at the program headers");
    check(val[AT_ENTRY] == (unsigned long)_start, "AT_ENTRY is _start");
    check(val[AT_ENTRY] == __ehdr_start.e_entry, "AT_ENTRY is e_entry");
    check(seen[AT_BASE] && val[AT_BASE] == 0, "AT_BASE is 0 (no interpreter)");
    check(seen[AT_FLAGS] && val[AT_FLAGS] == 0, "AT_FLAGS is 0");

    const char *execfn = (const char *)val[AT_EXECFN];
    check(execfn && strcmp(execfn, argv[0]) == 0, "AT_EXECFN equals argv[0]");
    /* Linux copies the file name first, right above the env strings. */
    if (envp[0] && execfn) {
        char *last = e[-1];
        check(last + strlen(last) + 1 == execfn, "AT_EXECFN sits just above the env strings");
    }
    /* /proc/self/exe is the file that was run: the same inode as the name
     * given, readable, its link text the name made absolute. */
    if (execfn) {
        struct stat a, b;
        char link[4096] = "", real[4096] = "", magic[4] = "";
        long fd = sc(SYS_open, "/proc/self/exe", O_RDONLY);
        check(fd >= 0, "open /proc/self/exe");
        check(fd >= 0 && sc(SYS_fstat, fd, &a) == 0 && sc(SYS_stat, execfn, &b) == 0 &&
                  a.st_dev == b.st_dev && a.st_ino == b.st_ino,
              "/proc/self/exe is the file AT_EXECFN names");
        check(fd >= 0 && sc(SYS_read, fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0,
              "and reads as an ELF file");
        if (fd >= 0)
            sc(SYS_close, fd);
        long n = sc(SYS_readlink, "/proc/self/exe", link, sizeof link - 1);
        check(n > 0 && realpath(execfn, real) && strcmp(link, real) == 0,
              "readlink /proc/self/exe is AT_EXECFN made absolute");
    }
    const unsigned char *rnd = (const unsigned char *)val[AT_RANDOM];
    check(rnd != NULL, "AT_RANDOM non-null");
    int nz = 0;
    for (int i = 0; rnd && i < 16; i++)
        nz |= rnd[i];
    check(nz != 0, "AT_RANDOM bytes not all zero");
    check((unsigned long)rnd > (unsigned long)auxv && (unsigned long)rnd < (unsigned long)execfn,
          "AT_RANDOM lies between auxv and the strings");

    const unsigned char *vdso = (const unsigned char *)val[AT_SYSINFO_EHDR];
    check(vdso && memcmp(vdso, "\177ELF", 4) == 0, "AT_SYSINFO_EHDR points at an ELF header");
    check(vdso && (val[AT_SYSINFO_EHDR] & 4095) == 0, "vDSO is page aligned");

    check(val[AT_UID] == getuid() && val[AT_EUID] == geteuid(), "AT_UID/AT_EUID match");
    check(val[AT_GID] == getgid() && val[AT_EGID] == getegid(), "AT_GID/AT_EGID match");
    check(seen[AT_SECURE] && val[AT_SECURE] == 0, "AT_SECURE is 0");
    check(val[AT_CLKTCK] == 100, "AT_CLKTCK is 100");
    check(val[AT_HWCAP] != 0, "AT_HWCAP non-zero");
    const char *plat = (const char *)val[AT_PLATFORM];
    check(plat && strcmp(plat, "x86_64") == 0, "AT_PLATFORM is x86_64");
    if (seen[AT_MINSIGSTKSZ])
        check(val[AT_MINSIGSTKSZ] >= 1024 && val[AT_MINSIGSTKSZ] < 65536,
              "AT_MINSIGSTKSZ plausible");
    if (seen[AT_RSEQ_ALIGN])
        check(val[AT_RSEQ_ALIGN] >= 32 && val[AT_RSEQ_FEATURE_SIZE] >= 20, "AT_RSEQ_* plausible");

    /* Stack layout: argc below argv, 16-byte aligned at entry. */
    check(((long *)argv)[-1] == argc, "argc precedes argv");
    check(((unsigned long)(argv - 1) & 15) == 0, "initial stack pointer 16-byte aligned");
    return finish();
}
