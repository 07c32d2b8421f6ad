/* memfd_seal.c: memfd seals beyond the basics of fs_mmap_file: what counts
 * as a writable mapping for F_SEAL_WRITE (any shared mapping made through
 * a writable descriptor, read-only or not), F_SEAL_FUTURE_WRITE (existing
 * writable mappings keep working, new ones and write() are refused),
 * mprotect on mappings of a sealed memfd, seals added before the memfd has
 * any data, fallocate, F_SEAL_EXEC, and who may add seals, with the errno
 * Linux 6.18 gives. */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define PG 4096

static long map(size_t len, int prot, int flags, int fd, long off)
{
    return sc(SYS_mmap, 0, len, prot, flags, fd, off);
}

static int is_err(long r)
{
    return r < 0 && r >= -4095;
}

static long seals(int fd)
{
    return sc(SYS_fcntl, fd, F_GET_SEALS);
}

static long add(int fd, long s)
{
    return sc(SYS_fcntl, fd, F_ADD_SEALS, s);
}

static int new_memfd(const char *name)
{
    return (int)sc(SYS_memfd_create, name, MFD_ALLOW_SEALING | MFD_CLOEXEC);
}

/* F_SEAL_WRITE needs no shared mapping that could write: Linux counts a
 * shared mapping made through a writable descriptor even if it is
 * read-only now (it may be mprotect'ed writable). */
static void seal_write_vs_maps(void)
{
    int m = new_memfd("w");
    check_ret(sc(SYS_write, m, "abcdefgh", 8), 8, "write 8 bytes");
    long r = map(PG, PROT_READ, MAP_SHARED, m, 0);
    check(!is_err(r), "a read-only shared mapping of the writable fd");
    check_err(add(m, F_SEAL_WRITE), EBUSY, "F_SEAL_WRITE while it exists");
    check_ret(seals(m), 0, "the failed F_ADD_SEALS added nothing");
    sc(SYS_munmap, r, PG);
    /* Through a read-only descriptor the mapping can never write. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", m);
    int ro = (int)sc(SYS_open, path, O_RDONLY);
    check(ro >= 0, "reopen the memfd read-only");
    r = map(PG, PROT_READ, MAP_SHARED, ro, 0);
    check(!is_err(r), "a shared mapping of the read-only fd");
    check_err(sc(SYS_mprotect, r, PG, PROT_READ | PROT_WRITE), EACCES,
              "which cannot be made writable");
    check_err(add(ro, F_SEAL_SHRINK), EPERM, "F_ADD_SEALS on the read-only fd");
    check_ret(seals(ro), 0, "F_GET_SEALS on the read-only fd");
    check_ret(add(m, F_SEAL_WRITE), 0, "F_SEAL_WRITE with only that one");
    check(memcmp((char *)r, "abcdefgh", 8) == 0, "the read-only mapping still reads");
    sc(SYS_munmap, r, PG);
    /* Private mappings are never counted. */
    r = map(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
    check(!is_err(r), "a private writable mapping of the sealed memfd");
    ((char *)r)[0] = 'X';
    char c = 0;
    check_ret(sc(SYS_pread64, m, &c, 1, 0), 1, "read the memfd");
    check(c == 'a', "a private write does not reach the memfd");
    sc(SYS_munmap, r, PG);
    r = map(PG, PROT_READ, MAP_SHARED, m, 0);
    check(!is_err(r), "a read-only shared mapping after F_SEAL_WRITE");
    check_err(sc(SYS_mprotect, r, PG, PROT_READ | PROT_WRITE), EACCES,
              "mprotect cannot make it writable");
    sc(SYS_munmap, r, PG);
    check_err(sc(SYS_fallocate, m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG), EPERM,
              "punching a hole is a write");
    check_ret(sc(SYS_fallocate, m, 0, 0, 2 * PG), 0, "allocating is not");
    check_ret(sc(SYS_ftruncate, m, 4), 0, "shrinking is not either");
    sc(SYS_close, ro);
    sc(SYS_close, m);
}

/* F_SEAL_FUTURE_WRITE: no new way to write, existing mappings stay. */
static void future_write(void)
{
    int m = new_memfd("fw");
    check_ret(sc(SYS_ftruncate, m, PG), 0, "ftruncate to a page");
    long w = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    check(!is_err(w), "a writable shared mapping");
    long ro = map(PG, PROT_READ, MAP_SHARED, m, 0);
    check(!is_err(ro), "a read-only shared mapping");
    check_ret(add(m, F_SEAL_FUTURE_WRITE), 0, "F_SEAL_FUTURE_WRITE while they exist");
    ((char *)w)[0] = 'Z';
    char c = 0;
    check_ret(sc(SYS_pread64, m, &c, 1, 0), 1, "read the memfd");
    check(c == 'Z', "the existing writable mapping still writes");
    check_err(sc(SYS_pwrite64, m, "q", 1, 0), EPERM, "write() is refused");
    check_err(map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0), EPERM,
              "a new writable shared mapping is refused");
    /* Mapped before the seal through a writable fd: it may still become
     * writable (the seal only takes that right from later mappings). */
    check_ret(sc(SYS_mprotect, ro, PG, PROT_READ | PROT_WRITE), 0,
              "the older read-only one can still be made writable");
    long later = map(PG, PROT_READ, MAP_SHARED, m, 0);
    check(!is_err(later), "a read-only shared mapping after the seal");
    check_err(sc(SYS_mprotect, later, PG, PROT_READ | PROT_WRITE), EACCES,
              "which cannot be made writable");
    long p = map(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
    check(!is_err(p), "a private writable mapping is fine");
    sc(SYS_munmap, p, PG);
    check_err(add(m, F_SEAL_WRITE), EBUSY, "F_SEAL_WRITE with writable mappings there");
    sc(SYS_munmap, w, PG);
    sc(SYS_munmap, ro, PG);
    check_ret(add(m, F_SEAL_WRITE), 0, "F_SEAL_WRITE once they are gone");
    check_ret(seals(m), F_SEAL_FUTURE_WRITE | F_SEAL_WRITE, "both write seals");
    sc(SYS_munmap, later, PG);
    sc(SYS_close, m);
}

/* Seals added while the memfd is still empty hold once it has data. */
static void seal_before_data(void)
{
    int m = new_memfd("empty");
    check_ret(add(m, F_SEAL_GROW), 0, "F_SEAL_GROW on an empty memfd");
    check_err(sc(SYS_ftruncate, m, PG), EPERM, "it cannot grow");
    check_err(sc(SYS_write, m, "x", 1), EPERM, "not even by a write");
    check_err(sc(SYS_fallocate, m, 0, 0, PG), EPERM, "nor fallocate");
    long r = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    check(!is_err(r), "a shared mapping of the empty memfd");
    sc(SYS_munmap, r, PG);
    sc(SYS_close, m);

    m = new_memfd("empty2");
    check_ret(add(m, F_SEAL_WRITE | F_SEAL_SHRINK), 0, "F_SEAL_WRITE|F_SEAL_SHRINK, empty");
    check_ret(sc(SYS_ftruncate, m, 2 * PG), 0, "growing is still fine");
    check_err(sc(SYS_ftruncate, m, PG), EPERM, "shrinking is not");
    check_err(map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0), EPERM,
              "a writable shared mapping is refused");
    r = map(PG, PROT_READ, MAP_SHARED, m, 0);
    check(!is_err(r) && ((char *)r)[0] == 0, "a read-only one reads zeros");
    check_err(sc(SYS_pwrite64, m, "x", 1, 0), EPERM, "write() is refused");
    sc(SYS_munmap, r, PG);
    sc(SYS_close, m);
}

static unsigned mode_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_mode & 07777 : 0;
}

/* F_SEAL_EXEC: the exec bits stay as they are; on a file with one, it
 * implies the write and size seals. MFD_NOEXEC_SEAL makes a memfd without
 * exec bits, sealed so, and open to more seals. */
static void exec_seal(void)
{
    int m = new_memfd("exec");
    check_ret(add(m, F_SEAL_EXEC), 0, "F_SEAL_EXEC");
    long s = seals(m);
    out("seals after F_SEAL_EXEC on an executable memfd: %#lx\n", s);
    check_err(sc(SYS_fchmod, m, 0666), EPERM, "fchmod that drops exec bits");
    check_ret(sc(SYS_fchmod, m, 0755), 0, "fchmod that keeps them");
    check_err(sc(SYS_write, m, "x", 1), EPERM, "write() after F_SEAL_EXEC");
    sc(SYS_close, m);

    m = (int)sc(SYS_memfd_create, "noexec", 0x0008 /* MFD_NOEXEC_SEAL */);
    check(m >= 0, "memfd_create MFD_NOEXEC_SEAL");
    check_ret(seals(m), F_SEAL_EXEC, "it is sealed with F_SEAL_EXEC");
    check_ret(mode_of(m), 0666, "and has no exec bits");
    check_err(sc(SYS_fchmod, m, 0777), EPERM, "fchmod cannot add them");
    check_ret(sc(SYS_fchmod, m, 0600), 0, "fchmod of the other bits");
    check_ret(sc(SYS_write, m, "x", 1), 1, "it is still writable");
    check_ret(add(m, F_SEAL_WRITE), 0, "and takes more seals");
    sc(SYS_close, m);
    m = (int)sc(SYS_memfd_create, "exec", 0x0010 /* MFD_EXEC */);
    check(m >= 0, "memfd_create MFD_EXEC");
    check_ret(seals(m), F_SEAL_SEAL, "MFD_EXEC without MFD_ALLOW_SEALING: F_SEAL_SEAL");
    check_ret(mode_of(m), 0777, "with exec bits");
    sc(SYS_close, m);
}

static void who_may_seal(void)
{
    int m = (int)sc(SYS_memfd_create, "noseal", 0);
    check_ret(seals(m), F_SEAL_SEAL, "without MFD_ALLOW_SEALING: F_SEAL_SEAL");
    check_err(add(m, F_SEAL_WRITE), EPERM, "and no more seals");
    check_err(add(m, 0x40), EINVAL, "an unknown seal is EINVAL first");
    sc(SYS_close, m);
    m = new_memfd("bits");
    check_err(add(m, -1), EINVAL, "all bits");
    check_ret(add(m, 0), 0, "no seals at all");
    check_ret(add(m, F_SEAL_SEAL), 0, "F_SEAL_SEAL");
    check_err(add(m, 0), EPERM, "then even no seals are refused");
    sc(SYS_close, m);
    /* A file that is not a memfd (the scratch directory's file system). */
    int f = (int)sc(SYS_open, "memfd_seal.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    check_err(add(f, F_SEAL_WRITE), EINVAL, "F_ADD_SEALS on a regular file");
    check_err(seals(f), EINVAL, "F_GET_SEALS on a regular file");
    sc(SYS_close, f);
    f = (int)sc(SYS_open, "memfd_seal.tmp", O_RDONLY);
    check_err(add(f, F_SEAL_WRITE), EPERM, "F_ADD_SEALS on a read-only regular file");
    sc(SYS_close, f);
    sc(SYS_unlink, "memfd_seal.tmp");
    /* A tmpfs file has seals too: F_SEAL_SEAL, so no more. */
    char shm[64];
    snprintf(shm, sizeof shm, "/dev/shm/memfd_seal.%ld", sc(SYS_getpid));
    f = (int)sc(SYS_open, shm, O_RDWR | O_CREAT | O_TRUNC, 0600);
    check(f >= 0, "create a file in /dev/shm");
    check_ret(seals(f), F_SEAL_SEAL, "F_GET_SEALS on a tmpfs file");
    check_err(add(f, F_SEAL_WRITE), EPERM, "F_ADD_SEALS on a tmpfs file");
    check_ret(sc(SYS_write, f, "abc", 3), 3, "which is written as usual");
    long r = map(PG, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    check(!is_err(r) && memcmp((char *)r, "abc", 3) == 0, "and mapped shared and writable");
    sc(SYS_munmap, r, PG);
    sc(SYS_close, f);
    sc(SYS_unlink, shm);
    int pfd[2];
    check_ret(sc(SYS_pipe, pfd), 0, "pipe");
    check_err(add(pfd[1], F_SEAL_WRITE), EINVAL, "F_ADD_SEALS on a pipe");
    sc(SYS_close, pfd[0]);
    sc(SYS_close, pfd[1]);
}

int main(void)
{
    seal_write_vs_maps();
    future_write();
    seal_before_data();
    exec_seal();
    who_may_seal();
    return finish();
}
