/* sig_waitmask.c: the signal mask that ppoll, pselect6 and epoll_pwait take
 * holds for the wait only. A process that blocks SIGUSR1 (default action:
 * terminate) waits with a mask that lets it through: the pending signal
 * ends it during the wait. Waiting with a mask that blocks it too, the
 * wait times out, and the signal ends the process only once it unblocks
 * the signal itself. */
#include "guest.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIGBIT(s) (1ULL << ((s)-1))

static long wait_with(int how, uint64_t mask, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    if (how == 0)
        return sc(SYS_ppoll, 0, 0, (long)&ts, (long)&mask, 8);
    if (how == 1) {
        struct {
            const void *ss;
            size_t len;
        } sig = { &mask, 8 };
        return sc(SYS_pselect6, 0, 0, 0, 0, (long)&ts, (long)&sig);
    }
    long ep = sc(SYS_epoll_create1, 0);
    struct epoll_event ev;
    return sc(SYS_epoll_pwait, ep, (long)&ev, 1, ms, (long)&mask, 8);
}

static void one(int how, int blocked_in_wait)
{
    static const char *names[] = { "ppoll", "pselect6", "epoll_pwait" };
    int p[2];
    pid_t c = fork_piped(p, NULL);
    if (c == 0) {
        uint64_t usr1 = SIGBIT(SIGUSR1);
        sc(SYS_rt_sigprocmask, SIG_BLOCK, (long)&usr1, 0, 8);
        if (write(p[1], "w", 1) != 1)
            _exit(1);
        long r = wait_with(how, blocked_in_wait ? usr1 : 0, blocked_in_wait ? 300 : 5000);
        char b = r == 0 ? 't' : 'e';
        if (write(p[1], &b, 1) != 1)
            _exit(1);
        sc(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&usr1, 0, 8);
        _exit(0);
    }
    char b = 0;
    if (read(p[0], &b, 1) != 1)
        return;
    kill(c, SIGUSR1);
    int st = 0;
    waitpid(c, &st, 0);
    char after = '-';
    if (read(p[0], &b, 1) == 1)
        after = b;
    close(p[0]);
    out("%s, SIGUSR1 %s by the wait's mask: wait %s, then %s\n", names[how],
        blocked_in_wait ? "blocked" : "let through",
        after == 't'   ? "timed out"
        : after == 'e' ? "failed"
                       : "never returned",
        WIFSIGNALED(st) ? (WTERMSIG(st) == SIGUSR1 ? "killed by SIGUSR1" : "killed") : "exited");
}

int main(void)
{
    for (int how = 0; how < 3; how++) {
        one(how, 1);
        one(how, 0);
    }
    return finish();
}
