/* fs_util.h: header-only helpers the file-system guest tests share:
 * reading a whole file, finding a line in it, file sizes and status flags,
 * writing a small file (or opening one that holds a text), a work
 * directory, and removing a tree left by an earlier run. */
#ifndef FS_UTIL_H
#define FS_UTIL_H

#include "guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* What slurp read last, NUL-terminated. */
static char g_file[4 * 65536] __attribute__((unused));

/* Reads a whole file into g_file; returns its length or -errno. */
static inline long slurp(const char *path)
{
    long fd = sc(SYS_open, path, O_RDONLY);
    if (fd < 0)
        return fd;
    long total = 0, n;
    while ((n = sc(SYS_read, fd, g_file + total, sizeof g_file - 1 - total)) > 0)
        total += n;
    sc(SYS_close, fd);
    g_file[total] = 0;
    return n < 0 ? n : total;
}

/* The line of g_file starting with prefix, NUL-terminated in line. */
static inline int find_line(const char *prefix, char *line, size_t size)
{
    size_t plen = strlen(prefix);
    for (const char *p = g_file; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= plen && memcmp(p, prefix, plen) == 0 && len < size) {
            memcpy(line, p, len);
            line[len] = 0;
            return 1;
        }
        p += len + (end ? 1 : 0);
    }
    return 0;
}

static inline long fsize(long fd)
{
    struct stat st;
    long r = sc(SYS_fstat, fd, &st);
    return r < 0 ? r : (long)st.st_size;
}

static inline long getfl(long fd)
{
    return sc(SYS_fcntl, fd, F_GETFL);
}

/* Writes text to path (created or truncated, mode 0644). */
static inline void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0)
            out("write %s failed\n", path);
        close(fd);
    }
}

/* A file holding exactly text, opened O_RDWR at offset 0. */
static inline long open_text(const char *name, const char *text)
{
    long fd = sc(SYS_open, name, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0 || sc(SYS_write, fd, text, strlen(text)) != (long)strlen(text))
        out("setup: cannot write %s: %s\n", name, ret_name(fd));
    sc(SYS_lseek, fd, 0, SEEK_SET);
    return fd;
}

/* Removes a tree left by an earlier run; errors are ignored. */
static __attribute__((unused)) void rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[PATH_MAX];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rmtree(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

/* The work directory of fs_path and fs_stat: NAME.dir (fresh, umask 022)
 * in the scratch directory they start in, g_base. */
static char g_base[PATH_MAX / 2] __attribute__((unused));
static char g_work[PATH_MAX / 2 + 64] __attribute__((unused));

static __attribute__((unused)) int work_begin(const char *name)
{
    if (!getcwd(g_base, sizeof g_base))
        return -1;
    snprintf(g_work, sizeof g_work, "%s/%s.dir", g_base, name);
    rmtree(g_work);
    sc(SYS_umask, 022);
    check_ret(sc(SYS_mkdir, g_work, 0755), 0, "mkdir the work dir");
    return 0;
}

static __attribute__((unused)) void work_end(void)
{
    check_ret(sc(SYS_chdir, g_base), 0, "chdir back to the scratch dir");
    rmtree(g_work);
}

/* Runs the n tests in the work directory NAME.dir, then leaves and
 * removes it; -1 if there is no scratch directory to start from. */
static __attribute__((unused)) int in_work_dir(const char *name, void (*const *tests)(void),
                                               size_t n)
{
    if (work_begin(name) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        tests[i]();
    work_end();
    return 0;
}

/* Each group works in a fresh subdirectory of the work directory. */
static __attribute__((unused)) void enter(const char *name)
{
    out("-- %s\n", name);
    if (chdir(g_work) != 0 || mkdir(name, 0755) != 0 || chdir(name) != 0)
        out("cannot enter %s\n", name);
}

#endif
