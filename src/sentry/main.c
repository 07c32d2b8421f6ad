/* sandbox-run's command line: parsed here, run by sandbox_run
 * (src/sentry/sandbox.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/sandbox.h"

#ifndef SANDBOX_RUN_VERSION
#define SANDBOX_RUN_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: sandbox-run [OPTION...] -- PROGRAM [ARG...]\n"
               "Run an x86-64 Linux program (static or dynamic, or a #! script) with every system\n"
               "call serviced by the sandbox.\n"
               "\n"
               "  --platform=NAME  how guest threads run: systrap (default) or ptrace\n"
               "  --strace         trace every guest system call on standard error\n"
               "  --root=DIR       host directory that is the guest's / (default /), read-only\n"
               "  --rw             make the root writable\n"
               "  --bind=SRC:DST[:ro]  mount host path SRC at DST in the guest (repeatable)\n"
               "  --tmpfs=DST[:size=N] mount an empty tmpfs at DST; N in bytes or with k, m, g\n"
               "  --cwd=DIR        the guest's working directory (default: the current one\n"
               "                   if the guest can see it, else /)\n"
               "  --no-aslr        no address-space randomisation: the guest starts with\n"
               "                   personality ADDR_NO_RANDOMIZE (as under setarch -R)\n"
               "  --memory=SIZE    each guest process's address space at most SIZE bytes\n"
               "                   (or with k, m, g), as RLIMIT_AS: mmap and brk past it fail\n"
               "  --max-procs=N    at most N guest tasks (threads) at once; clone and fork\n"
               "                   past it fail with EAGAIN (default 1024)\n"
               "  --user=UID:GID   the guest's user and group ids (numbers), with no\n"
               "                   supplementary groups (default: uid 0 and gid 0)\n"
               "  --help           show this help\n"
               "  --version        show the version\n"
               "\n"
               "Exit status: the guest's, or 128+N if it was killed by signal N;\n"
               "127 if PROGRAM is not found, 126 if it cannot be run, 125 if the sandbox\n"
               "failed (e.g. its stub process was killed from outside), 2 on a usage error.\n"
               "PROGRAM is looked up in the guest's file system: a name with a '/' from the\n"
               "guest's working directory, else in the guest's PATH.\n");
}

static struct fs_config *mounts_to_free;

static void free_mounts(void)
{
    struct fs_config *c = mounts_to_free;
    for (int i = 0; i < c->nmounts; i++)
        free(c->mounts[i].src ? c->mounts[i].src : c->mounts[i].dst);
    free(c->mounts);
}

/* A size in bytes or with k, m, g: above 0 and at most 2^50. -1 if not. */
static int parse_size(const char *arg, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(arg, &end, 10);
    int shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (errno || end == arg || *end || *arg < '0' || *arg > '9' || n == 0 ||
        n > (1ULL << 50) >> shift)
        return -1;
    *out = n << shift;
    return 0;
}

/* --bind SRC:DST[:ro] or --tmpfs DST[:size=N]; one-line error on bad input. */
static int parse_mount(struct fs_config *c, int bind, const char *arg)
{
    struct mount_opt m = { 0 };
    char *s = strdup(arg);
    if (!s)
        return -1;
    char *opt = NULL;
    if (bind) {
        char *colon = strchr(s, ':');
        if (!colon || colon == s || !colon[1]) {
            fprintf(stderr, "sandbox-run: --bind %s: expected SRC:DST[:ro]\n", arg);
            free(s);
            return -1;
        }
        *colon = 0;
        m.src = s;
        m.dst = colon + 1;
        opt = strchr(m.dst, ':');
        if (opt) {
            *opt++ = 0;
            if (strcmp(opt, "ro") == 0)
                m.ro = 1;
            else if (strcmp(opt, "rw") != 0) {
                fprintf(stderr, "sandbox-run: --bind %s: unknown option '%s' (ro or rw)\n", arg,
                        opt);
                free(s);
                return -1;
            }
        }
        if (access(m.src, F_OK) != 0) {
            fprintf(stderr, "sandbox-run: --bind %s: %s\n", m.src, strerror(errno));
            free(s);
            return -1;
        }
    } else {
        m.dst = s;
        opt = strchr(s, ':');
        if (opt) {
            *opt++ = 0;
            if (strncmp(opt, "size=", 5) != 0 || !opt[5]) {
                fprintf(stderr, "sandbox-run: --tmpfs %s: expected DST[:size=N]\n", arg);
                free(s);
                return -1;
            }
            unsigned long long size;
            if (parse_size(opt + 5, &size) < 0) {
                fprintf(stderr, "sandbox-run: --tmpfs %s: bad size '%s'\n", arg, opt + 5);
                free(s);
                return -1;
            }
            m.size = size;
        }
    }
    if (m.dst[0] != '/') {
        fprintf(stderr, "sandbox-run: %s %s: the guest path must be absolute\n",
                bind ? "--bind" : "--tmpfs", arg);
        free(s);
        return -1;
    }
    struct mount_opt *v = realloc(c->mounts, (size_t)(c->nmounts + 1) * sizeof(*v));
    if (!v) {
        free(s);
        return -1;
    }
    c->mounts = v;
    c->mounts[c->nmounts++] = m;
    return 0;
}

/* One id of --user: a decimal number below 2^32 - 1 ((uid_t)-1 is no id). */
static int parse_id(const char *s, const char *end, uint32_t *out)
{
    if (s == end || end - s > 10)
        return -1;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v >= UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* --user UID:GID; one-line error on bad input. */
static int parse_user(struct sandbox_opts *o, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon || parse_id(arg, colon, &o->uid) < 0 ||
        parse_id(colon + 1, colon + 1 + strlen(colon + 1), &o->gid) < 0) {
        fprintf(stderr, "sandbox-run: --user %s: expected UID:GID (numbers below 4294967295)\n",
                arg);
        return -1;
    }
    o->user_set = 1;
    return 0;
}

/* One option (getopt_long's c, its optarg) into o: 0, or an exit status
 * (EXIT_USAGE after a one-line error, 0 after --help or --version). */
static int parse_option(struct sandbox_opts *o, int c, char **argv)
{
    switch (c) {
    case 'p':
        o->platform = optarg;
        return -1;
    case 's':
        o->strace = 1;
        return -1;
    case 'r':
        o->fs.root = optarg;
        return -1;
    case 'w':
        o->fs.rw = 1;
        return -1;
    case 'b':
    case 't':
        return parse_mount(&o->fs, c == 'b', optarg) < 0 ? EXIT_USAGE : -1;
    case 'c':
        o->fs.cwd = optarg;
        return -1;
    case 'A':
        o->no_aslr = 1;
        return -1;
    case 'M':
        if (parse_size(optarg, &o->memory) < 0) {
            fprintf(stderr, "sandbox-run: --memory %s: not a size (bytes, or with k, m, g)\n",
                    optarg);
            return EXIT_USAGE;
        }
        return -1;
    case 'P': {
        char *end;
        long n = strtol(optarg, &end, 10);
        if (*optarg < '0' || *optarg > '9' || *end || n < 1 || n > 1000000) {
            fprintf(stderr, "sandbox-run: --max-procs %s: not a number from 1 to 1000000\n",
                    optarg);
            return EXIT_USAGE;
        }
        o->max_procs = (int)n;
        return -1;
    }
    case 'u':
        return parse_user(o, optarg) < 0 ? EXIT_USAGE : -1;
    case 'h':
        usage(stdout);
        return 0;
    case 'V':
        printf("sandbox-run %s\n", SANDBOX_RUN_VERSION);
        return 0;
    default:
        if (optopt && optopt != '?')
            fprintf(stderr, "sandbox-run: unknown option -%c\n", optopt);
        else
            fprintf(stderr, "sandbox-run: unknown option or missing argument: %s\n",
                    argv[optind - 1]);
        usage(stderr);
        return EXIT_USAGE;
    }
}

/* The command line into o: -1 to go on, or the exit status to end with. */
static int parse_args(struct sandbox_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        { "platform", required_argument, NULL, 'p' },
        { "strace", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "root", required_argument, NULL, 'r' },
        { "rw", no_argument, NULL, 'w' },
        { "bind", required_argument, NULL, 'b' },
        { "tmpfs", required_argument, NULL, 't' },
        { "cwd", required_argument, NULL, 'c' },
        { "no-aslr", no_argument, NULL, 'A' },
        { "max-procs", required_argument, NULL, 'P' },
        { "memory", required_argument, NULL, 'M' },
        { "user", required_argument, NULL, 'u' },
        { NULL, 0, NULL, 0 },
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        int r = parse_option(o, c, argv);
        if (r >= 0)
            return r;
    }
    if (!sandbox_platform_known(o->platform))
        return EXIT_USAGE;
    if (optind >= argc) {
        fprintf(stderr, "sandbox-run: no program given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    o->argv = &argv[optind];
    return -1;
}

int main(int argc, char **argv)
{
    static struct sandbox_opts o = { .platform = "systrap",
                                     .fs = { .root = "/" },
                                     .max_procs = 1024 };
    mounts_to_free = &o.fs;
    atexit(free_mounts);
    int r = parse_args(&o, argc, argv);
    return r >= 0 ? r : sandbox_run(&o);
}
