/* The turn handoff on a sysmsg page, shared by the stub (freestanding) and
 * the sentry: whose turn it is lives in one word, which is also the futex
 * word. A side gives the turn by storing the other side's value and waking
 * it if it sleeps; it then waits until the word changes: spinning first
 * (spins rounds: worth it only with another CPU to run the other side),
 * then sleeping on the futex with its own "sleeping" flag raised, so that
 * the other side knows to wake it. */
#ifndef PLATFORM_HANDOFF_H
#define PLATFORM_HANDOFF_H

#include <stdint.h>

/* Store to in *state, then wake the other side if its flag says it sleeps. */
static inline void handoff_give(uint32_t *state, uint32_t to, uint32_t *other_sleeping,
                                void (*futex_wake)(uint32_t *))
{
    __atomic_store_n(state, to, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(other_sleeping, __ATOMIC_SEQ_CST))
        futex_wake(state);
}

/* Wait while *state is still waiting; stop (when not NULL) ends the sleep
 * early when it returns nonzero (the other side died). */
static inline void handoff_wait(uint32_t *state, uint32_t waiting, uint32_t *sleeping,
                                uint32_t spins, void (*futex_wait)(uint32_t *, uint32_t),
                                int (*stop)(const void *), const void *arg)
{
    for (uint32_t i = 0; i < spins; i++) {
        if (__atomic_load_n(state, __ATOMIC_ACQUIRE) != waiting)
            return;
        __builtin_ia32_pause();
    }
    for (;;) {
        __atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(state, __ATOMIC_SEQ_CST) != waiting || (stop && stop(arg)))
            break;
        futex_wait(state, waiting);
    }
    __atomic_store_n(sleeping, 0, __ATOMIC_RELAXED);
}

#endif
