/* Guest address spaces: the sentry's authoritative list of mappings (VMAs)
 * and the operations that change them through the stub. */
#ifndef SENTRY_MM_H
#define SENTRY_MM_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base.h"

/* VMA_FILE: a mapping of file (a host file or memfd mapped through the
 * stub, or /dev/zero, whose private mappings are anonymous memory). */
enum vma_kind { VMA_ANON, VMA_STUB, VMA_VDSO, VMA_VVAR, VMA_STACK, VMA_HEAP, VMA_IMAGE, VMA_FILE };

struct file;

struct vma {
    uint64_t start, end; /* [start, end), page-aligned */
    int prot;            /* PROT_* */
    int flags;           /* MAP_SHARED or MAP_PRIVATE, MAP_GROWSDOWN, ... */
    int kind;
    int noprot;        /* PROT_* that mprotect may not add (Linux's cleared VM_MAY*) */
    struct file *file; /* the mapped file, or NULL; the set holds a reference */
    uint64_t off;      /* file offset of start */
    uint64_t dev, ino; /* the file's st_dev and st_ino, for /proc/PID/maps */
    int locked;        /* VMA_LOCKED, with VMA_LOCKONFAULT if pages are locked as touched */
    /* Shared anonymous memory (MAP_SHARED without a file, or of /dev/zero):
     * the identity of its memory object, as Linux's shmem file, so that
     * shared futexes in it meet across processes that share it (fork)
     * with off as the offset in it; 0 for every other mapping. Splits,
     * mremap and copies keep it. */
    uint64_t shm_id;
};

/* vma.locked, Linux's VM_LOCKED and VM_LOCKONFAULT. A lock lives only in
 * this model: the host is asked to fault the pages in (as mlock does), not
 * to lock them, see sys_mlock. */
#define VMA_LOCKED 1
#define VMA_LOCKONFAULT 2

struct vma_set {
    struct vma *v; /* sorted by start, non-overlapping */
    size_t n, cap;
    /* Taken by the functions below that change the set, around the change
     * (NULL: none): readers that do not serialise with the changers hold
     * it to see the set whole (struct mm's view_lock). */
    pthread_mutex_t *lock;
};

void vma_set_init(struct vma_set *s);
/* Empty the set, dropping its file references. */
void vma_set_free(struct vma_set *s);
/* Index of the VMA containing addr, or -1. */
long vma_find(const struct vma_set *s, uint64_t addr);
/* Index of the first VMA that ends above addr (Linux's find_vma), or -1. */
long vma_find_above(const struct vma_set *s, uint64_t addr);
/* 1 if any VMA overlaps [start, end). */
int vma_overlaps(const struct vma_set *s, uint64_t start, uint64_t end);
/* 1 if every page of [start, end) is mapped. */
int vma_covers(const struct vma_set *s, uint64_t start, uint64_t end);
/* 1 if a VMA of this kind overlaps [start, end). */
int vma_overlaps_kind(const struct vma_set *s, uint64_t start, uint64_t end, int kind);
/* Insert a VMA over a free range; -ENOMEM on allocation failure, -EEXIST if not free. */
int vma_insert(struct vma_set *s, uint64_t start, uint64_t end, int prot, int flags, int kind);
/* The same for a copy of *v with all its fields; the set takes a reference
 * of its own to v->file. */
int vma_insert_vma(struct vma_set *s, const struct vma *v);
/* Remove [start, end) from the set, splitting VMAs at the edges (a split
 * file VMA's upper part gets the offset of its new start). */
int vma_remove(struct vma_set *s, uint64_t start, uint64_t end);
/* Set prot on [start, end), which must be covered; splits as needed. */
int vma_protect(struct vma_set *s, uint64_t start, uint64_t end, int prot);
/* Highest free range of len bytes whose end is <= below and start >= above; 0 if none. */
uint64_t vma_find_free(const struct vma_set *s, uint64_t len, uint64_t above, uint64_t below);
/* The same, lowest (Linux's bottom-up search). */
uint64_t vma_find_free_low(const struct vma_set *s, uint64_t len, uint64_t above, uint64_t below);
/* Bytes of [start, end) that VMAs of the guest cover (the stub region is not the guest's). */
uint64_t vma_mapped_bytes(const struct vma_set *s, uint64_t start, uint64_t end);
/* Bytes of the guest's VMAs in [start, end) with VMA_LOCKED (Linux's locked_vm
 * over the whole space). */
uint64_t vma_locked_bytes(const struct vma_set *s, uint64_t start, uint64_t end);
/* Set the lock flags of every VMA in [start, end), splitting at the edges;
 * the vDSO and vvar (Linux's VM_SPECIAL) and the stub are left alone. */
int vma_set_locked(struct vma_set *s, uint64_t start, uint64_t end, int locked);

struct guest_ctx;

struct mm {
    int refs; /* the processes that use it (CLONE_VM shares it) */
    /* Serialises the operations on the address space, held across the
     * stub calls that change the host's mappings; only the tasks of this
     * address space take it. */
    pthread_mutex_t lock;
    /* What others read (procfs): the VMA set, the layout fields below and
     * the exe. Held only for moments, never across a stub call; a change
     * holds lock and takes view_lock around the change itself (vma_set's
     * lock points here), so a reader holds either. A leaf lock. */
    pthread_mutex_t view_lock;
    struct vma_set vmas;
    struct stub *stub;
    uint64_t brk_start, brk;
    uint64_t mmap_base; /* top of the area for mmap(NULL, ...) */
    uint64_t stack_top;
    int def_locked; /* VMA_LOCKED flags for new mappings: mlockall(MCL_FUTURE) */
    int randomize;  /* the program was loaded with randomisation (PF_RANDOMIZE) */
    uint64_t vdso;  /* address of the vDSO, 0 if none */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t arg_start, arg_end, env_start, env_end; /* the strings on the stack */
    struct file *exe_file; /* the program (a reference): /proc/PID/exe, or NULL */
    int exe_denied;        /* this mm denies writers to exe_file's inode */
    char exe[4096];        /* its path when loaded, for /proc/PID/maps */
};

/* An empty address space without a stub yet; NULL when out of memory. */
struct mm *mm_new(void);
struct mm *mm_get(struct mm *mm);
/* Drop a reference (NULL: nothing); the last one releases the stub
 * (killed and reaped) and the mappings' file references. */
void mm_put(struct mm *mm);
struct process;
/* A reference to p's address space (exec may replace it), or NULL. */
struct mm *process_mm_get(struct process *p);
/* A copy of mm's model for a fork whose stub is stub (the host copied the
 * memory): the VMAs with their file references, brk, layout, exe. The
 * caller holds mm->lock from the host's fork to here, so that both see the
 * same mappings. */
struct mm *mm_fork(struct mm *mm, struct stub *stub);

struct task;
/* The host threads of an address space (the platform's guest_ctx), for
 * the process code, which does not see the platform:
 * a new thread in t's stub for a task sharing t's address space; */
/* Whether a host thread of mm may be served by another sentry thread
 * than the one that first served it (the platform's ctx_movable). */
int mm_threads_movable(const struct mm *mm);
int mm_new_thread(struct task *t, struct guest_ctx **out);
/* a fork of t's address space (stub and model): the new mm, with *out
 * its one thread, or NULL with *err; */
struct mm *mm_dup(struct task *t, struct guest_ctx **out, int *err);
/* end a parked thread and free ctx; free ctx of a thread that is gone;
 * end a new thread that never ran (the caller becomes its sentry thread
 * for a moment); make a running thread trap soon (any thread may). */
void mm_end_thread(struct guest_ctx *ctx);
void mm_forget_thread(struct guest_ctx *ctx);
void mm_abandon_thread(struct guest_ctx *ctx);
void mm_kick_thread(struct guest_ctx *ctx);
/* As mm_kick_thread, for a task that must end: should its thread not come
 * back (a guest waiting in stub code, deaf to the interrupt), the task's
 * wait for it gives up after a grace period (platform.h: kill). */
void mm_kill_thread(struct guest_ctx *ctx);

/* The memory syscalls' mechanism; all return >= 0 or -errno. */
long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags, int fd,
             uint64_t off);
long mm_munmap(struct task *t, uint64_t addr, uint64_t len);
long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot);
long mm_mremap(struct task *t, uint64_t old, uint64_t olen, uint64_t nlen, int flags,
               uint64_t naddr);
long mm_brk(struct task *t, uint64_t addr);
/* madvise of [start, start + len) (page-aligned, len > 0) with advice the
 * caller checked concerns the guest's own pages: the stub runs it. */
long mm_madvise(struct task *t, uint64_t start, uint64_t len, int advice);
/* mincore of pages pages from start (checked by the caller) into the
 * guest's vec: the host's answer, run by the stub on its own pages, one
 * mapping's run at a time; -ENOMEM at an unmapped page (or the stub
 * region), the bytes before it written, as do_mincore. */
long mm_mincore(struct task *t, uint64_t start, uint64_t pages, uint64_t vec);
/* mmap of the open file f (a reference the caller keeps), with mmap's
 * rules and checks, as a guest's mmap of a descriptor of f would be: how
 * the loader maps a program's segments from its file. */
long mm_mmap_file(struct task *t, struct file *f, uint64_t addr, uint64_t len, int prot, int flags,
                  uint64_t off);
/* exec's fresh address space, made in place: every guest mapping is
 * unmapped through the stub (the stub region, the vDSO and vvar stay) and
 * the break, mmap base, stack and argument fields, mlockall's default are
 * reset. exe_file stays until the loader replaces it. 0 or -errno (then
 * the address space is partly gone). */
int mm_exec_reset(struct task *t);
/* execve of a task whose address space is shared (vfork, CLONE_VM): a
 * fresh stub and an empty address space of its own for t's process; the
 * other users keep the old one. */
int mm_exec_private(struct task *t);
/* Make a mapping for the loader (MAP_FIXED, anonymous, private). */
long mm_map_fixed(struct task *t, uint64_t addr, uint64_t len, int prot, int kind);
/* The checks of Linux's may_expand_vm (RLIMIT_AS) and mlock_future_ok
 * (RLIMIT_MEMLOCK without CAP_IPC_LOCK) for add more bytes; mm locked. */
int mm_may_expand(struct task *t, uint64_t add);
int mm_may_lock_more(struct task *t, uint64_t add);
/* Whether the task may lock memory at all (Linux's can_do_mlock), and
 * whether it has CAP_IPC_LOCK (no RLIMIT_MEMLOCK). */
int mm_can_mlock(struct task *t);
int mm_cap_ipc_lock(struct task *t);
/* Fault in the locked VMAs of [start, end) as Linux's __mm_populate does
 * for mlock (the host's MADV_POPULATE_*), skipping VMA_LOCKONFAULT ones;
 * mm locked. Returns 0, or mlock's -ENOMEM or -EAGAIN unless ignore_errors. */
long mm_populate_locked(struct task *t, uint64_t start, uint64_t end, int ignore_errors);
/* The fresh stub trimmed (stub_trim), its region and the host's vDSO and vvar
 * pages the first VMAs of t's address space. */
int mm_adopt_stub(struct task *t);
/* The host pid of the process that runs mm's guest code, whose CPU time,
 * faults and memory are the guest's: 0 once it is gone (or absent, as in
 * tests). The rest of the sentry asks this, never the platform. */
pid_t mm_host_pid(const struct mm *mm);
/* End the host process that runs mm's guest code (exit_group). */
void mm_kill(struct mm *mm);
/* The same by its last user, whose host thread is ctx (or NULL): waits
 * until the thread is gone where the platform needs it, frees ctx. */
/* The program of mm may be written again: its last user is gone (exit_mm
 * drops the mm, and with it the deny on writers, before the parent can
 * learn of the exit, however long the rest of the teardown takes). */
void mm_allow_exe_write(struct mm *mm);
/* The last user of mm is gone and its stub killed: drop the mappings'
 * file references now (Linux's exit_mmap comes before the parent is told:
 * a System V segment's attach count, the last close of a mapped file). */
void mm_release_mappings(struct mm *mm);
void mm_kill_last(struct mm *mm, struct guest_ctx *ctx);
/* After reading something by that pid: 1 if it still named the stub, so
 * the data was not some later process's that reused the pid. */
int mm_host_pid_still_ours(const struct mm *mm);
/* Clip [start, *end) of guest memory so that it stops short of the stub
 * region, which is not the guest's; 0 if it starts inside that region. */
int mm_clip_guest_range(uint64_t start, uint64_t *end);
/* The guest's resource use as the host accounts the process that runs it
 * (/proc/PID/stat's and, with full, status's fields); have is 0 when the
 * figures are not available (no stub, or it is gone). */
struct mm_usage {
    int have;
    unsigned long long minflt, majflt, utime, stime; /* faults; clock ticks */
    unsigned long long rss;                          /* pages */
    long processor;
    /* status only (kB): */
    unsigned long long hwm, anon, file, shmem, pte, swap;
};
void mm_host_usage(const struct mm *mm, struct mm_usage *u, int full);
/* CPU time in ns of mm's stub (tid 0: the whole process) or of its host
 * thread tid: which 0 is user plus system time, 1 user time, 2 the
 * scheduler's runtime (Linux's CPUCLOCK_PROF, VIRT, SCHED). -1 when it
 * cannot be read (no stub, or it is gone). */
int64_t mm_host_cputime(const struct mm *mm, pid_t tid, int which);
/* The host tid of guest thread ctx (0 for NULL): only for the call above. */
struct guest_ctx;
pid_t mm_ctx_host_tid(const struct guest_ctx *ctx);

/* Guest memory access: the only way the sentry touches guest memory.
 * Each returns 0 (or a length) or -EFAULT; never follows a bad pointer. */
int copy_in(struct task *t, void *dst, uint64_t src, size_t len);
int copy_out(struct task *t, uint64_t dst, const void *src, size_t len);
/* Several ranges copied out in one host call where it can: 0, or -EFAULT
 * (the pieces before the one that faults are written, as by copy_out one
 * after another). */
struct guest_span {
    uint64_t addr;
    const void *buf;
    size_t len;
};
int copy_out_spans(struct task *t, const struct guest_span *s, size_t n);
/* Copy as much as is accessible, from the start; returns the byte count
 * (0 if the first byte faults) or -EFAULT if the range is not nameable. */
long copy_in_partial(struct task *t, void *dst, uint64_t src, size_t len);
long copy_out_partial(struct task *t, uint64_t dst, const void *src, size_t len);
/* Copy a NUL-terminated string of at most max-1 bytes; returns its length,
 * -EFAULT, or -ENAMETOOLONG if no NUL within max bytes. */
long strncpy_in(struct task *t, char *dst, uint64_t src, size_t max);
/* The same on a host process by pid (what the above use; unit-testable). */
int mem_read(pid_t pid, void *dst, uint64_t src, size_t len);
int mem_write(pid_t pid, uint64_t dst, const void *src, size_t len);
long mem_strncpy(pid_t pid, char *dst, uint64_t src, size_t max);
/* The FP/SSE/AVX state of t's stopped thread, as the XSAVE instruction's
 * standard form of size bytes (fpu_xstate_size()): read, or loaded (the
 * caller checked it as rt_sigreturn does). 0 or -EFAULT. */
int task_fpstate_get(struct task *t, void *buf, size_t size);
int task_fpstate_set(struct task *t, const void *buf, size_t size);
/* access_ok: 1 if [addr, addr+len) does not wrap and ends below TASK_SIZE.
 * (The copies also refuse the stub region, as if it were unmapped.) */
int guest_range_ok(uint64_t addr, size_t len);
/* The most one read or write moves (Linux's MAX_RW_COUNT). */
#define MAX_RW_COUNT (INT_MAX & ~4095L)
/* Copy in and check cnt iovecs at uiov as import_iovec does: more than
 * UIO_MAXIOV is EINVAL, a negative length EINVAL, a range the guest cannot
 * name EFAULT; the lengths are cut so that their sum stays within
 * MAX_RW_COUNT. Returns that sum, with the array in *out (NULL for none;
 * the caller frees it), or the error with *out NULL. */
struct iovec;
long import_iovec(struct task *t, uint64_t uiov, uint64_t cnt, struct iovec **out);

#endif
