/* stub_hello_race.c: a guest process that jumps into the stub's text to
 * say a fork child's hello (the gettid the supervisor reads a new stub
 * process's host pid from) while another guest process forks, again and
 * again, never passes for that child: every hello it makes is refused, and
 * every fork gives a child that runs and is reaped. A hello taken from the
 * wrong process would give it the child's sentry channel (and the sentry
 * would serve the child in that process's address space). Natively there
 * is no stub: the same lines are printed without the calls. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stub_util.h"

#define HELLO_MAGIC 0x68656c6cL /* src/platform/stub/stub.c's */
#define FORKS 300

int main(void)
{
    int box = sandboxed();
    void *g = box ? stub_syscall_ret() : NULL;
    check(!box || g != NULL, "found a syscall; ret in stub text");
    volatile int *stop =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int p[2];
    if (stop == MAP_FAILED || pipe(p))
        return 1;
    pid_t forger = fork();
    if (forger == 0) {
        long taken = 0, tries = 0;
        while (!*stop) {
            /* Slot 0: the forking thread's (the parent's main thread). */
            if (g && vs(g, SYS_gettid, HELLO_MAGIC, STUB_CHILD_FORK, 0) == 0)
                taken++;
            tries++;
        }
        long out[2] = { taken, tries };
        _exit(write(p[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
    }
    int forks = 0;
    for (int i = 0; i < FORKS; i++) {
        pid_t c = fork();
        if (c == 0)
            _exit(7);
        int st;
        if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7)
            forks++;
    }
    *stop = 1;
    long got[2] = { -1, 0 };
    int st;
    check(read(p[0], got, sizeof(got)) == sizeof(got), "the forger reports");
    check(waitpid(forger, &st, 0) == forger && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "the forger exits 0");
    check(forks == FORKS, "%d forks: each child ran and was reaped", FORKS);
    check(got[0] == 0, "no hello of the forger was taken");
    check(got[1] > 0, "the forger tried");
    return finish();
}
