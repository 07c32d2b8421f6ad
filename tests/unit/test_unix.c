/* Unit test of AF_UNIX pairs (src/net/unix.c) through their sock_ops,
 * without files or tasks: stream merging and peeking, the send buffer
 * (EAGAIN, POLLOUT, SIOCOUTQ), datagram boundaries and MSG_TRUNC,
 * EMSGSIZE, shutdown, the peer's release, and files in flight. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "net/socket.h"
#include "sched/wait.h"

static const struct sock_cred me = { 42, 1000, 1001 };

static void mkpair(int type, struct socket **a, struct socket **b)
{
    ck_assert_int_eq(unix_socketpair(type, 0, &me, a, b), 0);
}

static void put(struct socket *s)
{
    s->ops->release(s);
    sock_free(s);
}

/* A test on a new socket pair (a and b) of the type, dropped after it. */
#define PAIR_TEST(name, type) UNIT_PAIR_TEST(name, struct socket, a, b, mkpair((type), &a, &b), put)

static ssize_t snd(struct socket *s, const char *data, size_t len)
{
    struct sock_msg m = { .buf = (char *)data, .len = len, .cred = me };
    return s->ops->sendmsg(s, &m, 0, 1);
}

/* A pair of type whose a has sent "f" with the write end of a new pipe
 * (*w: the message took the reference); *r is the read end. */
/* A pair of sockets a and b, and a pipe whose write end w a has sent to
 * b ("f" with SCM_RIGHTS), its read end r kept. */
struct sent_pipe {
    struct socket *a, *b;
    struct file *r, *w;
};

static struct sent_pipe pair_sent_pipe(int type)
{
    struct sent_pipe p;
    mkpair(type, &p.a, &p.b);
    ck_assert_int_eq(pipe_create(NULL, O_NONBLOCK, &p.r, &p.w), 0);
    struct sock_msg m = { .buf = "f", .len = 1, .cred = me };
    m.fds = malloc(sizeof(*m.fds));
    m.fds[0] = p.w;
    m.nfds = 1;
    ck_assert_int_eq(p.a->ops->sendmsg(p.a, &m, 0, 1), 1);
    ck_assert_int_eq(m.nfds, 0);
    free(m.fds);
    return p;
}

static ssize_t rcv(struct socket *s, char *buf, size_t cap, int flags, struct sock_msg *out)
{
    struct sock_msg m = { .buf = buf, .cap = cap };
    ssize_t r = s->ops->recvmsg(s, &m, flags, 1);
    if (out)
        *out = m;
    else
        for (int i = 0; i < m.nfds; i++)
            file_put(m.fds[i]);
    if (!out)
        free(m.fds);
    return r;
}

PAIR_TEST(stream_merges_and_peeks, SOCK_STREAM)
{
    ck_assert_int_eq(snd(a, "abc", 3), 3);
    ck_assert_int_eq(snd(a, "def", 3), 3);
    ck_assert_int_eq(b->ops->inq(b), 6);
    ck_assert_int_gt(a->ops->outq(a), 6);
    char buf[16];
    ck_assert_int_eq(rcv(b, buf, 4, MSG_PEEK, NULL), 4);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), MSG_PEEK, NULL), 6);
    ck_assert_int_eq(rcv(b, buf, 2, 0, NULL), 2);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), 4);
    ck_assert(memcmp(buf, "cdef", 4) == 0);
    ck_assert_int_eq(a->ops->outq(a), 0);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), -EAGAIN);
}

PAIR_TEST(stream_buffer_fills, SOCK_STREAM)
{
    static char chunk[65536];
    ssize_t r, total = 0;
    while ((r = snd(a, chunk, sizeof(chunk))) > 0)
        total += r;
    ck_assert_int_eq(r, -EAGAIN);
    ck_assert_int_ge(total, SOCK_WMEM_DEFAULT - 65536);
    ck_assert_int_le(total, SOCK_WMEM_DEFAULT + 65536);
    ck_assert_int_eq(a->ops->poll(a, NULL) & POLLOUT, 0);
    ck_assert_int_eq(b->ops->poll(b, NULL) & POLLIN, POLLIN);
    while (rcv(b, chunk, sizeof(chunk), 0, NULL) > 0)
        ;
    ck_assert_int_eq(a->ops->poll(a, NULL) & POLLOUT, POLLOUT);
}

START_TEST(dgram_boundaries)
{
    struct socket *a, *b;
    mkpair(SOCK_DGRAM, &a, &b);
    ck_assert_int_eq(snd(a, "hello", 5), 5);
    ck_assert_int_eq(snd(a, "", 0), 0);
    ck_assert_int_eq(b->ops->inq(b), 5);
    char buf[16];
    struct sock_msg m;
    ck_assert_int_eq(rcv(b, buf, 2, MSG_TRUNC, &m), 5);
    ck_assert_int_eq(m.len, 2);
    ck_assert(m.flags & MSG_TRUNC);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), 0);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), -EAGAIN);
    static char big[SOCK_WMEM_DEFAULT];
    ck_assert_int_eq(snd(a, big, SOCK_WMEM_DEFAULT - 31), -EMSGSIZE);
    ck_assert_int_eq(snd(a, big, SOCK_WMEM_DEFAULT - 32), SOCK_WMEM_DEFAULT - 32);
    put(a);
    /* A datagram peer's release is no EOF: still EAGAIN. */
    ck_assert_int_eq(rcv(b, big, sizeof(big), 0, NULL), SOCK_WMEM_DEFAULT - 32);
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), -EAGAIN);
    ck_assert_int_eq(snd(b, "x", 1), -ECONNREFUSED);
    ck_assert_int_eq(snd(b, "x", 1), -ENOTCONN);
    put(b);
}
END_TEST

START_TEST(shutdown_and_release)
{
    struct socket *a, *b;
    mkpair(SOCK_STREAM, &a, &b);
    ck_assert_int_eq(a->ops->shutdown(a, 3), -EINVAL);
    ck_assert_int_eq(a->ops->shutdown(a, SHUT_WR), 0);
    ck_assert_int_eq(snd(a, "x", 1), -EPIPE);
    char buf[4];
    ck_assert_int_eq(rcv(b, buf, sizeof(buf), 0, NULL), 0);
    ck_assert_uint_eq(b->ops->poll(b, NULL),
                      POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLWRBAND);
    ck_assert_int_eq(snd(b, "y", 1), 1);
    put(a); /* with "y" unread: ECONNRESET for b, once */
    ck_assert_int_eq(b->ops->take_error(b), ECONNRESET);
    ck_assert_int_eq(b->ops->take_error(b), 0);
    ck_assert(b->ops->poll(b, NULL) & POLLHUP);
    ck_assert_int_eq(snd(b, "z", 1), -EPIPE);
    put(b);
}
END_TEST

START_TEST(files_in_flight_close_with_the_receiver)
{
    struct sent_pipe p = pair_sent_pipe(SOCK_STREAM);
    char buf[4];
    ck_assert_int_eq(pipe_read_buf(p.r, buf, sizeof(buf), 1), -EAGAIN); /* a writer lives */
    put(p.b);
    ck_assert_int_eq(pipe_read_buf(p.r, buf, sizeof(buf), 1), 0); /* EOF: it went with b */
    file_put(p.r);
    put(p.a);
}
END_TEST

START_TEST(files_are_received)
{
    struct sent_pipe p = pair_sent_pipe(SOCK_DGRAM);
    char buf[4];
    struct sock_msg got;
    ck_assert_int_eq(rcv(p.b, buf, sizeof(buf), MSG_PEEK, &got), 1);
    ck_assert_int_eq(got.nfds, 1);
    ck_assert_ptr_eq(got.fds[0], p.w);
    file_put(got.fds[0]);
    free(got.fds);
    ck_assert_int_eq(rcv(p.b, buf, sizeof(buf), 0, &got), 1);
    ck_assert_int_eq(got.nfds, 1);
    ck_assert_int_eq(got.cred.pid, 42);
    ck_assert_int_eq(pipe_write_buf(got.fds[0], "p", 1, 1), 1);
    ck_assert_int_eq(pipe_read_buf(p.r, buf, sizeof(buf), 1), 1);
    file_put(got.fds[0]);
    free(got.fds);
    file_put(p.r);
    put(p.a);
    put(p.b);
}
END_TEST

UNIT_MAIN("unix", "unix", NULL, NULL, 30, stream_merges_and_peeks, stream_buffer_fills,
          dgram_boundaries, shutdown_and_release, files_in_flight_close_with_the_receiver,
          files_are_received)
