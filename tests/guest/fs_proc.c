/* fs_proc.c: procfs as a guest sees it: /proc/self and the per-process
 * files (stat, status, statm, cmdline, environ, comm, maps, fd, fdinfo,
 * exe, cwd, root, mounts), the system-wide files (meminfo, cpuinfo,
 * stat, uptime, loadavg, version, filesystems) and /proc/sys/kernel.
 * Pids differ in the sandbox (pid 1, ppid 0): relations are checked,
 * never numbers. */
#include "fs_util.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int has_line(const char *text)
{
    char line[512];
    return find_line(text, line, sizeof line) && strcmp(line, text) == 0;
}

static long readlink_str(const char *path, char *buf, size_t size)
{
    long n = sc(SYS_readlink, path, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* 8-4-4-4-12 lowercase hex digits and a newline. */
static int is_uuid_line(const char *s, long n)
{
    if (n != 37 || s[36] != '\n')
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static void test_self_links(char **argv)
{
    char buf[PATH_MAX], want[PATH_MAX];
    long pid = sc(SYS_getpid), tid = sc(SYS_gettid);
    struct stat st;
    check(lstat("/proc/self", &st) == 0 && S_ISLNK(st.st_mode), "/proc/self is a symlink");
    snprintf(want, sizeof want, "%ld", pid);
    check(readlink_str("/proc/self", buf, sizeof buf) > 0 && strcmp(buf, want) == 0,
          "readlink /proc/self is the pid");
    snprintf(want, sizeof want, "%ld/task/%ld", pid, tid);
    check(readlink_str("/proc/thread-self", buf, sizeof buf) > 0 && strcmp(buf, want) == 0,
          "readlink /proc/thread-self is PID/task/TID");
    /* A thread's directory has the process's files but no task/ (else
     * the tree would never end for a walker). */
    snprintf(want, sizeof want, "/proc/self/task/%ld/status", tid);
    check(access(want, R_OK) == 0, "/proc/self/task/TID/status exists");
    snprintf(want, sizeof want, "/proc/self/task/%ld/task", tid);
    check_err(sc(SYS_access, want, F_OK), ENOENT, "/proc/self/task/TID/task");
    int found_task = 0, found_status = 0;
    snprintf(want, sizeof want, "/proc/self/task/%ld", tid);
    DIR *dir = opendir(want);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        found_task |= strcmp(e->d_name, "task") == 0;
        found_status |= strcmp(e->d_name, "status") == 0;
    }
    if (dir)
        closedir(dir);
    check(found_status && !found_task, "readdir /proc/self/task/TID: status, no task");
    struct stat a, b;
    snprintf(want, sizeof want, "/proc/%ld", pid);
    check(stat("/proc/self", &a) == 0 && stat(want, &b) == 0 && S_ISDIR(a.st_mode) &&
              a.st_ino == b.st_ino,
          "/proc/self is /proc/PID");

    /* The harness passes an absolute argv[0]; resolve symlinks in it. */
    char exe[PATH_MAX];
    check(realpath(argv[0], exe) != NULL, "realpath argv[0]");
    check(readlink_str("/proc/self/exe", buf, sizeof buf) > 0 && strcmp(buf, exe) == 0,
          "readlink /proc/self/exe is argv[0] made absolute");
    char cwd[PATH_MAX];
    check(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    check(readlink_str("/proc/self/cwd", buf, sizeof buf) > 0 && strcmp(buf, cwd) == 0,
          "readlink /proc/self/cwd is getcwd");
    check(readlink_str("/proc/self/root", buf, sizeof buf) == 1 && strcmp(buf, "/") == 0,
          "readlink /proc/self/root is /");
}

static void test_stat_status(void)
{
    long pid = sc(SYS_getpid), ppid = sc(SYS_getppid);
    long n = slurp("/proc/self/stat");
    check(n > 0 && g_file[n - 1] == '\n', "read /proc/self/stat");
    long f1 = -1, f4 = -2;
    char state = 0;
    char *close_paren = strrchr(g_file, ')');
    check(sscanf(g_file, "%ld ", &f1) == 1 && f1 == pid, "stat field 1 is getpid()");
    check(strncmp(strchr(g_file, ' ') + 1, "(fs_proc) ", 10) == 0 && close_paren &&
              close_paren == strchr(g_file, '(') + 8,
          "stat field 2 is (fs_proc)");
    check(close_paren && sscanf(close_paren + 1, " %c %ld", &state, &f4) == 2 && state == 'R',
          "stat field 3 is R");
    check(f4 == ppid, "stat field 4 is getppid()");
    int fields = 0;
    for (char *p = close_paren; p && *p; p++)
        fields += *p == ' ';
    check(fields == 50, "stat has 52 fields");

    n = slurp("/proc/self/status");
    check(n > 0, "read /proc/self/status");
    char want[128], line[256];
    check(has_line("Name:\tfs_proc"), "status Name: fs_proc");
    snprintf(want, sizeof want, "Pid:\t%ld", pid);
    check(has_line(want), "status Pid: is getpid()");
    snprintf(want, sizeof want, "PPid:\t%ld", ppid);
    check(has_line(want), "status PPid: is getppid()");
    check(has_line("State:\tR (running)"), "status State: R (running)");
    long uid = sc(SYS_getuid), euid = sc(SYS_geteuid);
    long gid = sc(SYS_getgid), egid = sc(SYS_getegid);
    snprintf(want, sizeof want, "Uid:\t%ld\t%ld\t%ld\t%ld", uid, euid, euid, euid);
    check(has_line(want), "status Uid: real, effective, saved, fs");
    snprintf(want, sizeof want, "Gid:\t%ld\t%ld\t%ld\t%ld", gid, egid, egid, egid);
    check(has_line(want), "status Gid: real, effective, saved, fs");
    unsigned long kb = 0;
    check(find_line("VmRSS:", line, sizeof line) && sscanf(line, "VmRSS: %lu kB", &kb) == 1 &&
              kb > 0,
          "status has VmRSS:");
    snprintf(want, sizeof want, "VmRSS:\t%8lu kB", kb);
    check(strcmp(line, want) == 0, "VmRSS: is \"\\t%%8lu kB\"");

    n = slurp("/proc/self/statm");
    unsigned long v[7];
    char tail = 0;
    int got = sscanf(g_file, "%lu %lu %lu %lu %lu %lu %lu%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                     &v[5], &v[6], &tail);
    char rebuilt[256];
    snprintf(rebuilt, sizeof rebuilt, "%lu %lu %lu %lu %lu %lu %lu\n", v[0], v[1], v[2], v[3], v[4],
             v[5], v[6]);
    check(got == 8 && tail == '\n' && strcmp(rebuilt, g_file) == 0, "statm is 7 numbers");
    check(v[0] >= v[1] && v[1] > 0, "statm size >= resident > 0");

    n = slurp("/proc/self/comm");
    check(n == 8 && strcmp(g_file, "fs_proc\n") == 0, "comm is fs_proc\\n");
}

static void test_cmdline_environ(char **argv, char **envp)
{
    static char want[4 * 65536];
    size_t len = 0;
    for (char **a = argv; *a; a++) {
        size_t l = strlen(*a) + 1;
        memcpy(want + len, *a, l);
        len += l;
    }
    long n = slurp("/proc/self/cmdline");
    check(n == (long)len && memcmp(g_file, want, len) == 0, "cmdline is argv, NUL-separated");

    len = 0;
    for (char **e = envp; *e && len < sizeof want - 4096; e++) {
        size_t l = strlen(*e) + 1;
        memcpy(want + len, *e, l);
        len += l;
    }
    n = slurp("/proc/self/environ");
    check(n == (long)len && memcmp(g_file, want, len) == 0,
          "environ is the initial environment, NUL-separated");
    const char *path = getenv("PATH");
    if (path) {
        char var[4096];
        snprintf(var, sizeof var, "PATH=%s", path);
        int found = 0;
        for (long off = 0; off < n; off += strlen(g_file + off) + 1)
            found |= strcmp(g_file + off, var) == 0;
        check(found, "environ has PATH=value");
    } else {
        check(n >= 0, "environ has PATH=value");
    }
}

static void test_maps(void)
{
    /* PROT_NONE guards keep the rw region from merging with neighbours. */
    const long pg = 4096;
    long base = sc(SYS_mmap, 0, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long rw = sc(SYS_mmap, base + pg, 2 * pg, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check(base > 0 && rw == base + pg, "mmap a guarded rw region");
    long n = slurp("/proc/self/maps");
    check(n > 0 && g_file[n - 1] == '\n', "read /proc/self/maps");
    char want[128], line[512];
    snprintf(want, sizeof want, "%08lx-%08lx rw-p 00000000 00:00 0 ", rw, rw + 2 * pg);
    check(has_line(want), "the rw region: range, rw-p, no file");
    snprintf(want, sizeof want, "%08lx-%08lx ---p 00000000 00:00 0 ", base, base + pg);
    check(has_line(want), "the guard below it: ---p");
    snprintf(want, sizeof want, "%08lx-%08lx ---p 00000000 00:00 0 ", rw + 2 * pg, rw + 3 * pg);
    check(has_line(want), "the guard above it: ---p");
    sc(SYS_munmap, base, 4 * pg);

    int stack = 0, exe_lines = 0, exe_x = 0;
    char exe[PATH_MAX];
    readlink_str("/proc/self/exe", exe, sizeof exe);
    size_t elen = strlen(exe);
    for (char *p = g_file; *p;) {
        char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = 0;
            if (len > 8 && strcmp(line + len - 8, " [stack]") == 0)
                stack++;
            if (len > elen && strcmp(line + len - elen, exe) == 0 && line[len - elen - 1] == ' ') {
                exe_lines++;
                /* The text segment: r-xp, file-backed. */
                char perms[5];
                if (sscanf(line, "%*x-%*x %4s", perms) == 1 && strcmp(perms, "r-xp") == 0)
                    exe_x++;
            }
        }
        p += len + (end ? 1 : 0);
    }
    check(stack == 1, "one [stack] line");
    check(exe_lines > 0 && exe_x == 1, "the executable is mapped, with one r-xp segment");
}

static void test_fds(void)
{
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    check(dfd >= 0, "open /proc/self/fd");
    static char buf[8192];
    int seen[4] = { 0 }, other = 0, dot = 0;
    long n;
    while ((n = sc(SYS_getdents64, dfd, buf, sizeof buf)) > 0)
        for (long off = 0; off < n;) {
            const char *name = buf + off + 19;
            char *end;
            long v = strtol(name, &end, 10);
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                dot++;
            else if (*end || end == name)
                other++;
            else if (v >= 0 && v <= 2)
                seen[v]++;
            else if (v == dfd)
                seen[3]++;
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            off += reclen;
        }
    check(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "/proc/self/fd lists 0, 1, 2");
    check(seen[3] == 1, "/proc/self/fd lists its own fd");
    check(dot == 2 && other == 0, "and only numbers besides . and ..");
    close(dfd);

    unlink("fs_proc.file");
    int fd = open("fs_proc.file", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_TRUNC, 0644);
    check_ret(sc(SYS_write, fd, "0123456789", 10), 10, "write 10 bytes");
    check_ret(sc(SYS_lseek, fd, 3, SEEK_SET), 3, "lseek to 3");
    char path[64], want[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    n = slurp(path);
    check(n > 0, "read fdinfo");
    check(has_line("pos:\t3"), "fdinfo pos:\\t3");
    /* O_CREAT and O_TRUNC are gone; O_LARGEFILE is forced on x86-64;
     * O_CLOEXEC shows the fd flag. */
    snprintf(want, sizeof want, "flags:\t0%o", O_RDWR | O_APPEND | O_CLOEXEC | 0100000);
    check(has_line(want), "fdinfo flags:\\t02102002");
    int fd2 = open("fs_proc.file", O_WRONLY);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd2);
    slurp(path);
    check(has_line("pos:\t0") && has_line("flags:\t0100001"),
          "fdinfo of an O_WRONLY fd: pos 0, flags 0100001");
    sc(SYS_lseek, fd2, 7, SEEK_SET);
    slurp(path);
    check(has_line("pos:\t7"), "fdinfo follows lseek");
    close(fd2);
    close(fd);
    unlink("fs_proc.file");
    check_err(sc(SYS_open, "/proc/self/fdinfo/900", O_RDONLY), ENOENT, "fdinfo of a closed fd");
    char lbuf[16];
    check_err(sc(SYS_readlink, "/proc/self/fd/900", lbuf, sizeof lbuf), ENOENT,
              "readlink /proc/self/fd of a closed fd");
}

static int mount_line(const char *text, int info)
{
    char line[1024];
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = 0;
            char dir[256], type[64];
            if (!info && sscanf(line, "%*s %255s %63s", dir, type) == 2 &&
                strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0)
                return 1;
            const char *dash = strstr(line, " - ");
            if (info && dash && sscanf(line, "%*s %*s %*s %*s %255s", dir) == 1 &&
                sscanf(dash + 3, "%63s", type) == 1 && strcmp(dir, "/proc") == 0 &&
                strcmp(type, "proc") == 0)
                return 1;
        }
        p += len + (end ? 1 : 0);
    }
    return 0;
}

static void test_mounts(void)
{
    static char self[sizeof g_file];
    long n = slurp("/proc/self/mounts");
    check(n > 0 && g_file[n - 1] == '\n', "/proc/self/mounts is not empty");
    check(mount_line(g_file, 0), "mounts: /proc is a proc mount");
    memcpy(self, g_file, n + 1);
    long m = slurp("/proc/mounts");
    check(m == n && memcmp(self, g_file, n) == 0, "/proc/mounts equals /proc/self/mounts");
    n = slurp("/proc/self/mountinfo");
    check(n > 0 && g_file[n - 1] == '\n', "/proc/self/mountinfo is not empty");
    check(mount_line(g_file, 1), "mountinfo: /proc is a proc mount");
}

/* "Name:" padded to 16 columns, the value in 8, then " kB". */
static int meminfo_line(int index, const char *name, unsigned long *val)
{
    const char *p = g_file;
    for (int i = 0; i < index && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p || sscanf(p + strlen(name), "%lu", val) != 1 || strncmp(p, name, strlen(name)) != 0)
        return 0;
    char want[64];
    int len = snprintf(want, sizeof want, "%-16s%8lu kB\n", name, *val);
    return strncmp(p, want, len) == 0;
}

static void test_system(void)
{
    struct utsname u;
    sc(SYS_uname, &u);
    char line[512], want[512];

    long n = slurp("/proc/meminfo");
    unsigned long total = 0, free_ = 0, avail = 0;
    check(n > 0 && meminfo_line(0, "MemTotal:", &total) && total > 0, "meminfo line 1: MemTotal:");
    check(meminfo_line(1, "MemFree:", &free_) && free_ <= total, "meminfo line 2: MemFree:");
    check(meminfo_line(2, "MemAvailable:", &avail) && avail <= total,
          "meminfo line 3: MemAvailable:");

    n = slurp("/proc/cpuinfo");
    check(n > 0 && strncmp(g_file, "processor\t: 0\n", 14) == 0,
          "cpuinfo starts with processor\\t: 0");

    n = slurp("/proc/stat");
    check(n > 0 && strncmp(g_file, "cpu  ", 5) == 0 && isdigit((unsigned char)g_file[5]),
          "/proc/stat starts with \"cpu  \"");
    unsigned long btime = 0;
    check(find_line("btime ", line, sizeof line) && sscanf(line, "btime %lu", &btime) == 1 &&
              btime > 1000000000 && btime <= (unsigned long)sc(SYS_time, NULL),
          "/proc/stat has a btime line in the past");

    n = slurp("/proc/uptime");
    unsigned long a, b, c, d;
    int got = sscanf(g_file, "%lu.%lu %lu.%lu", &a, &b, &c, &d);
    snprintf(want, sizeof want, "%lu.%02lu %lu.%02lu\n", a, b, c, d);
    check(got == 4 && strcmp(g_file, want) == 0, "uptime is two numbers with two decimals");

    n = slurp("/proc/loadavg");
    unsigned long l[6];
    long run, threads, last;
    got = sscanf(g_file, "%lu.%lu %lu.%lu %lu.%lu %ld/%ld %ld", &l[0], &l[1], &l[2], &l[3], &l[4],
                 &l[5], &run, &threads, &last);
    snprintf(want, sizeof want, "%lu.%02lu %lu.%02lu %lu.%02lu %ld/%ld %ld\n", l[0], l[1], l[2],
             l[3], l[4], l[5], run, threads, last);
    check(got == 9 && strcmp(g_file, want) == 0 && run >= 1 && threads >= run,
          "loadavg has 5 fields");

    n = slurp("/proc/version");
    snprintf(want, sizeof want, "Linux version %s ", u.release);
    check(n > 0 && strncmp(g_file, want, strlen(want)) == 0 && g_file[n - 1] == '\n',
          "version starts with \"Linux version RELEASE \"");

    n = slurp("/proc/filesystems");
    check(has_line("nodev\tproc"), "filesystems has nodev\\tproc");
    check(has_line("nodev\ttmpfs"), "filesystems has nodev\\ttmpfs");

    n = slurp("/proc/sys/kernel/ostype");
    check(n == 6 && strcmp(g_file, "Linux\n") == 0, "ostype is Linux");
    n = slurp("/proc/sys/kernel/osrelease");
    snprintf(want, sizeof want, "%s\n", u.release);
    check(n > 0 && strcmp(g_file, want) == 0, "osrelease is uname's release");
    n = slurp("/proc/sys/kernel/hostname");
    snprintf(want, sizeof want, "%s\n", u.nodename);
    check(n > 0 && strcmp(g_file, want) == 0, "hostname is uname's nodename");
    n = slurp("/proc/sys/kernel/pid_max");
    long pid_max = 0;
    sscanf(g_file, "%ld", &pid_max);
    snprintf(want, sizeof want, "%ld\n", pid_max);
    check(n > 0 && pid_max > 0 && strcmp(g_file, want) == 0, "pid_max is a number");

    char first[64];
    n = slurp("/proc/sys/kernel/random/boot_id");
    check(is_uuid_line(g_file, n), "boot_id is a UUID");
    memcpy(first, g_file, 38);
    n = slurp("/proc/sys/kernel/random/boot_id");
    check(is_uuid_line(g_file, n) && memcmp(first, g_file, 37) == 0, "boot_id is stable");
    n = slurp("/proc/sys/kernel/random/uuid");
    check(is_uuid_line(g_file, n) && g_file[14] == '4', "uuid is a version 4 UUID");
    memcpy(first, g_file, 38);
    n = slurp("/proc/sys/kernel/random/uuid");
    check(is_uuid_line(g_file, n) && memcmp(first, g_file, 37) != 0, "uuid differs between reads");
}

static void test_write_denied(void)
{
    /* The file is 0444: root's DAC override opens it for writing, and
     * then the write itself fails; others get EACCES at open. */
    long fd = sc(SYS_open, "/proc/self/stat", O_WRONLY);
    long w = fd >= 0 ? sc(SYS_write, fd, "x", 1) : fd;
    if (fd >= 0)
        close((int)fd);
    check(geteuid() == 0 ? (fd >= 0 && w == -EINVAL) : fd == -EACCES,
          "writing /proc/self/stat: EINVAL for root, EACCES at open else");
    check_err(sc(SYS_open, "/proc/self/nonexistent", O_RDONLY), ENOENT,
              "a missing /proc/self entry");
    check_err(sc(SYS_open, "/proc/self/stat", O_RDONLY | O_DIRECTORY), ENOTDIR,
              "/proc/self/stat O_DIRECTORY");
}

int main(int argc, char **argv, char **envp)
{
    (void)argc;
    test_self_links(argv);
    test_stat_status();
    test_cmdline_environ(argv, envp);
    test_maps();
    test_fds();
    test_mounts();
    test_system();
    test_write_denied();
    return finish();
}
