/* The demo guest: shows what a program sees inside the sandbox. Built with
 * musl-gcc -static; every system call it makes is serviced by the sentry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct utsname u;
    unsigned char rnd[4];
    struct timespec ts;
    char exe[256];

    printf("hello from the guest: %s\n", argc > 0 ? argv[0] : "?");
    printf("getpid() = %d, getppid() = %d, getuid() = %d\n", (int)getpid(), (int)getppid(),
           (int)getuid());
    if (uname(&u) == 0)
        printf("uname() = %s %s\n", u.sysname, u.machine);
    if (getrandom(rnd, sizeof(rnd), 0) == (ssize_t)sizeof(rnd))
        printf("getrandom() gave %d bytes\n", (int)sizeof(rnd));
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        printf("clock_gettime(CLOCK_MONOTONIC) works\n");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        printf("/proc/self/exe -> %s\n", exe);
    }
    char *p = malloc(1 << 20);
    if (p) {
        memset(p, 1, 1 << 20);
        printf("malloc(1 MiB) and memset worked\n");
        free(p);
    }
    if (getpid() == 1)
        printf("pid 1: running inside sandbox-run\n");
    return 0;
}
