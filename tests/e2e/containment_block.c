/* containment_block.c: the guest of containment.sh. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
/* block [ignore]: blocks for good in a read of a pipe it holds both ends of. */
int main(int argc, char **argv)
{
    int p[2];
    char c;
    if (argc > 1 && strcmp(argv[1], "ignore") == 0) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
    }
    if (pipe(p) != 0)
        return 1;
    write(1, "ready\n", 6);
    for (;;)
        read(p[0], &c, 1);
}
