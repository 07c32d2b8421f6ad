/* fs.c: file-system microbenchmarks. Sets up its files in DIR (creating DIR
 * if needed), then times N iterations of one operation with CLOCK_MONOTONIC
 * and prints microseconds per operation:
 *   open      open + close of an existing file
 *   stat      stat of an existing file
 *   read4k    pread of 4 KiB at offset 0 of a 4 KiB file
 *   write4k   pwrite of 4 KiB at offset 0, then fsync
 *   getdents  open a 1000-entry directory, getdents64 until the end, close
 * Setup (outside the timed loop) reuses a directory an earlier run filled.
 * Usage: fs DIR OP [N]  (prints "OP N ops X.XXX us/op") */
#define _GNU_SOURCE
#define BENCH_NAME "fs"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 4096
#define DIR_ENTRIES 1000

static char path_file[4096], path_dir[4096];
static char buf[FILE_SIZE];
static char dents[32768];

/* DIR/fs-bench-file (4 KiB) and DIR/fs-bench-dir/e0000..e0999. */
static void setup(const char *dir, int want_dir)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        die(dir);
    snprintf(path_file, sizeof(path_file), "%s/fs-bench-file", dir);
    snprintf(path_dir, sizeof(path_dir), "%s/fs-bench-dir", dir);
    for (int i = 0; i < FILE_SIZE; i++)
        buf[i] = (char)('a' + i % 26);
    int fd = open(path_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(path_file);
    if (write(fd, buf, FILE_SIZE) != FILE_SIZE)
        die("write");
    close(fd);
    if (!want_dir)
        return;
    if (mkdir(path_dir, 0755) < 0 && errno != EEXIST)
        die(path_dir);
    /* Entries are made in order: the last one there means a previous run
     * (natively or sandboxed, in the same directory) made them all. */
    char last[4200];
    struct stat st;
    snprintf(last, sizeof(last), "%s/e%04d", path_dir, DIR_ENTRIES - 1);
    if (stat(last, &st) == 0)
        return;
    for (int i = 0; i < DIR_ENTRIES; i++) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/e%04d", path_dir, i);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            die(p);
        close(fd);
    }
}

/* One getdents pass over the directory; returns the number of entries. */
static long list_dir(void)
{
    int fd = open(path_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        die(path_dir);
    long n = 0, r;
    while ((r = syscall(SYS_getdents64, fd, dents, sizeof(dents))) > 0) {
        for (long off = 0; off < r;) {
            unsigned short reclen;
            memcpy(&reclen, dents + off + 16, sizeof(reclen)); /* d_reclen */
            off += reclen;
            n++;
        }
    }
    if (r < 0)
        die("getdents64");
    close(fd);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s DIR open|stat|read4k|write4k|getdents [N]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *op = argv[2];
    long n = count_arg(argc, argv, 3, 10000);
    int kind;
    if (strcmp(op, "open") == 0)
        kind = 0;
    else if (strcmp(op, "stat") == 0)
        kind = 1;
    else if (strcmp(op, "read4k") == 0)
        kind = 2;
    else if (strcmp(op, "write4k") == 0)
        kind = 3;
    else if (strcmp(op, "getdents") == 0)
        kind = 4;
    else {
        fprintf(stderr, "fs: unknown op '%s'\n", op);
        return 2;
    }
    setup(dir, kind == 4);

    int fd = -1;
    if (kind == 2 || kind == 3) {
        fd = open(path_file, (kind == 2 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        if (fd < 0)
            die(path_file);
    }
    if (kind == 4 && list_dir() != DIR_ENTRIES + 2) {
        fprintf(stderr, "fs: %s: expected %d entries\n", path_dir, DIR_ENTRIES + 2);
        return 1;
    }

    /* Warm up (first calls fault in code and fill caches), then time. */
    long warm = warm_of(n, 10);
    double t0 = 0;
    struct stat st;
    for (long i = -warm; i < n; i++) {
        if (i == 0)
            t0 = now_us();
        switch (kind) {
        case 0: {
            int f = open(path_file, O_RDONLY | O_CLOEXEC);
            if (f < 0)
                die("open");
            close(f);
            break;
        }
        case 1:
            if (stat(path_file, &st) < 0)
                die("stat");
            break;
        case 2:
            if (pread(fd, buf, FILE_SIZE, 0) != FILE_SIZE)
                die("pread");
            break;
        case 3:
            if (pwrite(fd, buf, FILE_SIZE, 0) != FILE_SIZE)
                die("pwrite");
            if (fsync(fd) < 0)
                die("fsync");
            break;
        case 4:
            list_dir();
            break;
        }
    }
    double t1 = now_us();
    if (fd >= 0)
        close(fd);
    report(op, n, t0, t1);
    return 0;
}
