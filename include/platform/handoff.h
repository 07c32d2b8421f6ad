/* The turn handoff on a sysmsg page, shared by the stub (freestanding) and
 * the sentry: whose turn it is lives in one word, which is also the futex
 * word. A side gives the turn by storing the other side's value and waking
 * it if it sleeps; it then waits until the word changes: spinning first
 * (worth it only while the other side runs on another CPU and will answer
 * soon), then sleeping on the futex with its own "sleeping" flag raised,
 * so that the other side knows to wake it. */
#ifndef PLATFORM_HANDOFF_H
#define PLATFORM_HANDOFF_H

#include <stdint.h>

#include "base.h"

/* Store to in *state, then wake the other side if its flag says it sleeps. */
static inline void handoff_give(uint32_t *state, uint32_t to, uint32_t *other_sleeping,
                                void (*futex_wake)(uint32_t *))
{
    __atomic_store_n(state, to, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(other_sleeping, __ATOMIC_SEQ_CST))
        futex_wake(state);
}

/* Spin while *state is still waiting, at most *spins rounds (read at each
 * round: the other side may cut the spin short by storing 0 there when it
 * knows it will not answer soon), giving way as spin_round says. Returns
 * nonzero if the turn came. */
static inline int handoff_spin(uint32_t *state, uint32_t waiting, const uint32_t *spins,
                               void (*yield)(void))
{
    for (uint32_t i = 0; i < __atomic_load_n(spins, __ATOMIC_RELAXED); i++) {
        if (__atomic_load_n(state, __ATOMIC_ACQUIRE) != waiting)
            return 1;
        spin_round(i, yield);
    }
    return __atomic_load_n(state, __ATOMIC_ACQUIRE) != waiting;
}

/* Sleep while *state is still waiting, with the "sleeping" flag raised so
 * that the other side knows to wake it; stop (when not NULL) ends the
 * sleep early when it returns nonzero (the other side died). */
static inline void handoff_sleep(uint32_t *state, uint32_t waiting, uint32_t *sleeping,
                                 void (*futex_wait)(uint32_t *, uint32_t),
                                 int (*stop)(const void *), const void *arg)
{
    for (;;) {
        __atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(state, __ATOMIC_SEQ_CST) != waiting || (stop && stop(arg)))
            break;
        futex_wait(state, waiting);
    }
    __atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
}

/* Wait while *state is still waiting: spin, then sleep. */
static inline void handoff_wait(uint32_t *state, uint32_t waiting, uint32_t *sleeping,
                                const uint32_t *spins, void (*yield)(void),
                                void (*futex_wait)(uint32_t *, uint32_t), int (*stop)(const void *),
                                const void *arg)
{
    if (!handoff_spin(state, waiting, spins, yield))
        handoff_sleep(state, waiting, sleeping, futex_wait, stop, arg);
}

#endif
