/* Fixed layout of the stub region in every guest address space. The stub
 * binary is linked at STUB_BASE; the sentry reserves the whole region so
 * guest mappings never land in it. */
#ifndef PLATFORM_LAYOUT_H
#define PLATFORM_LAYOUT_H

#define STUB_BASE 0x7e0000000000ULL
#define STUB_IMAGE_SIZE 0x00100000ULL         /* text, rodata, data of the stub */
#define STUB_GADGET_SYSCALL (STUB_BASE + 0x0) /* syscall; int3 (ptrace injection) */
#define STUB_GADGET_SIGRET (STUB_BASE + 0x10) /* mov $15,%eax; syscall */

#define STUB_MAX_THREADS 256
#define SYSMSG_BASE (STUB_BASE + STUB_IMAGE_SIZE)
#define SYSMSG_SIZE 0x1000ULL
#define SIGSTACK_BASE (STUB_BASE + 0x1000000ULL)
#define SIGSTACK_SIZE 0x10000ULL /* room for the largest xsave frame */
#define STUB_REGION_END (SIGSTACK_BASE + STUB_MAX_THREADS * SIGSTACK_SIZE)

/* File descriptor on which a new stub receives the memfd of its sysmsg pages. */
#define STUB_SYSMSG_FD 3
/* The stub's end of an AF_UNIX socket pair: the sentry passes it the host
 * fd of a file-backed mmap, which the stub receives, maps and closes. It is
 * the only descriptor the stub keeps. */
#define STUB_FDPASS_FD 4

/* Host signal the sentry sends a stub thread to interrupt the guest. */
#define STUB_INTERRUPT_SIG 12 /* SIGUSR2 */

#endif
