/* proc_files.c: descriptor tables shared between processes (CLONE_FILES):
 * close_range(CLOSE_RANGE_UNSHARE) closes in a copy of its own, a plain
 * close_range in the shared table. */
#include "proc_util.h"

#define CLOSE_RANGE_UNSHARE_ 2

int main(void)
{
    require_clone();
    int fd = (int)sc(SYS_open, "/dev/null", O_RDONLY);
    check(fd >= 0, "open /dev/null");
    long pid = sc(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(sc(SYS_close_range, fd, fd, CLOSE_RANGE_UNSHARE_) == 0 ? 0 : 1);
    check_wait(pid, "exited 0", "close_range(UNSHARE) in a CLONE_FILES child");
    check_ret(sc(SYS_fcntl, fd, F_GETFD), 0, "the parent's descriptor is still open");
    pid = sc(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(sc(SYS_close_range, fd, fd, 0) == 0 ? 0 : 1);
    check_wait(pid, "exited 0", "close_range in a CLONE_FILES child");
    check_err(sc(SYS_fcntl, fd, F_GETFD), EBADF, "closed in the shared table");
    return finish();
}
