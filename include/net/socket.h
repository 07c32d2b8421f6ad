/* The sentry's sockets: a socket is an open file (on sockfs) whose
 * behaviour comes from its family's const sock_ops. The syscalls
 * (src/net/sys_socket.c) copy guest memory in and out and call these; the
 * families see only sentry buffers.
 *
 * Blocking calls sleep with sched/wait.h as current_task: -ERESTARTSYS
 * when interrupted without a timeout, -EINTR with one (Linux's
 * sock_intr_errno), -EAGAIN when SO_RCVTIMEO/SO_SNDTIMEO passes. -EPIPE
 * from a stream send means the caller sends SIGPIPE (unless MSG_NOSIGNAL);
 * the families do not signal. */
#ifndef NET_SOCKET_H
#define NET_SOCKET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct file;
struct poll_table;
struct socket;

/* Linux's defaults (net.core.wmem_default, rmem_default, wmem_max,
 * rmem_max) and the floors of SO_SNDBUF and SO_RCVBUF. */
#define SOCK_WMEM_DEFAULT 212992
#define SOCK_RMEM_DEFAULT 212992
#define SOCK_WMEM_MAX 212992
#define SOCK_RMEM_MAX 212992
#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304
/* SCM_MAX_FD: descriptors one SCM_RIGHTS message may carry. */
#define SOCK_MAX_FDS 253

/* Credentials as struct ucred (SCM_CREDENTIALS, SO_PEERCRED): the
 * sandbox's pid and ids, never the host's. */
struct sock_cred {
    int32_t pid;
    uint32_t uid, gid;
};

/* One message between the syscall layer and a family. Send: buf/len the
 * data (gathered), fds the files of SCM_RIGHTS (references the message
 * takes over on success), cred the sender's (always) and creds_explicit.
 * Recv: buf/cap where the data goes; the family sets len (bytes given),
 * full (the real length of a datagram), fds (references for the caller),
 * cred and has_cred (when the receiver has SO_PASSCRED), and flags
 * (MSG_TRUNC, MSG_CTRUNC). */
struct sock_msg {
    char *buf;
    size_t len, cap, full;
    struct file **fds;
    int nfds;
    struct sock_cred cred;
    int has_cred;
    int flags;
};

/* A family's operations. NULL ops give Linux's sock_no_* answer. */
struct sock_ops {
    /* Data: returns bytes sent / received (0 at end of stream) or -errno.
     * flags are the MSG_* of the call; nonblock folds in O_NONBLOCK. */
    ssize_t (*sendmsg)(struct socket *s, struct sock_msg *m, int flags, int nonblock);
    ssize_t (*recvmsg)(struct socket *s, struct sock_msg *m, int flags, int nonblock);
    unsigned (*poll)(struct socket *s, struct poll_table *pt);
    int (*shutdown)(struct socket *s, int how);
    /* The socket's (peer 0) or its peer's address into addr (at most
     * 128 bytes): its length, or -errno. */
    int (*getname)(struct socket *s, void *addr, int peer);
    /* SIOCINQ / SIOCOUTQ values, or -errno. */
    long (*inq)(struct socket *s);
    long (*outq)(struct socket *s);
    /* SO_ERROR: take the pending error (0: none). */
    int (*take_error)(struct socket *s);
    void (*release)(struct socket *s);
};

struct socket {
    int family, type, protocol;
    const struct sock_ops *ops;
    void *sk;          /* the family's */
    struct file *file; /* the file it belongs to (no reference) */
    /* Options (SOL_SOCKET), read and written atomically. */
    int sndbuf, rcvbuf;
    int passcred, reuseaddr, keepalive;
    int64_t rcvtimeo_ns, sndtimeo_ns; /* 0: none */
    struct sock_cred peercred;        /* SO_PEERCRED */
    int has_peercred;
};

/* A new socket file (O_RDWR | nonblock's O_NONBLOCK) on sockfs, owned by
 * fsuid/fsgid, for the socket s (which it frees at release after the
 * family's release). NULL without memory (s is not freed then). */
struct file *sock_file_new(struct socket *s, uint32_t fsuid, uint32_t fsgid, int nonblock);
/* A zeroed socket with the default options. */
struct socket *sock_alloc(int family, int type, int protocol, const struct sock_ops *ops);
void sock_free(struct socket *s);
/* The socket of f, or NULL if f is not a socket (ENOTSOCK). */
struct socket *sock_of(struct file *f);

/* The absolute deadline of a timeout (ns 0: none, *dl NULL). */
const struct timespec *sock_deadline(int64_t ns, struct timespec *buf);
/* What a sleep's error becomes (sock_intr_errno, and a timeout EAGAIN). */
int sock_wait_error(int r, int64_t timeo_ns);

/* ---- AF_UNIX (src/net/unix.c) ---- */

/* A connected pair of AF_UNIX sockets of type (SOCK_STREAM, SOCK_DGRAM or
 * SOCK_SEQPACKET), each with peercred as SO_PEERCRED. */
int unix_socketpair(int type, int protocol, const struct sock_cred *peercred, struct socket **a,
                    struct socket **b);

#endif
