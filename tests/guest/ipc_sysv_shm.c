/* ipc_sysv_shm.c: System V shared memory: shmget's keys, sizes and
 * flags, shmat at an address of the kernel's choice or the caller's
 * (SHM_RND, SHM_REMAP), SHM_RDONLY, shmdt, shmctl's IPC_STAT, IPC_SET,
 * IPC_RMID (the segment lives on until its last detach) and IPC_INFO,
 * shm_nattch across attaches, fork, exec and exit, memory that is
 * really shared between processes, permissions and bad pointers. */
#include "ipc_util.h"

#include <sys/mman.h>

#define SHM_RDONLY_ 010000
#define SHM_RND_ 020000
#define SHM_REMAP_ 040000
#define SHM_DEST_ 01000

struct k_shmid64 {
    struct k_ipc64_perm perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch, unused4, unused5;
};

struct k_shminfo64 {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused[4];
};

static long nattch(int id)
{
    struct k_shmid64 ds;
    long r = sc(SYS_shmctl, id, K_IPC_STAT, &ds);
    return r < 0 ? r : (long)ds.nattch;
}

static char *at(int id, void *addr, int flg)
{
    return (char *)sc(SYS_shmat, id, addr, flg);
}

static int bad(const void *p)
{
    return (unsigned long)p >= (unsigned long)-4095;
}

static void test_get(void)
{
    int32_t key = ipc_key(3);
    check_err(sc(SYS_shmget, key, 0, K_IPC_CREAT | 0600), EINVAL, "shmget of 0 bytes");
    long id = check_sized_get(SYS_shmget, "shmget", key, 10000, 4096);
    struct k_shmid64 ds;
    check_ret(sc(SYS_shmctl, id, K_IPC_STAT, &ds), 0, "shmctl(IPC_STAT)");
    check_eq(sc(SYS_shmctl, id & 0x7fff, 13 /* SHM_STAT */, &ds), id, "SHM_STAT by index: the id");
    check(ds.segsz == 10000 && ds.nattch == 0 && (ds.perm.mode & 0777) == 0600 &&
              ds.cpid == getpid() && ds.lpid == 0 && ds.atime == 0 && ds.perm.uid == geteuid(),
          "IPC_STAT: size %lu, not attached, mode %o, made by this process",
          (unsigned long)ds.segsz, ds.perm.mode & 0777);
    ds.perm.mode = 0640;
    check_ret(sc(SYS_shmctl, id, K_IPC_SET, &ds), 0, "shmctl(IPC_SET) mode 0640");
    memset(&ds, 0, sizeof(ds));
    sc(SYS_shmctl, id, K_IPC_STAT, &ds);
    check((ds.perm.mode & 0777) == 0640, "IPC_STAT shows mode %o", ds.perm.mode & 0777);
    check_err(sc(SYS_shmctl, id, K_IPC_STAT, BADPTR), EFAULT, "IPC_STAT to a bad pointer");
    check_err(sc(SYS_shmctl, id, K_IPC_SET, BADPTR), EFAULT, "IPC_SET from a bad pointer");
    check_err(sc(SYS_shmctl, id, 99, &ds), EINVAL, "shmctl of an unknown command");
    check_err(sc(SYS_shmctl, -1, K_IPC_STAT, &ds), EINVAL, "shmctl(-1)");
    check_ret(sc(SYS_shmctl, id, K_IPC_RMID, 0), 0, "shmctl(IPC_RMID) of an unattached one");
    check_err(sc(SYS_shmctl, id, K_IPC_STAT, &ds), EINVAL, "IPC_STAT after IPC_RMID");
    check_err(sc(SYS_shmget, key, 0, 0), ENOENT, "shmget(key) after IPC_RMID");
    check(bad(at((int)id, 0, 0)) && (long)at((int)id, 0, 0) == -EINVAL,
          "shmat of a removed id -> EINVAL");
    struct k_shminfo64 si;
    long mx = sc(SYS_shmctl, 0, K_IPC_INFO, &si);
    check(mx >= 0 && si.shmmin == 1 && si.shmmni == 4096, "IPC_INFO: shmmin %lu shmmni %lu",
          (unsigned long)si.shmmin, (unsigned long)si.shmmni);
}

static void test_attach(void)
{
    int id = (int)sc(SYS_shmget, IPC_PRIVATE, 8192, 0600);
    char *p = at(id, 0, 0);
    check(!bad(p) && ((unsigned long)p & 4095) == 0, "shmat(NULL) gives a page-aligned address");
    check(p[0] == 0 && p[8191] == 0, "a new segment is zeroed");
    strcpy(p, "parent");
    check_ret(nattch(id), 1, "nattch after one shmat");
    char maps[8192] = { 0 }, start[32];
    int mfd = (int)sc(SYS_open, "/proc/self/maps", O_RDONLY);
    long mn = 0, mr;
    while ((mr = sc(SYS_read, mfd, maps + mn, sizeof maps - 1 - mn)) > 0)
        mn += mr;
    close(mfd);
    snprintf(start, sizeof start, "\n%lx-", (unsigned long)p);
    char *line = strstr(maps, start);
    char *eol = line ? strchr(line + 1, '\n') : NULL;
    if (eol)
        *eol = 0;
    check(line && strstr(line, " rw-s 00000000 ") && strstr(line, " /SYSV00000000 (deleted)"),
          "/proc/self/maps names the segment /SYSV00000000 (deleted), shared");
    struct k_shmid64 ds;
    sc(SYS_shmctl, id, K_IPC_STAT, &ds);
    check(ds.lpid == getpid() && ds.atime > 0, "IPC_STAT: last attach by this process");
    char *q = at(id, 0, 0);
    check(!bad(q) && q != p && strcmp(q, "parent") == 0, "a second shmat sees the same memory");
    check_ret(nattch(id), 2, "nattch after two");
    q[100] = 'x';
    check(p[100] == 'x', "a write through one is seen through the other");
    check_ret(sc(SYS_shmdt, q), 0, "shmdt of the second");
    check_ret(nattch(id), 1, "nattch after shmdt");
    check_err(sc(SYS_shmdt, q), EINVAL, "shmdt of it again");
    check_err(sc(SYS_shmdt, p + 1), EINVAL, "shmdt of an unaligned address");
    check_err(sc(SYS_shmdt, &ds), EINVAL, "shmdt of memory that is not a segment");

    /* fork: the child shares the segment and counts as an attach. */
    pid_t c = fork_checked();
    if (c == 0) {
        check(strcmp(p, "parent") == 0, "child: sees the parent's data");
        check_ret(nattch(id), 2, "child: nattch counts the child's copy");
        strcpy(p + 200, "child");
        child_done();
    }
    check_wait(c, "exited 0", "child of fork");
    check(strcmp(p + 200, "child") == 0, "the parent sees the child's write");
    check_ret(nattch(id), 1, "the child's exit detached it");

    /* exec drops the attach. */
    int pp[2];
    pipe(pp);
    c = fork();
    if (c == 0) {
        char ids[32];
        snprintf(ids, sizeof ids, "%d", id);
        char *argv[] = { "/proc/self/exe", "nattch-after-exec", ids, 0 };
        close(pp[0]);
        dup2(pp[1], 1);
        execve("/proc/self/exe", argv, (char *[]){ 0 });
        _exit(99);
    }
    close(pp[1]);
    char buf[64] = { 0 };
    long n = 0, r;
    while ((r = sc(SYS_read, pp[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    close(pp[0]);
    check_wait(c, "exited 0", "child that ran exec");
    buf[strcspn(buf, "\n")] = 0;
    check(strcmp(buf, "1") == 0, "nattch after the child's exec: %s", buf);

    /* Read-only, and mprotect cannot add write. */
    char *ro = at(id, 0, SHM_RDONLY_);
    check(!bad(ro) && strcmp(ro, "parent") == 0, "SHM_RDONLY attach reads");
    check_err(sc(SYS_mprotect, ro, 4096, PROT_READ | PROT_WRITE), EACCES,
              "mprotect(PROT_WRITE) of a SHM_RDONLY attach");
    c = fork();
    if (c == 0) {
        no_core();
        ro[0] = 'y';
        _exit(0);
    }
    check_wait(c, "killed by SIGSEGV", "a write to a SHM_RDONLY attach");
    sc(SYS_shmdt, ro);

    /* Addresses: SHM_RND, unaligned, taken, SHM_REMAP. */
    char *want = (char *)sc(SYS_mmap, 0, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sc(SYS_munmap, want, 3 * 4096);
    check((long)at(id, want + 10, 0) == -EINVAL, "shmat at an unaligned address -> EINVAL");
    char *r1 = at(id, want + 10, SHM_RND_);
    check(r1 == want, "shmat with SHM_RND rounds down");
    check(!bad(r1) && strcmp(r1, "parent") == 0, "and maps the segment there");
    check((long)at(id, want, 0) == -EINVAL, "shmat over a mapping -> EINVAL");
    check((long)at(id, 0, SHM_REMAP_) == -EINVAL, "SHM_REMAP without an address -> EINVAL");
    char *r2 = at(id, want, SHM_REMAP_);
    check(r2 == want, "SHM_REMAP replaces the mapping");
    check_ret(nattch(id), 2, "nattch: the replaced attach is gone");
    sc(SYS_shmdt, r2);

    /* IPC_RMID while attached: the segment lives on. */
    check_ret(sc(SYS_shmctl, id, K_IPC_RMID, 0), 0, "shmctl(IPC_RMID) while attached");
    check_ret(sc(SYS_shmctl, id, K_IPC_STAT, &ds), 0, "IPC_STAT still works");
    check((ds.perm.mode & SHM_DEST_) && ds.perm.key == 0 && ds.nattch == 1,
          "IPC_STAT: SHM_DEST, key 0, still attached");
    strcpy(p + 300, "alive");
    check(strcmp(p + 300, "alive") == 0, "the memory is still usable");
    char *again = at(id, 0, 0);
    check(!bad(again) && strcmp(again + 300, "alive") == 0, "shmat by id still works");
    sc(SYS_shmdt, again);
    check_ret(sc(SYS_shmdt, p), 0, "the last shmdt");
    check_err(sc(SYS_shmctl, id, K_IPC_STAT, &ds), EINVAL, "then the segment is gone");
}

/* As another user, without write permission. */
static void perms_child(int id, int root)
{
    if (root) {
        check((long)at(id, 0, SHM_RDONLY_) == -EACCES, "mode 0400 of another user: shmat");
        check_err(sc(SYS_shmctl, id, K_IPC_RMID, 0), EPERM, "IPC_RMID by another user");
    } else {
        check(!bad(at(id, 0, SHM_RDONLY_)), "mode 0400 of the owner: SHM_RDONLY shmat");
    }
    check((long)at(id, 0, 0) == -EACCES, "read-write shmat without write permission");
}

static void test_perms(void)
{
    int id = (int)sc(SYS_shmget, IPC_PRIVATE, 4096, 0400);
    as_nobody(perms_child, id, "a child without permission");
    sc(SYS_shmctl, id, K_IPC_RMID, 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "nattch-after-exec") == 0) {
        out("%ld\n", nattch(atoi(argv[2])));
        return 0;
    }
    test_get();
    test_attach();
    test_perms();
    return finish();
}
