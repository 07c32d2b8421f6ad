/* hello.c: write, writev (with zero-length iovecs) and readv of stdin
 * (/dev/null), then exit(3) to check the exit status is passed through. */
#include "guest.h"

#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
    static const char msg[] = "hello from write\n";
    check_ret(sc(SYS_write, 1, msg, sizeof msg - 1), sizeof msg - 1, "write returns count");
    check_ret(sc(SYS_write, 1, msg, 0), 0, "write of 0 bytes");

    /* Zero-length entries at the start, middle and end must be skipped. */
    char a[] = "hello ", b[] = "from ", c[] = "writev\n";
    struct iovec iov[] = {
        { a, 0 }, { a, 6 }, { NULL, 0 }, { b, 5 }, { c, 0 }, { c, 7 }, { b, 0 },
    };
    check_ret(sc(SYS_writev, 1, iov, 7), 18, "writev returns total");
    check_ret(sc(SYS_writev, 1, iov, 0), 0, "writev with no iovecs");
    check_ret(sc(SYS_writev, 1, iov, 1), 0, "writev of one empty iovec");
    check_ret(sc(SYS_writev, 2, iov + 1, 1), 6, "writev to stderr");

    /* Through libc too, which musl routes via writev. */
    /* Through libc too (musl writes via writev); flushed at once so the
     * order is the same for every stdio buffering mode. */
    int n = printf("printf %d %s\n", 42, "works");
    int f = fflush(stdout);
    check(n == 16, "printf returns count");
    check(f == 0, "fflush stdout");

    char buf[16] = "untouched";
    struct iovec riov[] = { { buf, 4 }, { NULL, 0 }, { buf + 4, 8 } };
    check_ret(sc(SYS_readv, 0, riov, 3), 0, "readv stdin at EOF");
    check_ret(sc(SYS_read, 0, buf, sizeof buf), 0, "read stdin at EOF");
    check(strcmp(buf, "untouched") == 0, "EOF leaves buffer alone");

    /* Exit status 3 is the point; failures become 1. */
    if (finish())
        exit(1);
    exit(3);
}
