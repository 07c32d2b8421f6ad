/* fs_inotify: inotify_init1, inotify_add_watch, inotify_rm_watch and the
 * events the file system generates: each event kind, names in directory
 * watches, the cookie that pairs a rename's two halves, IN_IGNORED,
 * IN_ONESHOT, IN_MASK_ADD and IN_MASK_CREATE, IN_EXCL_UNLINK,
 * IN_DONT_FOLLOW, IN_ONLYDIR, the coalescing of identical events, reads
 * with small buffers, FIONREAD, poll readiness, a blocking read woken by
 * another process and ended by a signal, the queue's overflow, watch
 * descriptor numbering and the errors. The events are made twice: in a
 * fresh directory of the scratch directory (the host's file system in the
 * sandbox) and in a fresh directory under /tmp. */
#include "fs_util.h"

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif

static const struct {
    uint32_t bit;
    const char *name;
} bits[] = {
    { IN_ACCESS, "ACCESS" },
    { IN_MODIFY, "MODIFY" },
    { IN_ATTRIB, "ATTRIB" },
    { IN_CLOSE_WRITE, "CLOSE_WRITE" },
    { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" },
    { IN_OPEN, "OPEN" },
    { IN_MOVED_FROM, "MOVED_FROM" },
    { IN_MOVED_TO, "MOVED_TO" },
    { IN_CREATE, "CREATE" },
    { IN_DELETE, "DELETE" },
    { IN_DELETE_SELF, "DELETE_SELF" },
    { IN_MOVE_SELF, "MOVE_SELF" },
    { IN_UNMOUNT, "UNMOUNT" },
    { IN_Q_OVERFLOW, "Q_OVERFLOW" },
    { IN_IGNORED, "IGNORED" },
    { IN_ISDIR, "ISDIR" },
};

static const char *mask_name(uint32_t m)
{
    static char buf[256];
    buf[0] = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (m & bits[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, bits[i].name);
            m &= ~bits[i].bit;
        }
    if (m)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "|%#x", m);
    return buf;
}

static char evbuf[65536] __attribute__((aligned(8)));
static uint32_t last_from_cookie;

/* Reads and prints every queued event of fd (non-blocking); the number. */
static int drain(long fd, const char *what)
{
    int n = 0;
    out("%s:\n", what);
    for (;;) {
        struct pollfd p = { (int)fd, POLLIN, 0 };
        if (sc(SYS_poll, &p, 1, 0) != 1)
            break;
        long r = sc(SYS_read, fd, evbuf, sizeof evbuf);
        if (r <= 0) {
            out("  read -> %s\n", ret_name(r));
            break;
        }
        for (long off = 0; off < r;) {
            struct inotify_event *e = (struct inotify_event *)(evbuf + off);
            const char *cookie = "";
            if (e->mask & IN_MOVED_FROM) {
                last_from_cookie = e->cookie;
                cookie = e->cookie ? " cookie=new" : " cookie=0!";
            } else if (e->mask & IN_MOVED_TO) {
                cookie = e->cookie && e->cookie == last_from_cookie ? " cookie=paired"
                                                                    : " cookie=unpaired!";
            } else if (e->cookie) {
                cookie = " cookie!=0";
            }
            int padded = e->len == 0 ||
                         (e->len % sizeof(struct inotify_event) == 0 && strlen(e->name) < e->len);
            out("  wd=%d %s%s%s%s%s\n", e->wd, mask_name(e->mask), cookie, e->len ? " name=" : "",
                e->len ? e->name : "", padded ? "" : " (bad len)");
            off += (long)sizeof(*e) + e->len;
            n++;
        }
    }
    return n;
}

static long ino_init(int flags)
{
    return sc(SYS_inotify_init1, flags);
}

static long add(long fd, const char *path, uint32_t mask)
{
    return sc(SYS_inotify_add_watch, fd, path, mask);
}

static long wfile(const char *path, const char *text)
{
    long fd = sc(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fd;
    sc(SYS_write, fd, text, strlen(text));
    return sc(SYS_close, fd);
}

static void test_errors(void)
{
    out("-- errors\n");
    check_err(ino_init(1), EINVAL, "inotify_init1 with an unknown flag");
    check_err(ino_init(O_RDWR), EINVAL, "inotify_init1 with O_RDWR");
    long fd = ino_init(IN_NONBLOCK | IN_CLOEXEC);
    check(fd >= 0, "inotify_init1(IN_NONBLOCK | IN_CLOEXEC)");
    check(getfl(fd) == (O_RDONLY | O_NONBLOCK), "status flags O_RDONLY | O_NONBLOCK");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "close-on-exec");
    long fd0 = sc(SYS_inotify_init);
    check(fd0 >= 0, "inotify_init");
    check(getfl(fd0) == O_RDONLY, "inotify_init: blocking");
    check_ret(sc(SYS_fcntl, fd0, F_GETFD), 0, "inotify_init: no close-on-exec");
    wfile("file", "x");
    check_err(add(999, ".", IN_ALL_EVENTS), EBADF, "add_watch on a closed fd");
    check_err(add(999, ".", 0), EINVAL, "add_watch with no event bits (before the fd)");
    check_err(add(fd, ".", 0), EINVAL, "add_watch with an empty mask");
    check_err(add(fd, ".", 0x00800000), EINVAL, "add_watch with only an unknown bit");
    check_err(add(fd, ".", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE), EINVAL,
              "IN_MASK_ADD with IN_MASK_CREATE");
    long dfd = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    check_err(add(dfd, ".", IN_MODIFY), EINVAL, "add_watch on a directory fd");
    long efd = sc(SYS_eventfd2, 0, 0);
    check_err(add(efd, ".", IN_MODIFY), EINVAL, "add_watch on an eventfd");
    check_err(sc(SYS_inotify_rm_watch, efd, 1), EINVAL, "rm_watch on an eventfd");
    check_err(add(fd, "file", IN_MODIFY | IN_ONLYDIR), ENOTDIR, "IN_ONLYDIR on a file");
    check_err(add(fd, "missing", IN_MODIFY), ENOENT, "a missing path");
    check_err(add(fd, "", IN_MODIFY), ENOENT, "an empty path");
    check_err(add(fd, NULL, IN_MODIFY), EFAULT, "a NULL path");
    check_err(add(fd, BADPTR, IN_MODIFY), EFAULT, "a bad path pointer");
    check_err(add(fd, "file/x", IN_MODIFY), ENOTDIR, "a path through a file");
    check_err(sc(SYS_inotify_rm_watch, fd, 1), EINVAL, "rm_watch of an unknown wd");
    check_err(sc(SYS_inotify_rm_watch, fd, -1), EINVAL, "rm_watch of wd -1");
    check_err(sc(SYS_inotify_rm_watch, 999, 1), EBADF, "rm_watch on a closed fd");
    check_ret(add(fd, "file", IN_MODIFY), 1, "the first wd is 1");
    check_ret(add(fd, ".", IN_MODIFY | IN_ONLYDIR), 2, "IN_ONLYDIR on a directory: wd 2");
    check_err(add(fd, "file", IN_MODIFY | IN_MASK_CREATE), EEXIST,
              "IN_MASK_CREATE on a watched inode");
    check_ret(add(fd, "file", IN_ATTRIB | IN_MASK_ADD), 1, "IN_MASK_ADD: the same wd");
    check_ret(add(fd, "./file", IN_ATTRIB), 1, "another name of the same inode: the same wd");
    check_ret(add(fd, ".", IN_ONLYDIR), 2, "only a flag bit: accepted");
    check_ret(sc(SYS_inotify_rm_watch, fd, 1), 0, "rm_watch 1");
    check_err(sc(SYS_inotify_rm_watch, fd, 1), EINVAL, "rm_watch 1 again");
    check_ret(add(fd, "file", IN_MODIFY), 3, "wds are not reused at once: 3");
    check_ret(add(fd0, "file", IN_MODIFY), 1, "each instance numbers from 1");
    /* INOTIFY_IOC_SETNEXTWD: where the next number is looked for. */
    const unsigned long setnextwd = 0x40044900UL;
    check_ret(sc(SYS_ioctl, fd0, setnextwd, 10), 0, "SETNEXTWD 10");
    check_ret(add(fd0, ".", IN_MODIFY), 10, "the next wd is 10");
    check_err(sc(SYS_ioctl, fd0, setnextwd, 0), EINVAL, "SETNEXTWD 0");
    check_err(sc(SYS_ioctl, fd0, setnextwd, -5L), EINVAL, "SETNEXTWD -5");
    check_err(sc(SYS_ioctl, fd0, setnextwd, 1L << 33), EINVAL, "SETNEXTWD past INT_MAX");
    check_ret(sc(SYS_ioctl, fd0, setnextwd, 1), 0, "SETNEXTWD 1");
    check_ret(add(fd0, "/", IN_MODIFY), 2, "1 is taken: 2");
    struct inotify_event e;
    check_ret(sc(SYS_read, fd, &e, sizeof e), sizeof e, "read the IN_IGNORED of wd 1");
    check(e.wd == 1 && e.mask == IN_IGNORED && e.len == 0, "wd 1 IN_IGNORED");
    check_err(sc(SYS_write, fd, "12345678", 8), EBADF, "write (the instance is read-only)");
    check_ret(sc(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek");
    char link[64], target[64] = "";
    fd_link((int)fd, target, sizeof target);
    check(strcmp(target, "anon_inode:inotify") == 0, "/proc/self/fd: anon_inode:inotify (%s)",
          target);
    /* fdinfo: a line per watch, newest first, with its mask and flags. */
    snprintf(link, sizeof link, "/proc/self/fdinfo/%ld", fd);
    slurp(link);
    char line[256];
    const char *p = strstr(g_file, "inotify wd:");
    int lines = 0, ok_order = p && strncmp(p, "inotify wd:3 ", 13) == 0;
    for (; p; p = strstr(p + 1, "inotify wd:"))
        lines++;
    check(lines == 2 && ok_order, "fdinfo: two watches, wd 3 first (%d)", lines);
    check(find_line("inotify wd:3 ", line, sizeof line) && strstr(line, " mask:2 ignored_mask:0"),
          "fdinfo: wd 3's mask");
    check(find_line("inotify wd:2 ", line, sizeof line) && strstr(line, " mask:0 ignored_mask:0"),
          "fdinfo: wd 2's mask (flags only)");
    /* Watching needs read permission (root has it anyway). */
    sc(SYS_chmod, "file", 0);
    long r = add(fd, "file", IN_MODIFY);
    check(sc(SYS_geteuid) == 0 ? r == 3 : r == -EACCES, "a file without read permission");
    sc(SYS_chmod, "file", 0644);
    sc(SYS_close, efd);
    sc(SYS_close, dfd);
    sc(SYS_close, fd);
    sc(SYS_close, fd0);
    sc(SYS_unlink, "file");
}

/* Every event kind on a file and its directory. */
static void test_events(void)
{
    enter("events");
    long fd = ino_init(IN_NONBLOCK);
    check_ret(add(fd, ".", IN_ALL_EVENTS), 1, "watch the directory");
    long f = sc(SYS_open, "f", O_WRONLY | O_CREAT | O_EXCL, 0644);
    sc(SYS_write, f, "abc", 3);
    sc(SYS_write, f, "def", 3);
    sc(SYS_close, f);
    drain(fd, "create, two writes, close");
    check_ret(add(fd, "f", IN_ALL_EVENTS), 2, "watch the file");
    f = sc(SYS_open, "f", O_RDONLY);
    char b[16];
    sc(SYS_read, f, b, 2);
    sc(SYS_read, f, b, 2);
    sc(SYS_read, f, b, sizeof b);
    sc(SYS_read, f, b, sizeof b);
    sc(SYS_close, f);
    drain(fd, "open, reads (the one at the end reads nothing), close");
    sc(SYS_chmod, "f", 0600);
    sc(SYS_utimensat, AT_FDCWD, "f", NULL, 0);
    sc(SYS_truncate, "f", 2);
    drain(fd, "chmod, utimensat, truncate");
    sc(SYS_chown, "f", -1, -1);
    drain(fd, "chown(-1, -1)");
    sc(SYS_link, "f", "g");
    sc(SYS_unlink, "g");
    drain(fd, "link, unlink the link");
    sc(SYS_rename, "f", "h");
    drain(fd, "rename");
    sc(SYS_mkdir, "sub", 0755);
    sc(SYS_rmdir, "sub");
    sc(SYS_symlink, "h", "sym");
    sc(SYS_mknod, "fifo", S_IFIFO | 0644, 0);
    sc(SYS_unlink, "sym");
    sc(SYS_unlink, "fifo");
    drain(fd, "mkdir, rmdir, symlink, mknod, unlinks");
    f = sc(SYS_open, "h", O_RDWR | O_TRUNC);
    sc(SYS_pwrite64, f, "x", 1, 5);
    sc(SYS_ftruncate, f, 1);
    sc(SYS_fchmod, f, 0644);
    sc(SYS_close, f);
    drain(fd, "open O_RDWR|O_TRUNC, pwrite, ftruncate, fchmod, close");
    f = sc(SYS_open, "h", O_PATH);
    sc(SYS_close, f);
    drain(fd, "O_PATH open and close");
    long d = sc(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    char dents[4096];
    sc(SYS_getdents64, d, dents, sizeof dents);
    sc(SYS_close, d);
    drain(fd, "the directory: open, getdents, close");
    sc(SYS_unlink, "h");
    drain(fd, "unlink the watched file");
    wfile("a", "1");
    wfile("b", "2");
    check_ret(add(fd, "a", IN_MOVE_SELF | IN_DELETE_SELF), 3, "watch a");
    check_ret(add(fd, "b", IN_ALL_EVENTS), 4, "watch b");
    drain(fd, "two files");
    sc(SYS_rename, "a", "b");
    drain(fd, "rename a over b");
    sc(SYS_mkdir, "d1", 0755);
    sc(SYS_mkdir, "d2", 0755);
    check_ret(add(fd, "d2", IN_ALL_EVENTS), 5, "watch d2");
    sc(SYS_rename, "b", "d2/b");
    sc(SYS_rename, "d1", "d2/d1");
    drain(fd, "moves into another directory");
    sc(SYS_unlink, "d2/b");
    sc(SYS_rmdir, "d2/d1");
    sc(SYS_rmdir, "d2");
    drain(fd, "remove d2 and its entries");
    wfile("x", "1");
    wfile("y", "2");
    check_ret(add(fd, "x", IN_MOVE_SELF | IN_ATTRIB), 6, "watch x");
    check_ret(add(fd, "y", IN_MOVE_SELF | IN_ATTRIB), 7, "watch y");
    drain(fd, "x and y");
    check_ret(sc(SYS_renameat2, AT_FDCWD, "x", AT_FDCWD, "y", RENAME_EXCHANGE), 0,
              "RENAME_EXCHANGE");
    drain(fd, "exchange x and y");
    sc(SYS_unlink, "x");
    sc(SYS_unlink, "y");
    drain(fd, "unlink both");
    check_ret(sc(SYS_inotify_rm_watch, fd, 1), 0, "rm_watch the directory");
    drain(fd, "after rm_watch");
    sc(SYS_close, fd);
}

/* The queue: coalescing, reads with small buffers, FIONREAD, poll. */
static void test_queue(void)
{
    enter("queue");
    long fd = ino_init(IN_NONBLOCK);
    wfile("abc", "1");
    check_ret(add(fd, ".", IN_OPEN | IN_CLOSE | IN_MODIFY), 1, "watch the directory");
    int n = 0;
    check_ret(sc(SYS_ioctl, fd, FIONREAD, &n), 0, "FIONREAD, empty");
    check_ret(n, 0, "nothing queued");
    struct pollfd p = { (int)fd, POLLIN | POLLOUT, 0 };
    check_ret(sc(SYS_poll, &p, 1, 0), 0, "not ready while empty");
    long ep = sc(SYS_epoll_create1, 0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u64 = 7 };
    check_ret(sc(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &ev), 0, "epoll_ctl ADD");
    check_ret(sc(SYS_epoll_wait, ep, &ev, 1, 0), 0, "epoll: not ready while empty");
    char b[256];
    check_err(sc(SYS_read, fd, b, sizeof b), EAGAIN, "an empty non-blocking read");
    check_err(sc(SYS_read, fd, b, 0), EAGAIN, "an empty read of 0 bytes");
    long f = sc(SYS_open, "abc", O_WRONLY);
    sc(SYS_write, f, "1", 1);
    sc(SYS_write, f, "2", 1);
    sc(SYS_write, f, "3", 1);
    sc(SYS_close, f);
    check_ret(sc(SYS_poll, &p, 1, 0), 1, "ready with events");
    check_ret(p.revents, POLLIN, "POLLIN");
    memset(&ev, 0, sizeof ev);
    check_ret(sc(SYS_epoll_wait, ep, &ev, 1, 0), 1, "epoll: ready");
    check(ev.events == EPOLLIN && ev.data.u64 == 7, "epoll: EPOLLIN (%#x)", ev.events);
    check_ret(sc(SYS_epoll_wait, ep, &ev, 1, 0), 0, "epoll: edge-triggered, once");
    sc(SYS_close, ep);
    check_ret(sc(SYS_ioctl, fd, FIONREAD, &n), 0, "FIONREAD");
    check_ret(n, 3 * 32, "three events of 32 bytes (the writes coalesce)");
    check_err(sc(SYS_ioctl, fd, FIONREAD, BADPTR), EFAULT, "FIONREAD to a bad pointer");
    check_err(sc(SYS_read, fd, b, 0), EINVAL, "a read of 0 bytes");
    check_err(sc(SYS_read, fd, b, 16), EINVAL, "a buffer for the header only");
    check_err(sc(SYS_read, fd, b, 31), EINVAL, "a buffer one byte short");
    check_ret(sc(SYS_read, fd, b, 32), 32, "a buffer of exactly one event");
    check_ret(sc(SYS_read, fd, b, 63), 32, "room for one and a half: one");
    check_ret(sc(SYS_read, fd, b, sizeof b), 32, "the last one");
    check_err(sc(SYS_read, fd, b, sizeof b), EAGAIN, "empty again");
    /* A read into a bad buffer loses the event it took (only one is
     * queued: Linux loses those up to the fault, the sandbox every one
     * the read took). */
    f = sc(SYS_open, "abc", O_RDONLY);
    check_err(sc(SYS_read, fd, BADPTR, sizeof b), EFAULT, "a read into a bad buffer");
    check_ret(sc(SYS_ioctl, fd, FIONREAD, &n), 0, "FIONREAD after the fault");
    check_ret(n, 0, "the faulted read lost its event");
    sc(SYS_close, f);
    check_err(sc(SYS_ioctl, fd, FIONBIO + 0x100, &n), ENOTTY, "an unknown ioctl");
    drain(fd, "left");
    /* Identical events coalesce only when consecutive. */
    f = sc(SYS_open, "abc", O_WRONLY);
    long g = sc(SYS_open, "abc", O_RDONLY);
    sc(SYS_write, f, "1", 1);
    sc(SYS_read, g, b, 1);
    sc(SYS_write, f, "1", 1);
    sc(SYS_close, f);
    sc(SYS_close, g);
    drain(fd, "write, read, write (MODIFY twice)");
    sc(SYS_close, fd);
    sc(SYS_unlink, "abc");
}

/* Watch flags: ONESHOT, MASK_ADD, MASK_CREATE, EXCL_UNLINK, DONT_FOLLOW. */
static void test_flags(void)
{
    enter("flags");
    long fd = ino_init(IN_NONBLOCK);
    wfile("f", "1");
    check_ret(add(fd, "f", IN_OPEN | IN_ONESHOT), 1, "IN_ONESHOT");
    long f = sc(SYS_open, "f", O_RDONLY);
    sc(SYS_close, f);
    f = sc(SYS_open, "f", O_RDONLY);
    sc(SYS_close, f);
    drain(fd, "two opens under IN_ONESHOT");
    check_err(sc(SYS_inotify_rm_watch, fd, 1), EINVAL, "the one-shot watch is gone");
    check_ret(add(fd, "f", IN_OPEN), 2, "watch IN_OPEN");
    check_ret(add(fd, "f", IN_CLOSE_NOWRITE | IN_MASK_ADD), 2, "add IN_CLOSE_NOWRITE");
    f = sc(SYS_open, "f", O_RDONLY);
    sc(SYS_close, f);
    drain(fd, "open and close, both watched");
    check_ret(add(fd, "f", IN_CLOSE_NOWRITE), 2, "replace the mask");
    f = sc(SYS_open, "f", O_RDONLY);
    sc(SYS_close, f);
    drain(fd, "open and close, close watched");
    check_ret(add(fd, "f", IN_OPEN | IN_ONESHOT), 2, "replace with a one-shot mask");
    check_ret(add(fd, "f", IN_CLOSE_NOWRITE | IN_MASK_ADD), 2, "IN_MASK_ADD keeps IN_ONESHOT");
    f = sc(SYS_open, "f", O_RDONLY);
    sc(SYS_close, f);
    drain(fd, "the one-shot watch ends at the open");
    check_ret(add(fd, "f", IN_MODIFY | IN_MASK_CREATE), 3, "IN_MASK_CREATE on a free inode");
    sc(SYS_inotify_rm_watch, fd, 3);
    drain(fd, "rm_watch");

    /* IN_EXCL_UNLINK: no events from an unlinked child. */
    check_ret(add(fd, ".", IN_MODIFY | IN_EXCL_UNLINK), 4, "watch the directory, IN_EXCL_UNLINK");
    wfile("g", "");
    f = sc(SYS_open, "g", O_WRONLY);
    sc(SYS_write, f, "1", 1);
    sc(SYS_unlink, "g");
    sc(SYS_write, f, "2", 1);
    sc(SYS_close, f);
    drain(fd, "write, unlink, write (IN_EXCL_UNLINK)");
    check_ret(add(fd, ".", IN_MODIFY), 4, "the directory without IN_EXCL_UNLINK");
    wfile("g", "");
    drain(fd, "make g again");
    f = sc(SYS_open, "g", O_WRONLY);
    sc(SYS_unlink, "g");
    sc(SYS_write, f, "2", 1);
    sc(SYS_close, f);
    drain(fd, "unlink, write");
    sc(SYS_inotify_rm_watch, fd, 4);
    drain(fd, "rm_watch the directory");

    /* IN_DONT_FOLLOW watches the symlink itself. */
    sc(SYS_symlink, "f", "l");
    check_ret(add(fd, "l", IN_ATTRIB), 5, "a symlink is followed: a watch of f");
    check_ret(add(fd, "f", IN_ATTRIB), 5, "f's wd");
    check_ret(add(fd, "l", IN_ATTRIB | IN_DONT_FOLLOW), 6, "IN_DONT_FOLLOW: the link's own wd");
    sc(SYS_chmod, "f", 0600);
    drain(fd, "chmod of the target");
    check_err(add(fd, "l", IN_ATTRIB | IN_ONLYDIR), ENOTDIR, "IN_ONLYDIR through a link to a file");
    sc(SYS_close, fd);
    sc(SYS_unlink, "l");
    sc(SYS_unlink, "f");
}

/* A file unlinked while open goes when it is closed. */
static void test_delete_open(void)
{
    enter("delete_open");
    long fd = ino_init(IN_NONBLOCK);
    wfile("f", "1");
    long f = sc(SYS_open, "f", O_RDONLY);
    check_ret(add(fd, "f", IN_ALL_EVENTS), 1, "watch the open file");
    sc(SYS_unlink, "f");
    drain(fd, "unlink while open");
    sc(SYS_close, f);
    drain(fd, "close");
    sc(SYS_mkdir, "d", 0755);
    check_ret(add(fd, "d", IN_ALL_EVENTS), 2, "watch a directory");
    check_ret(add(fd, ".", IN_ALL_EVENTS), 3, "and its parent");
    sc(SYS_chmod, "d", 0700);
    sc(SYS_rename, "d", "e");
    drain(fd, "chmod and rename a watched directory");
    sc(SYS_rmdir, "e");
    drain(fd, "rmdir");
    /* Closing the instance with watches drops them. */
    wfile("f", "1");
    add(fd, "f", IN_ALL_EVENTS);
    add(fd, ".", IN_ALL_EVENTS);
    check_ret(sc(SYS_close, fd), 0, "close an instance with watches");
    sc(SYS_unlink, "f");
}

/* Blocking reads: woken by another process's write, ended by a signal. */
static void on_usr1(int s)
{
    (void)s;
}

static void test_blocking(void)
{
    enter("blocking");
    long fd = ino_init(0);
    wfile("f", "");
    check_ret(add(fd, "f", IN_MODIFY), 1, "watch f");
    long pid = sc(SYS_fork);
    if (pid == 0) {
        msleep(100);
        long f = sc(SYS_open, "f", O_WRONLY);
        sc(SYS_write, f, "x", 1);
        sc(SYS_exit_group, 0);
    }
    struct inotify_event e;
    check_ret(sc(SYS_read, fd, &e, sizeof e), sizeof e, "a blocking read, woken by the child");
    check(e.wd == 1 && e.mask == IN_MODIFY, "the child's write (%s)", mask_name(e.mask));
    int st = -1;
    sc(SYS_wait4, pid, &st, 0, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pid = fork_signal_after(SIGUSR1, 100);
    check_err(sc(SYS_read, fd, &e, sizeof e), EINTR, "a signal ends a blocking read");
    sc(SYS_wait4, pid, &st, 0, 0);
    sc(SYS_close, fd);
    sc(SYS_unlink, "f");
}

/* Processes making files at once while the parent reads (blocking): every
 * creation arrives once (distinct names never coalesce). */
static void test_concurrent(void)
{
    enter("concurrent");
    enum { KIDS = 4, FILES = 50 };
    long fd = ino_init(0);
    check_ret(add(fd, ".", IN_CREATE), 1, "watch the directory");
    long pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pids[k] = sc(SYS_fork);
        if (pids[k] == 0) {
            for (int i = 0; i < FILES; i++) {
                char name[32];
                snprintf(name, sizeof name, "c%d_%d", k, i);
                sc(SYS_close, sc(SYS_open, name, O_WRONLY | O_CREAT, 0644));
            }
            sc(SYS_exit_group, 0);
        }
    }
    int got = 0, bad = 0;
    while (got < KIDS * FILES) {
        long r = sc(SYS_read, fd, evbuf, sizeof evbuf);
        if (r <= 0) {
            bad++;
            break;
        }
        for (long off = 0; off < r;) {
            struct inotify_event *e = (struct inotify_event *)(evbuf + off);
            if (e->wd == 1 && e->mask == IN_CREATE && e->name[0] == 'c')
                got++;
            else
                bad++;
            off += (long)sizeof(*e) + e->len;
        }
    }
    for (int k = 0; k < KIDS; k++)
        sc(SYS_wait4, pids[k], NULL, 0, 0);
    check(got == KIDS * FILES && !bad, "every creation once (%d, %d others)", got, bad);
    int n = -1;
    sc(SYS_ioctl, fd, FIONREAD, &n);
    check_ret(n, 0, "nothing more");
    sc(SYS_close, fd);
}

/* The queue holds max_queued_events events, then one IN_Q_OVERFLOW. */
static void test_overflow(void)
{
    enter("overflow");
    long max = 0;
    if (slurp("/proc/sys/fs/inotify/max_queued_events") > 0)
        max = atol(g_file);
    check(max > 0 && max <= 65536, "max_queued_events is readable");
    if (max <= 0 || max > 65536)
        return;
    long fd = ino_init(IN_NONBLOCK);
    wfile("f", "");
    add(fd, "f", IN_OPEN | IN_CLOSE_NOWRITE);
    for (long i = 0; i < max / 2 + 2; i++) {
        long f = sc(SYS_open, "f", O_RDONLY);
        sc(SYS_close, f);
    }
    int n = 0;
    sc(SYS_ioctl, fd, FIONREAD, &n);
    check(n == (max + 1) * 16, "FIONREAD: max_queued_events + 1 events");
    long total = 0, overflows = 0, last_wd = 0;
    uint32_t last_mask = 0;
    long r;
    while ((r = sc(SYS_read, fd, evbuf, sizeof evbuf)) > 0) {
        for (long off = 0; off < r;) {
            struct inotify_event *e = (struct inotify_event *)(evbuf + off);
            overflows += !!(e->mask & IN_Q_OVERFLOW);
            last_mask = e->mask;
            last_wd = e->wd;
            total++;
            off += (long)sizeof(*e) + e->len;
        }
    }
    check(total == max + 1, "max_queued_events + 1 events read");
    check(overflows == 1 && last_mask == IN_Q_OVERFLOW && last_wd == -1,
          "the last is IN_Q_OVERFLOW with wd -1");
    sc(SYS_close, fd);
    sc(SYS_unlink, "f");
}

/* A watched program run by another process: opened, read (the kernel's
 * reads of its headers), closed when that process ends. */
static void test_exec(void)
{
    enter("exec");
    long in = sc(SYS_open, "/proc/self/exe", O_RDONLY);
    long to = sc(SYS_open, "prog", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    long n;
    while ((n = sc(SYS_read, in, evbuf, sizeof evbuf)) > 0)
        sc(SYS_write, to, evbuf, n);
    sc(SYS_close, in);
    sc(SYS_close, to);
    long fd = ino_init(IN_NONBLOCK);
    check_ret(add(fd, "prog", IN_ALL_EVENTS), 1, "watch a program");
    long pid = sc(SYS_fork);
    if (pid == 0) {
        char *argv[] = { "prog", "--exit", NULL };
        char *envp[] = { NULL };
        sc(SYS_execve, "./prog", argv, envp);
        sc(SYS_exit_group, 1);
    }
    int st = -1;
    sc(SYS_wait4, pid, &st, 0, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the program ran");
    /* The program's last reference may go just after the parent is told:
     * wait (10 s at most) for the close. */
    out("exec of the watched program, its exit:\n");
    int closed = 0;
    for (int i = 0; i < 100 && !closed; i++) {
        struct pollfd p = { (int)fd, POLLIN, 0 };
        if (sc(SYS_poll, &p, 1, 100) != 1)
            continue;
        long r = sc(SYS_read, fd, evbuf, sizeof evbuf);
        for (long off = 0; off < r;) {
            struct inotify_event *e = (struct inotify_event *)(evbuf + off);
            out("  wd=%d %s\n", e->wd, mask_name(e->mask));
            closed |= !!(e->mask & IN_CLOSE_NOWRITE);
            off += (long)sizeof(*e) + e->len;
        }
    }
    drain(fd, "then");
    sc(SYS_close, fd);
}

static void run_all(void)
{
    test_events();
    test_queue();
    test_flags();
    test_delete_open();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--exit") == 0)
        return 0; /* test_exec's program */
    sc(SYS_umask, 022);
    if (work_begin("fs_inotify") < 0)
        return 1;
    sc(SYS_chdir, g_work);
    test_errors();
    out("== the scratch directory\n");
    run_all();
    test_blocking();
    test_concurrent();
    test_exec();
    test_overflow();
    work_end();
    /* The same under /tmp (tmpfs in the sandbox) and /dev/shm (devfs). */
    static const char *const dirs[] = { "/tmp", "/dev/shm" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%s/fs_inotify.%ld", dirs[i], sc(SYS_getpid));
        rmtree(tmp);
        if (sc(SYS_mkdir, tmp, 0755) == 0) {
            snprintf(g_work, sizeof g_work, "%s", tmp);
            out("== %s\n", dirs[i]);
            run_all();
            sc(SYS_chdir, "/");
            rmtree(tmp);
        } else {
            out("FAIL no directory under %s\n", dirs[i]);
            g_failed++;
        }
    }
    return finish();
}
