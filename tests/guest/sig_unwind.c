/* sig_unwind.c: libgcc's unwinder walks out of a signal handler through
 * the sentry's signal frame (the sigreturn trampoline's frame, then the
 * interrupted function at the very instruction, then its callers), as
 * through the kernel's. Built with glibc only (sig_unwind.glibc): the
 * host's libgcc_eh calls glibc's _dl_find_object. */
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <unwind.h>

static uintptr_t g_ip[64];
static int g_n;

static _Unwind_Reason_Code collect(struct _Unwind_Context *c, void *arg)
{
    (void)arg;
    if (g_n < 64)
        g_ip[g_n++] = _Unwind_GetIP(c);
    return _URC_NO_REASON;
}

static void on_usr1(int sig)
{
    (void)sig;
    g_n = 0;
    _Unwind_Backtrace(collect, 0);
}

/* Sends itself SIGUSR1 with a raw syscall: the handler runs as the
 * syscall returns, with the interrupted rip inside this function, between
 * the two labels. */
extern char victim_start[], victim_ret[], victim_end[];
__attribute__((noinline)) static void victim(long pid)
{
    __asm__ volatile("victim_start:\n"
                     "    mov $62, %%eax\n" /* kill */
                     "    mov %0, %%rdi\n"
                     "    mov $10, %%esi\n" /* SIGUSR1 */
                     "    syscall\n"
                     "victim_ret:\n"
                     "    nop\n"
                     "victim_end:\n"
                     :
                     : "r"(pid)
                     : "rax", "rdi", "rsi", "rcx", "r11", "memory");
}

__attribute__((noinline)) static void caller(void)
{
    victim(sc(SYS_getpid));
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    caller();
    int at = -1, callers = 0;
    for (int i = 0; i < g_n; i++) {
        if (g_ip[i] == (uintptr_t)victim_ret)
            at = i;
        else if (at >= 0 && i > at)
            callers++;
    }
    check(g_n >= 3, "a backtrace from the handler");
    check(at >= 1, "it has the interrupted instruction, past the handler's own frames");
    check(callers >= 2, "and the interrupted function's callers after it (caller, main)");
    return finish();
}
