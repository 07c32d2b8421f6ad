/* proc_exit.c: how a multi-threaded process ends and what its parent's
 * wait sees. Threads are raw clones with glibc's thread flags (no libc
 * bookkeeping), each case in a forked child:
 *  - the leader calls exit (SYS_exit, not exit_group) first: the process
 *    lives on while another thread runs, and wait returns only when the
 *    last thread is gone, with the exit code of that last thread;
 *  - the leader outlives a thread that exits: the leader's code;
 *  - exit_group from a thread while the leader and others block;
 *  - many threads calling exit_group at once, the leader blocked;
 *  - the leader's exit_group while eight threads block in futex waits;
 *  - a fatal signal to one thread (tgkill) kills them all; a fault in a
 *    thread does too;
 *  - musl's exit() from main while threads run. */
#include "proc_util.h"

static int gate[2], marks[2];

static int block_thread(void *arg)
{
    (void)arg;
    wait_byte(gate[0]);
    return 0;
}

/* The leader's clear_child_tid word (set_tid_address): cleared, with a
 * futex wake, when the leader has exited. */
static int leader_word;

static int late_exit(void *arg)
{
    /* Outlives the leader, then leaves a mark and exits. */
    join_tid(&leader_word);
    sc(SYS_write, marks[1], "L", 1);
    return (int)(long)arg;
}

static int group_exit(void *arg)
{
    sc(SYS_exit_group, (long)arg);
    return 0;
}

static int thread_exit5(void *arg)
{
    (void)arg;
    return 5; /* clone_run's SYS_exit(5) */
}

static int futex_word;
static int futex_thread(void *arg)
{
    (void)arg;
    for (;;)
        sc(SYS_futex, &futex_word, 0 /* FUTEX_WAIT */, 0, 0);
    return 0;
}

static int segv_thread(void *arg)
{
    (void)arg;
    *(volatile int *)0 = 0;
    return 0;
}

static int ids[64];
static long thread(int (*fn)(void *), void *arg, int i)
{
    static int ptid;
    return clone_run(THREAD_FLAGS, new_stack(), &ptid, &ids[i], 0, fn, arg);
}

/* The children, one a case; each ends the process its own way. */
static void leader_exits_first(long code)
{
    leader_word = 1;
    sc(SYS_set_tid_address, &leader_word);
    thread(late_exit, (void *)5L, 0);
    sc(SYS_exit, code); /* the leader alone */
}

static void thread_group_exits(long code)
{
    for (int i = 0; i < 3; i++)
        thread(block_thread, 0, i);
    thread(group_exit, (void *)code, 3);
    wait_byte(gate[0]);
    _exit(1);
}

static void threads_group_exit(long code)
{
    for (int i = 0; i < 8; i++)
        thread(group_exit, (void *)code, i);
    wait_byte(gate[0]);
    _exit(1);
}

static void leader_group_exits(long code)
{
    for (int i = 0; i < 8; i++)
        thread(futex_thread, 0, i);
    sc(SYS_exit_group, code);
}

static void signal_to_thread(long sig)
{
    long t = thread(block_thread, 0, 0);
    sc(SYS_tgkill, sc(SYS_getpid), t, sig);
    wait_byte(gate[0]);
    _exit(1);
}

static void thread_faults(long unused)
{
    (void)unused;
    for (int i = 0; i < 3; i++)
        thread(block_thread, 0, i);
    thread(segv_thread, 0, 3);
    wait_byte(gate[0]);
    _exit(1);
}

static void main_exits(long code)
{
    for (int i = 0; i < 4; i++)
        thread(block_thread, 0, i);
    exit((int)code);
}

/* A thread's own SYS_exit leaves the others running. */
static void thread_exits_leader_runs(long code)
{
    static int ctid;
    ctid = 1;
    static int ptid;
    clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, block_thread, 0);
    send_byte(gate[1]);
    join_tid(&ctid);
    _exit((int)code);
}

/* Both with SYS_exit, the thread first: the leader's code. */
static void thread_then_leader(long code)
{
    static int ctid, ptid;
    ctid = 1;
    clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, thread_exit5, 0);
    join_tid(&ctid);
    sc(SYS_exit, code);
}

/* Runs child(arg) in a forked child; its wait status must read want. */
static void expect_child(void (*child)(long), long arg, const char *want, const char *what)
{
    pid_t pid = fork();
    if (pid == 0) {
        child(arg);
        _exit(99); /* not reached: every child ends its process */
    }
    check_wait(pid, want, what);
}

int main(void)
{
    static const struct {
        void (*child)(long);
        long arg;
        const char *want, *what;
    } cases[] = {
        { thread_group_exits, 7, "exited 7", "exit_group(7) from a thread ends the blocked ones" },
        { threads_group_exit, 9, "exited 9", "8 threads calling exit_group(9) at once" },
        { leader_group_exits, 4, "exited 4",
          "the leader's exit_group(4) ends 8 threads in futex waits" },
        { signal_to_thread, SIGTERM, "killed by SIGTERM",
          "SIGTERM to one thread kills the process" },
        { thread_faults, 0, "killed by SIGSEGV", "a fault in one thread kills the process" },
        { signal_to_thread, SIGKILL, "killed by SIGKILL",
          "SIGKILL to one thread kills the process" },
        { main_exits, 6, "exited 6", "exit(6) from main with 4 threads blocked" },
        { thread_exits_leader_runs, 8, "exited 8", "a thread's exit leaves the leader running" },
        { thread_then_leader, 3, "exited 3", "thread exits 5 first, then the leader 3" },
    };

    require_clone();
    no_core();
    two_pipes(gate, marks);

    expect_child(leader_exits_first, 3, "exited 5", "leader exits 3 first, the last thread 5");
    char c = 0;
    check(sc(SYS_read, marks[0], &c, 1) == 1 && c == 'L',
          "wait returned only after the last thread ran");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_child(cases[i].child, cases[i].arg, cases[i].want, cases[i].what);
    return finish();
}
