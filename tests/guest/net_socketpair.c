/* net_socketpair.c: socketpair(AF_UNIX) of every type: creation flags and
 * errors, data through read/write, send/recv, sendto/recvfrom and
 * sendmsg/recvmsg (iovecs, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC,
 * message boundaries, EMSGSIZE), shutdown and the peer's close (EOF,
 * EPIPE and SIGPIPE, ECONNRESET, ECONNREFUSED), SCM_RIGHTS and
 * SCM_CREDENTIALS, socket options, FIONREAD/SIOCOUTQ, poll and epoll
 * readiness, fstat and the /proc fd link, ENOTSOCK and EBADF, and
 * blocking calls woken by another process or interrupted by a signal. */
#include "guest.h"
#include "proc_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

static int pair(int type, int sv[2])
{
    long r = sc(SYS_socketpair, AF_UNIX, type, 0, sv);
    if (r < 0) {
        out("FAIL socketpair(%d) -> %s: giving up\n", type, ret_name(r));
        _exit(1);
    }
    return 0;
}

static void close2(int sv[2])
{
    sc(SYS_close, sv[0]);
    sc(SYS_close, sv[1]);
}

static short revents(int fd, short events)
{
    struct pollfd p = { fd, events, 0 };
    return sc(SYS_poll, &p, 1, 0) < 0 ? -1 : p.revents;
}

static long send_(int fd, const void *b, size_t n, int flags)
{
    return sc(SYS_sendto, fd, b, n, flags, 0, 0);
}

static long recv_(int fd, void *b, size_t n, int flags)
{
    return sc(SYS_recvfrom, fd, b, n, flags, 0, 0);
}

static int getopt_int(int fd, int opt)
{
    int v = -12345;
    socklen_t l = sizeof(v);
    long r = sc(SYS_getsockopt, fd, SOL_SOCKET, opt, &v, &l);
    return r < 0 ? (int)r : v;
}

static long setopt_int(int fd, int opt, int v)
{
    return sc(SYS_setsockopt, fd, SOL_SOCKET, opt, &v, sizeof(v));
}

static volatile int g_sigpipe, g_sigalrm;
static void on_pipe(int s)
{
    (void)s;
    g_sigpipe++;
}
static void on_alrm(int s)
{
    (void)s;
    g_sigalrm++;
}

static long lowest_free_fd(void)
{
    long fd = sc(SYS_open, "/dev/null", O_RDONLY);
    if (fd >= 0)
        sc(SYS_close, fd);
    return fd;
}

static void test_create(void)
{
    int sv[2];
    long r = sc(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv);
    check_ret(r, 0, "socketpair STREAM|CLOEXEC|NONBLOCK");
    check_ret(sc(SYS_fcntl, sv[0], F_GETFD), FD_CLOEXEC, "close-on-exec on the first");
    check_ret(sc(SYS_fcntl, sv[1], F_GETFD), FD_CLOEXEC, "close-on-exec on the second");
    check_ret(sc(SYS_fcntl, sv[0], F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL O_RDWR|O_NONBLOCK");
    close2(sv);
    r = sc(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv);
    check_ret(r, 0, "socketpair DGRAM");
    check_ret(sc(SYS_fcntl, sv[0], F_GETFD), 0, "no close-on-exec");
    check_ret(sc(SYS_fcntl, sv[0], F_GETFL), O_RDWR, "F_GETFL O_RDWR");
    check_ret(getopt_int(sv[0], SO_TYPE), SOCK_DGRAM, "SO_TYPE DGRAM");
    close2(sv);
    check_ret(sc(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, PF_UNIX, sv), 0,
              "socketpair SEQPACKET protocol PF_UNIX");
    check_ret(getopt_int(sv[1], SO_TYPE), SOCK_SEQPACKET, "SO_TYPE SEQPACKET");
    check_ret(getopt_int(sv[1], SO_PROTOCOL), 0, "SO_PROTOCOL 0");
    check_ret(getopt_int(sv[1], SO_DOMAIN), AF_UNIX, "SO_DOMAIN AF_UNIX");
    close2(sv);
    check_ret(sc(SYS_socketpair, AF_UNIX, SOCK_RAW, 0, sv), 0, "socketpair RAW");
    check_ret(getopt_int(sv[0], SO_TYPE), SOCK_DGRAM, "SOCK_RAW is a datagram socket");
    close2(sv);

    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM | 0x100, 0, sv), EINVAL, "bad type flag");
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM | O_APPEND, 0, sv), EINVAL, "O_APPEND flag");
    check_err(sc(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "AF_INET");
    check_err(sc(SYS_socketpair, AF_INET6, SOCK_DGRAM, 0, sv), EOPNOTSUPP, "AF_INET6");
    check_err(sc(SYS_socketpair, 46, SOCK_STREAM, 0, sv), EAFNOSUPPORT, "family 46");
    check_err(sc(SYS_socketpair, 200, SOCK_STREAM, 0, sv), EAFNOSUPPORT, "family 200");
    check_err(sc(SYS_socketpair, -1, SOCK_STREAM, 0, sv), EAFNOSUPPORT, "family -1");
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_RDM, 0, sv), ESOCKTNOSUPPORT, "SOCK_RDM");
    check_err(sc(SYS_socketpair, AF_UNIX, 11, 0, sv), EINVAL, "type 11");
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT, "protocol 2");
    long before = lowest_free_fd();
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BADPTR), EFAULT, "sv unmapped");
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, KPTR), EFAULT, "sv kernel address");
    check_err(sc(SYS_socketpair, 200, SOCK_STREAM, 0, BADPTR), EFAULT,
              "EFAULT before EAFNOSUPPORT");
    check_ret(lowest_free_fd(), before, "no descriptor left behind");

    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)before + 1;
    setrlimit(RLIMIT_NOFILE, &lim);
    check_err(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), EMFILE,
              "one descriptor free: EMFILE");
    check_err(sc(SYS_socketpair, 200, SOCK_STREAM, 0, sv), EMFILE, "EMFILE before EAFNOSUPPORT");
    setrlimit(RLIMIT_NOFILE, &old);
    check_ret(lowest_free_fd(), before, "none left behind by EMFILE");
    check_err(sc(SYS_socket, AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL, "socket: bad type flag");
}

static void test_stream_data(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    char b[64];
    check_ret(sc(SYS_write, sv[0], "hello", 5), 5, "write 5");
    check_ret(send_(sv[0], " world", 6, 0), 6, "send 6");
    check_ret(sc(SYS_ioctl, sv[1], SIOCINQ, &(int){ 0 }), 0, "SIOCINQ");
    int n = -1;
    sc(SYS_ioctl, sv[1], FIONREAD, &n);
    check_ret(n, 11, "FIONREAD 11 (stream bytes merge)");
    n = -1;
    sc(SYS_ioctl, sv[0], SIOCOUTQ, &n);
    check(n > 0, "SIOCOUTQ of the writer > 0 while unread");
    memset(b, 0, sizeof b);
    check_ret(recv_(sv[1], b, 3, MSG_PEEK), 3, "MSG_PEEK 3");
    check(memcmp(b, "hel", 3) == 0, "peeked hel");
    check_ret(recv_(sv[1], b, sizeof b, MSG_PEEK), 11, "MSG_PEEK across writes");
    check_ret(sc(SYS_read, sv[1], b, 4), 4, "read 4");
    check(memcmp(b, "hell", 4) == 0, "read hell");
    check_ret(recv_(sv[1], b, sizeof b, 0), 7, "recv the rest");
    check(memcmp(b, "o world", 7) == 0, "recv o world");
    n = -1;
    sc(SYS_ioctl, sv[0], SIOCOUTQ, &n);
    check_ret(n, 0, "SIOCOUTQ 0 once read");
    check_err(recv_(sv[1], b, sizeof b, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT empty");
    check_err(recv_(sv[1], b, 0, MSG_DONTWAIT), EAGAIN, "recv of 0 bytes waits for data");
    check_ret(sc(SYS_read, sv[1], b, 0), 0, "read of 0 bytes");

    /* Vectors. */
    struct iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
    check_ret(sc(SYS_writev, sv[0], wv, 3), 6, "writev");
    char x[2], y[10];
    struct iovec rv[2] = { { x, 2 }, { y, 10 } };
    check_ret(sc(SYS_readv, sv[1], rv, 2), 6, "readv");
    check(memcmp(x, "ab", 2) == 0 && memcmp(y, "cdef", 4) == 0, "readv scattered");
    struct msghdr mh = { 0 };
    mh.msg_iov = wv;
    mh.msg_iovlen = 3;
    check_ret(sc(SYS_sendmsg, sv[0], &mh, 0), 6, "sendmsg with iovecs");
    char nm[16];
    memset(&mh, 0, sizeof mh);
    mh.msg_name = nm;
    mh.msg_namelen = sizeof nm;
    mh.msg_iov = rv;
    mh.msg_iovlen = 2;
    mh.msg_flags = 0x7777;
    mh.msg_control = b;
    mh.msg_controllen = sizeof b;
    check_ret(sc(SYS_recvmsg, sv[1], &mh, 0), 6, "recvmsg with iovecs");
    check_ret(mh.msg_namelen, 0, "recvmsg: msg_namelen 0 (unnamed)");
    check_ret((long)mh.msg_controllen, 0, "recvmsg: msg_controllen 0");
    check_ret(mh.msg_flags, 0, "recvmsg: msg_flags 0");
    mh.msg_iovlen = 1025;
    check_err(sc(SYS_recvmsg, sv[1], &mh, MSG_DONTWAIT), EMSGSIZE, "recvmsg 1025 iovecs");
    check_err(sc(SYS_sendmsg, sv[0], &mh, 0), EMSGSIZE, "sendmsg 1025 iovecs");
    check_err(sc(SYS_sendmsg, sv[0], BADPTR, 0), EFAULT, "sendmsg msghdr unmapped");
    mh.msg_iovlen = 1;
    mh.msg_namelen = -1;
    check_err(sc(SYS_recvmsg, sv[1], &mh, MSG_DONTWAIT), EINVAL, "recvmsg namelen -1");

    /* recvfrom with an address: the length comes back 0. */
    send_(sv[0], "q", 1, 0);
    socklen_t alen = sizeof nm;
    check_ret(sc(SYS_recvfrom, sv[1], b, sizeof b, 0, nm, &alen), 1, "recvfrom with address");
    check_ret(alen, 0, "recvfrom: addrlen 0");
    send_(sv[0], "q", 1, 0);
    check_err(sc(SYS_recvfrom, sv[1], b, sizeof b, 0, nm, BADPTR), EFAULT,
              "recvfrom addrlen unmapped");
    check_err(recv_(sv[1], b, sizeof b, MSG_DONTWAIT), EAGAIN, "... the byte went all the same");

    /* An address on a connected stream socket. */
    struct sockaddr_un sa = { AF_UNIX, "x" };
    check_err(sc(SYS_sendto, sv[0], "a", 1, 0, &sa, sizeof sa), EISCONN,
              "sendto with address: EISCONN");
    check_ret(sc(SYS_sendto, sv[0], "a", 1, 0, &sa, 0), 1, "sendto with address length 0");
    check_err(sc(SYS_sendto, sv[0], "a", 1, 0, &sa, 129), EINVAL, "sendto addrlen 129");
    check_err(sc(SYS_sendto, sv[0], "a", 1, 0, BADPTR, 16), EFAULT, "sendto address unmapped");
    check_err(send_(sv[0], BADPTR, 4, 0), EFAULT, "send from unmapped memory");
    check_err(recv_(sv[1], BADPTR, 4, 0), EFAULT, "recv into unmapped memory");
    close2(sv);
}

static void test_dgram(int type, const char *tn)
{
    int sv[2];
    pair(type, sv);
    char b[64];
    char name[96];
    snprintf(name, sizeof name, "%s: send 3, 5, 0 bytes", tn);
    check(send_(sv[0], "abc", 3, 0) == 3 && send_(sv[0], "defgh", 5, 0) == 5 &&
              send_(sv[0], "", 0, 0) == 0,
          "%s", name);
    int n = -1;
    sc(SYS_ioctl, sv[1], FIONREAD, &n);
    check(n == (type == SOCK_DGRAM ? 3 : 8),
          "%s: FIONREAD: the first message (dgram), all (seqpacket)", tn);
    check(recv_(sv[1], b, 2, MSG_PEEK) == 2, "%s: peek 2 of 3", tn);
    check(recv_(sv[1], b, 2, MSG_PEEK | MSG_TRUNC) == 3, "%s: peek with MSG_TRUNC: 3", tn);
    check(recv_(sv[1], b, sizeof b, 0) == 3 && memcmp(b, "abc", 3) == 0, "%s: recv abc", tn);
    struct iovec iv = { b, 2 };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    long r = sc(SYS_recvmsg, sv[1], &mh, 0);
    check(r == 2 && (mh.msg_flags & MSG_TRUNC), "%s: recvmsg 2 of 5: MSG_TRUNC", tn);
    check(recv_(sv[1], b, sizeof b, MSG_DONTWAIT) == 0, "%s: the empty message", tn);
    check(recv_(sv[1], b, sizeof b, MSG_DONTWAIT) == -EAGAIN, "%s: nothing more: EAGAIN", tn);
    send_(sv[0], "12345", 5, 0);
    check(recv_(sv[1], b, 1, MSG_TRUNC) == 5, "%s: MSG_TRUNC gives the real length", tn);
    check(sc(SYS_write, sv[1], "back", 4) == 4 && sc(SYS_read, sv[0], b, 2) == 2,
          "%s: read takes part of a message", tn);
    check(recv_(sv[0], b, sizeof b, MSG_DONTWAIT) == -EAGAIN, "%s: and drops the rest", tn);
    static char big[212992];
    check(send_(sv[0], big, 212960, MSG_DONTWAIT) == 212960, "%s: 212960 bytes fit", tn);
    check(recv_(sv[1], big, sizeof big, 0) == 212960, "%s: and come back whole", tn);
    check(send_(sv[0], big, 212961, MSG_DONTWAIT) == -EMSGSIZE, "%s: 212961: EMSGSIZE", tn);
    check(sc(SYS_write, sv[0], big, 100000) == 100000, "%s: write of 100000 bytes", tn);
    check(recv_(sv[1], big, sizeof big, MSG_PEEK) == 100000, "%s: is one message", tn);
    check(sc(SYS_read, sv[1], big, sizeof big) == 100000, "%s: read takes it whole", tn);
    check(sc(SYS_write, sv[0], big, 212961) == -EMSGSIZE, "%s: write of 212961: EMSGSIZE", tn);
    struct iovec bigv[2] = { { big, 70000 }, { big + 70000, 70000 } };
    check(sc(SYS_writev, sv[0], bigv, 2) == 140000, "%s: writev of 140000 bytes", tn);
    check(sc(SYS_readv, sv[1], bigv, 2) == 140000, "%s: readv takes it whole", tn);
    setopt_int(sv[0], SO_SNDBUF, 3000);
    check(send_(sv[0], big, 5968, MSG_DONTWAIT) == 5968, "%s: SO_SNDBUF 3000: 5968 fit", tn);
    check(send_(sv[0], big, 5969, MSG_DONTWAIT) == -EMSGSIZE, "%s: 5969 do not", tn);
    check(recv_(sv[1], big, sizeof big, 0) == 5968, "%s: drained", tn);
    struct sockaddr_un sa = { AF_UNIX, "" };
    strcpy(sa.sun_path + 1, "nobody");
    long r1 = sc(SYS_sendto, sv[0], "a", 1, MSG_DONTWAIT, &sa, sizeof(sa_family_t) + 7);
    long r2 = sc(SYS_sendto, sv[0], "a", 1, MSG_DONTWAIT, &sa, 1);
    out("     %s: sendto an abstract name: %s, a 1-byte address: %s\n", tn, ret_name(r1),
        ret_name(r2));
    close2(sv);
}

/* shutdown and the peer's close, for each type. */
static void test_shutdown(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_pipe;
    sigaction(SIGPIPE, &sa, NULL);
    int types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
    const char *names[3] = { "stream", "dgram", "seqpacket" };
    char b[16];
    for (int i = 0; i < 3; i++) {
        const char *tn = names[i];
        int sv[2];
        pair(types[i], sv);
        check(sc(SYS_shutdown, sv[0], 3) == -EINVAL && sc(SYS_shutdown, sv[0], -1) == -EINVAL,
              "%s: shutdown how 3, -1: EINVAL", tn);
        check(sc(SYS_shutdown, sv[0], SHUT_WR) == 0, "%s: SHUT_WR", tn);
        g_sigpipe = 0;
        long r = sc(SYS_write, sv[0], "x", 1);
        check(r == -EPIPE, "%s: write after SHUT_WR: %s", tn, ret_name(r));
        check(g_sigpipe == (i == 0), "%s: SIGPIPE %d", tn, g_sigpipe);
        g_sigpipe = 0;
        r = send_(sv[0], "x", 1, MSG_NOSIGNAL);
        check(r == -EPIPE && g_sigpipe == 0, "%s: MSG_NOSIGNAL: EPIPE, no signal", tn);
        out("     %s: SHUT_WR: own poll %#x, peer poll %#x\n", tn,
            revents(sv[0], POLLIN | POLLOUT | POLLRDHUP),
            revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
        r = recv_(sv[1], b, sizeof b, MSG_DONTWAIT);
        out("     %s: the peer's recv: %s\n", tn, ret_name(r));
        check(sc(SYS_write, sv[1], "y", 1) == 1, "%s: the peer can still write", tn);
        check(recv_(sv[0], b, sizeof b, 0) == 1, "%s: and SHUT_WR still reads", tn);
        close2(sv);

        pair(types[i], sv);
        sc(SYS_shutdown, sv[1], SHUT_RD);
        g_sigpipe = 0;
        r = sc(SYS_write, sv[0], "x", 1);
        check(r == -EPIPE && g_sigpipe == (i == 0), "%s: write to a SHUT_RD peer: EPIPE", tn);
        r = recv_(sv[1], b, sizeof b, MSG_DONTWAIT);
        out("     %s: SHUT_RD recv: %s, poll %#x\n", tn, ret_name(r),
            revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
        close2(sv);

        /* The peer closes. */
        pair(types[i], sv);
        sc(SYS_write, sv[1], "abc", 3);
        sc(SYS_close, sv[1]);
        out("     %s: peer closed: poll %#x\n", tn, revents(sv[0], POLLIN | POLLOUT | POLLRDHUP));
        r = recv_(sv[0], b, sizeof b, MSG_DONTWAIT);
        check(r == 3, "%s: what the peer sent is still there", tn);
        r = recv_(sv[0], b, sizeof b, MSG_DONTWAIT);
        out("     %s: then recv: %s\n", tn, ret_name(r));
        g_sigpipe = 0;
        r = sc(SYS_write, sv[0], "x", 1);
        out("     %s: write: %s, SIGPIPE %d\n", tn, ret_name(r), g_sigpipe);
        r = send_(sv[0], "x", 1, 0);
        out("     %s: send again: %s\n", tn, ret_name(r));
        sc(SYS_close, sv[0]);

        /* The peer closes with data it never read: ECONNRESET. */
        pair(types[i], sv);
        sc(SYS_write, sv[0], "abc", 3);
        sc(SYS_write, sv[1], "zz", 2);
        sc(SYS_close, sv[0]);
        out("     %s: closed unread: poll %#x\n", tn, revents(sv[1], POLLIN | POLLOUT | POLLRDHUP));
        long r1 = recv_(sv[1], b, sizeof b, MSG_DONTWAIT);
        long r2 = recv_(sv[1], b, sizeof b, MSG_DONTWAIT);
        out("     %s: closed unread: recv %s then %s, SO_ERROR %d\n", tn, ret_name(r1),
            ret_name(r2), getopt_int(sv[1], SO_ERROR));
        sc(SYS_close, sv[1]);
    }
}

/* Blocking calls woken by another process. */
static void test_blocking(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    pid_t pid = fork_checked();
    if (pid == 0) {
        ms_sleep(100);
        sc(SYS_write, sv[1], "wake", 4);
        ms_sleep(100);
        sc(SYS_write, sv[1], "ab", 2);
        ms_sleep(50);
        sc(SYS_write, sv[1], "cd", 2);
        child_done();
    }
    char b[16];
    check_ret(sc(SYS_read, sv[0], b, sizeof b), 4, "blocking read woken by the child's write");
    check_ret(recv_(sv[0], b, 4, MSG_WAITALL), 4, "MSG_WAITALL waits for both writes");
    check(memcmp(b, "abcd", 4) == 0, "MSG_WAITALL data abcd");
    check_wait(pid, "exited 0", "writer child");
    close2(sv);

    /* A full stream buffer blocks the writer until the reader drains it. */
    pair(SOCK_STREAM, sv);
    enum { TOTAL = 1 << 20 };
    pid = fork_checked();
    if (pid == 0) {
        static unsigned char w[TOTAL];
        for (int i = 0; i < TOTAL; i++)
            w[i] = (unsigned char)(i * 7 + i / 4096);
        _exit(sc(SYS_write, sv[1], w, TOTAL) == TOTAL ? 0 : 1);
    }
    ms_sleep(100);
    int n = -1;
    sc(SYS_ioctl, sv[0], FIONREAD, &n);
    check(n > 100000 && n < TOTAL, "the buffer holds part of it (writer blocked)");
    static unsigned char rbuf[TOTAL];
    long got = 0;
    while (got < TOTAL) {
        long r = sc(SYS_read, sv[0], rbuf + got, TOTAL - got);
        if (r <= 0)
            break;
        got += r;
    }
    check_ret(got, TOTAL, "reader drained 1 MiB");
    int okdata = 1;
    for (int i = 0; i < TOTAL; i++)
        if (rbuf[i] != (unsigned char)(i * 7 + i / 4096)) {
            okdata = 0;
            break;
        }
    check(okdata, "the bytes arrived in order");
    check_wait(pid, "exited 0", "1 MiB writer child: its write returned whole");
    close2(sv);

    /* Nonblocking: EAGAIN once full, POLLOUT back after reading. */
    pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
    static char chunk[65536];
    long total = 0, r;
    while ((r = sc(SYS_write, sv[0], chunk, sizeof chunk)) > 0)
        total += r;
    check_err(r, EAGAIN, "nonblocking write of a full socket");
    check(total >= 150000 && total < 300000, "it took about SO_SNDBUF bytes");
    check(!(revents(sv[0], POLLOUT) & POLLOUT), "full: no POLLOUT");
    check(revents(sv[1], POLLIN) == POLLIN, "the reader: POLLIN");
    while (sc(SYS_read, sv[1], chunk, sizeof chunk) > 0)
        ;
    check(revents(sv[0], POLLOUT) == POLLOUT, "drained: POLLOUT");
    check(revents(sv[1], POLLIN | POLLOUT) == POLLOUT, "the reader: POLLOUT only");
    close2(sv);
}

static void test_sigpipe_default(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    sc(SYS_close, sv[1]);
    pid_t pid = fork_checked();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        sc(SYS_write, sv[0], "x", 1);
        _exit(3);
    }
    check_wait(pid, "killed by SIGPIPE", "write to a closed peer kills with SIGPIPE");
    pid = fork_checked();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        long r = send_(sv[0], "x", 1, MSG_NOSIGNAL);
        _exit(r == -EPIPE ? 0 : 1);
    }
    check_wait(pid, "exited 0", "MSG_NOSIGNAL: EPIPE, alive");
    sc(SYS_close, sv[0]);
}

static int send_fds(int sock, const int *fds, int n, const char *data)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iv = { (void *)data, strlen(data) };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return (int)sc(SYS_sendmsg, sock, &mh, 0);
}

/* Receives up to 8 descriptors into fds; returns the byte count, sets *n
 * and *flags. */
static long recv_fds(int sock, int *fds, int *n, int *flags, size_t clen, int rflags)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    char data[16];
    struct iovec iv = { data, sizeof data };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    mh.msg_control = clen ? cbuf : NULL;
    mh.msg_controllen = clen;
    long r = sc(SYS_recvmsg, sock, &mh, rflags);
    *n = 0;
    *flags = mh.msg_flags;
    if (r < 0)
        return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds + *n, CMSG_DATA(c), sizeof(int) * k);
            *n += k;
        }
    return r;
}

static void test_rights(void)
{
    int sv[2], p[2];
    pair(SOCK_STREAM, sv);
    pipe(p);
    /* Across fork: the child gets the pipe's write end and writes to it. */
    pid_t pid = fork_checked();
    if (pid == 0) {
        sc(SYS_close, p[1]);
        int fds[8], n, fl;
        long r = recv_fds(sv[1], fds, &n, &fl, CMSG_SPACE(sizeof(int) * 8), 0);
        if (r != 4 || n != 1 || fl != 0)
            _exit(2);
        _exit(sc(SYS_write, fds[0], "via", 3) == 3 ? 0 : 3);
    }
    check_ret(send_fds(sv[0], &p[1], 1, "take"), 4, "sendmsg SCM_RIGHTS");
    sc(SYS_close, p[1]);
    char b[8];
    check_ret(sc(SYS_read, p[0], b, sizeof b), 3, "the child's write came through the pipe");
    check_wait(pid, "exited 0", "SCM_RIGHTS child: 4 bytes and a descriptor it wrote to");
    check_ret(sc(SYS_read, p[0], b, sizeof b), 0, "EOF: no write end left anywhere");
    sc(SYS_close, p[0]);

    /* Several, MSG_CMSG_CLOEXEC, MSG_CTRUNC. */
    pipe(p);
    int two[2] = { p[0], p[1] };
    check_ret(send_fds(sv[0], two, 2, "two"), 3, "send 2 descriptors");
    int fds[8], n, fl;
    long r = recv_fds(sv[1], fds, &n, &fl, CMSG_SPACE(sizeof(int) * 8), MSG_CMSG_CLOEXEC);
    check(r == 3 && n == 2, "received 2");
    check(n == 2 && sc(SYS_fcntl, fds[0], F_GETFD) == FD_CLOEXEC,
          "MSG_CMSG_CLOEXEC sets FD_CLOEXEC");
    check(fl == MSG_CMSG_CLOEXEC, "msg_flags echo MSG_CMSG_CLOEXEC: %#x", fl);
    struct stat a, c;
    fstat(fds[1], &a);
    fstat(p[1], &c);
    check(a.st_ino == c.st_ino, "the same pipe");
    sc(SYS_close, fds[0]);
    sc(SYS_close, fds[1]);
    long before = lowest_free_fd();
    send_fds(sv[0], two, 2, "two");
    r = recv_fds(sv[1], fds, &n, &fl, CMSG_LEN(sizeof(int)), 0);
    check(r == 3 && n == 1 && (fl & MSG_CTRUNC), "room for one: 1 and MSG_CTRUNC");
    sc(SYS_close, fds[0]);
    send_fds(sv[0], two, 2, "two");
    r = recv_fds(sv[1], fds, &n, &fl, 0, 0);
    check(r == 3 && n == 0 && fl == MSG_CTRUNC, "no control buffer: MSG_CTRUNC");
    send_fds(sv[0], two, 2, "two");
    check_ret(sc(SYS_read, sv[1], b, sizeof b), 3, "read() of a message with descriptors");
    check_ret(lowest_free_fd(), before, "the descriptors that did not fit are closed");
    /* No descriptor left for the receiver: MSG_CTRUNC, the files closed. */
    send_fds(sv[0], two, 2, "two");
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)before;
    setrlimit(RLIMIT_NOFILE, &lim);
    r = recv_fds(sv[1], fds, &n, &fl, CMSG_SPACE(sizeof(int) * 8), 0);
    setrlimit(RLIMIT_NOFILE, &old);
    check(r == 3 && n == 0 && fl == MSG_CTRUNC, "at RLIMIT_NOFILE: the data, MSG_CTRUNC");
    check_ret(lowest_free_fd(), before, "and nothing installed");
    int bad = 999;
    check_err(send_fds(sv[0], &bad, 1, "x"), EBADF, "SCM_RIGHTS of a closed descriptor");
    check_err(recv_(sv[1], b, sizeof b, MSG_DONTWAIT), EAGAIN, "... sent nothing");
    /* A bad cmsg_len. */
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iv = { "x", 1 };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = sizeof cbuf + 8;
    check_err(sc(SYS_sendmsg, sv[0], &mh, 0), EINVAL, "cmsg_len past the buffer");
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    cm->cmsg_type = 77;
    check_err(sc(SYS_sendmsg, sv[0], &mh, 0), EINVAL, "unknown SOL_SOCKET cmsg type");
    cm->cmsg_level = 99;
    check_ret(sc(SYS_sendmsg, sv[0], &mh, 0), 1, "other levels are skipped");
    recv_(sv[1], b, sizeof b, 0);
    mh.msg_controllen = 8;
    check_ret(sc(SYS_sendmsg, sv[0], &mh, 0), 1, "a control buffer shorter than a header");
    recv_(sv[1], b, sizeof b, 0);

    /* In flight when the receiver goes: the files are closed. */
    send_fds(sv[0], &p[1], 1, "z");
    sc(SYS_close, p[1]);
    sc(SYS_close, sv[1]);
    check_ret(sc(SYS_read, p[0], b, sizeof b), 0, "closing the receiver closes files in flight");
    sc(SYS_close, p[0]);
    sc(SYS_close, sv[0]);

    /* Datagrams carry them too, and a socket can pass itself. */
    pair(SOCK_DGRAM, sv);
    check_ret(send_fds(sv[0], &sv[0], 1, "me"), 2, "dgram: pass the socket itself");
    r = recv_fds(sv[1], fds, &n, &fl, CMSG_SPACE(sizeof(int) * 8), 0);
    check(r == 2 && n == 1, "dgram: received it");
    check(n == 1 && sc(SYS_write, fds[0], "hi", 2) == 2, "dgram: send through the passed socket");
    check_ret(recv_(sv[1], b, sizeof b, 0), 2, "dgram: and it arrives");
    sc(SYS_close, fds[0]);
    close2(sv);
}

static void test_creds(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    struct ucred uc;
    socklen_t l = sizeof uc;
    check_ret(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l), 0, "SO_PEERCRED");
    check(l == sizeof uc && uc.pid == getpid() && uc.uid == geteuid() && uc.gid == getegid(),
          "SO_PEERCRED: our pid, euid and egid");
    l = 4;
    check_ret(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l), 0, "SO_PEERCRED short");
    check_ret(l, 4, "SO_PEERCRED short: length 4");
    check_ret(getopt_int(sv[1], SO_PASSCRED), 0, "SO_PASSCRED off");
    check_ret(setopt_int(sv[1], SO_PASSCRED, 5), 0, "SO_PASSCRED on");
    check_ret(getopt_int(sv[1], SO_PASSCRED), 1, "SO_PASSCRED reads 1");
    pid_t pid = fork_checked();
    if (pid == 0) {
        send_(sv[0], "c", 1, 0);
        child_done();
    }
    check_wait(pid, "exited 0", "sender child");
    char cbuf[CMSG_SPACE(sizeof(struct ucred))];
    char d[4];
    struct iovec iv = { d, sizeof d };
    struct msghdr mh = { 0 };
    mh.msg_iov = &iv;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    check_ret(sc(SYS_recvmsg, sv[1], &mh, 0), 1, "recvmsg with SO_PASSCRED");
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    check(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
              c->cmsg_len == CMSG_LEN(sizeof(struct ucred)),
          "SCM_CREDENTIALS came");
    if (c) {
        memcpy(&uc, CMSG_DATA(c), sizeof uc);
        check(uc.pid == pid && uc.uid == getuid() && uc.gid == getgid(),
              "the sender child's pid, uid and gid");
    }
    check_ret((long)mh.msg_controllen, CMSG_SPACE(sizeof(struct ucred)), "msg_controllen");
    /* Explicit credentials: ours pass. */
    struct ucred mine = { getpid(), getuid(), getgid() };
    memset(cbuf, 0, sizeof cbuf);
    struct iovec sv_iv = { "e", 1 };
    mh.msg_iov = &sv_iv;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof mine);
    memcpy(CMSG_DATA(c), &mine, sizeof mine);
    check_ret(sc(SYS_sendmsg, sv[0], &mh, 0), 1, "sendmsg SCM_CREDENTIALS of our own");
    c->cmsg_len = CMSG_LEN(sizeof mine - 1);
    check_err(sc(SYS_sendmsg, sv[0], &mh, 0), EINVAL, "SCM_CREDENTIALS of the wrong size");
    /* A short control buffer truncates the credentials. */
    mh.msg_iov = &iv;
    mh.msg_controllen = CMSG_LEN(4);
    check_ret(sc(SYS_recvmsg, sv[1], &mh, 0), 1, "recvmsg with a short control buffer");
    check(mh.msg_flags & MSG_CTRUNC, "MSG_CTRUNC");
    check_ret((long)mh.msg_controllen, CMSG_LEN(4), "msg_controllen is what was written");
    close2(sv);
}

static void test_options(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    check_ret(getopt_int(sv[0], SO_ERROR), 0, "SO_ERROR 0");
    check_ret(getopt_int(sv[0], SO_SNDBUF), 212992, "SO_SNDBUF default");
    check_ret(getopt_int(sv[0], SO_RCVBUF), 212992, "SO_RCVBUF default");
    check_ret(getopt_int(sv[0], SO_REUSEADDR), 0, "SO_REUSEADDR 0");
    /* Each option set, then read back: the buffers doubled, with a floor. */
    static const struct {
        int opt, set, want;
        const char *what;
    } sets[] = {
        { SO_SNDBUF, 1, 4608, "SO_SNDBUF 1: the floor" },
        { SO_RCVBUF, 1, 2304, "SO_RCVBUF 1: the floor" },
        { SO_SNDBUF, 10000, 20000, "SO_SNDBUF 10000: doubled" },
        { SO_RCVBUF, 30000, 60000, "SO_RCVBUF 30000: doubled" },
        { SO_REUSEADDR, 1, 1, "SO_REUSEADDR 1" },
        { SO_KEEPALIVE, 7, 1, "SO_KEEPALIVE 1" },
    };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        setopt_int(sv[0], sets[i].opt, sets[i].set);
        check_ret(getopt_int(sv[0], sets[i].opt), sets[i].want, sets[i].what);
    }
    check_ret(getopt_int(sv[0], SO_ACCEPTCONN), 0, "SO_ACCEPTCONN 0");
    check_err(setopt_int(sv[0], SO_TYPE, 1), ENOPROTOOPT, "set SO_TYPE");
    check_err(getopt_int(sv[0], 9999), ENOPROTOOPT, "get option 9999");
    check_err(setopt_int(sv[0], 9999, 1), ENOPROTOOPT, "set option 9999");
    int v = 1;
    socklen_t l = sizeof v;
    check_err(sc(SYS_getsockopt, sv[0], 6, 1, &v, &l), EOPNOTSUPP, "get at level 6");
    check_err(sc(SYS_setsockopt, sv[0], 6, 1, &v, sizeof v), EOPNOTSUPP, "set at level 6");
    check_err(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 3), EINVAL, "optlen 3");
    check_err(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, -1), EINVAL, "optlen -1");
    check_err(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_KEEPALIVE, BADPTR, 4), EFAULT,
              "optval unmapped");
    int neg = -1;
    check_err(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, &neg), EINVAL, "optlen -1 (get)");
    check_err(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, BADPTR), EFAULT,
              "optlen unmapped");
    l = 2;
    v = 0;
    check_ret(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, &l), 0, "SO_TYPE into 2 bytes");
    check(l == 2 && v == SOCK_STREAM, "2 bytes written, length 2");
    l = 64;
    check_ret(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, &v, &l), 0, "SO_TYPE into 64 bytes");
    check_ret(l, 4, "length 4");

    struct timeval tv = { 0, 200000 }, got;
    check_ret(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0,
              "SO_RCVTIMEO 0.2 s");
    l = sizeof got;
    sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &l);
    check(l == sizeof got && got.tv_sec == 0 && got.tv_usec == 200000, "SO_RCVTIMEO reads 0.2 s");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char b[4];
    long r = recv_(sv[0], b, sizeof b, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check_err(r, EAGAIN, "recv past SO_RCVTIMEO");
    check(elapsed_ms(&t0, &t1) >= 150, "after about 0.2 s");
    tv.tv_usec = 1000000;
    check_err(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM,
              "tv_usec 1000000");
    tv.tv_usec = 0;
    check_err(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL,
              "timeval too short");
    tv = (struct timeval){ 2, 500000 };
    sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    l = sizeof got;
    sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_SNDTIMEO, &got, &l);
    check(got.tv_sec == 2 && got.tv_usec == 500000, "SO_SNDTIMEO reads 2.5 s");
    tv = (struct timeval){ 0, 0 };
    sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    l = sizeof got;
    sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &l);
    check(got.tv_sec == 0 && got.tv_usec == 0, "SO_RCVTIMEO 0: none");

    /* A full socket and SO_SNDTIMEO: EAGAIN after the timeout. */
    tv = (struct timeval){ 0, 100000 };
    sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char big[65536];
    long total = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((r = sc(SYS_write, sv[0], big, sizeof big)) > 0)
        total += r;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check_err(r, EAGAIN, "write to a full socket past SO_SNDTIMEO");
    check(total > 0 && elapsed_ms(&t0, &t1) >= 80, "after about 0.1 s");

    /* Names. */
    struct sockaddr_un sa;
    memset(&sa, 0x55, sizeof sa);
    l = sizeof sa;
    check_ret(sc(SYS_getsockname, sv[0], &sa, &l), 0, "getsockname");
    check(l == 2 && sa.sun_family == AF_UNIX && (unsigned char)sa.sun_path[0] == 0x55,
          "getsockname: AF_UNIX, length 2");
    l = sizeof sa;
    check_ret(sc(SYS_getpeername, sv[1], &sa, &l), 0, "getpeername");
    check(l == 2 && sa.sun_family == AF_UNIX, "getpeername: AF_UNIX, length 2");
    l = 1;
    memset(&sa, 0, sizeof sa);
    check_ret(sc(SYS_getsockname, sv[0], &sa, &l), 0, "getsockname into 1 byte");
    check_ret(l, 2, "getsockname: the full length 2");
    int ml = -1;
    check_err(sc(SYS_getsockname, sv[0], &sa, &ml), EINVAL, "getsockname length -1");
    check_err(sc(SYS_getpeername, sv[0], &sa, BADPTR), EFAULT, "getpeername length unmapped");
    close2(sv);
}

static void test_notsock(void)
{
    int p[2];
    pipe(p);
    char b[4];
    int v;
    socklen_t l = sizeof v;
    struct msghdr mh = { 0 };
    check_err(send_(p[1], "x", 1, 0), ENOTSOCK, "send on a pipe");
    check_err(recv_(p[0], b, 1, 0), ENOTSOCK, "recv on a pipe");
    check_err(sc(SYS_sendmsg, p[1], &mh, 0), ENOTSOCK, "sendmsg on a pipe");
    check_err(sc(SYS_recvmsg, p[0], &mh, 0), ENOTSOCK, "recvmsg on a pipe");
    check_err(sc(SYS_shutdown, p[0], SHUT_RD), ENOTSOCK, "shutdown on a pipe");
    check_err(sc(SYS_getsockname, p[0], b, &l), ENOTSOCK, "getsockname on a pipe");
    check_err(sc(SYS_getpeername, p[0], b, &l), ENOTSOCK, "getpeername on a pipe");
    check_err(sc(SYS_getsockopt, p[0], SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK,
              "getsockopt on a pipe");
    check_err(sc(SYS_setsockopt, p[0], SOL_SOCKET, SO_TYPE, &v, l), ENOTSOCK,
              "setsockopt on a pipe");
    check_err(send_(-1, "x", 1, 0), EBADF, "send on -1");
    check_err(recv_(999, b, 1, 0), EBADF, "recv on 999");
    check_err(sc(SYS_shutdown, 999, SHUT_RD), EBADF, "shutdown on 999");
    check_err(sc(SYS_getsockopt, -1, SOL_SOCKET, SO_TYPE, &v, &l), EBADF, "getsockopt on -1");
    check_err(sc(SYS_sendmsg, 999, BADPTR, 0), EBADF, "sendmsg on 999 (before the msghdr)");
    close_pipe(p);
}

static void test_files(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    struct stat st;
    check_ret(sc(SYS_fstat, sv[0], &st), 0, "fstat");
    check(S_ISSOCK(st.st_mode), "S_IFSOCK");
    out("     mode %o nlink %ld size %ld blksize %ld\n", st.st_mode & 07777, (long)st.st_nlink,
        (long)st.st_size, (long)st.st_blksize);
    check(st.st_uid == geteuid() && st.st_gid == getegid(), "owned by us");
    struct stat st1;
    sc(SYS_fstat, sv[1], &st1);
    check(st1.st_ino != st.st_ino && st1.st_dev == st.st_dev, "two inodes on one device");
    char path[64], link[64], want[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
    long n = sc(SYS_readlink, path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
    check(strcmp(link, want) == 0, "/proc/self/fd link is socket:[st_ino]");
    check_err(sc(SYS_open, path, O_RDWR), ENXIO, "opening it again: ENXIO");
    check_err(sc(SYS_lseek, sv[0], 0, SEEK_SET), ESPIPE, "lseek: ESPIPE");
    check_err(sc(SYS_pread64, sv[0], path, 1, 0), ESPIPE, "pread: ESPIPE");
    check_err(sc(SYS_ioctl, sv[0], 0x1234, &n), ENOTTY, "unknown ioctl: ENOTTY");
    int on = 1;
    check_ret(sc(SYS_ioctl, sv[0], FIONBIO, &on), 0, "FIONBIO");
    check_ret(sc(SYS_fcntl, sv[0], F_GETFL), O_RDWR | O_NONBLOCK, "FIONBIO sets O_NONBLOCK");
    char b[4];
    check_err(sc(SYS_read, sv[0], b, 4), EAGAIN, "nonblocking read: EAGAIN");
    close2(sv);
}

static void test_poll(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    check(revents(sv[0], POLLIN | POLLOUT) == POLLOUT, "idle: POLLOUT");
    sc(SYS_write, sv[1], "x", 1);
    check(revents(sv[0], POLLIN | POLLOUT) == (POLLIN | POLLOUT), "data: POLLIN|POLLOUT");
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(sv[0], &rs);
    struct timeval tv = { 0, 0 };
    check_ret(sc(SYS_select, sv[0] + 1, &rs, 0, 0, &tv), 1, "select: readable");
    char b[4];
    sc(SYS_read, sv[0], b, 1);
    long ep = sc(SYS_epoll_create1, 0);
    struct epoll_event ev = { EPOLLIN | EPOLLRDHUP, { .u64 = 42 } }, out_ev[2];
    check_ret(sc(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, sv[0], &ev), 0, "epoll_ctl ADD a socket");
    check_ret(sc(SYS_epoll_wait, ep, out_ev, 2, 0), 0, "epoll: nothing yet");
    pid_t pid = fork_checked();
    if (pid == 0) {
        ms_sleep(100);
        sc(SYS_write, sv[1], "y", 1);
        ms_sleep(100);
        sc(SYS_shutdown, sv[1], SHUT_WR);
        child_done();
    }
    long r = sc(SYS_epoll_wait, ep, out_ev, 2, 10000);
    check(r == 1 && out_ev[0].data.u64 == 42 && out_ev[0].events == EPOLLIN,
          "epoll_wait woken by the child's write: EPOLLIN");
    sc(SYS_read, sv[0], b, 1);
    r = sc(SYS_epoll_wait, ep, out_ev, 2, 10000);
    check(r == 1 && out_ev[0].events == (EPOLLIN | EPOLLRDHUP),
          "epoll_wait woken by the child's SHUT_WR: EPOLLIN|EPOLLRDHUP");
    check_wait(pid, "exited 0", "poll child");
    struct pollfd pf = { sv[0], POLLIN, 0 };
    check_ret(sc(SYS_poll, &pf, 1, 1000), 1, "poll at EOF");
    sc(SYS_close, ep);
    close2(sv);
}

static void test_signals(void)
{
    int sv[2];
    pair(SOCK_STREAM, sv);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART */
    struct itimerval it = { { 0, 0 }, { 0, 100000 } };
    char b[4];
    setitimer(ITIMER_REAL, &it, NULL);
    long r = recv_(sv[0], b, sizeof b, 0);
    check_err(r, EINTR, "blocking recv interrupted by a handler without SA_RESTART");
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct timeval tv = { 5, 0 };
    sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setitimer(ITIMER_REAL, &it, NULL);
    r = recv_(sv[0], b, sizeof b, 0);
    check_err(r, EINTR, "with SO_RCVTIMEO, SA_RESTART still gives EINTR");
    tv = (struct timeval){ 0, 0 };
    sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    g_sigalrm = 0;
    pid_t pid = fork_checked();
    if (pid == 0) {
        ms_sleep(400);
        sc(SYS_write, sv[1], "late", 4);
        child_done();
    }
    setitimer(ITIMER_REAL, &it, NULL);
    r = recv_(sv[0], b, sizeof b, 0);
    check_ret(r, 4, "without a timeout, SA_RESTART restarts the recv");
    check(g_sigalrm == 1, "the handler ran");
    check_wait(pid, "exited 0", "late writer");
    close2(sv);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_create();
    test_stream_data();
    test_dgram(SOCK_DGRAM, "dgram");
    test_dgram(SOCK_SEQPACKET, "seqpacket");
    test_shutdown();
    test_sigpipe_default();
    test_blocking();
    test_rights();
    test_creds();
    test_options();
    test_notsock();
    test_files();
    test_poll();
    test_signals();
    return finish();
}
