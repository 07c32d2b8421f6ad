/* The page shared between the sentry and one stub thread: the guest's
 * registers at a trap, the reason for the trap, and requests from the sentry.
 * The guest can write this page: every field is untrusted in the sentry. */
#ifndef PLATFORM_SYSMSG_H
#define PLATFORM_SYSMSG_H

#include <stdint.h>
#include "abi/regs.h"

/* sysmsg.state: whose turn it is; also the futex word. */
enum {
    SM_GONE = 0,   /* the kernel's clear at the thread's exit (set_tid_address) */
    SM_SENTRY = 1, /* the stub posted an event and waits for the sentry */
    SM_STUB = 2,   /* the stub runs (guest code, or a requested syscall) */
    SM_DEAD = 3,   /* written by the sentry when the stub process is gone */
};

/* sysmsg.cmd: what the sentry wants when it hands the turn back. */
enum {
    SMC_RESUME = 0,  /* load regs and return to the guest */
    SMC_SYSCALL = 1, /* run sc_nr(sc_args) in the stub, store sc_ret, post again */
    SMC_CLONE = 2,   /* stub_clone(sc_args), store sc_ret, post again */
    SMC_EXIT = 3,    /* end this host thread (not the process) */
    /* Receive one descriptor on STUB_FDPASS_FD into the sysmsg_fdpass
     * laid out in scratch (skipping and closing any whose tag is not
     * sc_nr), mmap it with sc_args[0..4] as addr, len, prot, flags and
     * offset, close it, store mmap's result in sc_ret, post again: the
     * three calls of a file mapping in one turn. */
    SMC_MAPFD = 4,
};

/* The buffers of a descriptor's recvmsg, in a sysmsg's scratch space:
 * struct msghdr, struct iovec, the data (the sender's tag) and a control
 * buffer for one SCM_RIGHTS descriptor, in x86-64's layout (stub_host.c
 * checks it against <sys/socket.h>). Pointers are as the stub sees them. */
struct sysmsg_fdpass {
    uint64_t msg_name;
    uint32_t msg_namelen, pad0;
    uint64_t msg_iov, msg_iovlen;
    uint64_t msg_control, msg_controllen;
    int32_t msg_flags;
    uint32_t pad1;
    uint64_t iov_base, iov_len;
    uint64_t seq; /* the data: the sender's tag */
    uint64_t cmsg_len;
    int32_t cmsg_level, cmsg_type;
    int32_t fd; /* CMSG_DATA */
    uint32_t pad2;
};
#define SYSMSG_FDPASS_CMSG_LEN 20 /* CMSG_LEN(sizeof(int)) */
#define SYSMSG_FDPASS_CTL_SIZE 24 /* CMSG_SPACE(sizeof(int)) */
#define SYSMSG_SOL_SOCKET 1       /* SOL_SOCKET */
#define SYSMSG_SCM_RIGHTS 1       /* SCM_RIGHTS */

/* The descriptor a recvmsg of n bytes into b received with its tag, or -1
 * if what came is not one tag and one SCM_RIGHTS descriptor. */
static inline int sysmsg_fdpass_fd(const struct sysmsg_fdpass *b, long n)
{
    if (n != (long)sizeof(b->seq) || b->msg_controllen < SYSMSG_FDPASS_CMSG_LEN ||
        b->msg_controllen > SYSMSG_FDPASS_CTL_SIZE || b->cmsg_len != SYSMSG_FDPASS_CMSG_LEN ||
        b->cmsg_level != SYSMSG_SOL_SOCKET || b->cmsg_type != SYSMSG_SCM_RIGHTS)
        return -1;
    return b->fd;
}

/* Event kinds, shared with the platform interface. */
enum {
    EV_SYSCALL = 1,
    EV_FAULT = 2,
    EV_INTERRUPT = 3,
};

struct sysmsg_event {
    uint32_t kind;
    int32_t signo;
    int32_t code;
    uint32_t arch;             /* AUDIT_ARCH_* of the syscall */
    uint64_t addr;             /* si_addr of a fault */
    uint64_t trapno, err, cr2; /* the kernel's sigcontext, for a fault */
    uint64_t fpstate;          /* the signal frame's FP state (its sigcontext's fpstate) */
};

/* The handoff words live on cache lines of their own, so that the side
 * spinning on `state` does not steal the line the other side is filling. */
struct sysmsg {
    uint32_t state;
    uint32_t pad0[15];
    uint32_t stub_sleeping;
    uint32_t pad1[15];
    uint32_t sentry_sleeping;
    uint32_t pad2[15];
    uint32_t cmd;
    uint32_t spin_limit; /* stub spins this many rounds before futex-waiting */
    uint32_t go;         /* ptrace platform: the tracer has attached */
    struct sysmsg_event ev;
    struct guest_regs regs;
    uint64_t sc_nr;
    uint64_t sc_args[6];
    int64_t sc_ret;
    /* The stub's own: the FS and GS bases it last set with arch_prctl,
     * where the kernel does not manage rdfsbase/wrfsbase (stub.c). Never
     * read by the sentry. */
    uint64_t fs_set, gs_set;
    /* Buffers for requests whose arguments are pointers (recvmsg's msghdr,
     * iovec, data and control buffer): laid out by the sentry, at addresses
     * as the stub sees them. */
    uint64_t scratch[64];
    /* The sentry's interrupt request: set before it sends the thread
     * STUB_INTERRUPT_SIG, cleared once the thread has posted. The stub
     * checks it in its last instructions before the guest (stub_return,
     * whose window an interrupt restarts) and traps again if it is set, so
     * that an interrupt that lands in the stub on its way back is not lost.
     * A hint only: the sentry never reads it, and a guest that sets it
     * gets an extra EV_INTERRUPT. */
    uint32_t kick __attribute__((aligned(64)));
    uint32_t pad3;
    /* What stub_return pops: the guest's registers (r15 ... rdi), then an
     * iretq frame (rip, cs, rflags, rsp, ss). Right after kick, which
     * stub_return reads at -8 from it. */
    uint64_t frame[20];
};

_Static_assert(sizeof(struct sysmsg) <= 4096, "a sysmsg must fit its page (SYSMSG_SIZE)");
_Static_assert(__builtin_offsetof(struct sysmsg, frame) - __builtin_offsetof(struct sysmsg, kick) ==
                   8,
               "stub_return (entry.S) reads kick at -8 from the frame");
_Static_assert(sizeof(struct sysmsg_fdpass) <= sizeof(((struct sysmsg *)0)->scratch),
               "the fd-passing buffers fit the scratch space");

#endif
