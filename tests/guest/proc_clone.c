/* proc_clone.c: the raw clone and clone3 syscalls, flag by flag: a plain
 * fork-like clone, glibc's fork flags (CLONE_CHILD_SETTID|
 * CLONE_CHILD_CLEARTID), CLONE_PARENT_SETTID, glibc's thread flags (a
 * thread that is not a child to wait for, woken through
 * CLONE_CHILD_CLEARTID), CLONE_VM|CLONE_VFORK, CLONE_FILES, CLONE_FS,
 * CLONE_SIGHAND, CLONE_PIDFD (poll, waitid P_PIDFD), CLONE_PARENT (from a
 * child: the sandbox's first process is init, which may not use it);
 * clone3 (a plain one, set_tid refused to whoever lacks CAP_SYS_ADMIN over
 * the pid namespace, and its argument checks), and the flag combinations
 * Linux refuses with EINVAL before anything is created. */
#include "proc_util.h"

#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

static volatile int shared_word;

/* The plain ones: no CLONE_VM, so the child goes on from the syscall on
 * a copy of the stack, like fork. */
static void test_forklike(void)
{
    long me = getpid();
    long pid = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(getppid() == me ? 3 : 1);
    check(pid > 0, "clone(SIGCHLD): a child");
    check_wait(pid, "exited 3", "clone(SIGCHLD) child, getppid is the parent");

    /* glibc's fork: the kernel writes the child's tid into the child's
     * copy of the word (CLONE_CHILD_SETTID), not the parent's. */
    static int ctid;
    ctid = -1;
    pid = sc(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, 0, &ctid, 0);
    if (pid == 0)
        _exit(ctid == sc(SYS_gettid) ? 0 : 1);
    check_wait(pid, "exited 0", "CLONE_CHILD_SETTID: the child's word holds its tid");
    check(ctid == -1, "CLONE_CHILD_SETTID: the parent's word is untouched");

    static int ptid;
    ptid = -1;
    pid = sc(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, &ptid, 0, 0);
    if (pid == 0)
        _exit(ptid == -1 ? 0 : 1);
    check(ptid == pid, "CLONE_PARENT_SETTID: the parent's word holds the child's tid");
    /* Written after the memory was copied: the child's copy keeps -1. */
    check_wait(pid, "exited 0", "CLONE_PARENT_SETTID: the child's copy is not written");

    /* CLONE_FILES: one descriptor table. */
    int fd = (int)sc(SYS_open, "/dev/null", O_RDONLY);
    pid = sc(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        sc(SYS_close, fd);
        _exit(sc(SYS_dup2, 0, 40) == 40 ? 0 : 1);
    }
    check_wait(pid, "exited 0", "CLONE_FILES child");
    check_err(sc(SYS_fcntl, fd, F_GETFD), EBADF, "CLONE_FILES: the child's close is seen");
    check_ret(sc(SYS_fcntl, 40, F_GETFD), 0, "CLONE_FILES: the child's dup2 is seen");
    sc(SYS_close, 40);

    /* CLONE_FS: one cwd and umask. */
    mkdir("proc_clone.d", 0755);
    long old = sc(SYS_umask, 022);
    pid = sc(SYS_clone, CLONE_FS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        sc(SYS_umask, 077);
        _exit(sc(SYS_chdir, "proc_clone.d") == 0 ? 0 : 1);
    }
    check_wait(pid, "exited 0", "CLONE_FS child");
    struct stat a, b;
    stat(".", &a);
    check(stat("../proc_clone.d", &b) == 0 && a.st_ino == b.st_ino,
          "CLONE_FS: the child's chdir moved the parent");
    check_ret(sc(SYS_umask, old), 077, "CLONE_FS: the child's umask is the parent's");
    chdir("..");
    rmdir("proc_clone.d");
    /* Without CLONE_FS, a copy. */
    pid = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        sc(SYS_umask, 077);
        _exit(0);
    }
    check_wait(pid, "exited 0", "child with its own umask");
    check_ret(sc(SYS_umask, old), old, "without CLONE_FS the umask is not shared");
}

static int vm_child(void *arg)
{
    shared_word = (int)(long)arg;
    return 5;
}

static int sighand_child(void *arg)
{
    (void)arg;
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } ign = { SIG_IGN, 0, 0, 0 };
    return (int)sc(SYS_rt_sigaction, SIGUSR1, &ign, 0, 8);
}

static int thread_child(void *arg)
{
    volatile long *out_ids = arg;
    out_ids[0] = sc(SYS_gettid);
    out_ids[1] = sc(SYS_getpid);
    out_ids[2] = sc(SYS_getppid);
    return 0;
}

static void test_vm(void)
{
    long me = getpid();
    /* CLONE_VM|CLONE_VFORK: the parent waits for the child's exit. */
    shared_word = 0;
    long pid =
        clone_run(CLONE_VM | CLONE_VFORK | SIGCHLD, new_stack(), 0, 0, 0, vm_child, (void *)7L);
    check(shared_word == 7, "CLONE_VM|CLONE_VFORK: the child's write is seen on return");
    check_wait(pid, "exited 5", "CLONE_VM|CLONE_VFORK child");

    /* CLONE_VM alone: shared memory, waited for as usual. */
    shared_word = 0;
    pid = clone_run(CLONE_VM | SIGCHLD, new_stack(), 0, 0, 0, vm_child, (void *)8L);
    check_wait(pid, "exited 5", "CLONE_VM child");
    check(shared_word == 8, "CLONE_VM: the child's write is seen");

    /* CLONE_SIGHAND: one table of dispositions. */
    pid = clone_run(CLONE_VM | CLONE_SIGHAND | SIGCHLD, new_stack(), 0, 0, 0, sighand_child, 0);
    check_wait(pid, "exited 0", "CLONE_SIGHAND child set SIGUSR1 to SIG_IGN");
    struct sigaction sa;
    sigaction(SIGUSR1, 0, &sa);
    check(sa.sa_handler == SIG_IGN, "CLONE_SIGHAND: the parent's SIGUSR1 is ignored too");
    signal(SIGUSR1, SIG_DFL);

    /* glibc's pthread flags: a thread of this process. */
    static volatile long ids[3];
    static int ptid, ctid;
    ctid = 1;
    long tid = clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, thread_child, (void *)ids);
    check(tid > 0 && ptid == tid, "thread flags: CLONE_PARENT_SETTID holds the tid");
    join_tid(&ctid);
    check(ctid == 0, "CLONE_CHILD_CLEARTID cleared the word at the thread's exit");
    check(ids[0] == tid && tid != me, "the thread's gettid is the returned tid, not the pid");
    check(ids[1] == me, "the thread's getpid is the process's");
    check(ids[2] == getppid(), "the thread's getppid is the process's parent");
    int st;
    check_err(sc(SYS_wait4, tid, &st, __WALL, 0), ECHILD, "a thread is no child to wait for");
}

static void test_pidfd(void)
{
    int p[2];
    pipe(p);
    int pidfd = -1;
    long pid = sc(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (pid == 0) {
        wait_byte(p[0]);
        _exit(6);
    }
    check(pidfd >= 0, "CLONE_PIDFD: a pidfd in the parent_tid word");
    check_ret(sc(SYS_fcntl, pidfd, F_GETFD), FD_CLOEXEC, "the pidfd is close-on-exec");
    struct pollfd pf = { pidfd, POLLIN, 0 };
    check_ret(sc(SYS_poll, &pf, 1, 0), 0, "poll on the pidfd: not readable while it runs");
    send_byte(p[1]);
    pf.revents = 0;
    check_ret(sc(SYS_poll, &pf, 1, -1), 1, "poll on the pidfd once it exits");
    check(pf.revents == POLLIN, "... POLLIN (%#x)", pf.revents);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, 0), 0, "waitid P_PIDFD");
    check(si.si_pid == pid && si.si_status == 6, "waitid P_PIDFD reaped the child");
    sc(SYS_close, pidfd);
    close_pipe(p);

    /* clone3 returns the pidfd through its own field. */
    struct clone_args_v2 ca = { 0 };
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    pidfd = -1;
    pid = sc(SYS_clone3, &ca, 64);
    if (pid == 0)
        _exit(7);
    check(pid > 0 && pidfd >= 0, "clone3 with CLONE_PIDFD");
    memset(&si, 0, sizeof si);
    check_ret(sc(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, 0), 0, "waitid P_PIDFD (clone3)");
    check(si.si_status == 7, "... exited 7");
    sc(SYS_close, pidfd);

    /* clone() passes the pidfd where CLONE_PARENT_SETTID writes. */
    check_err(sc(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0), EINVAL,
              "clone CLONE_PIDFD|CLONE_PARENT_SETTID");
    check_err(
        sc(SYS_clone, CLONE_PIDFD | 0x00400000 /* CLONE_DETACHED */ | SIGCHLD, 0, &pidfd, 0, 0),
        EINVAL, "clone CLONE_PIDFD|CLONE_DETACHED");
}

static void test_parent(void)
{
    /* CLONE_PARENT from a child: the grandchild is this process's child. */
    long me = getpid();
    int p[2];
    pipe(p);
    pid_t mid = fork();
    if (mid == 0) {
        long g = sc(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (g == 0)
            _exit(sc(SYS_getppid) == me ? 21 : 1);
        sc(SYS_write, p[1], &g, sizeof g);
        int st;
        /* Not its own child: nothing to wait for. */
        _exit(sc(SYS_wait4, -1, &st, __WALL, 0) == -ECHILD ? 20 : 1);
    }
    long g = 0;
    read(p[0], &g, sizeof g);
    check_wait(mid, "exited 20", "CLONE_PARENT: the caller has no child");
    check_wait(g, "exited 21", "CLONE_PARENT: the sibling is this process's child");
    close_pipe(p);
}

static void test_clone3(void)
{
    struct clone_args_v2 ca = { 0 };
    ca.exit_signal = SIGCHLD;
    long pid = sc(SYS_clone3, &ca, 64);
    if (pid == 0)
        _exit(8);
    check(pid > 0, "clone3, size 64");
    check_wait(pid, "exited 8", "clone3 child");
    pid = sc(SYS_clone3, &ca, sizeof ca);
    if (pid == 0)
        _exit(9);
    check_wait(pid, "exited 9", "clone3, size 88");

    /* set_tid: CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) over the pid
     * namespace is checked before whether the pid is free: with it, an
     * existing pid (our own) gets EEXIST; without it EPERM. */
    pid_t want = getpid();
    ca.set_tid = (uintptr_t)&want;
    ca.set_tid_size = 1;
    long r = sc(SYS_clone3, &ca, sizeof ca);
    if (r == 0)
        _exit(99);
    /* Root without that capability (a container, or the sandbox if it so
     * chooses) gets EPERM too: for uid 0 either refusal will do. */
    int ok = geteuid() != 0 ? r == -EPERM : r == -EPERM || r == -EEXIST;
    check(ok, "clone3 with set_tid of a pid in use is refused");
    ca.set_tid_size = 33;
    check_err(sc(SYS_clone3, &ca, sizeof ca), EINVAL, "clone3 set_tid_size 33");
    ca.set_tid = 0;
    ca.set_tid_size = 1;
    check_err(sc(SYS_clone3, &ca, sizeof ca), EINVAL, "clone3 set_tid NULL, size 1");
    ca.set_tid = (uintptr_t)&want;
    ca.set_tid_size = 0;
    check_err(sc(SYS_clone3, &ca, sizeof ca), EINVAL, "clone3 set_tid, size 0");
    ca.set_tid = 0;

    /* The structure's checks. */
    check_err(sc(SYS_clone3, &ca, 63), EINVAL, "clone3 size 63");
    check_err(sc(SYS_clone3, &ca, 0), EINVAL, "clone3 size 0");
    check_err(sc(SYS_clone3, BADPTR, 64), EFAULT, "clone3 bad pointer");
    static char big[8192];
    memcpy(big, &ca, sizeof ca);
    big[200] = 1;
    check_err(sc(SYS_clone3, big, 4097), E2BIG, "clone3 size past a page");
    check_err(sc(SYS_clone3, big, 256), E2BIG, "clone3 nonzero bytes past the known fields");
    ca.exit_signal = 65;
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 exit_signal 65");
    ca.exit_signal = SIGCHLD;
    ca.flags = SIGCHLD; /* the exit signal has its own field in clone3 */
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 with CSIGNAL bits in flags");
    ca.flags = 1ULL << 40;
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 with an unknown flag");
    ca.flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND;
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 CLONE_SIGHAND|CLONE_CLEAR_SIGHAND");
    ca.flags = 0;
    ca.stack = (uintptr_t)big;
    ca.stack_size = 0;
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 with a stack of size 0");
    ca.stack = 0;
    ca.stack_size = 4096;
    check_err(sc(SYS_clone3, &ca, 64), EINVAL, "clone3 with a stack size but no stack");
}

/* Combinations refused before anything is created. A mistaken success
 * would run the child on the caller's stack: it exits at once. */
static void try_invalid(unsigned long flags, const char *name)
{
    long r = sc(SYS_clone, flags, 0, 0, 0, 0);
    if (r == 0)
        sc(SYS_exit, 99);
    check_err(r, EINVAL, name);
}

static void test_invalid(void)
{
    try_invalid(CLONE_THREAD | CLONE_VM, "CLONE_THREAD without CLONE_SIGHAND");
    try_invalid(CLONE_SIGHAND, "CLONE_SIGHAND without CLONE_VM");
    try_invalid(CLONE_SIGHAND | CLONE_THREAD, "CLONE_SIGHAND|CLONE_THREAD without CLONE_VM");
    try_invalid(CLONE_FS | CLONE_NEWNS | SIGCHLD, "CLONE_FS|CLONE_NEWNS");
    try_invalid(CLONE_NEWUSER | CLONE_FS | SIGCHLD, "CLONE_NEWUSER|CLONE_FS");
    try_invalid(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWPID,
                "CLONE_THREAD with CLONE_NEWPID");
    try_invalid(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWUSER,
                "CLONE_THREAD with CLONE_NEWUSER");
    int st;
    check_err(sc(SYS_wait4, -1, &st, __WALL | WNOHANG, 0), ECHILD, "no child was created");
}

int main(void)
{
    require_clone();
    test_forklike();
    test_vm();
    test_pidfd();
    test_parent();
    test_clone3();
    test_invalid();
    return finish();
}
