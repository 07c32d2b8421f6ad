/* stub_jump_exit.c: a guest that ends its host thread from stub text
 * (exit is allowed there: the sentry uses it to end guest threads) does
 * not leave the sentry waiting for it: the kernel clears the thread's
 * state word at its exit, and the sentry makes the lost thread a SIGSEGV
 * of the process, as natively a jump to unmapped memory is. Under ptrace
 * the call is refused and the same fault follows. */
#include "stub_util.h"

int main(void)
{
    out("ending the stub thread\n");
    if (sandboxed()) {
        void *g = stub_syscall_ret();
        if (!g) {
            out("FAIL no gadget\n");
            return 1;
        }
        vs(g, SYS_exit, 0);
    }
    *(volatile int *)0 = 0;
    return 1;
}
