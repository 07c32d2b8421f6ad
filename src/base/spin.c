/* The sentry's one spin budget (see base.h). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "base.h"

static unsigned permits_max;
static unsigned permits_used;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;

static void budget_init(void)
{
    cpu_set_t set;
    int ncpu = 1;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        ncpu = CPU_COUNT(&set);
    permits_max = ncpu > 1 ? 2 * (unsigned)ncpu : 0;
}

unsigned spin_permits(void)
{
    pthread_once(&budget_once, budget_init);
    return permits_max;
}

int spin_permit_take(void)
{
    unsigned max = spin_permits();
    unsigned used = __atomic_load_n(&permits_used, __ATOMIC_RELAXED);
    while (used < max)
        if (__atomic_compare_exchange_n(&permits_used, &used, used + 1, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 1;
    return 0;
}

void spin_permit_put(void)
{
    __atomic_sub_fetch(&permits_used, 1, __ATOMIC_RELEASE);
}
