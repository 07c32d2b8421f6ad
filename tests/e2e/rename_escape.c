/* rename_escape.c: the guest of tests/e2e/rename_escape.sh. It starts in
 * MNT/sub/deep of a host directory HOST mounted at MNT, makes a few names
 * (inner/, victim, and uplink, a symlink to ../x-via-link),
 * says "ready" (a file in its working directory), and waits (polling, the
 * sandbox has no sleep) for the file "go", which the script makes after
 * another host process moved HOST/sub out of HOST. Then every ".." from the
 * moved directories must fail with ENOENT, as Linux's path_connected() makes
 * it fail for a directory no longer beneath its mount's root: otherwise the
 * guest would reach the moved directory's new host parent, outside every
 * tree it was given.
 *
 * Prints one line per attempt, "name: OK" or "name: ERRNO", then "done";
 * the script compares them with the expected lines (the same under real
 * Linux with a bind mount). It creates nothing after "go" unless a ".."
 * escapes, and the script checks that too on the host.
 * Usage: rename_escape MNT [CWD]  (chdir to CWD first when given) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../guest/guest.h" /* errno_name() */

/* r: a syscall's result (-1 and errno on failure). Closes descriptors. */
static void report(const char *name, long r, int is_fd)
{
    if (r < 0) {
        printf("%s: %s\n", name, errno_name(errno));
        return;
    }
    printf("%s: OK\n", name);
    if (is_fd)
        close((int)r);
}

static int creat_at(int dfd, const char *p)
{
    return openat(dfd, p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MNT [CWD]\n", argv[0]);
        return 2;
    }
    const char *mnt = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && chdir(argv[2]) < 0) {
        perror(argv[2]);
        return 2;
    }
    /* Before the move: directories to hold, a file to rename. */
    if (mkdir("inner", 0755) < 0 || close(creat_at(AT_FDCWD, "victim")) < 0 ||
        symlink("../x-via-link", "uplink") < 0) {
        perror("setup");
        return 2;
    }
    int dot = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int sub = open("..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int inner = open("inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int sub_path = open("..", O_PATH | O_CLOEXEC);
    if (dot < 0 || sub < 0 || inner < 0 || sub_path < 0) {
        perror("open");
        return 2;
    }
    struct stat st;
    printf("before stat(..): %s\n", stat("..", &st) == 0 ? "OK" : errno_name(errno));
    if (close(creat_at(AT_FDCWD, "ready")) < 0) {
        perror("ready");
        return 2;
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (stat("go", &st) < 0) {
        sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 60) {
            printf("no go\n");
            return 2;
        }
    }

    /* HOST/sub is now outside HOST. Creates through "..". */
    report("open ../../x-up2 O_CREAT", creat_at(AT_FDCWD, "../../x-up2"), 1);
    report("open ../x-up1 O_CREAT", creat_at(AT_FDCWD, "../x-up1"), 1);
    report("mkdir ../x-mkdir", mkdir("../x-mkdir", 0755), 0);
    report("mkdir ../../x-mkdir2", mkdir("../../x-mkdir2", 0755), 0);
    report("mknod ../x-fifo", mknod("../x-fifo", S_IFIFO | 0644, 0), 0);
    report("symlink ../x-sym", symlink("victim", "../x-sym"), 0);
    report("rename victim ../x-ren", rename("victim", "../x-ren"), 0);
    report("link victim ../x-link", link("victim", "../x-link"), 0);
    report("rename ../deep ../x-ren2", rename("../deep", "../x-ren2"), 0);

    report("open uplink (-> ../x-via-link) O_CREAT",
           open("uplink", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), 1);

    /* ".." itself as the last component. */
    report("stat ..", stat("..", &st), 0);
    report("lstat ../..", lstat("../..", &st), 0);
    report("access ..", access("..", F_OK), 0);
    report("mkdir ..", mkdir("..", 0755), 0);
    report("rmdir ../deep", rmdir("../deep"), 0);
    int fd = open("..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    report("open .. O_DIRECTORY", fd, 0);
    if (fd >= 0) {
        report("openat(.., escaped) O_CREAT", creat_at(fd, "escaped"), 1);
        close(fd);
    }
    report("open .. O_PATH", open("..", O_PATH | O_CLOEXEC), 1);
    report("chdir ..", chdir(".."), 0);
    if (fchdir(dot) < 0) { /* back, in case the chdir worked */
        perror("fchdir");
        return 2;
    }

    /* Descriptors of moved directories. */
    report("openat(dot, ../x-dot) O_CREAT", creat_at(dot, "../x-dot"), 1);
    report("openat(sub, ../x-sub) O_CREAT", creat_at(sub, "../x-sub"), 1);
    report("openat(sub, ..) O_DIRECTORY", openat(sub, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 1);
    report("openat(sub_path, ..) O_PATH", openat(sub_path, "..", O_PATH | O_CLOEXEC), 1);
    report("fstatat(sub, deep)", fstatat(sub, "deep", &st, 0), 0);
    report("openat(inner, ..)", openat(inner, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC), 1);
    report("open inner/../x-a-b O_CREAT", creat_at(AT_FDCWD, "inner/../x-a-b"), 1);
    report("open inner/../victim", open("inner/../victim", O_RDONLY | O_CLOEXEC), 1);
    report("fchdir(inner)", fchdir(inner), 0);
    report("chdir .. from inner", chdir(".."), 0);
    report("open ../../x-inner O_CREAT", creat_at(AT_FDCWD, "../../x-inner"), 1);
    report("fchdir(sub)", fchdir(sub), 0);
    report("open ../x-fchdir O_CREAT", creat_at(AT_FDCWD, "../x-fchdir"), 1);
    if (fchdir(dot) < 0) {
        perror("fchdir");
        return 2;
    }

    /* The working directory's names. Linux prints the host path after
     * "(unreachable)"; only the kind of answer is compared. */
    char buf[4096];
    long n = syscall(SYS_getcwd, buf, sizeof(buf));
    printf("getcwd: %s\n", n < 0 ? errno_name(errno) : buf[0] == '/' ? "a path" : "(unreachable)");
    ssize_t l = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
    if (l >= 0)
        buf[l] = 0;
    const char *kind = l < 0 ? errno_name(errno) : "?";
    if (l >= 0) {
        size_t ml = strlen(mnt);
        kind = strncmp(buf, mnt, ml) == 0 && buf[ml] == '/' ? "under MNT" : "not under MNT";
    }
    printf("readlink /proc/self/cwd: %s\n", kind);
    report("stat /proc/self/cwd/..", stat("/proc/self/cwd/..", &st), 0);
    report("open /proc/self/cwd/../x-proc O_CREAT", creat_at(AT_FDCWD, "/proc/self/cwd/../x-proc"),
           1);

    /* The old names, from the mount's root: gone. */
    snprintf(buf, sizeof(buf), "%s/sub", mnt);
    report("stat MNT/sub", stat(buf, &st), 0);
    snprintf(buf, sizeof(buf), "%s/sub/deep/../x-old", mnt);
    report("open MNT/sub/deep/../x-old O_CREAT", creat_at(AT_FDCWD, buf), 1);
    snprintf(buf, sizeof(buf), "%s/sub/x-old2", mnt);
    report("open MNT/sub/x-old2 O_CREAT", creat_at(AT_FDCWD, buf), 1);
    /* What the guest still holds stays usable, as on Linux. */
    report("stat victim", stat("victim", &st), 0);
    report("stat inner/.", stat("inner/.", &st), 0);
    printf("done\n");
    return 0;
}
