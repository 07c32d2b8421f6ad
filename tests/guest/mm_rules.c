/* mm_rules.c: the address-space rules of mmap, mremap and brk that a
 * conformance suite checks: MAP_FIXED_NOREPLACE (also with MAP_FIXED),
 * MAP_32BIT placement, RLIMIT_AS on mmap, mremap and brk, and mremap's
 * ENOMEM when a mapping cannot grow in place without MREMAP_MAYMOVE. */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PG 4096UL
#define MIB (1024UL * 1024UL)
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* check_ret for addresses, which differ between runs: prints no number. */
static int check_addr(long r, long want, const char *name)
{
    return check(r == want, "%s%s%s", name, r == want ? "" : " -> ", r == want ? "" : ret_name(r));
}

static long map(long hint, unsigned long len, int prot, int flags)
{
    return sc(SYS_mmap, hint, len, prot, flags, -1, 0);
}

static int is_err(long r)
{
    return r < 0 && r >= -4095;
}

static void test_noreplace(void)
{
    /* Eight pages; the upper four unmapped again. */
    long p = map(0, 8 * PG, PROT_READ | PROT_WRITE, ANON);
    if (!check(!is_err(p), "mmap 8 pages"))
        return;
    sc(SYS_munmap, p + 4 * PG, 4 * PG);
    ((char *)p)[PG] = 'A';
    check_err(map(p + PG, PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE), EEXIST,
              "MAP_FIXED_NOREPLACE over a mapping");
    check_err(map(p + PG, PG, PROT_READ, ANON | MAP_FIXED | MAP_FIXED_NOREPLACE), EEXIST,
              "MAP_FIXED | MAP_FIXED_NOREPLACE over a mapping");
    check_err(map(p + 2 * PG, 4 * PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE), EEXIST,
              "MAP_FIXED_NOREPLACE over the end of a mapping");
    check_err(map(p + 2 * PG, 4 * PG, PROT_READ, ANON | MAP_FIXED | MAP_FIXED_NOREPLACE), EEXIST,
              "MAP_FIXED | MAP_FIXED_NOREPLACE over the end of a mapping");
    check(((char *)p)[PG] == 'A', "the refused mappings changed nothing");
    check_err(map(p + 4 * PG + 1, PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE), EINVAL,
              "MAP_FIXED_NOREPLACE at an unaligned address");
    check_addr(map(p + 4 * PG, 4 * PG, PROT_READ, ANON | MAP_FIXED | MAP_FIXED_NOREPLACE),
               p + 4 * PG, "MAP_FIXED | MAP_FIXED_NOREPLACE on free pages");
    check_addr(map(p + 4 * PG, 4 * PG, PROT_READ, ANON | MAP_FIXED), p + 4 * PG,
               "MAP_FIXED over a mapping replaces it");
    sc(SYS_munmap, p, 8 * PG);
}

static void test_hint(void)
{
    /* round_hint_to_min: a hint below vm.mmap_min_addr (64 KiB) asks for it. */
    long h = map(0x1000, PG, PROT_READ, ANON);
    check_ret(h, 0x10000, "a hint below mmap_min_addr gives mmap_min_addr");
    sc(SYS_munmap, h, PG);
    check_ret(map(0x10000000001L, PG, PROT_READ, ANON), 0x10000000000L,
              "an unaligned hint is rounded down");
    sc(SYS_munmap, 0x10000000000L, PG);
}

static void test_32bit(void)
{
    unsigned long len = 16 * PG;
    long a = map(0, len, PROT_READ | PROT_WRITE, ANON | MAP_32BIT);
    check(!is_err(a) && a >= 0x40000000L && a + (long)len <= 0x80000000L,
          "MAP_32BIT mapping lies in [1 GiB, 2 GiB)");
    long b = map(0, len, PROT_READ | PROT_WRITE, ANON | MAP_32BIT);
    check(!is_err(b) && b >= 0x40000000L && b + (long)len <= 0x80000000L,
          "a second MAP_32BIT mapping too");
    /* Linux searches upwards from 1 GiB plus a random offset below 32 MiB
     * (none under ADDR_NO_RANDOMIZE). */
    check(a < 0x42000000L + (long)len, "MAP_32BIT starts its search near 1 GiB");
    /* A free hint below 2 GiB is taken; one above is not. */
    check_ret(map(0x50000000L, len, PROT_READ, ANON | MAP_32BIT), 0x50000000L,
              "MAP_32BIT takes a free hint below 2 GiB");
    sc(SYS_munmap, 0x50000000L, len);
    check_ret(map(0x50000001L, len, PROT_READ, ANON | MAP_32BIT), 0x50000000L,
              "MAP_32BIT rounds an unaligned hint down");
    long s = map(0x7ffff000L, 2 * PG, PROT_READ, ANON | MAP_32BIT);
    check(!is_err(s) && s + 2 * (long)PG <= 0x80000000L,
          "MAP_32BIT ignores a hint that ends above 2 GiB");
    sc(SYS_munmap, s, 2 * PG);
    long c = map(0x90000000L, len, PROT_READ, ANON | MAP_32BIT);
    check(!is_err(c) && c >= 0x40000000L && c + (long)len <= 0x80000000L,
          "MAP_32BIT ignores a hint above 2 GiB");
    check_err(map(0, 0xc0000000UL, PROT_NONE, ANON | MAP_32BIT | MAP_NORESERVE), ENOMEM,
              "MAP_32BIT of 3 GiB");
    check_err(map(0, 0x40000000UL + PG, PROT_NONE, ANON | MAP_32BIT | MAP_NORESERVE), ENOMEM,
              "MAP_32BIT of more than 1 GiB");
    /* With MAP_FIXED the address is the caller's. */
    long f = map(0x300000000L, PG, PROT_READ, ANON | MAP_32BIT | MAP_FIXED);
    check_ret(f, 0x300000000L, "MAP_32BIT | MAP_FIXED above 4 GiB");
    sc(SYS_munmap, a, len);
    sc(SYS_munmap, b, len);
    sc(SYS_munmap, 0x50000000L, len);
    sc(SYS_munmap, c, len);
    sc(SYS_munmap, f, PG);
}

/* Bytes of every mapping /proc/self/maps lists but [vsyscall] (which is
 * not part of the address space's size, total_vm). */
static unsigned long vm_total(void)
{
    static char buf[65536];
    int fd = (int)sc(SYS_open, "/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    long n = 0, r;
    while ((r = sc(SYS_read, fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    sc(SYS_close, fd);
    buf[n] = 0;
    unsigned long total = 0;
    for (char *l = buf; *l;) {
        char *nl = strchr(l, '\n');
        if (!strstr(l, "[vsyscall]") || (nl && strstr(l, "[vsyscall]") > nl)) {
            unsigned long s = strtoul(l, NULL, 16), e = strtoul(strchr(l, '-') + 1, NULL, 16);
            total += e - s;
        }
        if (!nl)
            break;
        l = nl + 1;
    }
    return total;
}

static void test_rlimit_as(void)
{
    struct rlimit old;
    sc(SYS_getrlimit, RLIMIT_AS, &old);
    unsigned long total = vm_total();
    check(total > 0, "/proc/self/maps gives the address-space size");
    struct rlimit lim = { total + 64 * MIB, old.rlim_max };
    check_ret(sc(SYS_setrlimit, RLIMIT_AS, &lim), 0, "RLIMIT_AS: 64 MiB above the current size");

    check_err(map(0, 128 * MIB, PROT_NONE, ANON), ENOMEM, "mmap of 128 MiB");
    long a = map(0, 32 * MIB, PROT_READ | PROT_WRITE, ANON);
    check(!is_err(a), "mmap of 32 MiB");
    check_err(map(0, 48 * MIB, PROT_NONE, ANON | MAP_NORESERVE), ENOMEM, "then mmap of 48 MiB");
    check_addr(map(a, 32 * MIB, PROT_READ, ANON | MAP_FIXED), a,
               "MAP_FIXED over the 32 MiB: replaced pages do not count twice");
    check_err(sc(SYS_mremap, a, 32 * MIB, 80 * MIB, MREMAP_MAYMOVE), ENOMEM, "mremap 32 -> 80 MiB");
    check_addr(sc(SYS_mremap, a, 32 * MIB, 16 * MIB, 0), a, "mremap 32 -> 16 MiB");
    long m = sc(SYS_mremap, a, 16 * MIB, 40 * MIB, MREMAP_MAYMOVE);
    check(!is_err(m), "mremap 16 -> 40 MiB");
    if (is_err(m))
        m = a;

    long cur = sc(SYS_brk, 0);
    check_addr(sc(SYS_brk, cur + 32 * MIB), cur, "brk beyond RLIMIT_AS returns the old break");
    check_addr(sc(SYS_brk, cur + 4 * PG), cur + 4 * PG, "brk within RLIMIT_AS");
    check_addr(sc(SYS_brk, cur), cur, "brk back");

    sc(SYS_munmap, m, 40 * MIB);
    check_ret(sc(SYS_setrlimit, RLIMIT_AS, &old), 0, "RLIMIT_AS restored");
    long big = map(0, 128 * MIB, PROT_NONE, ANON);
    check(!is_err(big), "mmap of 128 MiB after that");
    sc(SYS_munmap, big, 128 * MIB);
}

static void test_mremap_grow(void)
{
    /* Eight pages: [0,2) read-write, [2,3) read-only (a separate VMA), the
     * rest unmapped. */
    long p = map(0, 8 * PG, PROT_READ | PROT_WRITE, ANON);
    if (!check(!is_err(p), "mmap 8 pages"))
        return;
    sc(SYS_munmap, p + 3 * PG, 5 * PG);
    sc(SYS_mprotect, p + 2 * PG, PG, PROT_READ);
    ((char *)p)[0] = 'x';
    check_err(sc(SYS_mremap, p, 2 * PG, 3 * PG, 0), ENOMEM,
              "mremap grow into the next mapping without MAYMOVE");
    check_err(sc(SYS_mremap, p, PG, 2 * PG, 0), ENOMEM,
              "mremap grow of a range that ends inside its mapping");
    check_err(sc(SYS_mremap, p, 3 * PG, 4 * PG, 0), EFAULT, "mremap of a range over two mappings");
    check_addr(sc(SYS_mremap, p + 2 * PG, PG, 4 * PG, 0), p + 2 * PG,
               "mremap grows in place into free pages");
    map(p + 7 * PG, PG, PROT_READ, ANON | MAP_FIXED);
    check_err(sc(SYS_mremap, p + 2 * PG, 4 * PG, 6 * PG, 0), ENOMEM,
              "mremap grow past a mapping after the free pages");
    /* mprotect of a page and back leaves one mapping again, which mremap
     * can take whole. */
    sc(SYS_mprotect, p + PG, PG, PROT_READ);
    sc(SYS_mprotect, p + PG, PG, PROT_READ | PROT_WRITE);
    check_err(sc(SYS_mremap, p, 2 * PG, 3 * PG, 0), ENOMEM,
              "after an mprotect round trip: still no room in place");
    long m = sc(SYS_mremap, p, 2 * PG, 3 * PG, MREMAP_MAYMOVE);
    check(!is_err(m) && m != p && ((char *)m)[0] == 'x', "with MREMAP_MAYMOVE it moves");
    check_err(sc(SYS_mremap, p, PG, 2 * PG, 0), EFAULT, "mremap of the old, now free, address");
    sc(SYS_munmap, m, 3 * PG);
    sc(SYS_munmap, p, 8 * PG);
}

int main(void)
{
    test_noreplace();
    test_hint();
    test_32bit();
    test_rlimit_as();
    test_mremap_grow();
    return finish();
}
