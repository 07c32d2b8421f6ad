/* ipc_eventfd.c: eventfd and eventfd2: flags, the counter's reads and
 * writes (semaphore mode, the largest count, short buffers), poll and
 * select readiness, /proc/self/fdinfo and fd links, fstat, and blocking
 * reads and writes woken by another process or thread, with the eventfd
 * shared across fork. */
#include "fs_util.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define EFD_SEMAPHORE 1
#define MAXC 0xfffffffffffffffeULL

static long rd(int fd, uint64_t *v)
{
    return sc(SYS_read, fd, v, sizeof(*v));
}

static long wr(int fd, uint64_t v)
{
    return sc(SYS_write, fd, &v, sizeof(v));
}

static short revents(int fd, short events)
{
    struct pollfd p = { fd, events, 0 };
    return sc(SYS_poll, &p, 1, 0) < 0 ? -1 : p.revents;
}

static void test_create(void)
{
    check_err(sc(SYS_eventfd2, 0, 2), EINVAL, "eventfd2 flag 2");
    check_err(sc(SYS_eventfd2, 0, 0x10), EINVAL, "eventfd2 flag 0x10");
    check_err(sc(SYS_eventfd2, 0, O_CLOEXEC | O_NONBLOCK | 8), EINVAL, "eventfd2 a bad flag too");
    long fd = sc(SYS_eventfd2, 0, O_CLOEXEC);
    check(fd >= 0, "eventfd2 O_CLOEXEC");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "close-on-exec set");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL O_RDWR");
    sc(SYS_close, fd);
    fd = sc(SYS_eventfd2, 0, O_NONBLOCK | EFD_SEMAPHORE);
    check_ret(sc(SYS_fcntl, fd, F_GETFD), 0, "no close-on-exec");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL O_RDWR|O_NONBLOCK");
    sc(SYS_close, fd);
    /* The old form: flags 0, the count a 32-bit unsigned. */
    fd = sc(SYS_eventfd, 0xffffffffU);
    check(fd >= 0, "eventfd(0xffffffff)");
    check_ret(sc(SYS_fcntl, fd, F_GETFL), O_RDWR, "eventfd: F_GETFL O_RDWR");
    uint64_t v = 0;
    check_ret(rd(fd, &v), 8, "read");
    check(v == 0xffffffffULL, "count 0xffffffff (%llx)", (unsigned long long)v);
    sc(SYS_close, fd);
    fd = sc(SYS_eventfd, 0x100000007ULL);
    v = 0;
    rd(fd, &v);
    check(v == 7, "eventfd count is 32 bits: 0x100000007 gives 7 (%llu)", (unsigned long long)v);
    sc(SYS_close, fd);
}

static void test_counter(void)
{
    int fd = (int)sc(SYS_eventfd2, 5, O_NONBLOCK);
    uint64_t v = 0;
    char buf[16];
    check_err(sc(SYS_read, fd, buf, 4), EINVAL, "read of 4 bytes");
    check_err(sc(SYS_read, fd, buf, 0), EINVAL, "read of 0 bytes");
    check_err(sc(SYS_write, fd, buf, 7), EINVAL, "write of 7 bytes");
    check_err(sc(SYS_write, fd, buf, 0), EINVAL, "write of 0 bytes");
    check_err(sc(SYS_write, fd, buf, 16), EINVAL, "write of 16 bytes");
    check_err(sc(SYS_write, fd, buf, 9), EINVAL, "write of 9 bytes");
    check_err(sc(SYS_write, fd, NULL, 4), EINVAL, "write of 4 bytes from NULL: the length first");
    check_ret(sc(SYS_read, fd, buf, 16), 8, "read of 16 bytes gives 8");
    memcpy(&v, buf, 8);
    check(v == 5, "count 5 (%llu)", (unsigned long long)v);
    check_err(rd(fd, &v), EAGAIN, "empty, O_NONBLOCK: EAGAIN");
    check_ret(wr(fd, 0), 8, "write 0");
    check_err(rd(fd, &v), EAGAIN, "still empty");
    check_ret(wr(fd, 3), 8, "write 3");
    check_ret(wr(fd, 4), 8, "write 4");
    v = 0;
    check_ret(rd(fd, &v), 8, "read");
    check(v == 7, "the sum 7 (%llu)", (unsigned long long)v);
    check_err(wr(fd, UINT64_MAX), EINVAL, "write 0xffffffffffffffff");
    check_ret(wr(fd, MAXC), 8, "write 0xfffffffffffffffe");
    check_err(wr(fd, 1), EAGAIN, "one more would pass the largest count: EAGAIN");
    check_ret(wr(fd, 0), 8, "write 0 at the largest count");
    check(revents(fd, POLLIN | POLLOUT) == POLLIN, "poll at the largest count: POLLIN only (%#x)",
          revents(fd, POLLIN | POLLOUT));
    v = 0;
    check_ret(rd(fd, &v), 8, "read");
    check(v == MAXC, "count 0xfffffffffffffffe (%llx)", (unsigned long long)v);
    check_ret(wr(fd, MAXC - 1), 8, "write 0xfffffffffffffffd");
    check(revents(fd, POLLIN | POLLOUT) == (POLLIN | POLLOUT),
          "one below the largest: POLLIN|POLLOUT (%#x)", revents(fd, POLLIN | POLLOUT));
    rd(fd, &v);
    check_err(sc(SYS_write, fd, NULL, 8), EFAULT, "write from NULL");
    check_err(rd(fd, &v), EAGAIN, "the failed write added nothing");
    wr(fd, 9);
    check_err(sc(SYS_read, fd, NULL, 8), EFAULT, "read into NULL");
    check_err(rd(fd, &v), EAGAIN, "the failed read took the count");
    /* 8 bytes of which the last 4 are unmapped: all or nothing. */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    char *edge = page + 4096 - 4;
    memset(edge, 1, 4);
    check_err(sc(SYS_write, fd, edge, 8), EFAULT, "write of 8 bytes running into a hole");
    check_err(rd(fd, &v), EAGAIN, "it added nothing");
    *(uint64_t *)(page + 4096 - 8) = 6;
    check_err(sc(SYS_write, fd, page + 4096 - 8, 16), EINVAL, "write of 16 bytes, 8 mapped");
    wr(fd, 2);
    check_err(sc(SYS_read, fd, edge, 8), EFAULT, "read of 8 bytes running into a hole");
    check_err(rd(fd, &v), EAGAIN, "the failed read took the count");
    munmap(page, 4096);
    /* writev writes each iovec alone; readv fills them together. */
    uint64_t a = 3, b = 4;
    struct iovec two[2] = { { &a, 8 }, { &b, 8 } };
    check_ret(sc(SYS_writev, fd, two, 2), 16, "writev of 8 + 8 bytes: two writes");
    struct iovec halves[2] = { { &a, 4 }, { (char *)&a + 4, 4 } };
    check_err(sc(SYS_writev, fd, halves, 2), EINVAL, "writev of 4 + 4 bytes");
    struct iovec empty[2] = { { &a, 0 }, { &b, 8 } };
    check_err(sc(SYS_writev, fd, empty, 2), EINVAL, "writev of 0 + 8 bytes");
    struct iovec three[3] = { { &a, 8 }, { &b, 8 }, { &a, 4 } };
    check_ret(sc(SYS_writev, fd, three, 3), 16, "writev of 8 + 8 + 4 bytes: the first two");
    check_ret(sc(SYS_readv, fd, halves, 2), 8, "readv of 4 + 4 bytes");
    check(a == 14, "the four writes' sum 14 (%llu)", (unsigned long long)a);
    sc(SYS_close, fd);

    fd = (int)sc(SYS_eventfd2, 3, O_NONBLOCK | EFD_SEMAPHORE);
    for (int i = 0; i < 3; i++) {
        v = 0;
        rd(fd, &v);
        check(v == 1, "semaphore read %d gives 1 (%llu)", i, (unsigned long long)v);
    }
    check_err(rd(fd, &v), EAGAIN, "semaphore at 0: EAGAIN");
    wr(fd, 2);
    check_ret(rd(fd, &v), 8, "semaphore read after write 2");
    check_ret(rd(fd, &v), 8, "and one more");
    check_err(rd(fd, &v), EAGAIN, "then EAGAIN");
    sc(SYS_close, fd);
}

static void test_file(void)
{
    int fd = (int)sc(SYS_eventfd2, 5, EFD_SEMAPHORE);
    check_ret(sc(SYS_lseek, fd, 10, SEEK_SET), 0, "lseek succeeds, position 0");
    check_err(sc(SYS_lseek, fd, 0, 7), EINVAL, "lseek bad whence");
    uint64_t v;
    check_err(sc(SYS_pread64, fd, &v, 8, 0), ESPIPE, "pread");
    check_err(sc(SYS_pwrite64, fd, &v, 8, 0), ESPIPE, "pwrite");
    char path[64], buf[512];
    fd_link(fd, buf, sizeof buf);
    check(!strcmp(buf, "anon_inode:[eventfd]"), "fd link: %s", buf);
    struct stat st;
    check_ret(sc(SYS_fstat, fd, &st), 0, "fstat");
    check(st.st_mode == 0600 && st.st_nlink == 1 && st.st_size == 0 && st.st_uid == 0,
          "fstat: mode %o, nlink %lu, size %lld, uid %u", st.st_mode, (unsigned long)st.st_nlink,
          (long long)st.st_size, st.st_uid);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    slurp(path);
    check(strstr(g_file, "flags:\t02\n") != NULL, "fdinfo flags 02");
    check(strstr(g_file, "eventfd-count:                5\n") != NULL, "fdinfo eventfd-count");
    check(strstr(g_file, "\neventfd-id: ") != NULL, "fdinfo eventfd-id");
    check(strstr(g_file, "eventfd-semaphore: 1\n") != NULL, "fdinfo eventfd-semaphore");
    wr(fd, 0x1234567890);
    slurp(path);
    check(strstr(g_file, "eventfd-count:       1234567895\n") != NULL, "fdinfo count in hex");
    sc(SYS_close, fd);
}

static void test_poll(void)
{
    int fd = (int)sc(SYS_eventfd2, 0, O_NONBLOCK);
    check(revents(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM) == POLLOUT,
          "count 0: POLLOUT (%#x)", revents(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
    check(revents(fd, POLLIN) == 0, "count 0, POLLIN asked: nothing");
    wr(fd, 1);
    check(revents(fd, POLLIN | POLLOUT) == (POLLIN | POLLOUT), "count 1: POLLIN|POLLOUT (%#x)",
          revents(fd, POLLIN | POLLOUT));
    fd_set r, w;
    struct timeval tv = { 0, 0 };
    check_ret(select_rw(fd, &r, &w, &tv), 2, "select: readable and writable");
    uint64_t v;
    rd(fd, &v);
    FD_ZERO(&r);
    FD_SET(fd, &r);
    tv.tv_usec = 10000;
    check_ret(sc(SYS_select, fd + 1, &r, NULL, NULL, &tv), 0, "select at 0: not readable");
    sc(SYS_close, fd);
}

/* A child wakes the parent's blocking read, poll and write. */
static void test_fork(void)
{
    int fd = (int)sc(SYS_eventfd2, 0, 0), go[2];
    sc(SYS_pipe2, go, 0);
    long pid = sc(SYS_fork);
    if (pid == 0) {
        msleep(50);
        wr(fd, 7);
        msleep(50);
        wr(fd, 1);
        /* Once the parent set the count one below the largest, this
         * write waits for the parent's read. */
        char c;
        sc(SYS_read, go[0], &c, 1);
        sc(SYS_exit_group, wr(fd, 5) == 8 ? 0 : 1);
    }
    uint64_t v = 0;
    check_ret(rd(fd, &v), 8, "blocking read woken by the child's write");
    check(v == 7, "the child's 7 (%llu)", (unsigned long long)v);
    struct pollfd p = { fd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &p, 1, 10000), 1, "poll woken by the child's write");
    check(p.revents == POLLIN, "POLLIN (%#x)", p.revents);
    rd(fd, &v);
    check_ret(wr(fd, MAXC - 1), 8, "count one below the largest");
    sc(SYS_write, go[1], "x", 1);
    /* The child's write of 5 blocks until this read. */
    msleep(100);
    v = 0;
    rd(fd, &v);
    check(v == MAXC - 1, "read the large count (%llx)", (unsigned long long)v);
    int st = -1;
    sc(SYS_wait4, pid, &st, 0, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's blocked write went through");
    v = 0;
    check_ret(rd(fd, &v), 8, "read the child's 5");
    check(v == 5, "5 (%llu)", (unsigned long long)v);

    /* Shared across fork: the children's writes add up in the parent. */
    for (int i = 1; i <= 3; i++)
        if (sc(SYS_fork) == 0)
            sc(SYS_exit_group, wr(fd, (uint64_t)i * 10) == 8 ? 0 : 1);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        sc(SYS_wait4, -1, &st, 0, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    check(ok, "three children wrote");
    v = 0;
    rd(fd, &v);
    check(v == 60, "the parent reads their sum 60 (%llu)", (unsigned long long)v);
    sc(SYS_close, fd);
}

static int tfd;
static uint64_t got[2];

static void *reader(void *arg)
{
    long i = (long)arg;
    if (rd(tfd, &got[i]) != 8)
        got[i] = 99;
    return NULL;
}

/* Threads blocked in a semaphore read: each write of 1 lets one go. */
static void test_threads(void)
{
    tfd = (int)sc(SYS_eventfd2, 0, EFD_SEMAPHORE);
    pthread_t th[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader, (void *)i);
    msleep(50);
    wr(tfd, 1);
    msleep(20);
    wr(tfd, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    check(got[0] == 1 && got[1] == 1, "both threads' blocking reads got 1 (%llu %llu)",
          (unsigned long long)got[0], (unsigned long long)got[1]);
    check(revents(tfd, POLLIN) == 0, "count back at 0");
    sc(SYS_close, tfd);
}

int main(void)
{
    test_create();
    test_counter();
    test_file();
    test_poll();
    test_fork();
    test_threads();
    return finish();
}
