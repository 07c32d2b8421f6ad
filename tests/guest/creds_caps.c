/* creds_caps.c: capget and capset as Linux answers them: the v1/v2/v3
 * headers (v1 copies one data struct, v2 and v3 two), the version probe
 * (an unknown version is written back with EINVAL, or 0 with a NULL data
 * pointer), bad pointers, the pid rules (capget: negative EINVAL, no such
 * task ESRCH; capset: only the caller, EPERM), capset's subset rules, the
 * ambient set (PR_CAP_AMBIENT), the bounding set (PR_CAPBSET_READ/DROP)
 * and the securebits. Capability sets are compared, never printed: the
 * host's root may lack some of them. */
#include "creds_util.h"

#include <sys/prctl.h>

#define NOPID 0x3fffffff /* above any pid_max */

/* prctl(PR_CAP_AMBIENT, op, cap, 0, 0). */
static long ambient(long op, long cap)
{
    return sc(SYS_prctl, PR_CAP_AMBIENT, op, cap, 0, 0);
}

static void headers(void)
{
    struct caphdr h = { 0, 0 };
    struct capdata d[3];
    check_ret(sc(SYS_capget, &h, NULL), 0, "capget(version 0, NULL): the probe succeeds");
    check(h.version == CAP_V3, "the probe writes the version back (%#x)", h.version);
    h.version = 0x12345678;
    check_err(sc(SYS_capget, &h, d), EINVAL, "capget(bad version, data)");
    check(h.version == CAP_V3, "and writes it back too");
    h.version = 0x12345678;
    check_err(sc(SYS_capset, &h, d), EINVAL, "capset(bad version)");
    check(h.version == CAP_V3, "capset writes it back too");
    check_err(sc(SYS_capget, BADPTR, d), EFAULT, "capget(bad header)");
    check_err(sc(SYS_capget, KPTR, NULL), EFAULT, "capget(kernel header, NULL)");
    check_err(sc(SYS_capset, BADPTR, d), EFAULT, "capset(bad header)");

    /* v1 fills one struct, v2 and v3 two. */
    uint32_t vers[3] = { CAP_V1, CAP_V2, CAP_V3 };
    for (int i = 0; i < 3; i++) {
        memset(d, 0xa5, sizeof d);
        h = (struct caphdr){ vers[i], 0 };
        long r = sc(SYS_capget, &h, d);
        int n = 0;
        for (int k = 0; k < 3; k++)
            n += d[k].eff != 0xa5a5a5a5u || d[k].prm != 0xa5a5a5a5u;
        check(r == 0 && n == (i == 0 ? 1 : 2), "capget v%d fills %d struct(s)", i + 1,
              i == 0 ? 1 : 2);
        check(d[0].prm == (uint32_t)caps().prm, "v%d's first struct is the low half", i + 1);
    }
    h = (struct caphdr){ CAP_V3, 0 };
    check_ret(sc(SYS_capget, &h, NULL), 0, "capget(v3, NULL)");
    check_err(sc(SYS_capget, &h, BADPTR), EFAULT, "capget(v3, bad data)");
    h.pid = -1;
    check_err(sc(SYS_capget, &h, d), EINVAL, "capget(pid -1)");
    h.pid = NOPID;
    check_err(sc(SYS_capget, &h, d), ESRCH, "capget(no such pid)");
    h.pid = (int)sc(SYS_gettid);
    check_ret(sc(SYS_capget, &h, d), 0, "capget(own tid)");
    h.pid = NOPID;
    check_err(sc(SYS_capset, &h, d), EPERM, "capset(another pid)");
    h.pid = 0;
    check_err(sc(SYS_capset, &h, BADPTR), EFAULT, "capset(bad data)");
}

static void root_rules(void)
{
    struct capsets c0 = caps();
    uint64_t b = BIT(CAP_NET_BIND_SERVICE);
    /* Effective within permitted; permitted only shrinks. */
    check_err(set_caps(c0.prm, c0.prm & ~b, 0), EPERM, "capset: effective beyond permitted");
    check_ret(set_caps(c0.eff & ~b, c0.prm, 0), 0, "capset: drop one effective");
    check(caps().eff == (c0.eff & ~b), "capget shows it");
    check(status_hex("CapEff:\t") == (c0.eff & ~b), "so does /proc/self/status");
    check_ret(set_caps(c0.eff, c0.prm, 0), 0, "capset: raise it again (permitted)");
    /* v1 sets only the low half: the high one becomes 0. */
    struct caphdr h = { CAP_V1, 0 };
    struct capdata d1 = { (uint32_t)c0.eff, (uint32_t)c0.prm, 0 };
    check_ret(sc(SYS_capset, &h, &d1), 0, "capset v1");
    check(caps().prm == (c0.prm & 0xffffffffu), "v1 cleared the high half of permitted");
    check_err(set_caps(c0.eff, c0.prm, 0), EPERM, "capset: the high half cannot come back");
    /* Inheritable: with CAP_SETPCAP, anything in the bounding set. */
    struct capsets c = caps();
    check_ret(set_caps(c.eff, c.prm, b | BIT(CAP_MAC_OVERRIDE)), 0,
              "capset: inheritable beyond permitted, with CAP_SETPCAP");
    check(status_hex("CapInh:\t") == (b | BIT(CAP_MAC_OVERRIDE)), "CapInh: shows it");
    /* Ambient: needs permitted and inheritable. */
    check_ret(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), 0,
              "PR_CAP_AMBIENT_RAISE net_bind_service");
    check_err(ambient(PR_CAP_AMBIENT_RAISE, CAP_MAC_OVERRIDE), EPERM,
              "PR_CAP_AMBIENT_RAISE of a cap no longer permitted");
    check_err(ambient(PR_CAP_AMBIENT_RAISE, CAP_CHOWN), EPERM,
              "PR_CAP_AMBIENT_RAISE of a cap not inheritable");
    check_ret(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), 1, "PR_CAP_AMBIENT_IS_SET");
    check(status_hex("CapAmb:\t") == b, "CapAmb: shows it");
    /* Dropping it from inheritable drops it from ambient. */
    check_ret(set_caps(c.eff, c.prm, 0), 0, "capset: inheritable emptied");
    check_ret(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), 0,
              "the ambient cap went with it");
    check_ret(set_caps(c.eff, c.prm, b), 0, "capset: inheritable again");
    check_ret(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), 0, "PR_CAP_AMBIENT_RAISE");
    check_ret(ambient(PR_CAP_AMBIENT_LOWER, CAP_NET_BIND_SERVICE), 0, "PR_CAP_AMBIENT_LOWER");
    check_ret(ambient(PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE), 0, "lowered");
    check_ret(ambient(PR_CAP_AMBIENT_CLEAR_ALL, 0), 0, "PR_CAP_AMBIENT_CLEAR_ALL");
    /* The bounding set. */
    check_ret(sc(SYS_prctl, PR_CAPBSET_READ, CAP_AUDIT_READ), 1, "PR_CAPBSET_READ audit_read");
    check_err(sc(SYS_prctl, PR_CAPBSET_DROP, 64), EINVAL, "PR_CAPBSET_DROP 64");
    check_ret(sc(SYS_prctl, PR_CAPBSET_DROP, CAP_AUDIT_READ), 0, "PR_CAPBSET_DROP audit_read");
    check_ret(sc(SYS_prctl, PR_CAPBSET_READ, CAP_AUDIT_READ), 0, "dropped");
    check(!(status_hex("CapBnd:\t") & BIT(CAP_AUDIT_READ)), "CapBnd: shows it");
    c = caps();
    check_err(set_caps(c.eff, c.prm, BIT(CAP_AUDIT_READ)), EPERM,
              "capset: inheritable outside the bounding set");
    /* Securebits: NO_SETUID_FIXUP keeps the sets through uid changes,
     * NO_CAP_AMBIENT_RAISE refuses ambient raises, a lock keeps its bit. */
    check_err(sc(SYS_prctl, PR_SET_SECUREBITS, 1 << 12), EPERM, "PR_SET_SECUREBITS(unknown bit)");
    check_ret(sc(SYS_prctl, PR_SET_SECUREBITS, 0x4), 0, "PR_SET_SECUREBITS(NO_SETUID_FIXUP)");
    check_ret(sc(SYS_prctl, PR_GET_SECUREBITS), 0x4, "PR_GET_SECUREBITS");
    c = caps();
    check_ret(sc(SYS_setresuid, -1, 1000, -1), 0, "setresuid(-1, 1000, -1)");
    check(caps().eff == c.eff, "effective kept without the fix-up");
    check_ret(sc(SYS_setresuid, -1, 0, -1), 0, "setresuid(-1, 0, -1)");
    check_ret(sc(SYS_prctl, PR_SET_SECUREBITS, 0x40), 0, "PR_SET_SECUREBITS(NO_CAP_AMBIENT_RAISE)");
    check_ret(set_caps(c.eff, c.prm, b), 0, "capset: inheritable");
    check_err(ambient(PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE), EPERM,
              "PR_CAP_AMBIENT_RAISE refused");
    check_ret(sc(SYS_prctl, PR_SET_SECUREBITS, 0x20), 0, "PR_SET_SECUREBITS(KEEP_CAPS_LOCKED)");
    check_err(sc(SYS_prctl, PR_SET_KEEPCAPS, 1), EPERM, "PR_SET_KEEPCAPS when locked");
    check_err(sc(SYS_prctl, PR_SET_SECUREBITS, 0), EPERM, "PR_SET_SECUREBITS: no unlocking");
    check_err(sc(SYS_prctl, PR_SET_SECUREBITS, 0x30), EPERM, "PR_SET_SECUREBITS: a locked bit");
    check_ret(sc(SYS_prctl, PR_SET_SECUREBITS, 0x21), 0, "PR_SET_SECUREBITS(NOROOT), lock kept");
    out("securebits: %s\n", ret_name(sc(SYS_prctl, PR_GET_SECUREBITS)));
    check_ret(set_caps(c.eff, c.prm, 0), 0, "capset: inheritable emptied");

    /* Without CAP_SETPCAP: inheritable only within permitted. */
    check_ret(set_caps(c.eff & ~BIT(CAP_SETPCAP), c.prm, 0), 0, "capset: drop CAP_SETPCAP");
    check_err(sc(SYS_prctl, PR_CAPBSET_DROP, CAP_CHOWN), EPERM, "PR_CAPBSET_DROP without it");
    check_err(sc(SYS_prctl, PR_CAPBSET_DROP, 64), EPERM,
              "PR_CAPBSET_DROP 64 without it: EPERM first");
    check_ret(set_caps(c.eff & ~(BIT(CAP_SETPCAP) | b), c.prm & ~b, 0), 0,
              "capset: drop one permitted");
    check_err(set_caps(0, c.prm & ~b, b), EPERM, "capset: inheritable beyond permitted");
    check_ret(set_caps(0, 0, 0), 0, "capset: drop everything");
    check(caps().eff == 0 && caps().prm == 0 && caps().inh == 0, "all sets empty");
    check_err(set_caps(0, BIT(CAP_CHOWN), 0), EPERM, "capset: permitted cannot grow back");
}

static void user_rules(void)
{
    struct capsets c = caps();
    check(c.eff == 0 && c.prm == 0 && c.inh == 0, "no capabilities");
    check_ret(set_caps(0, 0, 0), 0, "capset: nothing to nothing");
    check_err(set_caps(0, 0, BIT(CAP_CHOWN)), EPERM, "capset: inheritable");
    check_err(set_caps(0, BIT(CAP_CHOWN), 0), EPERM, "capset: permitted");
    check_err(set_caps(BIT(CAP_CHOWN), 0, 0), EPERM, "capset: effective");
    check_err(ambient(PR_CAP_AMBIENT_RAISE, CAP_CHOWN), EPERM, "PR_CAP_AMBIENT_RAISE");
    check_err(sc(SYS_prctl, PR_CAPBSET_DROP, CAP_CHOWN), EPERM, "PR_CAPBSET_DROP");
    check_err(sc(SYS_prctl, PR_SET_SECUREBITS, 0), EPERM, "PR_SET_SECUREBITS without CAP_SETPCAP");
}

int main(void)
{
    headers();
    /* Argument rules of the prctl options, the same for everyone. */
    check_ret(sc(SYS_prctl, PR_CAPBSET_READ, CAP_CHOWN), 1, "PR_CAPBSET_READ chown");
    check_err(sc(SYS_prctl, PR_CAPBSET_READ, 41), EINVAL, "PR_CAPBSET_READ 41");
    check_err(sc(SYS_prctl, PR_CAPBSET_READ, -1L), EINVAL, "PR_CAPBSET_READ -1");
    check_err(ambient(PR_CAP_AMBIENT_CLEAR_ALL, 1), EINVAL, "PR_CAP_AMBIENT_CLEAR_ALL with arg3");
    check_ret(ambient(PR_CAP_AMBIENT_CLEAR_ALL, 0), 0, "PR_CAP_AMBIENT_CLEAR_ALL");
    check_err(ambient(PR_CAP_AMBIENT_IS_SET, 41), EINVAL, "PR_CAP_AMBIENT_IS_SET 41");
    check_err(sc(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 1, 0), EINVAL,
              "PR_CAP_AMBIENT_IS_SET with arg4");
    check_err(sc(SYS_prctl, PR_CAP_AMBIENT, 5, 0, 0, 0), EINVAL, "PR_CAP_AMBIENT 5");
    check_ret(ambient(PR_CAP_AMBIENT_IS_SET, CAP_CHOWN), 0, "PR_CAP_AMBIENT_IS_SET chown");
    check_ret(sc(SYS_prctl, PR_GET_SECUREBITS), 0, "PR_GET_SECUREBITS");
    check_err(sc(SYS_prctl, PR_SET_KEEPCAPS, 2), EINVAL, "PR_SET_KEEPCAPS 2");
    return by_privilege(root_rules, user_rules);
}
