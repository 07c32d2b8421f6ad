/* Loading a program into a fresh guest address space, as execve does:
 * opening the file through the guest's file system with execve's checks,
 * reading and checking the ELF image, then mapping it with the stack
 * (argv, envp, auxv) and the initial registers. */
#ifndef LOADER_EXEC_H
#define LOADER_EXEC_H

#include <stddef.h>

struct task;
struct file;

struct exec_file {
    struct file *file; /* the program (a reference): /proc/PID/exe */
    char *data;        /* whole file, malloc'd */
    size_t len;
    char path[4096]; /* the name given, as execve's filename (AT_EXECFN) */
};

/* Open path (relative to dirfd, as execve's filename) in t's file system
 * for execution, with execve's checks: a regular file (EACCES otherwise),
 * not on a noexec mount (EACCES), exec permission for t (EACCES).
 * Returns 0 with *out (a reference) or -errno. */
int exec_open(struct task *t, int dirfd, const char *path, struct file **out);

/* Read and check the program f (from exec_open; ef takes a reference of its
 * own) that was named path. Returns 0, or a negative errno with a one-line
 * reason in err (-ENOEXEC for a file that is not a loadable x86-64
 * executable). ef must be freed with exec_file_free either way. */
int exec_read(struct file *f, const char *path, struct exec_file *ef, char *err, size_t errlen);
void exec_file_free(struct exec_file *ef);

/* Map ef into t's (fresh) address space and set t->regs. The layout is
 * randomised as Linux's unless t's process has ADDR_NO_RANDOMIZE in its
 * personality. */
int exec_load(struct task *t, const struct exec_file *ef, char *const argv[], char *const envp[],
              char *err, size_t errlen);

#endif
