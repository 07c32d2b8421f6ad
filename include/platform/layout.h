/* Fixed layout of the stub region in every guest address space. The stub
 * binary is linked at STUB_BASE; the sentry reserves the whole region so
 * guest mappings never land in it. */
#ifndef PLATFORM_LAYOUT_H
#define PLATFORM_LAYOUT_H

#define STUB_BASE 0x7e0000000000ULL
#define STUB_IMAGE_SIZE 0x00100000ULL         /* text, rodata, data of the stub */
#define STUB_GADGET_SYSCALL (STUB_BASE + 0x0) /* syscall; int3 (ptrace injection) */
#define STUB_GADGET_SIGRET (STUB_BASE + 0x10) /* mov $15,%eax; syscall */
#define STUB_GADGET_CLONE (STUB_BASE + 0x20)  /* syscall; child or int3 (ptrace injection) */

/* Host threads per stub (guest threads of one address space, and
 * processes sharing it with CLONE_VM): clone past it gives EAGAIN. */
#define STUB_MAX_THREADS 256
#define SYSMSG_BASE (STUB_BASE + STUB_IMAGE_SIZE)
#define SYSMSG_SIZE 0x1000ULL
#define SIGSTACK_BASE (STUB_BASE + 0x1000000ULL)
#define SIGSTACK_SIZE 0x10000ULL /* room for the largest xsave frame */
_Static_assert(SIGSTACK_SIZE == 0x10000 && SIGSTACK_BASE == 0x7e0001000000ULL &&
                   STUB_MAX_THREADS == 256,
               "stub_clone_child (entry.S) computes a slot's stack with these");
#define STUB_REGION_END (SIGSTACK_BASE + STUB_MAX_THREADS * SIGSTACK_SIZE)

/* File descriptor on which a new stub receives the memfd of its sysmsg pages. */
#define STUB_SYSMSG_FD 3
/* The stub's end of an AF_UNIX socket pair: the sentry passes it the host
 * fd of a file-backed mmap, which the stub receives, maps and closes. It is
 * the only descriptor the stub keeps. */
#define STUB_FDPASS_FD 4

/* The host clone flags of stub_clone: a thread of the stub (the kernel's
 * CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM), or a fork whose parent is the
 * stub's own parent, the spawner (CLONE_PARENT, exit signal SIGCHLD). */
#define STUB_CLONE_THREAD_FLAGS 0x50f00U
#define STUB_CLONE_FORK_FLAGS 0x8011U
/* What a stub_clone child is (the kind in r12 >> 16). */
#define STUB_CHILD_THREAD 1
#define STUB_CHILD_FORK 2

/* Host signal the sentry sends a stub thread to interrupt the guest. */
#define STUB_INTERRUPT_SIG 12 /* SIGUSR2 */

#endif
