/* Advisory file locks with Linux's semantics: POSIX record locks (owned by
 * the process), open file description (OFD) locks (owned by the struct
 * file), and flock locks (whole file, owned by the struct file). Locks
 * belong to a file identity, (inode->sb, inode->ino), so that several
 * struct inode for one host file share them; a file without an inode is
 * its own identity. The syscalls (fcntl, flock) copy the guest's struct
 * flock in and out and call these. */
#ifndef FS_LOCK_H
#define FS_LOCK_H

#include <stdint.h>
#include <sys/types.h>

struct task;
struct process;
struct file;
struct flock; /* <fcntl.h>: x86-64's is the guest's (32 bytes) */

/* The end of a lock that runs to the end of the file (l_len 0). */
#define LOCK_OFFSET_MAX INT64_MAX

/* fcntl F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW
 * on f for t (POSIX locks belong to t->proc; t also sleeps). fl is the
 * guest's struct flock, already copied in; the GETLK commands rewrite it (copy it back
 * out on 0): l_type only when nothing conflicts, else the conflicting
 * lock with l_whence SEEK_SET, l_len 0 for to-EOF, l_pid its owner's pid
 * or -1 for an OFD lock. This resolves l_whence (SEEK_CUR: f->pos under
 * f->pos_lock, which the caller must not hold; SEEK_END: the size from
 * stat) and checks, in Linux's order: l_type for GETLK (-EINVAL; OFD_GETLK
 * also takes F_UNLCK, which finds f's own lock over the range), l_whence
 * (-EINVAL), range overflow (-EOVERFLOW), negative start (-EINVAL), l_type
 * (-EINVAL), the access mode for SETLK (-EBADF: F_RDLCK needs f open for
 * reading, F_WRLCK for writing), l_pid != 0 for OFD commands (-EINVAL).
 * SETLK gives -EAGAIN on a conflict; SETLKW sleeps interruptibly
 * (-ERESTARTSYS) and gives -EDEADLK when POSIX owners would wait on each
 * other. After a POSIX lock is taken, still_open(arg) (when not NULL)
 * says whether the descriptor the call came through still refers to f:
 * if not (a racing close), the lock is dropped again and the result is
 * -EBADF, as Linux. Unknown cmd: -EINVAL. The caller checks fd itself
 * (-EBADF) and O_PATH files (fcntl allows no lock command on them) before
 * copying in; lock_fcntl also refuses FMODE_PATH files with -EBADF.
 * Out of memory: -ENOLCK. */
int lock_fcntl(struct task *t, struct file *f, int cmd, struct flock *fl, int (*still_open)(void *),
               void *arg);

/* flock(2): LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB. f is the file the fd
 * names, or NULL when the fd is not open: the command is checked first, as
 * Linux does (LOCK_MAND: ignored, 0; anything else unknown: -EINVAL), then
 * -EBADF for a NULL or O_PATH file or, except for LOCK_UN, a file opened
 * neither for reading nor for writing. A conversion drops the old lock
 * before taking the new one, so it can fail (-EWOULDBLOCK with LOCK_NB,
 * -ERESTARTSYS when interrupted) with no lock left. t only sleeps. */
int lock_flock(struct task *t, struct file *f, unsigned cmd);

/* Release hooks; each wakes the waiters it unblocks. */
/* p closed an fd to f's file identity: all of p's POSIX locks on it go. */
void lock_release_posix(struct process *p, struct file *f);
/* The last reference to f went: its OFD and flock locks go. */
void lock_release_file(struct file *f);
/* p exits: its POSIX locks on every file go. */
void lock_release_process(struct process *p);

/* ---- for tests and /proc/locks ---- */
#define LOCK_KIND_POSIX 0
#define LOCK_KIND_OFD 1
#define LOCK_KIND_FLOCK 2

struct lock_info {
    int kind;          /* LOCK_KIND_* */
    short type;        /* F_RDLCK or F_WRLCK */
    off_t start, end;  /* inclusive; end LOCK_OFFSET_MAX: to EOF */
    const void *owner; /* struct process * (POSIX) or struct file * */
    int pid;           /* POSIX: the owner's pid when it locked; else -1 */
};

/* The locks on f's identity in Linux's list order: POSIX and OFD locks
 * (grouped by owner, each group by start), then flock locks. Fills up to
 * max entries and returns how many there are. */
int lock_snapshot(struct file *f, struct lock_info *out, int max);
/* How many file identities have lock state (locks or waiters). */
int lock_registry_count(void);
/* How many F_SETLKW/F_OFD_SETLKW/flock callers sleep on f's identity. */
int lock_waiting(struct file *f);

#endif
