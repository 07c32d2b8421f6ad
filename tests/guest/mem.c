/* mem.c: brk and anonymous mmap/munmap/mprotect/mremap/madvise semantics
 * and their error cases, as Linux 6.x reports them. */
#include "guest.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096UL

static char *map(void *hint, size_t len, int prot, int flags)
{
    long r = sc(SYS_mmap, hint, len, prot, flags, -1, 0);
    return r < 0 && r >= -4095 ? NULL : (char *)r;
}

static int all(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

/* Whether a page is mapped, asked without touching it. */
static int mapped(void *p)
{
    return sc(SYS_madvise, p, PG, MADV_NORMAL) == 0;
}

static void test_brk(void)
{
    long start = sc(SYS_brk, 0);
    check(start > 0, "brk(0) returns the current break");
    check(sc(SYS_brk, 0) == start, "brk(0) is stable");

    long want = start + 3 * PG;
    check_ret(sc(SYS_brk, want) - start, 3 * PG, "brk grows by 3 pages");
    char *p = (char *)start;
    check(all(p, 3 * PG, 0), "new break memory is zero");
    memset(p, 'b', 3 * PG);
    check(all(p, 3 * PG, 'b'), "new break memory is writable");

    check_ret(sc(SYS_brk, start + PG) - start, PG, "brk shrinks to 1 page");
    check_ret(sc(SYS_brk, 0) - start, PG, "brk(0) after shrink");
    check(p[0] == 'b' && p[PG - 1] == 'b', "memory below the break kept");
    check_ret(sc(SYS_brk, start + 2 * PG) - start, 2 * PG, "brk grows again");
    /* Pages given back by the shrink come back zeroed. */
    check(all(p + PG, PG, 0), "regrown break memory is zero");

    check_ret(sc(SYS_brk, 0x1000) - start, 2 * PG, "brk below its start leaves the break");
    check_ret(sc(SYS_brk, KPTR) - start, 2 * PG, "brk to a kernel address leaves the break");
    check_ret(sc(SYS_brk, start) - start, 0, "brk back to its start");
}

static void test_mmap(void)
{
    char *p = map(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    check(p != NULL, "mmap anonymous private");
    check(((uintptr_t)p & (PG - 1)) == 0, "mmap result is page aligned");
    check(all(p, 3 * PG, 0), "anonymous private memory is zero");
    memset(p, 'p', 3 * PG);
    check(all(p, 3 * PG, 'p'), "anonymous private memory is writable");

    char *s = map(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    check(s != NULL, "mmap anonymous shared");
    check(all(s, 2 * PG, 0), "anonymous shared memory is zero");
    memset(s, 's', 2 * PG);
    check(all(s, 2 * PG, 's'), "anonymous shared memory is writable");
    /* Shared anonymous memory is shmem: DONTNEED drops only the mapping. */
    check_ret(sc(SYS_madvise, s, 2 * PG, MADV_DONTNEED), 0, "madvise DONTNEED on shared");
    check(all(s, 2 * PG, 's'), "DONTNEED keeps shared anon contents");
    check_ret(sc(SYS_munmap, s, 2 * PG), 0, "munmap shared");

    /* A non-fixed hint at a free address is honoured. */
    check_ret(sc(SYS_munmap, p, 3 * PG), 0, "munmap private");
    check(!mapped(p), "munmapped range is gone");
    char *h = map(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    check(h == p + PG, "free hint address is used");
    sc(SYS_munmap, h, PG);

    char *n = map(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    check(n != NULL && mapped(n), "mmap PROT_NONE");
    check_ret(sc(SYS_mprotect, n, PG, PROT_READ | PROT_WRITE), 0,
              "mprotect PROT_NONE to read-write");
    n[0] = 1;
    check(n[0] == 1, "page usable after mprotect");
    sc(SYS_munmap, n, PG);
}

static void test_fixed(void)
{
    char *p = map(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    memset(p, 'A', 4 * PG);
    char *f = map(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    check(f == p + PG, "MAP_FIXED over part of a mapping");
    check(all(f, PG, 0), "MAP_FIXED page is fresh");
    check(all(p, PG, 'A') && all(p + 2 * PG, 2 * PG, 'A'),
          "MAP_FIXED leaves the other pages alone");

    check_err(sc(SYS_mmap, p + 2 * PG, PG, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              EEXIST, "MAP_FIXED_NOREPLACE over a mapping");
    check(all(p + 2 * PG, PG, 'A'), "failed NOREPLACE changed nothing");

    /* Punch a hole in the middle and touch both neighbours. */
    check_ret(sc(SYS_munmap, p + PG, PG), 0, "munmap of a middle page");
    check(!mapped(p + PG) && mapped(p) && mapped(p + 2 * PG), "only the middle page is gone");
    p[PG - 1] = 'x';
    p[2 * PG] = 'y';
    check(p[0] == 'A' && p[PG - 1] == 'x' && p[2 * PG] == 'y' && p[4 * PG - 1] == 'A',
          "neighbours of the hole still usable");
    char *r =
        map(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    check(r == p + PG, "MAP_FIXED_NOREPLACE fills the hole");
    check(all(r, PG, 0), "refilled hole is zero");
    /* Our own hole: the neighbourhood of a mapping may hold the vDSO. */
    check_ret(sc(SYS_munmap, p + PG, PG), 0, "munmap of an unmapped range succeeds");
    check_ret(sc(SYS_munmap, p, 4 * PG), 0, "munmap across pieces");
    check(!mapped(p) && !mapped(p + 3 * PG), "all pieces gone");
}

static void test_mprotect(void)
{
    char *p = map(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    memset(p, 'm', 3 * PG);
    check_ret(sc(SYS_mprotect, p + PG, PG, PROT_READ), 0, "mprotect middle page read-only");
    check(all(p, 3 * PG, 'm'), "read-only page still readable");
    p[0] = 'w';
    p[2 * PG] = 'w';
    check(p[0] == 'w' && p[2 * PG] == 'w', "neighbours still writable");
    check_ret(sc(SYS_mprotect, p + PG, PG, PROT_READ | PROT_WRITE), 0,
              "mprotect back to read-write");
    p[PG] = 'w';
    check(p[PG] == 'w', "page writable again");
    check_ret(sc(SYS_mprotect, p, 0, PROT_READ), 0, "mprotect of 0 bytes");
    sc(SYS_munmap, p, 3 * PG);
}

static void test_mremap(void)
{
    /* Grow in place into a range known to be free. */
    char *p = map(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    sc(SYS_munmap, p + 2 * PG, 2 * PG);
    memset(p, 'g', 2 * PG);
    check(sc(SYS_mremap, p, 2 * PG, 4 * PG, 0) == (long)p, "mremap grows in place");
    check(all(p, 2 * PG, 'g') && all(p + 2 * PG, 2 * PG, 0),
          "grown mapping keeps old and zeroes new");
    p[4 * PG - 1] = 'e';

    check(sc(SYS_mremap, p, 4 * PG, PG, 0) == (long)p, "mremap shrinks");
    check(!mapped(p + PG) && all(p, PG, 'g'), "shrunk tail is unmapped");

    /* Blocked growth: without MAYMOVE it fails, with it the data moves. */
    char *blk = map(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    check(blk == p + PG, "block the page after the mapping");
    check_err(sc(SYS_mremap, p, PG, 3 * PG, 0), ENOMEM,
              "mremap grow into a mapping without MAYMOVE");
    long q = sc(SYS_mremap, p, PG, 8 * PG, MREMAP_MAYMOVE);
    check(q > 0 && q != (long)p, "mremap MAYMOVE moves");
    check(all((char *)q, PG, 'g') && all((char *)q + PG, 7 * PG, 0),
          "moved mapping keeps contents");
    check(!mapped(p) && mapped(blk), "old range unmapped, blocker kept");

    /* MREMAP_FIXED moves to a chosen address, replacing what was there. */
    long f = sc(SYS_mremap, q, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, blk);
    check(f == (long)blk, "mremap MREMAP_FIXED");
    check(all(blk, PG, 'g'), "MREMAP_FIXED keeps contents");
    check(!mapped((char *)q) && mapped((char *)q + PG), "MREMAP_FIXED moved only the old range");
    sc(SYS_munmap, q + PG, 7 * PG);
    sc(SYS_munmap, blk, PG);
}

static void test_madvise(void)
{
    char *p = map(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    memset(p, 'd', 3 * PG);
    check_ret(sc(SYS_madvise, p + PG, PG, MADV_DONTNEED), 0, "madvise DONTNEED");
    check(all(p + PG, PG, 0), "DONTNEED zeroes private anon pages");
    check(all(p, PG, 'd') && all(p + 2 * PG, PG, 'd'), "DONTNEED leaves other pages");
    check_ret(sc(SYS_madvise, p, 3 * PG, MADV_WILLNEED), 0, "madvise WILLNEED");
    check_ret(sc(SYS_madvise, p, 0, MADV_DONTNEED), 0, "madvise of 0 bytes");
    sc(SYS_munmap, p, 3 * PG);
}

static void test_errors(void)
{
    const int rw = PROT_READ | PROT_WRITE, pa = MAP_PRIVATE | MAP_ANONYMOUS;
    char *p = map(NULL, 2 * PG, rw, pa);
    check_err(sc(SYS_mmap, 0, 0, rw, pa, -1, 0), EINVAL, "mmap length 0");
    check_err(sc(SYS_mmap, 0, PG, rw, MAP_ANONYMOUS, -1, 0), EINVAL,
              "mmap without PRIVATE or SHARED");
    check_err(sc(SYS_mmap, 0, PG, rw, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0), EINVAL,
              "mmap with PRIVATE and SHARED");
    check_err(sc(SYS_mmap, p + 1, PG, rw, pa | MAP_FIXED, -1, 0), EINVAL,
              "mmap MAP_FIXED unaligned");
    check_err(sc(SYS_mmap, p + 1, PG, rw, pa | MAP_FIXED_NOREPLACE, -1, 0), EINVAL,
              "mmap MAP_FIXED_NOREPLACE unaligned");
    check_err(sc(SYS_mmap, 0, PG, rw, pa, -1, 1), EINVAL, "mmap unaligned offset");
    check_err(sc(SYS_mmap, 0, SIZE_MAX, rw, pa, -1, 0), ENOMEM, "mmap length SIZE_MAX");
    check_err(sc(SYS_mmap, 0, 1UL << 47, rw, pa, -1, 0), ENOMEM, "mmap length 2^47");
    check_err(sc(SYS_mmap, 0, PG, rw, MAP_PRIVATE, -1, 0), EBADF, "mmap file of fd -1");
    check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 999, 0), EBADF, "mmap file of fd 999");
    struct stat st;
    if (fstat(1, &st) == 0 && S_ISREG(st.st_mode))
        check_err(sc(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 1, 0), EACCES,
                  "mmap of write-only fd 1");
    else
        out("skip mmap of write-only fd 1: stdout is not a file\n");

    check_err(sc(SYS_munmap, p + 1, PG), EINVAL, "munmap unaligned");
    check_err(sc(SYS_munmap, p, 0), EINVAL, "munmap length 0");
    check_err(sc(SYS_munmap, KPTR, PG), EINVAL, "munmap kernel address");

    check_err(sc(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL, "mprotect unaligned");
    check_err(sc(SYS_mprotect, p, PG, 0x100), EINVAL, "mprotect bad prot");
    /* The second page becomes our own hole for the "unmapped" cases. */
    sc(SYS_munmap, p + PG, PG);
    check_err(sc(SYS_mprotect, p, 2 * PG, PROT_READ | PROT_WRITE), ENOMEM,
              "mprotect past the mapping's end");
    check_err(sc(SYS_mprotect, p + PG, PG, PROT_READ), ENOMEM, "mprotect of an unmapped range");
    check_err(sc(SYS_mremap, p + PG, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT,
              "mremap of an unmapped range");
    check_err(sc(SYS_madvise, p + PG, PG, MADV_NORMAL), ENOMEM, "madvise of an unmapped range");

    check_err(sc(SYS_mremap, p, PG, 2 * PG, 0x80), EINVAL, "mremap bad flags");
    check_err(sc(SYS_mremap, p, PG, 2 * PG, MREMAP_FIXED, p + 8 * PG), EINVAL,
              "mremap FIXED without MAYMOVE");
    check_err(sc(SYS_mremap, p + 1, PG, 2 * PG, MREMAP_MAYMOVE), EINVAL,
              "mremap unaligned address");
    check_err(sc(SYS_mremap, p, PG, 0, MREMAP_MAYMOVE), EINVAL, "mremap new length 0");

    check_err(sc(SYS_madvise, p, PG, 9999), EINVAL, "madvise bad advice");
    check_err(sc(SYS_madvise, p + 1, PG, MADV_DONTNEED), EINVAL, "madvise unaligned");
    sc(SYS_munmap, p, PG);

    /* mmap, unlike mprotect, ignores unknown prot bits. */
    long b = sc(SYS_mmap, 0, PG, PROT_READ | 0x100, pa, -1, 0);
    check(b > 0 && mapped((void *)b), "mmap ignores unknown prot bits");
    sc(SYS_munmap, b, PG);
}

int main(void)
{
    test_brk();
    test_mmap();
    test_fixed();
    test_mprotect();
    test_mremap();
    test_madvise();
    test_errors();
    return finish();
}
