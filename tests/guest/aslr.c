/* aslr.c: where Linux x86-64 places the stack, the mmap area and the break
 * of a static (ET_EXEC) program, with or without randomisation, and
 * personality(2). Addresses change from run to run, so nothing here prints
 * one: only ranges and alignment are checked (tests/e2e/cli.sh compares two
 * runs, and two runs with --no-aslr). */
#include "guest.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define TASK_SIZE 0x7ffffffff000UL
#define PAGE 4096UL
#define GiB (1UL << 30)
#define MiB (1UL << 20)
#define STACK_RND (0x3fffffUL * PAGE)       /* 22 bits of pages */
#define MMAP_RND (((1UL << 28) - 1) * PAGE) /* 28 bits of pages */
#ifndef ADDR_NO_RANDOMIZE
#define ADDR_NO_RANDOMIZE 0x0040000
#endif

extern char _end[];
extern const Elf64_Ehdr __ehdr_start;

/* The first mapping of /proc/self/maps named name: [lo, hi). Raw calls
 * into a static buffer: no malloc, which could move the break. */
static int find_map(const char *name, unsigned long *lo, unsigned long *hi)
{
    static char buf[65536];
    long fd = sc(SYS_open, "/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    long n = 0, r;
    while (n < (long)sizeof buf - 1 && (r = sc(SYS_read, fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    sc(SYS_close, fd);
    buf[n] = 0;
    size_t k = strlen(name);
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        size_t len = strlen(line);
        if (len >= k && strcmp(line + len - k, name) == 0 && sscanf(line, "%lx-%lx", lo, hi) == 2)
            return 1;
        if (!nl)
            break;
        line = nl + 1;
    }
    return 0;
}

static void test_personality(void)
{
    check_ret(sc(SYS_personality, ADDR_NO_RANDOMIZE), 0,
              "personality(ADDR_NO_RANDOMIZE) returns the old 0");
    check_ret(sc(SYS_personality, 0xffffffffUL), ADDR_NO_RANDOMIZE,
              "personality(0xffffffff) only asks");
    check_ret(sc(SYS_personality, 0x12345678), ADDR_NO_RANDOMIZE, "unknown persona taken as it is");
    check_ret(sc(SYS_personality, 0xffffffffUL), 0x12345678, "and kept");
    check_ret(sc(SYS_personality, 0x1ffffffffUL), 0x12345678,
              "the argument is an unsigned int: asks");
    check_ret(sc(SYS_personality, -1L), 0x12345678, "-1 asks too");
    check_ret(sc(SYS_personality, 0xfffffffeUL), 0x12345678, "0xfffffffe is set");
    check_ret(sc(SYS_personality, 0), 0xfffffffeL, "returned as an unsigned int");
    check_ret(sc(SYS_personality, 0xffffffffUL), 0, "PER_LINUX again");
}

int main(int argc, char **argv)
{
    (void)argc;
    unsigned long brk0 = (unsigned long)sc(SYS_brk, 0);
    long pers = sc(SYS_personality, 0xffffffffUL);
    /* Natively this runs as its caller made it; compare.sh does not ask
     * for setarch -R, and the sandbox randomises unless --no-aslr. */
    check_ret(pers, 0, "personality is PER_LINUX");
    int rnd = !(pers & ADDR_NO_RANDOMIZE);

    /* The stack: its top is TASK_SIZE less up to 16 GiB (and a page from
     * arch_align_stack), the file name sits 8 bytes below the top. */
    unsigned long slo = 0, shi = 0;
    check(find_map("[stack]", &slo, &shi), "[stack] in /proc/self/maps");
    int local = 0;
    unsigned long sp = (unsigned long)&local;
    check(slo <= sp && sp < shi, "a local variable lies in [stack]");
    check(shi <= TASK_SIZE && shi >= TASK_SIZE - (rnd ? STACK_RND : 0) - PAGE,
          "stack top within the randomised range below TASK_SIZE");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    check(execfn && (unsigned long)execfn + strlen(execfn) + 1 == shi - 8,
          "AT_EXECFN's string ends 8 bytes below the stack top");
    /* arch_align_stack: below the argv strings, up to 8 KiB random and
     * 16-byte alignment, then the AT_PLATFORM string. */
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    unsigned long gap =
        plat ? (unsigned long)argv[0] - ((unsigned long)plat + strlen(plat) + 1) : ~0UL;
    check(gap < (rnd ? 8192UL : 0) + 16,
          "gap under the argv strings is what arch_align_stack leaves");

    /* mmap: below mmap_base = TASK_SIZE - gap - random, gap being the stack
     * limit plus the stack's randomisation and guard (128 MiB at least). */
    struct rlimit rl;
    check(getrlimit(RLIMIT_STACK, &rl) == 0, "getrlimit(RLIMIT_STACK)");
    unsigned long g = rl.rlim_cur, pad = (rnd ? STACK_RND : 0) + MiB;
    if (g + pad > g)
        g += pad;
    if (g < 128 * MiB)
        g = 128 * MiB;
    if (g > TASK_SIZE / 6 * 5)
        g = TASK_SIZE / 6 * 5;
    unsigned long base_hi = TASK_SIZE - g, base_lo = base_hi - (rnd ? MMAP_RND : 0);
    void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long ma = (unsigned long)m;
    check(m != MAP_FAILED && (ma & (PAGE - 1)) == 0, "mmap(NULL) is page-aligned");
    check(ma < base_hi && ma >= base_lo - 64 * MiB,
          "mmap(NULL) lies just below the randomised mmap base");
    check(ma < slo, "and below the stack");
    void *big = mmap(NULL, 64 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(big != MAP_FAILED && (unsigned long)big + 64 * MiB <= ma,
          "the next mapping goes below it (top-down)");
    munmap(big, 64 * MiB);
    munmap(m, PAGE);

    /* The break of an ET_EXEC program: after the image, plus a page and up
     * to 1 GiB when randomised (arch_randomize_brk on 64-bit). */
    check(__ehdr_start.e_type == ET_EXEC, "this test is an ET_EXEC program");
    unsigned long img_end = ((unsigned long)_end + PAGE - 1) & ~(PAGE - 1);
    check((brk0 & (PAGE - 1)) == 0, "the initial break is page-aligned");
    check(rnd ? brk0 >= img_end + PAGE && brk0 <= img_end + GiB : brk0 == img_end,
          "the initial break is within the randomised range after the image");
    unsigned long hlo = 0, hhi = 0;
    check((unsigned long)sc(SYS_brk, brk0 + 2 * PAGE) == brk0 + 2 * PAGE, "brk grows");
    check(find_map("[heap]", &hlo, &hhi) && hlo == brk0 && hhi == brk0 + 2 * PAGE,
          "[heap] runs from the initial break to the break");
    check((unsigned long)sc(SYS_brk, brk0) == brk0, "brk shrinks back");

    test_personality();
    return finish();
}
