/* futex.c: the futex calls a single-threaded program makes, as Linux
 * answers them: FUTEX_WAKE with nobody waiting, FUTEX_WAIT on a value that
 * differs (EAGAIN) or that matches until a timeout (ETIMEDOUT; relative
 * for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET on either clock), and the
 * argument errors in the kernel's order: timeout, then the clock flag,
 * then the command, the bitset, the address (alignment, then range, then
 * for shared futexes the page), then the value. Also pthread_once and
 * setlocale, which call FUTEX_WAKE from static glibc (futex.glibc). */
#include "guest.h"

#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_RT 256

static long futex(void *uaddr, long op, long val, const void *ts, void *uaddr2, long val3)
{
    return sc(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static int once_calls;
static void once_fn(void)
{
    once_calls++;
}

int main(void)
{
    static uint32_t word[4] __attribute__((aligned(16)));
    char name[128];
    word[0] = 5;

    /* FUTEX_WAKE with nobody waiting: 0 woken, private or shared. */
    for (int priv = 0; priv < 2; priv++) {
        long p = priv ? FUTEX_PRIVATE : 0;
        const char *pn = priv ? "private" : "shared";
        snprintf(name, sizeof name, "%s WAKE 1", pn);
        check_ret(futex(word, FUTEX_WAKE | p, 1, 0, 0, 0), 0, name);
        snprintf(name, sizeof name, "%s WAKE INT_MAX", pn);
        check_ret(futex(word, FUTEX_WAKE | p, 0x7fffffff, 0, 0, 0), 0, name);
        snprintf(name, sizeof name, "%s WAKE 0", pn);
        check_ret(futex(word, FUTEX_WAKE | p, 0, 0, 0, 0), 0, name);
        snprintf(name, sizeof name, "%s WAKE_BITSET ~0", pn);
        check_ret(futex(word, FUTEX_WAKE_BITSET | p, 1, 0, 0, -1), 0, name);
        snprintf(name, sizeof name, "%s WAKE_BITSET 0", pn);
        check_err(futex(word, FUTEX_WAKE_BITSET | p, 1, 0, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE unaligned", pn);
        check_err(futex((char *)word + 1, FUTEX_WAKE | p, 1, 0, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE unaligned by 2", pn);
        check_err(futex((char *)word + 2, FUTEX_WAKE | p, 1, 0, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE unmapped", pn);
        long r = futex(BADPTR, FUTEX_WAKE | p, 1, 0, 0, 0);
        out("%s -> %s\n", name, ret_name(r));
        snprintf(name, sizeof name, "%s WAKE unmapped, aligned", pn);
        r = futex((void *)4096, FUTEX_WAKE | p, 1, 0, 0, 0);
        out("%s -> %s\n", name, ret_name(r));
        snprintf(name, sizeof name, "%s WAKE kernel pointer", pn);
        check_err(futex(KPTR, FUTEX_WAKE | p, 1, 0, 0, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAKE at the end of user space", pn);
        r = futex((void *)0x7ffffffffffcUL, FUTEX_WAKE | p, 1, 0, 0, 0);
        out("%s -> %s\n", name, ret_name(r));
        /* FUTEX_CLOCK_REALTIME is only for the waits that take an
         * absolute time. */
        snprintf(name, sizeof name, "%s WAKE | CLOCK_REALTIME", pn);
        check_err(futex(word, FUTEX_WAKE | FUTEX_CLOCK_RT | p, 1, 0, 0, 0), ENOSYS, name);
        snprintf(name, sizeof name, "%s WAIT | CLOCK_REALTIME", pn);
        check_err(futex(word, FUTEX_WAIT | FUTEX_CLOCK_RT | p, 5, 0, 0, 0), ENOSYS, name);

        /* FUTEX_WAIT on a value that differs. */
        snprintf(name, sizeof name, "%s WAIT, value differs", pn);
        check_err(futex(word, FUTEX_WAIT | p, 6, 0, 0, 0), EAGAIN, name);
        snprintf(name, sizeof name, "%s WAIT_BITSET, value differs", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | p, 6, 0, 0, -1), EAGAIN, name);
        snprintf(name, sizeof name, "%s WAIT_BITSET 0", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | p, 6, 0, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAIT unaligned", pn);
        check_err(futex((char *)word + 1, FUTEX_WAIT | p, 5, 0, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAIT unmapped", pn);
        check_err(futex((void *)4096, FUTEX_WAIT | p, 5, 0, 0, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAIT kernel pointer", pn);
        check_err(futex(KPTR, FUTEX_WAIT | p, 5, 0, 0, 0), EFAULT, name);

        /* Timeouts: checked first, when there is one. */
        struct timespec bad = { 0, 1000000000L }, neg = { -1, 0 };
        snprintf(name, sizeof name, "%s WAIT, timeout nsec 1e9", pn);
        check_err(futex(word, FUTEX_WAIT | p, 5, &bad, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAIT, negative timeout", pn);
        check_err(futex(word, FUTEX_WAIT | p, 5, &neg, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAIT, bad timeout pointer", pn);
        check_err(futex(word, FUTEX_WAIT | p, 6, BADPTR, 0, 0), EFAULT, name);
        snprintf(name, sizeof name, "%s WAIT unaligned, bad timeout", pn);
        check_err(futex((char *)word + 1, FUTEX_WAIT | p, 5, &bad, 0, 0), EINVAL, name);
        snprintf(name, sizeof name, "%s WAKE ignores the timeout", pn);
        check_ret(futex(word, FUTEX_WAKE | p, 1, BADPTR, 0, 0), 0, name);
        snprintf(name, sizeof name, "%s WAIT | CLOCK_REALTIME, bad timeout", pn);
        check_err(futex(word, FUTEX_WAIT | FUTEX_CLOCK_RT | p, 5, &bad, 0, 0), EINVAL, name);

        /* A matching value sleeps until the timeout. */
        struct timespec t0, t1, rel = { 0, 30 * 1000000L };
        clock_gettime(CLOCK_MONOTONIC, &t0);
        snprintf(name, sizeof name, "%s WAIT 30 ms", pn);
        check_err(futex(word, FUTEX_WAIT | p, 5, &rel, 0, 0), ETIMEDOUT, name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        check(elapsed_ms(&t0, &t1) >= 29 && elapsed_ms(&t0, &t1) < 2000, "%s WAIT slept", pn);
        struct timespec zero = { 0, 0 };
        snprintf(name, sizeof name, "%s WAIT 0 s", pn);
        check_err(futex(word, FUTEX_WAIT | p, 5, &zero, 0, 0), ETIMEDOUT, name);

        /* WAIT_BITSET: absolute, CLOCK_MONOTONIC or with the flag
         * CLOCK_REALTIME. */
        struct timespec abs;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        abs = t0;
        abs.tv_nsec += 20 * 1000000L;
        if (abs.tv_nsec >= 1000000000L) {
            abs.tv_nsec -= 1000000000L;
            abs.tv_sec++;
        }
        snprintf(name, sizeof name, "%s WAIT_BITSET until monotonic +20 ms", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | p, 5, &abs, 0, -1), ETIMEDOUT, name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        check(elapsed_ms(&t0, &t1) >= 19 && elapsed_ms(&t0, &t1) < 2000, "%s WAIT_BITSET slept",
              pn);
        clock_gettime(CLOCK_REALTIME, &abs);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        abs.tv_nsec += 20 * 1000000L;
        if (abs.tv_nsec >= 1000000000L) {
            abs.tv_nsec -= 1000000000L;
            abs.tv_sec++;
        }
        snprintf(name, sizeof name, "%s WAIT_BITSET | CLOCK_REALTIME until +20 ms", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_RT | p, 5, &abs, 0, -1), ETIMEDOUT,
                  name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        check(elapsed_ms(&t0, &t1) >= 19 && elapsed_ms(&t0, &t1) < 2000,
              "%s WAIT_BITSET | CLOCK_REALTIME slept", pn);
        struct timespec past = { 1, 0 };
        snprintf(name, sizeof name, "%s WAIT_BITSET in the past", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | p, 5, &past, 0, -1), ETIMEDOUT, name);
        snprintf(name, sizeof name, "%s WAIT_BITSET | CLOCK_REALTIME in the past", pn);
        check_err(futex(word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_RT | p, 5, &past, 0, -1), ETIMEDOUT,
                  name);
    }

    /* Shared futexes need the page: a read-only page of a file will do,
     * a read-only anonymous page will not ("will never change"), nor an
     * inaccessible one. Private ones only look at the memory to wait. */
    uint32_t *ro = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro[0] = 1;
    mprotect(ro, 4096, PROT_READ);
    check_err(futex(ro, FUTEX_WAKE, 1, 0, 0, 0), EFAULT,
              "shared WAKE on a read-only anonymous page");
    check_err(futex(ro, FUTEX_WAIT, 2, 0, 0, 0), EFAULT,
              "shared WAIT on a read-only anonymous page");
    check_err(futex(ro, FUTEX_WAIT | FUTEX_PRIVATE, 2, 0, 0, 0), EAGAIN,
              "private WAIT on a read-only anonymous page");
    mprotect(ro, 4096, PROT_NONE);
    check_err(futex(ro, FUTEX_WAKE, 1, 0, 0, 0), EFAULT, "shared WAKE on a PROT_NONE page");
    check_ret(futex(ro, FUTEX_WAKE | FUTEX_PRIVATE, 1, 0, 0, 0), 0,
              "private WAKE on a PROT_NONE page");
    check_err(futex(ro, FUTEX_WAIT | FUTEX_PRIVATE, 1, 0, 0, 0), EFAULT,
              "private WAIT on a PROT_NONE page");
    munmap(ro, 4096);
    int fd = open("/proc/self/exe", O_RDONLY);
    uint32_t *file = mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    check(file != MAP_FAILED, "map the executable read-only");
    check_ret(futex(file, FUTEX_WAKE, 1, 0, 0, 0), 0, "shared WAKE on a read-only file page");
    check_err(futex(file, FUTEX_WAIT, file[0] + 1, 0, 0, 0), EAGAIN,
              "shared WAIT on a read-only file page");
    munmap(file, 4096);
    close(fd);

    /* Commands: FUTEX_FD is gone (ENOSYS), as are numbers past the table
     * and op bits the kernel does not know. */
    check_err(futex(word, FUTEX_FD, 0, 0, 0, 0), ENOSYS, "FUTEX_FD");
    check_err(futex(word, 14, 0, 0, 0, 0), ENOSYS, "op 14");
    check_err(futex(word, 127, 0, 0, 0, 0), ENOSYS, "op 127");
    check_err(futex(word, 0x200 | FUTEX_WAKE, 0, 0, 0, 0), ENOSYS, "WAKE | 0x200");
    check_err(futex(word, -1, 0, 0, 0, 0), ENOSYS, "op -1");
    /* The op is an int: the upper half of the register is ignored. */
    check_ret(futex(word, (1L << 32) | FUTEX_WAKE, 1, 0, 0, 0), 0, "WAKE | 1 << 32");

    /* What libc does with it: pthread_once and setlocale. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    check_ret(pthread_once(&once, once_fn), 0, "pthread_once");
    check_ret(pthread_once(&once, once_fn), 0, "pthread_once again");
    check(once_calls == 1, "the once function ran once");
    check(setlocale(LC_ALL, "C.UTF-8") != NULL || setlocale(LC_ALL, "C") != NULL, "setlocale");
    return finish();
}
