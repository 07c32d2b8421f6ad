/* hide_host.c: what procfs and stat tell the guest about the host. Run
 * natively the test sees the real host, so it checks properties that hold
 * on any Linux (a pipe's link is pipe:[N] with N its st_ino, status's
 * capabilities agree with what the kernel lets the process do, mountinfo
 * and mounts list the same mounts, a mount's device is what stat says),
 * and in the sandbox (SANDBOX_RUN_GUEST) also the stronger ones (no mount
 * source is a host path, every mount's root is "/", the standard streams
 * show no host name or inode), printing the same line either way.
 * compare.sh binds the scratch directory (the cwd) at its own path, so
 * its path may appear in mountinfo, but only as a mount point. */
#include "fs_util.h"

#include <ctype.h>
#include <stdint.h>
#include <sys/sysmacros.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39

static char cwd[PATH_MAX];

/* "kind:[N]" with N all digits: N, else -1. */
static long long bracket_num(const char *link, const char *kind)
{
    size_t kl = strlen(kind);
    if (strncmp(link, kind, kl) != 0 || link[kl] != ':' || link[kl + 1] != '[')
        return -1;
    const char *p = link + kl + 2;
    if (!isdigit((unsigned char)*p))
        return -1;
    long long v = 0;
    for (; isdigit((unsigned char)*p); p++)
        v = v * 10 + (*p - '0');
    return p[0] == ']' && p[1] == 0 ? v : -1;
}

/* The "ino:" of /proc/self/fdinfo/fd, or -1. */
static long long fdinfo_ino(int fd)
{
    char p[64], line[128];
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
    unsigned long long v;
    if (slurp(p) <= 0 || !find_line("ino:\t", line, sizeof line) ||
        sscanf(line, "ino:\t%llu", &v) != 1)
        return -1;
    return (long long)v;
}

/* ---- mounts ---- */

struct mi {
    int id, parent;
    unsigned ma, mi;
    char root[512], point[512], type[64], source[512];
};

/* Undo the \ooo escapes of mount names. */
static void unmangle(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
}

/* One mountinfo line: 1 if it has every field. */
static int parse_mountinfo(const char *line, struct mi *m)
{
    int n = 0;
    if (sscanf(line, "%d %d %u:%u %511s %511s %*s%n", &m->id, &m->parent, &m->ma, &m->mi, m->root,
               m->point, &n) != 6 ||
        n == 0)
        return 0;
    const char *dash = strstr(line + n, " - ");
    if (!dash || sscanf(dash + 3, "%63s %511s %*s", m->type, m->source) != 2)
        return 0;
    unmangle(m->root);
    unmangle(m->point);
    unmangle(m->source);
    return m->id > 0 && m->root[0] == '/' && m->point[0] == '/';
}

static struct mi mounts[256];
static int nmounts;

static void test_mountinfo(void)
{
    long n = slurp("/proc/self/mountinfo");
    check(n > 0 && g_file[n - 1] == '\n', "mountinfo is not empty");
    int bad = 0, dup = 0, slash = 0;
    nmounts = 0;
    for (char *p = g_file; *p && nmounts < 256;) {
        char *end = strchr(p, '\n');
        *end = 0;
        struct mi *m = &mounts[nmounts];
        if (!parse_mountinfo(p, m))
            bad++;
        else {
            for (int i = 0; i < nmounts; i++)
                dup += mounts[i].id == m->id;
            slash += strcmp(m->point, "/") == 0;
            nmounts++;
        }
        p = end + 1;
    }
    check(bad == 0,
          "every mountinfo line parses (id parent maj:min root point opts - type source opts)");
    check(dup == 0, "mount ids are unique");
    check(slash >= 1, "a mount is on /");

    /* The same mounts, in the same order, in /proc/self/mounts. */
    n = slurp("/proc/self/mounts");
    int k = 0, same = 1;
    for (char *p = g_file; *p;) {
        char *end = strchr(p, '\n');
        *end = 0;
        char src[512], point[512], type[64];
        if (sscanf(p, "%511s %511s %63s", src, point, type) != 3)
            same = 0;
        unmangle(point);
        unmangle(src);
        if (k >= nmounts || strcmp(point, mounts[k].point) != 0 ||
            strcmp(type, mounts[k].type) != 0 || strcmp(src, mounts[k].source) != 0)
            same = 0;
        k++;
        p = end + 1;
    }
    check(same && k == nmounts, "mounts lists mountinfo's mounts: source, point, type");

    /* A mount's device is what stat gives for files on it: the last
     * mount on the longest mount point above a path is the one it is on. */
    const char *paths[] = { "/proc", ".", "/" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char abs[PATH_MAX];
        if (strcmp(paths[i], ".") == 0)
            snprintf(abs, sizeof abs, "%s", cwd);
        else
            snprintf(abs, sizeof abs, "%s", paths[i]);
        int best = -1;
        size_t best_len = 0;
        for (int j = 0; j < nmounts; j++) {
            size_t l = strlen(mounts[j].point);
            int under = strcmp(mounts[j].point, "/") == 0 ||
                        (strncmp(abs, mounts[j].point, l) == 0 && (abs[l] == 0 || abs[l] == '/'));
            if (under && (best < 0 || l >= best_len)) {
                best = j;
                best_len = strcmp(mounts[j].point, "/") == 0 ? 0 : l;
            }
        }
        struct stat st;
        check(best >= 0 && stat(paths[i], &st) == 0 && major(st.st_dev) == mounts[best].ma &&
                  minor(st.st_dev) == mounts[best].mi,
              "mountinfo's maj:min of the mount holding %s is its st_dev",
              strcmp(paths[i], ".") == 0 ? "the cwd" : paths[i]);
    }

    /* The cwd's path (compare.sh's scratch directory, bound at its own
     * path in the sandbox) is at most a mount point, never a source or
     * a mount's root. */
    int leak = 0;
    for (int j = 0; j < nmounts; j++)
        leak += strstr(mounts[j].source, cwd) != NULL || strstr(mounts[j].root, cwd) != NULL;
    check(leak == 0, "the cwd's path is no mount's source or root");

    /* In the sandbox: sources are names, not host paths, and every mount
     * is a whole file system. Natively both may be anything. */
    int abs_src = 0, sub_root = 0;
    if (sandboxed())
        for (int j = 0; j < nmounts; j++) {
            abs_src += mounts[j].source[0] == '/';
            sub_root += strcmp(mounts[j].root, "/") != 0;
        }
    check(abs_src == 0 && sub_root == 0,
          "in the sandbox no mount source is a path and every mount root is /");
}

/* ---- descriptors ---- */

static void test_pipe(void)
{
    int p[2];
    check(pipe(p) == 0, "pipe");
    char a[128], b[128];
    fd_link(p[0], a, sizeof a);
    fd_link(p[1], b, sizeof b);
    long long n = bracket_num(a, "pipe");
    struct stat s0, s1;
    fstat(p[0], &s0);
    fstat(p[1], &s1);
    check(n > 0, "a pipe's fd link is pipe:[N]");
    check(strcmp(a, b) == 0, "both ends have the same link");
    check(n == (long long)s0.st_ino && s0.st_ino == s1.st_ino && s0.st_dev == s1.st_dev,
          "N is both ends' st_ino");
    check(major(s0.st_dev) == 0, "a pipe is on an anonymous device (major 0)");
    check(fdinfo_ino(p[0]) == n, "fdinfo's ino: is N");
    /* The magic link leads to the pipe itself. */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    int w = open(path, O_WRONLY);
    struct stat sw;
    check(w >= 0 && fstat(w, &sw) == 0 && sw.st_ino == s0.st_ino && sw.st_dev == s0.st_dev,
          "opening fd/N of a pipe opens that pipe");
    check(w >= 0 && write(w, "x", 1) == 1 && read(p[0], a, 1) == 1 && a[0] == 'x',
          "and writes reach its read end");
    close(w);
    close(p[0]);
    close(p[1]);
}

static void test_memfd_tmpfs(void)
{
    int fd = (int)sc(SYS_memfd_create, "hide_host", MFD_CLOEXEC);
    char l[PATH_MAX + 64];
    fd_link(fd, l, sizeof l);
    check(strcmp(l, "/memfd:hide_host (deleted)") == 0, "a memfd's link is /memfd:NAME (deleted)");
    struct stat st;
    check(fstat(fd, &st) == 0 && major(st.st_dev) == 0 && fdinfo_ino(fd) == (long long)st.st_ino,
          "a memfd: anonymous device, fdinfo's ino: is st_ino");
    close(fd);

    /* /dev/shm is a tmpfs natively and in the sandbox. */
    const char *name = "/dev/shm/hide_host.tmp";
    unlink(name);
    fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    struct stat a, b;
    check(fd >= 0 && fstat(fd, &a) == 0 && stat(name, &b) == 0 && a.st_ino == b.st_ino &&
              a.st_dev == b.st_dev && major(a.st_dev) == 0,
          "a /dev/shm file: fstat is stat, on an anonymous device");
    check(fd_link(fd, l, sizeof l) > 0 && strcmp(l, name) == 0, "its link is its path");
    check(fdinfo_ino(fd) == (long long)a.st_ino, "fdinfo's ino: is st_ino");
    unlink(name);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s (deleted)", name);
    check(fd_link(fd, l, sizeof l) > 0 && strcmp(l, want) == 0, "unlinked: PATH (deleted)");
    close(fd);

    /* A file of the cwd (a hostfs bind mount in the sandbox). */
    fd = open("hide_host.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
    snprintf(want, sizeof want, "%s/hide_host.file", cwd);
    check(fd >= 0 && fd_link(fd, l, sizeof l) > 0 && strcmp(l, want) == 0,
          "a file in the cwd: its link is its absolute path");
    unlink("hide_host.file");
    snprintf(want, sizeof want, "%s/hide_host.file (deleted)", cwd);
    check(fd_link(fd, l, sizeof l) > 0 && strcmp(l, want) == 0, "unlinked: PATH (deleted)");
    close(fd);
}

/* The standard streams: compare.sh gives /dev/null as stdin and files in
 * the scratch directory as stdout and stderr. */
static void test_std_streams(void)
{
    char l[PATH_MAX];
    check(fd_link(0, l, sizeof l) > 0 && strcmp(l, "/dev/null") == 0,
          "stdin (/dev/null) links to /dev/null");
    struct stat st;
    check(fstat(0, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
          "fstat(0) is the character device 1:3");

    /* stdout: natively a path that stat()s to the same file; in the
     * sandbox, where the host file has no name the guest could use,
     * host:[N] with N the st_ino fstat gives, on an anonymous device. */
    struct stat o, s;
    fstat(1, &o);
    int ok;
    fd_link(1, l, sizeof l);
    if (sandboxed())
        ok = bracket_num(l, "host") == (long long)o.st_ino && major(o.st_dev) == 0 &&
             fdinfo_ino(1) == (long long)o.st_ino;
    else
        ok = l[0] == '/' && stat(l, &s) == 0 && s.st_ino == o.st_ino && s.st_dev == o.st_dev;
    check(ok, "stdout's link names it (a path natively, host:[st_ino] sandboxed)");
    check(S_ISREG(o.st_mode), "stdout is a regular file");
    /* The sandbox's own name for the file is never shown. */
    int leak = 0;
    for (int fd = 0; fd < 3; fd++)
        leak += fd_link(fd, l, sizeof l) > 0 && strstr(l, "sandbox.out") != NULL;
    check(leak == 0, "no standard stream's link names the sandbox's output file");

    /* Reopening through the link reaches the same file. */
    int fd = open("/proc/self/fd/1", O_WRONLY | O_APPEND);
    struct stat r;
    check(fd >= 0 && fstat(fd, &r) == 0 && r.st_ino == o.st_ino && r.st_dev == o.st_dev,
          "opening /proc/self/fd/1 gives the same st_dev and st_ino");
    close(fd);
    check(stat("/proc/self/fd/1", &r) == 0 && r.st_ino == o.st_ino && r.st_dev == o.st_dev,
          "and so does stat through the link");
}

/* ---- status ---- */

static unsigned long long status_hex(const char *key)
{
    char line[256], want[64];
    snprintf(want, sizeof want, "%s:\t", key);
    unsigned long long v = ~0ULL;
    if (find_line(want, line, sizeof line))
        sscanf(line + strlen(want), "%llx", &v);
    return v;
}

static long status_num(const char *key)
{
    char line[256], want[64];
    snprintf(want, sizeof want, "%s:\t", key);
    long v = -1;
    if (find_line(want, line, sizeof line))
        sscanf(line + strlen(want), "%ld", &v);
    return v;
}

static void test_status(void)
{
    check(slurp("/proc/self/status") > 0, "read status");
    unsigned long long inh = status_hex("CapInh"), prm = status_hex("CapPrm"),
                       eff = status_hex("CapEff"), bnd = status_hex("CapBnd"),
                       amb = status_hex("CapAmb");
    check(inh != ~0ULL && prm != ~0ULL && eff != ~0ULL && bnd != ~0ULL && amb != ~0ULL,
          "status has CapInh, CapPrm, CapEff, CapBnd, CapAmb");
    check((eff & ~prm) == 0 && (amb & ~prm) == 0 && (prm & ~(bnd | inh)) == 0,
          "CapEff and CapAmb within CapPrm, CapPrm within CapBnd|CapInh");
    long euid = sc(SYS_geteuid);
    check(euid == 0 ? eff == prm : eff == amb, "CapEff is CapPrm for euid 0, CapAmb otherwise");

    /* What the sets say is what the process may do: CAP_DAC_OVERRIDE
     * (bit 1) opens a file of mode 0 for reading, CAP_CHOWN (bit 0)
     * gives a file away, CAP_FOWNER (bit 3) chmods another's file. */
    unlink("hide_host.cap");
    int fd = open("hide_host.cap", O_WRONLY | O_CREAT | O_EXCL, 0000);
    close(fd);
    long r = sc(SYS_open, "hide_host.cap", O_RDONLY);
    if (r >= 0)
        close((int)r);
    check((r >= 0) == !!(eff & 2), "opening a mode-0 file works exactly with CAP_DAC_OVERRIDE");
    r = sc(SYS_chown, "hide_host.cap", 4321, -1);
    int given = r == 0;
    check(given == !!(eff & 1), "chown to another user works exactly with CAP_CHOWN");
    r = given ? sc(SYS_chmod, "hide_host.cap", 0600) : 0;
    check(!given || (r == 0) == !!(eff & 8),
          "chmod of another user's file works exactly with CAP_FOWNER");
    unlink("hide_host.cap");

    /* NoNewPrivs agrees with prctl, before and after setting it. */
    slurp("/proc/self/status");
    check(status_num("NoNewPrivs") == sc(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
          "NoNewPrivs: is what prctl(PR_GET_NO_NEW_PRIVS) says");
    check(sc(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
    slurp("/proc/self/status");
    check(status_num("NoNewPrivs") == 1 && sc(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1,
          "NoNewPrivs: 1 after setting it");
    long seccomp = status_num("Seccomp");
    check(sandboxed() ? seccomp == 0 : seccomp >= 0 && seccomp <= 2,
          "Seccomp: 0 in the sandbox (the guest installed no filter)");
    char line[128];
    check(!sandboxed() || !find_line("Seccomp_filters:", line, sizeof line) ||
              strcmp(line, "Seccomp_filters:\t0") == 0,
          "Seccomp_filters: 0 in the sandbox");
}

int main(void)
{
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    test_mountinfo();
    test_pipe();
    test_memfd_tmpfs();
    test_std_streams();
    test_status();
    return finish();
}
