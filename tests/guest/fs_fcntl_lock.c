/* fs_fcntl_lock.c: advisory locks within one process: POSIX record locks
 * (F_SETLK/F_GETLK, never conflicting with the process's own), OFD locks
 * (F_OFD_*, owned by the open file description, so two open()s of one file
 * conflict), lock splitting and merging, release on close, and flock, with
 * the errno Linux gives (checked natively). No fork, no threads. */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_MAND_ 32
#define LOCK_READ_ 64

static long g_pid;

static void cleanup(void)
{
    sc(SYS_unlink, "lk_a");
}

static long setlk(long fd, int cmd, short type, short whence, long start, long len)
{
    struct flock fl = {
        .l_type = type, .l_whence = whence, .l_start = start, .l_len = len, .l_pid = 0
    };
    return sc(SYS_fcntl, fd, cmd, &fl);
}

/* Asks with cmd (F_GETLK or F_OFD_GETLK) for a lock of type on
 * [start, start+len) and compares the answer with the want_ values; for
 * F_UNLCK only the type is compared, as Linux changes nothing else. */
static void getlk(long fd, int cmd, short type, long start, long len, short want_type,
                  long want_start, long want_len, long want_pid, const char *name)
{
    struct flock fl = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len, .l_pid = 0
    };
    long r = sc(SYS_fcntl, fd, cmd, &fl);
    int ok = r == 0 && fl.l_type == want_type;
    if (want_type == F_UNLCK)
        ok = ok && fl.l_whence == SEEK_SET && fl.l_start == start && fl.l_len == len &&
             fl.l_pid == 0;
    else
        ok = ok && fl.l_whence == SEEK_SET && fl.l_start == want_start && fl.l_len == want_len &&
             fl.l_pid == want_pid;
    static const char *const types[] = { "F_RDLCK", "F_WRLCK", "F_UNLCK" };
    const char *t = want_type >= 0 && want_type <= 2 ? types[want_type] : "?";
    if (want_type == F_UNLCK)
        check(ok, "%s: F_UNLCK (r=%s type=%d)", name, ret_name(r), fl.l_type);
    else
        check(ok, "%s: %s start %ld len %ld (r=%s type=%d start=%ld len=%ld)", name, t, want_start,
              want_len, ret_name(r), fl.l_type, (long)fl.l_start, (long)fl.l_len);
}

static void test_posix(void)
{
    long a = sc(SYS_open, "lk_a", O_RDWR);
    long b = sc(SYS_open, "lk_a", O_RDWR);
    long c = sc(SYS_open, "lk_a", O_RDWR);
    check(a == 3 && b == 4 && c == 5, "three opens of lk_a");
    check_ret(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10), 0, "F_SETLK F_WRLCK 0..10");
    getlk(b, F_GETLK, F_WRLCK, 0, 10, F_UNLCK, 0, 0, 0,
          "F_GETLK through another open: the process never conflicts with itself");
    check_ret(setlk(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 10), 0,
              "F_SETLK F_WRLCK 5..15 through the other open");
    check_ret(setlk(b, F_SETLKW, F_RDLCK, SEEK_SET, 0, 20), 0,
              "F_SETLKW F_RDLCK 0..20 replaces them");

    /* OFD locks see the process's POSIX locks as conflicting. */
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_RDLCK, 0, 20, g_pid,
          "F_OFD_GETLK sees the POSIX read lock with the pid");
    getlk(c, F_OFD_GETLK, F_RDLCK, 0, 0, F_UNLCK, 0, 0, 0, "a read lock does not conflict with it");
    check_err(setlk(c, F_OFD_SETLK, F_WRLCK, SEEK_SET, 10, 1), EAGAIN,
              "F_OFD_SETLK F_WRLCK over the POSIX lock");
    check_ret(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0, "F_SETLK F_UNLCK of the whole file");
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "all POSIX locks gone");

    /* Closing any fd of the file drops the process's POSIX locks on it. */
    check_ret(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 10), 0, "F_SETLK F_WRLCK 0..10");
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 10, g_pid, "it is there");
    check_ret(sc(SYS_close, b), 0, "close another fd of the file");
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "the POSIX lock is gone");

    /* Offsets: SEEK_CUR, SEEK_END and negative lengths. */
    check_ret(sc(SYS_ftruncate, a, 50), 0, "make lk_a 50 bytes");
    check_ret(sc(SYS_lseek, a, 100, SEEK_SET), 100, "seek to 100");
    check_ret(setlk(a, F_SETLK, F_WRLCK, SEEK_CUR, -10, 5), 0, "F_SETLK SEEK_CUR -10 len 5");
    getlk(c, F_OFD_GETLK, F_WRLCK, 60, 0, F_WRLCK, 90, 5, g_pid, "locks 90..95");
    check_ret(setlk(a, F_SETLK, F_WRLCK, SEEK_END, -10, 0), 0, "F_SETLK SEEK_END -10 len 0");
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 40, 0, g_pid,
          "locks 40 to EOF and beyond, merged");
    check_ret(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0, "unlock all");
    check_ret(setlk(a, F_SETLK, F_RDLCK, SEEK_SET, 30, -10), 0, "F_SETLK start 30 len -10");
    getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, F_RDLCK, 20, 10, g_pid, "locks 20..30");
    check_ret(setlk(a, F_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0, "unlock all");

    check_err(setlk(a, F_SETLK, 5, SEEK_SET, 0, 1), EINVAL, "F_SETLK l_type 5");
    check_err(setlk(a, F_SETLK, F_WRLCK, 7, 0, 1), EINVAL, "F_SETLK l_whence 7");
    check_err(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, -5, 1), EINVAL, "F_SETLK start -5");
    check_err(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, 5, -10), EINVAL, "F_SETLK start 5 len -10");
    check_err(setlk(a, F_SETLK, F_WRLCK, SEEK_SET, INT64_MAX, 2), EOVERFLOW,
              "F_SETLK past the largest offset");
    check_err(setlk(a, F_GETLK, F_UNLCK, SEEK_SET, 0, 1), EINVAL, "F_GETLK F_UNLCK");
    check_err(sc(SYS_fcntl, a, F_SETLK, BADPTR), EFAULT, "F_SETLK bad pointer");
    check_err(sc(SYS_fcntl, a, F_GETLK, BADPTR), EFAULT, "F_GETLK bad pointer");
    check_err(setlk(-1, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF, "F_SETLK fd -1");
    long r = sc(SYS_open, "lk_a", O_RDONLY);
    long w = sc(SYS_open, "lk_a", O_WRONLY);
    check_err(setlk(r, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF,
              "F_SETLK F_WRLCK on an O_RDONLY fd");
    check_err(setlk(w, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF,
              "F_SETLK F_RDLCK on an O_WRONLY fd");
    getlk(r, F_GETLK, F_WRLCK, 0, 1, F_UNLCK, 0, 0, 0, "F_GETLK F_WRLCK on an O_RDONLY fd is fine");
    long p = sc(SYS_open, "lk_a", O_PATH);
    check_err(setlk(p, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF, "F_SETLK on O_PATH");
    sc(SYS_close_range, 3, ~0U, 0);
}

/* Two opens of lk_a, the second with bflags, and a dup of the first: fds
 * 3, 4 and 5. */
static void open_two(long *a, long *b, long *a2, int bflags)
{
    *a = sc(SYS_open, "lk_a", O_RDWR);
    *b = sc(SYS_open, "lk_a", bflags);
    *a2 = sc(SYS_dup, *a);
    check(*a == 3 && *b == 4 && *a2 == 5, "two opens of lk_a and a dup of the first");
}

static void test_ofd(void)
{
    long a, b, a2;
    open_two(&a, &b, &a2, O_RDWR);
    check_ret(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 100), 0, "F_OFD_SETLK F_WRLCK 0..100");
    check_err(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 50, 10), EAGAIN,
              "F_OFD_SETLK F_RDLCK 50..60 through the other open");
    check_err(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 99, 1), EAGAIN,
              "F_OFD_SETLK F_WRLCK 99..100 through the other open");
    check_ret(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 100, 10), 0,
              "F_OFD_SETLK F_WRLCK 100..110 does not overlap");
    check_ret(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 100, 10), 0, "unlock it");
    getlk(b, F_OFD_GETLK, F_WRLCK, 50, 10, F_WRLCK, 0, 100, -1,
          "F_OFD_GETLK reports the whole lock with l_pid -1");
    getlk(a, F_OFD_GETLK, F_WRLCK, 50, 10, F_UNLCK, 0, 0, 0, "F_OFD_GETLK through the owner");
    getlk(a2, F_OFD_GETLK, F_WRLCK, 50, 10, F_UNLCK, 0, 0, 0,
          "F_OFD_GETLK through the dup: same owner");
    check_ret(setlk(a2, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 100), 0, "F_OFD_SETLK through the dup");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 100, -1, "still one lock 0..100");
    check_ret(setlk(b, F_OFD_SETLKW, F_RDLCK, SEEK_SET, 200, 10), 0,
              "F_OFD_SETLKW F_RDLCK 200..210 without a conflict");
    check_ret(setlk(a, F_OFD_SETLK, F_RDLCK, SEEK_SET, 205, 10), 0, "read locks share 205..215");
    check_err(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 205, 1), EAGAIN,
              "a write lock over the other read lock");
    check_ret(setlk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 200, 20), 0,
              "unlock 200..220 through the first");
    check_ret(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 200, 20), 0, "and through the second");

    /* Splitting: unlock the middle of 0..100. */
    check_ret(setlk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 40, 20), 0, "unlock 40..60");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 40, -1, "first piece 0..40");
    getlk(b, F_OFD_GETLK, F_WRLCK, 40, 0, F_WRLCK, 60, 40, -1, "second piece 60..100");
    getlk(b, F_OFD_GETLK, F_WRLCK, 40, 20, F_UNLCK, 0, 0, 0, "40..60 is free");
    check_ret(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 40, 20), 0, "the other open locks the gap");
    getlk(a, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 40, 20, -1, "the gap is its lock");
    check_ret(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0,
              "it unlocks the whole file: only its own lock goes");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 40, -1, "first piece still there");

    /* Merging: fill the gap, then extend at the end. */
    check_ret(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 40, 20), 0, "lock 40..60 again");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 100, -1, "merged into 0..100");
    check_ret(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 100, 10), 0, "lock 100..110");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 110, -1, "merged into 0..110");

    /* A read lock inside the write lock splits it in three. */
    check_ret(setlk(a, F_OFD_SETLK, F_RDLCK, SEEK_SET, 20, 10), 0,
              "downgrade 20..30 to a read lock");
    getlk(b, F_OFD_GETLK, F_RDLCK, 0, 0, F_WRLCK, 0, 20, -1, "write lock 0..20");
    getlk(b, F_OFD_GETLK, F_RDLCK, 20, 10, F_UNLCK, 0, 0, 0, "20..30 allows a read lock");
    getlk(b, F_OFD_GETLK, F_WRLCK, 20, 10, F_RDLCK, 20, 10, -1, "read lock 20..30");
    getlk(b, F_OFD_GETLK, F_RDLCK, 20, 0, F_WRLCK, 30, 80, -1, "write lock 30..110");
    check_ret(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 20, 10), 0,
              "the other open shares the read lock");
    check_ret(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 20, 10), 0, "and drops it");
    check_ret(setlk(a, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0, "unlock everything");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "nothing left");

    /* The lock lives until the last fd of the description closes. */
    check_ret(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10), 0, "lock 0..10");
    check_ret(sc(SYS_close, a), 0, "close the first fd");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_WRLCK, 0, 10, -1, "the dup keeps the lock alive");
    check_ret(sc(SYS_close, a2), 0, "close the dup");
    getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "closing the description released it");

    struct flock fl = {
        .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 123
    };
    check_err(sc(SYS_fcntl, b, F_OFD_SETLK, &fl), EINVAL, "F_OFD_SETLK l_pid 123");
    check_err(sc(SYS_fcntl, b, F_OFD_SETLKW, &fl), EINVAL, "F_OFD_SETLKW l_pid 123");
    fl.l_pid = -1;
    check_err(sc(SYS_fcntl, b, F_OFD_SETLK, &fl), EINVAL, "F_OFD_SETLK l_pid -1");
    fl.l_pid = 1;
    fl.l_type = F_WRLCK;
    check_err(sc(SYS_fcntl, b, F_OFD_GETLK, &fl), EINVAL, "F_OFD_GETLK l_pid 1");
    check_err(setlk(b, F_OFD_SETLK, 7, SEEK_SET, 0, 1), EINVAL, "F_OFD_SETLK l_type 7");
    check_err(setlk(b, F_OFD_SETLK, F_RDLCK, 3, 0, 1), EINVAL, "F_OFD_SETLK l_whence 3");
    /* F_OFD_GETLK with F_UNLCK is left out: EINVAL on older kernels (6.1),
     * a query for any lock of another owner on newer ones (6.18). */
    check_err(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, -1, 1), EINVAL, "F_OFD_SETLK start -1");
    long r = sc(SYS_open, "lk_a", O_RDONLY);
    check_err(setlk(r, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF,
              "F_OFD_SETLK F_WRLCK on an O_RDONLY fd");
    check_ret(setlk(r, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1), 0,
              "F_OFD_SETLK F_RDLCK on an O_RDONLY fd");
    check_err(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1), EAGAIN,
              "which conflicts with a write lock");
    sc(SYS_close_range, 3, ~0U, 0);
}

/* One flock call of a sequence: through fds[fd], op, 0 or the error
 * it must fail with (EWOULDBLOCK), and what it shows. */
struct flock_step {
    int fd, op, blocked;
    const char *what;
};

static const struct flock_step flock_steps[] = {
    { 0, LOCK_EX, 0, "LOCK_EX" },
    { 1, LOCK_SH | LOCK_NB, 1, "LOCK_SH|LOCK_NB through the other open" },
    { 1, LOCK_EX | LOCK_NB, 1, "LOCK_EX|LOCK_NB through the other open" },
    { 2, LOCK_EX | LOCK_NB, 0, "LOCK_EX|LOCK_NB through the dup: same description" },
    { 0, LOCK_EX, 0, "LOCK_EX again" },
    { 0, LOCK_SH, 0, "convert to LOCK_SH" },
    { 1, LOCK_SH | LOCK_NB, 0, "the other open shares it" },
    /* A failed conversion has already dropped the old lock. */
    { 0, LOCK_EX | LOCK_NB, 1, "convert to LOCK_EX|LOCK_NB while shared" },
    { 1, LOCK_EX | LOCK_NB, 0, "the other open gets LOCK_EX: the shared lock was dropped" },
    { 1, LOCK_UN, 0, "LOCK_UN" },
    { 1, LOCK_UN, 0, "LOCK_UN again" },
    { 0, LOCK_UN | LOCK_NB, 0, "LOCK_UN|LOCK_NB with no lock" },
};

static void test_flock(void)
{
    long a, b, a2;
    open_two(&a, &b, &a2, O_RDONLY);
    const long fds[] = { a, b, a2 };
    for (size_t i = 0; i < sizeof flock_steps / sizeof flock_steps[0]; i++) {
        const struct flock_step *s = &flock_steps[i];
        long r = sc(SYS_flock, fds[s->fd], s->op);
        if (s->blocked)
            check_err(r, EWOULDBLOCK, s->what);
        else
            check_ret(r, 0, s->what);
    }

    /* flock and fcntl locks do not see each other. */
    check_ret(sc(SYS_flock, a, LOCK_EX), 0, "LOCK_EX");
    check_ret(setlk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0), 0,
              "an OFD read lock through the other open");
    check_ret(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0, "drop it");

    check_ret(sc(SYS_close, a), 0, "close the first fd");
    check_err(sc(SYS_flock, b, LOCK_SH | LOCK_NB), EWOULDBLOCK, "the dup keeps the flock");
    check_ret(sc(SYS_close, a2), 0, "close the dup");
    check_ret(sc(SYS_flock, b, LOCK_EX | LOCK_NB), 0, "closing the description released it");

    check_err(sc(SYS_flock, b, 0), EINVAL, "flock op 0");
    check_err(sc(SYS_flock, b, LOCK_NB), EINVAL, "flock LOCK_NB alone");
    check_err(sc(SYS_flock, b, LOCK_SH | LOCK_EX), EINVAL, "flock LOCK_SH|LOCK_EX");
    check_err(sc(SYS_flock, b, 16), EINVAL, "flock op 16");
    /* The op is checked before the fd. */
    check_err(sc(SYS_flock, -1, 0), EINVAL, "flock op 0 on fd -1");
    check_err(sc(SYS_flock, -1, LOCK_SH), EBADF, "flock fd -1");
    check_err(sc(SYS_flock, 99, LOCK_UN), EBADF, "flock a closed fd");
    long p = sc(SYS_open, "lk_a", O_PATH);
    check_err(sc(SYS_flock, p, LOCK_SH), EBADF, "flock an O_PATH fd");
    /* LOCK_MAND is accepted and ignored, before anything else is checked. */
    check_ret(sc(SYS_flock, -1, LOCK_MAND_ | LOCK_READ_), 0,
              "flock LOCK_MAND is ignored, even on fd -1");
    sc(SYS_close_range, 3, ~0U, 0);
}

int main(void)
{
    sc(SYS_close_range, 3, ~0U, 0);
    sc(SYS_umask, 022);
    cleanup();
    g_pid = sc(SYS_getpid);
    long fd = sc(SYS_open, "lk_a", O_CREAT | O_EXCL | O_RDWR, 0644);
    check_ret(fd, 3, "create lk_a");
    sc(SYS_close, fd);
    test_posix();
    test_ofd();
    test_flock();
    cleanup();
    return finish();
}
