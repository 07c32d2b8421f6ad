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

int main(void)
{
    require_clone();
    no_core();
    pipe(gate);
    pipe(marks);

    pid_t pid = fork();
    if (pid == 0) {
        leader_word = 1;
        sc(SYS_set_tid_address, &leader_word);
        thread(late_exit, (void *)5L, 0);
        sc(SYS_exit, 3); /* the leader alone */
    }
    check_wait(pid, "exited 5", "leader exits 3 first, the last thread 5");
    char c = 0;
    check(sc(SYS_read, marks[0], &c, 1) == 1 && c == 'L',
          "wait returned only after the last thread ran");

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            thread(block_thread, 0, i);
        thread(group_exit, (void *)7L, 3);
        wait_byte(gate[0]);
        _exit(1);
    }
    check_wait(pid, "exited 7", "exit_group(7) from a thread ends the blocked ones");

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 8; i++)
            thread(group_exit, (void *)9L, i);
        wait_byte(gate[0]);
        _exit(1);
    }
    check_wait(pid, "exited 9", "8 threads calling exit_group(9) at once");

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 8; i++)
            thread(futex_thread, 0, i);
        sc(SYS_exit_group, 4);
    }
    check_wait(pid, "exited 4", "the leader's exit_group(4) ends 8 threads in futex waits");

    pid = fork();
    if (pid == 0) {
        long t = thread(block_thread, 0, 0);
        sc(SYS_tgkill, sc(SYS_getpid), t, SIGTERM);
        wait_byte(gate[0]);
        _exit(1);
    }
    check_wait(pid, "killed by SIGTERM", "SIGTERM to one thread kills the process");

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            thread(block_thread, 0, i);
        thread(segv_thread, 0, 3);
        wait_byte(gate[0]);
        _exit(1);
    }
    check_wait(pid, "killed by SIGSEGV", "a fault in one thread kills the process");

    pid = fork();
    if (pid == 0) {
        long t = thread(block_thread, 0, 0);
        sc(SYS_tgkill, sc(SYS_getpid), t, SIGKILL);
        wait_byte(gate[0]);
        _exit(1);
    }
    check_wait(pid, "killed by SIGKILL", "SIGKILL to one thread kills the process");

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 4; i++)
            thread(block_thread, 0, i);
        exit(6);
    }
    check_wait(pid, "exited 6", "exit(6) from main with 4 threads blocked");

    /* A thread's own SYS_exit leaves the others running. */
    pid = fork();
    if (pid == 0) {
        static int ctid;
        ctid = 1;
        static int ptid;
        clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, block_thread, 0);
        send_byte(gate[1]);
        join_tid(&ctid);
        _exit(8);
    }
    check_wait(pid, "exited 8", "a thread's exit leaves the leader running");

    /* Both with SYS_exit, the thread first: the leader's code. */
    pid = fork();
    if (pid == 0) {
        static int ctid, ptid;
        ctid = 1;
        clone_run(THREAD_FLAGS, new_stack(), &ptid, &ctid, 0, thread_exit5, 0);
        join_tid(&ctid);
        sc(SYS_exit, 3);
    }
    check_wait(pid, "exited 3", "thread exits 5 first, then the leader 3");
    return finish();
}
