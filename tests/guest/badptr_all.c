/* badptr_all.c: every pointer argument (paths, input buffers, structs,
 * output buffers) of the implemented syscalls, given each kind of bad
 * pointer in turn: NULL, an unmapped page, a pointer whose object runs into
 * an unmapped page, the stub region of the sandbox (unmapped natively; the
 * sandbox must treat it as unmapped too) and a kernel address. Each line
 * prints the raw result; the harness compares the lines with the native
 * run, so the expected answers are the host kernel's own. The other
 * arguments are valid, so that the bad pointer is the one the kernel
 * trips on. At the end the lowest free descriptor shows that no failed
 * call leaked one. A data buffer that runs into an unmapped page gets what
 * fits (Linux's short count), an address above the user range EFAULT. */
#include "guest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define PG 4096UL
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
/* Table rows leave the arguments a call does not take zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Kinds of argument: what "running into an unmapped page" means for it. */
enum { A_PATH, A_IN, A_OUT };

/* The argument under test is written as BAD in a table row. */
#define BAD 0x5ead5ead5ead0000L

struct row {
    const char *name;
    long nr;
    int kind;
    long a[6];
    int no_null; /* NULL means "no timeout": the call would block forever */
};

static char *page_end; /* first byte of an unmapped page after a mapped one */

static long bad_value(int k, int kind)
{
    switch (k) {
    case 0:
        return 0; /* NULL */
    case 1:
        return (long)page_end; /* unmapped */
    case 2:
        return (long)page_end - (kind == A_PATH ? 3 : 1); /* runs off */
    case 3:
        return 0x7e0000000000L; /* stub text */
    case 4:
        return 0x7e0000100000L; /* stub sysmsg pages */
    case 5:
        return 0x7e0001000000L; /* stub signal stacks */
    default:
        return (long)0xffff880000000000UL; /* kernel */
    }
}
static const char *const kind_names[] = { "null",        "unmapped",      "partial", "stub-text",
                                          "stub-sysmsg", "stub-sigstack", "kernel" };
#define NKINDS 7

static int fd_file, fd_wfile, fd_dir, pipe_r, pipe_w;

int main(void)
{
    /* A mapped page, then an unmapped one; the mapped page ends in
     * non-NUL bytes so a path there runs off its end. */
    char *p =
        (char *)sc(SYS_mmap, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc(SYS_munmap, p + PG, PG);
    memset(p, 'a', PG);
    page_end = p + PG;

    sc(SYS_mkdir, "bp", 0755);
    sc(SYS_chdir, "bp");
    int fd = (int)sc(SYS_open, "file", O_CREAT | O_RDWR | O_TRUNC, 0644);
    sc(SYS_write, fd, "0123456789abcdef0123456789abcdef", 32);
    sc(SYS_close, fd);
    sc(SYS_mkdir, "dir", 0755);
    sc(SYS_symlink, "file", "lnk");
    fd_file = (int)sc(SYS_open, "file", O_RDONLY);
    fd_wfile = (int)sc(SYS_open, "wfile", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    fd_dir = (int)sc(SYS_open, "dir", O_RDONLY | O_DIRECTORY);
    int pv[2];
    sc(SYS_pipe, pv);
    pipe_r = pv[0];
    pipe_w = pv[1];
    sc(SYS_write, pipe_w, "pipe", 4);

    static char buf[8192];
    static struct stat st;
    static struct iovec iov = { buf, 16 };
    static struct timespec ts0 = { 0, 0 };
    static uint32_t fword;
    /* struct futex_waitv: its value differs from the word's (EAGAIN). */
    static struct {
        uint64_t val, uaddr;
        uint32_t flags, reserved;
    } wv = { 1, (uintptr_t)&fword, 2 | 128, 0 };
    static struct rlimit rl;
    static uint64_t sigset;
    static long off;
    static char how[24]; /* struct open_how, all zero: O_RDONLY */
    static char handle[128];
    static int mnt;
    static struct {
        void *h;
        unsigned long f;
        void *r;
        unsigned long m;
    } sa = { SIG_IGN, 0x04000000, 0, 0 };
    sc(SYS_getrlimit, RLIMIT_NOFILE, &rl);
    *(unsigned *)handle = 64;
    /* IPC objects of this run's own (removed at the end). */
    long msq = sc(SYS_msgget, 0 /* IPC_PRIVATE */, 0600);
    long semid = sc(SYS_semget, 0, 2, 0600);
    long shmid = sc(SYS_shmget, 0, 4096, 0600);
    static char mqname[48];
    snprintf(mqname, sizeof mqname, "badptr_all.%ld", sc(SYS_getpid));
    long mqd = sc(SYS_mq_open, mqname, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK, 0600, 0);
    static char mqname2[48];
    snprintf(mqname2, sizeof mqname2, "badptr_all2.%ld", sc(SYS_getpid));
    static struct {
        uint16_t num;
        int16_t op, flg;
    } zero_op = { 0, 0, 04000 };

    const struct row rows[] = {
        { "read buf", SYS_read, A_OUT, { fd_file, BAD, 16 } },
        { "write buf", SYS_write, A_IN, { fd_wfile, BAD, 16 } },
        { "open path", SYS_open, A_PATH, { BAD, O_RDONLY } },
        { "stat path", SYS_stat, A_PATH, { BAD, (long)&st } },
        { "stat buf", SYS_stat, A_OUT, { (long)"file", BAD } },
        { "fstat buf", SYS_fstat, A_OUT, { fd_file, BAD } },
        { "lstat path", SYS_lstat, A_PATH, { BAD, (long)&st } },
        { "lstat buf", SYS_lstat, A_OUT, { (long)"lnk", BAD } },
        { "poll fds", SYS_poll, A_IN, { BAD, 1, 0 } },
        { "rt_sigaction act", SYS_rt_sigaction, A_IN, { SIGUSR1, BAD, 0, 8 } },
        { "rt_sigaction oldact", SYS_rt_sigaction, A_OUT, { SIGUSR1, (long)&sa, BAD, 8 } },
        { "rt_sigprocmask set", SYS_rt_sigprocmask, A_IN, { SIG_BLOCK, BAD, 0, 8 } },
        { "rt_sigprocmask oldset", SYS_rt_sigprocmask, A_OUT, { SIG_BLOCK, 0, BAD, 8 } },
        { "sigaltstack ss", SYS_sigaltstack, A_IN, { BAD, 0 } },
        { "sigaltstack old_ss", SYS_sigaltstack, A_OUT, { 0, BAD } },
        { "ioctl FIONREAD", SYS_ioctl, A_OUT, { pipe_r, FIONREAD, BAD } },
        { "ioctl FIONBIO", SYS_ioctl, A_IN, { pipe_r, FIONBIO, BAD } },
        { "pread64 buf", SYS_pread64, A_OUT, { fd_file, BAD, 16, 0 }, 1 },
        { "pwrite64 buf", SYS_pwrite64, A_IN, { fd_wfile, BAD, 16, 0 } },
        { "readv iov", SYS_readv, A_IN, { fd_file, BAD, 1 } },
        { "writev iov", SYS_writev, A_IN, { fd_wfile, BAD, 1 } },
        { "access path", SYS_access, A_PATH, { BAD, F_OK } },
        { "pipe fds", SYS_pipe, A_OUT, { BAD } },
        { "select readfds", SYS_select, A_IN, { 1, BAD, 0, 0, (long)&ts0 } },
        { "select timeout", SYS_select, A_IN, { 0, 0, 0, 0, BAD }, 1 },
        { "sendfile offset", SYS_sendfile, A_IN, { fd_wfile, fd_file, BAD, 4 } },
        { "uname buf", SYS_uname, A_OUT, { BAD } },
        { "fcntl F_GETLK", SYS_fcntl, A_OUT, { fd_file, F_GETLK, BAD } },
        { "fcntl F_SETLK", SYS_fcntl, A_IN, { fd_file, F_SETLK, BAD } },
        { "fcntl F_OFD_GETLK", SYS_fcntl, A_OUT, { fd_file, F_OFD_GETLK, BAD } },
        { "truncate path", SYS_truncate, A_PATH, { BAD, 0 } },
        { "getdents buf", SYS_getdents, A_OUT, { fd_dir, BAD, 4096 } },
        { "getcwd buf", SYS_getcwd, A_OUT, { BAD, 256 } },
        { "chdir path", SYS_chdir, A_PATH, { BAD } },
        { "rename old", SYS_rename, A_PATH, { BAD, (long)"x" } },
        { "rename new", SYS_rename, A_PATH, { (long)"file", BAD } },
        { "mkdir path", SYS_mkdir, A_PATH, { BAD, 0755 } },
        { "rmdir path", SYS_rmdir, A_PATH, { BAD } },
        { "creat path", SYS_creat, A_PATH, { BAD, 0644 } },
        { "link old", SYS_link, A_PATH, { BAD, (long)"y" } },
        { "link new", SYS_link, A_PATH, { (long)"file", BAD } },
        { "unlink path", SYS_unlink, A_PATH, { BAD } },
        { "symlink target", SYS_symlink, A_PATH, { BAD, (long)"z" } },
        { "symlink new", SYS_symlink, A_PATH, { (long)"file", BAD } },
        { "readlink path", SYS_readlink, A_PATH, { BAD, (long)buf, 64 } },
        { "readlink buf", SYS_readlink, A_OUT, { (long)"lnk", BAD, 64 } },
        { "chmod path", SYS_chmod, A_PATH, { BAD, 0644 } },
        { "chown path", SYS_chown, A_PATH, { BAD, -1, -1 } },
        { "lchown path", SYS_lchown, A_PATH, { BAD, -1, -1 } },
        { "gettimeofday tv", SYS_gettimeofday, A_OUT, { BAD, 0 } },
        { "gettimeofday tz", SYS_gettimeofday, A_OUT, { 0, BAD } },
        { "getrlimit buf", SYS_getrlimit, A_OUT, { RLIMIT_NOFILE, BAD } },
        { "utime path", SYS_utime, A_PATH, { BAD, 0 } },
        { "utime times", SYS_utime, A_IN, { (long)"file", BAD } },
        { "mknod path", SYS_mknod, A_PATH, { BAD, S_IFIFO | 0644, 0 } },
        { "statfs path", SYS_statfs, A_PATH, { BAD, (long)buf } },
        { "statfs buf", SYS_statfs, A_OUT, { (long)"file", BAD } },
        { "fstatfs buf", SYS_fstatfs, A_OUT, { fd_file, BAD } },
        { "prctl PR_SET_NAME", SYS_prctl, A_PATH, { 15 /* PR_SET_NAME */, BAD } },
        { "prctl PR_GET_NAME", SYS_prctl, A_OUT, { 16 /* PR_GET_NAME */, BAD } },
        { "arch_prctl ARCH_GET_FS", SYS_arch_prctl, A_OUT, { ARCH_GET_FS, BAD } },
        { "setrlimit buf", SYS_setrlimit, A_IN, { RLIMIT_NOFILE, BAD } },
        { "chroot path", SYS_chroot, A_PATH, { BAD } },
        { "setxattr path", SYS_setxattr, A_PATH, { BAD, (long)"user.x", (long)"v", 1, 0 } },
        { "setxattr name", SYS_setxattr, A_PATH, { (long)"file", BAD, (long)"v", 1, 0 } },
        { "getxattr path", SYS_getxattr, A_PATH, { BAD, (long)"user.x", (long)buf, 64 } },
        { "getxattr name", SYS_getxattr, A_PATH, { (long)"file", BAD, (long)buf, 64 } },
        { "lgetxattr path", SYS_lgetxattr, A_PATH, { BAD, (long)"user.x", (long)buf, 64 } },
        { "fgetxattr name", SYS_fgetxattr, A_PATH, { fd_file, BAD, (long)buf, 64 } },
        { "listxattr path", SYS_listxattr, A_PATH, { BAD, (long)buf, 64 } },
        { "removexattr path", SYS_removexattr, A_PATH, { BAD, (long)"user.x" } },
        { "removexattr name", SYS_removexattr, A_PATH, { (long)"file", BAD } },
        { "time buf", SYS_time, A_OUT, { BAD } },
        { "sched_getaffinity mask", SYS_sched_getaffinity, A_OUT, { 0, 128, BAD } },
        { "getdents64 buf", SYS_getdents64, A_OUT, { fd_dir, BAD, 4096 } },
        { "clock_gettime tp", SYS_clock_gettime, A_OUT, { CLOCK_MONOTONIC, BAD } },
        { "clock_getres res", SYS_clock_getres, A_OUT, { CLOCK_MONOTONIC, BAD } },
        { "utimes path", SYS_utimes, A_PATH, { BAD, 0 } },
        { "utimes times", SYS_utimes, A_IN, { (long)"file", BAD } },
        { "openat path", SYS_openat, A_PATH, { AT_FDCWD, BAD, O_RDONLY } },
        { "mkdirat path", SYS_mkdirat, A_PATH, { AT_FDCWD, BAD, 0755 } },
        { "mknodat path", SYS_mknodat, A_PATH, { AT_FDCWD, BAD, S_IFIFO | 0644, 0 } },
        { "fchownat path", SYS_fchownat, A_PATH, { AT_FDCWD, BAD, -1, -1, 0 } },
        { "futimesat path", SYS_futimesat, A_PATH, { AT_FDCWD, BAD, 0 } },
        { "futimesat times", SYS_futimesat, A_IN, { AT_FDCWD, (long)"file", BAD } },
        { "newfstatat path", SYS_newfstatat, A_PATH, { AT_FDCWD, BAD, (long)&st, 0 } },
        { "newfstatat buf", SYS_newfstatat, A_OUT, { AT_FDCWD, (long)"file", BAD, 0 } },
        { "unlinkat path", SYS_unlinkat, A_PATH, { AT_FDCWD, BAD, 0 } },
        { "renameat old", SYS_renameat, A_PATH, { AT_FDCWD, BAD, AT_FDCWD, (long)"x" } },
        { "renameat new", SYS_renameat, A_PATH, { AT_FDCWD, (long)"file", AT_FDCWD, BAD } },
        { "linkat old", SYS_linkat, A_PATH, { AT_FDCWD, BAD, AT_FDCWD, (long)"y", 0 } },
        { "linkat new", SYS_linkat, A_PATH, { AT_FDCWD, (long)"file", AT_FDCWD, BAD, 0 } },
        { "symlinkat target", SYS_symlinkat, A_PATH, { BAD, AT_FDCWD, (long)"z" } },
        { "symlinkat new", SYS_symlinkat, A_PATH, { (long)"file", AT_FDCWD, BAD } },
        { "readlinkat path", SYS_readlinkat, A_PATH, { AT_FDCWD, BAD, (long)buf, 64 } },
        { "readlinkat buf", SYS_readlinkat, A_OUT, { AT_FDCWD, (long)"lnk", BAD, 64 } },
        { "fchmodat path", SYS_fchmodat, A_PATH, { AT_FDCWD, BAD, 0644 } },
        { "faccessat path", SYS_faccessat, A_PATH, { AT_FDCWD, BAD, F_OK } },
        { "pselect6 readfds", SYS_pselect6, A_IN, { 1, BAD, 0, 0, (long)&ts0, 0 } },
        { "pselect6 timeout", SYS_pselect6, A_IN, { 0, 0, 0, 0, BAD, 0 }, 1 },
        { "pselect6 sigmask", SYS_pselect6, A_IN, { 0, 0, 0, 0, (long)&ts0, BAD } },
        { "ppoll fds", SYS_ppoll, A_IN, { BAD, 1, (long)&ts0, 0, 8 } },
        { "ppoll timeout", SYS_ppoll, A_IN, { 0, 0, BAD, 0, 8 }, 1 },
        { "ppoll sigmask", SYS_ppoll, A_IN, { 0, 0, (long)&ts0, BAD, 8 } },
        { "get_robust_list head", SYS_get_robust_list, A_OUT, { 0, BAD, (long)&off } },
        { "get_robust_list len", SYS_get_robust_list, A_OUT, { 0, (long)&off, BAD } },
        { "splice off_out", SYS_splice, A_IN, { pipe_r, 0, fd_wfile, BAD, 1, 0 } },
        { "utimensat path", SYS_utimensat, A_PATH, { AT_FDCWD, BAD, 0, 0 } },
        { "utimensat times", SYS_utimensat, A_IN, { AT_FDCWD, (long)"file", BAD, 0 } },
        { "pipe2 fds", SYS_pipe2, A_OUT, { BAD, 0 } },
        { "preadv iov", SYS_preadv, A_IN, { fd_file, BAD, 1, 0, 0 } },
        { "pwritev iov", SYS_pwritev, A_IN, { fd_wfile, BAD, 1, 0, 0 } },
        { "prlimit64 new", SYS_prlimit64, A_IN, { 0, RLIMIT_NOFILE, BAD, 0 } },
        { "prlimit64 old", SYS_prlimit64, A_OUT, { 0, RLIMIT_NOFILE, 0, BAD } },
        { "name_to_handle_at path",
          SYS_name_to_handle_at,
          A_PATH,
          { AT_FDCWD, BAD, (long)handle, (long)&mnt, 0 } },
        { "getrandom buf", SYS_getrandom, A_OUT, { BAD, 16, 0 } },
        { "memfd_create name", SYS_memfd_create, A_PATH, { BAD, 0 } },
        { "copy_file_range off_in",
          SYS_copy_file_range,
          A_IN,
          { fd_file, BAD, fd_wfile, 0, 4, 0 } },
        { "preadv2 iov", SYS_preadv2, A_IN, { fd_file, BAD, 1, 0, 0, 0 } },
        { "pwritev2 iov", SYS_pwritev2, A_IN, { fd_wfile, BAD, 1, 0, 0, 0 } },
        { "statx path", SYS_statx, A_PATH, { AT_FDCWD, BAD, 0, 0x7ff, (long)buf } },
        { "statx buf", SYS_statx, A_OUT, { AT_FDCWD, (long)"file", 0, 0x7ff, BAD } },
        { "openat2 path", SYS_openat2, A_PATH, { AT_FDCWD, BAD, (long)how, 24 } },
        { "openat2 how", SYS_openat2, A_IN, { AT_FDCWD, (long)"file", BAD, 24 } },
        { "faccessat2 path", SYS_faccessat2, A_PATH, { AT_FDCWD, BAD, F_OK, 0 } },
        { "fchmodat2 path", SYS_fchmodat2, A_PATH, { AT_FDCWD, BAD, 0644, 0 } },
        /* Futexes and sleeps (the private ones look at memory only to
         * read or write the word; the shared WAKE needs the page). */
        { "futex WAKE uaddr", SYS_futex, A_IN, { BAD, 1 /* FUTEX_WAKE */, 1 } },
        { "futex WAIT timeout", SYS_futex, A_IN, { (long)&fword, 128, 0, BAD }, 1 },
        { "futex CMP_REQUEUE uaddr2", SYS_futex, A_IN, { (long)&fword, 4 | 128, 1, 1, BAD, 0 } },
        { "futex WAKE_OP uaddr2", SYS_futex, A_OUT, { (long)&fword, 5 | 128, 1, 1, BAD, 0 } },
        { "futex_waitv waiters",
          SYS_futex_waitv,
          A_IN,
          { BAD, 1, 0, (long)&ts0, CLOCK_MONOTONIC } },
        { "futex_waitv timeout",
          SYS_futex_waitv,
          A_IN,
          { (long)&wv, 1, 0, BAD, CLOCK_MONOTONIC },
          1 },
        /* System V IPC and POSIX message queues. */
        { "msgsnd msgp", SYS_msgsnd, A_IN, { msq, BAD, 4, 04000 } },
        { "msgctl IPC_STAT buf", SYS_msgctl, A_OUT, { msq, 2, BAD } },
        { "msgctl IPC_SET buf", SYS_msgctl, A_IN, { msq, 1, BAD } },
        { "semop sops", SYS_semop, A_IN, { semid, BAD, 1 } },
        { "semtimedop timeout", SYS_semtimedop, A_IN, { semid, (long)&zero_op, 1, BAD } },
        { "semctl IPC_STAT buf", SYS_semctl, A_OUT, { semid, 0, 2, BAD } },
        { "semctl IPC_SET buf", SYS_semctl, A_IN, { semid, 0, 1, BAD } },
        { "semctl GETALL array", SYS_semctl, A_OUT, { semid, 0, 13, BAD } },
        { "semctl SETALL array", SYS_semctl, A_IN, { semid, 0, 17, BAD } },
        { "shmctl IPC_STAT buf", SYS_shmctl, A_OUT, { shmid, 2, BAD } },
        { "shmctl IPC_SET buf", SYS_shmctl, A_IN, { shmid, 1, BAD } },
        { "mq_open name", SYS_mq_open, A_PATH, { BAD, O_RDONLY } },
        { "mq_open attr", SYS_mq_open, A_IN, { (long)mqname2, O_RDWR | O_CREAT, 0600, BAD } },
        { "mq_timedsend msg", SYS_mq_timedsend, A_IN, { mqd, BAD, 4, 0, (long)&ts0 } },
        { "mq_timedsend timeout", SYS_mq_timedsend, A_IN, { mqd, (long)"x", 1, 0, BAD } },
        { "mq_timedreceive timeout", SYS_mq_timedreceive, A_IN, { mqd, (long)buf, 8192, 0, BAD } },
        { "mq_notify sevp", SYS_mq_notify, A_IN, { mqd, BAD } },
        { "mq_getsetattr new", SYS_mq_getsetattr, A_IN, { mqd, BAD, 0 } },
        { "mq_getsetattr old", SYS_mq_getsetattr, A_OUT, { mqd, 0, BAD } },
        { "nanosleep req", SYS_nanosleep, A_IN, { BAD, 0 } },
        { "nanosleep rem", SYS_nanosleep, A_OUT, { (long)&ts0, BAD } },
        { "clock_nanosleep req", SYS_clock_nanosleep, A_IN, { CLOCK_MONOTONIC, 0, BAD, 0 } },
        { "clock_nanosleep rem",
          SYS_clock_nanosleep,
          A_OUT,
          { CLOCK_MONOTONIC, 0, (long)&ts0, BAD } },
    };
    (void)iov, (void)sigset;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        for (int k = 0; k < NKINDS; k++) {
            if (k == 0 && r->no_null)
                continue;
            /* Partial writes of earlier calls may have left a NUL there. */
            memset(p, 'a', PG);
            long a[6];
            for (int j = 0; j < 6; j++)
                a[j] = r->a[j] == BAD ? bad_value(k, r->kind) : r->a[j];
            long ret = raw_syscall6(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            /* Descriptors a successful call made are closed again, so
             * that the numbers stay the same natively and sandboxed. */
            if (ret >= 0 &&
                (r->nr == SYS_open || r->nr == SYS_openat || r->nr == SYS_creat ||
                 r->nr == SYS_openat2 || r->nr == SYS_memfd_create || r->nr == SYS_mq_open))
                sc(SYS_close, ret);
            if (r->nr == SYS_time && ret > 0)
                ret = 1; /* the time itself differs between the runs */
            out("%s %s -> %s\n", r->name, kind_names[k], ret_name(ret));
        }
    }
    /* The rows with an iovec array: the array is fine, its buffer is bad. */
    for (int k = 0; k < NKINDS; k++) {
        struct iovec v = { (void *)bad_value(k, A_OUT), 16 };
        out("readv iov_base %s -> %s\n", kind_names[k], ret_name(sc(SYS_readv, fd_file, &v, 1)));
        out("writev iov_base %s -> %s\n", kind_names[k], ret_name(sc(SYS_writev, fd_wfile, &v, 1)));
        out("preadv iov_base %s -> %s\n", kind_names[k],
            ret_name(sc(SYS_preadv, fd_file, &v, 1, 0, 0)));
    }

    sc(SYS_close, mqd);
    sc(SYS_mq_unlink, mqname);
    out("mq_unlink of the queue mq_open with a NULL attr made -> %s\n",
        ret_name(sc(SYS_mq_unlink, mqname2)));
    sc(SYS_msgctl, msq, 0 /* IPC_RMID */, 0);
    sc(SYS_semctl, semid, 0, 0, 0);
    sc(SYS_shmctl, shmid, 0, 0);
    /* No failed call left a descriptor behind. */
    long lowest = sc(SYS_dup, 0);
    out("lowest free fd %ld\n", lowest);
    /* And nothing was created by a call that failed. */
    const char *names[] = { "x", "y", "z" };
    for (int i = 0; i < 3; i++)
        out("%s exists: %s\n", names[i], ret_name(sc(SYS_access, names[i], F_OK)));
    return 0;
}
