/* fs_poll_many.c: poll over many descriptors writes every entry's revents
 * and nothing else of the array: ready and not ready ones, negative fds
 * (revents 0), closed ones (POLLNVAL), stale revents the caller left
 * there, one descriptor named twice. An array whose revents cannot be
 * written (its second page read-only) fails with EFAULT after the entries
 * before the fault got theirs, as Linux writes them in order. A wait that
 * a write to one of 100 pipes ends reports that one only. */
#include "guest.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define N 150

static void many(void)
{
    static struct pollfd f[N];
    int fds[N];
    for (int i = 0; i < N; i++) {
        /* Every third one readable, every seventh a negative fd. */
        fds[i] = eventfd(i % 3 == 0 ? 1 : 0, 0);
        f[i] = (struct pollfd){ i % 7 == 0 ? -fds[i] : fds[i], POLLIN, (short)0x7fff };
    }
    int closed = fds[N - 1];
    close(closed);            /* the last: POLLNVAL (unless it was made negative) */
    const int twin = N - 4;   /* not negative, not readable */
    f[N - 2].fd = f[twin].fd; /* named twice */
    f[N - 2].events = POLLIN | POLLOUT;
    long r = sc(SYS_poll, f, N, 0);
    int want = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        short exp;
        if (f[i].fd < 0)
            exp = 0;
        else if (i == N - 1)
            exp = POLLNVAL;
        else if (i == N - 2)
            exp = POLLOUT;
        else
            exp = i % 3 == 0 ? POLLIN : 0;
        want += exp != 0;
        if (f[i].revents != exp) {
            if (bad++ < 3)
                out("entry %d: revents %#x, want %#x\n", i, f[i].revents, exp);
        }
    }
    check(r == want, "poll over %d descriptors: %ld ready (want %d)", N, r, want);
    check(bad == 0, "every revents written: ready, not ready, negative, closed, twice");
    int same = 1;
    for (int i = 0; i < N - 2; i++)
        if (f[i].events != POLLIN || (f[i].fd != (i % 7 == 0 ? -fds[i] : fds[i])))
            same = 0;
    check(same, "fd and events left as they were");
    for (int i = 0; i < N - 1; i++)
        close(fds[i]);
}

/* The array's second page read-only: EFAULT, the first page's entries
 * written. */
static void fault_midway(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *m =
        mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        check(0, "mmap");
        return;
    }
    size_t per = sizeof(struct pollfd);
    size_t first = (size_t)pg / per; /* whole entries on the first page */
    size_t n = first + 4;
    struct pollfd *f = (struct pollfd *)(void *)m;
    int e = eventfd(1, 0);
    for (size_t i = 0; i < n; i++)
        f[i] = (struct pollfd){ e, POLLIN, 0 };
    mprotect(m + pg, (size_t)pg, PROT_READ);
    long r = sc(SYS_poll, f, n, 0);
    check_err(r, EFAULT, "revents on a read-only page");
    int written = 1;
    for (size_t i = 0; i < first; i++)
        if (f[i].revents != POLLIN)
            written = 0;
    check(written, "the entries before the fault have their revents");
    check(f[first].revents == 0, "the ones after it do not");
    close(e);
    munmap(m, 2 * (size_t)pg);
}

static int pipes[100][2];

static void *writer(void *arg)
{
    (void)arg;
    struct timespec d = { 0, 50 * 1000 * 1000 };
    nanosleep(&d, NULL);
    if (write(pipes[63][1], "x", 1) != 1)
        out("write failed\n");
    return NULL;
}

static void wait_one_of_many(void)
{
    static struct pollfd f[100];
    for (int i = 0; i < 100; i++) {
        if (pipe(pipes[i]) != 0) {
            check(0, "pipe");
            return;
        }
        f[i] = (struct pollfd){ pipes[i][0], POLLIN, 0 };
    }
    pthread_t th;
    pthread_create(&th, NULL, writer, NULL);
    long r = sc(SYS_poll, f, 100, 10000);
    pthread_join(th, NULL);
    int others = 0;
    for (int i = 0; i < 100; i++)
        if (i != 63 && f[i].revents)
            others++;
    check(r == 1 && f[63].revents == POLLIN && others == 0,
          "a wait over 100 pipes ends with the one written to (%ld, %#x, %d others)", r,
          f[63].revents, others);
    for (int i = 0; i < 100; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
}

int main(void)
{
    many();
    fault_midway();
    wait_one_of_many();
    return g_failed ? 1 : 0;
}
