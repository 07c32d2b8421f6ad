/* The FS and GS bases a thread sets with arch_prctl survive its system
 * calls and the context switches between them: each round sets both
 * bases to new values, makes calls that give the CPU away (sched_yield,
 * a short nanosleep) while another thread keeps a CPU busy, and reads
 * the bases back with %fs/%gs loads and ARCH_GET_FS/GS. (The sentry's
 * systrap stub restores the bases on its way back to the guest; where the
 * host kernel does not manage rdfsbase/wrfsbase it must use arch_prctl.) */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "guest.h"

#define ROUNDS 400

static uint64_t slots[2][64]; /* what %fs:0 and %gs:0 point at in turn */
static volatile int stop;

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        __asm__ volatile("" ::: "memory");
    return NULL;
}

static uint64_t fs0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

static uint64_t gs0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    return v;
}

int main(void)
{
    pthread_t th[1];
    for (int i = 0; i < 1; i++)
        pthread_create(&th[i], NULL, spin, NULL);
    uint64_t old_fs = 0;
    sc(SYS_arch_prctl, ARCH_GET_FS, &old_fs);
    long bad_load = 0, bad_get = 0;
    struct timespec ts = { 0, 1000 };
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t *f = &slots[0][i % 64], *g = &slots[1][i % 64];
        *f = 0x1000 + (uint64_t)i;
        *g = 0x2000 + (uint64_t)i;
        /* From here to the restore, nothing that needs libc's TLS. */
        sc(SYS_arch_prctl, ARCH_SET_FS, f);
        sc(SYS_arch_prctl, ARCH_SET_GS, g);
        if (i % 16 == 0)
            sc(SYS_nanosleep, &ts, 0);
        else
            sc(SYS_sched_yield);
        uint64_t a = fs0(), b = gs0(), gf = 0, gg = 0;
        sc(SYS_arch_prctl, ARCH_GET_FS, &gf);
        sc(SYS_arch_prctl, ARCH_GET_GS, &gg);
        sc(SYS_getppid);
        uint64_t a2 = fs0(), b2 = gs0();
        sc(SYS_arch_prctl, ARCH_SET_FS, old_fs);
        if (a != *f || b != *g || a2 != *f || b2 != *g)
            bad_load++;
        if (gf != (uint64_t)f || gg != (uint64_t)g)
            bad_get++;
    }
    stop = 1;
    for (int i = 0; i < 1; i++)
        pthread_join(th[i], NULL);
    check(bad_load == 0,
          "%%fs:0 and %%gs:0 read what the bases point at after every call (%ld wrong)", bad_load);
    check(bad_get == 0, "ARCH_GET_FS/GS give the bases set (%ld wrong)", bad_get);
    return 0;
}
