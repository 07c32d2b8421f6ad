/* creds_setuid.c: the setuid family's transitions as Linux makes them:
 * the saved ids (setreuid moves the saved uid, setresuid does not), the
 * fsuid following the euid, setfsuid, and the capabilities after each
 * step as capget and /proc/self/status show them (the euid leaving 0
 * clears the effective set, coming back raises it to permitted, leaving
 * uid 0 entirely clears permitted unless PR_SET_KEEPCAPS, setfsuid moves
 * only the file-system capabilities). Permission checks follow: a file
 * only root can read is refused once the capabilities are gone, even to
 * an fsuid of 0; access() checks with the real ids. The last step drops
 * root for good. Run as an unprivileged user, it checks what such a user
 * may not do. Capability sets are compared with the starting ones, never
 * printed: the host's root may lack some (a container's bounding set). */
#include "creds_util.h"

#include <fcntl.h>
#include <sys/prctl.h>

#define NOID (-1L)

static struct capsets c0; /* at the start */

static void show(const char *what)
{
    struct capsets c = caps();
    const char *eff = c.eff == c0.prm               ? "full"
                      : c.eff == 0                  ? "none"
                      : c.eff == (c0.eff & ~FS_SET) ? "no-fs"
                                                    : "other";
    const char *prm = c.prm == c0.prm ? "full" : c.prm == 0 ? "none" : "other";
    out("%s: uid %s, gid %s, eff %s, prm %s\n", what, res(0), res(1), eff, prm);
    check(status_hex("CapEff:\t") == c.eff && status_hex("CapPrm:\t") == c.prm &&
              status_hex("CapInh:\t") == c.inh,
          "%s: /proc/self/status shows capget's sets", what);
}

static long open_rd(const char *path)
{
    long fd = sc(SYS_open, path, O_RDONLY);
    if (fd >= 0) {
        sc(SYS_close, fd);
        return 0;
    }
    return fd;
}

/* O_NOATIME needs the file's owner or CAP_FOWNER, at open and F_SETFL. */
static void noatime(const char *path)
{
    check_err(sc(SYS_open, path, O_RDONLY | O_NOATIME), EPERM, "open(O_NOATIME) of another's file");
    long fd = sc(SYS_open, path, O_RDONLY);
    check(fd >= 0, "open it without");
    check_err(sc(SYS_fcntl, fd, F_SETFL, O_NOATIME), EPERM, "F_SETFL O_NOATIME");
    check_ret(sc(SYS_fcntl, fd, F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
    sc(SYS_close, fd);
}

static void as_root(void)
{
    /* Files: "secret" only root may read, "grp" readable by group 4242. */
    sc(SYS_chmod, ".", 0755);
    /* The native run left its files in the same directory. */
    sc(SYS_unlink, "secret");
    sc(SYS_unlink, "grp");
    sc(SYS_unlink, "pub");
    sc(SYS_close, sc(SYS_open, "pub", O_CREAT | O_WRONLY, 0644));
    long nfd = sc(SYS_open, "pub", O_RDONLY | O_NOATIME);
    check(nfd >= 0, "open(O_NOATIME) of its own file");
    sc(SYS_close, nfd);
    long fd = sc(SYS_open, "secret", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    sc(SYS_close, fd);
    fd = sc(SYS_open, "grp", O_CREAT | O_WRONLY | O_TRUNC, 0640);
    sc(SYS_close, fd);
    check_ret(sc(SYS_chown, "grp", 0, 4242), 0, "chown grp 0:4242");
    sc(SYS_unlink, "sg/in");
    sc(SYS_unlink, "sg/none");
    sc(SYS_unlink, "sg/fifo");
    sc(SYS_rmdir, "sg/dir");
    sc(SYS_rmdir, "sg");
    check_ret(sc(SYS_mkdir, "sg", 0777), 0, "mkdir sg");
    check_ret(sc(SYS_chown, "sg", 0, 4242), 0, "chown sg 0:4242");
    check_ret(sc(SYS_chmod, "sg", 02777), 0, "chmod sg 02777");
    check_ret(open_rd("secret"), 0, "root reads secret");
    show("start");

    check_err(sc(SYS_setuid, NOID), EINVAL, "setuid(-1)");
    check_err(sc(SYS_setgid, NOID), EINVAL, "setgid(-1)");
    check_ret(sc(SYS_setresuid, NOID, NOID, NOID), 0, "setresuid(-1, -1, -1)");

    /* setreuid(-1, 1000): the euid differs from the real uid, so the saved
     * uid follows it; uid 0 remains real, so permitted stays. */
    check_ret(sc(SYS_setreuid, NOID, 1000), 0, "setreuid(-1, 1000)");
    show("setreuid(-1, 1000)");
    out("%s\n", status_ids("Uid:"));
    check_err(open_rd("secret"), EACCES, "secret refused to euid 1000");
    check_ret(sc(SYS_access, "secret", R_OK), 0, "access() with the real uid 0 allows it");
    check_err(sc(SYS_faccessat2, AT_FDCWD, "secret", R_OK, AT_EACCESS), EACCES,
              "faccessat2(AT_EACCESS) refuses it");
    check_err(sc(SYS_setgroups, 0, NULL), EPERM, "setgroups without CAP_SETGID in effective");
    check_ret(sc(SYS_setreuid, NOID, 0), 0, "setreuid(-1, 0): the real uid");
    show("setreuid(-1, 0)");

    /* setresuid leaves the saved uid alone. */
    check_ret(sc(SYS_setresuid, NOID, 2000, NOID), 0, "setresuid(-1, 2000, -1)");
    show("setresuid(-1, 2000, -1)");
    check_err(sc(SYS_setresuid, NOID, 3000, NOID), EPERM, "setresuid(-1, 3000, -1): not an own id");
    check_err(sc(SYS_setuid, 3000), EPERM, "setuid(3000) without CAP_SETUID");
    check_ret(sc(SYS_setuid, 1000), 0, "setuid(1000): the saved uid");
    show("setuid(1000) unprivileged");
    check_ret(sc(SYS_setresuid, 0, 0, 0), 0, "setresuid(0, 0, 0): the real uid");
    show("setresuid(0, 0, 0)");

    /* The gid family: no capability changes. */
    check_ret(sc(SYS_setregid, NOID, 1000), 0, "setregid(-1, 1000)");
    show("setregid(-1, 1000)");
    out("%s\n", status_ids("Gid:"));
    check_ret(sc(SYS_setresgid, 5, 6, 7), 0, "setresgid(5, 6, 7)");
    check_ret(sc(SYS_setfsgid, 8), 6, "setfsgid(8) returns the old fsgid");
    out("%s\n", status_ids("Gid:"));
    check_ret(sc(SYS_setgid, 0), 0, "setgid(0) with CAP_SETGID");
    show("setgid(0)");

    /* setfsuid: only the fs capabilities follow. */
    check_ret(sc(SYS_setfsuid, 1000), 0, "setfsuid(1000) returns the old fsuid");
    show("setfsuid(1000)");
    out("fs capabilities dropped: %s\n", caps().eff == (c0.eff & ~FS_SET) ? "exactly" : "no");
    out("%s\n", status_ids("Uid:"));
    check_err(open_rd("secret"), EACCES, "secret refused to fsuid 1000");
    check_ret(sc(SYS_setfsuid, NOID), 1000, "setfsuid(-1) only reports");
    check_ret(sc(SYS_setfsuid, 0), 1000, "setfsuid(0)");
    show("setfsuid(0)");
    check_ret(open_rd("secret"), 0, "secret readable again");

    /* An fsuid of 0 without the DAC capabilities is nobody special. */
    struct capsets c = caps();
    check_ret(set_caps(c.eff & ~(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH)), c.prm, c.inh),
              0, "capset: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH");
    long r = open_rd("secret");
    check_ret(r, 0, "root owns secret: read as the owner");
    sc(SYS_chown, "secret", 1, 1);
    check_err(open_rd("secret"), EACCES, "secret (now owned by 1) refused to fsuid 0 without them");
    check_ret(set_caps(c.eff, c.prm, c.inh), 0, "capset: raise them again");
    check_ret(open_rd("secret"), 0, "secret readable with CAP_DAC_OVERRIDE");

    /* Supplementary groups give group access once root's capabilities go. */
    unsigned g = 4242;
    check_ret(sc(SYS_setgroups, 1, &g), 0, "setgroups([4242])");
    check_ret(sc(SYS_setresuid, NOID, 1000, NOID), 0, "setresuid(-1, 1000, -1)");
    check_ret(open_rd("grp"), 0, "grp readable through group 4242");
    check_err(sc(SYS_open, "grp", O_WRONLY), EACCES, "grp not writable");
    check_err(open_rd("secret"), EACCES, "secret still refused");
    /* A set-group-ID file in a set-group-ID directory of another group:
     * the bit goes without CAP_FSETID (the directory gives its group). */
    check_ret(sc(SYS_close, sc(SYS_open, "sg/in", O_CREAT | O_WRONLY, 02770)), 0,
              "create sg/in 02770 in group 4242");
    check_ret(sc(SYS_setresuid, NOID, 0, NOID), 0, "setresuid(-1, 0, -1)");
    check_ret(sc(SYS_setgroups, 0, NULL), 0, "setgroups([])");
    check_ret(sc(SYS_setresuid, NOID, 1000, NOID), 0, "setresuid(-1, 1000, -1)");
    check_ret(sc(SYS_close, sc(SYS_open, "sg/none", O_CREAT | O_WRONLY, 02770)), 0,
              "create sg/none 02770 outside group 4242");
    check_ret(sc(SYS_mknod, "sg/fifo", S_IFIFO | 02770, 0), 0, "mknod sg/fifo 02770 outside it");
    check_ret(sc(SYS_mkdir, "sg/dir", 0770), 0, "mkdir sg/dir: directories inherit the bit");
    check_ret(sc(SYS_setresuid, NOID, 0, NOID), 0, "setresuid(-1, 0, -1)");
    const char *sgn[] = { "sg/in", "sg/none", "sg/fifo", "sg/dir" };
    for (int i = 0; i < 4; i++) {
        struct stat st;
        sc(SYS_stat, sgn[i], &st);
        out("%s: mode %o gid %u\n", sgn[i], (unsigned)st.st_mode & 07777, (unsigned)st.st_gid);
    }

    /* A cred change forgets the parent-death signal and sets dumpable to
     * fs.suid_dumpable. */
    sc(SYS_prctl, PR_SET_PDEATHSIG, 10);
    sc(SYS_prctl, PR_SET_DUMPABLE, 1);
    check_ret(sc(SYS_setresuid, NOID, 1000, NOID), 0, "setresuid(-1, 1000, -1)");
    int sig = -1;
    sc(SYS_prctl, PR_GET_PDEATHSIG, &sig);
    check(sig == 0, "the parent-death signal is forgotten");
    out("dumpable after the change: %ld\n", sc(SYS_prctl, PR_GET_DUMPABLE));
    check_ret(sc(SYS_setresuid, NOID, 0, NOID), 0, "setresuid(-1, 0, -1)");
    sc(SYS_prctl, PR_SET_DUMPABLE, 1);

    /* KEEPCAPS: leaving root keeps permitted; effective comes back by
     * capset, and with it the way back to root. */
    check_ret(sc(SYS_setresuid, 0, 0, 0), 0, "setresuid(0, 0, 0)");
    check_ret(sc(SYS_prctl, PR_SET_KEEPCAPS, 1), 0, "PR_SET_KEEPCAPS 1");
    check_ret(sc(SYS_setresuid, 1000, 1000, 1000), 0, "setresuid(1000, 1000, 1000) with keepcaps");
    show("setresuid(1000, 1000, 1000) keepcaps");
    check_err(sc(SYS_setuid, 0), EPERM, "setuid(0) without effective CAP_SETUID");
    c = caps();
    check_ret(set_caps(BIT(CAP_SETUID), c.prm, c.inh), 0, "capset: CAP_SETUID effective");
    check_ret(sc(SYS_setresuid, 0, 0, 0), 0, "setresuid(0, 0, 0) with CAP_SETUID");
    show("back to root");
    check_ret(sc(SYS_prctl, PR_GET_KEEPCAPS), 1, "PR_GET_KEEPCAPS");
    check_ret(sc(SYS_prctl, PR_SET_KEEPCAPS, 0), 0, "PR_SET_KEEPCAPS 0");

    /* For good: setuid as root sets all four. */
    check_ret(sc(SYS_setuid, 1000), 0, "setuid(1000) as root");
    show("setuid(1000) as root");
    out("%s\n", status_ids("Uid:"));
    check_err(sc(SYS_setuid, 0), EPERM, "setuid(0)");
    check_err(sc(SYS_setresuid, NOID, 0, NOID), EPERM, "setresuid(-1, 0, -1)");
    check_err(sc(SYS_setreuid, 0, NOID), EPERM, "setreuid(0, -1)");
    check_ret(sc(SYS_setfsuid, 0), 1000, "setfsuid(0) refused (returns the fsuid)");
    check_ret(sc(SYS_setfsuid, NOID), 1000, "fsuid unchanged");
    check_err(open_rd("secret"), EACCES, "secret refused");
    check_err(sc(SYS_access, "secret", R_OK), EACCES, "access() refuses it too");
    check_err(sc(SYS_chown, "grp", 1000, NOID), EPERM, "chown without CAP_CHOWN");
    check_err(sc(SYS_mknod, "dev", S_IFCHR | 0600, 0x0103), EACCES,
              "mknod in a directory it may not write: EACCES before CAP_MKNOD");
    check_err(sc(SYS_mknod, "/dev/shm/dev", S_IFCHR | 0600, 0x0103), EPERM,
              "mknod of a device without CAP_MKNOD");
    check_ret(sc(SYS_setresuid, 1000, 1000, 1000), 0, "setresuid to own ids");
    noatime("pub");
}

static void as_user(void)
{
    long uid = sc(SYS_getuid), gid = sc(SYS_getgid);
    struct capsets c = caps();
    check(c.eff == 0 && c.prm == 0, "no capabilities");
    check_ret(sc(SYS_setuid, uid), 0, "setuid(own uid)");
    check_err(sc(SYS_setuid, 0), EPERM, "setuid(0)");
    check_err(sc(SYS_setuid, NOID), EINVAL, "setuid(-1)");
    check_err(sc(SYS_setreuid, 0, NOID), EPERM, "setreuid(0, -1)");
    check_err(sc(SYS_setresuid, NOID, 0, NOID), EPERM, "setresuid(-1, 0, -1)");
    check_ret(sc(SYS_setresuid, uid, uid, uid), 0, "setresuid(own ids)");
    check_err(sc(SYS_setgid, 0), EPERM, "setgid(0)");
    check_ret(sc(SYS_setgid, gid), 0, "setgid(own gid)");
    check_err(sc(SYS_setregid, NOID, 0), EPERM, "setregid(-1, 0)");
    check_err(sc(SYS_setresgid, 0, NOID, NOID), EPERM, "setresgid(0, -1, -1)");
    check_ret(sc(SYS_setfsuid, 0), uid, "setfsuid(0) refused");
    check_ret(sc(SYS_setfsgid, 0), gid, "setfsgid(0) refused");
    check_err(sc(SYS_setgroups, 0, NULL), EPERM, "setgroups");
    check(caps().eff == 0, "still no capabilities");
    noatime("/etc/passwd");
}

int main(void)
{
    c0 = caps();
    unsigned a, b, d;
    check_err(sc(SYS_getresuid, BADPTR, &b, &d), EFAULT, "getresuid(bad, ...)");
    check_err(sc(SYS_getresuid, &a, &b, BADPTR), EFAULT, "getresuid(..., bad)");
    check_err(sc(SYS_getresgid, &a, KPTR, &d), EFAULT, "getresgid(kernel pointer)");
    return by_privilege(as_root, as_user);
}
