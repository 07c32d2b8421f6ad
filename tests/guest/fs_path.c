/* fs_path.c: path-level file system calls in the scratch directory:
 * mkdir, rmdir, unlink, rename(at2), link, symlink, readlink, chdir,
 * getcwd, chroot, name length limits, EXDEV, umask and mknod, with the
 * errnos Linux 6.x gives (checked natively). */
#include "fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* musl 1.2.3 does not define these. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

/* The harness's scratch directory and our work directory inside it. */

/* The file's contents, or "" when it cannot be read. */
static const char *get(const char *path)
{
    static char buf[256];
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        close(fd);
    }
    return buf;
}

/* The lstat type bits, or 0 when the name does not exist. */
static mode_t ltype(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

static long nlink_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (long)st.st_nlink : -1;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void test_mkdir(void)
{
    enter("mkdir");
    put("f", "x");
    check_ret(sc(SYS_mkdir, "d", 0755), 0, "mkdir d");
    check(ltype("d") == S_IFDIR, "d is a directory");
    check_err(sc(SYS_mkdir, "d", 0755), EEXIST, "mkdir existing dir");
    check_err(sc(SYS_mkdir, "f", 0755), EEXIST, "mkdir over a file");
    check_err(sc(SYS_mkdir, "f/", 0755), EEXIST, "mkdir f/ over a file");
    check_err(sc(SYS_mkdir, "nope/x", 0755), ENOENT, "mkdir missing parent");
    check_err(sc(SYS_mkdir, "f/x", 0755), ENOTDIR, "mkdir under a regular file");
    check_err(sc(SYS_mkdir, "", 0755), ENOENT, "mkdir empty path");
    check_ret(sc(SYS_mkdir, "d2/", 0755), 0, "mkdir with trailing slash");
    check(ltype("d2") == S_IFDIR, "d2/ made directory d2");
    check_ret(sc(SYS_mkdir, "d2//sub//", 0755), 0, "mkdir with doubled slashes");
    check(ltype("d2/sub") == S_IFDIR, "d2/sub exists");

    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    int ffd = open("f", O_RDONLY);
    check_ret(sc(SYS_mkdirat, dfd, "in", 0755), 0, "mkdirat relative to fd");
    check(ltype("d/in") == S_IFDIR, "mkdirat made d/in");
    check_err(sc(SYS_mkdirat, dfd, "in", 0755), EEXIST, "mkdirat existing");
    check_err(sc(SYS_mkdirat, ffd, "x", 0755), ENOTDIR, "mkdirat with a file fd");
    check_err(sc(SYS_mkdirat, 999, "x", 0755), EBADF, "mkdirat bad fd");
    check_ret(sc(SYS_mkdirat, AT_FDCWD, "atcwd", 0755), 0, "mkdirat AT_FDCWD");
    char abs[PATH_MAX];
    snprintf(abs, sizeof abs, "%s/mkdir/abs", g_work);
    check_ret(sc(SYS_mkdirat, 999, abs, 0755), 0, "mkdirat absolute path ignores a bad fd");
    check(ltype("abs") == S_IFDIR, "absolute mkdirat landed in cwd");
    close(dfd);
    close(ffd);

    /* Trailing slashes on non-directories. */
    check_err(sc(SYS_open, "f/", O_RDONLY), ENOTDIR, "open file/");
    check_err(sc(SYS_open, "f/", O_RDONLY | O_CREAT, 0644), EISDIR, "open file/ with O_CREAT");
    check_err(sc(SYS_open, "new/", O_RDONLY | O_CREAT, 0644), EISDIR, "open missing/ with O_CREAT");
    check(ltype("new") == 0, "nothing created for missing/");
    long fd = sc(SYS_open, "d/", O_RDONLY);
    check(fd >= 0, "open dir/ works");
    close((int)fd);
    check_err(sc(SYS_open, "d", O_WRONLY), EISDIR, "open dir for writing");
    check_err(sc(SYS_open, "d", O_RDONLY | O_CREAT, 0644), EISDIR, "open dir with O_CREAT");
}

static void test_unlink_rmdir(void)
{
    enter("unlink");
    put("f", "x");
    mkdir("d", 0755);
    mkdir("full", 0755);
    put("full/x", "x");

    check_err(sc(SYS_unlink, "d/"), EISDIR, "unlink dir/");
    check_err(sc(SYS_unlink, "d"), EISDIR, "unlink a directory");
    check_err(sc(SYS_unlink, "f/"), ENOTDIR, "unlink file/");
    check_err(sc(SYS_unlink, "nope"), ENOENT, "unlink missing");
    check_err(sc(SYS_unlink, "nope/"), ENOENT, "unlink missing/");
    check_err(sc(SYS_unlink, "f/x"), ENOTDIR, "unlink under a file");

    check_err(sc(SYS_rmdir, "full"), ENOTEMPTY, "rmdir non-empty");
    check_err(sc(SYS_rmdir, "."), EINVAL, "rmdir .");
    check_err(sc(SYS_rmdir, "d/."), EINVAL, "rmdir d/.");
    check_err(sc(SYS_rmdir, ".."), ENOTEMPTY, "rmdir ..");
    check_err(sc(SYS_rmdir, "d/.."), ENOTEMPTY, "rmdir d/..");
    check_err(sc(SYS_rmdir, "f"), ENOTDIR, "rmdir a file");
    check_err(sc(SYS_rmdir, "f/"), ENOTDIR, "rmdir file/");
    check_err(sc(SYS_rmdir, "nope"), ENOENT, "rmdir missing");
    check_err(sc(SYS_rmdir, ""), ENOENT, "rmdir empty path");
    check_ret(sc(SYS_rmdir, "d/"), 0, "rmdir dir/");
    check(ltype("d") == 0, "d is gone");

    mkdir("d", 0755);
    check_err(sc(SYS_unlinkat, AT_FDCWD, "f", 0x1), EINVAL, "unlinkat bad flags");
    check_err(sc(SYS_unlinkat, AT_FDCWD, "d", 0x1), EINVAL, "unlinkat bad flags on a dir");
    check_err(sc(SYS_unlinkat, AT_FDCWD, "d", 0), EISDIR, "unlinkat a dir without AT_REMOVEDIR");
    check_err(sc(SYS_unlinkat, AT_FDCWD, "f", AT_REMOVEDIR), ENOTDIR,
              "unlinkat AT_REMOVEDIR a file");
    check_err(sc(SYS_unlinkat, AT_FDCWD, "full", AT_REMOVEDIR), ENOTEMPTY,
              "unlinkat AT_REMOVEDIR non-empty");
    check_ret(sc(SYS_unlinkat, AT_FDCWD, "d", AT_REMOVEDIR), 0, "unlinkat AT_REMOVEDIR");
    check(ltype("d") == 0, "dir removed by unlinkat");
    int dfd = open("full", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_unlinkat, dfd, "x", 0), 0, "unlinkat relative to fd");
    check(ltype("full/x") == 0, "full/x removed");
    check_err(sc(SYS_unlinkat, 999, "x", 0), EBADF, "unlinkat bad fd");
    close(dfd);
    check_ret(sc(SYS_unlinkat, AT_FDCWD, "f", 0), 0, "unlinkat a file");
    check(ltype("f") == 0, "file removed by unlinkat");
}

static void test_rename(void)
{
    enter("rename");
    put("a", "AAA");
    put("b", "BBB");
    check_ret(sc(SYS_rename, "a", "b"), 0, "rename file over file");
    check(ltype("a") == 0 && strcmp(get("b"), "AAA") == 0, "target replaced, source gone");

    check_ret(sc(SYS_rename, "b", "b"), 0, "rename to itself");
    check(strcmp(get("b"), "AAA") == 0, "rename to itself kept the file");
    link("b", "b2");
    check_ret(sc(SYS_rename, "b", "b2"), 0, "rename onto own hard link");
    check(ltype("b") == S_IFREG && ltype("b2") == S_IFREG, "both hard links survive");
    unlink("b2");
    check_err(sc(SYS_rename, "nope", "x"), ENOENT, "rename missing source");
    check_err(sc(SYS_rename, "b", "nodir/x"), ENOENT, "rename into a missing dir");

    mkdir("d1", 0755);
    put("d1/in", "in");
    mkdir("d2", 0755);
    check_ret(sc(SYS_rename, "d1", "d2"), 0, "rename dir over empty dir");
    check(ltype("d1") == 0 && strcmp(get("d2/in"), "in") == 0, "dir moved with its contents");
    mkdir("d3", 0755);
    check_err(sc(SYS_rename, "d3", "d2"), ENOTEMPTY, "rename dir over non-empty dir");
    check_err(sc(SYS_rename, "d3", "b"), ENOTDIR, "rename dir over file");
    check_err(sc(SYS_rename, "b", "d3"), EISDIR, "rename file over dir");
    check_err(sc(SYS_rename, "d2", "d2/sub"), EINVAL, "rename dir into itself");
    mkdir("d2/deep", 0755);
    check_err(sc(SYS_rename, "d2", "d2/deep/x"), EINVAL, "rename dir into its own subdir");
    check_err(sc(SYS_rename, "d2/deep/..", "x"), EBUSY, "rename of a .. component");
    check_err(sc(SYS_rename, ".", "x"), EBUSY, "rename .");
    check_err(sc(SYS_rename, "b/", "x"), ENOTDIR, "rename file/");
    check_err(sc(SYS_rename, "b", "x/"), ENOTDIR, "rename file to x/");
    check_ret(sc(SYS_rename, "d3", "d4/"), 0, "rename dir to d4/");
    check(ltype("d4") == S_IFDIR, "d4 exists");

    int dfd = open("d2", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_renameat, dfd, "in", AT_FDCWD, "moved"), 0, "renameat between dir fds");
    check(strcmp(get("moved"), "in") == 0, "renameat moved d2/in to ./moved");
    check_err(sc(SYS_renameat, 999, "in", AT_FDCWD, "x"), EBADF, "renameat bad fd");

    put("c", "CCC");
    check_err(sc(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", RENAME_NOREPLACE), EEXIST,
              "RENAME_NOREPLACE onto existing");
    check(strcmp(get("b"), "AAA") == 0 && strcmp(get("c"), "CCC") == 0,
          "NOREPLACE changed nothing");
    check_ret(sc(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "c2", RENAME_NOREPLACE), 0,
              "RENAME_NOREPLACE onto a free name");
    check(ltype("c") == 0 && strcmp(get("c2"), "CCC") == 0, "NOREPLACE rename done");

    /* A file and a directory swap names. */
    check_ret(sc(SYS_renameat2, AT_FDCWD, "c2", AT_FDCWD, "d4", RENAME_EXCHANGE), 0,
              "RENAME_EXCHANGE file and dir");
    check(ltype("c2") == S_IFDIR && ltype("d4") == S_IFREG && strcmp(get("d4"), "CCC") == 0,
          "EXCHANGE swapped file and dir");
    check_err(sc(SYS_renameat2, AT_FDCWD, "d4", AT_FDCWD, "nope", RENAME_EXCHANGE), ENOENT,
              "RENAME_EXCHANGE with missing target");
    check_err(sc(SYS_renameat2, AT_FDCWD, "d4", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE),
              EINVAL, "RENAME_EXCHANGE|RENAME_NOREPLACE");
    check_err(sc(SYS_renameat2, AT_FDCWD, "d4", AT_FDCWD, "b", 0x100), EINVAL,
              "renameat2 unknown flag");
    check_ret(sc(SYS_renameat2, AT_FDCWD, "d4", AT_FDCWD, "b", 0), 0, "renameat2 flags 0 replaces");
    check(strcmp(get("b"), "CCC") == 0, "renameat2 replaced b");
    close(dfd);
}

static void test_link(void)
{
    enter("link");
    put("f", "data");
    mkdir("d", 0755);
    check(nlink_of("f") == 1, "new file has nlink 1");
    check_ret(sc(SYS_link, "f", "g"), 0, "link f g");
    check(nlink_of("f") == 2 && nlink_of("g") == 2, "both names have nlink 2");
    check(same_file("f", "g"), "hard link is the same file");
    check_ret(sc(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "h", 0), 0, "linkat f h");
    check(nlink_of("f") == 3, "nlink 3 after linkat");
    check_err(sc(SYS_link, "f", "g"), EEXIST, "link onto existing name");
    check_err(sc(SYS_link, "nope", "x"), ENOENT, "link missing source");
    check_err(sc(SYS_link, "d", "dl"), EPERM, "link to a directory");
    check_err(sc(SYS_link, "f", "nodir/x"), ENOENT, "link into missing dir");
    check_err(sc(SYS_link, "f/", "x"), ENOTDIR, "link file/");
    check_err(sc(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "x", 0x1), EINVAL, "linkat bad flags");
    unlink("h");
    check_ret(sc(SYS_unlink, "g"), 0, "unlink one link");
    check(nlink_of("f") == 1 && strcmp(get("f"), "data") == 0, "nlink back to 1, data intact");

    /* Without AT_SYMLINK_FOLLOW the link itself is linked. */
    symlink("f", "s");
    check_ret(sc(SYS_linkat, AT_FDCWD, "s", AT_FDCWD, "s_nofollow", 0), 0, "linkat a symlink");
    check(ltype("s_nofollow") == S_IFLNK, "link to the symlink itself");
    check_ret(sc(SYS_linkat, AT_FDCWD, "s", AT_FDCWD, "s_follow", AT_SYMLINK_FOLLOW), 0,
              "linkat AT_SYMLINK_FOLLOW");
    check(ltype("s_follow") == S_IFREG && same_file("s_follow", "f") && nlink_of("f") == 2,
          "AT_SYMLINK_FOLLOW linked the target");
    symlink("gone", "dangling");
    check_ret(sc(SYS_linkat, AT_FDCWD, "dangling", AT_FDCWD, "dl2", 0), 0,
              "linkat a dangling symlink");
    check_err(sc(SYS_linkat, AT_FDCWD, "dangling", AT_FDCWD, "dl3", AT_SYMLINK_FOLLOW), ENOENT,
              "linkat AT_SYMLINK_FOLLOW a dangling symlink");

    /* Linux 6.10 lets the opener's own credentials flink without
     * CAP_DAC_READ_SEARCH, so root and users both succeed here. */
    int fd = open("f", O_RDONLY);
    check_err(sc(SYS_linkat, fd, "", AT_FDCWD, "e0", 0), ENOENT,
              "linkat empty path without AT_EMPTY_PATH");
    long r = sc(SYS_linkat, fd, "", AT_FDCWD, "e1", AT_EMPTY_PATH);
    check_ret(r, 0, "linkat AT_EMPTY_PATH of an fd opened by us");
    check(same_file("e1", "f"), "AT_EMPTY_PATH linked the fd's file");
    close(fd);
}

static void test_symlink(void)
{
    enter("symlink");
    put("target", "T");
    mkdir("d", 0755);
    mkdir("d/sub", 0755);
    put("d/sub/file", "SUB");

    check_ret(sc(SYS_symlink, "target", "s"), 0, "symlink s -> target");
    check(ltype("s") == S_IFLNK, "lstat says symlink");
    struct stat st;
    check(lstat("s", &st) == 0 && st.st_size == 6, "symlink size is 6");
    check(strcmp(get("s"), "T") == 0, "reading through the symlink");
    check_err(sc(SYS_symlink, "x", "s"), EEXIST, "symlink onto existing");
    check_err(sc(SYS_symlink, "", "empty"), ENOENT, "symlink empty target");
    check_err(sc(SYS_symlink, "x", "nodir/s"), ENOENT, "symlink in missing dir");

    char buf[64];
    memset(buf, '#', sizeof buf);
    check_ret(sc(SYS_readlink, "s", buf, sizeof buf), 6, "readlink s");
    check(memcmp(buf, "target#", 7) == 0, "readlink text without a NUL");
    memset(buf, '#', sizeof buf);
    check_ret(sc(SYS_readlink, "s", buf, 3), 3, "readlink truncated");
    check(memcmp(buf, "tar#", 4) == 0, "truncated text, nothing after");
    check_err(sc(SYS_readlink, "s", buf, 0), EINVAL, "readlink bufsiz 0");
    check_err(sc(SYS_readlink, "s", buf, -1), EINVAL, "readlink bufsiz -1");
    check_err(sc(SYS_readlink, "target", buf, sizeof buf), EINVAL, "readlink of a regular file");
    check_err(sc(SYS_readlink, "d", buf, sizeof buf), EINVAL, "readlink of a directory");
    check_err(sc(SYS_readlink, "nope", buf, sizeof buf), ENOENT, "readlink missing");
    check_err(sc(SYS_readlink, "", buf, sizeof buf), ENOENT, "readlink empty path");

    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_symlinkat, "d/sub", dfd, "sd"), 0, "symlinkat");
    memset(buf, 0, sizeof buf);
    check_ret(sc(SYS_readlinkat, dfd, "sd", buf, sizeof buf), 5, "readlinkat");
    check(strcmp(buf, "d/sub") == 0, "readlinkat text");
    int lfd = open("sd", O_PATH | O_NOFOLLOW);
    memset(buf, 0, sizeof buf);
    check_ret(sc(SYS_readlinkat, lfd, "", buf, sizeof buf), 5,
              "readlinkat of an O_PATH symlink fd with empty path");
    check(strcmp(buf, "d/sub") == 0, "readlinkat empty path text");
    check_err(sc(SYS_readlinkat, dfd, "", buf, sizeof buf), ENOENT,
              "readlinkat empty path on a directory fd");
    close(lfd);
    close(dfd);

    /* Symlink to a directory: ".." after it is the target's parent. */
    check(strcmp(get("sd/file"), "SUB") == 0, "path through a dir symlink");
    check(same_file("sd/..", "d"), "sd/.. is d, not .");
    check(ltype("sd/") == S_IFDIR, "lstat sd/ follows the link");
    check_ret(sc(SYS_symlink, "../target", "d/rel"), 0, "relative symlink in a subdir");
    check(strcmp(get("d/rel"), "T") == 0, "relative target resolves from the link's dir");
    char abs[PATH_MAX];
    snprintf(abs, sizeof abs, "%s/symlink/d/sub/file", g_work);
    check_ret(sc(SYS_symlink, abs, "absl"), 0, "absolute symlink");
    check(strcmp(get("absl"), "SUB") == 0, "absolute symlink resolves");
    check(same_file("d/../target", "target"), "d/.. resolves to .");
    check_err(sc(SYS_stat, "target/..", &st), ENOTDIR, "file/.. is ENOTDIR");
    check(same_file("/..", "/"), "/.. is /");

    /* Dangling links: lstat sees them, stat does not. */
    check_ret(sc(SYS_symlink, "missing", "dang"), 0, "dangling symlink");
    check_err(sc(SYS_stat, "dang", &st), ENOENT, "stat dangling");
    check_ret(sc(SYS_lstat, "dang", &st), 0, "lstat dangling");
    check_err(sc(SYS_open, "dang", O_RDONLY), ENOENT, "open dangling");
    check_err(sc(SYS_open, "dang", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
              "O_CREAT|O_EXCL on a dangling symlink");
    long fd = sc(SYS_open, "dang", O_WRONLY | O_CREAT, 0644);
    check(fd >= 0, "O_CREAT through a dangling symlink");
    close((int)fd);
    check(ltype("missing") == S_IFREG && ltype("dang") == S_IFLNK,
          "the target was created, the link kept");
    symlink("nodir/x", "dang2");
    check_err(sc(SYS_open, "dang2", O_WRONLY | O_CREAT, 0644), ENOENT,
              "O_CREAT through a link into a missing dir");

    check_err(sc(SYS_open, "s", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink");
    fd = sc(SYS_open, "s", O_PATH | O_NOFOLLOW);
    check(fd >= 0 && sc(SYS_fstat, fd, &st) == 0 && S_ISLNK(st.st_mode),
          "O_PATH|O_NOFOLLOW opens the link itself");
    close((int)fd);
    fd = sc(SYS_open, "sd/file", O_RDONLY | O_NOFOLLOW);
    check(fd >= 0, "O_NOFOLLOW only applies to the last component");
    close((int)fd);

    check_ret(sc(SYS_symlink, "loop", "loop"), 0, "self loop");
    check_err(sc(SYS_open, "loop", O_RDONLY), ELOOP, "open self loop");
    check_err(sc(SYS_stat, "loop", &st), ELOOP, "stat self loop");
    check_err(sc(SYS_open, "loop/x", O_RDONLY), ELOOP, "loop as a dir");
    symlink("pong", "ping");
    symlink("ping", "pong");
    check_err(sc(SYS_open, "ping", O_RDONLY), ELOOP, "two-link loop");

    /* c0 -> target, ck -> c(k-1): opening ck follows k+1 links; Linux
     * allows 40 in all. */
    symlink("target", "c0");
    for (int i = 1; i <= 41; i++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "c%d", i - 1);
        snprintf(b, sizeof b, "c%d", i);
        symlink(a, b);
    }
    fd = sc(SYS_open, "c39", O_RDONLY);
    check(fd >= 0, "a chain of 40 symlinks resolves");
    close((int)fd);
    check_err(sc(SYS_open, "c40", O_RDONLY), ELOOP, "a chain of 41 symlinks");
    check_err(sc(SYS_stat, "c40", &st), ELOOP, "stat a chain of 41");
    check_ret(sc(SYS_lstat, "c40", &st), 0, "lstat a chain of 41");
}

static void test_cwd(void)
{
    enter("cwd");
    char here[PATH_MAX], buf[PATH_MAX];
    snprintf(here, sizeof here, "%s/cwd", g_work);
    size_t len = strlen(here);
    check_ret(sc(SYS_getcwd, buf, sizeof buf), (long)len + 1, "getcwd returns length with NUL");
    check(strcmp(buf, here) == 0, "getcwd is the work dir");
    check_ret(sc(SYS_getcwd, buf, len + 1), (long)len + 1, "getcwd with an exact buffer");
    check_err(sc(SYS_getcwd, buf, len), ERANGE, "getcwd one byte short");
    check_err(sc(SYS_getcwd, buf, 1), ERANGE, "getcwd small buffer");
    /* glibc's wrapper says EINVAL for size 0; the syscall says ERANGE. */
    check_err(sc(SYS_getcwd, buf, 0), ERANGE, "getcwd size 0");
    check_err(sc(SYS_getcwd, BADPTR, sizeof buf), EFAULT, "getcwd bad buffer");

    mkdir("a", 0755);
    mkdir("a/b", 0755);
    put("f", "x");
    check_ret(sc(SYS_chdir, "a/b"), 0, "chdir a/b");
    sc(SYS_getcwd, buf, sizeof buf);
    check(strncmp(buf, here, len) == 0 && strcmp(buf + len, "/a/b") == 0,
          "getcwd after chdir ends in /a/b");
    check_ret(sc(SYS_chdir, "../.."), 0, "chdir ../..");
    sc(SYS_getcwd, buf, sizeof buf);
    check(strcmp(buf, here) == 0, "back in the work dir");
    check_err(sc(SYS_chdir, "f"), ENOTDIR, "chdir to a file");
    check_err(sc(SYS_chdir, "nope"), ENOENT, "chdir missing");
    check_err(sc(SYS_chdir, ""), ENOENT, "chdir empty path");

    int afd = open("a", O_RDONLY | O_DIRECTORY);
    int ffd = open("f", O_RDONLY);
    check_ret(sc(SYS_fchdir, afd), 0, "fchdir");
    sc(SYS_getcwd, buf, sizeof buf);
    check(strncmp(buf, here, len) == 0 && strcmp(buf + len, "/a") == 0,
          "getcwd after fchdir ends in /a");
    check_err(sc(SYS_fchdir, ffd), ENOTDIR, "fchdir to a file");
    check_err(sc(SYS_fchdir, 999), EBADF, "fchdir bad fd");
    close(afd);
    close(ffd);

    /* Renaming the parent of the cwd shows up in getcwd. */
    check_ret(sc(SYS_chdir, "b"), 0, "chdir into a/b");
    check_ret(sc(SYS_rename, "../../a", "../../z"), 0, "rename the cwd's parent");
    sc(SYS_getcwd, buf, sizeof buf);
    check(strncmp(buf, here, len) == 0 && strcmp(buf + len, "/z/b") == 0,
          "getcwd shows the new name");
    check(ltype("../../z/b") == S_IFDIR, "path through the renamed parent");

    /* A removed cwd: getcwd fails and nothing can be created in it. */
    mkdir("gone", 0755);
    chdir("gone");
    check_ret(sc(SYS_rmdir, "../gone"), 0, "rmdir the cwd");
    check_err(sc(SYS_getcwd, buf, sizeof buf), ENOENT, "getcwd in a removed dir");
    check_err(sc(SYS_open, "x", O_WRONLY | O_CREAT, 0644), ENOENT, "create in a removed dir");
    check_err(sc(SYS_mkdir, "x", 0755), ENOENT, "mkdir in a removed dir");
    struct stat st;
    check(stat(".", &st) == 0 && st.st_nlink == 0, "removed cwd has nlink 0");
    check(stat("..", &st) == 0 && S_ISDIR(st.st_mode), ".. of a removed dir still works");
    check_ret(sc(SYS_chdir, ".."), 0, "chdir .. out of it");
    sc(SYS_getcwd, buf, sizeof buf);
    check(strncmp(buf, here, len) == 0 && strcmp(buf + len, "/z/b") == 0, "getcwd works again");
}

static void test_chroot(void)
{
    enter("chroot");
    mkdir("jail", 0755);
    mkdir("jail/sub", 0755);
    put("jail/inside", "IN");
    put("f", "x");
    check_err(sc(SYS_chroot, "f"), ENOTDIR, "chroot to a file");
    check_err(sc(SYS_chroot, "nope"), ENOENT, "chroot missing");
    if (geteuid() != 0) {
        check(sc(SYS_chroot, "jail") == -EPERM, "chroot: works as root, EPERM otherwise");
        return;
    }
    /* Keep the old root to break out again: fchdir to it, chroot ".". */
    int oldroot = open("/", O_RDONLY | O_DIRECTORY);
    check(sc(SYS_chroot, "jail") == 0, "chroot: works as root, EPERM otherwise");
    char buf[PATH_MAX], want[PATH_MAX];
    snprintf(want, sizeof want, "(unreachable)%s/chroot", g_work);
    check(sc(SYS_getcwd, buf, sizeof buf) > 0 && strcmp(buf, want) == 0,
          "getcwd outside the root is (unreachable)PATH");
    check(strcmp(get("/inside"), "IN") == 0, "/ is the jail");
    check_ret(sc(SYS_chdir, "/sub"), 0, "chdir /sub");
    check(sc(SYS_getcwd, buf, sizeof buf) == 5 && strcmp(buf, "/sub") == 0, "getcwd is /sub");
    check_ret(sc(SYS_chdir, "../../.."), 0, "chdir ../../.. from /sub");
    check(sc(SYS_getcwd, buf, sizeof buf) == 2 && strcmp(buf, "/") == 0, "getcwd is /");
    check(strcmp(get("../inside"), "IN") == 0 && strcmp(get("/../../inside"), "IN") == 0,
          ".. stays inside the jail");
    check_ret(sc(SYS_fchdir, oldroot), 0, "fchdir to the old root");
    check(sc(SYS_getcwd, buf, sizeof buf) > 0 && strcmp(buf, "(unreachable)/") == 0,
          "old root is (unreachable)/");
    check_ret(sc(SYS_chroot, "."), 0, "chroot back to the old root");
    close(oldroot);
    check_ret(sc(SYS_chdir, g_work), 0, "chdir to the work dir again");
    check(sc(SYS_getcwd, buf, sizeof buf) > 0 && strcmp(buf, g_work) == 0,
          "getcwd is the work dir again");
}

static void test_names(void)
{
    enter("names");
    char name[300];
    memset(name, 'n', sizeof name);
    name[255] = 0;
    long fd = sc(SYS_open, name, O_WRONLY | O_CREAT, 0644);
    check(fd >= 0, "255-byte name works");
    close((int)fd);
    name[255] = 'n';
    name[256] = 0;
    check_err(sc(SYS_open, name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG,
              "256-byte name on create");
    check_err(sc(SYS_open, name, O_RDONLY), ENAMETOOLONG, "256-byte name on lookup");
    check_err(sc(SYS_mkdir, name, 0755), ENAMETOOLONG, "256-byte mkdir");
    /* A long component in the middle fails before the missing dir. */
    char mid[320];
    snprintf(mid, sizeof mid, "%s/x", name);
    check_err(sc(SYS_stat, mid, &(struct stat){ 0 }), ENAMETOOLONG, "256-byte middle component");

    /* PATH_MAX counts the NUL: 4095 bytes pass, 4096 do not. */
    put("fffff", "five");
    static char path[4200];
    int n = 0;
    for (int i = 0; i < 2045; i++)
        n += snprintf(path + n, sizeof path - n, "./");
    snprintf(path + n, sizeof path - n, "fffff");
    check(strlen(path) == 4095 && strcmp(get(path), "five") == 0, "4095-byte path works");
    n = 0;
    for (int i = 0; i < 2044; i++)
        n += snprintf(path + n, sizeof path - n, "./");
    snprintf(path + n, sizeof path - n, ".//fffff");
    check(strlen(path) == 4096, "built a 4096-byte path");
    check_err(sc(SYS_open, path, O_RDONLY), ENAMETOOLONG, "4096-byte path");
    check_err(sc(SYS_stat, path, &(struct stat){ 0 }), ENAMETOOLONG, "stat 4096-byte path");

    /* A symlink target may be up to 4095 bytes too. */
    memset(path, 'a', 4095);
    path[4095] = 0;
    check_ret(sc(SYS_symlink, path, "longlink"), 0, "symlink with a 4095-byte target");
    static char back[4200];
    check_ret(sc(SYS_readlink, "longlink", back, sizeof back), 4095,
              "readlink the 4095-byte target");
    check_err(sc(SYS_open, "longlink", O_RDONLY), ENAMETOOLONG,
              "following it hits the component limit");
    path[4095] = 'a';
    path[4096] = 0;
    check_err(sc(SYS_symlink, path, "longlink2"), ENAMETOOLONG, "symlink with a 4096-byte target");
}

static void test_xdev(void)
{
    enter("xdev");
    put("f", "x");
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, "/tmp/fs_path.%ld", sc(SYS_getpid));
    struct stat a, b;
    int differ = stat(".", &a) == 0 && stat("/tmp", &b) == 0 && a.st_dev != b.st_dev;
    /* Natively /tmp may hold the scratch dir; in the sandbox it is a
     * tmpfs. A different st_dev must give EXDEV; the same one may still
     * be another mount, so rename and link just have to agree then. */
    long rl = sc(SYS_link, "f", tmpname);
    if (rl == 0)
        unlink(tmpname);
    long rr = sc(SYS_rename, "f", tmpname);
    if (rr == 0)
        rename(tmpname, "f");
    if (differ)
        check(rr == -EXDEV && rl == -EXDEV, "rename/link to /tmp: EXDEV if another file system");
    else
        check((rr == 0 && rl == 0) || (rr == -EXDEV && rl == -EXDEV),
              "rename/link to /tmp: EXDEV if another file system");
    check(ltype("f") == S_IFREG, "f is back in place");
}

static mode_t perm_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (st.st_mode & 07777) : 07777;
}

static void test_umask_mknod(void)
{
    enter("umask");
    long old = sc(SYS_umask, 022);
    check_ret(sc(SYS_umask, 022), 022, "umask returns the previous mask");
    long fd = sc(SYS_creat, "c", 0777);
    close((int)fd);
    check(fd >= 0 && perm_of("c") == 0755, "creat 0777 under 022 gives 0755");
    check_ret(sc(SYS_mkdir, "d", 0777), 0, "mkdir 0777");
    check(perm_of("d") == 0755, "mkdir 0777 under 022 gives 0755");
    sc(SYS_umask, 077);
    fd = sc(SYS_open, "o", O_WRONLY | O_CREAT, 0666);
    close((int)fd);
    check(perm_of("o") == 0600, "open 0666 under 077 gives 0600");
    check_ret(sc(SYS_umask, 0), 077, "umask 077 read back");
    fd = sc(SYS_open, "z", O_WRONLY | O_CREAT, 0751);
    close((int)fd);
    check(perm_of("z") == 0751, "umask 0 keeps the mode");
    check_ret(sc(SYS_umask, 01777), 0, "umask 0 read back");
    check_ret(sc(SYS_umask, 022), 0777, "umask keeps only 0777 bits");

    check_ret(sc(SYS_mknod, "r", S_IFREG | 0640, 0), 0, "mknod S_IFREG");
    check(ltype("r") == S_IFREG && perm_of("r") == 0640, "mknod made a 0640 regular file");
    check_ret(sc(SYS_mknod, "r0", 0644, 0), 0, "mknod with no type bits");
    check(ltype("r0") == S_IFREG, "no type bits means a regular file");
    check_ret(sc(SYS_mknod, "p", S_IFIFO | 0666, 0), 0, "mknod S_IFIFO");
    check(ltype("p") == S_IFIFO && perm_of("p") == 0644, "mknod made a 0644 fifo");
    check_err(sc(SYS_mknod, "r", S_IFREG | 0644, 0), EEXIST, "mknod existing");
    check_err(sc(SYS_mknod, "x", S_IFDIR | 0755, 0), EPERM, "mknod S_IFDIR");
    check_err(sc(SYS_mknod, "x", S_IFMT | 0755, 0), EINVAL, "mknod bad type");
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    check_ret(sc(SYS_mknodat, dfd, "r", S_IFREG | 0600, 0), 0, "mknodat relative to fd");
    check(ltype("d/r") == S_IFREG, "mknodat made d/r");
    close(dfd);
    sc(SYS_umask, old);
}

int main(void)
{
    static void (*const tests[])(void) = { test_mkdir,   test_unlink_rmdir, test_rename, test_link,
                                           test_symlink, test_cwd,          test_chroot, test_names,
                                           test_xdev,    test_umask_mknod };
    if (in_work_dir("fs_path", tests, sizeof tests / sizeof tests[0]) < 0)
        return 2;
    check(ltype("fs_path.dir") == 0, "work dir removed");
    return finish();
}
