/* ipc_mqueue_fs.c: the mqueue file system at /dev/mqueue and the limits
 * in /proc/sys/fs/mqueue: the mount and its statfs, the root directory
 * (mode, size, readdir newest first), a queue as a file (stat and fstat
 * of its mq_open descriptor are one inode; the status line; poll; open(2)
 * gives a descriptor the mq_* calls take; O_CREAT and mknod make queues
 * with the default attributes; unlink(2) removes like mq_unlink), the
 * operations the file system refuses, /proc/self/fd names, and the
 * sysctls (root may set them and mq_open honours them).
 *
 * Natively /dev/mqueue must be mounted (tools/setup.sh mounts it as
 * systemd does). When it is not and the test runs as root, it mounts one
 * for itself in a mount namespace of its own (a tmpfs over /dev holding
 * the mount point), so the host is left alone; unprivileged, it fails.
 * The sysctl writes run natively in an IPC namespace of their own, so the
 * host's limits never change (the sandbox's are its own). */
#include "ipc_util.h"

#include <dirent.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MQUEUE_MAGIC 0x19800202
static char qn[4][64];     /* queue names */
static char qpath[4][320]; /* their paths under /dev/mqueue */

static int is_mqueue(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == MQUEUE_MAGIC;
}

/* Natively, without a host mount: one in a mount namespace of our own. */
static int native_mount(void)
{
    if (sandboxed() || is_mqueue("/dev/mqueue"))
        return 1;
    if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755") != 0 ||
        mkdir("/dev/mqueue", 0755) != 0 ||
        mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
        out("FAIL /dev/mqueue is not mounted natively (tools/setup.sh mounts it as root)\n");
        return 0;
    }
    return 1;
}

static void test_mount(void)
{
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[512];
    int seen = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, " /dev/mqueue ")) {
            seen = 1;
            out("mount: %s", line);
        }
    if (f)
        fclose(f);
    check(seen, "/proc/self/mounts has /dev/mqueue");
    f = fopen("/proc/filesystems", "r");
    seen = 0;
    while (f && fgets(line, sizeof line, f))
        seen |= strcmp(line, "nodev\tmqueue\n") == 0;
    if (f)
        fclose(f);
    check(seen, "/proc/filesystems lists nodev mqueue");
    struct statfs sf;
    memset(&sf, 0, sizeof sf);
    statfs("/dev/mqueue", &sf);
    check(sf.f_type == MQUEUE_MAGIC && sf.f_bsize == 4096 && sf.f_namelen == 255 &&
              sf.f_blocks == 0,
          "statfs: magic %lx bsize %ld namelen %ld", (long)sf.f_type, (long)sf.f_bsize,
          (long)sf.f_namelen);
    struct stat st;
    memset(&st, 0, sizeof st);
    stat("/dev/mqueue", &st);
    check(st.st_mode == (S_IFDIR | 01777) && st.st_uid == 0 && st.st_gid == 0 && st.st_nlink == 2 &&
              st.st_size % 20 == 0 && st.st_size >= 40,
          "the root: mode %o, owned by root, 2 links, 20 bytes an entry", st.st_mode);
}

/* The position of name in a listing of /dev/mqueue (-1: absent); *ino its
 * d_ino; dots counts "." and "..". */
static int dir_pos(const char *name, unsigned long *ino, int *dots)
{
    DIR *d = opendir("/dev/mqueue");
    if (!d)
        return -2;
    struct dirent *e;
    int k = 0, at = -1;
    *dots = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            *dots += e->d_type == DT_DIR;
        if (!strcmp(e->d_name, name) && e->d_type == DT_REG) {
            at = k;
            *ino = e->d_ino;
        }
        k++;
    }
    closedir(d);
    return at;
}

static long root_size(void)
{
    struct stat st;
    return stat("/dev/mqueue", &st) == 0 ? (long)st.st_size : -1;
}

static void test_queue_file(void)
{
    umask(022);
    long size0 = root_size();
    struct k_mq_attr at = { 0, 5, 64, 0, { 0 } };
    long fd = mq_open_(qn[0], O_RDWR | O_CREAT | O_EXCL, 0640, &at);
    check(fd >= 0, "mq_open(O_CREAT) a queue");
    check(root_size() == size0 + 20, "the root grew by 20 bytes");
    struct stat st, fst, dst;
    memset(&st, 0, sizeof st);
    check(stat(qpath[0], &st) == 0, "stat /dev/mqueue/NAME");
    check(fstat((int)fd, &fst) == 0 && stat("/dev/mqueue", &dst) == 0, "fstat of the descriptor");
    check(st.st_ino == fst.st_ino && st.st_dev == fst.st_dev && st.st_dev == dst.st_dev,
          "the descriptor and the name are one inode of the mount");
    check(st.st_mode == (S_IFREG | 0640) && st.st_nlink == 1 && st.st_size == 80 &&
              st.st_blksize == 4096 && st.st_blocks == 0 && st.st_uid == geteuid() &&
              st.st_gid == getegid(),
          "stat: mode %o, 1 link, size %ld, the caller's", st.st_mode, (long)st.st_size);
    long fd1 = mq_open_(qn[1], O_RDWR | O_CREAT, 0600, 0);
    unsigned long ino0 = 0, ino1 = 0;
    int dots;
    int p0 = dir_pos(qn[0], &ino0, &dots), p1 = dir_pos(qn[1], &ino1, &dots);
    check(p0 >= 0 && p1 >= 0 && p1 < p0 && ino0 == st.st_ino && dots == 2,
          "readdir lists both, the newer first, with their inodes and the dots");

    check(sc(SYS_mq_timedsend, fd, "hello", 5, 3, 0) == 0, "mq_send 5 bytes");
    int rfd = open(qpath[0], O_RDONLY);
    check(rfd >= 0, "open(2) of the queue");
    char buf[256], want[256];
    long n = read(rfd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    check(!strcmp(buf, "QSIZE:5          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n"),
          "read: the status line [%.*s]", n > 0 ? (int)n - 1 : 0, buf);
    struct k_sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.notify = SIGEV_SIGNAL_;
    sev.signo = SIGUSR1;
    check(sc(SYS_mq_notify, fd1, &sev) == 0, "mq_notify(SIGEV_SIGNAL) on the second queue");
    int rfd1 = open(qpath[1], O_RDONLY);
    n = pread(rfd1, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof want, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", 0UL, 0,
             SIGUSR1, getpid());
    check(!strcmp(buf, want), "pread: the status line names the signal and our pid");
    check(lseek(rfd, 0, SEEK_SET) == 0 && read(rfd, buf, 6) == 6 && !memcmp(buf, "QSIZE:", 6),
          "lseek to 0 and read again");
    struct pollfd pf = { rfd, POLLIN | POLLOUT, 0 };
    n = poll(&pf, 1, 0);
    check(n == 1 && pf.revents == (POLLIN | POLLOUT), "poll of the open(2) descriptor: %x",
          pf.revents);
    unsigned prio = 0;
    n = sc(SYS_mq_timedreceive, rfd, buf, 64, &prio, 0);
    check(n == 5 && prio == 3 && !memcmp(buf, "hello", 5),
          "mq_receive through the open(2) descriptor: %ld", n);
    pf.revents = 0;
    n = poll(&pf, 1, 0);
    check(n == 1 && pf.revents == POLLOUT, "then poll says writable only: %x", pf.revents);
    check_err(sc(SYS_mq_timedsend, rfd, "x", 1, 0, 0), EBADF, "mq_send on the O_RDONLY open(2)");
    int wfd = open(qpath[0], O_RDWR);
    check_err(write(wfd, "x", 1) < 0 ? -errno : 0, EINVAL, "write(2) of a queue");
    check_err(open(qpath[0], O_RDWR | O_DIRECTORY) < 0 ? -errno : 0, ENOTDIR,
              "open O_DIRECTORY of a queue");

    char link[512], wl[512];
    snprintf(wl, sizeof wl, "/%s", qn[1]);
    check(fd_link((int)fd1, link, sizeof link) > 0 && !strcmp(link, wl),
          "/proc/self/fd of an mq_open descriptor: /NAME");
    snprintf(wl, sizeof wl, "%s", qpath[0]);
    check(fd_link(rfd, link, sizeof link) > 0 && !strcmp(link, wl),
          "/proc/self/fd of an open(2) descriptor: /dev/mqueue/NAME");

    /* unlink(2) is mq_unlink. */
    check_ret(unlink(qpath[0]) < 0 ? -errno : 0, 0, "unlink(2) of a queue");
    check_err(mq_open_(qn[0], O_RDWR, 0, 0), ENOENT, "mq_open after unlink(2)");
    check(root_size() == size0 + 20, "the root shrank by 20 bytes");
    check(fstat((int)fd, &fst) == 0 && fst.st_nlink == 0, "the open queue has no link");
    check(sc(SYS_mq_timedsend, fd, "still", 5, 0, 0) == 0 && getattr(rfd).curmsgs == 1,
          "and still works");
    strcat(wl, " (deleted)");
    check(fd_link(rfd, link, sizeof link) > 0 && !strcmp(link, wl),
          "/proc/self/fd then says (deleted)");
    check_ret(sc(SYS_mq_unlink, qn[1]), 0, "mq_unlink");
    check_err(stat(qpath[1], &st) < 0 ? -errno : 0, ENOENT, "stat after mq_unlink");
    close(rfd);
    close(rfd1);
    close(wfd);
    close((int)fd);
    close((int)fd1);
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void test_create_by_path(void)
{
    long dmax = read_long("/proc/sys/fs/mqueue/msg_default");
    long dsize = read_long("/proc/sys/fs/mqueue/msgsize_default");
    int c = open(qpath[2], O_CREAT | O_EXCL | O_RDWR, 0604);
    check(c >= 0, "open(O_CREAT) in /dev/mqueue makes a queue");
    struct k_mq_attr a = getattr(c);
    check(a.maxmsg == dmax && a.msgsize == dsize && a.curmsgs == 0,
          "with the default attributes of /proc/sys/fs/mqueue (%ld, %ld)", a.maxmsg, a.msgsize);
    long q = mq_open_(qn[2], O_RDONLY, 0, 0);
    struct stat s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    fstat((int)q, &s1);
    fstat(c, &s2);
    check(q >= 0 && s1.st_ino == s2.st_ino && (s1.st_mode & 07777) == 0604,
          "mq_open finds it: mode %o", s1.st_mode & 07777);
    check(sc(SYS_mq_timedsend, c, "abc", 3, 0, 0) == 0 && getattr(q).curmsgs == 1,
          "a message sent through one is on the other");
    check_err(open(qpath[2], O_CREAT | O_EXCL | O_RDWR, 0600) < 0 ? -errno : 0, EEXIST,
              "open(O_CREAT|O_EXCL) of an existing queue");
    check_ret(chmod(qpath[2], 0600) < 0 ? -errno : 0, 0, "chmod");
    check(fstat((int)q, &s1) == 0 && s1.st_mode == (S_IFREG | 0600), "fstat sees the new mode");
    check_ret(truncate(qpath[2], 0) < 0 ? -errno : 0, 0, "truncate");
    memset(&s1, 0, sizeof s1);
    stat(qpath[2], &s1);
    out("stat after truncate: size %ld\n", (long)s1.st_size);
    check_ret(utimensat(AT_FDCWD, qpath[2], NULL, 0) < 0 ? -errno : 0, 0, "utimensat");

    char other[400];
    snprintf(other, sizeof other, "/dev/mqueue/%s.x", qn[2]);
    check_err(rename(qpath[2], other) < 0 ? -errno : 0, EPERM, "rename");
    check_err(link(qpath[2], other) < 0 ? -errno : 0, EPERM, "link");
    check_err(symlink("x", other) < 0 ? -errno : 0, EPERM, "symlink");
    check_err(mkdir(other, 0700) < 0 ? -errno : 0, EPERM, "mkdir");
    check_err(mknod(other, S_IFIFO | 0600, 0) < 0 ? -errno : 0, EPERM, "mknod of a FIFO");
    check_err(rmdir(qpath[2]) < 0 ? -errno : 0, ENOTDIR, "rmdir of a queue");
    check_err(setxattr(qpath[2], "user.a", "b", 1, 0) < 0 ? -errno : 0, ENOTSUP, "setxattr");
    snprintf(other, sizeof other, "%s/y", qpath[2]);
    check_err(open(other, O_CREAT | O_RDWR, 0600) < 0 ? -errno : 0, ENOTDIR,
              "open(O_CREAT) beneath a queue");
    check_err(open("/dev/mqueue/no-such-dir/y", O_CREAT | O_RDWR, 0600) < 0 ? -errno : 0, ENOENT,
              "open(O_CREAT) in a missing directory");
    check_ret(mknod(qpath[3], S_IFREG | 0600, 0) < 0 ? -errno : 0, 0,
              "mknod S_IFREG makes a queue");
    long q3 = mq_open_(qn[3], O_WRONLY, 0, 0);
    check(q3 >= 0, "mq_open finds it");
    close((int)q3);
    check_ret(sc(SYS_mq_unlink, qn[3]), 0, "mq_unlink it");
    check_ret(unlink(qpath[2]) < 0 ? -errno : 0, 0, "unlink(2)");
    close(c);
    close((int)q);
}

/* A child that gives up root: may it make a queue of maxmsg messages? */
static long nobody_open(long maxmsg)
{
    pid_t p = fork();
    if (p == 0) {
        drop_to_nobody();
        struct k_mq_attr at = { 0, maxmsg, 64, 0, { 0 } };
        long fd = mq_open_(qn[3], O_RDWR | O_CREAT | O_EXCL, 0600, &at);
        if (fd >= 0)
            sc(SYS_mq_unlink, qn[3]);
        _exit(fd >= 0 ? 0 : (int)-fd);
    }
    int status = 0;
    waitpid(p, &status, 0);
    return WIFEXITED(status) ? -WEXITSTATUS(status) : -1000;
}

static long write_sysctl(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -errno;
    long r = write(fd, text, strlen(text));
    r = r < 0 ? -errno : r;
    close(fd);
    return r;
}

/* As root; natively in an IPC namespace of its own, with its own mqueue
 * mount at /dev/mqueue (in a mount namespace of its own). */
static void sysctl_child(void)
{
    if (!sandboxed() &&
        (unshare(CLONE_NEWIPC | CLONE_NEWNS) != 0 ||
         mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
         mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)) {
        out("FAIL a namespace of its own: %s\n", strerror(errno));
        _exit(1);
    }
    check_err(nobody_open(15), EINVAL, "a user's maxmsg 15 is past msg_max 10");
    check_ret(write_sysctl("msg_max", "20\n"), 3, "write 20 to msg_max");
    check_ret(read_long("/proc/sys/fs/mqueue/msg_max"), 20, "msg_max reads 20");
    check_ret(nobody_open(15), 0, "then a user may make a queue of 15");
    check_err(nobody_open(21), EINVAL, "but not of 21");
    check_err(write_sysctl("msg_max", "0"), EINVAL, "msg_max 0");
    check_err(write_sysctl("msg_max", "70000"), EINVAL, "msg_max past 65536");
    check_err(write_sysctl("msgsize_max", "100"), EINVAL, "msgsize_max below 128");
    check_err(write_sysctl("msg_max", "abc"), EINVAL, "msg_max abc");
    check_ret(read_long("/proc/sys/fs/mqueue/msg_max"), 20, "msg_max still reads 20");
    check_ret(write_sysctl("msg_default", "3"), 1, "write 3 to msg_default");
    int c = open(qpath[3], O_CREAT | O_EXCL | O_RDWR, 0600);
    check(c >= 0 && getattr(c).maxmsg == 3, "open(O_CREAT) then makes a queue of 3");
    close(c);
    unlink(qpath[3]);
    check_ret(write_sysctl("msg_default", "10"), 2, "msg_default back to 10");
    check_ret(write_sysctl("msg_max", "10"), 2, "msg_max back to 10");
    _exit(g_failed ? 1 : 0);
}

static void test_sysctl(void)
{
    static const char *const names[] = { "msg_default", "msg_max", "msgsize_default", "msgsize_max",
                                         "queues_max" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", names[k]);
        struct stat st;
        memset(&st, 0, sizeof st);
        stat(path, &st);
        check(st.st_mode == (S_IFREG | 0644) && st.st_uid == 0, "%s: mode %o, owned by root",
              names[k], st.st_mode);
        out("%s = %ld\n", names[k], read_long(path));
    }
    if (geteuid() != 0) {
        check_err(write_sysctl("msg_max", "20"), EACCES, "a user may not set msg_max");
        return;
    }
    pid_t p = fork();
    if (p == 0)
        sysctl_child();
    int status = 0;
    waitpid(p, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the sysctl checks passed");
}

int main(void)
{
    static const char *const tag[] = { "a", "b", "c", "d" };
    for (int k = 0; k < 4; k++) {
        snprintf(qn[k], sizeof qn[k], "mqfs-%d-%s", (int)getpid(), tag[k]);
        snprintf(qpath[k], sizeof qpath[k], "/dev/mqueue/%s", qn[k]);
    }
    if (!native_mount())
        return 1;
    test_mount();
    test_queue_file();
    test_create_by_path();
    test_sysctl();
    for (int k = 0; k < 4; k++)
        sc(SYS_mq_unlink, qn[k]);
    return finish();
}
