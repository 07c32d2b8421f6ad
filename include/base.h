/* The few definitions every part of sandbox-run shares: the guest's page
 * size and the end of its user address space (x86-64), container_of and
 * ARRAY_SIZE. Freestanding (the stub includes it too). */
#ifndef BASE_H
#define BASE_H

#include <stddef.h>

#define GUEST_PAGE 4096ULL
#define PAGE_DOWN(x) ((x) & ~(GUEST_PAGE - 1))
#define PAGE_UP(x) (((x) + GUEST_PAGE - 1) & ~(GUEST_PAGE - 1))
/* The end of the x86-64 user address space (Linux's TASK_SIZE_MAX). */
#define TASK_SIZE 0x7ffffffff000ULL

/* The struct of type whose member p points to. */
#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Round i of a spin that gives way: past the first SPIN_PLAIN rounds it
 * yields the CPU every SPIN_YIELD_EVERY rounds, since when host threads
 * outnumber CPUs the side awaited may be waiting for this very CPU, and a
 * plain spin would hold it until the spin ends. Both spins use it: the
 * stub handoff's (platform/handoff.h) and the sleep's (sched/wait.c). */
#define SPIN_PLAIN 64
#define SPIN_YIELD_EVERY 16
static inline void spin_round(unsigned i, void (*yield)(void))
{
    if (i >= SPIN_PLAIN && i % SPIN_YIELD_EVERY == 0)
        yield();
    else
        __builtin_ia32_pause();
}

/* The sentry's one spin budget (src/base/spin.c). A thread that would
 * spin waiting for another one (a sentry thread for its stub thread's
 * post, a stub thread for its sentry thread's answer, a sleeping task for
 * its waker) takes a permit first, and without one it sleeps at once.
 * A spin pays only while the thread awaited runs meanwhile: there are
 * two permits for every CPU, one spinner beside the thread it waits for
 * (a spin gives way often, as spin_round says, so that the thread awaited
 * finds a CPU), and none on one CPU. spin_permits is that number. */
unsigned spin_permits(void);
int spin_permit_take(void);
void spin_permit_put(void);

#endif
