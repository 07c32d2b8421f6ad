/* fs_stat.c: file metadata in the scratch directory: stat and statx,
 * access, chmod, chown, utimensat and friends, truncate, statfs,
 * getdents(64), xattr errors and file handles, with the errnos Linux 6.x
 * gives (checked natively). */
#include "fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "abi/statx.h"

/* musl 1.2.3 has neither struct statx (abi/statx.h) nor fchmodat2. */
#define STATX_BASIC_STATS 0x7ffU
#define STATX_RESERVED 0x80000000U
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define PROC_SUPER_MAGIC 0x9fa0

static mode_t perm_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (st.st_mode & 07777) : 07777;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
           a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
           a->st_size == b->st_size && a->st_blksize == b->st_blksize;
}

/* A fresh directory counts its subdirectories in st_nlink: 2 + n on
 * ext4 and tmpfs; btrfs-style file systems keep 1 and do not count. */
static int nlink_counts_subdirs(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) != 0 || stat(dir, &st) != 0)
        return 0;
    nlink_t base = st.st_nlink;
    char sub[PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(sub, sizeof sub, "%s/s%d", dir, i);
        mkdir(sub, 0755);
    }
    snprintf(sub, sizeof sub, "%s/file", dir);
    put(sub, "x");
    int ok =
        stat(dir, &st) == 0 && ((base == 2 && st.st_nlink == 5) || (base == 1 && st.st_nlink == 1));
    snprintf(sub, sizeof sub, "%s/s0", dir);
    rmdir(sub);
    ok = ok && stat(dir, &st) == 0 && st.st_nlink == (base == 2 ? 4 : 1);
    rmtree(dir);
    return ok;
}

static void test_stat(void)
{
    enter("stat");
    put("f", "0123456789");
    symlink("f", "l");
    symlink("nowhere", "dang");
    mkdir("d", 0755);
    mkfifo("p", 0644);

    struct stat st, st2, dst;
    memset(&st, 0, sizeof st);
    check_ret(sc(SYS_stat, "f", &st), 0, "stat f");
    check(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644, "f is a 0644 regular file");
    check(st.st_size == 10 && st.st_nlink == 1, "f size 10, nlink 1");
    check(st.st_blksize > 0, "st_blksize non-zero");
    check(st.st_uid == geteuid(), "st_uid is the euid");
    /* New files take the directory's group only if it is setgid. */
    check(stat(".", &dst) == 0 && st.st_gid == ((dst.st_mode & S_ISGID) ? dst.st_gid : getegid()),
          "st_gid is the egid");
    check_ret(sc(SYS_lstat, "l", &st2), 0, "lstat l");
    check(S_ISLNK(st2.st_mode) && st2.st_size == 1 && (st2.st_mode & 0777) == 0777,
          "symlink: S_IFLNK, size is the target length, mode 0777");
    check_ret(sc(SYS_stat, "l", &st2), 0, "stat l");
    check(same_stat(&st, &st2), "stat through the link is f");
    check_ret(sc(SYS_lstat, "d", &st2), 0, "lstat d");
    check(S_ISDIR(st2.st_mode) && (st2.st_mode & 07777) == 0755, "d is a 0755 directory");
    check_ret(sc(SYS_lstat, "p", &st2), 0, "lstat p");
    check(S_ISFIFO(st2.st_mode) && st2.st_size == 0, "p is an empty fifo");
    check_err(sc(SYS_stat, "dang", &st2), ENOENT, "stat dangling link");
    check_err(sc(SYS_stat, "nope", &st2), ENOENT, "stat missing");
    check_err(sc(SYS_stat, "f/", &st2), ENOTDIR, "stat file/");
    check_err(sc(SYS_stat, "", &st2), ENOENT, "stat empty path");
    check_err(sc(SYS_stat, NULL, &st2), EFAULT, "stat NULL path");
    check_err(sc(SYS_stat, "f", BADPTR), EFAULT, "stat bad buffer");

    int fd = open("f", O_RDONLY);
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    int pfd = open("f", O_PATH);
    check_ret(sc(SYS_fstat, fd, &st2), 0, "fstat");
    check(same_stat(&st, &st2), "fstat agrees with stat");
    check_ret(sc(SYS_fstat, pfd, &st2), 0, "fstat of an O_PATH fd");
    check(same_stat(&st, &st2), "O_PATH fstat agrees");
    check_err(sc(SYS_fstat, 999, &st2), EBADF, "fstat bad fd");
    check_err(sc(SYS_fstat, fd, BADPTR), EFAULT, "fstat bad buffer");

    check_ret(sc(SYS_newfstatat, dfd, "f", &st2, 0), 0, "newfstatat relative to a dir fd");
    check(same_stat(&st, &st2), "newfstatat agrees");
    check_ret(sc(SYS_newfstatat, AT_FDCWD, "l", &st2, AT_SYMLINK_NOFOLLOW), 0,
              "newfstatat AT_SYMLINK_NOFOLLOW");
    check(S_ISLNK(st2.st_mode), "AT_SYMLINK_NOFOLLOW sees the link");
    check_ret(sc(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH), 0, "newfstatat AT_EMPTY_PATH");
    check(same_stat(&st, &st2), "AT_EMPTY_PATH stats the fd");
    check_ret(sc(SYS_newfstatat, AT_FDCWD, "", &st2, AT_EMPTY_PATH), 0,
              "newfstatat AT_FDCWD AT_EMPTY_PATH");
    check(same_stat(&dst, &st2), "that is the cwd");
    check_err(sc(SYS_newfstatat, fd, "", &st2, 0), ENOENT,
              "newfstatat empty path without AT_EMPTY_PATH");
    check_err(sc(SYS_newfstatat, AT_FDCWD, "f", &st2, 0x1), EINVAL, "newfstatat bad flags");
    check_err(sc(SYS_newfstatat, fd, "x", &st2, 0), ENOTDIR, "newfstatat relative to a file fd");
    check_err(sc(SYS_newfstatat, 999, "x", &st2, 0), EBADF, "newfstatat bad fd");

    /* statx agrees with stat. */
    struct kstatx sx;
    memset(&sx, 0xff, sizeof sx);
    check_ret(sc(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx), 0, "statx f");
    check((sx.mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, "stx_mask has the basic stats");
    check(sx.size == 10 && sx.mode == st.st_mode && sx.nlink == 1 && sx.ino == st.st_ino &&
              sx.uid == st.st_uid && sx.gid == st.st_gid && sx.blksize == st.st_blksize &&
              sx.blocks == (uint64_t)st.st_blocks,
          "statx fields agree with stat");
    check(makedev(sx.dev_major, sx.dev_minor) == st.st_dev, "statx device agrees");
    check(sx.mtime.tv_sec == st.st_mtim.tv_sec && sx.mtime.tv_nsec == st.st_mtim.tv_nsec,
          "statx mtime agrees");
    check_ret(sc(SYS_statx, AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx), 0,
              "statx AT_SYMLINK_NOFOLLOW");
    check(S_ISLNK(sx.mode) && sx.size == 1, "statx sees the link");
    check_ret(sc(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx), 0,
              "statx AT_EMPTY_PATH");
    check(sx.ino == st.st_ino && sx.size == 10, "statx of the fd");
    check_ret(sc(SYS_statx, AT_FDCWD, "d", AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx), 0,
              "statx AT_STATX_DONT_SYNC");
    check(S_ISDIR(sx.mode), "statx of a dir");
    check_ret(sc(SYS_statx, AT_FDCWD, "f", 0, 0, &sx), 0, "statx mask 0");
    check_err(sc(SYS_statx, AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                 STATX_BASIC_STATS, &sx),
              EINVAL, "statx FORCE_SYNC|DONT_SYNC");
    check_err(sc(SYS_statx, AT_FDCWD, "f", 0, STATX_RESERVED, &sx), EINVAL,
              "statx STATX__RESERVED");
    check_err(sc(SYS_statx, AT_FDCWD, "f", 0x1, STATX_BASIC_STATS, &sx), EINVAL, "statx bad flags");
    check_err(sc(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, NULL), EFAULT,
              "statx NULL buffer");
    check_err(sc(SYS_statx, AT_FDCWD, "", 0, STATX_BASIC_STATS, &sx), ENOENT, "statx empty path");
    check_err(sc(SYS_statx, AT_FDCWD, "nope", 0, STATX_BASIC_STATS, &sx), ENOENT, "statx missing");
    close(fd);
    close(dfd);
    close(pfd);

    check(nlink_counts_subdirs("nl"), "dir nlink is 2 + subdirs (scratch fs)");
    char tmpdir[64];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fs_stat.%ld", sc(SYS_getpid));
    check(nlink_counts_subdirs(tmpdir), "dir nlink is 2 + subdirs (/tmp)");
}

static void test_access(void)
{
    enter("access");
    put("f", "x");
    put("x", "x");
    chmod("x", 0755);
    put("none", "x");
    chmod("none", 0);
    symlink("nowhere", "dang");
    check_ret(sc(SYS_access, "f", F_OK), 0, "access F_OK");
    check_err(sc(SYS_access, "nope", F_OK), ENOENT, "access missing");
    check_err(sc(SYS_access, "f/", F_OK), ENOTDIR, "access file/");
    check_ret(sc(SYS_access, "f", R_OK | W_OK), 0, "access R_OK|W_OK");
    check_err(sc(SYS_access, "f", X_OK), EACCES, "access X_OK on a 0644 file, even as root");
    check_ret(sc(SYS_access, "x", X_OK), 0, "access X_OK on a 0755 file");
    check_ret(sc(SYS_access, ".", X_OK | R_OK | W_OK), 0, "access rwx on own dir");
    check_err(sc(SYS_access, "f", 8), EINVAL, "access bad mode 8");
    check_err(sc(SYS_access, "f", -1), EINVAL, "access bad mode -1");
    /* Root reads a 0000 file; anybody else may not. */
    long r = sc(SYS_access, "none", R_OK);
    check(geteuid() == 0 ? r == 0 : r == -EACCES,
          "access R_OK on a 0000 file: root yes, others EACCES");
    check_err(sc(SYS_access, "none", X_OK), EACCES, "access X_OK on 0000");

    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    int fd = open("f", O_RDONLY);
    check_ret(sc(SYS_faccessat, dfd, "f", R_OK), 0, "faccessat");
    check_err(sc(SYS_faccessat, dfd, "f", 8), EINVAL, "faccessat bad mode");
    check_err(sc(SYS_faccessat, dfd, "dang", F_OK), ENOENT, "faccessat follows a dangling link");
    check_ret(sc(SYS_faccessat2, dfd, "f", R_OK | W_OK, AT_EACCESS), 0, "faccessat2 AT_EACCESS");
    check_err(sc(SYS_faccessat2, dfd, "f", X_OK, AT_EACCESS), EACCES,
              "faccessat2 AT_EACCESS X_OK on 0644");
    check_ret(sc(SYS_faccessat2, dfd, "dang", F_OK, AT_SYMLINK_NOFOLLOW), 0,
              "faccessat2 AT_SYMLINK_NOFOLLOW on a dangling link");
    check_ret(sc(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH), 0, "faccessat2 AT_EMPTY_PATH");
    check_err(sc(SYS_faccessat2, fd, "", R_OK, 0), ENOENT,
              "faccessat2 empty path without AT_EMPTY_PATH");
    check_err(sc(SYS_faccessat2, dfd, "f", R_OK, 0x1), EINVAL, "faccessat2 bad flags");
    check_err(sc(SYS_faccessat2, dfd, "f", 8, 0), EINVAL, "faccessat2 bad mode");
    close(dfd);
    close(fd);
}

static void test_chmod_chown(void)
{
    enter("chmod");
    put("f", "x");
    symlink("f", "l");
    mkdir("d", 0755);
    check_ret(sc(SYS_chmod, "f", 0600), 0, "chmod 0600");
    check(perm_of("f") == 0600, "mode 0600");
    check_ret(sc(SYS_chmod, "l", 0640), 0, "chmod through a symlink");
    check(perm_of("f") == 0640 && perm_of("l") == 0777, "the target changed, the link did not");
    check_ret(sc(SYS_chmod, "f", S_IFDIR | 0604), 0, "chmod ignores type bits");
    struct stat st;
    check(lstat("f", &st) == 0 && st.st_mode == (S_IFREG | 0604),
          "mode 0604, still a regular file");
    int fd = open("f", O_RDONLY);
    int pfd = open("f", O_PATH);
    check_ret(sc(SYS_fchmod, fd, 04711), 0, "fchmod 04711");
    check(perm_of("f") == 04711, "mode 04711");
    check_err(sc(SYS_fchmod, pfd, 0644), EBADF, "fchmod O_PATH fd");
    check_err(sc(SYS_fchmod, 999, 0644), EBADF, "fchmod bad fd");
    check_ret(sc(SYS_fchmodat, AT_FDCWD, "f", 0644), 0, "fchmodat");
    check(perm_of("f") == 0644, "mode 0644");
    check_err(sc(SYS_chmod, "nope", 0644), ENOENT, "chmod missing");
    check_ret(sc(SYS_fchmodat2, AT_FDCWD, "f", 0600, AT_SYMLINK_NOFOLLOW), 0,
              "fchmodat2 AT_SYMLINK_NOFOLLOW on a file");
    check(perm_of("f") == 0600, "mode 0600 again");
    check_err(sc(SYS_fchmodat2, AT_FDCWD, "l", 0600, AT_SYMLINK_NOFOLLOW), ENOTSUP,
              "fchmodat2 AT_SYMLINK_NOFOLLOW on a symlink");
    check_err(sc(SYS_fchmodat2, AT_FDCWD, "f", 0600, 0x1), EINVAL, "fchmodat2 bad flags");
    check_ret(sc(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH), 0, "fchmodat2 AT_EMPTY_PATH");
    check(perm_of("f") == 0640, "mode 0640 via AT_EMPTY_PATH");

    long uid = sc(SYS_geteuid), gid = sc(SYS_getegid);
    check_ret(sc(SYS_chown, "f", uid, gid), 0, "chown to own uid/gid");
    check(stat("f", &st) == 0 && st.st_uid == (uid_t)uid && st.st_gid == (gid_t)gid,
          "owner is own uid/gid");
    check_ret(sc(SYS_chown, "f", -1, -1), 0, "chown -1 -1");
    check_ret(sc(SYS_lchown, "l", uid, gid), 0, "lchown a symlink");
    check_ret(sc(SYS_fchown, fd, -1, gid), 0, "fchown -1 gid");
    check_err(sc(SYS_fchown, pfd, -1, -1), EBADF, "fchown O_PATH fd");
    check_ret(sc(SYS_fchownat, AT_FDCWD, "l", uid, gid, AT_SYMLINK_NOFOLLOW), 0,
              "fchownat AT_SYMLINK_NOFOLLOW");
    check_ret(sc(SYS_fchownat, fd, "", -1, -1, AT_EMPTY_PATH), 0, "fchownat AT_EMPTY_PATH");
    check_err(sc(SYS_fchownat, AT_FDCWD, "f", -1, -1, 0x1), EINVAL, "fchownat bad flags");
    check_err(sc(SYS_chown, "nope", -1, -1), ENOENT, "chown missing");
    check(stat("f", &st) == 0 && st.st_uid == (uid_t)uid && st.st_gid == (gid_t)gid &&
              (st.st_mode & 07777) == 0640,
          "owner and mode unchanged");

    /* Any chown of a regular file drops setuid, and setgid with group
     * exec, even chown(-1, -1) and even for root; directories keep them. */
    chmod("f", 04755);
    check_ret(sc(SYS_chown, "f", -1, -1), 0, "chown -1 -1 on 04755");
    check(perm_of("f") == 0755, "setuid dropped");
    chmod("f", 02755);
    check_ret(sc(SYS_fchown, fd, uid, gid), 0, "fchown on 02755");
    check(perm_of("f") == 0755, "setgid with group exec dropped");
    chmod("f", 02745);
    sc(SYS_chown, "f", -1, -1);
    check(perm_of("f") == 02745, "setgid without group exec kept");
    chmod("d", 06755);
    sc(SYS_chown, "d", -1, -1);
    check(perm_of("d") == 06755, "directory keeps setuid and setgid");
    close(fd);
    close(pfd);
}

static int times_are(const char *path, int follow, long as, long ans, long ms, long mns)
{
    struct stat st;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    return r == 0 && st.st_atim.tv_sec == as && st.st_atim.tv_nsec == ans &&
           st.st_mtim.tv_sec == ms && st.st_mtim.tv_nsec == mns;
}

/* A timestamp set to "now": compared with time(), which is as coarse as
 * the file system clock, allowing two seconds either way. */
static int is_now(const struct timespec *t, long before, long after)
{
    return t->tv_sec >= before - 2 && t->tv_sec <= after + 2;
}

static void test_times(void)
{
    enter("times");
    put("f", "x");
    symlink("f", "l");
    struct timespec ts[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", ts, 0), 0, "utimensat specific times");
    check(times_are("f", 1, 1000000000, 123456789, 1100000000, 987654321),
          "times read back exactly");

    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1200000000, 5 } };
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", omit, 0), 0, "utimensat UTIME_OMIT atime");
    check(times_are("f", 1, 1000000000, 123456789, 1200000000, 5), "atime kept, mtime set");

    long before = sc(SYS_time, NULL);
    struct timespec now[2] = { { 7, UTIME_OMIT }, { 7, UTIME_NOW } };
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", now, 0), 0, "utimensat UTIME_NOW mtime");
    long after = sc(SYS_time, NULL);
    struct stat st;
    check(stat("f", &st) == 0 && st.st_atim.tv_sec == 1000000000 &&
              is_now(&st.st_mtim, before, after),
          "mtime is now, atime kept");
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", ts, 0), 0, "set times again");
    before = sc(SYS_time, NULL);
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", NULL, 0), 0, "utimensat NULL times");
    after = sc(SYS_time, NULL);
    check(stat("f", &st) == 0 && is_now(&st.st_atim, before, after) &&
              is_now(&st.st_mtim, before, after),
          "NULL times set both to now");

    struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
    check_err(sc(SYS_utimensat, AT_FDCWD, "f", bad, 0), EINVAL, "utimensat nsec 1000000000");
    bad[0].tv_nsec = -1;
    check_err(sc(SYS_utimensat, AT_FDCWD, "f", bad, 0), EINVAL, "utimensat nsec -1");
    check_err(sc(SYS_utimensat, AT_FDCWD, "f", ts, 0x1), EINVAL, "utimensat bad flags");
    check_err(sc(SYS_utimensat, AT_FDCWD, "nope", ts, 0), ENOENT, "utimensat missing");
    check_err(sc(SYS_utimensat, AT_FDCWD, NULL, ts, 0), EFAULT, "utimensat AT_FDCWD NULL path");
    /* Linux returns early when both are UTIME_OMIT: no lookup at all. */
    struct timespec both[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
    check_ret(sc(SYS_utimensat, AT_FDCWD, "nope", both, 0), 0,
              "utimensat both UTIME_OMIT on a missing file");

    struct timespec lts[2] = { { 1300000000, 1 }, { 1300000001, 2 } };
    check_ret(sc(SYS_utimensat, AT_FDCWD, "f", ts, 0), 0, "reset f");
    check_ret(sc(SYS_utimensat, AT_FDCWD, "l", lts, AT_SYMLINK_NOFOLLOW), 0,
              "utimensat AT_SYMLINK_NOFOLLOW");
    check(times_are("l", 0, 1300000000, 1, 1300000001, 2) &&
              times_are("f", 1, 1000000000, 123456789, 1100000000, 987654321),
          "the link's times changed, not the target's");
    int fd = open("f", O_RDONLY);
    check_ret(sc(SYS_utimensat, fd, NULL, lts, 0), 0, "utimensat fd with NULL path");
    check(times_are("f", 1, 1300000000, 1, 1300000001, 2), "times set through the fd");
    check_ret(sc(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH), 0, "utimensat AT_EMPTY_PATH");
    check(times_are("f", 1, 1000000000, 123456789, 1100000000, 987654321),
          "times set through AT_EMPTY_PATH");

    struct timeval tv[2] = { { 1400000000, 250000 }, { 1400000001, 999999 } };
    check_ret(sc(SYS_utimes, "f", tv), 0, "utimes");
    check(times_are("f", 1, 1400000000, 250000000, 1400000001, 999999000),
          "utimes microseconds read back");
    tv[0].tv_sec = 1500000000;
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_futimesat, dfd, "f", tv), 0, "futimesat");
    check(times_are("f", 1, 1500000000, 250000000, 1400000001, 999999000), "futimesat read back");
    tv[1].tv_usec = 1000000;
    check_err(sc(SYS_utimes, "f", tv), EINVAL, "utimes usec 1000000");
    check_err(sc(SYS_futimesat, dfd, "f", tv), EINVAL, "futimesat usec 1000000");
    struct {
        long actime, modtime;
    } ub = { 1600000000, 1600000002 };
    check_ret(sc(SYS_utime, "f", &ub), 0, "utime");
    check(times_are("f", 1, 1600000000, 0, 1600000002, 0), "utime whole seconds");
    close(fd);
    close(dfd);
}

static void test_truncate(void)
{
    enter("truncate");
    put("f", "0123456789");
    symlink("f", "l");
    mkdir("d", 0755);
    check_ret(sc(SYS_truncate, "f", 100), 0, "truncate to 100");
    struct stat st;
    char buf[128];
    int fd = open("f", O_RDONLY);
    long n = sc(SYS_read, fd, buf, sizeof buf);
    static const char zeros[90];
    check(n == 100 && memcmp(buf, "0123456789", 10) == 0 && memcmp(buf + 10, zeros, 90) == 0,
          "extended with zeros, data kept");
    check_ret(sc(SYS_truncate, "l", 4), 0, "truncate through a symlink");
    check(stat("f", &st) == 0 && st.st_size == 4, "target is 4 bytes");
    check_ret(sc(SYS_pread64, fd, buf, sizeof buf, 0), 4, "4 bytes remain");
    check(memcmp(buf, "0123", 4) == 0, "the first 4 bytes");
    check_ret(sc(SYS_truncate, "f", 0), 0, "truncate to 0");
    check(stat("f", &st) == 0 && st.st_size == 0, "empty");
    check_err(sc(SYS_truncate, "f", -1), EINVAL, "truncate -1");
    check_err(sc(SYS_truncate, "d", 1), EISDIR, "truncate a dir");
    check_err(sc(SYS_truncate, "nope", 1), ENOENT, "truncate missing");
    check_err(sc(SYS_truncate, "", 1), ENOENT, "truncate empty path");
    chmod("f", 0444);
    long r = sc(SYS_truncate, "f", 1);
    check(geteuid() == 0 ? r == 0 : r == -EACCES, "truncate a 0444 file: root yes, others EACCES");
    close(fd);
}

static void test_statfs(void)
{
    enter("statfs");
    struct statfs a, b;
    memset(&a, 0, sizeof a);
    check_ret(sc(SYS_statfs, ".", &a), 0, "statfs .");
    check(a.f_bsize > 0, "f_bsize > 0");
    check(a.f_namelen == 255, "f_namelen 255");
    check(a.f_blocks > 0 && a.f_bfree <= a.f_blocks && a.f_bavail <= a.f_blocks,
          "block counts consistent");
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    int pfd = open(".", O_PATH);
    check_ret(sc(SYS_fstatfs, dfd, &b), 0, "fstatfs");
    check(a.f_type == b.f_type && a.f_bsize == b.f_bsize && a.f_namelen == b.f_namelen &&
              memcmp(&a.f_fsid, &b.f_fsid, sizeof a.f_fsid) == 0,
          "fstatfs agrees with statfs");
    check_ret(sc(SYS_fstatfs, pfd, &b), 0, "fstatfs of an O_PATH fd");
    check(a.f_type == b.f_type, "O_PATH fstatfs agrees");
    check_ret(sc(SYS_statfs, "/proc", &b), 0, "statfs /proc");
    check(b.f_type == PROC_SUPER_MAGIC, "/proc f_type is PROC_SUPER_MAGIC");
    check_err(sc(SYS_statfs, "nope", &b), ENOENT, "statfs missing");
    check_err(sc(SYS_statfs, "", &b), ENOENT, "statfs empty path");
    check_err(sc(SYS_statfs, ".", BADPTR), EFAULT, "statfs bad buffer");
    check_err(sc(SYS_fstatfs, 999, &b), EBADF, "fstatfs bad fd");
    close(dfd);
    close(pfd);
}

struct dirent64k {
    uint64_t ino;
    int64_t off;
    uint16_t reclen;
    uint8_t type;
    char name[];
};

#define NFILES 300

/* What one pass over the directory saw. */
struct pass {
    int entries, dot, dotdot, sub, lnk, fifo, bad_type, dup, stray;
    unsigned char seen[NFILES];
    int64_t off100;   /* d_off of the 100th entry */
    char name101[32]; /* the entry after it */
};

static void see(struct pass *p, const char *name, int type)
{
    p->entries++;
    if (p->entries == 101)
        snprintf(p->name101, sizeof p->name101, "%s", name);
    int idx;
    char tail;
    if (strcmp(name, ".") == 0)
        p->dot++, p->bad_type += type != DT_DIR;
    else if (strcmp(name, "..") == 0)
        p->dotdot++, p->bad_type += type != DT_DIR;
    else if (strcmp(name, "sub") == 0)
        p->sub++, p->bad_type += type != DT_DIR;
    else if (strcmp(name, "lnk") == 0)
        p->lnk++, p->bad_type += type != DT_LNK;
    else if (strcmp(name, "fifo") == 0)
        p->fifo++, p->bad_type += type != DT_FIFO;
    else if (sscanf(name, "f%3d%c", &idx, &tail) == 1 && idx >= 0 && idx < NFILES &&
             strlen(name) == 4) {
        p->dup += p->seen[idx]++ > 0;
        p->bad_type += type != DT_REG;
    } else {
        p->stray++;
    }
}

static int pass_ok(const struct pass *p)
{
    for (int i = 0; i < NFILES; i++)
        if (p->seen[i] != 1)
            return 0;
    return p->entries == NFILES + 5 && p->dot == 1 && p->dotdot == 1 && p->sub == 1 &&
           p->lnk == 1 && p->fifo == 1 && p->dup == 0 && p->stray == 0;
}

/* Reads the whole directory in bufsz-byte calls of getdents64 or, old, of
 * the old getdents, whose d_type is the last byte of each record. */
static long read_dents(int fd, size_t bufsz, struct pass *p, int old)
{
    static char buf[4096];
    memset(p, 0, sizeof *p);
    for (;;) {
        long n = sc(old ? SYS_getdents : SYS_getdents64, fd, buf, bufsz);
        if (n <= 0)
            return n;
        for (long off = 0; off < n;) {
            if (old) {
                unsigned short reclen;
                memcpy(&reclen, buf + off + 16, sizeof reclen);
                see(p, buf + off + 18, buf[off + reclen - 1]);
                off += reclen;
                continue;
            }
            struct dirent64k *d = (struct dirent64k *)(buf + off);
            see(p, d->name, d->type);
            if (p->entries == 100)
                p->off100 = d->off;
            off += d->reclen;
        }
    }
}

static void test_getdents(void)
{
    enter("getdents");
    mkdir("many", 0755);
    char name[32];
    for (int i = 0; i < NFILES; i++) {
        snprintf(name, sizeof name, "many/f%03d", i);
        put(name, "");
    }
    mkdir("many/sub", 0755);
    symlink("f000", "many/lnk");
    mkfifo("many/fifo", 0644);
    put("file", "x");

    int fd = open("many", O_RDONLY | O_DIRECTORY);
    struct pass p, q;
    check_ret(read_dents(fd, 64, &p, 0), 0, "getdents64 with 64-byte buffers");
    check(pass_ok(&p), "every entry seen once, with . and ..");
    check(p.bad_type == 0, "d_type right for dirs, files, link, fifo");
    check_ret(sc(SYS_getdents64, fd, (char[64]){ 0 }, 64), 0, "getdents64 at the end returns 0");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek the dir to 0");
    check_ret(read_dents(fd, 4096, &q, 0), 0, "getdents64 with a 4096-byte buffer");
    check(pass_ok(&q) && q.entries == p.entries && q.bad_type == 0,
          "the re-read sees the same entries");
    check(strcmp(p.name101, q.name101) == 0, "same order with either buffer size");
    /* A d_off resumes after its entry, as seekdir relies on. */
    char after[32];
    snprintf(after, sizeof after, "%s", q.name101);
    check(sc(SYS_lseek, fd, q.off100, SEEK_SET) == q.off100, "lseek to the 100th entry's d_off");
    static char buf[4096];
    long n = sc(SYS_getdents64, fd, buf, sizeof buf);
    check(n > 0 && strcmp(((struct dirent64k *)buf)->name, after) == 0,
          "reading resumes with the 101st entry");

    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek to 0 again");
    check_err(sc(SYS_getdents64, fd, buf, 1), EINVAL, "getdents64 buffer of 1 byte");
    check_err(sc(SYS_getdents64, fd, buf, 23), EINVAL, "getdents64 buffer too small for \".\"");
    check_ret(sc(SYS_getdents64, fd, buf, 24), 24, "getdents64 buffer of exactly one entry");
    check_err(sc(SYS_getdents64, fd, BADPTR, sizeof buf), EFAULT, "getdents64 bad buffer");
    int ffd = open("file", O_RDONLY);
    int pfd = open("many", O_PATH);
    check_err(sc(SYS_getdents64, ffd, buf, sizeof buf), ENOTDIR, "getdents64 on a file");
    check_err(sc(SYS_getdents64, 999, buf, sizeof buf), EBADF, "getdents64 bad fd");
    check_err(sc(SYS_getdents64, pfd, buf, sizeof buf), EBADF, "getdents64 O_PATH fd");

    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek to 0 for getdents");
    check_ret(read_dents(fd, 64, &p, 1), 0, "getdents with 64-byte buffers");
    check(pass_ok(&p) && p.bad_type == 0, "getdents sees every entry once with d_type");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek to 0 once more");
    check_err(sc(SYS_getdents, fd, buf, 23), EINVAL, "getdents buffer too small");
    check_err(sc(SYS_getdents, ffd, buf, sizeof buf), ENOTDIR, "getdents on a file");
    check_err(sc(SYS_getdents, 999, buf, sizeof buf), EBADF, "getdents bad fd");

    /* The inode numbers in entries match stat. */
    struct stat st;
    stat("many/sub", &st);
    int ino_ok = 0;
    sc(SYS_lseek, fd, 0, SEEK_SET);
    while ((n = sc(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long off = 0; off < n;) {
            struct dirent64k *d = (struct dirent64k *)(buf + off);
            if (strcmp(d->name, "sub") == 0)
                ino_ok = d->ino == st.st_ino;
            off += d->reclen;
        }
    check(ino_ok, "d_ino of sub is its st_ino");
    close(fd);
    close(ffd);
    close(pfd);
}

static void test_xattr(void)
{
    enter("xattr");
    put("f", "x");
    symlink("f", "l");
    char buf[256];
    int fd = open("f", O_RDONLY);
    int pfd = open("f", O_PATH);
    check_ret(sc(SYS_listxattr, "f", buf, sizeof buf), 0, "listxattr with none set");
    check_ret(sc(SYS_listxattr, "f", NULL, 0), 0, "listxattr size query");
    check_ret(sc(SYS_flistxattr, fd, buf, sizeof buf), 0, "flistxattr");
    check_err(sc(SYS_flistxattr, pfd, buf, sizeof buf), EBADF, "flistxattr O_PATH fd");
    check_err(sc(SYS_getxattr, "f", "user.x", buf, sizeof buf), ENODATA, "getxattr unset name");
    check_err(sc(SYS_getxattr, "f", "user.x", NULL, 0), ENODATA,
              "getxattr size query of an unset name");
    check_err(sc(SYS_lgetxattr, "l", "user.x", buf, sizeof buf), ENODATA, "lgetxattr on a symlink");
    check_err(sc(SYS_fgetxattr, fd, "user.x", buf, sizeof buf), ENODATA, "fgetxattr");
    check_err(sc(SYS_fgetxattr, pfd, "user.x", buf, sizeof buf), EBADF, "fgetxattr O_PATH fd");
    check_err(sc(SYS_getxattr, "nope", "user.x", buf, sizeof buf), ENOENT, "getxattr missing file");
    check_err(sc(SYS_getxattr, "f", "", buf, sizeof buf), ERANGE, "getxattr empty name");
    check_err(sc(SYS_getxattr, "f", "user.", buf, sizeof buf), EINVAL,
              "getxattr empty user. suffix");
    check_err(sc(SYS_getxattr, "f", "foo", buf, sizeof buf), ENOTSUP,
              "getxattr without a namespace");
    char name[300];
    memset(name, 'a', sizeof name);
    memcpy(name, "user.", 5);
    name[255] = 0;
    check_err(sc(SYS_getxattr, "f", name, buf, sizeof buf), ENODATA, "getxattr 255-byte name");
    name[255] = 'a';
    name[256] = 0;
    check_err(sc(SYS_getxattr, "f", name, buf, sizeof buf), ERANGE, "getxattr 256-byte name");
    check_err(sc(SYS_removexattr, "f", "user.x"), ENODATA, "removexattr unset name");
    check_err(sc(SYS_setxattr, "f", "user.x", "v", 1, 4), EINVAL, "setxattr bad flags");
    check_err(sc(SYS_setxattr, "f", "user.x", "v", 65537, 0), E2BIG, "setxattr value over 64 KiB");
    close(fd);
    close(pfd);
}

static void test_handles(void)
{
    enter("handles");
    struct {
        unsigned int bytes;
        int type;
        unsigned char h[128];
    } fh;
    memset(&fh, 0, sizeof fh);
    check_err(sc(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY), EINVAL,
              "open_by_handle_at handle_bytes 0");
    fh.bytes = 129;
    check_err(sc(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY), EINVAL,
              "open_by_handle_at handle_bytes over MAX_HANDLE_SZ");
    check_err(sc(SYS_open_by_handle_at, AT_FDCWD, BADPTR, O_RDONLY), EFAULT,
              "open_by_handle_at bad pointer");
    /* Without CAP_DAC_READ_SEARCH: EPERM. Root passes that check and the
     * made-up handle then fails in a file-system specific way. */
    fh.bytes = 8;
    long r = sc(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
    if (r >= 0)
        close((int)r);
    check(geteuid() == 0 ? r < 0 : r == -EPERM,
          "open_by_handle_at a made-up handle: EPERM without the capability");
}

int main(void)
{
    static void (*const tests[])(void) = { test_stat,     test_access,   test_chmod_chown,
                                           test_times,    test_truncate, test_statfs,
                                           test_getdents, test_xattr,    test_handles };
    if (in_work_dir("fs_stat", tests, sizeof tests / sizeof tests[0]) < 0)
        return 2;
    struct stat st;
    check(lstat("fs_stat.dir", &st) != 0, "work dir removed");
    return finish();
}
