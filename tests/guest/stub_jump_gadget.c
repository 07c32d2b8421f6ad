/* stub_jump_gadget.c: a guest that jumps to the stub's `syscall; int3`
 * (STUB_BASE) asking for exit_group(0) does not end its address space
 * with a status of its choosing: the call is refused and the int3 that
 * follows is a fault in stub text, a SIGSEGV of the guest, as a jump to
 * unmapped memory is natively. */
#include "stub_util.h"

int main(void)
{
    out("jumping to STUB_BASE with exit_group(0)\n");
    jump_to((void *)STUB_BASE, SYS_exit_group, 0);
}
