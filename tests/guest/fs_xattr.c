/* fs_xattr: extended attributes on tmpfs (/dev/shm) as Linux 6.18's shmem
 * keeps them: user.* on regular files and directories (EPERM to set on
 * symlinks and special files, ENODATA to get), trusted.* and security.*
 * for a privileged caller, XATTR_CREATE/XATTR_REPLACE, the name (255) and
 * value (64 KiB) limits, ERANGE for short buffers, size-0 queries, the
 * listing order (names in descending byte order), and the inode space
 * values take from statfs's f_ffree. */
#include "fs_util.h"

#include <sys/statfs.h>
#include <sys/xattr.h>

#define F "/dev/shm/fs_xattr.f"
#define L "/dev/shm/fs_xattr.l"
#define P "/dev/shm/fs_xattr.p"
#define D "/dev/shm/fs_xattr.d"

static char big[65537 + 16];

static void cleanup(void)
{
    sc(SYS_unlink, F);
    sc(SYS_unlink, L);
    sc(SYS_unlink, P);
    sc(SYS_rmdir, D);
}

/* The list as "a|b|", or an errno name. */
static const char *list_of(long r, const char *buf)
{
    static char s[1024];
    if (r < 0)
        return ret_name(r);
    long n = r < (long)sizeof s - 1 ? r : (long)sizeof s - 1;
    for (long k = 0; k < n; k++)
        s[k] = buf[k] ? buf[k] : '|';
    s[n] = 0;
    return s;
}

static void check_list(const char *path, const char *want, const char *name)
{
    char buf[1024];
    long r = sc(SYS_listxattr, path, buf, sizeof buf);
    check(strcmp(list_of(r, buf), want) == 0, "%s: %s (got %s)", name, want, list_of(r, buf));
}

static void basics(void)
{
    char buf[256];
    check_ret(sc(SYS_listxattr, F, buf, sizeof buf), 0, "listxattr of a new file");
    check_ret(sc(SYS_setxattr, F, "user.b", "1", 1, 0), 0, "setxattr user.b");
    check_ret(sc(SYS_setxattr, F, "user.a", "22", 2, 0), 0, "setxattr user.a");
    check_ret(sc(SYS_setxattr, F, "user.c", "", 0, 0), 0, "setxattr user.c, empty value");
    check_ret(sc(SYS_setxattr, F, "user.ab", "x", 1, 0), 0, "setxattr user.ab");
    check_list(F, "user.c|user.b|user.ab|user.a|", "listed in descending name order");
    check_ret(sc(SYS_listxattr, F, NULL, 0), 29, "listxattr size 0 gives the size");
    check_err(sc(SYS_listxattr, F, buf, 28), ERANGE, "listxattr one byte short");
    check_ret(sc(SYS_listxattr, F, buf, 29), 29, "listxattr exact size");
    /* Values. */
    check_ret(sc(SYS_getxattr, F, "user.a", NULL, 0), 2, "getxattr size 0 gives the size");
    memset(buf, 0, sizeof buf);
    check_ret(sc(SYS_getxattr, F, "user.a", buf, sizeof buf), 2, "getxattr user.a");
    check(memcmp(buf, "22", 2) == 0, "getxattr user.a value");
    check_err(sc(SYS_getxattr, F, "user.a", buf, 1), ERANGE, "getxattr one byte short");
    check_ret(sc(SYS_getxattr, F, "user.c", buf, 0), 0, "getxattr of an empty value");
    check_err(sc(SYS_getxattr, F, "user.nope", buf, sizeof buf), ENODATA, "getxattr missing");
    /* Flags. */
    check_err(sc(SYS_setxattr, F, "user.a", "333", 3, XATTR_CREATE), EEXIST,
              "XATTR_CREATE existing");
    check_err(sc(SYS_setxattr, F, "user.z", "333", 3, XATTR_REPLACE), ENODATA,
              "XATTR_REPLACE missing");
    check_err(sc(SYS_setxattr, F, "user.a", "333", 3, XATTR_CREATE | XATTR_REPLACE), EEXIST,
              "CREATE|REPLACE existing");
    check_err(sc(SYS_setxattr, F, "user.z", "333", 3, XATTR_CREATE | XATTR_REPLACE), ENODATA,
              "CREATE|REPLACE missing");
    check_err(sc(SYS_setxattr, F, "user.a", "333", 3, 4), EINVAL, "unknown flag");
    check_ret(sc(SYS_setxattr, F, "user.a", "333", 3, XATTR_REPLACE), 0, "XATTR_REPLACE existing");
    check_ret(sc(SYS_getxattr, F, "user.a", buf, sizeof buf), 3, "replaced value's size");
    check_ret(sc(SYS_setxattr, F, "user.d", "4", 1, XATTR_CREATE), 0, "XATTR_CREATE new");
    /* Removal. */
    check_err(sc(SYS_removexattr, F, "user.nope"), ENODATA, "removexattr missing");
    check_ret(sc(SYS_removexattr, F, "user.b"), 0, "removexattr user.b");
    check_err(sc(SYS_getxattr, F, "user.b", buf, sizeof buf), ENODATA, "removed is gone");
    check_list(F, "user.d|user.c|user.ab|user.a|", "list after removal");
    /* Through descriptors. */
    long fd = sc(SYS_open, F, O_RDONLY);
    check_ret(sc(SYS_fsetxattr, fd, "user.fd", "1", 1, 0), 0, "fsetxattr on a read-only fd");
    check_ret(sc(SYS_fgetxattr, fd, "user.fd", buf, sizeof buf), 1, "fgetxattr");
    check_ret(sc(SYS_flistxattr, fd, NULL, 0), 37, "flistxattr size");
    check_ret(sc(SYS_fremovexattr, fd, "user.fd"), 0, "fremovexattr");
    sc(SYS_close, fd);
    fd = sc(SYS_open, F, O_PATH);
    check_err(sc(SYS_fgetxattr, fd, "user.a", buf, sizeof buf), EBADF, "fgetxattr on O_PATH");
    check_err(sc(SYS_fsetxattr, fd, "user.a", "1", 1, 0), EBADF, "fsetxattr on O_PATH");
    sc(SYS_close, fd);
}

static void limits(void)
{
    char name[300], buf[16];
    memset(big, 'v', sizeof big);
    check_ret(sc(SYS_setxattr, F, "user.big", big, 65536, 0), 0, "a 64 KiB value");
    check_ret(sc(SYS_getxattr, F, "user.big", NULL, 0), 65536, "its size");
    check_err(sc(SYS_setxattr, F, "user.big2", big, 65537, 0), E2BIG, "a value past 64 KiB");
    check_ret(sc(SYS_removexattr, F, "user.big"), 0, "remove the 64 KiB value");
    memset(name, 'n', sizeof name);
    memcpy(name, "user.", 5);
    name[255] = 0;
    check_ret(sc(SYS_setxattr, F, name, "x", 1, 0), 0, "a 255-byte name");
    check_ret(sc(SYS_getxattr, F, name, buf, sizeof buf), 1, "get it");
    check_ret(sc(SYS_removexattr, F, name), 0, "remove it");
    name[255] = 'n';
    name[256] = 0;
    check_err(sc(SYS_setxattr, F, name, "x", 1, 0), ERANGE, "setxattr 256-byte name");
    check_err(sc(SYS_getxattr, F, name, buf, sizeof buf), ERANGE, "getxattr 256-byte name");
    check_err(sc(SYS_removexattr, F, name), ERANGE, "removexattr 256-byte name");
    check_err(sc(SYS_setxattr, F, "", "x", 1, 0), ERANGE, "empty name");
    check_err(sc(SYS_getxattr, F, "", buf, sizeof buf), ERANGE, "getxattr empty name");
    check_err(sc(SYS_setxattr, F, "user.", "x", 1, 0), EINVAL, "bare user. prefix");
    check_err(sc(SYS_getxattr, F, "user.", buf, sizeof buf), EINVAL, "getxattr bare prefix");
    check_err(sc(SYS_setxattr, F, "foo.bar", "x", 1, 0), EOPNOTSUPP, "unknown namespace");
    check_err(sc(SYS_getxattr, F, "foo.bar", buf, sizeof buf), EOPNOTSUPP,
              "getxattr unknown namespace");
    check_err(sc(SYS_setxattr, F, "user.x", BADPTR, 1, 0), EFAULT, "bad value pointer");
    check_err(sc(SYS_setxattr, F, BADPTR, "x", 1, 0), EFAULT, "bad name pointer");
    /* Values use inode space: f_ffree drops by about 64 for 64 KiB. */
    struct statfs a, b;
    sc(SYS_statfs, F, &a);
    sc(SYS_setxattr, F, "user.space", big, 65536, 0);
    sc(SYS_statfs, F, &b);
    long drop = (long)(a.f_ffree - b.f_ffree);
    check(drop >= 60 && drop <= 70, "a 64 KiB value takes inode space (f_ffree drop %s)",
          drop >= 60 && drop <= 70 ? "about 64" : "other");
    sc(SYS_removexattr, F, "user.space");
    sc(SYS_statfs, F, &b);
    drop = (long)(a.f_ffree - b.f_ffree);
    check(drop > -4 && drop < 4, "removing it gives the space back");
}

static void kinds(void)
{
    char buf[64];
    int root = sc(SYS_geteuid) == 0;
    /* Privileged namespaces: root (CAP_SYS_ADMIN) only. */
    check_ret(sc(SYS_setxattr, F, "trusted.t", "tv", 2, 0), root ? 0 : -EPERM,
              "setxattr trusted.*");
    check_ret(sc(SYS_setxattr, F, "security.s", "sv", 2, 0), root ? 0 : -EPERM,
              "setxattr security.*");
    check_ret(sc(SYS_getxattr, F, "trusted.t", buf, sizeof buf), root ? 2 : -ENODATA,
              "getxattr trusted.*");
    check_list(F,
               root ? "user.d|user.c|user.ab|user.a|trusted.t|security.s|"
                    : "user.d|user.c|user.ab|user.a|",
               "list with trusted and security");
    /* user.* only on regular files and directories. */
    check_err(sc(SYS_lsetxattr, L, "user.l", "1", 1, 0), EPERM, "user.* on a symlink");
    check_err(sc(SYS_lgetxattr, L, "user.l", buf, sizeof buf), ENODATA, "get user.* of a symlink");
    check_ret(sc(SYS_lsetxattr, L, "trusted.l", "1", 1, 0), root ? 0 : -EPERM,
              "trusted.* on a symlink");
    check_ret(sc(SYS_llistxattr, L, buf, sizeof buf), root ? 10 : 0, "llistxattr of the symlink");
    check_ret(sc(SYS_getxattr, L, "user.a", buf, sizeof buf), 3, "getxattr follows the symlink");
    check_err(sc(SYS_setxattr, P, "user.p", "1", 1, 0), EPERM, "user.* on a FIFO");
    check_err(sc(SYS_getxattr, P, "user.p", buf, sizeof buf), ENODATA, "get user.* of a FIFO");
    check_ret(sc(SYS_listxattr, P, buf, sizeof buf), 0, "listxattr of a FIFO");
    check_ret(sc(SYS_setxattr, D, "user.d", "1", 1, 0), 0, "user.* on a sticky directory (owner)");
    check_ret(sc(SYS_getxattr, D, "user.d", buf, sizeof buf), 1, "get it back");
    /* The attributes go with the inode: a hard link sees them, a copy not. */
    sc(SYS_unlink, F ".2");
    check_ret(sc(SYS_link, F, F ".2"), 0, "link");
    check_ret(sc(SYS_getxattr, F ".2", "user.a", buf, sizeof buf), 3, "the link has them");
    sc(SYS_unlink, F ".2");
    /* A rename keeps them. */
    check_ret(sc(SYS_rename, F, F ".3"), 0, "rename");
    check_ret(sc(SYS_getxattr, F ".3", "user.a", buf, sizeof buf), 3, "kept across rename");
    sc(SYS_rename, F ".3", F);
}

int main(void)
{
    cleanup();
    long fd = sc(SYS_open, F, O_CREAT | O_RDWR | O_TRUNC, 0644);
    check(fd >= 0, "create %s", F);
    sc(SYS_close, fd);
    sc(SYS_symlink, "fs_xattr.f", L);
    sc(SYS_mknod, P, S_IFIFO | 0644, 0);
    sc(SYS_mkdir, D, 01777);
    basics();
    limits();
    kinds();
    cleanup();
    return finish();
}
