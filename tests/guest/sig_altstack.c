/* sig_altstack.c: sigaltstack's state and its errors as Linux keeps them:
 * the stack set, read back (SS_DISABLE when none, SS_AUTODISARM kept),
 * ENOMEM under MINSIGSTKSZ, EINVAL for unknown flags, EFAULT for bad
 * pointers; a fork child inherits the stack, a thread (CLONE_VM without
 * CLONE_VFORK) starts with none, and execve clears it. The program is
 * also its own exec'd image: argv[1] "exec" reports what it found. */
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char stack_mem[65536];

static long altstack(const stack_t *ss, stack_t *old)
{
    return sc(SYS_sigaltstack, (long)ss, (long)old);
}

static const char *describe(const stack_t *s)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s size %lu flags %#x",
             s->ss_sp == stack_mem ? "ours"
             : s->ss_sp            ? "other"
                                   : "null",
             (unsigned long)s->ss_size, (unsigned)s->ss_flags);
    return buf;
}

static void *thread_main(void *arg)
{
    (void)arg;
    stack_t old;
    memset(&old, 0xff, sizeof old);
    long r = altstack(NULL, &old);
    out("thread: %ld %s\n", r, describe(&old));
    return NULL;
}

int main(int argc, char **argv)
{
    stack_t ss, old;
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        memset(&old, 0xff, sizeof old);
        long r = altstack(NULL, &old);
        out("after exec: %ld %s\n", r, describe(&old));
        return 0;
    }
    memset(&old, 0xff, sizeof old);
    check(altstack(NULL, &old) == 0, "read the initial state");
    out("initial: %s\n", describe(&old));

    ss.ss_sp = stack_mem;
    ss.ss_size = sizeof stack_mem;
    ss.ss_flags = 0;
    check(altstack(&ss, NULL) == 0, "set a stack");
    memset(&old, 0, sizeof old);
    check(altstack(NULL, &old) == 0, "read it back");
    out("set: %s\n", describe(&old));

    /* The old value comes back from a call that also sets one. */
    stack_t ss2 = ss;
    ss2.ss_flags = SS_AUTODISARM;
    memset(&old, 0, sizeof old);
    check(altstack(&ss2, &old) == 0, "set with SS_AUTODISARM");
    out("old of that call: %s\n", describe(&old));
    altstack(NULL, &old);
    out("autodisarm: %s\n", describe(&old));

    ss2 = ss;
    ss2.ss_size = 1024;
    check_err(altstack(&ss2, NULL), ENOMEM, "a stack under MINSIGSTKSZ");
    ss2.ss_size = 2047;
    check_err(altstack(&ss2, NULL), ENOMEM, "2047 bytes");
    ss2.ss_size = 2048;
    check(altstack(&ss2, NULL) == 0, "2048 bytes (MINSIGSTKSZ) is enough");
    altstack(NULL, &old);
    out("minimal: %s\n", describe(&old));
    ss2 = ss;
    ss2.ss_flags = 2 | 4; /* neither SS_ONSTACK, SS_DISABLE nor 0 */
    check_err(altstack(&ss2, NULL), EINVAL, "unknown flags");
    ss2.ss_flags = 0x10;
    check_err(altstack(&ss2, NULL), EINVAL, "another unknown flag");
    ss2.ss_flags = SS_ONSTACK;
    check(altstack(&ss2, NULL) == 0, "SS_ONSTACK is taken as 0");
    altstack(NULL, &old);
    out("onstack flag: %s\n", describe(&old));
    check_err(altstack((stack_t *)8, NULL), EFAULT, "a bad new stack pointer");
    check_err(altstack(NULL, (stack_t *)8), EFAULT, "a bad old stack pointer");

    /* SS_DISABLE: size and pointer do not matter and read back as zero. */
    ss2.ss_sp = (void *)0x1234;
    ss2.ss_size = 1;
    ss2.ss_flags = SS_DISABLE;
    check(altstack(&ss2, NULL) == 0, "disable");
    altstack(NULL, &old);
    out("disabled: %s\n", describe(&old));

    check(altstack(&ss, NULL) == 0, "set it again");
    pid_t c = fork();
    if (c == 0) {
        altstack(NULL, &old);
        out("fork child: %s\n", describe(&old));
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the fork child ran");
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) == 0)
        pthread_join(th, NULL);
    altstack(NULL, &old);
    out("still ours: %s\n", describe(&old));

    c = fork();
    if (c == 0) {
        char *args[] = { argv[0], "exec", NULL };
        execv("/proc/self/exe", args);
        _exit(127);
    }
    waitpid(c, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd image ran");
    return finish();
}
