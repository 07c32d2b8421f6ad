/* The platform interface: how the sentry runs guest threads. A platform owns
 * no kernel state; it runs a thread with registers the sentry gives it until
 * the thread traps, and runs memory syscalls inside a stub on request. */
#ifndef PLATFORM_PLATFORM_H
#define PLATFORM_PLATFORM_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include "abi/regs.h"
#include "platform/layout.h"

/* A mapping the host gave the stub that a guest address space keeps. */
#define STUB_HOST_MAPS 4
struct stub_host_map {
    uint64_t start, end;
    int prot;
    int vdso; /* the vDSO's text; otherwise its data (vvar) */
};

/* A host stub process: one guest address space. */
struct stub {
    pid_t pid;
    int pidfd;
    struct sysmsg *msgs; /* sentry's mapping of the stub's sysmsg pages */
    int dead;            /* set (atomically) once the host process is gone */
    int status;          /* its wait status, once dead */
    int status_claimed;  /* set (atomically) by the one stub_mark_dead that records it */
    const struct platform *plat;
    /* File-backed mmap: the sentry's end of the socket pair whose other end
     * is the stub's STUB_FDPASS_FD. The lock keeps one fd in flight at a
     * time, so the stub receives the fd the call sent; seq tags each one. */
    int fdpass_fd;
    pthread_mutex_t fdpass_lock;
    uint64_t fdpass_seq;
    /* Its host threads by slot (0: free), from the kernel (the spawner or
     * a hello), under slot_lock; mem_pid is one that is alive, to copy
     * guest memory through (the leader may have exited before the rest). */
    pthread_mutex_t slot_lock;
    pid_t tids[STUB_MAX_THREADS];
    pid_t mem_pid;
    /* What stub_trim left of the host's mappings outside the stub region
     * (the vDSO and its data pages), and whether it ran. */
    int trimmed;
    int nhost_maps;
    struct stub_host_map host_maps[STUB_HOST_MAPS];
};

/* One guest thread on a platform. */
struct guest_ctx {
    struct stub *stub;
    int slot;  /* index of its sysmsg page and signal stack */
    pid_t tid; /* host tid of the stub thread */
    struct sysmsg *m;
    uint64_t seg[6]; /* ptrace: cs, ss, ds, es, fs, gs selectors of the stub */
    int spin_permit; /* systrap: the pair holds one of the spin budget's */
    /* systrap: where the stub's signal frame holds the thread's FP state
     * (an address in the slot's signal stack, checked), 0 if unknown. */
    uint64_t fpstate;
    /* Set (atomically) by the task loop around switch_to: the thread runs
     * guest code or is on its way there, so task_kick interrupts it. */
    int running;
    /* systrap: set (atomically) by kill, cleared by the task loop before a
     * turn of a task that is not ending; give_up_at: when the serving
     * thread stops waiting for a post (CLOCK_MONOTONIC ns, 0: not yet
     * counting); lost: it did, and the thread is gone for the sentry. */
    int dying;
    int lost;
    uint64_t give_up_at;
};

struct guest_event {
    int kind;      /* EV_SYSCALL, EV_FAULT, EV_INTERRUPT, EV_DEAD */
    int signo;     /* fault signal, or SIGSYS */
    int code;      /* si_code */
    uint32_t arch; /* EV_SYSCALL: AUDIT_ARCH_* */
    uint64_t nr;   /* EV_SYSCALL: syscall number */
    uint64_t addr; /* EV_FAULT: si_addr */
    /* EV_FAULT: the sigcontext's trapno, err and cr2 as Linux fills them
     * (systrap: the kernel's own; ptrace: worked out from the signal,
     * see ptrace.c). */
    uint64_t trapno, err, cr2;
};
#define EV_DEAD 4

struct platform {
    const char *name;
    /* A ctx may be served by another sentry thread than the one that
     * attached it (systrap; under ptrace its tracer must serve it). */
    int ctx_movable;
    /* Start a new stub process with one thread; ctx describes that thread. */
    int (*stub_create)(struct stub **out, struct guest_ctx **ctx);
    /* Called on the sentry thread that will run ctx, before anything else:
     * waits until the stub thread is parked and ready for requests. */
    int (*attach)(struct guest_ctx *ctx);
    /* Run the guest thread with *regs until it traps; on return *regs holds
     * its state and *ev says why it stopped. Returns 0, or -ESRCH if the stub died. */
    int (*switch_to)(struct guest_ctx *ctx, struct guest_regs *regs, struct guest_event *ev);
    /* Run a syscall inside the stub (the thread must be parked): memory calls only. */
    long (*stub_syscall)(struct guest_ctx *ctx, long nr, const uint64_t args[6]);
    /* stub_map_fd in one turn: the descriptor tagged seq is on its way on
     * the fd-passing socket and the receive buffers are laid out in the
     * page's scratch space; the stub receives it, maps it at addr (len,
     * prot, flags, off) and closes it. mmap's result, checked. NULL: the
     * three calls go one by one through stub_syscall. */
    long (*map_fd)(struct guest_ctx *ctx, uint64_t seq, uint64_t addr, uint64_t len, int prot,
                   int flags, uint64_t off);
    /* Make a running guest thread trap with EV_INTERRUPT soon; any thread
     * may call it. An interrupt is never lost: one sent while the thread
     * is on its way into the guest stops it there (systrap: the kick word,
     * stub.c; ptrace: the signal waits for the tracee's resumption). One
     * sent while the thread is with the sentry may show up as a spurious
     * EV_INTERRUPT later. */
    void (*interrupt)(struct guest_ctx *ctx);
    /* The task of ctx must end (a kill, its group's exit, an exec's, the
     * sandbox's end): interrupt it as interrupt does, and should the
     * thread still not post (a guest that waits in stub code with the
     * interrupt signal blocked), have the wait for it give up after a
     * grace period: switch_to and the requests return -ESRCH as if the
     * thread were gone. NULL: interrupt is enough (ptrace: a tracee never
     * blocks in the host). */
    void (*kill)(struct guest_ctx *ctx);
    /* Have the parked thread of ctx run stub_clone(args) (stub.c): the
     * result the stub reports (a hint only, see stub_clone_end). */
    long (*run_clone)(struct guest_ctx *ctx, const uint64_t args[6]);
    /* Have the parked thread of ctx end itself (exit, not exit_group);
     * returns once the sentry is done with it (it need not be gone yet). */
    void (*run_exit)(struct guest_ctx *ctx);
    /* The stub of ctx was killed: wait until ctx's thread is gone, so that
     * the spawner can reap the stub (ptrace: its tracer must see the death
     * first). NULL: nothing to wait for. */
    void (*reap_thread)(struct guest_ctx *ctx);
    /* The sentry thread of ctx is about to sleep for an unknown time (a
     * blocking call), so the guest thread should stop waiting actively
     * for its answer. NULL: it does not wait actively. */
    void (*blocking)(struct guest_ctx *ctx);
    /* The stub s was killed and is about to be reaped: take the deaths of
     * its threads that only this sentry may take (ptrace: a dead tracee
     * stays a zombie until its tracer waits for it, and the stub cannot
     * be reaped before). NULL: nothing to take. */
    void (*release)(struct stub *s);
    /* The stopped thread's FP/SSE/AVX state as the XSAVE instruction's
     * standard (non-compacted) form, size bytes (fpu_xstate_size()):
     * read into buf, or loaded from it (the caller checked it as
     * rt_sigreturn does). 0 or -errno. */
    int (*get_fpstate)(struct guest_ctx *ctx, void *buf, size_t size);
    int (*set_fpstate)(struct guest_ctx *ctx, const void *buf, size_t size);
};

extern const struct platform platform_systrap;
extern const struct platform platform_ptrace;

const struct platform *platform_by_name(const char *name);

/* Shared by both platforms (stub_host.c). */
extern uint32_t stub_spin_rounds; /* 0 when the spin budget has no permit */
int stub_host_init(void);
/* At the sandbox's end: the spare stub (see stub_spawn) is released. */
void stub_host_fini(void);
/* A new stub process, parked at its first post; under systrap, after the
 * first, a spare started in the background is taken when there is one. */
int stub_spawn(const struct platform *plat, int ptrace_mode, struct stub **out,
               struct guest_ctx **ctx);
void stub_kill(struct stub *s);
/* ctx and its stub thread stop spinning for each other: the permit of the
 * spin budget they held (base.h) goes back. */
void stub_pair_unspin(struct guest_ctx *ctx);
/* Free ctx, giving back its permit. */
void stub_ctx_free(struct guest_ctx *ctx);
/* Both platforms' interrupt: STUB_INTERRUPT_SIG to the guest thread, which
 * the stub (systrap) or the tracer (ptrace) turns into EV_INTERRUPT. */
void stub_interrupt(struct guest_ctx *ctx);
/* Once per stub, by the thread that serves ctx (parked): unmap what the
 * host's exec of the stub image left outside the stub region (its stack),
 * and record the vDSO and vvar mappings in host_maps. 0 or -errno. */
int stub_trim(struct guest_ctx *ctx);
/* Kill the stub, have the spawner reap it, and free the sentry's side. */
void stub_release(struct stub *s);
/* A new host thread in the stub of ctx (whose thread is parked), for a
 * new guest task that shares the address space: *out describes it (call
 * attach on the sentry thread that will serve it). -EAGAIN when the stub
 * has STUB_MAX_THREADS threads. */
int stub_new_thread(struct guest_ctx *ctx, struct guest_ctx **out);
/* A fork of the stub of ctx (whose thread is parked): a new stub whose one
 * thread (*out, slot as ctx's) has its own sysmsg pages and fd-passing
 * socket; the host's copy-on-write copy of the address space. */
int stub_fork(struct guest_ctx *ctx, struct stub **out_stub, struct guest_ctx **out);
/* End the host thread of ctx (parked) and free its slot and ctx. */
void stub_exit_thread(struct guest_ctx *ctx);
/* Free ctx, whose host thread is gone (or claims to be: its slot is not
 * given out again). */
void stub_forget_thread(struct guest_ctx *ctx);
/* Called by whoever reaped the stub (the monitor, or the ptrace tracer)
 * with its wait status; wakes its threads. Later calls change nothing. */
void stub_mark_dead(struct stub *s, int status);
long stub_syscall6(struct guest_ctx *ctx, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
                   uint64_t a3, uint64_t a4, uint64_t a5);
/* mmap(addr, len, prot, flags, host_fd, off) in the stub of ctx (whose
 * thread must be parked): host_fd goes over the fd-passing socket for this
 * one call and the stub closes it again. Returns the address or -errno.
 * A guest thread can steal the fd in flight (recvmsg from stub text), so
 * host_fd must grant no more than the guest may map (see mm_mmap). */
long stub_map_fd(struct guest_ctx *ctx, int host_fd, uint64_t addr, uint64_t len, int prot,
                 int flags, uint64_t off);
/* mincore(addr, npages pages) in the stub of ctx (whose thread must be
 * parked), with the vector in the scratch space of its sysmsg page, so at
 * most STUB_MINCORE_MAX pages a call; the bytes land in vec (as 0 or 1:
 * the page is guest-writable). Returns 0 or -errno. */
#define STUB_MINCORE_MAX 512
long stub_mincore(struct guest_ctx *ctx, uint64_t addr, uint64_t npages, unsigned char *vec);

#endif
