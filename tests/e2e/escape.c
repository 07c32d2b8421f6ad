/* escape.c: a guest that tries to get out of its file system. Run by
 * tests/e2e/escape.sh with a read-only --root (holding /escape-root-marker,
 * /ro-file, /ro-link, /ro-dir/{inner-file,empty}, and decoys /secret and
 * /etc/passwd) and the host directory OUTER/inner bound at /mnt; OUTER, the
 * host path given as argv[1], holds the real secret file and outer-marker.
 *
 * It tries: every kind of write to the read-only root (each must fail with
 * EROFS, as Linux gives for a read-only mount); reads through symlinks in
 * the mount, absolute and relative, as the last component and in the
 * middle, made by the host and by itself; "..", chdir("..") loops,
 * /proc/self/root, /proc/self/cwd and /proc/self/fd/N followed by "..";
 * hard links and renames between mounts (EXDEV); writes through all of
 * these. Reading anything whose content is the host secret, listing the
 * host's OUTER directory, or any ".." that does not stop at the guest's "/"
 * is an escape. Missing /proc entries are not: they just block the route.
 *
 * Prints one line per attempt ("ok   ...", "FAIL ...", "ESCAPE ..."), never
 * the secret's text itself unless it read it, then "# escape: N failed".
 * Exit status 0 when nothing failed. It touches nothing unless it finds
 * itself in that layout (it is safe to run natively by mistake).
 * Usage: escape OUTER */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "../guest/guest.h" /* errno_name() */

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int fails;
static const char *outer; /* the host directory that holds the secret */
static struct stat root_st;

static void line(const char *tag, const char *fmt, ...)
{
    va_list ap;
    printf("%-6s ", tag);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (strcmp(tag, "ok") != 0)
        fails++;
}

/* Whether BUF holds the host secret. The marker is spelled in two halves
 * so that this program's own text never contains it. */
static int is_secret(const char *buf, size_t n)
{
    char m[7];
    memcpy(m, "SEC", 3);
    memcpy(m + 3, "RET", 4);
    return memmem(buf, n, m, 6) != NULL;
}

/* BUF as a short printable string. */
static const char *shown(const char *buf, size_t n)
{
    static char out[200];
    size_t o = 0;
    for (size_t i = 0; i < n && i < 48 && o + 5 < sizeof(out); i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
    }
    out[o] = 0;
    return out;
}

static char *cat(const char *a, const char *b)
{
    static char bufs[4][PATH_MAX];
    static int i;
    char *p = bufs[i++ % 4];
    snprintf(p, PATH_MAX, "%s%s", a, b);
    return p;
}

/* Opens PATH (relative to DIRFD) and reads it: any error is fine, the
 * secret is an escape. Returns 1 if the content was WANT (when given). */
static int try_read_at(int dirfd, const char *label, const char *path, const char *want)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        line("ok", "read %s%s: %s", label, path, errno_name(errno));
        return 0;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof(buf));
    int e = errno;
    close(fd);
    if (n < 0) {
        line("ok", "read %s%s: opened, read gives %s", label, path, errno_name(e));
        return 0;
    }
    if (is_secret(buf, (size_t)n)) {
        line("ESCAPE", "read %s%s: the host secret \"%s\"", label, path, shown(buf, (size_t)n));
        return 0;
    }
    line("ok", "read %s%s: \"%s\"", label, path, shown(buf, (size_t)n));
    return want && (size_t)n == strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

static void try_read(const char *path)
{
    try_read_at(AT_FDCWD, "", path, NULL);
}

/* Lists a directory: the host's outer directory must never show up. */
static void try_list_at(int dirfd, const char *label, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        line("ok", "list %s%s: %s", label, path, errno_name(errno));
        return;
    }
    char buf[8192];
    long r, n = 0;
    int outer_seen = 0, root_seen = 0, inner_seen = 0;
    while ((r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < r;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            outer_seen |= strcmp(d->d_name, "outer-marker") == 0;
            root_seen |= strcmp(d->d_name, "escape-root-marker") == 0;
            inner_seen |= strcmp(d->d_name, "inner-marker") == 0;
            off += d->d_reclen;
            n++;
        }
    }
    int e = errno;
    close(fd);
    if (outer_seen)
        line("ESCAPE", "list %s%s: shows the host's outer directory", label, path);
    else if (r < 0)
        line("ok", "list %s%s: getdents64 gives %s", label, path, errno_name(e));
    else
        line("ok", "list %s%s: %ld entries (%s)", label, path, n,
             root_seen    ? "the guest root"
             : inner_seen ? "the bind mount"
                          : "elsewhere");
}

static void try_list(const char *path)
{
    try_list_at(AT_FDCWD, "", path);
}

/* PATH must be the guest's root directory (or not exist). */
static void same_as_root(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        line("ok", "%s is / or absent: %s", path, errno_name(errno));
    else if (st.st_dev != root_st.st_dev || st.st_ino != root_st.st_ino)
        line("FAIL", "%s is not the guest's /", path);
    else
        line("ok", "%s is the guest's /", path);
}

/* CHECK (try_read, try_list, same_as_root) on each path of a table. */
static void each_path(const char *const *paths, size_t n, void (*check)(const char *))
{
    for (size_t i = 0; i < n; i++)
        check(paths[i]);
}

#define EACH_PATH(paths, check) each_path((paths), sizeof(paths) / sizeof((paths)[0]), (check))

/* A call that must fail with WANT (or ALSO, when nonzero). */
static void expect_err(const char *what, long r, int e, int want, int also)
{
    if (r >= 0)
        line("FAIL", "%s: succeeded, want %s", what, errno_name(want));
    else if (e == want || (also && e == also))
        line("ok", "%s: %s", what, errno_name(e));
    else
        line("FAIL", "%s: %s, want %s", what, errno_name(e), errno_name(want));
}

/* A call that must fail, with any error. */
static void expect_fail(const char *what, long r, int e)
{
    if (r >= 0)
        line("FAIL", "%s: succeeded", what);
    else
        line("ok", "%s: %s", what, errno_name(e));
}

/* Evaluates CALL with errno cleared (an fd it returns is closed again),
 * then CHECK, which sees its result as r_ and its errno as e_. */
#define CALL_THEN(what, call, check)                                                               \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        int e_ = errno;                                                                            \
        if (r_ > 2 && strncmp(what, "open", 4) == 0)                                               \
            close((int)r_);                                                                        \
        check;                                                                                     \
    } while (0)
#define ERR(what, call, want, also) CALL_THEN(what, call, expect_err(what, r_, e_, want, also))
#define FAILS(what, call) CALL_THEN(what, call, expect_fail(what, r_, e_))

static void readonly_root(void)
{
    int rfd = open("/ro-file", O_RDONLY | O_CLOEXEC);
    int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0 || rootfd < 0) {
        line("FAIL", "cannot open /ro-file or / for reading: %s", errno_name(errno));
        return;
    }
    ERR("open /ro-file O_WRONLY", open("/ro-file", O_WRONLY), EROFS, 0);
    ERR("open /ro-file O_RDWR", open("/ro-file", O_RDWR), EROFS, 0);
    ERR("open /ro-file O_WRONLY|O_TRUNC", open("/ro-file", O_WRONLY | O_TRUNC), EROFS, 0);
    ERR("open /ro-file O_RDONLY|O_TRUNC", open("/ro-file", O_RDONLY | O_TRUNC), EROFS, 0);
    ERR("open /ro-file O_WRONLY|O_APPEND", open("/ro-file", O_WRONLY | O_APPEND), EROFS, 0);
    ERR("open /ro-link O_WRONLY", open("/ro-link", O_WRONLY), EROFS, 0);
    ERR("open /ro-new O_CREAT", open("/ro-new", O_WRONLY | O_CREAT, 0644), EROFS, 0);
    ERR("open /ro-dir/new O_CREAT|O_EXCL", open("/ro-dir/new", O_RDWR | O_CREAT | O_EXCL, 0644),
        EROFS, 0);
    ERR("open /ro-dir O_TMPFILE", open("/ro-dir", O_TMPFILE | O_RDWR, 0600), EROFS, 0);
    ERR("open (creat) /ro-dir/creat", creat("/ro-dir/creat", 0644), EROFS, 0);
    ERR("openat / ro-file O_WRONLY", openat(rootfd, "ro-file", O_WRONLY), EROFS, 0);
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", rfd);
    ERR("open /proc/self/fd/N (of /ro-file) O_WRONLY", open(p, O_WRONLY), EROFS, ENOENT);
    ERR("unlink /ro-file", unlink("/ro-file"), EROFS, 0);
    ERR("unlink /ro-link", unlink("/ro-link"), EROFS, 0);
    ERR("unlink /ro-dir/inner-file", unlink("/ro-dir/inner-file"), EROFS, 0);
    ERR("unlinkat / ro-file", unlinkat(rootfd, "ro-file", 0), EROFS, 0);
    ERR("rmdir /ro-dir/empty", rmdir("/ro-dir/empty"), EROFS, 0);
    ERR("rename /ro-file /ro-renamed", rename("/ro-file", "/ro-renamed"), EROFS, 0);
    ERR("rename /ro-dir/inner-file /ro-file", rename("/ro-dir/inner-file", "/ro-file"), EROFS, 0);
    ERR("rename /ro-dir /ro-dir2", rename("/ro-dir", "/ro-dir2"), EROFS, 0);
    ERR("renameat2 RENAME_EXCHANGE /ro-file /ro-dir/inner-file",
        syscall(SYS_renameat2, AT_FDCWD, "/ro-file", AT_FDCWD, "/ro-dir/inner-file",
                RENAME_EXCHANGE),
        EROFS, 0);
    ERR("chmod /ro-file", chmod("/ro-file", 0666), EROFS, 0);
    ERR("chmod /ro-dir", chmod("/ro-dir", 0777), EROFS, 0);
    ERR("chmod /", chmod("/", 0777), EROFS, 0);
    ERR("fchmod /ro-file", fchmod(rfd, 0666), EROFS, 0);
    ERR("fchmodat /ro-file", fchmodat(AT_FDCWD, "/ro-file", 0600, 0), EROFS, 0);
    ERR("chown /ro-file", chown("/ro-file", 1, 1), EROFS, 0);
    ERR("lchown /ro-link", lchown("/ro-link", 1, 1), EROFS, 0);
    ERR("fchown /ro-file", fchown(rfd, 1, 1), EROFS, 0);
    ERR("truncate /ro-file 0", truncate("/ro-file", 0), EROFS, 0);
    ERR("truncate /ro-file 100", truncate("/ro-file", 100), EROFS, 0);
    ERR("ftruncate of a read-only fd", ftruncate(rfd, 0), EINVAL, 0);
    struct timeval tv[2] = { { 1, 0 }, { 2, 0 } };
    ERR("utimes /ro-file", utimes("/ro-file", tv), EROFS, 0);
    ERR("utimensat /ro-file now", utimensat(AT_FDCWD, "/ro-file", NULL, 0), EROFS, 0);
    ERR("utimensat /ro-link nofollow", utimensat(AT_FDCWD, "/ro-link", NULL, AT_SYMLINK_NOFOLLOW),
        EROFS, 0);
    ERR("futimens /ro-file", futimens(rfd, NULL), EROFS, 0);
    ERR("mkdir /ro-newdir", mkdir("/ro-newdir", 0755), EROFS, 0);
    ERR("mkdir /ro-dir/newdir", mkdir("/ro-dir/newdir", 0755), EROFS, 0);
    ERR("symlink /ro-dir/sym", symlink("ro-file", "/ro-dir/sym"), EROFS, 0);
    ERR("symlink /ro-sym", symlink("/", "/ro-sym"), EROFS, 0);
    ERR("link /ro-file /ro-dir/hard", link("/ro-file", "/ro-dir/hard"), EROFS, 0);
    ERR("link /ro-file /ro-hard", link("/ro-file", "/ro-hard"), EROFS, 0);
    ERR("mknod /ro-dir/fifo", mknod("/ro-dir/fifo", S_IFIFO | 0644, 0), EROFS, 0);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
    int e = errno;
    if (m != MAP_FAILED) {
        munmap(m, 4096);
        line("FAIL", "mmap MAP_SHARED PROT_WRITE of a read-only fd: succeeded");
    } else {
        expect_err("mmap MAP_SHARED PROT_WRITE of a read-only fd", -1, e, EACCES, 0);
    }
    if (!try_read_at(AT_FDCWD, "", "/ro-file", "ro\n"))
        line("FAIL", "/ro-file does not read \"ro\\n\" any more");
    close(rfd);
    close(rootfd);
}

/* Reads through symlinks and ".." in and around the mount. */
static void bind_mount(void)
{
    if (!try_read_at(AT_FDCWD, "", "/mnt/plain", "plain\n"))
        line("FAIL", "/mnt/plain does not read \"plain\\n\": the bind mount is broken");
    static const char *const reads[] = {
        "/mnt/abs-passwd",
        "/mnt/abs-secret",
        "/mnt/rel-secret",
        "/mnt/sub/rel2",
        "/mnt/sub/deeper/rel3",
        "/mnt/up/secret",
        "/mnt/sub/upup/secret",
        "/mnt/rootlink/../secret",
        "/mnt/abs-outer/secret",
        "/mnt/../secret",
        "/mnt/sub/../../secret",
        "/mnt/sub/deeper/../../../secret",
        "/mnt/up/../secret",
        "/mnt/sub/upup/../../secret",
        "/mnt/abs-outer/../secret",
        "/mnt/rel-secret/",
        "/../secret",
        "/../../secret",
        "/.././../secret",
        "/mnt/./../mnt/../../secret",
    };
    EACH_PATH(reads, try_read);
    try_read(cat(outer, "/secret"));
    try_read(cat("/mnt/rootlink", cat(outer, "/secret")));
    try_read(cat("/mnt/up", cat(outer, "/secret")));

    /* Symlinks the guest makes itself in the writable mount. */
    struct {
        const char *target, *path;
    } mine[] = {
        { "../secret", "/mnt/g-rel" },  { NULL, "/mnt/g-abs" }, /* OUTER/secret */
        { "../../../..", "/mnt/g-up" }, { "../../../../../..", "/mnt/sub/g-up2" },
        { "g-up", "/mnt/g-chain" },     { NULL, "/mnt/g-outer" }, /* OUTER */
    };
    mine[1].target = cat(outer, "/secret");
    char outer_copy[PATH_MAX];
    snprintf(outer_copy, sizeof(outer_copy), "%s", outer);
    mine[5].target = outer_copy;
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        if (symlink(mine[i].target, mine[i].path) < 0)
            line("FAIL", "symlink %s in the writable mount: %s", mine[i].path, errno_name(errno));
    }
    static const char *const reads2[] = {
        "/mnt/g-rel",          "/mnt/g-abs",
        "/mnt/g-up/secret",    "/mnt/sub/g-up2/secret",
        "/mnt/g-chain/secret", "/mnt/g-chain/../secret",
        "/mnt/g-outer/secret", "/mnt/g-up/mnt/g-rel",
    };
    EACH_PATH(reads2, try_read);
    try_read(cat("/mnt/g-up", cat(outer, "/secret")));

    int mfd = open("/mnt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int sfd = open("/mnt/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0 || sfd < 0) {
        line("FAIL", "cannot open /mnt or /mnt/sub: %s", errno_name(errno));
        return;
    }
    try_read_at(mfd, "(at /mnt) ", "../secret", NULL);
    try_read_at(mfd, "(at /mnt) ", "up/secret", NULL);
    try_read_at(mfd, "(at /mnt) ", "rel-secret", NULL);
    try_read_at(mfd, "(at /mnt) ", "../../../secret", NULL);
    try_read_at(sfd, "(at /mnt/sub) ", "../../secret", NULL);
    try_read_at(sfd, "(at /mnt/sub) ", "upup/secret", NULL);
    try_read_at(sfd, "(at /mnt/sub) ", "../../../../secret", NULL);
    try_list_at(mfd, "(at /mnt) ", "..");
    try_list_at(sfd, "(at /mnt/sub) ", "../..");

    static const char *const lists[] = {
        "/",
        "/..",
        "/mnt/..",
        "/mnt/up",
        "/mnt/sub/upup",
        "/mnt/rootlink",
        "/mnt/g-up",
        "/mnt/g-chain",
        "/mnt/sub/g-up2",
        "/mnt/g-outer",
    };
    EACH_PATH(lists, try_list);
    static const char *const roots[] = {
        "/..",           "/../..",    "/mnt/..",        "/mnt/up",        "/mnt/sub/upup",
        "/mnt/rootlink", "/mnt/g-up", "/mnt/sub/g-up2", "/mnt/sub/../..", "/mnt/g-chain",
    };
    EACH_PATH(roots, same_as_root);
    close(mfd);
    close(sfd);
}

/* getcwd must name a guest path, never a host one. */
static void check_cwd(const char *want)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        line("FAIL", "getcwd: %s", errno_name(errno));
    else if (strcmp(cwd, want) != 0)
        line("FAIL", "getcwd is \"%s\", want \"%s\"", cwd, want);
    else
        line("ok", "getcwd is \"%s\"", cwd);
}

static void dotdot_loops(void)
{
    if (chdir("/mnt/sub/deeper") < 0) {
        line("FAIL", "chdir /mnt/sub/deeper: %s", errno_name(errno));
        return;
    }
    check_cwd("/mnt/sub/deeper");
    for (int i = 0; i < 40; i++)
        if (chdir("..") < 0)
            line("FAIL", "chdir .. (%d): %s", i, errno_name(errno));
    check_cwd("/");
    same_as_root(".");
    try_read("secret");
    try_list(".");

    int sfd = open("/mnt/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0 || fchdir(sfd) < 0) {
        line("FAIL", "fchdir /mnt/sub: %s", errno_name(errno));
    } else {
        check_cwd("/mnt/sub");
        for (int i = 0; i < 10; i++)
            chdir("..");
        check_cwd("/");
        same_as_root(".");
    }
    if (sfd >= 0)
        close(sfd);

    if (chdir("/mnt/up") == 0) { /* up -> .. */
        check_cwd("/");
        try_read("secret");
    } else {
        line("FAIL", "chdir /mnt/up: %s", errno_name(errno));
    }
    if (chdir("/mnt/g-up/mnt/sub/upup/..") == 0) {
        check_cwd("/");
        same_as_root(".");
    } else {
        line("ok", "chdir /mnt/g-up/mnt/sub/upup/..: %s", errno_name(errno));
    }
    if (chdir(outer) == 0) { /* the host path, looked up in the guest */
        try_list(".");
        try_read("secret");
    } else {
        line("ok", "chdir to the host's outer path: %s", errno_name(errno));
    }
}

/* readlink of link (named label): an error is no escape, another target
 * than want is. */
static void check_link(const char *link, const char *label, const char *want)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    if (n < 0) {
        line("ok", "readlink %s: %s", label, errno_name(errno));
        return;
    }
    buf[n] = 0;
    if (strcmp(buf, want) != 0)
        line("FAIL", "readlink %s is \"%s\", want \"%s\"", label, buf, want);
    else
        line("ok", "readlink %s is \"%s\"", label, want);
}

static void proc_routes(void)
{
    check_link("/proc/self/root", "/proc/self/root", "/");
    static const char *const reads[] = {
        "/proc/self/root/../secret",        "/proc/self/root/../../secret",
        "/proc/self/root/mnt/../../secret", "/proc/self/root/mnt/rel-secret",
        "/proc/1/root/../secret",           "/proc/1/root/mnt/up/secret",
    };
    EACH_PATH(reads, try_read);
    try_read(cat("/proc/self/root", cat(outer, "/secret")));
    try_list("/proc/self/root/..");
    same_as_root("/proc/self/root");
    same_as_root("/proc/self/root/..");

    if (chdir("/mnt") < 0) {
        line("FAIL", "chdir /mnt: %s", errno_name(errno));
        return;
    }
    check_link("/proc/self/cwd", "/proc/self/cwd", "/mnt");
    try_read("/proc/self/cwd/../secret");
    try_read("/proc/self/cwd/../../secret");
    try_read("/proc/self/cwd/rel-secret");
    try_read("../secret");
    try_read("../../../secret");
    try_list("/proc/self/cwd/..");
    same_as_root("/proc/self/cwd/..");

    int mfd = open("/mnt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int sfd = open("/mnt/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0 || sfd < 0) {
        line("FAIL", "cannot open /mnt or /mnt/sub: %s", errno_name(errno));
        return;
    }
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", sfd);
    check_link(p, "/proc/self/fd/N", "/mnt/sub");
    try_read(cat(p, "/../../secret"));
    try_read(cat(p, "/../../../secret"));
    try_read(cat(p, "/../rel-secret"));
    try_list(cat(p, "/../.."));
    same_as_root(cat(p, "/../.."));
    snprintf(p, sizeof(p), "/proc/self/fd/%d", mfd);
    try_read(cat(p, "/../secret"));
    try_list(cat(p, "/.."));
    same_as_root(cat(p, "/.."));
    int up = open(cat(p, "/.."), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up >= 0) {
        try_read_at(up, "(at /proc/self/fd/N/..) ", "secret", NULL);
        try_read_at(up, "(at /proc/self/fd/N/..) ", "../secret", NULL);
        close(up);
    }
    close(mfd);
    close(sfd);
    chdir("/");
}

/* Hard links, renames and writes from the mount to elsewhere. */
static void links_and_writes(void)
{
    ERR("link /mnt/plain /tmp/hl", link("/mnt/plain", "/tmp/hl"), EXDEV, 0);
    ERR("link /mnt/plain /hl (read-only root)", link("/mnt/plain", "/hl"), EROFS, EXDEV);
    int fd = open("/tmp/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        line("FAIL", "create /tmp/f: %s", errno_name(errno));
    } else {
        close(fd);
        ERR("link /tmp/f /mnt/from-tmp", link("/tmp/f", "/mnt/from-tmp"), EXDEV, 0);
        ERR("rename /tmp/f /mnt/from-tmp", rename("/tmp/f", "/mnt/from-tmp"), EXDEV, 0);
    }
    ERR("link /mnt/up/secret /mnt/stolen", link("/mnt/up/secret", "/mnt/stolen"), EXDEV, 0);
    ERR("link /mnt/../secret /mnt/stolen", link("/mnt/../secret", "/mnt/stolen"), EXDEV, 0);
    FAILS("link OUTER/secret /mnt/stolen", link(cat(outer, "/secret"), "/mnt/stolen"));
    FAILS("link /mnt/g-abs (followed) /mnt/stolen",
          linkat(AT_FDCWD, "/mnt/g-abs", AT_FDCWD, "/mnt/stolen", AT_SYMLINK_FOLLOW));
    ERR("link /mnt/rel-secret (followed) /mnt/stolen",
        linkat(AT_FDCWD, "/mnt/rel-secret", AT_FDCWD, "/mnt/stolen", AT_SYMLINK_FOLLOW), EXDEV, 0);
    int mfd = open("/mnt", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ERR("linkat (at /mnt) ../secret stolen", linkat(mfd, "../secret", mfd, "stolen", 0), EXDEV, 0);
    int sec = open("/mnt/rel-secret", O_RDONLY | O_CLOEXEC); /* the guest root's /secret */
    if (sec >= 0) {
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", sec);
        ERR("link /proc/self/fd/N (followed) /mnt/stolen",
            linkat(AT_FDCWD, p, AT_FDCWD, "/mnt/stolen", AT_SYMLINK_FOLLOW), EXDEV, ENOENT);
        close(sec);
    }
    if (mfd >= 0)
        close(mfd);
    ERR("rename /mnt/plain /tmp/moved", rename("/mnt/plain", "/tmp/moved"), EXDEV, 0);
    ERR("rename /mnt/up/secret /mnt/stolen", rename("/mnt/up/secret", "/mnt/stolen"), EXDEV, 0);
    ERR("rename /mnt/plain /mnt/../plain", rename("/mnt/plain", "/mnt/../plain"), EXDEV, EROFS);
    ERR("rename /mnt/sub /mnt/up/sub", rename("/mnt/sub", "/mnt/up/sub"), EXDEV, EROFS);
    FAILS("rename OUTER/secret /mnt/stolen", rename(cat(outer, "/secret"), "/mnt/stolen"));
    struct stat st;
    if (lstat("/mnt/stolen", &st) == 0) {
        line("FAIL", "/mnt/stolen exists");
        try_read("/mnt/stolen");
    }

    /* Writes through the escape routes: all land in the read-only root (or
     * nowhere) and must fail; escape.sh checks the host's files too. */
    FAILS("open /mnt/rel-secret O_WRONLY|O_APPEND", open("/mnt/rel-secret", O_WRONLY | O_APPEND));
    FAILS("open /mnt/abs-secret O_WRONLY|O_CREAT|O_TRUNC",
          open("/mnt/abs-secret", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    FAILS("open /mnt/g-abs O_WRONLY|O_CREAT", open("/mnt/g-abs", O_WRONLY | O_CREAT, 0644));
    FAILS("open /mnt/up/new O_CREAT", open("/mnt/up/new", O_WRONLY | O_CREAT, 0644));
    FAILS("open /mnt/../secret O_RDWR", open("/mnt/../secret", O_RDWR));
    FAILS("open OUTER/secret O_WRONLY", open(cat(outer, "/secret"), O_WRONLY));
    if (symlink(cat(outer, "/created"), "/mnt/g-create") < 0)
        line("FAIL", "symlink /mnt/g-create: %s", errno_name(errno));
    FAILS("open /mnt/g-create (-> OUTER/created) O_CREAT",
          open("/mnt/g-create", O_WRONLY | O_CREAT, 0644));
    FAILS("unlink /mnt/up/secret", unlink("/mnt/up/secret"));
    FAILS("unlink OUTER/secret", unlink(cat(outer, "/secret")));
    FAILS("truncate /mnt/rel-secret", truncate("/mnt/rel-secret", 0));
    FAILS("truncate /mnt/abs-secret", truncate("/mnt/abs-secret", 0));
    FAILS("chmod /mnt/rel-secret", chmod("/mnt/rel-secret", 0666));
    FAILS("chmod /mnt/..", chmod("/mnt/..", 0777));
    FAILS("utimensat /mnt/rel-secret", utimensat(AT_FDCWD, "/mnt/rel-secret", NULL, 0));
    FAILS("mkdir /mnt/up/newdir", mkdir("/mnt/up/newdir", 0755));
    FAILS("mkdir /mnt/g-outer/newdir", mkdir("/mnt/g-outer/newdir", 0755));
    FAILS("symlink /mnt/up/newlink", symlink("x", "/mnt/up/newlink"));
    FAILS("symlink /mnt/g-up/newlink", symlink("x", "/mnt/g-up/newlink"));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTER\n", argv[0]);
        return 2;
    }
    outer = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct stat st;
    if (stat("/escape-root-marker", &st) < 0 || stat("/mnt/inner-marker", &st) < 0 ||
        stat("/", &root_st) < 0) {
        line("FAIL", "not in escape.sh's layout (no /escape-root-marker or /mnt/inner-marker): "
                     "nothing tried");
        return 1;
    }
    readonly_root();
    bind_mount();
    dotdot_loops();
    proc_routes();
    links_and_writes();
    printf("# escape: %d failed\n", fails);
    return fails ? 1 : 0;
}
