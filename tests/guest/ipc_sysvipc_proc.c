/* ipc_sysvipc_proc.c: /proc/sysvipc/{shm,sem,msg}: the directory and its
 * listing, the exact header lines, one line per object in Linux's field
 * widths (each line this test finds is printed again with the kernel's
 * format and must come out the same), the fields of this test's own
 * objects (the host has others: lines are found by id) as relations that
 * hold on any machine (cpid is this process, times are 0 or recent), a
 * removed object's line gone (a segment removed while attached shows
 * SHM_DEST and key 0 until its last detach), a reader without rights,
 * and writes refused as Linux refuses them. */
#include "ipc_util.h"

#include <dirent.h>
#include <sys/stat.h>

#define SHM_HEADER                                                                                  \
    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid " \
    "     atime      dtime      ctime                   rss                  swap\n"
#define SEM_HEADER                                                                                 \
    "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
#define MSG_HEADER                                                                                 \
    "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      " \
    "stime      rtime      ctime\n"

#define SHM_FMT                                                                                    \
    "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n"
#define SEM_FMT "%10d %10d  %4o %10u %5u %5u %5u %5u %10llu %10llu\n"
#define MSG_FMT "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n"

#define SHM_DEST_ 01000

static char text[1 << 16];

/* The file's whole text (read in small pieces, as a seq file is) in text;
 * its length or -errno. */
static long slurp(const char *path)
{
    long fd = sc(SYS_open, path, O_RDONLY);
    if (fd < 0)
        return fd;
    long n = 0, r;
    while ((r = sc(SYS_read, fd, text + n, n + 100 < (long)sizeof(text) - 1 ? 100 : 0)) > 0)
        n += r;
    sc(SYS_close, fd);
    text[n] = 0;
    return r < 0 ? r : n;
}

/* The line of path whose second field is id, copied to line, or 0. */
static int find_line(const char *path, int id, char *line, size_t size)
{
    if (slurp(path) < 0)
        return 0;
    for (char *s = text; *s;) {
        char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) + 1 : strlen(s);
        int key, lid;
        if (sscanf(s, "%d %d", &key, &lid) == 2 && lid == id && len < size) {
            memcpy(line, s, len);
            line[len] = 0;
            return 1;
        }
        s += len;
    }
    return 0;
}

static const char *when(unsigned long long t)
{
    if (t == 0)
        return "0";
    long long d = (long long)time(NULL) - (long long)t;
    return d >= 0 && d < 120 ? "recent" : "wrong";
}

static const char *who(unsigned pid)
{
    return pid == 0 ? "0" : pid == (unsigned)getpid() ? "self" : "other";
}

static const char *ids(unsigned uid, unsigned gid, unsigned cuid, unsigned cgid)
{
    return uid == geteuid() && cuid == geteuid() && gid == getegid() && cgid == getegid()
               ? "owner and creator this process's"
               : "other ids";
}

struct shm_line {
    int key, id;
    unsigned mode, cpid, lpid, uid, gid, cuid, cgid;
    unsigned long size, nattch, rss, swap;
    unsigned long long atime, dtime, ctime;
};

/* The line of segment id parsed and printed again (0: none, -1: not in
 * the kernel's format). */
static int shm_parse(int id, struct shm_line *l)
{
    char line[512], again[512];
    if (!find_line("/proc/sysvipc/shm", id, line, sizeof(line)))
        return 0;
    if (sscanf(line, "%d %d %o %lu %u %u %lu %u %u %u %u %llu %llu %llu %lu %lu", &l->key, &l->id,
               &l->mode, &l->size, &l->cpid, &l->lpid, &l->nattch, &l->uid, &l->gid, &l->cuid,
               &l->cgid, &l->atime, &l->dtime, &l->ctime, &l->rss, &l->swap) != 16)
        return -1;
    snprintf(again, sizeof(again), SHM_FMT, l->key, l->id, l->mode, l->size, l->cpid, l->lpid,
             l->nattch, l->uid, l->gid, l->cuid, l->cgid, l->atime, l->dtime, l->ctime, l->rss,
             l->swap);
    return strcmp(line, again) == 0 ? 1 : -1;
}

static void show_shm(const char *what, int id, int32_t key)
{
    struct shm_line l;
    int r = shm_parse(id, &l);
    if (r <= 0) {
        check(0, "shm %s: line %s", what, r ? "not in the kernel's format" : "missing");
        return;
    }
    check(1,
          "shm %s: key %s, perms %o, size %lu, cpid %s, lpid %s, nattch %lu, %s, atime %s, "
          "dtime %s, ctime %s, rss %lu pages, swap %lu",
          what, l.key == key ? "ours" : "other", l.mode, l.size, who(l.cpid), who(l.lpid), l.nattch,
          ids(l.uid, l.gid, l.cuid, l.cgid), when(l.atime), when(l.dtime), when(l.ctime),
          l.rss / 4096, l.swap);
}

static void show_sem(const char *what, int id, int32_t key)
{
    char line[512], again[512];
    int k, i;
    unsigned mode, nsems, uid, gid, cuid, cgid;
    unsigned long long otime, ctime;
    if (!find_line("/proc/sysvipc/sem", id, line, sizeof(line)) ||
        sscanf(line, "%d %d %o %u %u %u %u %u %llu %llu", &k, &i, &mode, &nsems, &uid, &gid, &cuid,
               &cgid, &otime, &ctime) != 10) {
        check(0, "sem %s: line missing", what);
        return;
    }
    snprintf(again, sizeof(again), SEM_FMT, k, i, mode, nsems, uid, gid, cuid, cgid, otime, ctime);
    check(strcmp(line, again) == 0, "sem %s: key %s, perms %o, nsems %u, %s, otime %s, ctime %s",
          what, k == key ? "ours" : "other", mode, nsems, ids(uid, gid, cuid, cgid), when(otime),
          when(ctime));
}

static void show_msg(const char *what, int id, int32_t key)
{
    char line[512], again[512];
    int k, i;
    unsigned mode, lspid, lrpid, uid, gid, cuid, cgid;
    unsigned long cbytes, qnum;
    unsigned long long stime, rtime, ctime;
    if (!find_line("/proc/sysvipc/msg", id, line, sizeof(line)) ||
        sscanf(line, "%d %d %o %lu %lu %u %u %u %u %u %u %llu %llu %llu", &k, &i, &mode, &cbytes,
               &qnum, &lspid, &lrpid, &uid, &gid, &cuid, &cgid, &stime, &rtime, &ctime) != 14) {
        check(0, "msg %s: line missing", what);
        return;
    }
    snprintf(again, sizeof(again), MSG_FMT, k, i, mode, cbytes, qnum, lspid, lrpid, uid, gid, cuid,
             cgid, stime, rtime, ctime);
    check(strcmp(line, again) == 0,
          "msg %s: key %s, perms %o, cbytes %lu, qnum %lu, lspid %s, lrpid %s, %s, stime %s, "
          "rtime %s, ctime %s",
          what, k == key ? "ours" : "other", mode, cbytes, qnum, who(lspid), who(lrpid),
          ids(uid, gid, cuid, cgid), when(stime), when(rtime), when(ctime));
}

static void gone(const char *path, int id, const char *what)
{
    char line[512];
    check(!find_line(path, id, line, sizeof(line)), "%s: no line after IPC_RMID", what);
}

static void test_dir(void)
{
    struct stat st;
    check(stat("/proc/sysvipc", &st) == 0 && st.st_mode == (S_IFDIR | 0555),
          "/proc/sysvipc is a directory, mode dr-xr-xr-x");
    DIR *d = opendir("/proc/sysvipc");
    char names[64] = "";
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && strlen(names) + strlen(e->d_name) + 2 < sizeof(names)) {
            strcat(names, " ");
            strcat(names, e->d_name);
        }
    if (d)
        closedir(d);
    check(strcmp(names, " msg sem shm") == 0, "/proc/sysvipc lists:%s", names);
    static const char *const files[] = { "/proc/sysvipc/shm", "/proc/sysvipc/sem",
                                         "/proc/sysvipc/msg" };
    static const char *const headers[] = { SHM_HEADER, SEM_HEADER, MSG_HEADER };
    for (int i = 0; i < 3; i++) {
        check(stat(files[i], &st) == 0 && st.st_mode == (S_IFREG | 0444) && st.st_size == 0,
              "%s: a regular file, mode 0444, size 0", files[i]);
        long n = slurp(files[i]);
        size_t hl = strlen(headers[i]);
        check(n >= (long)hl && memcmp(text, headers[i], hl) == 0, "%s: Linux's header line",
              files[i]);
    }
}

/* Writes: as root the file opens for writing (DAC overridden) and a write
 * is EIO (pde_write); without rights the open is EACCES. */
static void test_write(void)
{
    long fd = sc(SYS_open, "/proc/sysvipc/shm", O_WRONLY);
    if (geteuid() == 0) {
        long w = fd >= 0 ? sc(SYS_write, fd, "x", 1) : fd;
        check(fd >= 0 && w == -EIO, "open for writing: as Linux (root: write %s)",
              w == -EIO ? "EIO" : ret_name(w));
        sc(SYS_close, fd);
    } else {
        check(fd == -EACCES, "open for writing: as Linux (root: write EIO)");
    }
    fd = sc(SYS_open, "/proc/sysvipc/sem", O_RDONLY);
    check_err(sc(SYS_lseek, fd, 0, SEEK_END), EINVAL, "lseek(SEEK_END) of a seq file");
    check_ret(sc(SYS_lseek, fd, 7, SEEK_SET), 7, "lseek(7, SEEK_SET)");
    char buf[8] = "";
    sc(SYS_read, fd, buf, 3);
    check(memcmp(buf, "key", 3) == 0, "a read from offset 7: \"%.3s\"", buf);
    sc(SYS_close, fd);
    pid_t pid = fork_checked();
    if (pid == 0) {
        drop_to_nobody();
        check_err(sc(SYS_open, "/proc/sysvipc/msg", O_WRONLY), EACCES, "nobody opens for writing");
        check_err(sc(SYS_open, "/proc/sysvipc/sem", O_RDWR), EACCES, "nobody opens O_RDWR");
        child_done();
    }
    check_wait(pid, "exited 0", "nobody's child");
}

static void test_shm(void)
{
    long a = sc(SYS_shmget, IPC_PRIVATE, 10000, K_IPC_CREAT | 0640);
    int32_t key = ipc_key(1);
    long b = sc(SYS_shmget, key, 3 * 4096, K_IPC_CREAT | K_IPC_EXCL | 0600);
    check(a >= 0 && b >= 0, "two segments made");
    show_shm("keyed, not attached", (int)b, key);
    show_shm("private, not attached", (int)a, IPC_PRIVATE);
    char *p1 = (char *)sc(SYS_shmat, a, 0, 0);
    char *p2 = (char *)sc(SYS_shmat, a, 0, 0);
    check((long)p1 > 0 && (long)p2 > 0, "attached twice");
    p1[0] = 1;
    show_shm("private, attached twice, one page written", (int)a, IPC_PRIVATE);
    pid_t pid = fork_checked();
    if (pid == 0) {
        /* A reader without any right on the segments sees them all. */
        drop_to_nobody();
        struct shm_line l;
        check(shm_parse((int)b, &l) == 1 && l.mode == 0600 && l.nattch == 0,
              "nobody reads the line of a segment of mode 600");
        check(shm_parse((int)a, &l) == 1 && l.nattch == 4, "the child sees nattch 4 (fork)");
        child_done();
    }
    check_wait(pid, "exited 0", "nobody's child");
    check_ret(sc(SYS_shmdt, p2), 0, "shmdt of one");
    show_shm("private, one detached", (int)a, IPC_PRIVATE);
    check_ret(sc(SYS_shmctl, a, K_IPC_RMID, 0), 0, "IPC_RMID of the attached one");
    struct shm_line l = { 0 };
    int found = shm_parse((int)a, &l);
    check(found == 1 && l.mode == (SHM_DEST_ | 0640) && l.key == 0 && l.nattch == 1,
          "removed while attached: perms %o, key %d, nattch %lu", l.mode, l.key, l.nattch);
    check_ret(sc(SYS_shmdt, p1), 0, "its last detach");
    gone("/proc/sysvipc/shm", (int)a, "shm private");
    check_ret(sc(SYS_shmctl, b, K_IPC_RMID, 0), 0, "IPC_RMID of the keyed one");
    gone("/proc/sysvipc/shm", (int)b, "shm keyed");
}

static void test_sem(void)
{
    int32_t key = ipc_key(2);
    long a = sc(SYS_semget, key, 3, K_IPC_CREAT | K_IPC_EXCL | 0660);
    long b = sc(SYS_semget, IPC_PRIVATE, 1, K_IPC_CREAT | 0400);
    check(a >= 0 && b >= 0, "two semaphore sets made");
    show_sem("keyed, never operated on", (int)a, key);
    struct {
        uint16_t num;
        int16_t op, flg;
    } op = { 1, 2, 0 };
    check_ret(sc(SYS_semop, a, &op, 1), 0, "semop on the keyed set");
    show_sem("keyed, after semop", (int)a, key);
    show_sem("private", (int)b, IPC_PRIVATE);
    check_ret(sc(SYS_semctl, a, 0, K_IPC_RMID, 0), 0, "IPC_RMID of the keyed set");
    gone("/proc/sysvipc/sem", (int)a, "sem keyed");
    check_ret(sc(SYS_semctl, b, 0, K_IPC_RMID, 0), 0, "IPC_RMID of the private set");
    gone("/proc/sysvipc/sem", (int)b, "sem private");
}

static void test_msg(void)
{
    int32_t key = ipc_key(3);
    long q = sc(SYS_msgget, key, K_IPC_CREAT | K_IPC_EXCL | 0620);
    check(q >= 0, "a message queue made");
    show_msg("empty", (int)q, key);
    struct {
        long type;
        char text[32];
    } m = { 1, "0123456789abcdefghijklmnopqrstu" };
    check_ret(sc(SYS_msgsnd, q, &m, 10, 0), 0, "msgsnd of 10 bytes");
    check_ret(sc(SYS_msgsnd, q, &m, 25, 0), 0, "msgsnd of 25 bytes");
    check_ret(sc(SYS_msgsnd, q, &m, 3, 0), 0, "msgsnd of 3 bytes");
    show_msg("three messages", (int)q, key);
    check_ret(sc(SYS_msgrcv, q, &m, sizeof(m.text), 0, 0), 10, "msgrcv of the first");
    show_msg("one received", (int)q, key);
    check_ret(sc(SYS_msgctl, q, K_IPC_RMID, 0), 0, "IPC_RMID of the queue");
    gone("/proc/sysvipc/msg", (int)q, "msg");
}

int main(void)
{
    test_dir();
    test_write();
    test_shm();
    test_sem();
    test_msg();
    return finish();
}
