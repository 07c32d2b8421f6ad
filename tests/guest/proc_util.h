/* proc_util.h: helpers the process and thread tests share: wait-status
 * and signal names (libc's strsignal differs between musl and glibc), signal
 * sets, a blocking wait, a child that reports its checks through its exit status,
 * /proc/PID/stat fields, and a raw clone that runs a function on its own
 * stack (for CLONE_VM children and threads libc knows nothing about). */
#ifndef PROC_UTIL_H
#define PROC_UTIL_H

#include "guest.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif

static inline const char *sig_name(int s)
{
    static const char *const n[] = {
        "0",         "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
    };
    static char other[2][16];
    static int slot;
    if (s >= 0 && s < (int)(sizeof n / sizeof n[0]))
        return n[s];
    char *b = other[slot ^= 1];
    snprintf(b, sizeof other[0], "SIG%d", s);
    return b;
}

/* "exited 3", "killed by SIGSEGV", "killed by SIGABRT (core)",
 * "stopped by SIGSTOP", "continued", or the raw number. */
static inline const char *status_name(int st)
{
    static char b[2][48];
    static int slot;
    char *p = b[slot ^= 1];
    if (WIFEXITED(st))
        snprintf(p, sizeof b[0], "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(p, sizeof b[0], "killed by %s%s", sig_name(WTERMSIG(st)),
                 WCOREDUMP(st) ? " (core)" : "");
    else if (WIFSTOPPED(st))
        snprintf(p, sizeof b[0], "stopped by %s", sig_name(WSTOPSIG(st)));
    else if (WIFCONTINUED(st))
        snprintf(p, sizeof b[0], "continued");
    else
        snprintf(p, sizeof b[0], "status %#x", st);
    return p;
}

/* waitpid through the raw syscall, retrying EINTR; -errno on failure. */
static inline long wait_raw(long pid, int *st, int opts)
{
    long r;
    do
        r = sc(SYS_wait4, pid, st, opts, 0);
    while (r == -EINTR);
    return r;
}

/* Like check_ret, for values that differ between runs (pids): the line
 * names the value only when it is wrong. */
static inline int check_eq(long r, long want, const char *name)
{
    g_checks++;
    if (r == want) {
        out("ok   %s\n", name);
        return 1;
    }
    g_failed++;
    out("FAIL %s -> %s\n", name, ret_name(r));
    return 0;
}

/* Waits for pid and checks its status reads as want ("exited 0"). */
static inline int check_wait(long pid, const char *want, const char *what)
{
    int st = 0;
    long r = wait_raw(pid, &st, __WALL);
    if (r != pid) {
        g_checks++;
        g_failed++;
        out("FAIL %s: wait4 -> %s\n", what, ret_name(r));
        return 0;
    }
    const char *got = status_name(st);
    if (strcmp(got, want) == 0)
        return check(1, "%s: %s", what, want);
    return check(0, "%s: %s, want %s", what, got, want);
}

/* A failed fork ends the test at once: the rest would wait for a child
 * that does not exist (the sandbox before it had fork: ENOSYS). */
static inline pid_t must_fork(void)
{
    pid_t pid = (fork)();
    if (pid < 0) {
        out("FAIL fork -> -%s: giving up\n", errno_name(errno));
        _exit(1);
    }
    return pid;
}
#define fork() must_fork()

/* The same for the raw clone syscall, tried once at the start. */
static inline void require_clone(void)
{
    long r = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    if (r < 0) {
        out("FAIL clone -> %s: giving up\n", ret_name(r));
        _exit(1);
    }
    int st;
    sc(SYS_wait4, r, &st, 0, 0);
}

/* Two pipes, a and b (one each way between a parent and its child). */
static inline void two_pipes(int a[2], int b[2])
{
    pipe(a);
    pipe(b);
}

/* fork for a child that runs checks of its own: it starts counting
 * afresh, so that a failure before the fork is not reported twice. */
static inline pid_t fork_checked(void)
{
    pid_t pid = fork();
    if (pid == 0)
        g_checks = g_failed = 0;
    return pid;
}

/* The end of a child that ran checks of its own (see fork_checked): its
 * exit status says whether they passed (check_wait wants "exited 0"). */
static inline __attribute__((noreturn)) void child_done(void)
{
    _exit(g_failed ? 1 : 0);
}

/* A child's core dump must not depend on the environment: no core file. */
static inline void no_core(void)
{
    struct rlimit r = { 0, 0 };
    setrlimit(RLIMIT_CORE, &r);
}

/* Reads one byte from fd (blocking): the usual "go" from the other side.
 * Returns 1 on a byte, 0 on EOF, -errno on error. */
static inline long wait_byte(int fd)
{
    char c;
    long r;
    do
        r = sc(SYS_read, fd, &c, 1);
    while (r == -EINTR);
    return r;
}

/* A child without a core file that sleeps until fd gives a byte or EOF,
 * then exits 0: a target for signals. */
static inline pid_t fork_sleeper(int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        no_core();
        wait_byte(fd);
        _exit(0);
    }
    return pid;
}

static inline void send_byte(int fd)
{
    char c = 'x';
    sc(SYS_write, fd, &c, 1);
}

/* The set of signals a and b (0: none). */
static inline sigset_t sigset_of(int a, int b)
{
    sigset_t s;
    sigemptyset(&s);
    if (a)
        sigaddset(&s, a);
    if (b)
        sigaddset(&s, b);
    return s;
}

/* Closes both ends of a pipe. */
static inline void close_pipe(const int p[2])
{
    close(p[0]);
    close(p[1]);
}

/* /proc/PID/stat: the state letter (or '?') and the Nth field after the
 * command (field 3 is the state, 4 ppid, 5 pgrp, 6 session). */
static inline long proc_stat_field(long pid, int field, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = (int)sc(SYS_open, path, O_RDONLY | O_CLOEXEC);
    if (state)
        *state = '?';
    if (fd < 0)
        return fd;
    long n = sc(SYS_read, fd, buf, sizeof buf - 1);
    sc(SYS_close, fd);
    if (n <= 0)
        return -EIO;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -EIO;
    p += 2;
    if (state)
        *state = *p;
    for (int f = 3; f < field; f++) {
        p = strchr(p, ' ');
        if (!p)
            return -EIO;
        p++;
    }
    return strtol(p, NULL, 10);
}

/* clone_run: the raw clone syscall with a new stack on which the child
 * calls fn(arg) and then exits (SYS_exit) with its return value. The child
 * shares the caller's TLS unless CLONE_SETTLS says otherwise, so fn must
 * keep to raw syscalls when memory is shared (no errno, no stdio).
 * Returns the child's tid or -errno in the parent. */
long clone_run(unsigned long flags, void *stack_top, int *ptid, int *ctid, unsigned long tls,
               int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl clone_run\n"
        ".type clone_run,@function\n"
        "clone_run:\n"
        "    mov 8(%rsp), %rax\n" /* arg, the 7th argument */
        "    and $-16, %rsi\n"
        "    sub $16, %rsi\n"
        "    mov %r9, (%rsi)\n"   /* fn */
        "    mov %rax, 8(%rsi)\n" /* arg */
        "    mov %rcx, %r10\n"    /* ctid */
        "    mov $56, %eax\n"     /* SYS_clone */
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %ebp, %ebp\n"
        "    pop %rax\n"
        "    pop %rdi\n"
        "    call *%rax\n"
        "    mov %eax, %edi\n"
        "    mov $60, %eax\n" /* SYS_exit */
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n"
        ".size clone_run, .-clone_run\n");

/* A stack for clone_run children: a fresh mapping, returned by its top. */
#include <sys/mman.h>
static inline void *new_stack(void)
{
    const size_t size = 256 * 1024;
    char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return p == MAP_FAILED ? NULL : p + size;
}

/* The flags glibc's pthread_create passes to clone, less CLONE_SETTLS
 * (clone_run children share the TLS of their creator). */
#define THREAD_FLAGS                                                                               \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |            \
     CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

/* Waits until a CLONE_CHILD_CLEARTID word is cleared by the thread's exit. */
static inline void join_tid(volatile int *ctid)
{
    int v;
    while ((v = *ctid) != 0)
        sc(SYS_futex, ctid, 0 /* FUTEX_WAIT */, v, 0);
}

#endif
