/* creds_prctl.c: the prctl options of a task's and process's own state:
 * the parent-death signal, dumpable, child subreaper, no_new_privs, the
 * clear_child_tid address, keepcaps, names; Linux's argument checks and
 * faults. The option is an int: the register's upper half is ignored. */
#include "guest.h"

#include <stdint.h>
#include <sys/prctl.h>

int main(void)
{
    int v = -1;
    check_ret(sc(SYS_prctl, PR_GET_PDEATHSIG, &v), 0, "PR_GET_PDEATHSIG");
    check(v == 0, "no parent-death signal at start");
    check_ret(sc(SYS_prctl, PR_SET_PDEATHSIG, 9), 0, "PR_SET_PDEATHSIG 9");
    sc(SYS_prctl, PR_GET_PDEATHSIG, &v);
    check(v == 9, "PR_GET_PDEATHSIG gives 9");
    check_ret(sc(SYS_prctl, PR_SET_PDEATHSIG, 64), 0, "PR_SET_PDEATHSIG 64");
    check_err(sc(SYS_prctl, PR_SET_PDEATHSIG, 65), EINVAL, "PR_SET_PDEATHSIG 65");
    check_err(sc(SYS_prctl, PR_SET_PDEATHSIG, -1L), EINVAL, "PR_SET_PDEATHSIG -1");
    check_err(sc(SYS_prctl, PR_GET_PDEATHSIG, BADPTR), EFAULT, "PR_GET_PDEATHSIG(bad)");
    check_ret(sc(SYS_prctl, PR_SET_PDEATHSIG, 0), 0, "PR_SET_PDEATHSIG 0");

    check_ret(sc(SYS_prctl, PR_GET_DUMPABLE), 1, "PR_GET_DUMPABLE");
    check_ret(sc(SYS_prctl, PR_SET_DUMPABLE, 0), 0, "PR_SET_DUMPABLE 0");
    check_ret(sc(SYS_prctl, PR_GET_DUMPABLE), 0, "not dumpable");
    check_ret(sc(SYS_prctl, (1L << 32) | PR_GET_DUMPABLE), 0, "option with upper bits");
    check_err(sc(SYS_prctl, PR_SET_DUMPABLE, 2), EINVAL, "PR_SET_DUMPABLE 2");
    check_err(sc(SYS_prctl, PR_SET_DUMPABLE, 1L << 32), EINVAL, "PR_SET_DUMPABLE 1 << 32");
    check_ret(sc(SYS_prctl, PR_SET_DUMPABLE, 1), 0, "PR_SET_DUMPABLE 1");
    check_ret(sc(SYS_prctl, PR_GET_DUMPABLE), 1, "dumpable");

    check_ret(sc(SYS_prctl, PR_GET_CHILD_SUBREAPER, &v), 0, "PR_GET_CHILD_SUBREAPER");
    check(v == 0, "not a subreaper");
    check_ret(sc(SYS_prctl, PR_SET_CHILD_SUBREAPER, 42), 0, "PR_SET_CHILD_SUBREAPER 42");
    sc(SYS_prctl, PR_GET_CHILD_SUBREAPER, &v);
    check(v == 1, "a subreaper (1)");
    check_err(sc(SYS_prctl, PR_GET_CHILD_SUBREAPER, BADPTR), EFAULT, "PR_GET_CHILD_SUBREAPER(bad)");
    check_ret(sc(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0), 0, "PR_SET_CHILD_SUBREAPER 0");

    /* no_new_privs: the sandbox starts with it set (its stub needs it),
     * a native run may not; once set it stays. */
    long nnp = sc(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    check(nnp == (sandboxed() ? 1 : nnp) && (nnp == 0 || nnp == 1), "PR_GET_NO_NEW_PRIVS");
    check_err(sc(SYS_prctl, PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL, "PR_GET_NO_NEW_PRIVS(1)");
    check_err(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL, "PR_SET_NO_NEW_PRIVS 0");
    check_err(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL, "PR_SET_NO_NEW_PRIVS(1, 1)");
    check_ret(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS 1");
    check_ret(sc(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1, "set");

    static int tid_word;
    uint64_t addr = 1;
    check(sc(SYS_set_tid_address, &tid_word) == sc(SYS_gettid), "set_tid_address");
    check_ret(sc(SYS_prctl, PR_GET_TID_ADDRESS, &addr), 0, "PR_GET_TID_ADDRESS");
    check(addr == (uint64_t)&tid_word, "it is the address set");
    check_err(sc(SYS_prctl, PR_GET_TID_ADDRESS, BADPTR), EFAULT, "PR_GET_TID_ADDRESS(bad)");
    sc(SYS_set_tid_address, 0);
    sc(SYS_prctl, PR_GET_TID_ADDRESS, &addr);
    check(addr == 0, "PR_GET_TID_ADDRESS after set_tid_address(NULL)");

    check_ret(sc(SYS_prctl, PR_GET_KEEPCAPS), 0, "PR_GET_KEEPCAPS");
    check_ret(sc(SYS_prctl, PR_SET_KEEPCAPS, 1), 0, "PR_SET_KEEPCAPS 1");
    check_ret(sc(SYS_prctl, PR_GET_KEEPCAPS), 1, "keepcaps");
    check_ret(sc(SYS_prctl, PR_GET_SECUREBITS), 0x10, "PR_GET_SECUREBITS shows SECBIT_KEEP_CAPS");
    check_ret(sc(SYS_prctl, PR_SET_KEEPCAPS, 0), 0, "PR_SET_KEEPCAPS 0");

    char name[16] = { 0 };
    check_ret(sc(SYS_prctl, PR_SET_NAME, "creds-prctl-long-name"), 0, "PR_SET_NAME (long)");
    check_ret(sc(SYS_prctl, PR_GET_NAME, name), 0, "PR_GET_NAME");
    out("name: %s\n", name);
    check_err(sc(SYS_prctl, 9999), EINVAL, "an unknown option");
    return finish();
}
