/* fault.c: a write through a NULL pointer must kill the guest with SIGSEGV
 * (status 139), both natively and sandboxed. */
#include "guest.h"

int main(void)
{
    out("writing through NULL\n");
    /* volatile keeps the compiler from treating the store as UB to drop. */
    volatile int *volatile p = NULL;
    *p = 42;
    out("FAIL still alive after the NULL write\n");
    return 1;
}
