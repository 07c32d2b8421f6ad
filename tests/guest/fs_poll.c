/* fs_poll.c: poll, ppoll, select and pselect6 over pipes, regular files
 * and bad descriptors, and prctl's name, dumpable and no-new-privs
 * requests (the name shows in /proc/self/comm). */
#include "fs_util.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

static void test_poll(void)
{
    int p[2];
    check_ret(sc(SYS_pipe2, p, 0), 0, "pipe2");
    struct pollfd f[3] = { { p[0], POLLIN, 0 }, { p[1], POLLOUT, 0 }, { -1, POLLIN, 0 } };
    check_ret(sc(SYS_poll, f, 1, 0), 0, "empty pipe, timeout 0: nothing ready");
    check_ret(sc(SYS_poll, f, 3, 0), 1, "write end ready, fd -1 ignored");
    check(f[0].revents == 0 && f[1].revents == POLLOUT && f[2].revents == 0,
          "revents 0, POLLOUT, 0 (%#x %#x %#x)", f[0].revents, f[1].revents, f[2].revents);
    check_ret(sc(SYS_poll, f, 1, 20), 0, "20 ms timeout on an empty pipe");
    sc(SYS_write, p[1], "x", 1);
    check_ret(sc(SYS_poll, f, 1, -1), 1, "after a write the read end is ready");
    check(f[0].revents == POLLIN, "POLLIN (%#x)", f[0].revents);
    sc(SYS_close, p[1]);
    f[0].events = POLLIN;
    check_ret(sc(SYS_poll, f, 1, 0), 1, "writer closed");
    check(f[0].revents == (POLLIN | POLLHUP), "POLLIN|POLLHUP (%#x)", f[0].revents);
    char c;
    sc(SYS_read, p[0], &c, 1);
    check_ret(sc(SYS_poll, f, 1, 0), 1, "drained, writer closed");
    check(f[0].revents == POLLHUP, "POLLHUP (%#x)", f[0].revents);
    sc(SYS_close, p[0]);

    struct pollfd bad = { 999, POLLIN, 0 };
    check_ret(sc(SYS_poll, &bad, 1, 0), 1, "closed fd counts as ready");
    check(bad.revents == POLLNVAL, "POLLNVAL (%#x)", bad.revents);

    put("poll_file", "data");
    long fd = sc(SYS_open, "poll_file", O_RDWR);
    struct pollfd rf = { (int)fd, POLLIN | POLLOUT, 0 };
    check_ret(sc(SYS_poll, &rf, 1, -1), 1, "a regular file is always ready");
    check(rf.revents == (POLLIN | POLLOUT), "POLLIN|POLLOUT (%#x)", rf.revents);

    check_err(sc(SYS_poll, BADPTR, 1, 0), EFAULT, "poll bad pointer");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    check_err(sc(SYS_poll, &rf, rl.rlim_cur + 1, 0), EINVAL, "poll nfds over RLIMIT_NOFILE");

    struct timespec ts = { 0, 10 * 1000 * 1000 };
    int q[2];
    sc(SYS_pipe2, q, 0);
    struct pollfd pf = { q[0], POLLIN, 0 };
    check_ret(sc(SYS_ppoll, &pf, 1, &ts, NULL, 8), 0, "ppoll 10 ms timeout");
    struct timespec badts = { 0, 1000000000L };
    check_err(sc(SYS_ppoll, &pf, 1, &badts, NULL, 8), EINVAL, "ppoll tv_nsec out of range");
    uint64_t mask = 0;
    check_err(sc(SYS_ppoll, &pf, 1, &ts, &mask, 4), EINVAL, "ppoll sigset size 4");

    /* select */
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(q[0], &rd);
    FD_SET(q[1], &wr);
    struct timeval tv = { 0, 0 };
    check_ret(sc(SYS_select, q[1] + 1, &rd, &wr, NULL, &tv), 1, "select: the write end");
    check(!FD_ISSET(q[0], &rd) && FD_ISSET(q[1], &wr), "only the write end is set");
    sc(SYS_write, q[1], "y", 1);
    FD_ZERO(&rd);
    FD_SET(q[0], &rd);
    check_ret(sc(SYS_select, q[0] + 1, &rd, NULL, NULL, NULL), 1, "select: readable after a write");
    check(FD_ISSET(q[0], &rd), "read end set");
    FD_ZERO(&rd);
    FD_SET(20, &rd);
    check_err(sc(SYS_select, 21, &rd, NULL, NULL, &tv), EBADF, "select on a closed fd");
    check_err(sc(SYS_select, -1, NULL, NULL, NULL, &tv), EINVAL, "select nfds -1");
    FD_ZERO(&rd);
    FD_SET(q[0], &rd);
    struct timespec zero = { 0, 0 };
    check_ret(sc(SYS_pselect6, q[0] + 1, &rd, NULL, NULL, &zero, NULL), 1, "pselect6 readable");
    sc(SYS_close, q[0]);
    sc(SYS_close, q[1]);
    sc(SYS_close, fd);
    sc(SYS_unlink, "poll_file");
}

static void test_prctl(void)
{
    char name[16] = { 0 };
    check_ret(sc(SYS_prctl, PR_SET_NAME, "renamed-task-with-long-name"), 0, "PR_SET_NAME");
    check_ret(sc(SYS_prctl, PR_GET_NAME, name), 0, "PR_GET_NAME");
    check(strcmp(name, "renamed-task-wi") == 0, "name truncated to 15 bytes: %s", name);
    char line[64];
    check(slurp("/proc/self/comm") > 0 && find_line("renamed-task-wi", line, sizeof line) &&
              strcmp(line, "renamed-task-wi") == 0,
          "/proc/self/comm shows it");
    check_err(sc(SYS_prctl, PR_SET_NAME, BADPTR), EFAULT, "PR_SET_NAME bad pointer");
    check_ret(sc(SYS_prctl, PR_GET_DUMPABLE), 1, "PR_GET_DUMPABLE");
    check_err(sc(SYS_prctl, PR_SET_DUMPABLE, 2), EINVAL, "PR_SET_DUMPABLE 2");
    check_err(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0), EINVAL, "PR_SET_NO_NEW_PRIVS 0");
    check_ret(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS 1");
    /* Now set in both runs (the sandbox sets it for every guest). */
    check_ret(sc(SYS_prctl, PR_GET_NO_NEW_PRIVS), 1, "PR_GET_NO_NEW_PRIVS");
    check_err(sc(SYS_prctl, 0x7fffffff), EINVAL, "unknown option");
}

int main(void)
{
    test_poll();
    test_prctl();
    return finish();
}
