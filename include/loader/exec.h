/* Loading a program into a guest address space, as execve does (Linux's
 * struct linux_binprm and fs/exec.c, binfmt_script, binfmt_elf):
 *
 *   exec_open           the file, with execve's checks
 *   exec_init           a program to load: the file and the name it was given
 *   exec_args_guest     argv and envp copied from the guest (or exec_args_host
 *                       for the first program), with E2BIG and EFAULT
 *   exec_prepare        #! scripts resolved, the ELF program and its
 *                       interpreter opened and checked
 *   ---- the point of no return (the caller's: exec_flush_old) ----
 *   exec_load           the image mapped from its files, the stack, registers
 *   exec_prog_free
 *
 * Every error before exec_load leaves the calling process as it was. */
#ifndef LOADER_EXEC_H
#define LOADER_EXEC_H

#include <stddef.h>
#include <stdint.h>

struct task;
struct file;
struct elf_image;

#define EXEC_BUF_SIZE 256               /* BINPRM_BUF_SIZE: what #! may use */
#define EXEC_MAX_ARG_STRLEN (32 * 4096) /* one string, with its NUL */
#define EXEC_MAX_ARG_STRINGS 0x7fffffff /* argv or envp entries */
#define EXEC_MAX_DEPTH 5                /* #! rewrites past this: ELOOP */

/* The new program's strings, in sentry memory. */
struct exec_args {
    char **argv; /* argc strings (malloc'd each), then NULL */
    int argc, argv_cap;
    char **envp; /* envc strings, then NULL */
    int envc;
    /* What the strings may still take: Linux's bprm->p - bprm->argmin,
     * from 1/4 of RLIMIT_STACK (at most 6 MiB, at least 128 KiB) less a
     * pointer for each string. */
    uint64_t room;
};

/* A program being loaded (Linux's linux_binprm). */
struct exec_prog {
    struct file *file;   /* the program (after #! rewrites): a reference */
    struct file *interp; /* the ELF interpreter (PT_INTERP) or NULL: a reference */
    struct elf_image *img, *interp_img;
    /* The name execve was given, or "/dev/fd/N" or "/dev/fd/N/NAME" for
     * execveat relative to a descriptor: AT_EXECFN, and comm's source. */
    char *filename;
    /* For the next #! level: the name the file was opened by (filename,
     * then each interpreter's name as its #! line gives it). */
    char *interp_name;
    int fdpath;            /* filename was made up from a descriptor */
    int path_inaccessible; /* ... of a close-on-exec one: a script cannot be run */
    int secure;            /* AT_SECURE */
    struct exec_args args;
};

/* Open path (relative to dirfd, as execveat's filename; flags
 * AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW) in t's file system for
 * execution, as Linux's do_open_execat: EINVAL for other flags; a final
 * symlink with AT_SYMLINK_NOFOLLOW is ELOOP; directories, devices, FIFOs
 * and sockets, a noexec mount, no exec permission for t are EACCES.
 * Returns 0 with *out (a reference) or -errno. */
int exec_open(struct task *t, int dirfd, const char *path, int flags, struct file **out);

/* Start bp for the program f (from exec_open; bp takes the reference)
 * named filename (copied). 0 or -ENOMEM (bp must be freed either way). */
int exec_init(struct exec_prog *bp, struct file *f, const char *filename);

/* The strings from the guest: argv and envp are guest addresses of
 * NULL-terminated pointer arrays (NULL: empty). Linux's order and errors:
 * the counts (EFAULT, E2BIG), the room for them, then filename, envp and
 * argv copied last to first (EFAULT, E2BIG for a string of more than
 * EXEC_MAX_ARG_STRLEN bytes or past the room). argc 0 becomes argv {""}. */
int exec_args_guest(struct task *t, struct exec_prog *bp, uint64_t argv, uint64_t envp);
/* The same from sentry memory (the first program); stack_rlim is
 * RLIMIT_STACK's soft limit. */
int exec_args_host(struct exec_prog *bp, uint64_t stack_rlim, char *const argv[],
                   char *const envp[]);

/* What #! does to argv (Linux's remove_arg_zero and copy_string_kernel):
 * drop argv[0], giving its room back; put s first (E2BIG past the room). */
void exec_args_drop_first(struct exec_args *a);
int exec_args_push_first(struct exec_args *a, const char *s);
void exec_args_free(struct exec_args *a);

/* Resolve #! scripts (up to EXEC_MAX_DEPTH rewrites, then ELOOP; the
 * interpreter gets [interp, optional arg, script name, argv[1..]]) and
 * check the ELF program and its interpreter: ENOEXEC for a file that is
 * neither a script nor a loadable x86-64 ELF program, ELIBBAD for a bad
 * interpreter, and the errors of opening each file. Nothing of t changes.
 * A one-line reason goes to err. */
int exec_prepare(struct task *t, struct exec_prog *bp, char *err, size_t errlen);

/* Map bp's program into t's fresh (reset) address space from its file,
 * with its interpreter, the stack, and set t->regs, mm->exe_file and the
 * argument fields. The layout is randomised as Linux's unless t's process
 * has ADDR_NO_RANDOMIZE in its personality. 0 or -errno with a reason. */
int exec_load(struct task *t, struct exec_prog *bp, char *err, size_t errlen);

/* The command name the new program gets (Linux's __set_task_comm at exec):
 * filename's last component, or for a made-up /dev/fd name the file's
 * own; at most 15 bytes. */
void exec_comm(const struct exec_prog *bp, char comm[16]);

void exec_prog_free(struct exec_prog *bp);

#endif
