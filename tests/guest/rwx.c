/* rwx.c: machine code written at run time into RWX and W^X pages, with
 * `syscall` instructions the sentry has never seen; they must still be
 * serviced by it (getpid == 1 in the sandbox). Also rewrites code that
 * already ran, as JITs do. */
#include "guest.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

typedef long (*fn0)(void);
typedef long (*fn3)(long, long, long);

/* mov eax, 39 (getpid) ; syscall ; ret */
static const unsigned char getpid_code[] = {
    0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3,
};
/* mov rax, rdi ; syscall ; ret: the number is only known at run time. */
static const unsigned char nr_code[] = { 0x48, 0x89, 0xf8, 0x0f, 0x05, 0xc3 };

/* write(1, msg, len) with msg stored right after the code. */
static size_t build_write(unsigned char *p, const char *msg)
{
    size_t len = strlen(msg), n = 0;
    const unsigned char pre[] = {
        0xbf, 0x01, 0x00, 0x00, 0x00,             /* mov edi, 1 */
        0x48, 0x8d, 0x35, 0x0d, 0x00, 0x00, 0x00, /* lea rsi, [rip+13] */
        0xba,                                     /* mov edx, imm32 */
    };
    memcpy(p, pre, sizeof pre);
    n = sizeof pre;
    memcpy(p + n, &(unsigned int){ (unsigned int)len }, 4);
    n += 4;
    const unsigned char post[] = {
        0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 (write) */
        0x0f, 0x05,                   /* syscall */
        0xc3,                         /* ret */
    };
    memcpy(p + n, post, sizeof post);
    n += sizeof post;
    memcpy(p + n, msg, len); /* lea's displacement points here */
    return n + len;
}

int main(void)
{
    long pid = getpid();
    check(pid == (sandboxed() ? 1 : pid), "getpid as expected");

    unsigned char *rwx = (unsigned char *)sc(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!check((long)rwx > 0, "mmap an RWX page"))
        return finish();

    memcpy(rwx, getpid_code, sizeof getpid_code);
    __builtin___clear_cache((char *)rwx, (char *)rwx + 64);
    fn0 f = (fn0)(uintptr_t)rwx;
    check(f() == pid, "planted getpid equals getpid()");
    check(f() == pid, "planted getpid again");

    /* Same bytes rewritten after running: must not replay stale code. */
    rwx[1] = 102; /* getuid */
    __builtin___clear_cache((char *)rwx, (char *)rwx + 64);
    check(f() == (long)getuid(), "rewritten code runs getuid");
    rwx[1] = 110; /* getppid */
    __builtin___clear_cache((char *)rwx, (char *)rwx + 64);
    check(f() == (long)getppid(), "rewritten code runs getppid");
    check(memcmp(rwx + 2, getpid_code + 2, sizeof getpid_code - 2) == 0,
          "code bytes read back as written");

    fn3 g = (fn3)(uintptr_t)(rwx + 64);
    memcpy(rwx + 64, nr_code, sizeof nr_code);
    __builtin___clear_cache((char *)rwx + 64, (char *)rwx + 128);
    check(g(SYS_getpid, 0, 0) == pid, "run-time syscall number: getpid");
    check(g(SYS_gettid, 0, 0) == pid, "run-time syscall number: gettid");
    check(g(SYS_getppid, 0, 0) == getppid(), "run-time syscall number: getppid");

    const char *msg = "message from planted write\n";
    size_t n = build_write(rwx + 128, msg);
    __builtin___clear_cache((char *)rwx + 128, (char *)rwx + 128 + n);
    long w = ((fn0)(uintptr_t)(rwx + 128))();
    check(w == (long)strlen(msg), "planted write returns its length");

    /* W^X style: write into a read-write page, then flip it to exec. */
    unsigned char *wx = rwx + 4096;
    check_ret(sc(SYS_mprotect, wx, 4096, PROT_READ | PROT_WRITE), 0,
              "mprotect second page read-write");
    n = build_write(wx, "message from W^X page\n");
    check_ret(sc(SYS_mprotect, wx, 4096, PROT_READ | PROT_EXEC), 0,
              "mprotect second page read-exec");
    __builtin___clear_cache((char *)wx, (char *)wx + n);
    w = ((fn0)(uintptr_t)wx)();
    check(w == 22, "W^X planted write returns its length");
    return finish();
}
