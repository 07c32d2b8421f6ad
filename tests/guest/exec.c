/* exec.c: execve and execveat. Without fork, the test is a chain of
 * stages, each a new image of this program: the first tries every error
 * (each returns to it with the old image intact), then each successful
 * execve starts the next stage, which checks what the new image got (argv,
 * close-on-exec, signal dispositions, comm, /proc/self/exe, cmdline,
 * AT_EXECFN) and goes on by a different route: a #! script, nested
 * scripts, execveat with AT_EMPTY_PATH, execveat relative to a directory.
 * The check counts travel along in the environment (EXEC_T). */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#define MAX_ARG_STRLEN (32 * 4096)

static char self[4096]; /* this program's path, as argv[0] gave it */
static char cwd[4096];
static char envbuf[64];

static void carry_counts(void)
{
    const char *e = getenv("EXEC_T");
    int c, f;
    if (e && sscanf(e, "%d,%d", &c, &f) == 2) {
        g_checks += c;
        g_failed += f;
    }
}

/* The environment the next stage gets: the counts so far, and the
 * harness's marker of the sandboxed run. */
static char **next_env(void)
{
    static char *env[4];
    static char marker[32];
    snprintf(envbuf, sizeof envbuf, "EXEC_T=%d,%d", g_checks, g_failed);
    int n = 0;
    env[n++] = envbuf;
    if (sandboxed()) {
        snprintf(marker, sizeof marker, "SANDBOX_RUN_GUEST=1");
        env[n++] = marker;
    }
    env[n] = NULL;
    return env;
}

static void put_file(const char *name, const void *data, size_t len, int mode)
{
    unlink(name);
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        out("FAIL cannot write %s\n", name);
        exit(1);
    }
    close(fd);
    chmod(name, mode);
}

static void put_text(const char *name, const char *text, int mode)
{
    put_file(name, text, strlen(text), mode);
}

static char *read_all(const char *name, size_t *len)
{
    int fd = open(name, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (n == cap)
            b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return b;
}

static long x_execve(const void *path, const void *argv, const void *envp)
{
    return sc(SYS_execve, path, argv, envp);
}

static long x_execveat(int dirfd, const void *path, const void *argv, const void *envp, int flags)
{
    return sc(SYS_execveat, dirfd, path, argv, envp, flags);
}

/* A stage's execve returned r: it failed, and so does the test. */
static __attribute__((noreturn)) void exec_failed(const char *what, long r)
{
    out("FAIL %s: %s\n", what, ret_name(r));
    exit(1);
}

/* The errors, each with the image intact afterwards. */
static void errors(void)
{
    char *argv[] = { "x", NULL };
    char **env = next_env();
    check_err(x_execve("nonexistent", argv, env), ENOENT, "missing file");
    check_err(x_execve("", argv, env), ENOENT, "empty path");
    check_err(x_execve("/etc/passwd/x", argv, env), ENOTDIR, "file as a directory");
    check_err(x_execve("/", argv, env), EACCES, "a directory");
    check_err(x_execve("/dev/null", argv, env), EACCES, "a device");
    check_err(x_execve("noexec.sh", argv, env), EACCES, "no exec permission");
    mkfifo("fifo", 0755);
    check_err(x_execve("fifo", argv, env), EACCES, "a FIFO");
    check_err(x_execve(BADPTR, argv, env), EFAULT, "bad path pointer");
    check_err(x_execve("nonexistent", BADPTR, env), ENOENT, "the file is opened before argv");
    check_err(x_execve("text", BADPTR, env), EFAULT, "bad argv array");
    char *badv[] = { "x", BADPTR, NULL };
    check_err(x_execve("text", badv, env), EFAULT, "bad argv string");
    check_err(x_execve("text", argv, BADPTR), EFAULT, "bad envp array");
    check_err(x_execve("text", argv, badv), EFAULT, "bad envp string");
    /* An array that runs into an unmapped page before its NULL. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pages + 4096, 4096);
    char **edgev = (char **)(pages + 4096 - 3 * sizeof(char *));
    edgev[0] = edgev[1] = edgev[2] = "x";
    check_err(x_execve("text", edgev, env), EFAULT, "argv runs into an unmapped page");
    edgev[2] = NULL;
    check_err(x_execve("text", edgev, env), ENOEXEC, "argv ends at the page's end");
    munmap(pages, 4096);
    /* Too many pointers for the room, each to an empty string. */
    size_t nptr = 800000;
    char **lots = malloc((nptr + 1) * sizeof(char *));
    for (size_t i = 0; i < nptr; i++)
        lots[i] = "";
    lots[nptr] = NULL;
    check_err(x_execve("text", lots, env), E2BIG, "800000 empty arguments");
    free(lots);
    check_err(x_execve("text", argv, env), ENOEXEC, "no magic at all");
    check_err(x_execve("text", NULL, NULL), ENOEXEC, "NULL argv and envp");
    check_err(x_execve("empty", argv, env), ENOEXEC, "an empty file");
    check_err(x_execve("badelf", argv, env), ENOEXEC, "ELF magic, then garbage");
    check_err(x_execve("i386", argv, env), ENOEXEC, "an ELF program of another machine");
    check_err(x_execve("interp_missing", argv, env), ENOENT, "missing ELF interpreter");
    check_err(x_execve("interp_short", argv, env), EIO, "ELF interpreter shorter than a header");
    check_err(x_execve("interp_text", argv, env), ELIBBAD, "ELF interpreter not ELF");
    check_err(x_execve("sh_missing", argv, env), ENOENT, "#! interpreter missing");
    check_err(x_execve("sh_noexec", argv, env), EACCES, "#! interpreter not executable");
    check_err(x_execve("sh_text", argv, env), ENOEXEC, "#! interpreter not a program");
    check_err(x_execve("sh_blank", argv, env), ENOEXEC, "#! and blanks only");
    check_err(x_execve("sh_long", argv, env), ENOEXEC, "#! line cut inside the name");
    check_err(x_execve("c5", argv, env), ELOOP, "six nested #! scripts");
    check_err(x_execve("loop", argv, env), ELOOP, "symlink loop");

    char *path = malloc(4200);
    memset(path, 'a', 4200);
    path[4096] = 0;
    check_err(x_execve(path, argv, env), ENAMETOOLONG, "path of 4096 bytes");
    path[300] = 0;
    check_err(x_execve(path, argv, env), ENAMETOOLONG, "component of 300 bytes");
    free(path);

    /* One string: MAX_ARG_STRLEN bytes with its NUL is the most. */
    char *big = malloc(MAX_ARG_STRLEN + 2);
    memset(big, 'b', MAX_ARG_STRLEN + 1);
    big[MAX_ARG_STRLEN] = 0;
    char *bigv[] = { "x", big, NULL };
    check_err(x_execve("text", bigv, env), E2BIG, "an argument of MAX_ARG_STRLEN + 1 bytes");
    check_err(x_execve("text", argv, bigv), E2BIG, "an environment string too long");
    big[MAX_ARG_STRLEN - 1] = 0;
    check_err(x_execve("text", bigv, env), ENOEXEC, "an argument of MAX_ARG_STRLEN bytes");
    /* Together past a quarter of the stack limit (2 MiB of 8 MiB). */
    static char *many[64];
    for (int i = 0; i < 40; i++)
        many[i] = big;
    check_err(x_execve("text", many, env), E2BIG, "arguments past the limit");
    free(big);
    /* The edge, with a 1 MiB stack limit: 256 KiB for the strings, less a
     * pointer for each (two here, no environment), less "text". */
    struct rlimit old, one;
    getrlimit(RLIMIT_STACK, &old);
    one = old;
    one.rlim_cur = 1 << 20;
    setrlimit(RLIMIT_STACK, &one);
    size_t room = 262144 - 16 - 5;
    char *s1 = malloc(MAX_ARG_STRLEN), *s2 = malloc(room);
    memset(s1, 'c', MAX_ARG_STRLEN - 1);
    s1[MAX_ARG_STRLEN - 1] = 0;
    size_t n2 = room - MAX_ARG_STRLEN;
    memset(s2, 'd', n2);
    s2[n2 - 1] = 0;
    char *edge[] = { s1, s2, NULL }, *noenv[] = { NULL };
    check_err(x_execve("text", edge, noenv), ENOEXEC, "strings that fill the room exactly");
    s2[n2 - 1] = 'd';
    s2[n2] = 0;
    check_err(x_execve("text", edge, noenv), E2BIG, "one byte more");
    setrlimit(RLIMIT_STACK, &old);
    free(s1);
    free(s2);

    /* execveat. */
    check_err(x_execveat(AT_FDCWD, "text", argv, env, 0x4), EINVAL, "execveat unknown flag");
    check_err(x_execveat(99, "text", argv, env, 0), EBADF, "execveat bad dirfd");
    int fd = open("text", O_RDONLY);
    check_err(x_execveat(fd, "x", argv, env, 0), ENOTDIR, "execveat dirfd not a directory");
    check_err(x_execveat(fd, "", argv, env, 0), ENOENT,
              "execveat empty path without AT_EMPTY_PATH");
    check_err(x_execveat(fd, "", argv, env, AT_EMPTY_PATH), ENOEXEC, "execveat AT_EMPTY_PATH text");
    close(fd);
    check_err(x_execveat(AT_FDCWD, "self_link", argv, env, AT_SYMLINK_NOFOLLOW), ELOOP,
              "execveat AT_SYMLINK_NOFOLLOW on a symlink");
    check_err(x_execveat(AT_FDCWD, "", argv, env, AT_EMPTY_PATH), EACCES,
              "execveat AT_EMPTY_PATH of the cwd");
    /* A script named by a close-on-exec descriptor cannot be run. */
    fd = open("sh_stage", O_RDONLY | O_CLOEXEC);
    check_err(x_execveat(fd, "", argv, env, AT_EMPTY_PATH), ENOENT,
              "execveat of a script by a close-on-exec descriptor");
    close(fd);
    int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check_err(x_execveat(dfd, "sh_stage", argv, env, 0), ENOENT,
              "execveat of a script relative to a close-on-exec directory");
    close(dfd);
    /* Still this image, with its memory. */
    check(self[0] == '/' && strcmp(argv[0], "x") == 0, "the old image is intact");
}

/* A copy of a dynamic program whose PT_INTERP names interp instead. */
static void patched_interp(const char *name, const char *interp)
{
    size_t len;
    char *b = read_all("/bin/true", &len);
    if (!b) {
        out("FAIL cannot read /bin/true\n");
        exit(1);
    }
    Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
    Elf64_Phdr *ph = (Elf64_Phdr *)(b + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_INTERP) {
            memset(b + ph[i].p_offset, 0, ph[i].p_filesz);
            memcpy(b + ph[i].p_offset, interp, strlen(interp));
        }
    put_file(name, b, len, 0755);
    free(b);
}

static void setup(void)
{
    put_text("text", "hello, no magic here\n", 0755);
    put_text("empty", "", 0755);
    put_text("noexec.sh", "#!/bin/sh\n", 0644);
    put_file("badelf", "\177ELF\2\1\1\0garbage", 16, 0755);
    size_t len;
    char *b = read_all(self, &len);
    ((Elf64_Ehdr *)b)->e_machine = EM_386;
    put_file("i386", b, len, 0755);
    free(b);
    patched_interp("interp_missing", "/nonexistent/ld.so");
    patched_interp("interp_short", "text");
    put_text("longtext", "This text is longer than an ELF header, which is 64 bytes long.\n", 0755);
    patched_interp("interp_text", "longtext");
    put_text("sh_missing", "#!/nonexistent/sh\n", 0755);
    put_text("sh_noexec", "#!/etc/passwd\n", 0755);
    put_text("sh_text", "#!text\n", 0755);
    put_text("sh_blank", "#!   \t  \n", 0755);
    char line[400];
    memset(line, 'x', sizeof line);
    memcpy(line, "#!/", 3);
    put_file("sh_long", line, sizeof line, 0755);
    /* c1 .. c6: each runs the one before; c0 runs this program. */
    char text[8192];
    snprintf(text, sizeof text, "#!%s nest\n", self);
    put_text("c0", text, 0755);
    for (int i = 1; i <= 6; i++) {
        char name[8];
        snprintf(text, sizeof text, "#!%s/c%d\n", cwd, i - 1);
        snprintf(name, sizeof name, "c%d", i);
        put_text(name, text, 0755);
    }
    unlink("loop");
    symlink("loop", "loop");
    unlink("self_link");
    symlink(self, "self_link");
    /* The script stage: one argument after the interpreter, trailing
     * blanks dropped. */
    snprintf(text, sizeof text, "#! %s  script one arg \t \nnot read\n", self);
    put_text("sh_stage", text, 0755);
    char cut[600];
    int n = snprintf(cut, sizeof cut, "#!%s ", self);
    memset(cut + n, 'A', sizeof cut - (size_t)n);
    put_file("sh_cut", cut, sizeof cut, 0755);
}

static void show_args(int argc, char **argv)
{
    out("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        /* Paths in the scratch directory print relative to it. */
        const char *a = argv[i];
        size_t n = strlen(cwd);
        if (strncmp(a, cwd, n) == 0 && a[n] == '/')
            a += n + 1;
        else if (strcmp(a, self) == 0)
            a = "SELF";
        out("argv[%d]=%s\n", i, a);
    }
}

static void show_state(const char *want_comm)
{
    char comm[32] = "";
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
    if (n > 0)
        comm[n - 1] = 0;
    close(fd);
    check(strcmp(comm, want_comm) == 0, "comm is %s (%s)", want_comm, comm);
    char exe[4096];
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    check(strcmp(exe, self) == 0, "/proc/self/exe is this program");
    char cmd[8192];
    fd = open("/proc/self/cmdline", O_RDONLY);
    n = fd >= 0 ? read(fd, cmd, sizeof cmd) : -1;
    close(fd);
    int args = 0;
    for (ssize_t i = 0; i < n; i++)
        args += cmd[i] == 0;
    out("cmdline has %d strings\n", args);
}

/* A later stage's first lines: its name, then the arguments it got. */
static void begin_stage(const char *name, int argc, char **argv)
{
    out("stage %s\n", name);
    show_args(argc, argv);
}

static void on_signal(int sig)
{
    (void)sig;
}

static void stage_first(void)
{
    out("stage first\n");
    setup();
    errors();
    /* Descriptors: 5 kept, 6 closed (close-on-exec); a handled signal
     * goes back to SIG_DFL, an ignored one stays ignored. */
    int a = open("text", O_RDONLY), b = open("empty", O_RDONLY | O_CLOEXEC);
    dup2(a, 5);
    dup3(b, 6, O_CLOEXEC);
    close(a);
    close(b);
    /* A POSIX read lock through each: execve keeps the process's locks,
     * but closing descriptor 6 drops the one on its file. */
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
    check(fcntl(5, F_SETLK, &fl) == 0 && fcntl(6, F_SETLK, &fl) == 0, "read locks taken");
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, on_signal);
    char *argv[] = { "renamed-argv0", "second", "", "a b", NULL };
    exec_failed("execve of self", x_execve(self, argv, next_env()));
}

/* The program's code is a mapping of its file (not a copy): the line of
 * /proc/self/maps that holds main names the program with its inode. */
static void check_code_mapping(void)
{
    size_t len;
    char *maps = read_all("/proc/self/maps", &len);
    unsigned long here = (unsigned long)(uintptr_t)&check_code_mapping;
    int found = 0;
    struct stat st;
    stat(self, &st);
    for (char *l = maps; l && l < maps + len;) {
        char *nl = memchr(l, '\n', (size_t)(maps + len - l));
        if (nl)
            *nl = 0;
        unsigned long lo, hi, off, ino;
        char perms[8], path[4096] = "";
        if (sscanf(l, "%lx-%lx %7s %lx %*s %lu %4095s", &lo, &hi, perms, &off, &ino, path) >= 5 &&
            lo <= here && here < hi)
            found = strcmp(path, self) == 0 && ino == st.st_ino && perms[2] == 'x';
        l = nl ? nl + 1 : maps + len;
    }
    free(maps);
    check(found, "the code is mapped from the program's file");
}

static void stage_second(int argc, char **argv)
{
    begin_stage("second", argc, argv);
    check(fcntl(5, F_GETFD) == 0, "fd 5 kept");
    check(fcntl(6, F_GETFD) == -1 && errno == EBADF, "close-on-exec fd 6 closed");
    /* An OFD lock conflicts with the process's own POSIX locks. */
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int t = open("text", O_RDWR);
    check(fcntl(t, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_RDLCK,
          "the lock on fd 5's file is kept");
    close(t);
    fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
    t = open("empty", O_RDWR);
    check(fcntl(t, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_UNLCK,
          "the lock on fd 6's file went with it");
    close(t);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    check(sa.sa_handler == SIG_IGN, "ignored SIGUSR1 stays ignored");
    sigaction(SIGUSR2, NULL, &sa);
    check(sa.sa_handler == SIG_DFL, "handled SIGUSR2 is SIG_DFL");
    show_state("exec");
    check(strcmp((char *)getauxval(AT_EXECFN), self) == 0, "AT_EXECFN is execve's name");
    check(getauxval(AT_SECURE) == 0, "AT_SECURE is 0");
    check(getauxval(AT_BASE) == 0, "AT_BASE is 0 for a static program");
    check_code_mapping();
    char *nargv[] = { "the-script", "tail", NULL };
    exec_failed("execve of a script", x_execve("sh_stage", nargv, next_env()));
}

static void stage_script(int argc, char **argv)
{
    begin_stage("script", argc, argv);
    /* comm and AT_EXECFN name the script; /proc/self/exe its interpreter. */
    show_state("sh_stage");
    check(strcmp((char *)getauxval(AT_EXECFN), "sh_stage") == 0, "AT_EXECFN is the script");
    char *nargv[] = { "c4", "x", NULL };
    exec_failed("execve of five nested scripts", x_execve("c4", nargv, next_env()));
}

static void stage_nest(int argc, char **argv)
{
    begin_stage("nest", argc, argv);
    show_state("c4");
    int fd = open(self, O_RDONLY);
    char *nargv[] = { "by-fd", NULL };
    exec_failed("execveat AT_EMPTY_PATH", x_execveat(fd, "", nargv, next_env(), AT_EMPTY_PATH));
}

static void stage_fd(int argc, char **argv)
{
    begin_stage("fd", argc, argv);
    /* comm is the file's own name; AT_EXECFN the made-up /dev/fd name. */
    const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    char want[16];
    snprintf(want, sizeof want, "%.15s", base);
    show_state(want);
    const char *fn = (const char *)getauxval(AT_EXECFN);
    check(strncmp(fn, "/dev/fd/", 8) == 0 && !strchr(fn + 8, '/'), "AT_EXECFN is /dev/fd/N");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", self);
    *strrchr(dir, '/') = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char *nargv[] = { "by-dirfd", NULL };
    exec_failed("execveat relative", x_execveat(dfd, base, nargv, next_env(), 0));
}

static void stage_dirfd(int argc, char **argv)
{
    begin_stage("dirfd", argc, argv);
    const char *fn = (const char *)getauxval(AT_EXECFN);
    const char *base = strrchr(self, '/') + 1;
    char want[16];
    snprintf(want, sizeof want, "%.15s", base);
    show_state(want);
    check(strncmp(fn, "/dev/fd/", 8) == 0 && strchr(fn + 8, '/') &&
              strcmp(strchr(fn + 8, '/') + 1, base) == 0,
          "AT_EXECFN is /dev/fd/N/name");
    /* fexecve of a memfd holding a copy of this program. */
    int mfd = (int)sc(SYS_memfd_create, "prog", 0);
    size_t len;
    char *b = read_all(self, &len);
    check(mfd >= 0 && b && write(mfd, b, len) == (ssize_t)len, "a copy in a memfd");
    free(b);
    char *nargv[] = { "by-memfd", NULL };
    exec_failed("execveat of a memfd", x_execveat(mfd, "", nargv, next_env(), AT_EMPTY_PATH));
}

static void stage_memfd(int argc, char **argv)
{
    begin_stage("memfd", argc, argv);
    char comm[32] = "", exe[256] = "";
    int fd = open("/proc/self/comm", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
    if (n > 0)
        comm[n - 1] = 0;
    close(fd);
    out("comm %s\n", comm);
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    out("exe %s\n", exe);
    /* A #! line longer than the 256 bytes execve reads: the argument is
     * cut there; a line of one name that long is refused (sh_long). */
    char *nargv[] = { "sh_cut", NULL };
    exec_failed("execve of a script with a long line", x_execve("sh_cut", nargv, next_env()));
}

static void stage_cut(int argc, char **argv)
{
    out("stage cut\n");
    check(argc == 3 && strspn(argv[1], "A") == strlen(argv[1]), "one argument of As");
    out("argument of %zu bytes (255 - 3 - the interpreter's name)\n",
        argc == 3 ? strlen(argv[1]) + 3 + strlen(self) : 0);
    exit(finish());
}

int main(int argc, char **argv)
{
    carry_counts();
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    /* The program's own path: from /proc/self/exe, which every stage
     * agrees on. */
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    const char *stage = argc > 1 ? argv[1] : "";
    if (strcmp(argv[0], "renamed-argv0") == 0)
        stage_second(argc, argv);
    if (strcmp(argv[0], "by-fd") == 0)
        stage_fd(argc, argv);
    if (strcmp(argv[0], "by-dirfd") == 0)
        stage_dirfd(argc, argv);
    if (strcmp(argv[0], "by-memfd") == 0)
        stage_memfd(argc, argv);
    if (argc > 1 && stage[0] == 'A')
        stage_cut(argc, argv);
    if (strcmp(stage, "script one arg") == 0)
        stage_script(argc, argv);
    if (strcmp(stage, "nest") == 0)
        stage_nest(argc, argv);
    if (argc == 1)
        stage_first();
    out("FAIL unknown stage %s\n", argv[0]);
    return 1;
}
