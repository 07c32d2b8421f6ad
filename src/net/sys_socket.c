/* The socket syscalls: socket, socketpair, sendto, recvfrom, sendmsg,
 * recvmsg, shutdown, getsockname, getpeername, setsockopt, getsockopt.
 * They look the socket up (EBADF, ENOTSOCK), copy guest memory in and
 * out (msghdr, iovecs, control messages, addresses, options), and call
 * the family's operations (include/net/socket.h) with sentry buffers.
 * SCM_RIGHTS files are installed in the receiver's table here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "net/socket.h"
#include "sentry/creds.h"
#include "sentry/kernel.h"
#include "sentry/mm.h"
#include "sentry/process.h"
#include "sentry/syscall.h"

#define SOCK_CHUNK (64 * 1024)
#define STREAM_RECV_MAX (256 * 1024)
#define DGRAM_RECV_MAX (1024 * 1024)
#define OPTMEM_MAX 131072
#define SOCKADDR_STORAGE 128
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif
#define HZ 250 /* the timeouts are kept in jiffies, as Linux (CONFIG_HZ=250) */
#define JIFFY_NS (1000000000LL / HZ)

/* The socket file at fd (with a reference) and its socket. */
static long sockfd(struct task *t, int fd, struct file **fp, struct socket **sp)
{
    struct file *f = fget(t, fd);
    if (!f)
        return -EBADF;
    struct socket *s = sock_of(f);
    if (!s) {
        file_put(f);
        return -ENOTSOCK;
    }
    *fp = f;
    *sp = s;
    return 0;
}

/* What a socket syscall does once sock_call has found its socket. */
typedef long (*sock_fn)(struct task *t, struct file *f, struct socket *s, const struct sysargs *a);

/* Run fn on the socket at a->a[0] (EBADF, ENOTSOCK) and drop the reference:
 * the body of every syscall on one socket (SOCK_SYSCALL). */
static long sock_call(struct task *t, const struct sysargs *a, sock_fn fn)
{
    struct file *f;
    struct socket *s;
    long r = sockfd(t, (int)a->a[0], &f, &s);
    if (r < 0)
        return r;
    r = fn(t, f, s, a);
    file_put(f);
    return r;
}

#define SOCK_SYSCALL(name) SYSCALL_AS(name, sock_call, name##_on)

static int nonblocking(struct file *f)
{
    return (__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK) != 0;
}

static void task_cred(struct task *t, struct sock_cred *c, int effective)
{
    c->pid = t->proc->pid;
    c->uid = effective ? t->cred->euid : t->cred->uid;
    c->gid = effective ? t->cred->egid : t->cred->gid;
}

/* ---- socket, socketpair ---- */

SYSCALL_DEFINE3(socket, int, family, int, utype, int, protocol)
{
    (void)family, (void)protocol;
    if ((utype & ~0xf) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    /* No family can make a socket yet (socketpair can). */
    return -EAFNOSUPPORT;
}

/* A file that only holds a descriptor while socketpair finds out whether
 * it has two to give (Linux reserves them before anything else). */
static const struct file_ops reserve_fops = { .name = "socket" };

SYSCALL_DEFINE4(socketpair, int, family, int, utype, int, protocol, uint64_t, usv)
{
    int flags = utype & ~0xf;
    int type = utype & 0xf;
    if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
        return -EINVAL;
    int cloexec = (flags & SOCK_CLOEXEC) != 0;
    int nonblock = (flags & SOCK_NONBLOCK) != 0;

    /* What creating the pair gives, found out first but reported after
     * the descriptors and sv (as Linux's order). */
    long err = 0;
    struct socket *s[2] = { NULL, NULL };
    if (family < 0 || family >= 46 /* NPROTO */)
        err = -EAFNOSUPPORT;
    else if (type >= 11 /* SOCK_MAX */)
        err = -EINVAL;
    else if (family != AF_UNIX)
        /* Families Linux has answer EOPNOTSUPP (sock_no_socketpair); this
         * sentry has no other family: the common answer. */
        err = family == AF_INET || family == AF_INET6 || family == AF_NETLINK || family == AF_PACKET
                  ? -EOPNOTSUPP
                  : -EAFNOSUPPORT;
    else {
        struct sock_cred pc;
        task_cred(t, &pc, 1);
        err = unix_socketpair(type, protocol, &pc, &s[0], &s[1]);
    }
    struct file *f[2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
        if (!err) {
            f[i] = sock_file_new(s[i], t->cred->fsuid, t->cred->fsgid, nonblock);
            if (!f[i]) {
                err = -ENOMEM;
                for (int j = i; j < 2; j++) {
                    s[j]->ops->release(s[j]);
                    sock_free(s[j]);
                }
                if (i == 1) {
                    file_put(f[0]);
                    f[0] = NULL;
                }
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (!f[i] && !(f[i] = file_new(&reserve_fops, O_RDWR))) {
            if (i == 1)
                file_put(f[0]);
            return -ENOMEM;
        }
    int fd[2];
    fd[0] = fd_install(t->proc->files, 0, fd_limit(t), f[0], cloexec);
    if (fd[0] < 0) {
        file_put(f[0]);
        file_put(f[1]);
        return fd[0];
    }
    fd[1] = fd_install(t->proc->files, 0, fd_limit(t), f[1], cloexec);
    if (fd[1] < 0) {
        fd_close(t->proc->files, fd[0]);
        file_put(f[1]);
        return fd[1];
    }
    if (copy_out(t, usv, fd, sizeof(fd)) < 0)
        err = -EFAULT;
    if (err) {
        fd_close(t->proc->files, fd[0]);
        fd_close(t->proc->files, fd[1]);
        return err;
    }
    return 0;
}

/* ---- data ---- */

/* Gather len bytes from offset off of the iovecs into buf: 0 or -EFAULT. */
static long gather(struct task *t, const struct iovec *iov, uint64_t cnt, size_t off, char *buf,
                   size_t len)
{
    for (uint64_t i = 0; i < cnt && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
        if (copy_in(t, buf, (uint64_t)(uintptr_t)iov[i].iov_base + off, n) < 0)
            return -EFAULT;
        buf += n;
        len -= n;
        off = 0;
    }
    return 0;
}

/* Scatter len bytes of buf over the iovecs from offset off: 0 or -EFAULT. */
static long scatter(struct task *t, const struct iovec *iov, uint64_t cnt, size_t off,
                    const char *buf, size_t len)
{
    for (uint64_t i = 0; i < cnt && len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t n = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
        if (copy_out(t, (uint64_t)(uintptr_t)iov[i].iov_base + off, buf, n) < 0)
            return -EFAULT;
        buf += n;
        len -= n;
        off = 0;
    }
    return 0;
}

struct cmsg_hdr {
    uint64_t len;
    int32_t level, type;
};
#define CMSG_HDR 16
#define CMSG_ALIGN8(n) (((n) + 7) & ~(size_t)7)

static void put_files(struct file **fds, int n)
{
    for (int i = 0; i < n; i++)
        file_put(fds[i]);
    free(fds);
}

/* Linux's scm_send: the control messages of a send (SOL_SOCKET's
 * SCM_RIGHTS and SCM_CREDENTIALS; other levels are skipped). */
static long scm_send(struct task *t, const char *ctl, size_t clen, struct sock_msg *m)
{
    size_t off = 0;
    while (clen - off >= CMSG_HDR) {
        struct cmsg_hdr h;
        memcpy(&h, ctl + off, sizeof(h));
        if (h.len < CMSG_HDR || h.len > clen - off)
            return -EINVAL;
        const char *data = ctl + off + CMSG_HDR;
        size_t dlen = h.len - CMSG_HDR;
        if (h.level == SOL_SOCKET) {
            if (h.type == SCM_RIGHTS) {
                int n = (int)(dlen / sizeof(int));
                if (n > 0) {
                    if (m->nfds + n > SOCK_MAX_FDS)
                        return -EINVAL;
                    struct file **nf = realloc(m->fds, (size_t)(m->nfds + n) * sizeof(*nf));
                    if (!nf)
                        return -ENOMEM;
                    m->fds = nf;
                    for (int i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, data + (size_t)i * sizeof(int), sizeof(fd));
                        struct file *f = fget(t, fd);
                        if (!f)
                            return -EBADF;
                        m->fds[m->nfds++] = f;
                    }
                }
            } else if (h.type == SCM_CREDENTIALS) {
                struct sock_cred c;
                if (dlen != sizeof(c))
                    return -EINVAL;
                memcpy(&c, data, sizeof(c));
                const struct creds *cr = t->cred;
                if (c.pid != t->proc->pid && !creds_capable(cr, GCAP_SYS_ADMIN))
                    return -EPERM;
                if (c.uid != cr->uid && c.uid != cr->euid && c.uid != cr->suid &&
                    !creds_capable(cr, GCAP_SETUID))
                    return -EPERM;
                if (c.gid != cr->gid && c.gid != cr->egid && c.gid != cr->sgid &&
                    !creds_capable(cr, GCAP_SETGID))
                    return -EPERM;
                m->cred = c;
            } else {
                return -EINVAL;
            }
        }
        size_t step = CMSG_ALIGN8(h.len);
        if (step > clen - off)
            break;
        off += step;
    }
    return 0;
}

/* A send of the data in iov (total bytes) with the control messages
 * ctl and the address name (namelen 0: none). */
static long do_send(struct task *t, struct file *f, struct socket *s, const struct iovec *iov,
                    uint64_t cnt, size_t total, int flags, const char *ctl, size_t clen,
                    const char *name, int namelen)
{
    struct sock_msg m;
    memset(&m, 0, sizeof(m));
    task_cred(t, &m.cred, 0);
    long r = scm_send(t, ctl, clen, &m);
    if (r < 0)
        goto out;
    if (flags & MSG_OOB) {
        r = -EOPNOTSUPP;
        goto out;
    }
    if (namelen) {
        if (s->type == SOCK_STREAM) {
            r = -EISCONN;
            goto out;
        }
        if (s->type == SOCK_DGRAM) {
            /* unix_validate_addr, then the lookup: no socket has a name
             * yet, so every name is refused. */
            sa_family_t fam;
            memcpy(&fam, name, sizeof(fam) < (size_t)namelen ? sizeof(fam) : (size_t)namelen);
            if (namelen <= (int)sizeof(fam) || namelen > (int)sizeof(struct sockaddr_un) ||
                fam != AF_UNIX)
                r = -EINVAL;
            else
                r = -ECONNREFUSED;
            goto out;
        }
    }
    int nb = nonblocking(f);
    if (s->type != SOCK_STREAM) {
        if (total + 32 > (size_t)__atomic_load_n(&s->sndbuf, __ATOMIC_RELAXED)) {
            r = -EMSGSIZE;
            goto out;
        }
        m.buf = malloc(total ? total : 1);
        if (!m.buf) {
            r = -ENOMEM;
            goto out;
        }
        m.len = total;
        if ((r = gather(t, iov, cnt, 0, m.buf, total)) == 0)
            r = s->ops->sendmsg(s, &m, flags, nb);
        free(m.buf);
        goto out;
    }
    size_t cap = total < SOCK_CHUNK ? total : SOCK_CHUNK;
    char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        r = -ENOMEM;
        goto out;
    }
    size_t sent = 0;
    r = 0;
    do {
        size_t n = total - sent < cap ? total - sent : cap;
        long g = gather(t, iov, cnt, sent, buf, n);
        if (g < 0) {
            r = sent ? (long)sent : g;
            break;
        }
        m.buf = buf;
        m.len = n;
        ssize_t w = s->ops->sendmsg(s, &m, flags, nb);
        if (w < 0) {
            r = sent ? (long)sent : w;
            break;
        }
        sent += (size_t)w;
        r = (long)sent;
        if ((size_t)w < n)
            break;
    } while (sent < total);
    free(buf);
out:
    put_files(m.fds, m.nfds);
    /* A stream write nobody will read: SIGPIPE too (unix_stream_sendmsg). */
    if (r == -EPIPE && s->type == SOCK_STREAM && !(flags & MSG_NOSIGNAL))
        signal_thread(t, SIGPIPE);
    return r;
}

/* The control buffer of a recvmsg being filled (put_cmsg). */
struct cmsg_out {
    uint64_t at; /* guest address, or 0 */
    size_t room; /* bytes left */
    size_t used; /* bytes written */
    int *msg_flags;
};

static long put_cmsg(struct task *t, struct cmsg_out *c, int level, int type, const void *data,
                     size_t len)
{
    if (!c->at || c->room < CMSG_HDR) {
        *c->msg_flags |= MSG_CTRUNC;
        return 0;
    }
    size_t cmlen = CMSG_HDR + len;
    if (c->room < cmlen) {
        *c->msg_flags |= MSG_CTRUNC;
        cmlen = c->room;
    }
    struct cmsg_hdr h = { cmlen, level, type };
    if (copy_out(t, c->at, &h, sizeof(h)) < 0 ||
        copy_out(t, c->at + CMSG_HDR, data, cmlen - CMSG_HDR) < 0)
        return -EFAULT;
    size_t step = CMSG_ALIGN8(CMSG_HDR + len);
    if (step > c->room)
        step = c->room;
    c->at += step;
    c->room -= step;
    c->used += step;
    return 0;
}

/* scm_detach_fds: install the received files (as many as fit), the rest
 * are closed; MSG_CTRUNC if any did not make it. */
static long detach_fds(struct task *t, struct cmsg_out *c, struct file **fds, int nfds, int cloexec)
{
    int fdmax = c->at && c->room > CMSG_HDR ? (int)((c->room - CMSG_HDR) / sizeof(int)) : 0;
    if (fdmax > nfds)
        fdmax = nfds;
    long err = 0;
    int i;
    for (i = 0; i < fdmax; i++) {
        int fd = fd_install(t->proc->files, 0, fd_limit(t), fds[i], cloexec);
        if (fd < 0)
            break;
        if (copy_out(t, c->at + CMSG_HDR + (uint64_t)i * sizeof(int), &fd, sizeof(fd)) < 0) {
            fds[i] = NULL;
            fd_close(t->proc->files, fd);
            err = -EFAULT;
            i++;
            break;
        }
        fds[i] = NULL; /* the table has it */
    }
    if (i > 0 && !err) {
        struct cmsg_hdr h = { CMSG_HDR + (size_t)i * sizeof(int), SOL_SOCKET, SCM_RIGHTS };
        if (copy_out(t, c->at, &h, sizeof(h)) < 0) {
            err = -EFAULT;
        } else {
            size_t step = CMSG_ALIGN8(h.len);
            if (step > c->room)
                step = c->room;
            c->at += step;
            c->room -= step;
            c->used += step;
        }
    }
    if (i < nfds || (nfds && fdmax <= 0))
        *c->msg_flags |= MSG_CTRUNC;
    for (int j = 0; j < nfds; j++)
        if (fds[j])
            file_put(fds[j]);
    free(fds);
    return err;
}

/* A receive into iov (total bytes). ctl (0: none) and clen the control
 * buffer; *msg_flags gets MSG_TRUNC/MSG_CTRUNC; *ctl_used what was
 * written there. Returns the length or -errno. */
static long do_recv(struct task *t, struct file *f, struct socket *s, const struct iovec *iov,
                    uint64_t cnt, size_t total, int flags, uint64_t ctl, size_t clen,
                    int *msg_flags, size_t *ctl_used)
{
    int nb = nonblocking(f);
    int stream = s->type == SOCK_STREAM;
    size_t max = stream ? STREAM_RECV_MAX : DGRAM_RECV_MAX;
    size_t cap = total < max ? total : max;
    char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return -ENOMEM;
    struct sock_msg m;
    memset(&m, 0, sizeof(m));
    m.buf = buf;
    m.cap = cap;
    long r = s->ops->recvmsg(s, &m, flags, nb);
    size_t got = r > 0 ? m.len : 0;
    if (r > 0 && scatter(t, iov, cnt, 0, buf, m.len) < 0)
        r = -EFAULT;
    /* MSG_WAITALL past one buffer: go on a buffer at a time. */
    while (r > 0 && stream && (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && !m.nfds &&
           m.len == cap && got < total) {
        struct sock_msg more;
        memset(&more, 0, sizeof(more));
        more.buf = buf;
        more.cap = total - got < cap ? total - got : cap;
        long r2 = s->ops->recvmsg(s, &more, flags, nb);
        if (r2 <= 0)
            break;
        if (scatter(t, iov, cnt, got, buf, more.len) < 0)
            break;
        got += more.len;
        m.nfds = more.nfds;
        m.fds = more.fds;
        m.len = more.len;
        cap = more.cap;
    }
    if (r > 0)
        r = stream ? (long)got : r;
    free(buf);
    *msg_flags |= m.flags;
    struct cmsg_out c = { ctl, clen, 0, msg_flags };
    if (r >= 0) {
        long e = 0;
        if (m.has_cred) {
            struct sock_cred cr = m.cred;
            e = put_cmsg(t, &c, SOL_SOCKET, SCM_CREDENTIALS, &cr, sizeof(cr));
        }
        if (m.nfds) {
            long e2 = detach_fds(t, &c, m.fds, m.nfds, (flags & MSG_CMSG_CLOEXEC) != 0);
            m.fds = NULL;
            m.nfds = 0;
            if (!e)
                e = e2;
        }
        if (e < 0)
            r = e;
    }
    put_files(m.fds, m.nfds);
    *ctl_used = c.used;
    return r;
}

/* move_addr_to_user with an unnamed address (klen 0): *ulen becomes 0. */
static long addr_out_empty(struct task *t, uint64_t ulen)
{
    int len;
    if (copy_in(t, &len, ulen, sizeof(len)) < 0)
        return -EFAULT;
    if (len < 0)
        return -EINVAL;
    len = 0;
    return copy_out(t, ulen, &len, sizeof(len)) < 0 ? -EFAULT : 0;
}

/* The one buffer of sendto and recvfrom (a[1], a[2]) as an iovec, its
 * count clamped to MAX_RW_COUNT after the range check, as import_ubuf. */
static long one_buf(const struct sysargs *a, struct iovec *one)
{
    size_t len = (size_t)a->a[2];
    if (len > MAX_RW_COUNT)
        len = MAX_RW_COUNT;
    if (!guest_range_ok(a->a[1], len))
        return -EFAULT;
    *one = (struct iovec){ (void *)(uintptr_t)a->a[1], len };
    return 0;
}

static long sendto_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    int flags = (int)a->a[3];
    uint64_t uaddr = a->a[4];
    int addrlen = (int)a->a[5];
    char name[SOCKADDR_STORAGE];
    int namelen = 0;
    struct iovec one;
    long r = one_buf(a, &one);
    if (r < 0)
        return r;
    if (uaddr) {
        if (addrlen < 0 || addrlen > SOCKADDR_STORAGE)
            return -EINVAL;
        if (addrlen && copy_in(t, name, uaddr, (size_t)addrlen) < 0)
            return -EFAULT;
        namelen = addrlen;
    }
    return do_send(t, f, s, &one, 1, one.iov_len, flags, NULL, 0, name, namelen);
}

static long recvfrom_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    int flags = (int)a->a[3];
    uint64_t uaddr = a->a[4];
    uint64_t ulen = a->a[5];
    struct iovec one;
    long r = one_buf(a, &one);
    if (r < 0)
        return r;
    int mf = 0;
    size_t used;
    r = do_recv(t, f, s, &one, 1, one.iov_len, flags & ~MSG_CMSG_CLOEXEC, 0, 0, &mf, &used);
    if (r >= 0 && uaddr) {
        long e = addr_out_empty(t, ulen);
        if (e < 0)
            r = e;
    }
    return r;
}

SOCK_SYSCALL(sendto)
SOCK_SYSCALL(recvfrom)

/* struct msghdr as the guest lays it out. */
struct guest_msghdr {
    uint64_t name;
    int32_t namelen;
    int32_t pad;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    int32_t flags;
    int32_t pad2;
};

/* Copy in the guest's msghdr at umsg and import its iovecs, as
 * copy_msghdr_from_user does. With name (sendmsg) the address is copied in
 * too, at most SOCKADDR_STORAGE bytes, its length in *namelen (left alone
 * when the header names none). Returns the bytes the iovecs cover, the
 * array in *iov (the caller frees it), or the error with *iov NULL. */
static long msghdr_in(struct task *t, uint64_t umsg, struct guest_msghdr *h, char *name,
                      int *namelen, struct iovec **iov)
{
    *iov = NULL;
    if (copy_in(t, h, umsg, sizeof(*h)) < 0)
        return -EFAULT;
    if (h->namelen < 0)
        return -EINVAL;
    if (name && h->name) {
        *namelen = h->namelen > SOCKADDR_STORAGE ? SOCKADDR_STORAGE : h->namelen;
        if (*namelen && copy_in(t, name, h->name, (size_t)*namelen) < 0)
            return -EFAULT;
    }
    if (h->iovlen > UIO_MAXIOV)
        return -EMSGSIZE;
    return import_iovec(t, h->iov, h->iovlen, iov);
}

static long sendmsg_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    uint64_t umsg = a->a[1];
    int flags = (int)a->a[2];
    struct guest_msghdr h;
    struct iovec *iov;
    char *ctl = NULL;
    char name[SOCKADDR_STORAGE];
    int namelen = 0;
    long r;
    long total = msghdr_in(t, umsg, &h, name, &namelen, &iov);
    if (total < 0) {
        r = total;
        goto out;
    }
    if (h.controllen > INT_MAX || h.controllen >= OPTMEM_MAX) {
        r = -ENOBUFS;
        goto out;
    }
    if (h.controllen) {
        ctl = malloc(h.controllen);
        if (!ctl) {
            r = -ENOMEM;
            goto out;
        }
        if (copy_in(t, ctl, h.control, h.controllen) < 0) {
            r = -EFAULT;
            goto out;
        }
    }
    r = do_send(t, f, s, iov, h.iovlen, (size_t)total, flags, ctl, h.controllen, name, namelen);
out:
    free(ctl);
    free(iov);
    return r;
}

static long recvmsg_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    uint64_t umsg = a->a[1];
    int flags = (int)a->a[2];
    struct guest_msghdr h;
    struct iovec *iov;
    long r;
    long total = msghdr_in(t, umsg, &h, NULL, NULL, &iov);
    if (total < 0) {
        r = total;
        goto out;
    }
    if (h.controllen > INT_MAX)
        h.controllen = INT_MAX;
    int mf = flags & MSG_CMSG_CLOEXEC;
    size_t used = 0;
    r = do_recv(t, f, s, iov, h.iovlen, (size_t)total, flags, h.control, h.controllen, &mf, &used);
    if (r < 0)
        goto out;
    if (h.name) {
        int zero = 0;
        if (copy_out(t, umsg + offsetof(struct guest_msghdr, namelen), &zero, sizeof(zero)) < 0) {
            r = -EFAULT;
            goto out;
        }
    }
    uint64_t ul = used;
    if (copy_out(t, umsg + offsetof(struct guest_msghdr, flags), &mf, sizeof(mf)) < 0 ||
        copy_out(t, umsg + offsetof(struct guest_msghdr, controllen), &ul, sizeof(ul)) < 0)
        r = -EFAULT;
out:
    free(iov);
    return r;
}

SOCK_SYSCALL(sendmsg)
SOCK_SYSCALL(recvmsg)

static long shutdown_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    (void)t, (void)f;
    return s->ops->shutdown ? s->ops->shutdown(s, (int)a->a[1]) : -EOPNOTSUPP;
}

SOCK_SYSCALL(shutdown)

static long getname(struct task *t, const struct sysargs *a, int peer)
{
    int fd = (int)a->a[0];
    uint64_t uaddr = a->a[1];
    uint64_t ulen = a->a[2];
    struct file *f;
    struct socket *s;
    long r = sockfd(t, fd, &f, &s);
    if (r < 0)
        return r;
    char addr[SOCKADDR_STORAGE];
    int klen = s->ops->getname ? s->ops->getname(s, addr, peer) : -EOPNOTSUPP;
    file_put(f);
    if (klen < 0)
        return klen;
    int len;
    if (copy_in(t, &len, ulen, sizeof(len)) < 0)
        return -EFAULT;
    if (len > klen)
        len = klen;
    if (len < 0)
        return -EINVAL;
    if (len && copy_out(t, uaddr, addr, (size_t)len) < 0)
        return -EFAULT;
    return copy_out(t, ulen, &klen, sizeof(klen)) < 0 ? -EFAULT : 0;
}

SYSCALL_AS(getsockname, getname, 0)
SYSCALL_AS(getpeername, getname, 1)

/* ---- options ---- */

/* SO_RCVTIMEO/SO_SNDTIMEO from a struct timeval, in whole jiffies
 * (sock_set_timeout): 0 none, -1 immediate. */
static long set_timeout(struct task *t, uint64_t uval, int optlen, int64_t *out)
{
    struct timeval tv;
    if (optlen < (int)sizeof(tv))
        return -EINVAL;
    if (copy_in(t, &tv, uval, sizeof(tv)) < 0)
        return -EFAULT;
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    int64_t v;
    if (tv.tv_sec < 0)
        v = -1;
    else if (tv.tv_sec == 0 && tv.tv_usec == 0)
        v = 0;
    else if (tv.tv_sec >= LONG_MAX / HZ / 2)
        v = 0;
    else
        v = ((int64_t)tv.tv_sec * HZ + (tv.tv_usec + 1000000 / HZ - 1) / (1000000 / HZ)) * JIFFY_NS;
    __atomic_store_n(out, v, __ATOMIC_RELAXED);
    return 0;
}

static void get_timeout(int64_t v, struct timeval *tv)
{
    memset(tv, 0, sizeof(*tv));
    if (v > 0) {
        int64_t j = v / JIFFY_NS;
        tv->tv_sec = j / HZ;
        tv->tv_usec = (j % HZ) * 1000000 / HZ;
    }
}

/* The int a plain SOL_SOCKET option is kept in. */
static int *int_opt(struct socket *s, int optname)
{
    switch (optname) {
    case SO_SNDBUF:
        return &s->sndbuf;
    case SO_RCVBUF:
        return &s->rcvbuf;
    case SO_PASSCRED:
        return &s->passcred;
    case SO_REUSEADDR:
        return &s->reuseaddr;
    case SO_KEEPALIVE:
    default:
        return &s->keepalive;
    }
}

static long setsockopt_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    int level = (int)a->a[1];
    int optname = (int)a->a[2];
    uint64_t uval = a->a[3];
    int optlen = (int)a->a[4];
    (void)f;
    int val = 0;
    if (optlen < 0)
        return -EINVAL;
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP;
    if (optlen < (int)sizeof(int))
        return -EINVAL;
    if (copy_in(t, &val, uval, sizeof(val)) < 0)
        return -EFAULT;
    long r = 0;
    switch (optname) {
    case SO_SNDBUF: {
        uint32_t v = (uint32_t)val < SOCK_WMEM_MAX ? (uint32_t)val : SOCK_WMEM_MAX;
        int b = (int)v * 2 > SOCK_MIN_SNDBUF ? (int)v * 2 : SOCK_MIN_SNDBUF;
        __atomic_store_n(&s->sndbuf, b, __ATOMIC_RELAXED);
        break;
    }
    case SO_RCVBUF: {
        uint32_t v = (uint32_t)val < SOCK_RMEM_MAX ? (uint32_t)val : SOCK_RMEM_MAX;
        int b = (int)v * 2 > SOCK_MIN_RCVBUF ? (int)v * 2 : SOCK_MIN_RCVBUF;
        __atomic_store_n(&s->rcvbuf, b, __ATOMIC_RELAXED);
        break;
    }
    case SO_PASSCRED:
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
        __atomic_store_n(int_opt(s, optname), val != 0, __ATOMIC_RELAXED);
        break;
    case SO_RCVTIMEO:
    case SO_RCVTIMEO_NEW:
        r = set_timeout(t, uval, optlen, &s->rcvtimeo_ns);
        break;
    case SO_SNDTIMEO:
    case SO_SNDTIMEO_NEW:
        r = set_timeout(t, uval, optlen, &s->sndtimeo_ns);
        break;
    default:
        r = -ENOPROTOOPT;
    }
    return r;
}

SOCK_SYSCALL(setsockopt)

static long getsockopt_on(struct task *t, struct file *f, struct socket *s, const struct sysargs *a)
{
    int level = (int)a->a[1];
    int optname = (int)a->a[2];
    uint64_t uval = a->a[3];
    uint64_t ulen = a->a[4];
    (void)f;
    int len;
    union {
        int val;
        struct timeval tv;
        struct sock_cred cred;
    } v;
    memset(&v, 0, sizeof(v));
    int lv = sizeof(int);
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP;
    if (copy_in(t, &len, ulen, sizeof(len)) < 0)
        return -EFAULT;
    if (len < 0)
        return -EINVAL;
    switch (optname) {
    case SO_TYPE:
        v.val = s->type;
        break;
    case SO_DOMAIN:
        v.val = s->family;
        break;
    case SO_PROTOCOL:
        v.val = s->protocol;
        break;
    case SO_ERROR:
        v.val = s->ops->take_error ? s->ops->take_error(s) : 0;
        break;
    case SO_SNDBUF:
    case SO_RCVBUF:
    case SO_PASSCRED:
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
        v.val = __atomic_load_n(int_opt(s, optname), __ATOMIC_RELAXED);
        break;
    case SO_ACCEPTCONN:
        v.val = 0;
        break;
    case SO_RCVLOWAT:
    case SO_SNDLOWAT:
        v.val = 1;
        break;
    case SO_RCVTIMEO:
    case SO_RCVTIMEO_NEW:
        get_timeout(__atomic_load_n(&s->rcvtimeo_ns, __ATOMIC_RELAXED), &v.tv);
        lv = sizeof(v.tv);
        break;
    case SO_SNDTIMEO:
    case SO_SNDTIMEO_NEW:
        get_timeout(__atomic_load_n(&s->sndtimeo_ns, __ATOMIC_RELAXED), &v.tv);
        lv = sizeof(v.tv);
        break;
    case SO_PEERCRED:
        if (s->has_peercred)
            v.cred = s->peercred;
        else
            v.cred = (struct sock_cred){ 0, (uint32_t)-1, (uint32_t)-1 };
        lv = sizeof(v.cred);
        break;
    default:
        return -ENOPROTOOPT;
    }
    if (len > lv)
        len = lv;
    if (copy_out(t, uval, &v, (size_t)len) < 0 || copy_out(t, ulen, &len, sizeof(len)) < 0)
        return -EFAULT;
    return 0;
}

SOCK_SYSCALL(getsockopt)
