/* Unit test of pipes and FIFOs: fill and drain, capacity in slots, atomic
 * small writes, packets, EPIPE, EOF, F_SETPIPE_SZ, fstat, FIONREAD, the
 * FIFO open rendezvous with host threads, interruption, splice and tee. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include "unit_task.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fs/file/file.h"
#include "fs/file/pipe.h"
#include "fs/vfs/vfs.h"
#include "platform/platform.h"
#include "sched/wait.h"
#include "sentry/kernel.h"

/* A task whose guest memory is this process (for FIONREAD's copy_out). */
static struct stub stub;
static struct mm mm;
static struct process proc;
static struct task task;

static struct creds cred;

static void set_creds(uint32_t uid, uint32_t gid)
{
    task.cred = &cred;
    cred = (struct creds){ .refs = 1 };
    cred.uid = cred.euid = cred.suid = cred.fsuid = uid;
    cred.gid = cred.egid = cred.sgid = cred.fsgid = gid;
    creds_init_caps(&cred); /* root gets every capability, anyone else none */
}

static void setup(void)
{
    stub.pid = stub.mem_pid = getpid();
    mm.stub = &stub;
    proc.mm = &mm;
    set_creds(1000, 1001);
    task.proc = &proc;
    sleeper_init(&task.sleep);
    current_task = &task;
}

static struct task *task_new(void)
{
    struct task *t = unit_task_new();
    t->proc = &proc;
    t->cred = &cred;
    return t;
}

static ssize_t rd(struct file *f, void *buf, size_t len)
{
    return f->ops->read(f, buf, len, &f->pos);
}

static ssize_t wr(struct file *f, const void *buf, size_t len)
{
    return f->ops->write(f, buf, len, &f->pos);
}

static void mkpipe(int flags, struct file **r, struct file **w)
{
    ck_assert_int_eq(pipe_create(&task, flags, r, w), 0);
}

/* Drops both ends of a pipe. */
static void put_pipe(struct file *r, struct file *w)
{
    file_put(r);
    file_put(w);
}

/* A test on a new pipe (ends r and w) made with flags, dropped after it. */
#define PIPE_TEST(name, flags)                                                                     \
    UNIT_PAIR_TEST(name, struct file, r, w, mkpipe((flags), &r, &w), file_put)

static int fionread(struct file *f)
{
    int *n = malloc(sizeof(*n));
    *n = -1;
    ck_assert_int_eq(f->ops->ioctl(f, FIONREAD, (uint64_t)(uintptr_t)n), 0);
    int v = *n;
    free(n);
    return v;
}

static char big[1 << 20];

/* ---- anonymous pipes ---- */

PIPE_TEST(fill_and_drain, O_NONBLOCK)
{
    ck_assert(r->fmode & FMODE_STREAM);
    ck_assert_int_eq(r->flags & O_ACCMODE, O_RDONLY);
    ck_assert_int_eq(w->flags & O_ACCMODE, O_WRONLY);
    ck_assert(file_is_pipe(r) && file_is_pipe(w));
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7 + i / 4096);
    ck_assert_int_eq(rd(r, big, 10), -EAGAIN); /* empty, writers: EAGAIN */
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(wr(w, big + i * 4096, 4096), 4096);
    ck_assert_int_eq(wr(w, "x", 1), -EAGAIN);
    ck_assert_int_eq(fionread(r), 65536);
    static char out[65536];
    ck_assert_int_eq(rd(r, out, 1000), 1000);
    ck_assert_int_eq(rd(r, out + 1000, sizeof(out)), 65536 - 1000);
    ck_assert_int_eq(memcmp(out, big, sizeof(out)), 0);
    ck_assert_int_eq(fionread(r), 0);
    /* One large nonblocking write: what fits. */
    ck_assert_int_eq(wr(w, big, 100000), 65536);
    ck_assert_int_eq(rd(r, out, sizeof(out)), 65536);
    ck_assert_int_eq(memcmp(out, big, sizeof(out)), 0);
}

PIPE_TEST(capacity_counts_slots, O_NONBLOCK)
{
    ck_assert_int_eq(pipe_fcntl(&task, w, F_GETPIPE_SZ, 0), 65536);
    /* Small writes merge into pages: 65536 one-byte writes fit. */
    for (int i = 0; i < 65536; i++)
        ck_assert_int_eq(wr(w, "y", 1), 1);
    ck_assert_int_eq(wr(w, "y", 1), -EAGAIN);
    char buf[4096];
    ck_assert_int_eq(rd(r, buf, 4096), 4096);
    ck_assert_int_eq(rd(r, buf, 4096), 4096);
    ck_assert_int_eq(fionread(r), 65536 - 8192);
    static char out[65536];
    ck_assert_int_eq(rd(r, out, sizeof(out)), 65536 - 8192);
    /* A partly read page still takes its slot. */
    ck_assert_int_eq(wr(w, big, 4096), 4096);
    ck_assert_int_eq(rd(r, buf, 1), 1);
    for (int i = 0; i < 15; i++)
        ck_assert_int_eq(wr(w, big, 4096), 4096);
    ck_assert_int_eq(fionread(r), 65535);
    ck_assert_int_eq(wr(w, "z", 1), -EAGAIN);
}

PIPE_TEST(small_writes_are_atomic, O_NONBLOCK)
{
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4096), 4096);
    ck_assert_int_eq(wr(w, big, 4000), 4000);
    /* 200 bytes do not fit in the last page and there is no free slot. */
    ck_assert_int_eq(wr(w, big, 200), -EAGAIN);
    ck_assert_int_eq(wr(w, big, 96), 96); /* exactly fills it */
    char buf[8192];
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 4096);
    /* More than PIPE_BUF: a partial write is allowed. */
    ck_assert_int_eq(wr(w, big, 8192), 4096);
}

/* Concurrent blocking writers of 300-byte records never interleave. */
#define REC 300
#define NREC 2000
#define NWRITERS 4
static int record_errors;

static void *record_writer(void *arg)
{
    struct file *w = ((struct file **)arg)[0];
    char id = (char)(intptr_t)((struct file **)arg)[1];
    char rec[REC];
    memset(rec, id, sizeof(rec));
    /* Plain checks in the loops: each Check assertion writes a checkpoint. */
    for (int i = 0; i < NREC; i++)
        if (wr(w, rec, REC) != REC)
            __atomic_add_fetch(&record_errors, 1, __ATOMIC_RELAXED);
    return NULL;
}

PIPE_TEST(concurrent_atomic_writes, 0)
{
    pthread_t th[NWRITERS];
    void *args[NWRITERS][2];
    for (int i = 0; i < NWRITERS; i++) {
        args[i][0] = w;
        args[i][1] = (void *)(intptr_t)('A' + i);
        pthread_create(&th[i], NULL, record_writer, args[i]);
    }
    static char all[NWRITERS * NREC * REC];
    size_t got = 0;
    while (got < sizeof(all)) {
        ssize_t n = rd(r, all + got, 1 + (got * 31) % 7000);
        if (n <= 0)
            ck_abort_msg("read returned %zd", n);
        got += (size_t)n;
    }
    for (int i = 0; i < NWRITERS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(record_errors, 0);
    int count[NWRITERS] = { 0 };
    for (size_t off = 0; off < sizeof(all); off += REC) {
        if (memcmp(all + off, all + off + 1, REC - 1) != 0)
            ck_abort_msg("record at %zu interleaved", off);
        if (all[off] < 'A' || all[off] >= 'A' + NWRITERS)
            ck_abort_msg("bad record at %zu", off);
        count[all[off] - 'A']++;
    }
    for (int i = 0; i < NWRITERS; i++)
        ck_assert_int_eq(count[i], NREC);
}

START_TEST(epipe_without_readers)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    file_put(r);
    ck_assert_int_eq(wr(w, "a", 1), -EPIPE);
    ck_assert_int_eq(pipe_write_buf(w, "a", 1, 0), -EPIPE);
    ck_assert_int_eq(wr(w, "", 0), 0); /* a null write succeeds */
    file_put(w);
}
END_TEST

START_TEST(eof_without_writers)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    ck_assert_int_eq(wr(w, "abc", 3), 3);
    file_put(w);
    char buf[10];
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 3);
    ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 0);
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 0);
    file_put(r);
}
END_TEST

/* A reader (into buf) or writer (len bytes of big) on f in its own thread,
 * as task t. */
struct io_arg {
    struct file *f;
    struct task *t;
    char buf[128];
    size_t len;
    ssize_t result;
    int done;
};

static void *io_thread(struct io_arg *a, int write)
{
    current_task = a->t;
    a->result = write ? wr(a->f, big, a->len) : rd(a->f, a->buf, sizeof(a->buf));
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *reader_thread(void *arg)
{
    return io_thread(arg, 0);
}

static void *writer_thread(void *arg)
{
    return io_thread(arg, 1);
}

static int done(int *flag)
{
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

/* Starts fn(arg) in a thread, its done flag cleared first, and gives it
 * 50 ms to block: the flag must still be clear. */
static pthread_t start_blocked(void *(*fn)(void *), void *arg, int *done_flag)
{
    pthread_t th;
    *done_flag = 0;
    pthread_create(&th, NULL, fn, arg);
    msleep(50);
    ck_assert_int_eq(done(done_flag), 0);
    return th;
}

/* Joins th, whose thread must have left want in result (an int or a
 * ssize_t, hence a macro). */
#define JOINED(th, result, want)                                                                   \
    do {                                                                                           \
        pthread_join((th), NULL);                                                                  \
        ck_assert_int_eq((result), (want));                                                        \
    } while (0)

START_TEST(blocked_reader_sees_data_then_eof)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    struct io_arg a = { .f = r, .t = task_new() };
    pthread_t th = start_blocked(reader_thread, &a, &a.done);
    ck_assert_int_eq(wr(w, "hello", 5), 5);
    JOINED(th, a.result, 5);
    ck_assert_int_eq(memcmp(a.buf, "hello", 5), 0);
    /* The last writer leaving wakes a blocked reader with EOF. */
    th = start_blocked(reader_thread, &a, &a.done);
    file_put(w);
    JOINED(th, a.result, 0);
    file_put(r);
    free(a.t);
}
END_TEST

START_TEST(interrupted_read)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    struct io_arg a = { .f = r, .t = task_new() };
    pthread_t th = start_blocked(reader_thread, &a, &a.done);
    task_interrupt(a.t);
    JOINED(th, a.result, -ERESTARTSYS);
    /* Data already there is read even with the interrupt pending. */
    ck_assert_int_eq(wr(w, "ok", 2), 2);
    a.done = 0;
    pthread_create(&th, NULL, reader_thread, &a);
    JOINED(th, a.result, 2);
    put_pipe(r, w);
    free(a.t);
}
END_TEST

START_TEST(interrupted_write_is_partial)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    struct io_arg a = { .f = w, .t = task_new(), .len = 65536 + 100 };
    pthread_t th = start_blocked(writer_thread, &a, &a.done);
    task_interrupt(a.t);
    JOINED(th, a.result, 65536);
    /* A blocked writer is released by a reader making room. */
    task_interrupt_clear(a.t);
    a.len = 8192;
    th = start_blocked(writer_thread, &a, &a.done);
    static char out[65536];
    ck_assert_int_eq(rd(r, out, sizeof(out)), 65536);
    JOINED(th, a.result, 8192);
    /* And by the readers leaving: EPIPE if nothing was written. */
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 8192), 8192);
    a.len = 100;
    th = start_blocked(writer_thread, &a, &a.done);
    file_put(r);
    JOINED(th, a.result, -EPIPE);
    file_put(w);
    free(a.t);
}
END_TEST

PIPE_TEST(packet_mode, O_DIRECT | O_NONBLOCK)
{
    ck_assert_int_eq(wr(w, "0123456789", 10), 10);
    ck_assert_int_eq(wr(w, "abcdefghijklmnopqrst", 20), 20);
    char buf[100];
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 10); /* one packet per read */
    ck_assert_int_eq(rd(r, buf, 5), 5);            /* the rest is dropped */
    ck_assert_int_eq(memcmp(buf, "abcde", 5), 0);
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), -EAGAIN);
    /* Packets are not merged: each takes a slot. */
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(wr(w, "p", 1), 1);
    ck_assert_int_eq(wr(w, "p", 1), -EAGAIN);
}

START_TEST(pipe2_flags)
{
    struct file *r, *w;
    ck_assert_int_eq(pipe_create(&task, O_APPEND, &r, &w), -EINVAL);
    ck_assert_int_eq(pipe_create(&task, O_EXCL, &r, &w), -ENOPKG);
    mkpipe(O_CLOEXEC | O_NONBLOCK, &r, &w);
    ck_assert_int_eq(r->flags, O_RDONLY | O_NONBLOCK);
    ck_assert_int_eq(w->flags, O_WRONLY | O_NONBLOCK);
    put_pipe(r, w);
}
END_TEST

PIPE_TEST(setpipe_sz_rules, O_NONBLOCK)
{
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 0), 4096);
    ck_assert_int_eq(pipe_fcntl(&task, r, F_GETPIPE_SZ, 0), 4096);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 5000), 8192);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 65537), 131072);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 1048576), 1048576);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 1048577), -EPERM);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, (1U << 31) + 1), -EINVAL);
    ck_assert_int_eq(pipe_fcntl(&task, w, 12345, 0), -EINVAL);
    /* Root (CAP_SYS_RESOURCE) may go past pipe-max-size, up to 2^31. */
    set_creds(0, 0);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 1048577), 2097152);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 1U << 31), 1L << 31);
    /* Shrinking below what is above the limit is allowed to anyone. */
    set_creds(1000, 1001);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4194304), 4194304);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 65536), 65536);
    /* EBUSY counts slots: 2 bytes in 2 pages do not fit in 1 page. */
    ck_assert_int_eq(wr(w, big, 4096), 4096);
    ck_assert_int_eq(wr(w, "b", 1), 1);
    char buf[4096];
    ck_assert_int_eq(rd(r, buf, 4095), 4095);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4096), -EBUSY);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 8192), 8192);
    /* Content survives the resize (the ring wraps differently). */
    ck_assert_int_eq(rd(r, buf, sizeof(buf)), 2);
    ck_assert_int_eq(buf[0], big[4095]);
    ck_assert_int_eq(buf[1], 'b');
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(wr(w, big + i, 4096), 4096);
        ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, i % 2 ? 8192 : 16384),
                         i % 2 ? 8192 : 16384);
        ck_assert_int_eq(rd(r, buf, 4096), 4096);
        ck_assert_int_eq(memcmp(buf, big + i, 4096), 0);
    }
    /* Not a pipe. */
    struct file_ops none = { .name = "none" };
    struct file *other = file_new(&none, O_RDONLY);
    ck_assert_int_eq(pipe_fcntl(&task, other, F_GETPIPE_SZ, 0), -EBADF);
    ck_assert_int_eq(file_is_pipe(other), 0);
    file_put(other);
}

START_TEST(growing_wakes_writer)
{
    struct file *r, *w;
    mkpipe(0, &r, &w);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4096), 4096);
    struct io_arg a = { .f = w, .t = task_new(), .len = 8192 };
    pthread_t th = start_blocked(writer_thread, &a, &a.done);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 8192), 8192);
    JOINED(th, a.result, 8192);
    put_pipe(r, w);
    free(a.t);
}
END_TEST

START_TEST(fstat_of_pipe)
{
    struct file *r, *w, *r2, *w2;
    mkpipe(0, &r, &w);
    mkpipe(0, &r2, &w2);
    struct stat st, st2, stw;
    ck_assert_int_eq(r->ops->stat(r, &st), 0);
    ck_assert_int_eq(w->ops->stat(w, &stw), 0);
    ck_assert_int_eq(r2->ops->stat(r2, &st2), 0);
    assert_new_stat(&st, S_IFIFO | 0600, 1000, 1001);
    ck_assert_uint_eq(major(st.st_dev), 0);
    ck_assert_uint_eq(st.st_dev, st2.st_dev);
    ck_assert_uint_eq(st.st_ino, stw.st_ino); /* both ends: one inode */
    ck_assert_uint_ne(st.st_ino, st2.st_ino);
    ck_assert_ptr_eq(r->inode, w->inode);
    ck_assert_int_ne(st.st_mtim.tv_sec, 0);
    put_pipe(r, w);
    put_pipe(r2, w2);
}
END_TEST

PIPE_TEST(ioctl_unknown, 0)
{
    ck_assert_int_eq(r->ops->ioctl(r, TCGETS, 0), -ENOTTY);
    ck_assert_int_eq(r->ops->ioctl(r, FIONREAD, 16), -EFAULT);
}

/* ---- splice and tee ---- */

PIPE_TEST(splice_buffers, 0)
{
    ck_assert_int_eq(pipe_write_buf(w, "spliced", 7, 1), 7);
    char buf[16];
    ck_assert_int_eq(pipe_read_buf(r, buf, 3, 1), 3);
    ck_assert_int_eq(pipe_read_buf(r, buf + 3, sizeof(buf), 1), 4);
    ck_assert_int_eq(memcmp(buf, "spliced", 7), 0);
    ck_assert_int_eq(pipe_read_buf(r, buf, sizeof(buf), 1), -EAGAIN);
    ck_assert_int_eq(pipe_read_buf(w, buf, 1, 1), -EBADF);
    ck_assert_int_eq(pipe_write_buf(r, buf, 1, 1), -EBADF);
    /* Into a pipe: what fits, not more. */
    ck_assert_int_eq(pipe_write_buf(w, big, sizeof(big), 1), 65536);
    ck_assert_int_eq(pipe_write_buf(w, big, 1, 1), -EAGAIN);
    static char out[65536];
    ck_assert_int_eq(pipe_read_buf(r, out, sizeof(out), 1), 65536);
    ck_assert_int_eq(memcmp(out, big, sizeof(out)), 0);
    /* Written bytes merge into a page, spliced ones do not. */
    ck_assert_int_eq(wr(w, "abc", 3), 3);
    ck_assert_int_eq(wr(w, "d", 1), 1);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4096), 4096);
    ck_assert_int_eq(pipe_read_buf(r, buf, sizeof(buf), 1), 4);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 65536), 65536);
    ck_assert_int_eq(pipe_write_buf(w, "abc", 3, 1), 3);
    ck_assert_int_eq(wr(w, "d", 1), 1);
    ck_assert_int_eq(pipe_fcntl(&task, w, F_SETPIPE_SZ, 4096), -EBUSY);
}

START_TEST(tee_and_splice_between_pipes)
{
    struct file *r1, *w1, *r2, *w2;
    mkpipe(0, &r1, &w1);
    mkpipe(0, &r2, &w2);
    ck_assert_int_eq(wr(w1, "hello ", 6), 6);
    ck_assert_int_eq(wr(w1, big, 4096), 4096); /* two slots: 6 and 4096 */
    ck_assert_int_eq(pipe_tee(r1, w2, 3, 0), 3);
    ck_assert_int_eq(fionread(r1), 4102); /* not consumed */
    ck_assert_int_eq(fionread(r2), 3);
    ck_assert_int_eq(pipe_tee(r1, w2, 100000, 0), 4102);
    ck_assert_int_eq(fionread(r2), 4105);
    char buf[8192];
    ck_assert_int_eq(rd(r2, buf, sizeof(buf)), 4105);
    ck_assert_int_eq(memcmp(buf, "helhello ", 9), 0);
    ck_assert_int_eq(memcmp(buf + 9, big, 4096), 0);
    ck_assert_int_eq(pipe_tee(r1, w1, 1, 0), -EINVAL);
    ck_assert_int_eq(pipe_tee(w1, w2, 1, 0), -EBADF);
    ck_assert_int_eq(pipe_tee(r1, r2, 1, 0), -EBADF);
    /* splice moves: a split first, then whole pages. */
    ck_assert_int_eq(pipe_splice_pipe(r1, w2, 2, 0), 2);
    ck_assert_int_eq(fionread(r1), 4100);
    ck_assert_int_eq(pipe_splice_pipe(r1, w2, 100000, 0), 4100);
    ck_assert_int_eq(fionread(r1), 0);
    ck_assert_int_eq(rd(r2, buf, sizeof(buf)), 4102);
    ck_assert_int_eq(memcmp(buf, "hello ", 6), 0);
    ck_assert_int_eq(memcmp(buf + 6, big, 4096), 0);
    /* Empty input: EAGAIN if nonblocking, 0 once there are no writers. */
    ck_assert_int_eq(pipe_tee(r1, w2, 10, 1), -EAGAIN);
    ck_assert_int_eq(pipe_splice_pipe(r1, w2, 10, 1), -EAGAIN);
    file_put(w1);
    ck_assert_int_eq(pipe_tee(r1, w2, 10, 0), 0);
    ck_assert_int_eq(pipe_splice_pipe(r1, w2, 10, 0), 0);
    /* No readers on the output: EPIPE. */
    struct file *r3, *w3;
    mkpipe(0, &r3, &w3);
    ck_assert_int_eq(wr(w3, "q", 1), 1);
    file_put(r2);
    ck_assert_int_eq(pipe_tee(r3, w2, 1, 0), -EPIPE);
    file_put(r1);
    file_put(w2);
    put_pipe(r3, w3);
}
END_TEST

/* ---- FIFOs ---- */

static struct super_block fake_sb;
static struct inode fifo_inode = { .sb = &fake_sb, .ino = 77, .mode = S_IFIFO | 0644 };
static const struct file_ops unopened = { .name = "unopened" };

struct open_arg {
    int flags;
    struct task *t;
    struct file *f;
    int result;
    int done;
};

static void *open_thread(void *arg)
{
    struct open_arg *a = arg;
    current_task = a->t;
    a->f = file_new(&unopened, a->flags & (O_ACCMODE | O_NONBLOCK));
    a->result = fifo_open(a->t, &fifo_inode, a->f, a->flags);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static struct file *open_fifo(int flags, int expect)
{
    struct open_arg a = { .flags = flags, .t = &task };
    open_thread(&a);
    ck_assert_int_eq(a.result, expect);
    if (expect < 0) {
        file_put(a.f);
        return NULL;
    }
    return a.f;
}

/* Starts an open of the FIFO with flags by a new task in a thread, and
 * gives it 50 ms to block. */
static pthread_t open_in_thread(struct open_arg *a, int flags)
{
    pthread_t th;
    *a = (struct open_arg){ .flags = flags, .t = task_new() };
    pthread_create(&th, NULL, open_thread, a);
    msleep(50);
    return th;
}

/* An open of the FIFO with flags by a new task in a thread must block;
 * an open here with mine then completes both: mine is returned. */
static struct file *open_after_blocked(struct open_arg *a, int flags, int mine)
{
    pthread_t th = open_in_thread(a, flags);
    ck_assert_int_eq(done(&a->done), 0);
    struct file *f = open_fifo(mine, 0);
    JOINED(th, a->result, 0);
    return f;
}

START_TEST(fifo_reader_waits_for_writer)
{
    struct open_arg a;
    struct file *w = open_after_blocked(&a, O_RDONLY, O_WRONLY);
    ck_assert(file_is_pipe(a.f));
    ck_assert(a.f->fmode & FMODE_STREAM);
    ck_assert_int_eq(wr(w, "fifo", 4), 4);
    char buf[8];
    ck_assert_int_eq(rd(a.f, buf, sizeof(buf)), 4);
    ck_assert_int_eq(memcmp(buf, "fifo", 4), 0);
    file_put(w);
    ck_assert_int_eq(rd(a.f, buf, sizeof(buf)), 0);
    file_put(a.f);
    free(a.t);
}
END_TEST

START_TEST(fifo_writer_waits_for_reader)
{
    struct open_arg a;
    struct file *r = open_after_blocked(&a, O_WRONLY, O_RDONLY);
    ck_assert_int_eq(wr(a.f, "x", 1), 1);
    char c;
    ck_assert_int_eq(rd(r, &c, 1), 1);
    file_put(a.f);
    file_put(r);
    free(a.t);
}
END_TEST

START_TEST(fifo_nonblocking_opens)
{
    /* No reader: a nonblocking writer gets ENXIO. */
    open_fifo(O_WRONLY | O_NONBLOCK, -ENXIO);
    /* A nonblocking reader opens at once and sees EOF. */
    struct file *r = open_fifo(O_RDONLY | O_NONBLOCK, 0);
    char c;
    ck_assert_int_eq(rd(r, &c, 1), 0);
    /* Now there is a reader: the nonblocking writer opens. */
    struct file *w = open_fifo(O_WRONLY | O_NONBLOCK, 0);
    ck_assert_int_eq(rd(r, &c, 1), -EAGAIN);
    ck_assert_int_eq(wr(w, "k", 1), 1);
    ck_assert_int_eq(rd(r, &c, 1), 1);
    file_put(w);
    file_put(r);
    /* O_RDWR never waits and talks to itself. */
    struct file *rw = open_fifo(O_RDWR, 0);
    ck_assert_int_eq(wr(rw, "self", 4), 4);
    /* Another opener joins the same pipe. */
    struct file *r2 = open_fifo(O_RDONLY, 0);
    char buf[8];
    ck_assert_int_eq(rd(r2, buf, sizeof(buf)), 4);
    file_put(r2);
    ck_assert_int_eq(wr(rw, "left", 4), 4);
    file_put(rw);
    /* Everyone gone: the next open gets a fresh, empty pipe. */
    rw = open_fifo(O_RDWR | O_NONBLOCK, 0);
    ck_assert_int_eq(rd(rw, buf, sizeof(buf)), -EAGAIN);
    ck_assert_int_eq(pipe_fcntl(&task, rw, F_GETPIPE_SZ, 0), 65536);
    file_put(rw);
    open_fifo(O_ACCMODE, -EINVAL);
}
END_TEST

START_TEST(fifo_open_interrupted)
{
    struct open_arg a;
    pthread_t th = open_in_thread(&a, O_RDONLY);
    ck_assert_int_eq(done(&a.done), 0);
    task_interrupt(a.t);
    JOINED(th, a.result, -ERESTARTSYS);
    ck_assert_ptr_eq(a.f->ops, &unopened); /* untouched on failure */
    file_put(a.f);
    /* The reader it was is gone again. */
    open_fifo(O_WRONLY | O_NONBLOCK, -ENXIO);
    free(a.t);
}
END_TEST

/* A writer that opens and closes at once still releases a waiting reader. */
START_TEST(fifo_partner_came_and_went)
{
    struct open_arg a;
    pthread_t th = open_in_thread(&a, O_RDONLY);
    struct file *w = open_fifo(O_WRONLY, 0);
    file_put(w);
    JOINED(th, a.result, 0);
    char c;
    ck_assert_int_eq(rd(a.f, &c, 1), 0);
    file_put(a.f);
    free(a.t);
}
END_TEST

/* A pipefs inode reopened (as through /proc/PID/fd) joins its pipe. */
PIPE_TEST(reopen_anonymous_pipe, 0)
{
    ck_assert_int_eq(wr(w, "via proc", 8), 8);
    struct file *f = file_new(&unopened, O_RDONLY);
    ck_assert_int_eq(fifo_open(&task, r->inode, f, O_RDONLY), 0);
    char buf[16];
    ck_assert_int_eq(rd(f, buf, sizeof(buf)), 8);
    file_put(f);
    /* Write side of a pipe with readers never waits either. */
    f = file_new(&unopened, O_WRONLY);
    ck_assert_int_eq(fifo_open(&task, r->inode, f, O_WRONLY), 0);
    file_put(f);
}

UNIT_SUITE_MAIN("pipe",
                UNIT_CASE(s, "pipe", setup, NULL, 30, fill_and_drain, capacity_counts_slots,
                          small_writes_are_atomic, concurrent_atomic_writes, epipe_without_readers,
                          eof_without_writers, blocked_reader_sees_data_then_eof, interrupted_read,
                          interrupted_write_is_partial, packet_mode, pipe2_flags, setpipe_sz_rules,
                          growing_wakes_writer, fstat_of_pipe, ioctl_unknown, splice_buffers,
                          tee_and_splice_between_pipes);
                UNIT_CASE(s, "fifo", setup, NULL, 30, fifo_reader_waits_for_writer,
                          fifo_writer_waits_for_reader, fifo_nonblocking_opens,
                          fifo_open_interrupted, fifo_partner_came_and_went, reopen_anonymous_pipe))
