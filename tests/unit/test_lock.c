/* Unit test of advisory file locks: POSIX range splitting and merging with
 * Linux's exact results, conflicts and F_GETLK reports, OFD locks, flock
 * conversions, blocking waits with wake-up and interruption, deadlock
 * detection, and the release hooks. Processes, files, inodes and super
 * blocks are fakes; locks only look at their identity fields. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include "unit_task.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/file/file.h"
#include "fs/file/lock.h"
#include "fs/vfs/vfs.h"
#include "sched/wait.h"
#include "sentry/kernel.h"

#define MAX LOCK_OFFSET_MAX

static off_t fake_size = 100;

static int fake_getattr(struct inode *i, struct stat *st)
{
    (void)i;
    st->st_size = fake_size;
    return 0;
}

static const struct inode_ops fake_iops = { .getattr = fake_getattr };

static struct super_block *sb;

static struct inode *inode_alloc(uint64_t ino)
{
    struct inode *i = calloc(1, sizeof(*i));
    ck_assert_ptr_nonnull(i);
    i->ops = &fake_iops;
    i->sb = sb;
    i->ino = ino;
    i->refs = 1;
    i->mode = S_IFREG | 0644;
    return i;
}

static struct file *file_alloc(struct inode *i, int flags)
{
    struct file *f = file_new(NULL, flags);
    ck_assert_ptr_nonnull(f);
    f->inode = i;
    return f;
}

static void file_free(struct file *f)
{
    pthread_mutex_destroy(&f->pos_lock);
    free(f);
}

static struct process *proc_alloc(int pid)
{
    struct process *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    p->pid = pid;
    return p;
}

static struct task *task_alloc(struct process *p)
{
    struct task *t = unit_task_new();
    t->proc = p;
    t->tid = p->pid;
    return t;
}

static void task_free(struct task *t)
{
    sleeper_destroy(&t->sleep);
    free(t);
}

/* Two processes (with a task each), and two struct inode for one file
 * identity (as hostfs may have), each with a read-write file. */
static struct process *p1, *p2, *p3;
static struct task *t1, *t2, *t3;
static struct inode *ia, *ib;
static struct file *fa, *fb;

static void setup(void)
{
    sb = calloc(1, sizeof(*sb));
    p1 = proc_alloc(101);
    p2 = proc_alloc(102);
    p3 = proc_alloc(103);
    t1 = task_alloc(p1);
    t2 = task_alloc(p2);
    t3 = task_alloc(p3);
    ia = inode_alloc(7);
    ib = inode_alloc(7);
    fa = file_alloc(ia, O_RDWR);
    fb = file_alloc(ib, O_RDWR);
    fake_size = 100;
}

static void teardown(void)
{
    lock_release_process(p1);
    lock_release_process(p2);
    lock_release_process(p3);
    lock_release_file(fa);
    lock_release_file(fb);
    ck_assert_int_eq(lock_registry_count(), 0);
    file_free(fa);
    file_free(fb);
    free(ia);
    free(ib);
    task_free(t1);
    task_free(t2);
    task_free(t3);
    free(p1);
    free(p2);
    free(p3);
    free(sb);
}

static int setlk(struct task *t, struct file *f, int cmd, short type, off_t start, off_t len)
{
    struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    return lock_fcntl(t, f, cmd, &l, NULL, NULL);
}

static struct flock getlk(struct task *t, struct file *f, int cmd, short type, off_t start,
                          off_t len)
{
    struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    ck_assert_int_eq(lock_fcntl(t, f, cmd, &l, NULL, NULL), 0);
    return l;
}

/* The lock list, as "W0-9 R10-E" (E: to EOF) for the given owner, or every
 * lock when owner is NULL. */
static const char *list_of(struct file *f, const void *owner)
{
    static char buf[512];
    struct lock_info li[32];
    int n = lock_snapshot(f, li, 32);
    ck_assert_int_le(n, 32);
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (owner && li[i].owner != owner)
            continue;
        char end[24];
        if (li[i].end == MAX)
            strcpy(end, "E");
        else
            snprintf(end, sizeof(end), "%lld", (long long)li[i].end);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s%s%lld-%s", o ? " " : "",
                              li[i].kind == LOCK_KIND_FLOCK ? "f"
                              : li[i].kind == LOCK_KIND_OFD ? "o"
                                                            : "",
                              li[i].type == F_WRLCK ? "W" : "R", (long long)li[i].start, end);
    }
    return buf;
}

/* An F_SETLK of the range as t that must succeed, after which every lock
 * on f must read want (as list_of gives it). */
static void set_and_list(struct task *t, struct file *f, short type, off_t start, off_t len,
                         const char *want)
{
    ck_assert_int_eq(setlk(t, f, F_SETLK, type, start, len), 0);
    ck_assert_str_eq(list_of(f, NULL), want);
}

/* ---- ranges ---- */

START_TEST(own_locks_never_conflict)
{
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 10), 0);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 5, 10), 0);
    /* Through the other struct inode of the same identity: same process. */
    ck_assert_int_eq(setlk(t1, fb, F_SETLK, F_WRLCK, 0, 0), 0);
    ck_assert_str_eq(list_of(fa, NULL), "W0-E");
    struct flock l = getlk(t1, fa, F_GETLK, F_WRLCK, 0, 0);
    ck_assert_int_eq(l.l_type, F_UNLCK);
    /* Another process sees it through either. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_RDLCK, 50, 1), -EAGAIN);
}
END_TEST

START_TEST(merge_adjacent_same_type)
{
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 10), 0);
    set_and_list(t1, fa, F_WRLCK, 10, 10, "W0-19");
    set_and_list(t1, fa, F_WRLCK, 30, 5, "W0-19 W30-34");
    /* Fill the gap: all three merge. */
    set_and_list(t1, fa, F_WRLCK, 20, 10, "W0-34");
    /* To EOF merges with an adjacent range (no end + 1 overflow). */
    set_and_list(t1, fa, F_WRLCK, 35, 0, "W0-E");
    /* Different types do not merge. */
    ck_assert_int_eq(setlk(t1, fb, F_SETLK, F_UNLCK, 0, 0), 0);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 0, 10), 0);
    set_and_list(t1, fa, F_WRLCK, 10, 10, "R0-9 W10-19");
    /* Other owners' adjacent locks stay apart. */
    set_and_list(t2, fa, F_WRLCK, 20, 10, "R0-9 W10-19 W20-29");
}
END_TEST

START_TEST(split_and_replace)
{
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 100), 0);
    /* A different type over the middle splits in three. */
    set_and_list(t1, fa, F_RDLCK, 40, 20, "W0-39 R40-59 W60-99");
    /* Unlock over part of two locks trims both. */
    set_and_list(t1, fa, F_UNLCK, 30, 20, "W0-29 R50-59 W60-99");
    /* Unlock in the middle of one lock splits it. */
    set_and_list(t1, fa, F_UNLCK, 70, 10, "W0-29 R50-59 W60-69 W80-99");
    /* A write lock over everything swallows and merges. */
    set_and_list(t1, fa, F_WRLCK, 20, 61, "W0-99");
    /* Same range, other type: replaced in place. */
    set_and_list(t1, fa, F_RDLCK, 0, 100, "R0-99");
    /* Read over the head of a write, read merges with the one before. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 100, 50), 0);
    set_and_list(t1, fa, F_RDLCK, 90, 20, "R0-109 W110-149");
    /* A write lock covering a read lock's tail and a write lock's head. */
    set_and_list(t1, fa, F_WRLCK, 50, 70, "R0-49 W50-149");
    /* Unlocking everything drops the file's lock state. */
    set_and_list(t1, fa, F_UNLCK, 0, 0, "");
    ck_assert_int_eq(lock_registry_count(), 0);
    /* Unlocking with no lock at all is fine. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_UNLCK, 5, 5), 0);
    ck_assert_int_eq(lock_registry_count(), 0);
}
END_TEST

START_TEST(whence_and_lengths)
{
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = -10, .l_len = 5 };
    fa->pos = 50;
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), 0);
    ck_assert_str_eq(list_of(fa, NULL), "W40-44");
    /* Negative length: the bytes before l_start. */
    set_and_list(t1, fa, F_RDLCK, 10, -5, "R5-9 W40-44");
    l = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_END, .l_start = -100, .l_len = 2 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), 0);
    ck_assert_str_eq(list_of(fa, NULL), "R0-1 R5-9 W40-44");
    l = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_END, .l_start = 0, .l_len = 0 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), 0);
    ck_assert_str_eq(list_of(fa, NULL), "R0-1 R5-9 W40-44 R100-E");
    /* Up to the last byte, but not past it. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_UNLCK, 0, 0), 0);
    set_and_list(t1, fa, F_WRLCK, MAX - 1, 2, "W9223372036854775806-E");
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, MAX - 1, 3), -EOVERFLOW);
}
END_TEST

START_TEST(argument_errors)
{
    struct flock l = { .l_type = F_WRLCK, .l_whence = 3 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), -EINVAL);
    ck_assert_int_eq(lock_fcntl(t1, fa, 99, &l, NULL, NULL), -EINVAL);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, -1, 1), -EINVAL);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 5, -6), -EINVAL);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, 7, 0, 1), -EINVAL);
    /* The range is checked before the type (Linux's order). */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, 7, MAX, 2), -EOVERFLOW);
    l = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_END, .l_start = -101 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), -EINVAL);
    l = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_END, .l_start = MAX };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), -EOVERFLOW);
    /* F_GETLK takes only read and write probes; F_OFD_GETLK also F_UNLCK. */
    l = (struct flock){ .l_type = F_UNLCK };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_GETLK, &l, NULL, NULL), -EINVAL);
    l = (struct flock){ .l_type = F_UNLCK };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_OFD_GETLK, &l, NULL, NULL), 0);
    ck_assert_int_eq(l.l_type, F_UNLCK);
    /* OFD commands want l_pid 0. */
    l = (struct flock){ .l_type = F_WRLCK, .l_pid = 5 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_OFD_SETLK, &l, NULL, NULL), -EINVAL);
    ck_assert_int_eq(lock_fcntl(t1, fa, F_OFD_GETLK, &l, NULL, NULL), -EINVAL);
    ck_assert_int_eq(lock_fcntl(t1, fa, F_SETLK, &l, NULL, NULL), 0); /* ignored by POSIX ones */
    ck_assert_int_eq(lock_registry_count(), 1);
}
END_TEST

START_TEST(access_mode)
{
    struct file *ro = file_alloc(ia, O_RDONLY), *wo = file_alloc(ia, O_WRONLY);
    ck_assert_int_eq(setlk(t1, ro, F_SETLK, F_WRLCK, 0, 1), -EBADF);
    ck_assert_int_eq(setlk(t1, wo, F_SETLK, F_RDLCK, 0, 1), -EBADF);
    ck_assert_int_eq(setlk(t1, ro, F_OFD_SETLK, F_WRLCK, 0, 1), -EBADF);
    ck_assert_int_eq(setlk(t1, ro, F_SETLK, F_RDLCK, 0, 1), 0);
    ck_assert_int_eq(setlk(t1, wo, F_SETLK, F_WRLCK, 1, 1), 0);
    ck_assert_int_eq(setlk(t1, ro, F_SETLK, F_UNLCK, 0, 0), 0);
    /* F_GETLK needs no access. */
    ck_assert_int_eq(getlk(t1, ro, F_GETLK, F_WRLCK, 0, 0).l_type, F_UNLCK);
    ro->fmode |= FMODE_PATH;
    ck_assert_int_eq(setlk(t1, ro, F_GETLK, F_RDLCK, 0, 1), -EBADF);
    lock_release_file(ro);
    lock_release_file(wo);
    file_free(ro);
    file_free(wo);
}
END_TEST

/* ---- conflicts and F_GETLK ---- */

START_TEST(read_write_conflicts)
{
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 0, 10), 0);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_RDLCK, 5, 10), 0);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 5, 1), -EAGAIN);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 10, 5), 0);
    ck_assert_str_eq(list_of(fa, NULL), "R0-9 R5-9 W10-14");
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 12, 1), -EAGAIN);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 9, 1), -EAGAIN);

    /* The first conflicting lock in list order: p1's group comes first. */
    struct flock l = getlk(t3, fa, F_GETLK, F_WRLCK, 0, 0);
    ck_assert_int_eq(l.l_type, F_RDLCK);
    ck_assert_int_eq(l.l_whence, SEEK_SET);
    ck_assert_int_eq(l.l_start, 0);
    ck_assert_int_eq(l.l_len, 10);
    ck_assert_int_eq(l.l_pid, 101);
    /* A read probe only meets write locks. */
    l = getlk(t3, fa, F_GETLK, F_RDLCK, 0, 0);
    ck_assert_int_eq(l.l_type, F_WRLCK);
    ck_assert_int_eq(l.l_start, 10);
    ck_assert_int_eq(l.l_len, 5);
    ck_assert_int_eq(l.l_pid, 102);
    /* No conflict: only l_type changes. */
    l = (struct flock){
        .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 20, .l_len = 3, .l_pid = 9
    };
    fa->pos = 0;
    ck_assert_int_eq(lock_fcntl(t3, fa, F_GETLK, &l, NULL, NULL), 0);
    ck_assert_int_eq(l.l_type, F_UNLCK);
    ck_assert_int_eq(l.l_whence, SEEK_CUR);
    ck_assert_int_eq(l.l_start, 20);
    ck_assert_int_eq(l.l_len, 3);
    ck_assert_int_eq(l.l_pid, 9);
    /* A lock to EOF is reported with l_len 0. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 50, 0), 0);
    l = getlk(t3, fa, F_GETLK, F_WRLCK, 60, 1);
    ck_assert_int_eq(l.l_start, 50);
    ck_assert_int_eq(l.l_len, 0);
}
END_TEST

START_TEST(list_order_is_linux)
{
    /* p1 locks later bytes first; p2's group is appended after p1's. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 10, 10), 0);
    ck_assert_int_eq(setlk(t2, fa, F_SETLK, F_WRLCK, 0, 10), 0);
    set_and_list(t1, fa, F_WRLCK, 30, 10, "W10-19 W30-39 W0-9");
    struct flock l = getlk(t3, fa, F_GETLK, F_RDLCK, 0, 0);
    ck_assert_int_eq(l.l_start, 10);
    ck_assert_int_eq(l.l_pid, 101);
    /* A group emptied and re-created goes to the end. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_UNLCK, 0, 0), 0);
    set_and_list(t1, fa, F_WRLCK, 50, 1, "W0-9 W50-50");
}
END_TEST

START_TEST(ofd_locks)
{
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    ck_assert_int_eq(lock_fcntl(t1, fa, F_OFD_SETLK, &l, NULL, NULL), 0);
    /* Two descriptions of the same process conflict. */
    ck_assert_int_eq(setlk(t1, fb, F_OFD_SETLK, F_RDLCK, 5, 1), -EAGAIN);
    /* The same description does not; it merges with itself. */
    ck_assert_int_eq(setlk(t1, fa, F_OFD_SETLK, F_WRLCK, 10, 5), 0);
    ck_assert_str_eq(list_of(fa, NULL), "oW0-14");
    /* OFD and POSIX locks conflict, even of one process. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 0, 1), -EAGAIN);
    l = getlk(t1, fa, F_GETLK, F_RDLCK, 0, 0);
    ck_assert_int_eq(l.l_type, F_WRLCK);
    ck_assert_int_eq(l.l_len, 15);
    ck_assert_int_eq(l.l_pid, -1);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 20, 5), 0);
    l = getlk(t1, fa, F_OFD_GETLK, F_RDLCK, 15, 0);
    ck_assert_int_eq(l.l_type, F_WRLCK);
    ck_assert_int_eq(l.l_start, 20);
    ck_assert_int_eq(l.l_pid, 102);
    ck_assert_int_eq(setlk(t2, fb, F_OFD_SETLK, F_RDLCK, 22, 1), -EAGAIN);
    /* F_OFD_GETLK with F_UNLCK finds the description's own lock. */
    l = getlk(t2, fa, F_OFD_GETLK, F_UNLCK, 3, 1);
    ck_assert_int_eq(l.l_type, F_WRLCK);
    ck_assert_int_eq(l.l_start, 0);
    ck_assert_int_eq(l.l_pid, -1);
    l = getlk(t1, fb, F_OFD_GETLK, F_UNLCK, 3, 1);
    ck_assert_int_eq(l.l_type, F_UNLCK);
    /* Closing an fd drops the process's POSIX locks, not OFD ones. */
    lock_release_posix(p1, fa);
    lock_release_posix(p2, fa);
    ck_assert_str_eq(list_of(fa, NULL), "oW0-14");
    lock_release_file(fb);
    ck_assert_str_eq(list_of(fa, NULL), "oW0-14");
    lock_release_file(fa);
    ck_assert_str_eq(list_of(fa, NULL), "");
}
END_TEST

/* ---- flock ---- */

START_TEST(flock_basics)
{
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_SH), 0);
    ck_assert_int_eq(lock_flock(t2, fb, LOCK_SH | LOCK_NB), 0);
    ck_assert_str_eq(list_of(fa, NULL), "fR0-E fR0-E");
    /* A failed conversion has already dropped the old lock (Linux). */
    ck_assert_int_eq(lock_flock(t2, fb, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
    ck_assert_str_eq(list_of(fa, NULL), "fR0-E");
    ck_assert_str_eq(list_of(fa, fb), "");
    /* Now fa's holder can upgrade; relocking the same type changes nothing. */
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_EX | LOCK_NB), 0);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_EX | LOCK_NB), 0);
    ck_assert_str_eq(list_of(fa, NULL), "fW0-E");
    /* Another process sharing the description shares the lock. */
    ck_assert_int_eq(lock_flock(t2, fa, LOCK_EX | LOCK_NB), 0);
    ck_assert_int_eq(lock_flock(t2, fb, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
    /* flock and POSIX locks do not interact. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 0, 0), 0);
    ck_assert_int_eq(getlk(t1, fa, F_GETLK, F_WRLCK, 0, 0).l_pid, 102);
    ck_assert_str_eq(list_of(fa, NULL), "W0-E fW0-E");
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_UN), 0);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_UN), 0);
    ck_assert_int_eq(lock_flock(t2, fb, LOCK_EX | LOCK_NB), 0);
    /* The last close of a description drops its flock lock. */
    lock_release_file(fb);
    ck_assert_str_eq(list_of(fa, NULL), "W0-E");
}
END_TEST

START_TEST(flock_errors)
{
    ck_assert_int_eq(lock_flock(t1, fa, 0), -EINVAL);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_SH | LOCK_EX), -EINVAL);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_NB), -EINVAL);
    /* The command is checked before the fd, and LOCK_MAND is ignored. */
    ck_assert_int_eq(lock_flock(t1, NULL, 0), -EINVAL);
    ck_assert_int_eq(lock_flock(t1, NULL, LOCK_MAND | LOCK_READ), 0);
    ck_assert_int_eq(lock_flock(t1, NULL, LOCK_SH), -EBADF);
    /* Read-only or write-only files take either kind of flock lock. */
    struct file *ro = file_alloc(ia, O_RDONLY), *wo = file_alloc(ia, O_WRONLY);
    ck_assert_int_eq(lock_flock(t1, ro, LOCK_EX | LOCK_NB), 0);
    ck_assert_int_eq(lock_flock(t1, wo, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
    ck_assert_int_eq(lock_flock(t1, ro, LOCK_UN), 0);
    ck_assert_int_eq(lock_flock(t1, wo, LOCK_SH | LOCK_NB), 0);
    ck_assert_int_eq(lock_flock(t1, wo, LOCK_UN), 0);
    /* Access mode 3 opens for neither: only LOCK_UN passes. */
    ro->flags = O_ACCMODE;
    ck_assert_int_eq(lock_flock(t1, ro, LOCK_SH), -EBADF);
    ck_assert_int_eq(lock_flock(t1, ro, LOCK_UN), 0);
    ro->flags = O_RDONLY;
    ro->fmode |= FMODE_PATH;
    ck_assert_int_eq(lock_flock(t1, ro, LOCK_UN), -EBADF);
    lock_release_file(ro);
    lock_release_file(wo);
    file_free(ro);
    file_free(wo);
}
END_TEST

/* ---- blocking ---- */

struct call {
    struct task *t;
    struct file *f;
    int cmd; /* fcntl command, or -1: flock with arg */
    unsigned arg;
    struct flock l;
    int result;
    int done; /* atomic */
    pthread_t th;
};

static void *call_thread(void *arg)
{
    struct call *c = arg;
    int r = c->cmd < 0 ? lock_flock(c->t, c->f, c->arg)
                       : lock_fcntl(c->t, c->f, c->cmd, &c->l, NULL, NULL);
    c->result = r;
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void call_start(struct call *c, struct task *t, struct file *f, int cmd, short type,
                       off_t start, off_t len)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->f = f;
    c->cmd = cmd;
    c->l = (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    ck_assert_int_eq(pthread_create(&c->th, NULL, call_thread, c), 0);
}

static void flock_start(struct call *c, struct task *t, struct file *f, unsigned op)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
    c->f = f;
    c->cmd = -1;
    c->arg = op;
    ck_assert_int_eq(pthread_create(&c->th, NULL, call_thread, c), 0);
}

/* Wait until n callers sleep on f's identity (at most 5 s). */
static void wait_sleepers(struct file *f, int n)
{
    for (int i = 0; i < 5000 && lock_waiting(f) != n; i++)
        msleep(1);
    ck_assert_int_eq(lock_waiting(f), n);
}

static int call_join(struct call *c)
{
    for (int i = 0; i < 5000 && !__atomic_load_n(&c->done, __ATOMIC_ACQUIRE); i++)
        msleep(1);
    ck_assert_int_eq(__atomic_load_n(&c->done, __ATOMIC_ACQUIRE), 1);
    pthread_join(c->th, NULL);
    return c->result;
}

START_TEST(setlkw_blocks_until_unlock)
{
    struct call c;
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 10), 0);
    call_start(&c, t2, fb, F_SETLKW, F_RDLCK, 5, 10);
    wait_sleepers(fa, 1);
    msleep(20);
    ck_assert_int_eq(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE), 0);
    /* Unlocking a part that does not overlap wakes it, but it sleeps again. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_UNLCK, 0, 2), 0);
    msleep(20);
    wait_sleepers(fa, 1);
    ck_assert_int_eq(__atomic_load_n(&c.done, __ATOMIC_ACQUIRE), 0);
    /* Downgrading the conflict lets it in. */
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_RDLCK, 2, 8), 0);
    ck_assert_int_eq(call_join(&c), 0);
    ck_assert_str_eq(list_of(fa, p2), "R5-14");
    ck_assert_int_eq(lock_waiting(fa), 0);
}
END_TEST

START_TEST(setlkw_woken_by_release_hooks)
{
    struct call c, d;
    struct file *fc = file_alloc(ia, O_RDWR);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 150), 0);
    ck_assert_int_eq(setlk(t3, fc, F_OFD_SETLK, F_WRLCK, 200, 1), 0);
    call_start(&c, t2, fb, F_SETLKW, F_WRLCK, 100, 1);
    struct task *t2b = task_alloc(p2); /* one sleeper per host thread */
    call_start(&d, t2b, fb, F_OFD_SETLKW, F_WRLCK, 200, 1);
    wait_sleepers(fa, 2);
    /* p1 closing any fd to the file drops its locks: c gets in; d waits
     * on for fc's OFD lock. */
    lock_release_posix(p1, fb);
    ck_assert_int_eq(call_join(&c), 0);
    wait_sleepers(fa, 1);
    /* p3's exit leaves the OFD lock it took through fc. */
    lock_release_process(p3);
    msleep(20);
    ck_assert_int_eq(__atomic_load_n(&d.done, __ATOMIC_ACQUIRE), 0);
    /* The last close of fc does. */
    lock_release_file(fc);
    ck_assert_int_eq(call_join(&d), 0);
    ck_assert_str_eq(list_of(fa, NULL), "W100-100 oW200-200");
    ck_assert_str_eq(list_of(fa, fb), "oW200-200");
    file_free(fc);
    task_free(t2b);
}
END_TEST

START_TEST(flock_blocks_and_converts)
{
    struct call c;
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_SH), 0);
    flock_start(&c, t2, fb, LOCK_EX);
    wait_sleepers(fa, 1);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_UN), 0);
    ck_assert_int_eq(call_join(&c), 0);
    ck_assert_str_eq(list_of(fa, NULL), "fW0-E");
    /* Converting fb down to shared lets a shared waiter in. */
    flock_start(&c, t1, fa, LOCK_SH);
    wait_sleepers(fa, 1);
    ck_assert_int_eq(lock_flock(t2, fb, LOCK_SH), 0);
    ck_assert_int_eq(call_join(&c), 0);
    ck_assert_str_eq(list_of(fa, NULL), "fR0-E fR0-E");
    lock_release_file(fa);
    lock_release_file(fb);
    ck_assert_int_eq(lock_registry_count(), 0);
}
END_TEST

START_TEST(blocking_waits_are_interruptible)
{
    struct call c, d;
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 0), 0);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_EX), 0);
    call_start(&c, t2, fb, F_SETLKW, F_RDLCK, 0, 1);
    flock_start(&d, t3, fb, LOCK_SH);
    wait_sleepers(fa, 2);
    task_interrupt(t2);
    ck_assert_int_eq(call_join(&c), -ERESTARTSYS);
    wait_sleepers(fa, 1);
    task_interrupt(t3);
    ck_assert_int_eq(call_join(&d), -ERESTARTSYS);
    ck_assert_int_eq(lock_waiting(fa), 0);
    /* An interrupt already pending: no sleep at all. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLKW, F_RDLCK, 0, 1), -ERESTARTSYS);
    task_interrupt_clear(t2);
    task_interrupt_clear(t3);
    ck_assert_str_eq(list_of(fa, NULL), "W0-E fW0-E");
}
END_TEST

START_TEST(deadlock_detected)
{
    struct call c;
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 1), 0);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 1, 1), 0);
    /* p1 waits for p2 ... */
    call_start(&c, t1, fa, F_SETLKW, F_WRLCK, 1, 1);
    wait_sleepers(fa, 1);
    /* ... so p2 waiting for p1 would close the cycle. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLKW, F_WRLCK, 0, 1), -EDEADLK);
    /* F_SETLK never sleeps: no deadlock to report. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_WRLCK, 0, 1), -EAGAIN);
    /* p2 gives up its lock: p1 gets it. */
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_UNLCK, 0, 0), 0);
    ck_assert_int_eq(call_join(&c), 0);
    ck_assert_str_eq(list_of(fa, NULL), "W0-1");
}
END_TEST

START_TEST(deadlock_chain_of_three)
{
    struct call c, d;
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 1), 0);
    ck_assert_int_eq(setlk(t2, fa, F_SETLK, F_WRLCK, 1, 1), 0);
    ck_assert_int_eq(setlk(t3, fa, F_SETLK, F_WRLCK, 2, 1), 0);
    call_start(&c, t1, fa, F_SETLKW, F_WRLCK, 1, 1); /* p1 -> p2 */
    wait_sleepers(fa, 1);
    call_start(&d, t2, fa, F_SETLKW, F_WRLCK, 2, 1); /* p2 -> p3 */
    wait_sleepers(fa, 2);
    ck_assert_int_eq(setlk(t3, fa, F_SETLKW, F_RDLCK, 0, 1), -EDEADLK); /* p3 -> p1 */
    /* An OFD waiter is not checked (Linux cannot tell who owns it). */
    struct file *fc = file_alloc(ia, O_RDWR);
    struct call e;
    call_start(&e, t3, fc, F_OFD_SETLKW, F_WRLCK, 0, 1);
    wait_sleepers(fa, 3);
    task_interrupt(t3);
    ck_assert_int_eq(call_join(&e), -ERESTARTSYS);
    task_interrupt_clear(t3);
    lock_release_file(fc);
    file_free(fc);
    /* p3 exits: p2 gets byte 2, then p2 exits and p1 gets byte 1. */
    lock_release_process(p3);
    ck_assert_int_eq(call_join(&d), 0);
    lock_release_process(p2);
    ck_assert_int_eq(call_join(&c), 0);
    ck_assert_str_eq(list_of(fa, NULL), "W0-1");
}
END_TEST

/* ---- release hooks ---- */

START_TEST(release_hooks)
{
    struct inode *other = inode_alloc(8);
    struct file *fo = file_alloc(other, O_RDWR);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 0, 10), 0);
    ck_assert_int_eq(setlk(t1, fa, F_SETLK, F_WRLCK, 20, 10), 0);
    ck_assert_int_eq(setlk(t1, fo, F_SETLK, F_RDLCK, 0, 0), 0);
    ck_assert_int_eq(setlk(t2, fb, F_SETLK, F_RDLCK, 40, 1), 0);
    ck_assert_int_eq(setlk(t1, fb, F_OFD_SETLK, F_RDLCK, 50, 1), 0);
    ck_assert_int_eq(lock_flock(t1, fa, LOCK_EX), 0);
    ck_assert_int_eq(lock_registry_count(), 2);
    /* Closing any fd to the identity drops all of p1's POSIX locks on it,
     * through either struct inode, and nothing else. */
    lock_release_posix(p1, fb);
    ck_assert_str_eq(list_of(fa, NULL), "R40-40 oR50-50 fW0-E");
    ck_assert_str_eq(list_of(fo, NULL), "R0-E");
    lock_release_file(fa);
    ck_assert_str_eq(list_of(fa, NULL), "R40-40 oR50-50");
    lock_release_file(fb);
    ck_assert_str_eq(list_of(fa, NULL), "R40-40");
    /* Exit drops the process's locks everywhere. */
    ck_assert_int_eq(setlk(t2, fo, F_SETLK, F_RDLCK, 5, 1), 0);
    lock_release_process(p1);
    ck_assert_str_eq(list_of(fo, NULL), "R5-5");
    lock_release_process(p2);
    ck_assert_int_eq(lock_registry_count(), 0);
    file_free(fo);
    free(other);
}
END_TEST

START_TEST(anonymous_files)
{
    /* Without an inode, a description is its own identity. */
    struct file *x = file_alloc(NULL, O_RDWR), *y = file_alloc(NULL, O_RDWR);
    ck_assert_int_eq(setlk(t1, x, F_SETLK, F_WRLCK, 0, 0), 0);
    ck_assert_int_eq(setlk(t2, y, F_SETLK, F_WRLCK, 0, 0), 0);
    ck_assert_int_eq(setlk(t2, x, F_SETLK, F_WRLCK, 0, 0), -EAGAIN);
    ck_assert_int_eq(lock_flock(t2, x, LOCK_EX), 0);
    lock_release_posix(p1, x);
    lock_release_posix(p2, y);
    lock_release_file(x);
    ck_assert_int_eq(lock_registry_count(), 0);
    file_free(x);
    file_free(y);
}
END_TEST

UNIT_SUITE_MAIN("lock", UNIT_CASE(s, "ranges", setup, teardown, 0, own_locks_never_conflict,
                                  merge_adjacent_same_type, split_and_replace, whence_and_lengths,
                                  argument_errors, access_mode);
                UNIT_CASE(s, "conflicts", setup, teardown, 0, read_write_conflicts,
                          list_order_is_linux, ofd_locks, flock_basics, flock_errors);
                UNIT_CASE(s, "blocking", setup, teardown, 30, setlkw_blocks_until_unlock,
                          setlkw_woken_by_release_hooks, flock_blocks_and_converts,
                          blocking_waits_are_interruptible, deadlock_detected,
                          deadlock_chain_of_three);
                UNIT_CASE(s, "release", setup, teardown, 0, release_hooks, anonymous_files))
