/* sysinfo.c: sysinfo(2) agrees with /proc/uptime, /proc/meminfo and
 * /proc/loadavg read in the same run (the sandbox answers both from its own
 * figures, natively both are the kernel's), and faults as Linux. */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

/* The kernel's struct sysinfo on x86-64 (112 bytes). */
struct ksysinfo {
    long uptime;
    unsigned long loads[3];
    unsigned long totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    unsigned short procs, pad;
    unsigned long totalhigh, freehigh;
    unsigned int mem_unit;
    /* char f[20 - 2 * sizeof(long) - sizeof(int)]: none on 64-bit. */
};

static char *slurp_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    buf[0] = 0;
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* The kB value of a /proc/meminfo line, or -1. */
static long long meminfo_kb(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, kl) == 0 && l[kl] == ':')
            return strtoll(l + kl + 1, NULL, 10);
    return -1;
}

static long long kb(unsigned long v, unsigned unit)
{
    return (long long)((unsigned long long)v * unit / 1024);
}

/* |a - b| within tol, and both known. */
static int near(long long a, long long b, long long tol)
{
    return a >= 0 && b >= 0 && (a > b ? a - b : b - a) <= tol;
}

int main(void)
{
    struct ksysinfo si;
    char up[256], mem[8192], load[256];
    memset(&si, 0xa5, sizeof si);
    slurp_file("/proc/uptime", up, sizeof up);
    long r = sc(SYS_sysinfo, &si);
    slurp_file("/proc/meminfo", mem, sizeof mem);
    slurp_file("/proc/loadavg", load, sizeof load);
    check_ret(r, 0, "sysinfo");
    check(sizeof si == 112, "struct sysinfo is 112 bytes");

    /* uptime: whole seconds, rounded up (do_sysinfo), of the clock that
     * /proc/uptime shows with two decimals. */
    double pu = strtod(up, NULL);
    check(pu > 0 && si.uptime >= (long)pu && si.uptime <= (long)pu + 2,
          "uptime agrees with /proc/uptime");

    unsigned unit = si.mem_unit;
    check(unit >= 1 && (unit & (unit - 1)) == 0, "mem_unit is a power of two");
    /* Totals are fixed; free memory moves, so within 64 MiB. */
    check(kb(si.totalram, unit) == meminfo_kb(mem, "MemTotal"), "totalram is MemTotal");
    check(kb(si.totalswap, unit) == meminfo_kb(mem, "SwapTotal"), "totalswap is SwapTotal");
    check(near(kb(si.freeram, unit), meminfo_kb(mem, "MemFree"), 65536), "freeram is MemFree");
    check(near(kb(si.freeswap, unit), meminfo_kb(mem, "SwapFree"), 65536), "freeswap is SwapFree");
    check(near(kb(si.bufferram, unit), meminfo_kb(mem, "Buffers"), 65536), "bufferram is Buffers");
    check(near(kb(si.sharedram, unit), meminfo_kb(mem, "Shmem"), 65536), "sharedram is Shmem");
    check(si.freeram <= si.totalram && si.freeswap <= si.totalswap, "free is at most total");
    check(si.totalhigh == 0 && si.freehigh == 0, "no high memory on x86-64");
    check(si.pad == 0, "padding is zeroed");

    /* Loads: SI_LOAD_SHIFT (16) fixed point; /proc/loadavg rounds the
     * same averages to two decimals, and they move every 5 s. */
    double la[3] = { 0, 0, 0 };
    char *p = load;
    for (int i = 0; i < 3; i++)
        la[i] = strtod(p, &p);
    int loads_ok = 1;
    for (int i = 0; i < 3; i++) {
        double v = si.loads[i] / 65536.0;
        loads_ok &= v >= 0 && v - la[i] < 0.5 && la[i] - v < 0.5;
    }
    check(loads_ok, "loads agree with /proc/loadavg");
    /* procs counts threads: in the sandbox the guest's one. */
    if (sandboxed())
        check(si.procs == 1, "procs is the number of threads");
    else
        check(si.procs >= 1, "procs is the number of threads");

    check_err(sc(SYS_sysinfo, BADPTR), EFAULT, "sysinfo(bad pointer)");
    check_err(sc(SYS_sysinfo, KPTR), EFAULT, "sysinfo(kernel pointer)");
    check_err(sc(SYS_sysinfo, 0), EFAULT, "sysinfo(NULL)");
    return finish();
}
