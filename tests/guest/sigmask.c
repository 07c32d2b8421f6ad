/* sigmask.c: rt_sigaction and rt_sigprocmask bookkeeping (no delivery):
 * handlers, flags, masks and old values read back exactly as stored. */
#include "guest.h"

#include <signal.h>

/* The kernel's struct sigaction layout for rt_sigaction. */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

#define BIT(s) (1UL << ((s)-1))
#define SA_RESTORER_ 0x04000000UL
#define SA_UNSUPPORTED_ 0x400UL

static void handler(int sig)
{
    (void)sig;
}
static void handler2(int sig)
{
    (void)sig;
}
static void restorer(void)
{
}

static long ksa(int sig, const struct ksigaction *a, struct ksigaction *o)
{
    return sc(SYS_rt_sigaction, sig, a, o, 8);
}

static long kmask(int how, const unsigned long *set, unsigned long *old)
{
    return sc(SYS_rt_sigprocmask, how, set, old, 8);
}

static void test_sigaction(void)
{
    struct ksigaction a = {
        handler,
        SA_RESTORER_ | SA_SIGINFO | SA_RESTART,
        restorer,
        BIT(SIGUSR2) | BIT(SIGTERM),
    };
    struct ksigaction o;
    check_ret(ksa(SIGUSR1, &a, NULL), 0, "install SIGUSR1 handler");
    memset(&o, 0xa5, sizeof o);
    check_ret(ksa(SIGUSR1, NULL, &o), 0, "read back SIGUSR1");
    check(o.handler == handler, "handler read back");
    check(o.flags == a.flags, "flags read back");
    check(o.restorer == restorer, "restorer read back");
    check(o.mask == a.mask, "mask read back");

    struct ksigaction b = { handler2, SA_RESTORER_ | SA_NODEFER | SA_RESETHAND | SA_ONSTACK,
                            restorer, BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGHUP) | BIT(64) };
    memset(&o, 0, sizeof o);
    check_ret(ksa(SIGUSR1, &b, &o), 0, "replace handler");
    check(o.handler == handler && o.flags == a.flags && o.mask == a.mask,
          "oldact is the previous action");
    check_ret(ksa(SIGUSR1, NULL, &o), 0, "read back replacement");
    check(o.handler == handler2, "new handler read back");
    check(o.flags == b.flags, "NODEFER|RESETHAND|ONSTACK flags read back");
    check(o.mask == (BIT(SIGHUP) | BIT(64)), "SIGKILL and SIGSTOP dropped from sa_mask");

    /* Since Linux 5.11 unknown flag bits are cleared, to be detectable. */
    struct ksigaction u = { handler, SA_RESTORER_ | SA_UNSUPPORTED_, restorer, 0 };
    check_ret(ksa(SIGUSR2, &u, NULL), 0, "install with SA_UNSUPPORTED");
    check_ret(ksa(SIGUSR2, NULL, &o), 0, "read back SIGUSR2");
    check(o.flags == SA_RESTORER_, "unknown flag bit cleared");

    struct ksigaction ign = { SIG_IGN, SA_RESTORER_, restorer, 0 };
    check_ret(ksa(SIGUSR2, &ign, &o), 0, "install SIG_IGN");
    check(o.handler == handler, "oldact of SIG_IGN install");
    check_ret(ksa(SIGUSR2, NULL, &o), 0, "read back SIG_IGN");
    check(o.handler == SIG_IGN && o.flags == SA_RESTORER_ && o.mask == 0, "SIG_IGN read back");
    struct ksigaction dfl = { SIG_DFL, 0, NULL, 0 };
    check_ret(ksa(SIGUSR2, &dfl, NULL), 0, "install SIG_DFL");
    check_ret(ksa(SIGUSR2, NULL, &o), 0, "read back SIG_DFL");
    check(o.handler == SIG_DFL && o.flags == 0, "SIG_DFL read back");

    check_ret(ksa(SIGRTMAX, &a, NULL), 0, "install for signal 64");
    check_ret(ksa(32, &a, NULL), 0, "install for signal 32");
    check_ret(ksa(32, &dfl, &o), 0, "restore signal 32");
    check(o.handler == handler, "signal 32 oldact");

    check_err(ksa(SIGKILL, &ign, NULL), EINVAL, "SIGKILL refused");
    check_err(ksa(SIGSTOP, &dfl, NULL), EINVAL, "SIGSTOP refused");
    memset(&o, 0xa5, sizeof o);
    check_ret(ksa(SIGKILL, NULL, &o), 0, "SIGKILL can be queried");
    check(o.handler == SIG_DFL && o.flags == 0 && o.mask == 0, "SIGKILL is SIG_DFL");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, &a, NULL, 4), EINVAL, "rt_sigaction sigsetsize 4");
    check_err(sc(SYS_rt_sigaction, SIGUSR1, &a, NULL, 16), EINVAL, "rt_sigaction sigsetsize 16");

    /* Through musl's wrapper, which supplies its own restorer. */
    struct sigaction la, lo;
    memset(&la, 0, sizeof la);
    la.sa_handler = handler;
    sigemptyset(&la.sa_mask);
    sigaddset(&la.sa_mask, SIGINT);
    la.sa_flags = SA_RESTART;
    check(sigaction(SIGUSR1, &la, NULL) == 0, "libc sigaction install");
    check(sigaction(SIGUSR1, NULL, &lo) == 0, "libc sigaction query");
    check(lo.sa_handler == handler && (lo.sa_flags & SA_RESTART) &&
              sigismember(&lo.sa_mask, SIGINT) && !sigismember(&lo.sa_mask, SIGTERM),
          "libc sigaction read back");
    check(signal(SIGUSR1, SIG_IGN) == handler, "signal() returns old");
    check(signal(SIGUSR1, SIG_DFL) == SIG_IGN, "signal() returns SIG_IGN");
}

static void test_sigprocmask(void)
{
    const unsigned long unblockable = BIT(SIGKILL) | BIT(SIGSTOP);
    unsigned long set, old;
    /* The initial mask is inherited, so start from a known one. */
    set = 0;
    check_ret(kmask(SIG_SETMASK, &set, NULL), 0, "setmask empty");
    old = ~0UL;
    check_ret(kmask(SIG_BLOCK, NULL, &old), 0, "read mask");
    check(old == 0, "mask is empty");

    set = BIT(SIGUSR1) | BIT(SIGUSR2);
    check_ret(kmask(SIG_BLOCK, &set, &old), 0, "block USR1|USR2");
    check(old == 0, "old mask was empty");
    set = BIT(SIGUSR1);
    check_ret(kmask(SIG_UNBLOCK, &set, &old), 0, "unblock USR1");
    check(old == (BIT(SIGUSR1) | BIT(SIGUSR2)), "old mask had USR1|USR2");
    kmask(SIG_BLOCK, NULL, &old);
    check(old == BIT(SIGUSR2), "mask is USR2");
    set = BIT(SIGTERM) | BIT(64);
    check_ret(kmask(SIG_SETMASK, &set, &old), 0, "setmask TERM|64");
    check(old == BIT(SIGUSR2), "setmask returns old USR2");
    kmask(SIG_BLOCK, NULL, &old);
    check(old == (BIT(SIGTERM) | BIT(64)), "mask is TERM|64");

    set = unblockable | BIT(SIGHUP);
    check_ret(kmask(SIG_SETMASK, &set, NULL), 0, "setmask KILL|STOP|HUP");
    kmask(SIG_BLOCK, NULL, &old);
    check(old == BIT(SIGHUP), "SIGKILL and SIGSTOP silently not blocked");
    set = ~0UL;
    check_ret(kmask(SIG_BLOCK, &set, NULL), 0, "block everything");
    kmask(SIG_BLOCK, NULL, &old);
    check(old == ~unblockable, "all but KILL and STOP blocked");

    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL, "sigsetsize 4");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL, "sigsetsize 16");
    check_err(sc(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 4), EINVAL, "sigsetsize 4 read only");
    check_err(kmask(3, &set, NULL), EINVAL, "how 3");

    /* Through musl's wrapper. */
    sigset_t ls, lo;
    sigemptyset(&ls);
    check(sigprocmask(SIG_SETMASK, &ls, NULL) == 0, "libc setmask empty");
    sigaddset(&ls, SIGALRM);
    check(sigprocmask(SIG_BLOCK, &ls, &lo) == 0, "libc block SIGALRM");
    check(sigprocmask(SIG_BLOCK, NULL, &lo) == 0 && sigismember(&lo, SIGALRM) &&
              !sigismember(&lo, SIGTERM),
          "libc mask read back");
    set = 0;
    check_ret(kmask(SIG_SETMASK, &set, NULL), 0, "restore empty mask");
}

int main(void)
{
    test_sigaction();
    test_sigprocmask();
    return finish();
}
