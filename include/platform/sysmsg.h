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
};

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
    uint32_t arch; /* AUDIT_ARCH_* of the syscall */
    uint64_t addr; /* si_addr of a fault */
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
    /* Buffers for requests whose arguments are pointers (recvmsg's msghdr,
     * iovec, data and control buffer): laid out by the sentry, at addresses
     * as the stub sees them. */
    uint64_t scratch[64];
};

_Static_assert(sizeof(struct sysmsg) <= 4096, "a sysmsg must fit its page (SYSMSG_SIZE)");

#endif
