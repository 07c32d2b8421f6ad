/* futex_shared.c: shared futexes between two processes. After fork the
 * child maps the same memfd page a second time, at another address, and
 * uses only that mapping, so the two meet only if a shared futex is keyed
 * by the memory object and offset, not the address: FUTEX_WAKE in one
 * process wakes FUTEX_WAIT in the other, both ways; the same for
 * MAP_SHARED anonymous memory inherited by fork; a private futex never
 * reaches the other process; a process-shared pthread mutex and condition
 * variable work across the two.
 *
 * Needs fork in the sandbox: built with the guest tests, run once it
 * exists (tests/guest/meson.build, pending_guest_names). */
#include "guest.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE 128

static long futex(volatile uint32_t *uaddr, long op, long val, const struct timespec *ts)
{
    return sc(SYS_futex, uaddr, op, val, ts, 0, 0);
}

/* Tell the other process through *w: wake a waiter of w until there is
 * one (it may not be asleep yet; it takes a wake-up with the word still 0
 * for a spurious one and sleeps on), then set the word and wake again.
 * 1 if a waiter was found, 0 after 5 s of finding nobody. */
static long signal_word(volatile uint32_t *w, long op)
{
    long found = 0;
    for (int i = 0; i < 5000 && !found; i++) {
        found = futex(w, op, 1, NULL);
        if (!found)
            usleep(1000);
    }
    __atomic_store_n(w, 1, __ATOMIC_RELEASE);
    futex(w, op, 1, NULL);
    return found;
}

/* Sleep on *w while it is val; a wake-up with nobody's change of the
 * word would be spurious, so wait on. 0 once the word changed. */
static long wait_change(volatile uint32_t *w, uint32_t val, long op)
{
    struct timespec ts = { 10, 0 };
    while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == val) {
        long r = futex(w, op, val, &ts);
        if (r != 0 && r != -EAGAIN)
            return r;
    }
    return 0;
}

struct shared {
    uint32_t word[4];
    pthread_mutex_t m;
    pthread_cond_t c;
    int turn;
};

int main(void)
{
    int fd = memfd_create("futex_shared", 0);
    check(fd >= 0, "memfd_create");
    check(ftruncate(fd, 4096) == 0, "ftruncate");
    struct shared *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint32_t *anon = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED && anon != MAP_FAILED, "mmap");
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&p->m, &ma);
    pthread_cond_init(&p->c, &ca);

    pid_t pid = fork();
    if (pid == 0) {
        /* The child: the page at another address, the old one gone. */
        struct shared *q = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (q == MAP_FAILED || q == p)
            _exit(10);
        munmap(p, 4096);
        /* 1: wait for the parent's wake. */
        if (wait_change(&q->word[0], 0, FUTEX_WAIT))
            _exit(11);
        /* 2: wake the parent. */
        if (signal_word(&q->word[1], FUTEX_WAKE) != 1)
            _exit(12);
        /* 3: shared anonymous memory, same address, other process. */
        if (wait_change(&anon[0], 0, FUTEX_WAIT))
            _exit(13);
        /* 4: a private wait the parent's private wake cannot reach; it
         * times out, then the parent tells by the word. */
        struct timespec ts = { 0, 200 * 1000000L };
        long r = futex(&q->word[2], FUTEX_WAIT | FUTEX_PRIVATE, 0, &ts);
        if (r != -ETIMEDOUT && r != -EAGAIN)
            _exit(14);
        /* 5: a process-shared mutex and condition variable, ping-pong. */
        for (int i = 0; i < 200; i++) {
            pthread_mutex_lock(&q->m);
            while (q->turn != 1)
                pthread_cond_wait(&q->c, &q->m);
            q->turn = 0;
            pthread_cond_broadcast(&q->c);
            pthread_mutex_unlock(&q->m);
        }
        _exit(0);
    }
    check(pid > 0, "fork");
    check_ret(signal_word(&p->word[0], FUTEX_WAKE), 1, "shared wake reaches the child's mapping");
    check_ret(wait_change(&p->word[1], 0, FUTEX_WAIT), 0,
              "shared wait woken from the child's mapping");
    check_ret(signal_word(&anon[0], FUTEX_WAKE), 1, "shared anonymous memory: the child woken");
    /* The child's private waiter is never found from here. */
    usleep(50 * 1000);
    check_ret(futex(&p->word[2], FUTEX_WAKE | FUTEX_PRIVATE, 1, NULL), 0,
              "private wake does not reach the other process");
    check_ret(futex(&p->word[2], FUTEX_WAKE, 1, NULL), 0,
              "shared wake does not reach a private waiter");
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&p->m);
        p->turn = 1;
        pthread_cond_broadcast(&p->c);
        while (p->turn != 0)
            pthread_cond_wait(&p->c, &p->m);
        pthread_mutex_unlock(&p->m);
    }
    out("200 rounds of a process-shared mutex and condition variable\n");
    int st = 0;
    check(waitpid(pid, &st, 0) == pid, "waitpid");
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child exited 0 (status %#x)", st);
    return finish();
}
