/* ipc_sysv_msg.c: System V message queues: msgget's keys and flags,
 * msgsnd and msgrcv with every kind of msgtyp (0, > 0, < 0, MSG_EXCEPT,
 * MSG_COPY), MSG_NOERROR and E2BIG, IPC_NOWAIT, msgctl's IPC_STAT,
 * IPC_SET, IPC_RMID and IPC_INFO, permissions, bad pointers, and
 * receivers and senders that block until another process wakes them (or
 * removes the queue: EIDRM). */
#include "ipc_util.h"

#include <sys/mman.h>

#define MSG_NOERROR_ 010000
#define MSG_EXCEPT_ 020000
#define MSG_COPY_ 040000
#define MSG_INFO_ 12

struct k_msqid64 {
    struct k_ipc64_perm perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};

struct k_msginfo {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};

struct kmsg {
    long type;
    char text[64];
};

static long snd(int id, long type, const char *text, int flags)
{
    struct kmsg m = { type, { 0 } };
    size_t n = strlen(text);
    memcpy(m.text, text, n);
    return sc(SYS_msgsnd, id, &m, n, flags);
}

/* Receives into m (text NUL-terminated); the length or -errno. */
static long rcv(int id, struct kmsg *m, size_t sz, long type, int flags)
{
    memset(m, 0, sizeof(*m));
    return sc(SYS_msgrcv, id, m, sz, type, flags);
}

static void check_rcv(int id, long type, int flags, long want_type, const char *want,
                      const char *what)
{
    struct kmsg m;
    long r = rcv(id, &m, sizeof(m.text) - 1, type, flags);
    check(r == (long)strlen(want) && m.type == want_type && strcmp(m.text, want) == 0,
          "%s -> type %ld \"%s\" (%s)", what, m.type, m.text, ret_name(r));
}

static void test_get(void)
{
    int32_t key = ipc_key(1);
    check_err(sc(SYS_msgget, key, 0600), ENOENT, "msgget(key) without IPC_CREAT");
    long id = sc(SYS_msgget, key, K_IPC_CREAT | 0600);
    check(id >= 0, "msgget(key, IPC_CREAT)");
    check_eq(sc(SYS_msgget, key, 0), id, "msgget(key) again finds it");
    check_eq(sc(SYS_msgget, key, K_IPC_CREAT | 0600), id, "msgget(key, IPC_CREAT) finds it");
    check_err(sc(SYS_msgget, key, K_IPC_CREAT | K_IPC_EXCL | 0600), EEXIST,
              "msgget(key, IPC_CREAT|IPC_EXCL) of an existing one");
    long p1 = sc(SYS_msgget, IPC_PRIVATE, 0600), p2 = sc(SYS_msgget, IPC_PRIVATE, 0600);
    check(p1 >= 0 && p2 >= 0 && p1 != p2 && p1 != id, "IPC_PRIVATE makes a new queue each time");
    check_ret(sc(SYS_msgctl, id, K_IPC_RMID, 0), 0, "msgctl(IPC_RMID)");
    check_err(sc(SYS_msgget, key, 0), ENOENT, "msgget(key) after IPC_RMID");
    check_err(sc(SYS_msgctl, id, K_IPC_RMID, 0), EINVAL, "msgctl(IPC_RMID) of a removed id");
    check_err(snd((int)id, 1, "x", 0), EINVAL, "msgsnd to a removed id");
    sc(SYS_msgctl, p1, K_IPC_RMID, 0);
    sc(SYS_msgctl, p2, K_IPC_RMID, 0);
    check_err(sc(SYS_msgctl, -1, K_IPC_STAT, 0), EINVAL, "msgctl(-1, IPC_STAT)");
}

static void test_types(void)
{
    int id = (int)sc(SYS_msgget, IPC_PRIVATE, 0600);
    snd(id, 3, "three", 0);
    snd(id, 1, "one", 0);
    snd(id, 2, "two", 0);
    snd(id, 1, "uno", 0);
    snd(id, 5, "five", 0);
    struct k_msqid64 ds;
    check_ret(sc(SYS_msgctl, id, K_IPC_STAT, &ds), 0, "msgctl(IPC_STAT)");
    check_eq(sc(SYS_msgctl, id & 0x7fff, 11 /* MSG_STAT */, &ds), id, "MSG_STAT by index: the id");
    check(ds.qnum == 5 && ds.cbytes == 18 && ds.qbytes == 16384,
          "IPC_STAT: qnum %lu cbytes %lu qbytes %lu", (unsigned long)ds.qnum,
          (unsigned long)ds.cbytes, (unsigned long)ds.qbytes);
    check((ds.perm.mode & 0777) == 0600 && ds.perm.uid == geteuid() && ds.perm.cuid == geteuid() &&
              ds.perm.key == 0,
          "IPC_STAT: mode %o, owner and creator are the caller, key 0", ds.perm.mode);
    check(ds.lspid == getpid() && ds.lrpid == 0 && ds.stime > 0 && ds.rtime == 0,
          "IPC_STAT: last sender is this process, no receiver yet");

    check_rcv(id, 2, MSG_COPY_ | K_IPC_NOWAIT, 2, "two", "MSG_COPY of message 2");
    struct kmsg m;
    check_err(rcv(id, &m, 63, 9, MSG_COPY_ | K_IPC_NOWAIT), ENOMSG, "MSG_COPY past the end");
    check_err(rcv(id, &m, 63, 0, MSG_COPY_), EINVAL, "MSG_COPY without IPC_NOWAIT");
    check_err(rcv(id, &m, 63, 0, MSG_COPY_ | MSG_EXCEPT_ | K_IPC_NOWAIT), EINVAL,
              "MSG_COPY with MSG_EXCEPT");
    check_rcv(id, 1, 0, 1, "one", "msgtyp 1: the first of type 1");
    check_rcv(id, -4, 0, 1, "uno", "msgtyp -4: the lowest type <= 4");
    check_rcv(id, 3, MSG_EXCEPT_, 2, "two", "msgtyp 3 with MSG_EXCEPT: the first other");
    check_err(rcv(id, &m, 63, 4, K_IPC_NOWAIT), ENOMSG, "msgtyp 4 with IPC_NOWAIT: none");
    check_err(rcv(id, &m, 2, 0, 0), E2BIG, "a buffer too small without MSG_NOERROR");
    long r = rcv(id, &m, 2, 0, MSG_NOERROR_);
    check(r == 2 && m.type == 3 && strcmp(m.text, "th") == 0,
          "MSG_NOERROR cuts the message -> %s \"%s\"", ret_name(r), m.text);
    check_rcv(id, 0, 0, 5, "five", "msgtyp 0: the first");
    check_err(rcv(id, &m, 63, 0, K_IPC_NOWAIT), ENOMSG, "an empty queue with IPC_NOWAIT");
    check_ret(sc(SYS_msgctl, id, K_IPC_STAT, &ds), 0, "msgctl(IPC_STAT) again");
    check(ds.qnum == 0 && ds.cbytes == 0 && ds.lrpid == getpid(),
          "IPC_STAT: empty, last receiver is this process");

    /* Errors of msgsnd and msgrcv. */
    check_err(snd(id, 0, "x", 0), EINVAL, "msgsnd of type 0");
    check_err(snd(id, -1, "x", 0), EINVAL, "msgsnd of type -1");
    static struct {
        long type;
        char text[9000];
    } big = { 1, { 0 } };
    check_err(sc(SYS_msgsnd, id, &big, 8193, 0), EINVAL, "msgsnd of 8193 bytes (msgmax)");
    check_ret(sc(SYS_msgsnd, id, &big, 8192, 0), 0, "msgsnd of 8192 bytes");
    check_ret(sc(SYS_msgrcv, id, &big, 9000, 0, 0), 8192, "msgrcv of 8192 bytes");
    check_err(sc(SYS_msgsnd, id, BADPTR, 4, 0), EFAULT, "msgsnd from a bad pointer");
    check_err(sc(SYS_msgsnd, -1, &big, 4, 0), EINVAL, "msgsnd to id -1");
    check_err(sc(SYS_msgrcv, -1, &m, 4, 0, 0), EINVAL, "msgrcv from id -1");
    check_err(sc(SYS_msgrcv, id, &m, -1L, 0, 0), EINVAL, "msgrcv of a negative size");
    snd(id, 7, "lost", 0);
    check_err(sc(SYS_msgrcv, id, BADPTR, 63, 0, 0), EFAULT, "msgrcv into a bad pointer");
    check_err(sc(SYS_msgctl, id, K_IPC_STAT, BADPTR), EFAULT, "msgctl(IPC_STAT) to a bad pointer");
    check_err(sc(SYS_msgctl, id, K_IPC_SET, BADPTR), EFAULT, "msgctl(IPC_SET) from a bad pointer");
    check_err(sc(SYS_msgctl, id, 99, &ds), EINVAL, "msgctl of an unknown command");

    /* IPC_SET: mode and a smaller queue. */
    sc(SYS_msgctl, id, K_IPC_STAT, &ds);
    ds.perm.mode = 0640;
    ds.qbytes = 10;
    check_ret(sc(SYS_msgctl, id, K_IPC_SET, &ds), 0, "msgctl(IPC_SET) mode 0640, qbytes 10");
    memset(&ds, 0, sizeof(ds));
    sc(SYS_msgctl, id, K_IPC_STAT, &ds);
    check((ds.perm.mode & 0777) == 0640 && ds.qbytes == 10, "IPC_STAT shows mode %o qbytes %lu",
          ds.perm.mode & 0777, (unsigned long)ds.qbytes);
    check_ret(snd(id, 1, "abcdefgh", K_IPC_NOWAIT), 0, "msgsnd of 8 bytes into 10");
    check_err(snd(id, 1, "abc", K_IPC_NOWAIT), EAGAIN, "msgsnd past qbytes with IPC_NOWAIT");

    struct k_msginfo mi;
    long mx = sc(SYS_msgctl, 0, K_IPC_INFO, &mi);
    check(mx >= 0 && mi.msgmax == 8192 && mi.msgmnb == 16384 && mi.msgssz == 16,
          "IPC_INFO: msgmax %d msgmnb %d msgssz %d", mi.msgmax, mi.msgmnb, mi.msgssz);
    mx = sc(SYS_msgctl, 0, MSG_INFO_, &mi);
    check(mx >= 0 && mi.msgpool >= 1, "MSG_INFO: queues in use");
    check_err(sc(SYS_msgctl, 0, K_IPC_INFO, BADPTR), EFAULT, "IPC_INFO to a bad pointer");
    check_ret(sc(SYS_msgctl, id, K_IPC_RMID, 0), 0, "msgctl(IPC_RMID) with messages");
}

static void test_perms(void)
{
    int id = (int)sc(SYS_msgget, IPC_PRIVATE, 0);
    snd(id, 1, "x", 0);
    int root = geteuid() == 0;
    pid_t c = fork_checked();
    if (c == 0) {
        drop_to_nobody();
        struct kmsg m;
        struct k_msqid64 ds;
        check_err(snd(id, 1, "x", K_IPC_NOWAIT), EACCES, "mode 0: msgsnd");
        check_err(rcv(id, &m, 63, 0, K_IPC_NOWAIT), EACCES, "mode 0: msgrcv");
        check_err(sc(SYS_msgctl, id, K_IPC_STAT, &ds), EACCES, "mode 0: IPC_STAT");
        if (root)
            check_err(sc(SYS_msgctl, id, K_IPC_RMID, 0), EPERM, "IPC_RMID by another user");
        child_done();
    }
    check_wait(c, "exited 0", "an unprivileged child is refused");
    struct kmsg m;
    out("mode 0: the creator's msgrcv (%s) -> %s\n", root ? "root" : "unprivileged",
        ret_name(rcv(id, &m, 63, 0, K_IPC_NOWAIT)));
    sc(SYS_msgctl, id, K_IPC_RMID, 0);
}

static void test_blocking(void)
{
    int id = (int)sc(SYS_msgget, IPC_PRIVATE, 0600);
    /* A receiver that waits for type 2 while type 1 arrives first. */
    pid_t c = fork_checked();
    if (c == 0) {
        check_rcv(id, 2, 0, 2, "late", "a blocked msgrcv gets what another process sends");
        child_done();
    }
    ms_sleep(100);
    snd(id, 1, "early", 0);
    ms_sleep(50);
    snd(id, 2, "late", 0);
    check_wait(c, "exited 0", "receiver woken");
    check_rcv(id, 0, K_IPC_NOWAIT, 1, "early", "the other message stayed");

    /* A sender that waits for room. */
    struct k_msqid64 ds;
    sc(SYS_msgctl, id, K_IPC_STAT, &ds);
    ds.qbytes = 8;
    sc(SYS_msgctl, id, K_IPC_SET, &ds);
    snd(id, 1, "12345678", 0);
    c = fork_checked();
    if (c == 0) {
        check_ret(snd(id, 2, "next", 0), 0, "a blocked msgsnd goes on when there is room");
        child_done();
    }
    ms_sleep(100);
    struct kmsg m;
    long r = rcv(id, &m, 63, 0, 0);
    check_wait(c, "exited 0", "sender woken");
    check(r == 8 && m.type == 1 && strcmp(m.text, "12345678") == 0, "receive the first");
    check_rcv(id, 0, 0, 2, "next", "then the blocked sender's");

    /* Removal wakes the sleepers with EIDRM. */
    int p[2];
    pipe(p);
    c = fork_checked();
    if (c == 0) {
        struct kmsg m;
        send_byte(p[1]);
        check_err(rcv(id, &m, 63, 0, 0), EIDRM, "a blocked msgrcv when the queue is removed");
        child_done();
    }
    wait_byte(p[0]);
    ms_sleep(300);
    long rm = sc(SYS_msgctl, id, K_IPC_RMID, 0);
    check_wait(c, "exited 0", "sleeper woken by removal");
    check_ret(rm, 0, "msgctl(IPC_RMID) with a sleeper");
    close_pipe(p);
}

static volatile int got_sig;
static void on_sig(int s)
{
    got_sig = s;
}

static void test_eintr(void)
{
    int id = (int)sc(SYS_msgget, IPC_PRIVATE, 0600);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sig;
    sa.sa_flags = SA_RESTART; /* msgrcv is never restarted after a handler */
    sigaction(SIGUSR1, &sa, 0);
    int p[2];
    pipe(p);
    pid_t c = fork_checked();
    if (c == 0) {
        struct kmsg m;
        send_byte(p[1]);
        check_err(rcv(id, &m, 63, 0, 0), EINTR, "msgrcv interrupted by a handled signal");
        check(got_sig == SIGUSR1, "the handler ran");
        child_done();
    }
    wait_byte(p[0]);
    ms_sleep(200);
    kill(c, SIGUSR1);
    check_wait(c, "exited 0", "interrupted receiver");
    close_pipe(p);
    sc(SYS_msgctl, id, K_IPC_RMID, 0);
}

int main(void)
{
    test_get();
    test_types();
    test_perms();
    test_blocking();
    test_eintr();
    return finish();
}
