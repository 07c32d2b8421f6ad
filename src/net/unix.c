/* AF_UNIX connected pairs (socketpair): stream, datagram and seqpacket
 * sockets with Linux's semantics. Each end has a receive queue of
 * messages; a sender's queued bytes (with Linux's per-message overhead)
 * count against its SO_SNDBUF until the peer reads them, so a writer
 * blocks while the peer does not read. Messages carry the files of
 * SCM_RIGHTS and the sender's credentials. One lock per pair covers both
 * ends; each end has one wait queue, woken with POLLIN when data comes
 * and POLLOUT when what it sent was read. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fs/file/file.h"
#include "fs/file/poll.h"
#include "net/socket.h"
#include "sched/wait.h"

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3
/* What a message costs its sender beyond its bytes (Linux's skb truesize
 * of a small unix message: 512 bytes of head and the sk_buff). */
#define MSG_OVERHEAD 768

struct kmsg {
    struct kmsg *next;
    struct unix_sock *owner; /* the sender, whose wmem it counts in */
    size_t len, off;         /* bytes, and how many a stream read took */
    size_t truesize;
    struct file **fds;
    int nfds;
    struct sock_cred cred;
    char data[];
};

struct unix_pair;

struct unix_sock {
    struct unix_pair *pair;
    struct socket *sock;
    struct kmsg *head, *tail; /* receive queue */
    size_t rq_bytes;          /* unread bytes in it */
    size_t wmem;              /* truesize of what this end sent, unread */
    int shutdown;             /* RCV_SHUTDOWN | SEND_SHUTDOWN */
    int err;                  /* pending error (ECONNRESET) */
    int dead;                 /* released */
    struct waitq wq;
};

struct unix_pair {
    pthread_mutex_t lock;
    int type;
    int refs; /* ends not yet released (atomic) */
    struct unix_sock end[2];
};

static struct unix_sock *usk(struct socket *s)
{
    return s->sk;
}

static struct unix_sock *peer_of(struct unix_sock *u)
{
    struct unix_pair *p = u->pair;
    return u == &p->end[0] ? &p->end[1] : &p->end[0];
}

static int sndbuf_of(struct unix_sock *u)
{
    return __atomic_load_n(&u->sock->sndbuf, __ATOMIC_RELAXED);
}

/* Linux's unix_writable: a quarter of the send buffer or less in flight. */
static int writable(struct unix_sock *u)
{
    return (u->wmem << 2) <= (size_t)sndbuf_of(u);
}

static void kmsg_free_list(struct kmsg *m)
{
    while (m) {
        struct kmsg *n = m->next;
        for (int i = 0; i < m->nfds; i++)
            file_put(m->fds[i]);
        free(m->fds);
        free(m);
        m = n;
    }
}

/* Unlink the head of u's queue (consumed): its sender gets the room back. */
static struct kmsg *dequeue(struct unix_sock *u)
{
    struct kmsg *m = u->head;
    u->head = m->next;
    if (!u->head)
        u->tail = NULL;
    m->next = NULL;
    u->rq_bytes -= m->len - m->off;
    struct unix_sock *o = m->owner;
    o->wmem -= m->truesize;
    wake_up_key(&o->wq, 1, POLLOUT | POLLWRNORM | POLLWRBAND);
    return m;
}

static void enqueue(struct unix_sock *to, struct unix_sock *from, struct kmsg *m)
{
    m->owner = from;
    from->wmem += m->truesize;
    if (to->tail)
        to->tail->next = m;
    else
        to->head = m;
    to->tail = m;
    to->rq_bytes += m->len;
    wake_up_key(&to->wq, 1, POLLIN | POLLRDNORM);
}

static struct kmsg *kmsg_new(const char *data, size_t len)
{
    struct kmsg *m = malloc(sizeof(*m) + len);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    if (len)
        memcpy(m->data, data, len);
    m->len = len;
    m->truesize = len + MSG_OVERHEAD;
    return m;
}

/* A message of len bytes at data (within the send m) with m's credentials,
 * taking the files m passes (SCM_RIGHTS), if any: NULL when out of memory. */
static struct kmsg *kmsg_of(struct sock_msg *m, const char *data, size_t len)
{
    struct kmsg *k = kmsg_new(data, len);
    if (!k)
        return NULL;
    k->cred = m->cred;
    if (m->nfds) {
        k->fds = m->fds;
        k->nfds = m->nfds;
        m->fds = NULL;
        m->nfds = 0;
    }
    return k;
}

/* Hand the files passed with k (SCM_RIGHTS) to the receive m: with peek,
 * new references (none when out of memory: the files stay with k); else
 * k's own, which it then no longer holds. */
static void fds_take(struct sock_msg *m, struct kmsg *k, int peek)
{
    if (peek) {
        m->fds = malloc((size_t)k->nfds * sizeof(*m->fds));
        if (m->fds) {
            for (int i = 0; i < k->nfds; i++) {
                file_get(k->fds[i]);
                m->fds[i] = k->fds[i];
            }
            m->nfds = k->nfds;
        }
    } else {
        m->fds = k->fds;
        m->nfds = k->nfds;
        k->fds = NULL;
        k->nfds = 0;
    }
}

static int take_err(struct unix_sock *u)
{
    int e = u->err;
    u->err = 0;
    return e;
}

/* How long a send or a receive may block: the socket's SO_SNDTIMEO or
 * SO_RCVTIMEO, and whether it may at all (the file's O_NONBLOCK or
 * MSG_DONTWAIT). */
struct unix_wait {
    int nonblock;
    int64_t timeo;
    struct timespec dlbuf;
    const struct timespec *dl;
};

/* The start of a send (send) or a receive on s: 0 and its wait (the
 * direction's timeout, MSG_DONTWAIT), or MSG_OOB's error (EINVAL from a
 * stream receive, as Linux without AF_UNIX OOB says). */
static int msg_start(struct socket *s, struct unix_wait *w, int flags, int nonblock, int send)
{
    if (flags & MSG_OOB)
        return send || s->type != SOCK_STREAM ? -EOPNOTSUPP : -EINVAL;
    w->timeo = __atomic_load_n(send ? &s->sndtimeo_ns : &s->rcvtimeo_ns, __ATOMIC_RELAXED);
    w->dl = sock_deadline(w->timeo, &w->dlbuf);
    w->nonblock = nonblock | ((flags & MSG_DONTWAIT) != 0);
    return 0;
}

/* Sleep on u's queue, the pair's lock held: 0 to look again, or -errno
 * (the timeout or a signal). */
static int wait_more(struct unix_sock *u, const struct unix_wait *w)
{
    int r = waitq_wait(current_task, &u->wq, &u->pair->lock, w->dl, w->dl ? 0 : WAIT_SPIN);
    return r < 0 ? sock_wait_error(r, w->timeo) : 0;
}

/* Wait for room to send (Linux's sock_alloc_send_pskb): 0, or -errno. */
static int wait_room(struct unix_sock *u, const struct unix_wait *w)
{
    for (;;) {
        int e = take_err(u);
        if (e)
            return -e;
        if (u->shutdown & SEND_SHUTDOWN)
            return -EPIPE;
        if (u->wmem < (size_t)sndbuf_of(u))
            return 0;
        if (w->nonblock)
            return -EAGAIN;
        int r = wait_more(u, w);
        if (r < 0)
            return r;
    }
}

/* ---- stream ---- */

static ssize_t stream_sendmsg(struct socket *s, struct sock_msg *m, struct unix_wait *w)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    size_t sent = 0;
    ssize_t err = 0;
    pthread_mutex_lock(&p->lock);
    if (u->shutdown & SEND_SHUTDOWN) {
        pthread_mutex_unlock(&p->lock);
        return -EPIPE;
    }
    while (sent < m->len) {
        int r = wait_room(u, w);
        if (r < 0) {
            err = r;
            break;
        }
        struct unix_sock *o = peer_of(u);
        if (o->dead || (o->shutdown & RCV_SHUTDOWN)) {
            err = -EPIPE;
            break;
        }
        size_t seg = m->len - sent;
        size_t maxseg = (size_t)(sndbuf_of(u) / 2) - 64;
        if (seg > maxseg)
            seg = maxseg;
        struct kmsg *k = kmsg_of(m, m->buf + sent, seg);
        if (!k) {
            err = -ENOMEM;
            break;
        }
        enqueue(o, u, k);
        sent += seg;
    }
    pthread_mutex_unlock(&p->lock);
    return sent ? (ssize_t)sent : err;
}

/* A stream read: up to cap bytes (all of them with MSG_WAITALL), stopping
 * after a message that carried files. */
static ssize_t stream_recvmsg(struct socket *s, struct sock_msg *m, int flags, struct unix_wait *w)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    int peek = (flags & MSG_PEEK) != 0;
    int passcred = __atomic_load_n(&s->passcred, __ATOMIC_RELAXED);
    size_t target = (flags & MSG_WAITALL) ? m->cap : 1;
    size_t copied = 0;
    ssize_t err = 0;
    struct kmsg *done = NULL, **done_tail = &done;
    m->len = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct kmsg *k = u->head;
        size_t skip = 0;
        /* A peek reads on from the start; past what it already saw. */
        if (peek)
            for (skip = copied; k && skip >= k->len - k->off; k = k->next)
                skip -= k->len - k->off;
        if (!k) {
            if (copied >= target)
                break;
            int e = take_err(u);
            if (e) {
                err = -e;
                break;
            }
            if (u->shutdown & RCV_SHUTDOWN)
                break;
            if (w->nonblock) {
                err = -EAGAIN;
                break;
            }
            int r = wait_more(u, w);
            if (r < 0) {
                err = r;
                break;
            }
            continue;
        }
        /* Messages with other credentials are not merged (SO_PASSCRED). */
        if (passcred && copied &&
            (k->cred.pid != m->cred.pid || k->cred.uid != m->cred.uid ||
             k->cred.gid != m->cred.gid))
            break;
        if (copied == 0) {
            m->cred = k->cred;
            m->has_cred = passcred;
        }
        size_t avail = k->len - k->off - skip;
        size_t n = avail < m->cap - copied ? avail : m->cap - copied;
        memcpy(m->buf + copied, k->data + k->off + skip, n);
        copied += n;
        int had_fds = k->nfds != 0;
        if (had_fds && !m->fds)
            fds_take(m, k, peek);
        if (!peek) {
            k->off += n;
            u->rq_bytes -= n;
            if (k->off == k->len) {
                struct kmsg *d = dequeue(u);
                *done_tail = d;
                done_tail = &d->next;
            }
        }
        if (had_fds)
            break;
        if (copied == m->cap)
            break;
        if (peek && copied >= target && !k->next)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    kmsg_free_list(done);
    m->len = copied;
    return copied ? (ssize_t)copied : err;
}

/* ---- datagram and seqpacket ---- */

static ssize_t dgram_sendmsg(struct socket *s, struct sock_msg *m, struct unix_wait *w)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    int seqpacket = s->type == SOCK_SEQPACKET;
    ssize_t r;
    pthread_mutex_lock(&p->lock);
    struct unix_sock *o = peer_of(u);
    if (seqpacket && (r = take_err(u))) {
        r = -r;
        goto out;
    }
    /* A datagram socket whose peer went is disconnected after one
     * ECONNREFUSED (Linux's unix_dgram_disconnected): ENOTCONN after. */
    if (!seqpacket && o->dead == 2) {
        r = -ENOTCONN;
        goto out;
    }
    if (m->len + 32 > (size_t)sndbuf_of(u)) {
        r = -EMSGSIZE;
        goto out;
    }
    if ((r = wait_room(u, w)) < 0)
        goto out;
    if (o->dead) {
        if (seqpacket) {
            r = -EPIPE;
        } else {
            o->dead = 2; /* told once */
            r = -ECONNREFUSED;
        }
        goto out;
    }
    if (o->shutdown & RCV_SHUTDOWN) {
        r = -EPIPE;
        goto out;
    }
    struct kmsg *k = kmsg_of(m, m->buf, m->len);
    if (!k) {
        r = -ENOMEM;
        goto out;
    }
    enqueue(o, u, k);
    r = (ssize_t)m->len;
out:
    pthread_mutex_unlock(&p->lock);
    return r;
}

static ssize_t dgram_recvmsg(struct socket *s, struct sock_msg *m, int flags, struct unix_wait *w)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    int peek = (flags & MSG_PEEK) != 0;
    ssize_t r;
    struct kmsg *k = NULL;
    m->len = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int e = take_err(u);
        if (e) {
            r = -e;
            goto out;
        }
        if (u->head)
            break;
        /* A seqpacket socket shut for reading is at EOF even when
         * nonblocking; a datagram one only says so to a blocking read. */
        if (w->nonblock) {
            r = s->type == SOCK_SEQPACKET && (u->shutdown & RCV_SHUTDOWN) ? 0 : -EAGAIN;
            goto out;
        }
        if (u->shutdown & RCV_SHUTDOWN) {
            r = 0;
            goto out;
        }
        if ((r = wait_more(u, w)) < 0)
            goto out;
    }
    k = u->head;
    size_t n = k->len < m->cap ? k->len : m->cap;
    if (n < k->len)
        m->flags |= MSG_TRUNC;
    memcpy(m->buf, k->data, n);
    m->len = n;
    m->full = k->len;
    m->cred = k->cred;
    m->has_cred = __atomic_load_n(&s->passcred, __ATOMIC_RELAXED);
    if (k->nfds)
        fds_take(m, k, peek);
    if (peek)
        k = NULL;
    else
        dequeue(u);
    r = (flags & MSG_TRUNC) ? (ssize_t)m->full : (ssize_t)n;
out:
    pthread_mutex_unlock(&p->lock);
    kmsg_free_list(k);
    return r;
}

/* ---- common ---- */

static unsigned unix_poll(struct socket *s, struct poll_table *pt)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    poll_wait(pt, &u->wq);
    pthread_mutex_lock(&p->lock);
    unsigned mask = 0;
    if (u->err)
        mask |= POLLERR;
    if (u->shutdown & RCV_SHUTDOWN)
        mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (u->shutdown == SHUTDOWN_MASK)
        mask |= POLLHUP;
    if (u->head)
        mask |= POLLIN | POLLRDNORM;
    if (writable(u))
        mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    pthread_mutex_unlock(&p->lock);
    return mask;
}

static int unix_shutdown(struct socket *s, int how)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -EINVAL;
    int mode = (how + 1) & SHUTDOWN_MASK;
    pthread_mutex_lock(&p->lock);
    u->shutdown |= mode;
    struct unix_sock *o = peer_of(u);
    int woke_peer = 0;
    if (s->type != SOCK_DGRAM && !o->dead) {
        int pm = 0;
        if (mode & RCV_SHUTDOWN)
            pm |= SEND_SHUTDOWN;
        if (mode & SEND_SHUTDOWN)
            pm |= RCV_SHUTDOWN;
        o->shutdown |= pm;
        woke_peer = 1;
    }
    unsigned all = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLRDHUP | POLLERR;
    wake_up_key(&u->wq, 0, all);
    if (woke_peer)
        wake_up_key(&o->wq, 0, all);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Unnamed: only the family (addrlen 2). */
static int unix_getname(struct socket *s, void *addr, int peer)
{
    (void)s, (void)peer;
    sa_family_t fam = AF_UNIX;
    memcpy(addr, &fam, sizeof(fam));
    return (int)sizeof(fam);
}

static long unix_inq(struct socket *s)
{
    struct unix_sock *u = usk(s);
    pthread_mutex_lock(&u->pair->lock);
    long n = s->type != SOCK_DGRAM ? (long)u->rq_bytes : u->head ? (long)u->head->len : 0;
    pthread_mutex_unlock(&u->pair->lock);
    return n;
}

static long unix_outq(struct socket *s)
{
    struct unix_sock *u = usk(s);
    pthread_mutex_lock(&u->pair->lock);
    long n = (long)u->wmem;
    pthread_mutex_unlock(&u->pair->lock);
    return n;
}

static int unix_take_error(struct socket *s)
{
    struct unix_sock *u = usk(s);
    pthread_mutex_lock(&u->pair->lock);
    int e = take_err(u);
    pthread_mutex_unlock(&u->pair->lock);
    return e;
}

static void pair_put(struct unix_pair *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL))
        return;
    for (int i = 0; i < 2; i++)
        waitq_destroy(&p->end[i].wq);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* The last close of an end: the peer of a stream or seqpacket socket can
 * neither send nor receive more (and gets ECONNRESET if this end left
 * data unread); what was queued for this end goes, with its files. */
static void unix_release(struct socket *s)
{
    struct unix_sock *u = usk(s);
    struct unix_pair *p = u->pair;
    pthread_mutex_lock(&p->lock);
    struct unix_sock *o = peer_of(u);
    u->dead = 1;
    u->shutdown = SHUTDOWN_MASK;
    if (s->type != SOCK_DGRAM && !o->dead) {
        o->shutdown = SHUTDOWN_MASK;
        if (u->head)
            o->err = ECONNRESET;
    }
    struct kmsg *purge = NULL, **tail = &purge;
    while (u->head) {
        struct kmsg *k = dequeue(u);
        *tail = k;
        tail = &k->next;
    }
    u->sock = NULL;
    if (!o->dead)
        wake_up_key(&o->wq, 0,
                    POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLRDHUP | POLLERR);
    pthread_mutex_unlock(&p->lock);
    /* Files in flight may be sockets whose release takes other locks. */
    kmsg_free_list(purge);
    pair_put(p);
}

/* A send or a receive: its start, then the stream or datagram/seqpacket
 * one. */
static ssize_t unix_sendmsg(struct socket *s, struct sock_msg *m, int flags, int nonblock)
{
    struct unix_wait w;
    int start = msg_start(s, &w, flags, nonblock, 1);
    if (start < 0)
        return start;
    return s->type == SOCK_STREAM ? stream_sendmsg(s, m, &w) : dgram_sendmsg(s, m, &w);
}

static ssize_t unix_recvmsg(struct socket *s, struct sock_msg *m, int flags, int nonblock)
{
    struct unix_wait w;
    int start = msg_start(s, &w, flags, nonblock, 0);
    if (start < 0)
        return start;
    return s->type == SOCK_STREAM ? stream_recvmsg(s, m, flags, &w)
                                  : dgram_recvmsg(s, m, flags, &w);
}

static const struct sock_ops unix_ops = {
    .sendmsg = unix_sendmsg,
    .recvmsg = unix_recvmsg,
    .poll = unix_poll,
    .shutdown = unix_shutdown,
    .getname = unix_getname,
    .inq = unix_inq,
    .outq = unix_outq,
    .take_error = unix_take_error,
    .release = unix_release,
};

int unix_socketpair(int type, int protocol, const struct sock_cred *peercred, struct socket **a,
                    struct socket **b)
{
    if (protocol && protocol != PF_UNIX)
        return -EPROTONOSUPPORT;
    if (type == SOCK_RAW)
        type = SOCK_DGRAM;
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return -ESOCKTNOSUPPORT;
    struct unix_pair *p = calloc(1, sizeof(*p));
    struct socket *s[2] = { sock_alloc(AF_UNIX, type, 0, &unix_ops),
                            sock_alloc(AF_UNIX, type, 0, &unix_ops) };
    if (!p || !s[0] || !s[1]) {
        free(p);
        sock_free(s[0]);
        sock_free(s[1]);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->type = type;
    p->refs = 2;
    for (int i = 0; i < 2; i++) {
        p->end[i].pair = p;
        p->end[i].sock = s[i];
        waitq_init(&p->end[i].wq);
        s[i]->sk = &p->end[i];
        s[i]->peercred = *peercred;
        s[i]->has_peercred = 1;
    }
    *a = s[0];
    *b = s[1];
    return 0;
}
