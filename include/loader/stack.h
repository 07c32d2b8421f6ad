/* Initial process stack image: argc, argv, envp, auxv and the strings they
 * point at, laid out exactly as Linux's fs/exec.c and fs/binfmt_elf.c
 * create_elf_tables do on x86-64 (the randomisation is the caller's: a random
 * stack top and align_pad). Pure: writes
 * into a caller buffer that stands for the top of the guest stack. */
#ifndef LOADER_STACK_H
#define LOADER_STACK_H

#include <stddef.h>
#include <stdint.h>

struct auxv_ent {
    uint64_t type, val;
};

struct stack_params {
    /* Taken as given: since Linux 5.18 execve turns argc == 0 into argv =
	 * {""}; that is the caller's job. */
    int argc;
    const char *const *argv;
    int envc;
    const char *const *envp;
    const char *execfn;   /* filename as passed to execve; copied at the very top */
    const char *platform; /* "x86_64" for AT_PLATFORM, may be NULL */
    uint8_t random[16];   /* bytes for AT_RANDOM */
    /* arch_align_stack's random offset (Linux: below 8192) taken off
	 * below the argv strings before aligning; 0 without randomisation. */
    uint32_t align_pad;
    /* Caller's entries in final order, without AT_NULL. For AT_RANDOM,
	 * AT_EXECFN and AT_PLATFORM the builder replaces val with the address
	 * of what it copied. */
    const struct auxv_ent *auxv;
    int nauxv;
};

/* Lays the stack out for a stack whose top (highest address, exclusive) is
 * stack_top, writing into buf which stands for [stack_top - buflen,
 * stack_top). Bytes below the returned *sp are left untouched. Returns 0 and
 * sets *sp (the initial rsp: points at argc, 16-byte aligned), -E2BIG if it
 * does not fit, or -EINVAL on bad params (NULL strings, negative counts,
 * AT_NULL in auxv, AT_PLATFORM without platform, buflen > stack_top). */
int stack_build(uint64_t stack_top, const struct stack_params *p, uint8_t *buf, size_t buflen,
                uint64_t *sp);

#endif /* LOADER_STACK_H */
