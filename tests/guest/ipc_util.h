/* ipc_util.h: what the System V IPC and POSIX message queue tests share:
 * the kernel's x86-64 structures (libc's differ between musl and glibc),
 * mq_open and mq_getattr as raw calls,
 * a key that no other run uses, and a child that gives up root. */
#ifndef IPC_UTIL_H
#define IPC_UTIL_H

#include "proc_util.h"

#include <stdint.h>

#ifndef IPC_PRIVATE
#define IPC_PRIVATE 0
#endif
#define K_IPC_CREAT 01000
#define K_IPC_EXCL 02000
#define K_IPC_NOWAIT 04000
#define K_IPC_RMID 0
#define K_IPC_SET 1
#define K_IPC_STAT 2
#define K_IPC_INFO 3

struct k_ipc64_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint16_t seq, pad2;
    uint32_t pad3;
    uint64_t unused1, unused2;
};

/* POSIX message queues: the kernel's struct mq_attr and struct sigevent,
 * mq_open, and a queue's attributes (all 0xff bytes when mq_getsetattr
 * fails). */
struct k_mq_attr {
    long flags, maxmsg, msgsize, curmsgs, reserved[4];
};

struct k_sigevent {
    union {
        int i;
        void *p;
    } value;
    int signo, notify;
    int pad[12];
};

#define SIGEV_SIGNAL_ 0
#define SIGEV_NONE_ 1
#define SI_MESGQ_ (-3)

static inline long mq_open_(const char *name, int flags, int mode, struct k_mq_attr *attr)
{
    return sc(SYS_mq_open, name, flags, mode, attr);
}

static inline struct k_mq_attr getattr(long fd)
{
    struct k_mq_attr a;
    memset(&a, 0xff, sizeof(a));
    sc(SYS_mq_getsetattr, fd, 0, &a);
    return a;
}

/* A key of this run's own: the pid and a tag, never printed. */
static inline int32_t ipc_key(int tag)
{
    return (int32_t)(0x49000000 | ((getpid() & 0xfffff) << 4) | (tag & 0xf));
}

/* The get call nr ("semget" or "shmget") of key for n semaphores or
 * bytes: ENOENT without IPC_CREAT, made with it, found again asking for
 * less (fewer) or 0, EINVAL asking for n + 1, EEXIST with
 * IPC_CREAT|IPC_EXCL. Returns the id. */
static inline long check_sized_get(long nr, const char *call, int32_t key, long n, long fewer)
{
    char what[96];
    snprintf(what, sizeof what, "%s(key) without IPC_CREAT", call);
    check_err(sc(nr, key, fewer, 0600), ENOENT, what);
    long id = sc(nr, key, n, K_IPC_CREAT | 0600);
    check(id >= 0, "%s(key, %ld, IPC_CREAT)", call, n);
    long asks[] = { fewer, 0 };
    for (int i = 0; i < 2; i++) {
        snprintf(what, sizeof what, "%s(key, %ld) finds it", call, asks[i]);
        check_eq(sc(nr, key, asks[i], 0), id, what);
    }
    snprintf(what, sizeof what, "%s(key, %ld): more than it has", call, n + 1);
    check_err(sc(nr, key, n + 1, 0), EINVAL, what);
    snprintf(what, sizeof what, "%s(key, IPC_CREAT|IPC_EXCL) of an existing one", call);
    check_err(sc(nr, key, n, K_IPC_CREAT | K_IPC_EXCL | 0600), EEXIST, what);
    return id;
}

/* In a child: become uid and gid 65534 without capabilities (a root
 * test drops them; an unprivileged one is that user already or keeps its
 * ids, and has no capabilities either). */
static inline void drop_to_nobody(void)
{
    if (geteuid() == 0) {
        sc(SYS_setgroups, 0, 0);
        sc(SYS_setresgid, 65534, 65534, 65534);
        sc(SYS_setresuid, 65534, 65534, 65534);
    }
}

/* child(id, root) in a child dropped to nobody (root: whether the test runs
 * as root), which must pass its checks (what names it). */
static inline void as_nobody(void (*child)(int id, int root), int id, const char *what)
{
    int root = geteuid() == 0;
    pid_t c = fork_checked();
    if (c == 0) {
        drop_to_nobody();
        child(id, root);
        child_done();
    }
    check_wait(c, "exited 0", what);
}

#endif
