/* misc.c: the informational syscalls (uname, getrandom, prlimit64,
 * sched_getaffinity, clocks, fstat, ioctl, arch_prctl, readlink,
 * set_tid_address) behaving and agreeing as on Linux. */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void test_uname(void)
{
    struct utsname u;
    check_ret(sc(SYS_uname, &u), 0, "uname");
    out("sysname=%s machine=%s\n", u.sysname, u.machine);
    check(strcmp(u.sysname, "Linux") == 0, "sysname is Linux");
    check(strcmp(u.machine, "x86_64") == 0, "machine is x86_64");
    check(u.release[0] >= '1' && u.release[0] <= '9', "release non-empty");
    check(u.version[0] != 0 && u.nodename[0] != 0, "version and nodename non-empty");
}

static void test_getrandom(void)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    check_ret(sc(SYS_getrandom, a, sizeof a, 0), 64, "getrandom 64 bytes");
    check_ret(sc(SYS_getrandom, b, sizeof b, 1), 64, "getrandom GRND_NONBLOCK");
    check(memcmp(a, b, sizeof a) != 0, "two draws differ");
    check_ret(sc(SYS_getrandom, b, 16, 2), 16, "getrandom GRND_RANDOM");
    check_ret(sc(SYS_getrandom, b, 16, 3), 16, "getrandom GRND_RANDOM|GRND_NONBLOCK");
    check_ret(sc(SYS_getrandom, b, 16, 4), 16, "getrandom GRND_INSECURE");
    static unsigned char big[1 << 16];
    check_ret(sc(SYS_getrandom, big, sizeof big, 0), sizeof big, "getrandom 64 KiB");
}

struct rlim {
    unsigned long cur, max;
};

static void show_limit(const char *name, const struct rlim *r)
{
    char c[24], m[24];
    snprintf(c, sizeof c, r->cur == ~0UL ? "unlimited" : "%lu", r->cur);
    snprintf(m, sizeof m, r->max == ~0UL ? "unlimited" : "%lu", r->max);
    out("%s soft=%s hard=%s\n", name, c, m);
}

static void test_prlimit(void)
{
    struct rlim nofile, stack, r;
    check_ret(sc(SYS_prlimit64, 0, 7, NULL, &nofile), 0, "prlimit64 get RLIMIT_NOFILE");
    check_ret(sc(SYS_prlimit64, 0, 3, NULL, &stack), 0, "prlimit64 get RLIMIT_STACK");
    show_limit("RLIMIT_NOFILE", &nofile);
    show_limit("RLIMIT_STACK", &stack);
    check(nofile.cur <= nofile.max && stack.cur <= stack.max, "soft limits within hard");
    check_ret(sc(SYS_prlimit64, sc(SYS_getpid), 7, NULL, &r), 0, "prlimit64 on own pid");
    check(r.cur == nofile.cur && r.max == nofile.max, "own pid agrees");

    struct rlim lower = { nofile.cur / 2, nofile.max };
    check_ret(sc(SYS_prlimit64, 0, 7, &lower, &r), 0, "prlimit64 lower soft RLIMIT_NOFILE");
    check(r.cur == nofile.cur && r.max == nofile.max, "set returns the old limit");
    check_ret(sc(SYS_prlimit64, 0, 7, NULL, &r), 0, "read it back");
    check(r.cur == nofile.cur / 2 && r.max == nofile.max, "lowered soft limit read back");
    check_ret(sc(SYS_prlimit64, 0, 7, &nofile, NULL), 0, "restore it");
    check_ret(sc(SYS_prlimit64, 0, 7, NULL, &r), 0, "read restored");
    check(r.cur == nofile.cur, "restored limit read back");
}

static void test_affinity(void)
{
    unsigned long mask[16];
    memset(mask, 0, sizeof mask);
    long n = sc(SYS_sched_getaffinity, 0, sizeof mask, mask);
    check(n > 0 && n <= (long)sizeof mask && n % 8 == 0, "sched_getaffinity returns the mask size");
    int cpus = 0;
    for (size_t i = 0; i < sizeof mask / sizeof mask[0]; i++)
        cpus += __builtin_popcountl(mask[i]);
    out("cpus=%d\n", cpus);
    check(cpus > 0, "at least one CPU");
    unsigned long m2[16];
    memset(m2, 0, sizeof m2);
    check(sc(SYS_sched_getaffinity, sc(SYS_getpid), sizeof m2, m2) == n &&
              memcmp(mask, m2, sizeof mask) == 0,
          "own pid gives the same mask");
}

static void test_clocks(void)
{
    static const struct named_clock clocks[] = {
        NAMED_CLOCK(REALTIME),         NAMED_CLOCK(MONOTONIC), NAMED_CLOCK(REALTIME_COARSE),
        NAMED_CLOCK(MONOTONIC_COARSE), NAMED_CLOCK(BOOTTIME),
    };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec r = { -1, -1 };
        long rc = sc(SYS_clock_getres, clocks[i].id, &r);
        check(rc == 0 && r.tv_sec == 0 && r.tv_nsec > 0, "clock_getres %s", clocks[i].name);
        out("res %s %ld.%09ld\n", clocks[i].name, (long)r.tv_sec, r.tv_nsec);
        struct timespec t = { -1, -1 };
        check(sc(SYS_clock_gettime, clocks[i].id, &t) == 0 && t.tv_sec >= 0 && t.tv_nsec >= 0 &&
                  t.tv_nsec < 1000000000,
              "clock_gettime %s", clocks[i].name);
    }

    /* Raw syscalls and the vDSO must share one monotonic timeline. */
    struct timespec prev = { 0, 0 }, t;
    int mono = 1;
    for (int i = 0; i < 1000; i++) {
        if (i % 2)
            sc(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
        else
            clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec < prev.tv_sec || (t.tv_sec == prev.tv_sec && t.tv_nsec < prev.tv_nsec))
            mono = 0;
        prev = t;
    }
    check(mono, "CLOCK_MONOTONIC non-decreasing over 1000 calls");

    struct timespec m, b;
    sc(SYS_clock_gettime, CLOCK_MONOTONIC, &m);
    sc(SYS_clock_gettime, CLOCK_BOOTTIME, &b);
    check(b.tv_sec >= m.tv_sec, "BOOTTIME not behind MONOTONIC");

    /* time() is tick-granular, so allow it to lag by a second. */
    long t1 = sc(SYS_time, NULL);
    struct timeval tv;
    sc(SYS_gettimeofday, &tv, NULL);
    long t2 = sc(SYS_time, NULL);
    check(t1 <= tv.tv_sec + 1 && tv.tv_sec <= t2 + 1, "gettimeofday agrees with time");
    check(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec in range");
    long t3;
    check(sc(SYS_time, &t3) == t3 && t3 >= t2, "time stores its result");
    struct timespec rt;
    sc(SYS_clock_gettime, CLOCK_REALTIME, &rt);
    check(rt.tv_sec >= tv.tv_sec && rt.tv_sec <= tv.tv_sec + 1,
          "CLOCK_REALTIME agrees with gettimeofday");
    check(rt.tv_sec > 1600000000, "realtime is after 2020");
    struct timeval lt;
    check(gettimeofday(&lt, NULL) == 0 && lt.tv_sec >= tv.tv_sec, "libc gettimeofday agrees");
}

static char type_letter(mode_t m)
{
    return S_ISREG(m)    ? '-'
           : S_ISCHR(m)  ? 'c'
           : S_ISDIR(m)  ? 'd'
           : S_ISFIFO(m) ? 'p'
           : S_ISSOCK(m) ? 's'
           : S_ISBLK(m)  ? 'b'
           : S_ISLNK(m)  ? 'l'
                         : '?';
}

static void test_fstat(void)
{
    char types[4] = "???";
    for (int fd = 0; fd < 3; fd++) {
        struct stat a, b;
        memset(&a, 0x5a, sizeof a);
        memset(&b, 0xa5, sizeof b);
        long ra = sc(SYS_fstat, fd, &a);
        long rb = sc(SYS_newfstatat, fd, "", &b, AT_EMPTY_PATH);
        check(ra == 0 && rb == 0, "fstat and newfstatat of fd %d", fd);
        check(a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_mode == b.st_mode &&
                  a.st_size == b.st_size,
              "fstat and newfstatat agree on fd %d", fd);
        types[fd] = type_letter(a.st_mode);
    }
    out("types fd0=%c fd1=%c fd2=%c\n", types[0], types[1], types[2]);

    struct stat s0, s1, s2;
    sc(SYS_fstat, 0, &s0);
    sc(SYS_fstat, 2, &s2);
    unsigned long written = g_out_bytes;
    sc(SYS_fstat, 1, &s1);
    if (S_ISCHR(s0.st_mode))
        check(s0.st_rdev == makedev(1, 3), "stdin is /dev/null (1:3)");
    if (S_ISREG(s1.st_mode)) {
        check((unsigned long)s1.st_size == written, "stdout size is what was written");
        check(s1.st_nlink >= 1 && s1.st_blksize > 0, "stdout nlink/blksize");
        check(s1.st_ino != s2.st_ino || s1.st_dev != s2.st_dev,
              "stdout and stderr are different files");
    }
}

static void test_ioctl(void)
{
    struct winsize ws;
    check_err(sc(SYS_ioctl, 1, TIOCGWINSZ, &ws), ENOTTY, "TIOCGWINSZ on stdout file");
    check_err(sc(SYS_ioctl, 2, TIOCGWINSZ, &ws), ENOTTY, "TIOCGWINSZ on stderr file");
    check_err(sc(SYS_ioctl, 0, TIOCGWINSZ, &ws), ENOTTY, "TIOCGWINSZ on /dev/null");
    check(isatty(1) == 0, "libc isatty(1) is false");
}

static void test_arch_prctl(void)
{
    unsigned long fs = 0, self, got = 0, seen = 0;
    check_ret(sc(SYS_arch_prctl, ARCH_GET_FS, &fs), 0, "ARCH_GET_FS");
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    check(fs != 0 && self == fs, "FS base points at the TCB self pointer");

    /* No libc between the switch and the restore: TLS is unusable. */
    static unsigned long alt[8] = { 0x5eed5eed };
    long r1 = sc(SYS_arch_prctl, ARCH_SET_FS, alt);
    long r2 = sc(SYS_arch_prctl, ARCH_GET_FS, &got);
    __asm__ volatile("mov %%fs:0, %0" : "=r"(seen));
    long r3 = sc(SYS_arch_prctl, ARCH_SET_FS, fs);
    check(r1 == 0 && r2 == 0 && r3 == 0, "ARCH_SET_FS round trip calls");
    check(got == (unsigned long)alt, "ARCH_GET_FS returns the new base");
    check(seen == 0x5eed5eed, "FS base really moved");
    sc(SYS_arch_prctl, ARCH_GET_FS, &got);
    check(got == fs, "original FS restored");

    static unsigned long gsword = 0x6a6a;
    unsigned long gs = 1, gseen = 0;
    check_ret(sc(SYS_arch_prctl, ARCH_SET_GS, &gsword), 0, "ARCH_SET_GS");
    check_ret(sc(SYS_arch_prctl, ARCH_GET_GS, &gs), 0, "ARCH_GET_GS");
    __asm__ volatile("mov %%gs:0, %0" : "=r"(gseen));
    check(gs == (unsigned long)&gsword && gseen == 0x6a6a, "GS base set and used");
    sc(SYS_arch_prctl, ARCH_SET_GS, 0);
}

static void test_readlink(void)
{
    char buf[4096];
    long n = sc(SYS_readlink, "/proc/self/exe", buf, sizeof buf - 1);
    check(n > 0 && buf[0] == '/', "readlink /proc/self/exe");
    if (n > 0) {
        buf[n] = 0;
        out("exe=%s\n", buf);
        char small[4];
        check_ret(sc(SYS_readlink, "/proc/self/exe", small, 4), 4,
                  "readlink truncates to the buffer");
        check(memcmp(small, buf, 4) == 0, "truncated text is a prefix");
    }
}

static void test_tid_address(void)
{
    static int ctid;
    long tid = sc(SYS_gettid);
    check(sc(SYS_set_tid_address, &ctid) == tid, "set_tid_address returns the tid");
    check(tid == (sandboxed() ? 1 : tid), "tid as expected");
}

int main(void)
{
    test_uname();
    test_getrandom();
    test_prlimit();
    test_affinity();
    test_clocks();
    test_fstat();
    test_ioctl();
    test_arch_prctl();
    test_readlink();
    test_tid_address();
    return finish();
}
