/* Host streams: the guest's standard input, output and error, backed by
 * descriptors of the sentry (duplicated at start-up, so the guest closing
 * fd 1 closes only its own reference). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "fs/file.h"
#include "sentry/kernel.h"

/* The host descriptor's own offset is the position (it is shared with
 * whoever started sandbox-run, as a file's offset would be); pread and
 * pwrite (pos not the file's) use their explicit offset. */
static ssize_t hs_read(struct file *f, void *buf, size_t len, off_t *pos)
{
    ssize_t n;
    if (pos != &f->pos && !(f->fmode & FMODE_STREAM)) {
        n = pread(f->host_fd, buf, len, *pos);
        if (n > 0)
            *pos += n;
        return n < 0 ? -errno : n;
    }
    n = read(f->host_fd, buf, len);
    return n < 0 ? -errno : n;
}

static ssize_t hs_write(struct file *f, const void *buf, size_t len, off_t *pos)
{
    ssize_t n;
    if (pos != &f->pos && !(f->fmode & FMODE_STREAM)) {
        n = pwrite(f->host_fd, buf, len, *pos);
        if (n > 0)
            *pos += n;
        return n < 0 ? -errno : n;
    }
    n = write(f->host_fd, buf, len);
    return n < 0 ? -errno : n;
}

static off_t hs_llseek(struct file *f, off_t off, int whence)
{
    off_t r = lseek(f->host_fd, off, whence);
    return r < 0 ? -errno : r;
}

static int hs_stat(struct file *f, struct stat *st)
{
    return fstat(f->host_fd, st) < 0 ? -errno : 0;
}

static long hs_ioctl(struct task *t, struct file *f, unsigned long req, uint64_t arg)
{
    switch (req) {
    case TCGETS: {
        struct termios tio; /* the kernel's struct termios (asm-generic) layout as glibc defines it */
        if (ioctl(f->host_fd, TCGETS, &tio) < 0)
            return -errno;
        return copy_out(t, arg, &tio, 36) < 0 ? -EFAULT : 0;
    }
    case TIOCGWINSZ: {
        struct winsize ws;
        if (ioctl(f->host_fd, TIOCGWINSZ, &ws) < 0)
            return -errno;
        return copy_out(t, arg, &ws, sizeof(ws)) < 0 ? -EFAULT : 0;
    }
    default:
        return -ENOTTY;
    }
}

static void hs_release(struct file *f)
{
    close(f->host_fd);
}

static const struct file_ops hoststream_ops = {
    .name = "hoststream",
    .read = hs_read,
    .write = hs_write,
    .llseek = hs_llseek,
    .stat = hs_stat,
    .ioctl = hs_ioctl,
    .release = hs_release,
};

struct file *hoststream_open(int host_fd)
{
    int flags = fcntl(host_fd, F_GETFL);
    if (flags < 0)
        return NULL;
    int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 10);
    if (fd < 0)
        return NULL;
    struct file *f = file_new(&hoststream_ops, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
    if (!f) {
        close(fd);
        return NULL;
    }
    f->host_fd = fd;
    if (lseek(fd, 0, SEEK_CUR) < 0)
        f->fmode |= FMODE_STREAM; /* pipes, terminals, sockets */
    return f;
}
