/* uprobe.c: the two syscalls Linux lets past every seccomp filter,
 * uretprobe (335, since 6.11) and uprobe (336, since 6.18). They are meant
 * to be called only from the uprobe trampolines the kernel maps into a
 * probed process; from anywhere else uprobe fails with ENXIO and uretprobe
 * kills the caller with SIGILL (force_sig: si_code SI_KERNEL).
 *
 * Under the systrap platform the stub's seccomp filter never sees these
 * calls: the host kernel runs them for the guest and the sentry does not
 * hear of uprobe at all, and of uretprobe only as the SIGILL fault that
 * follows. Under ptrace, PTRACE_SYSEMU stops them before seccomp like any
 * syscall and the sentry answers them as Linux does for a process without
 * uprobes. So the output and the status are the same natively and on both
 * platforms; what differs is what --strace can show (tests/e2e/cli.sh).
 *
 * This pins today's behaviour: if a kernel lets another syscall past
 * seccomp, or changes what these two do outside a trampoline, a test like
 * this one is where it shows (see docs/architecture.md, security model).
 * The x32 numbers (| 0x40000000) and the ia32 ones are not exempt. */
#include "guest.h"

#include <stdint.h>

#define NR_URETPROBE 335
#define NR_UPROBE 336
#define X32_BIT 0x40000000L

int main(void)
{
    check_err(sc(NR_UPROBE), ENXIO, "uprobe outside a trampoline");
    check_err(sc(NR_UPROBE, 1, 2, 3, 4, 5, 6), ENXIO, "uprobe with arguments");
    /* Neither exists for x32; musl's guest has no x32 ABI anyway. */
    check_err(sc(NR_UPROBE | X32_BIT), ENOSYS, "x32 uprobe");
    check_err(sc(NR_URETPROBE | X32_BIT), ENOSYS, "x32 uretprobe");
    /* The next number is ordinary: 337 does not exist. */
    check_err(sc(337), ENOSYS, "syscall 337");
    out("# uretprobe next: the process dies of SIGILL (status 132)\n");
    finish();
    sc(NR_URETPROBE);
    out("FAIL uretprobe returned\n");
    return 1;
}
