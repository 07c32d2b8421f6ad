/* ids.c: process and credential ids: pid 1 / ppid 0 / tid == pid in the
 * sandbox, the host's uid/gid values in both runs. */
#include "guest.h"

#include <unistd.h>

int main(void)
{
    long pid = sc(SYS_getpid), tid = sc(SYS_gettid), ppid = sc(SYS_getppid);
    if (sandboxed()) {
        check(pid == 1, "getpid is the expected value");
        check(ppid == 0, "getppid is the expected value");
    } else {
        check(pid > 1, "getpid is the expected value");
        check(ppid > 0, "getppid is the expected value");
    }
    check(tid == pid, "gettid equals getpid in the main thread");
    check(getpid() == pid, "libc getpid agrees");
    check(getppid() == ppid, "libc getppid agrees");
    check(sc(SYS_getpid) == pid, "getpid is stable");

    long uid = sc(SYS_getuid), euid = sc(SYS_geteuid);
    long gid = sc(SYS_getgid), egid = sc(SYS_getegid);
    check(uid >= 0 && gid >= 0 && euid >= 0 && egid >= 0, "ids are not errors");
    check(uid == euid, "getuid equals geteuid");
    check(gid == egid, "getgid equals getegid");
    check(getuid() == (uid_t)uid && getgid() == (gid_t)gid, "libc uid/gid agree");
    out("uid=%ld euid=%ld gid=%ld egid=%ld\n", uid, euid, gid, egid);
    return finish();
}
