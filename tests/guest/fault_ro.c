/* fault_ro.c: a write to a page made read-only by mprotect must kill the
 * guest with SIGSEGV (status 139). */
#include "guest.h"

#include <sys/mman.h>

int main(void)
{
    long r = sc(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!check(r > 0, "mmap a page"))
        return 1;
    volatile char *p = (volatile char *)r;
    p[0] = 'x';
    check(p[0] == 'x', "page writable before mprotect");
    check_ret(sc(SYS_mprotect, p, 4096, PROT_READ), 0, "mprotect PROT_READ");
    check(p[0] == 'x', "page readable after mprotect");
    out("writing to the read-only page\n");
    p[1] = 'y';
    out("FAIL still alive after writing a read-only page\n");
    return 1;
}
