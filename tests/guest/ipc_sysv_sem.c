/* ipc_sysv_sem.c: System V semaphores: semget's keys, sizes and flags,
 * semop's atomic operation sets (wait for zero, decrease, increase),
 * IPC_NOWAIT, semtimedop's timeout (EAGAIN), SEM_UNDO applied when a
 * process exits, semctl's GETVAL, SETVAL, GETALL, SETALL, GETPID,
 * GETNCNT, GETZCNT, IPC_STAT, IPC_SET and IPC_RMID, permissions, bad
 * pointers, and sleepers woken by another process, a signal (EINTR) or
 * removal (EIDRM). GETNCNT and GETZCNT tell when a child sleeps, so no
 * wake-up here depends on timing. */
#include "ipc_util.h"

#define GETPID_ 11
#define GETVAL_ 12
#define GETALL_ 13
#define GETNCNT_ 14
#define GETZCNT_ 15
#define SETVAL_ 16
#define SETALL_ 17
#define SEM_UNDO_ 0x1000

struct k_sembuf {
    uint16_t num;
    int16_t op, flg;
};

struct k_semid64 {
    struct k_ipc64_perm perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems, unused3, unused4;
};

struct k_seminfo {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};

static long op1(int id, int num, int op, int flg)
{
    struct k_sembuf b = { (uint16_t)num, (int16_t)op, (int16_t)flg };
    return sc(SYS_semop, id, &b, 1);
}

static long val(int id, int num)
{
    return sc(SYS_semctl, id, num, GETVAL_, 0);
}

/* Waits until semaphore num of id has n sleepers of the kind cmd counts. */
static void wait_cnt(int id, int num, int cmd, long n)
{
    for (int i = 0; i < 20000 && sc(SYS_semctl, id, num, cmd, 0) != n; i++)
        ms_sleep(1);
}

static void test_get(void)
{
    int32_t key = ipc_key(2);
    check_err(sc(SYS_semget, key, 0, K_IPC_CREAT | 0600), EINVAL, "semget of 0 semaphores");
    check_err(sc(SYS_semget, key, -1, K_IPC_CREAT | 0600), EINVAL, "semget of -1 semaphores");
    check_err(sc(SYS_semget, key, 32001, K_IPC_CREAT | 0600), EINVAL, "semget past semmsl");
    long id = check_sized_get(SYS_semget, "semget", key, 3, 2);
    struct k_semid64 ds;
    check_ret(sc(SYS_semctl, id, 0, K_IPC_STAT, &ds), 0, "semctl(IPC_STAT)");
    check_eq(sc(SYS_semctl, id & 0x7fff, 0, 18 /* SEM_STAT */, &ds), id,
             "SEM_STAT by index: the id");
    check(ds.nsems == 3 && (ds.perm.mode & 0777) == 0600 && ds.perm.cuid == geteuid() &&
              ds.otime == 0 && ds.ctime > 0,
          "IPC_STAT: 3 semaphores, mode %o, no semop yet", ds.perm.mode & 0777);
    ds.perm.mode = 0660;
    check_ret(sc(SYS_semctl, id, 0, K_IPC_SET, &ds), 0, "semctl(IPC_SET) mode 0660");
    memset(&ds, 0, sizeof(ds));
    sc(SYS_semctl, id, 0, K_IPC_STAT, &ds);
    check((ds.perm.mode & 0777) == 0660, "IPC_STAT shows mode %o", ds.perm.mode & 0777);
    check_err(sc(SYS_semctl, id, 0, K_IPC_STAT, BADPTR), EFAULT, "IPC_STAT to a bad pointer");
    check_err(sc(SYS_semctl, id, 0, K_IPC_SET, BADPTR), EFAULT, "IPC_SET from a bad pointer");
    check_ret(sc(SYS_semctl, id, 0, K_IPC_RMID, 0), 0, "semctl(IPC_RMID)");
    check_err(sc(SYS_semget, key, 0, 0), ENOENT, "semget(key) after IPC_RMID");
    check_err(val((int)id, 0), EINVAL, "GETVAL of a removed set");
    check_err(op1((int)id, 0, 1, 0), EINVAL, "semop on a removed set");
    check_err(sc(SYS_semctl, -1, 0, GETVAL_, 0), EINVAL, "semctl(-1)");

    struct k_seminfo si;
    long mx = sc(SYS_semctl, 0, 0, K_IPC_INFO, &si);
    check(mx >= 0 && si.semmsl == 32000 && si.semopm == 500 && si.semvmx == 32767 &&
              si.semaem == 32767,
          "IPC_INFO: semmsl %d semopm %d semvmx %d semaem %d", si.semmsl, si.semopm, si.semvmx,
          si.semaem);
}

static void test_ops(void)
{
    int id = (int)sc(SYS_semget, IPC_PRIVATE, 3, 0600);
    check_ret(val(id, 0), 0, "a new semaphore is 0");
    check_ret(sc(SYS_semctl, id, 1, SETVAL_, 5), 0, "SETVAL 5");
    check_ret(val(id, 1), 5, "GETVAL");
    check_eq(sc(SYS_semctl, id, 1, GETPID_, 0), getpid(), "GETPID: the setter");
    check_err(sc(SYS_semctl, id, 1, SETVAL_, 32768), ERANGE, "SETVAL 32768");
    check_err(sc(SYS_semctl, id, 1, SETVAL_, -1), ERANGE, "SETVAL -1");
    check_err(sc(SYS_semctl, id, 3, SETVAL_, 1), EINVAL, "SETVAL of semaphore 3 of 3");
    check_err(sc(SYS_semctl, id, 3, GETVAL_, 0), EINVAL, "GETVAL of semaphore 3 of 3");
    check_err(sc(SYS_semctl, id, -1, GETVAL_, 0), EINVAL, "GETVAL of semaphore -1");
    unsigned short all[3] = { 1, 2, 3 }, got[3] = { 0 };
    check_ret(sc(SYS_semctl, id, 0, SETALL_, all), 0, "SETALL 1 2 3");
    check_ret(sc(SYS_semctl, id, 0, GETALL_, got), 0, "GETALL");
    check(got[0] == 1 && got[1] == 2 && got[2] == 3, "GETALL: %u %u %u", got[0], got[1], got[2]);
    unsigned short bad[3] = { 1, 40000, 3 };
    check_err(sc(SYS_semctl, id, 0, SETALL_, bad), ERANGE, "SETALL with 40000");
    check_err(sc(SYS_semctl, id, 0, SETALL_, BADPTR), EFAULT, "SETALL from a bad pointer");
    check_err(sc(SYS_semctl, id, 0, GETALL_, BADPTR), EFAULT, "GETALL to a bad pointer");
    check_err(sc(SYS_semctl, id, 0, 99, 0), EINVAL, "semctl of an unknown command");

    /* A set of operations is done whole or not at all. */
    struct k_sembuf ops[3] = { { 0, -1, 0 }, { 1, -2, 0 }, { 2, -4, K_IPC_NOWAIT } };
    check_err(sc(SYS_semop, id, ops, 3), EAGAIN, "semop that cannot be done whole (IPC_NOWAIT)");
    sc(SYS_semctl, id, 0, GETALL_, got);
    check(got[0] == 1 && got[1] == 2 && got[2] == 3, "nothing changed: %u %u %u", got[0], got[1],
          got[2]);
    ops[2].op = -3;
    check_ret(sc(SYS_semop, id, ops, 3), 0, "semop of the three together");
    sc(SYS_semctl, id, 0, GETALL_, got);
    check(got[0] == 0 && got[1] == 0 && got[2] == 0, "all 0 now: %u %u %u", got[0], got[1], got[2]);
    check_ret(op1(id, 0, 0, 0), 0, "wait for zero on 0 goes through");
    check_err(op1(id, 0, -1, K_IPC_NOWAIT), EAGAIN, "decrease of 0 with IPC_NOWAIT");
    sc(SYS_semctl, id, 0, SETVAL_, 1);
    check_err(op1(id, 0, 0, K_IPC_NOWAIT), EAGAIN, "wait for zero on 1 with IPC_NOWAIT");
    sc(SYS_semctl, id, 0, SETVAL_, 32767);
    check_err(op1(id, 0, 1, 0), ERANGE, "increase past semvmx");
    /* Two operations on one semaphore add up. */
    struct k_sembuf twice[2] = { { 1, 2, 0 }, { 1, -1, 0 } };
    check_ret(sc(SYS_semop, id, twice, 2), 0, "+2 then -1 on one semaphore");
    check_ret(val(id, 1), 1, "it is 1");

    struct k_semid64 ds;
    sc(SYS_semctl, id, 0, K_IPC_STAT, &ds);
    check(ds.otime > 0, "IPC_STAT: otime set by semop");
    struct k_sembuf one = { 0, -1, 0 };
    check_err(sc(SYS_semop, id, &one, 0), EINVAL, "semop of 0 operations");
    check_err(sc(SYS_semop, id, &one, 501), E2BIG, "semop of 501 operations");
    check_err(sc(SYS_semop, id, BADPTR, 1), EFAULT, "semop from a bad pointer");
    struct k_sembuf far = { 3, 1, 0 };
    check_err(sc(SYS_semop, id, &far, 1), EFBIG, "semop on semaphore 3 of 3");
    check_err(sc(SYS_semop, -1, &one, 1), EINVAL, "semop on id -1");
    struct timespec bad_ts = { 0, 1000000000L };
    check_err(sc(SYS_semtimedop, id, &one, 1, &bad_ts), EINVAL, "semtimedop with tv_nsec 1e9");
    check_err(sc(SYS_semtimedop, id, &one, 1, BADPTR), EFAULT,
              "semtimedop with a bad timeout pointer");
    sc(SYS_semctl, id, 2, SETVAL_, 0);
    struct k_sembuf dec2 = { 2, -1, 0 };
    struct timespec ts = { 0, 50000000L };
    check_err(sc(SYS_semtimedop, id, &dec2, 1, &ts), EAGAIN, "semtimedop times out: EAGAIN");
    ts.tv_nsec = 0;
    check_err(sc(SYS_semtimedop, id, &dec2, 1, &ts), EAGAIN, "semtimedop with a zero timeout");
    sc(SYS_semctl, id, 0, K_IPC_RMID, 0);
}

static void test_undo(void)
{
    int id = (int)sc(SYS_semget, IPC_PRIVATE, 2, 0600);
    sc(SYS_semctl, id, 0, SETVAL_, 3);
    pid_t c = fork_checked();
    if (c == 0) {
        check_ret(op1(id, 0, -2, SEM_UNDO_), 0, "child: -2 with SEM_UNDO");
        check_ret(op1(id, 1, 4, SEM_UNDO_), 0, "child: +4 with SEM_UNDO");
        check_ret(op1(id, 1, 1, 0), 0, "child: +1 without");
        check_ret(val(id, 0), 1, "child: semaphore 0 is 1");
        child_done();
    }
    check_wait(c, "exited 0", "child with undo records");
    check_ret(val(id, 0), 3, "its -2 was undone at exit");
    check_ret(val(id, 1), 1, "its +4 was undone, its +1 stays");
    check_eq(sc(SYS_semctl, id, 0, GETPID_, 0), c, "GETPID: the exited child (undo)");

    /* An undo that would go below 0 stops at 0; SETVAL clears undo. */
    c = fork_checked();
    if (c == 0) {
        op1(id, 1, 5, SEM_UNDO_); /* 6 */
        sc(SYS_semctl, id, 1, SETVAL_, 2);
        op1(id, 0, 2, SEM_UNDO_); /* 5, undo -2 */
        sc(SYS_semctl, id, 0, SETVAL_, 1);
        op1(id, 0, 1, SEM_UNDO_); /* 2, undo -1 */
        sc(SYS_semctl, id, 1, SETVAL_, 0);
        child_done();
    }
    check_wait(c, "exited 0", "second child");
    check_ret(val(id, 0), 1, "undo after SETVAL of the same semaphore: only the later op");
    check_ret(val(id, 1), 0, "SETVAL dropped the undo of semaphore 1");
    c = fork_checked();
    if (c == 0) {
        op1(id, 0, 3, SEM_UNDO_); /* 4, undo -3 */
        op1(id, 0, -4, 0);        /* 0 */
        child_done();
    }
    check_wait(c, "exited 0", "third child");
    check_ret(val(id, 0), 0, "an undo below 0 stops at 0");
    sc(SYS_semctl, id, 0, K_IPC_RMID, 0);
}

static volatile int got_sig;
static void on_sig(int s)
{
    got_sig = s;
}

static void test_blocking(void)
{
    int id = (int)sc(SYS_semget, IPC_PRIVATE, 2, 0600);
    pid_t c = fork_checked();
    if (c == 0) {
        check_ret(op1(id, 0, -2, 0), 0, "child: a blocked decrease goes through");
        child_done();
    }
    wait_cnt(id, 0, GETNCNT_, 1);
    check_ret(sc(SYS_semctl, id, 0, GETNCNT_, 0), 1, "GETNCNT: one waiting to decrease");
    check_ret(sc(SYS_semctl, id, 0, GETZCNT_, 0), 0, "GETZCNT: none");
    op1(id, 0, 1, 0);
    check_ret(sc(SYS_semctl, id, 0, GETNCNT_, 0), 1, "+1 is not enough");
    op1(id, 0, 1, 0);
    check_wait(c, "exited 0", "decreaser woken");
    check_ret(val(id, 0), 0, "it took both");

    sc(SYS_semctl, id, 1, SETVAL_, 1);
    c = fork_checked();
    if (c == 0) {
        check_ret(op1(id, 1, 0, 0), 0, "child: a wait for zero goes through");
        child_done();
    }
    wait_cnt(id, 1, GETZCNT_, 1);
    check_ret(sc(SYS_semctl, id, 1, GETZCNT_, 0), 1, "GETZCNT: one waiting for zero");
    op1(id, 1, -1, 0);
    check_wait(c, "exited 0", "zero waiter woken");

    /* A handled signal: EINTR, never restarted. */
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, 0);
    c = fork_checked();
    if (c == 0) {
        check_err(op1(id, 0, -1, 0), EINTR, "child: semop interrupted by a handled signal");
        check(got_sig == SIGUSR1, "child: the handler ran");
        child_done();
    }
    wait_cnt(id, 0, GETNCNT_, 1);
    kill(c, SIGUSR1);
    check_wait(c, "exited 0", "interrupted semop");
    check_ret(sc(SYS_semctl, id, 0, GETNCNT_, 0), 0, "no one waits any more");

    /* Removal: EIDRM. */
    c = fork_checked();
    if (c == 0) {
        struct timespec ts = { 60, 0 };
        struct k_sembuf b = { 0, -1, 0 };
        check_err(sc(SYS_semtimedop, id, &b, 1, &ts), EIDRM, "child: semtimedop on a removed set");
        child_done();
    }
    wait_cnt(id, 0, GETNCNT_, 1);
    long rm = sc(SYS_semctl, id, 0, K_IPC_RMID, 0);
    check_wait(c, "exited 0", "sleeper woken by removal");
    check_ret(rm, 0, "IPC_RMID with a sleeper");
}

/* As another user, without write permission. */
static void perms_child(int id, int root)
{
    struct k_semid64 ds;
    if (root) {
        check_err(val(id, 0), EACCES, "mode 0400 of another user: GETVAL");
        check_err(sc(SYS_semctl, id, 0, K_IPC_STAT, &ds), EACCES, "IPC_STAT");
        check_err(sc(SYS_semctl, id, 0, K_IPC_RMID, 0), EPERM, "IPC_RMID by another user");
    } else {
        check_ret(val(id, 0), 0, "mode 0400 of the owner: GETVAL");
    }
    check_err(sc(SYS_semctl, id, 0, SETVAL_, 1), EACCES, "SETVAL without write permission");
    check_err(op1(id, 0, 1, 0), EACCES, "semop +1 without write permission");
}

static void test_perms(void)
{
    int id = (int)sc(SYS_semget, IPC_PRIVATE, 1, 0400);
    as_nobody(perms_child, id, "a child without permission");
    sc(SYS_semctl, id, 0, K_IPC_RMID, 0);
}

int main(void)
{
    test_get();
    test_ops();
    test_undo();
    test_blocking();
    test_perms();
    return finish();
}
