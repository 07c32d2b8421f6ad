/* Loading a program into a fresh guest address space: maps the ELF image,
 * the stack with argv, envp and auxv, and sets the initial registers. */
#ifndef LOADER_EXEC_H
#define LOADER_EXEC_H

#include <stddef.h>

struct task;

/* Status codes for the caller (sandbox-run's exit codes follow them). */
#define EXEC_ENOENT  (-127)
#define EXEC_NOEXEC  (-126)

struct exec_file {
    char *data;         /* whole file, malloc'd */
    size_t len;
    char path[4096];    /* path as passed (AT_EXECFN) */
    char real[4096];    /* canonical path (/proc/self/exe) */
};

/* Read and check a program before any stub exists. Returns 0, or a negative
 * errno with a one-line reason in err (-ENOEXEC for a file that is not a
 * loadable x86-64 executable). */
int exec_read(const char *path, struct exec_file *ef, char *err, size_t errlen);
void exec_file_free(struct exec_file *ef);

/* Map ef into t's (fresh) address space and set t->regs. */
int exec_load(struct task *t, const struct exec_file *ef, char *const argv[], char *const envp[],
              char *err, size_t errlen);

#endif
