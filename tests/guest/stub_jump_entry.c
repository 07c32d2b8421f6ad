/* stub_jump_entry.c: a guest that jumps to the stub's entry point (its
 * _start, which would set the stub up again and fail) dies with SIGSEGV,
 * as a jump to unmapped memory does natively (there is nothing at
 * STUB_BASE outside the sandbox). Not "the address space died" (137). */
#include "stub_util.h"

int main(void)
{
    void *target = (void *)STUB_BASE;
    if (sandboxed()) {
        target = stub_entry();
        if (!target) {
            out("FAIL no stub entry found\n");
            return 1;
        }
    }
    out("jumping to the stub's entry\n");
    jump_to(target, 0, 0);
}
