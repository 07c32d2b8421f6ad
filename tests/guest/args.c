/* args.c: argv/envp layout as the loader built it; exit status = argc. */
#include "guest.h"

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    out("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        out("argv[%d]=\"%s\" len=%zu\n", i, argv[i], strlen(argv[i]));
    check(argv[argc] == NULL, "argv is NULL-terminated");
    /* The initial stack puts envp right after argv's terminator. */
    check(envp == argv + argc + 1, "envp follows argv");
    check(envp == environ, "environ is envp");
    size_t n = 0;
    while (envp[n])
        n++;
    check(n > 0, "environment is not empty");
    int has_eq = 1;
    for (size_t i = 0; i < n; i++)
        if (!strchr(envp[i], '='))
            has_eq = 0;
    check(has_eq, "every env entry has '='");
    /* Strings are laid out in order: argv strings below env strings. */
    int ordered = 1;
    for (int i = 1; i < argc; i++)
        if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
            ordered = 0;
    check(ordered, "argv strings are contiguous");
    check(n == 0 || argc == 0 || envp[0] == argv[argc - 1] + strlen(argv[argc - 1]) + 1,
          "env strings follow argv strings");
    check(((unsigned long)argv & 7) == 0, "argv is 8-byte aligned");
    /* argc sits just below argv on the initial stack. */
    check(((long *)argv)[-1] == argc, "argc precedes argv on the stack");
    if (finish())
        return 255;
    return argc;
}
