/* fs_mmap_file.c: mmap of regular files, memfds and files in /tmp: contents,
 * writes reaching the file and other mappings, msync, the access-mode and
 * argument errors of mmap and mprotect, and memfd_create with its names,
 * sizes and seals, with the errno Linux gives (checked natively). File
 * mappings are tested in the cwd (the harness's scratch directory) and in
 * /tmp. Nothing touches a page past EOF: that would be SIGBUS. */
#include "fs_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 4096L
#define FSIZE 5000L

static void cleanup(void)
{
    sc(SYS_unlink, "mm_a");
}

static long tell(long fd)
{
    return sc(SYS_lseek, fd, 0, SEEK_CUR);
}

static char pat(long i)
{
    return (char)('a' + i % 26);
}

static int is_err(long r)
{
    return r < 0 && r >= -4095;
}

static long map(long len, int prot, int flags, long fd, long off)
{
    return sc(SYS_mmap, 0, len, prot, flags, fd, off);
}

/* The mapping at p holds the file pattern for n bytes from file offset off. */
static int has_pattern(const char *p, long off, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i] != pat(off + i))
            return 0;
    return 1;
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* pread of n bytes at off equals want. */
static int file_has(long fd, long off, const char *want, long n)
{
    char buf[64];
    return n <= (long)sizeof buf && sc(SYS_pread64, fd, buf, n, off) == n &&
           memcmp(buf, want, n) == 0;
}

static void test_file(const char *where, const char *path)
{
    out("# file mappings in %s\n", where);
    static char data[FSIZE];
    for (long i = 0; i < FSIZE; i++)
        data[i] = pat(i);
    long fd = sc(SYS_open, path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    check_ret(fd, 3, "create a file");
    check_ret(sc(SYS_write, fd, data, FSIZE), FSIZE, "write 5000 bytes");
    long ro = sc(SYS_open, path, O_RDONLY);
    long wo = sc(SYS_open, path, O_WRONLY);
    long ap = sc(SYS_open, path, O_RDWR | O_APPEND);
    check(ro == 4 && wo == 5 && ap == 6, "O_RDONLY, O_WRONLY, O_RDWR|O_APPEND opens");

    /* MAP_PRIVATE reads the file; the last page is zero past EOF. */
    long r = map(FSIZE, PROT_READ, MAP_PRIVATE, ro, 0);
    check(!is_err(r) && r % PG == 0, "MAP_PRIVATE PROT_READ of the O_RDONLY fd");
    char *p = (char *)r;
    check(has_pattern(p, 0, FSIZE), "the mapping holds the file");
    check(all_zero(p + FSIZE, 2 * PG - FSIZE), "the rest of the last page is zero");
    check_ret(sc(SYS_munmap, p, FSIZE), 0, "munmap");
    r = map(FSIZE - PG, PROT_READ, MAP_PRIVATE, ro, PG);
    check(!is_err(r), "MAP_PRIVATE at file offset 4096");
    check(has_pattern((char *)r, PG, FSIZE - PG), "holds the second page");
    sc(SYS_munmap, r, PG);

    /* MAP_PRIVATE writes are copies, even through an O_RDONLY fd. */
    r = map(FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    check(!is_err(r), "MAP_PRIVATE PROT_WRITE of the O_RDONLY fd");
    p = (char *)r;
    memcpy(p + 10, "PRIV", 4);
    check(memcmp(p + 10, "PRIV", 4) == 0, "the mapping has the write");
    check(file_has(fd, 10, "klmn", 4), "the file does not");
    check_ret(sc(SYS_msync, p, PG, MS_SYNC), 0, "msync the private mapping");
    check(file_has(fd, 10, "klmn", 4), "still not");
    sc(SYS_munmap, p, FSIZE);
    check(file_has(fd, 10, "klmn", 4), "nor after munmap");

    /* MAP_SHARED writes reach the file at once. */
    r = map(FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(!is_err(r), "MAP_SHARED PROT_READ|PROT_WRITE of the O_RDWR fd");
    char *s = (char *)r;
    memcpy(s + 20, "SHARED", 6);
    check(file_has(fd, 20, "SHARED", 6), "pread sees the write before msync");
    check_ret(sc(SYS_msync, s, 2 * PG, MS_SYNC), 0, "msync MS_SYNC");
    check_ret(sc(SYS_msync, s, PG, MS_ASYNC), 0, "msync MS_ASYNC");
    check_ret(sc(SYS_msync, s, PG, MS_INVALIDATE), 0, "msync MS_INVALIDATE");
    check_ret(sc(SYS_msync, s, 0, MS_SYNC), 0, "msync of 0 bytes");
    check_ret(sc(SYS_msync, s, 100, MS_SYNC), 0, "msync of a partial page");
    check_err(sc(SYS_msync, s, PG, 8), EINVAL, "msync flag 8");
    check_err(sc(SYS_msync, s, PG, MS_ASYNC | MS_SYNC), EINVAL, "msync MS_ASYNC|MS_SYNC");
    check_err(sc(SYS_msync, s + 1, PG, MS_SYNC), EINVAL, "msync unaligned address");
    check(file_has(fd, 20, "SHARED", 6), "the file has it after msync");
    check_ret(sc(SYS_pwrite64, fd, "PW", 2, 30), 2, "pwrite into the file");
    check(memcmp(s + 30, "PW", 2) == 0, "the mapping sees the pwrite");

    /* A second MAP_SHARED mapping, through another open, is the same pages. */
    long fd2 = sc(SYS_open, path, O_RDWR);
    r = map(FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    check(!is_err(r), "MAP_SHARED through a second open");
    char *s2 = (char *)r;
    check(memcmp(s2 + 20, "SHARED", 6) == 0, "it sees the first mapping's write");
    s2[40] = 'Z';
    check(s[40] == 'Z', "the first mapping sees the second's write");
    r = map(FSIZE, PROT_READ, MAP_SHARED, ro, 0);
    check(!is_err(r), "MAP_SHARED PROT_READ of the O_RDONLY fd");
    check(((char *)r)[40] == 'Z' && memcmp((char *)r + 30, "PW", 2) == 0,
          "a read-only shared mapping sees both");
    check_err(sc(SYS_mprotect, r, PG, PROT_READ | PROT_WRITE), EACCES, "mprotect it writable");
    sc(SYS_munmap, r, FSIZE);

    /* The mapping outlives its fd. */
    check_ret(sc(SYS_close, fd2), 0, "close the second open");
    s2[50] = 'C';
    check(file_has(fd, 50, "C", 1), "writes through its mapping still land");
    sc(SYS_munmap, s2, FSIZE);

    /* Past EOF in the last page: visible in the mapping, not the file. */
    s[FSIZE] = 'T';
    check_ret(fsize(fd), FSIZE, "a write past EOF does not grow the file");
    char c;
    check_ret(sc(SYS_pread64, fd, &c, 1, FSIZE), 0, "pread at EOF still gives 0");
    sc(SYS_munmap, s, FSIZE);

    /* Growing the file makes more pages mappable. */
    check_ret(sc(SYS_ftruncate, fd, 3 * PG), 0, "ftruncate to 3 pages");
    r = map(3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    check(!is_err(r), "map 3 pages");
    p = (char *)r;
    check(all_zero(p + 2 * PG, PG), "the new page reads zeros");
    p[2 * PG + 5] = 'G';
    check(file_has(fd, 2 * PG + 5, "G", 1), "a write there lands in the file");
    check(has_pattern(p, 0, 10), "the first bytes are intact");
    sc(SYS_munmap, p, 3 * PG);
    r = map(8 * PG, PROT_READ, MAP_SHARED, fd, 0);
    check(!is_err(r), "mapping past EOF is allowed (touching it is not)");
    sc(SYS_munmap, r, 8 * PG);

    r = map(PG, PROT_READ, MAP_PRIVATE, ro, 0);
    check_ret(sc(SYS_mprotect, r, PG, PROT_READ | PROT_WRITE), 0,
              "mprotect a private read-only-fd mapping writable");
    sc(SYS_munmap, r, PG);

    check_err(map(PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES,
              "MAP_PRIVATE PROT_READ of an O_WRONLY fd");
    check_err(map(PG, PROT_WRITE, MAP_SHARED, wo, 0), EACCES,
              "MAP_SHARED PROT_WRITE of an O_WRONLY fd");
    check_err(map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES,
              "MAP_SHARED PROT_WRITE of an O_RDONLY fd");
    check_err(map(PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, ro, 0), EACCES,
              "MAP_SHARED_VALIDATE PROT_WRITE of an O_RDONLY fd");
    /* Only the append-only inode attribute forbids this, not O_APPEND. */
    r = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0);
    check(!is_err(r), "MAP_SHARED PROT_WRITE of an O_APPEND fd");
    ((char *)r)[1] = 'A';
    check(file_has(fd, 0, "aA", 2), "its write lands in place, not appended");
    check_ret(fsize(fd), 3 * PG, "the size is unchanged");
    sc(SYS_munmap, r, PG);
    check_err(map(PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL,
              "mmap at a non page-aligned offset");
    check_err(map(0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL, "mmap of 0 bytes");
    check_err(map(PG, PROT_READ, 0, fd, 0), EINVAL, "mmap neither shared nor private");
    check_err(map(PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF, "mmap fd -1");
    check_err(map(PG, PROT_READ, MAP_SHARED, 99, 0), EBADF, "mmap a closed fd");
    long op = sc(SYS_open, path, O_PATH);
    check_err(map(PG, PROT_READ, MAP_PRIVATE, op, 0), EBADF, "mmap an O_PATH fd");
    sc(SYS_close, op);
    long d = sc(SYS_open, where[0] == '/' ? where : ".", O_RDONLY | O_DIRECTORY);
    check_err(map(PG, PROT_READ, MAP_PRIVATE, d, 0), ENODEV, "mmap a directory");
    sc(SYS_close, d);
    int pp[2];
    sc(SYS_pipe, pp);
    check_err(map(PG, PROT_READ, MAP_PRIVATE, pp[0], 0), ENODEV, "mmap a pipe");
    sc(SYS_close, pp[0]);
    sc(SYS_close, pp[1]);
    check_err(sc(SYS_msync, 0x10000, PG, MS_SYNC), ENOMEM, "msync unmapped memory");
    check_ret(tell(fd), FSIZE, "no mapping call moved the file offset");
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_unlink, path);
}

static void test_memfd(void)
{
    long m = sc(SYS_memfd_create, "gt_memfd", 0);
    check_ret(m, 3, "memfd_create");
    check_ret(sc(SYS_fcntl, m, F_GETFD), 0, "not close-on-exec");
    check_ret(sc(SYS_fcntl, m, F_GETFL), O_RDWR | O_LARGEFILE, "F_GETFL O_RDWR");
    struct stat st;
    check_ret(sc(SYS_fstat, m, &st), 0, "fstat it");
    check(S_ISREG(st.st_mode) && st.st_size == 0 && st.st_nlink == 0,
          "an empty regular file with no links");
    char link[300];
    long n = sc(SYS_readlink, "/proc/self/fd/3", link, sizeof link - 1);
    if (n >= 0)
        link[n] = 0;
    else
        link[0] = 0;
    check(strcmp(link, "/memfd:gt_memfd (deleted)") == 0,
          "/proc/self/fd/3 -> /memfd:gt_memfd (deleted) (%s)", link);

    check_ret(sc(SYS_write, m, "hello memfd", 11), 11, "write 11 bytes");
    check_ret(fsize(m), 11, "size 11");
    long r = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    check(!is_err(r), "MAP_SHARED of the memfd");
    char *p = (char *)r;
    check(memcmp(p, "hello memfd", 11) == 0 && all_zero(p + 11, PG - 11),
          "the mapping holds the bytes, then zeros");
    p[0] = 'H';
    check(file_has(m, 0, "Hello", 5), "a write through the mapping reaches the memfd");
    sc(SYS_munmap, p, PG);
    check_ret(sc(SYS_ftruncate, m, 2 * PG), 0, "ftruncate to 8192");
    check_ret(fsize(m), 2 * PG, "size 8192");
    r = map(2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    check(!is_err(r), "map both pages");
    p = (char *)r;
    check(all_zero(p + 11, 2 * PG - 11), "the new space is zero");
    p[PG + 1] = 'X';
    check(file_has(m, PG + 1, "X", 1), "a write in the second page lands");
    sc(SYS_munmap, p, 2 * PG);
    check_ret(sc(SYS_ftruncate, m, 3), 0, "ftruncate to 3");
    char buf[16];
    check_ret(sc(SYS_pread64, m, buf, sizeof buf, 0), 3, "pread gives 3 bytes");
    check(memcmp(buf, "Hel", 3) == 0, "Hel");
    check_ret(sc(SYS_lseek, m, 0, SEEK_END), 3, "SEEK_END is 3");
    check_ret(sc(SYS_fcntl, m, F_GET_SEALS), F_SEAL_SEAL,
              "without MFD_ALLOW_SEALING it is sealed against seals");
    check_err(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_WRITE), EPERM, "F_ADD_SEALS");
    sc(SYS_close, m);

    m = sc(SYS_memfd_create, "", MFD_CLOEXEC);
    check_ret(m, 3, "memfd_create with an empty name, MFD_CLOEXEC");
    check_ret(sc(SYS_fcntl, m, F_GETFD), FD_CLOEXEC, "close-on-exec");
    n = sc(SYS_readlink, "/proc/self/fd/3", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check(strcmp(link, "/memfd: (deleted)") == 0, "/proc/self/fd/3 -> /memfd: (deleted)");
    sc(SYS_close, m);

    char name[300];
    memset(name, 'n', sizeof name);
    name[249] = 0;
    m = sc(SYS_memfd_create, name, 0);
    check_ret(m, 3, "memfd_create with a 249-byte name");
    sc(SYS_close, m);
    name[249] = 'n';
    name[250] = 0;
    check_err(sc(SYS_memfd_create, name, 0), EINVAL, "a 250-byte name");
    check_err(sc(SYS_memfd_create, BADPTR, 0), EFAULT, "a bad name pointer");
    check_err(sc(SYS_memfd_create, "x", 0x80), EINVAL, "flag 0x80");
    check_err(sc(SYS_memfd_create, "x", 1U << 26), EINVAL, "a huge page size without MFD_HUGETLB");
    check_err(sc(SYS_memfd_create, "x", 0x18), EINVAL, "MFD_NOEXEC_SEAL|MFD_EXEC");
    check_ret(sc(SYS_dup, 0), 3, "the failed calls left no fd behind");
    sc(SYS_close, 3);

    /* Seals. */
    m = sc(SYS_memfd_create, "sealed", MFD_ALLOW_SEALING);
    check_ret(m, 3, "memfd_create MFD_ALLOW_SEALING");
    check_ret(sc(SYS_fcntl, m, F_GET_SEALS), 0, "no seals yet");
    check_ret(sc(SYS_write, m, "0123456789", 10), 10, "write 10 bytes");
    check_ret(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_SHRINK), 0, "F_SEAL_SHRINK");
    check_err(sc(SYS_ftruncate, m, 5), EPERM, "shrinking is refused");
    check_ret(sc(SYS_ftruncate, m, 12), 0, "growing is fine");
    check_ret(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_GROW), 0, "F_SEAL_GROW");
    check_err(sc(SYS_ftruncate, m, 20), EPERM, "growing is refused");
    check_err(sc(SYS_pwrite64, m, "ab", 2, 11), EPERM, "a write past the end is refused");
    check_ret(sc(SYS_pwrite64, m, "ab", 2, 0), 2, "a write inside is fine");
    check_ret(sc(SYS_ftruncate, m, 12), 0, "ftruncate to the same size is fine");
    r = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    check(!is_err(r), "a writable shared mapping");
    check_err(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_WRITE), EBUSY, "F_SEAL_WRITE while it exists");
    sc(SYS_munmap, r, PG);
    check_ret(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_WRITE), 0, "F_SEAL_WRITE once it is gone");
    check_err(sc(SYS_pwrite64, m, "cd", 2, 0), EPERM, "writes are refused");
    check_err(map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0), EPERM,
              "so is a writable shared mapping");
    r = map(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
    check(!is_err(r), "a private writable mapping is fine");
    check(memcmp((char *)r, "ab23456789", 10) == 0, "and shows the content");
    sc(SYS_munmap, r, PG);
    check_err(sc(SYS_fcntl, m, F_ADD_SEALS, 0x100), EINVAL, "an unknown seal");
    check_ret(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_SEAL), 0, "F_SEAL_SEAL");
    check_err(sc(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_SHRINK), EPERM,
              "no more seals, not even one already there");
    check_ret(sc(SYS_fcntl, m, F_GET_SEALS),
              F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE, "all four seals");
    sc(SYS_close, m);
}

int main(void)
{
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_umask, 022);
    cleanup();
    test_file("cwd", "mm_a");
    /* The pid keeps concurrent native runs apart in the shared /tmp. */
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/fs_mmap.%ld", sc(SYS_getpid));
    test_file("/tmp", tmp);
    test_memfd();
    cleanup();
    return finish();
}
