/* The caller's side of path operations: copying a path in from the guest
 * and turning (dirfd, path, flags) and the calling task's root, cwd,
 * descriptors and credentials into the one value the VFS takes
 * (struct path_op, fs/vfs/vfs.h). The VFS never sees the task. */
#ifndef FS_PATHOP_H
#define FS_PATHOP_H

#include <stdint.h>

#include "fs/vfs/vfs.h"

struct task;

/* Copy a path argument in from the guest (ENAMETOOLONG past 4095 bytes,
 * EFAULT, ENOENT if empty unless allow_empty). Returns its length. */
long getname(struct task *t, uint64_t upath, char *buf, int allow_empty);
/* getname into a new buffer of PATH_MAX_LEN bytes, *out (free it; NULL
 * on an error, with nothing to free). */
long getname_alloc(struct task *t, uint64_t upath, int allow_empty, char **out);

/* Fill op for name (a sentry string, kept by the caller) relative to dirfd
 * (AT_FDCWD or a descriptor of t) with lookup flags LOOKUP_*: t's root and
 * cwd are taken together under their lock, each with a reference. A dirfd
 * that is no starting point is not an error here but op->start_err, which
 * the walk reports where Linux does (after the checks that come first).
 * Release with path_op_done. */
void path_op_init(struct task *t, int dirfd, const char *name, int flags, struct path_op *op);
void path_op_done(struct path_op *op);

/* The lookup flags an *at call's AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH ask for. */
int at_lookup_flags(int at_flags);

/* vfs_lookup of name relative to dirfd for t: the common case. */
int task_lookup(struct task *t, int dirfd, const char *name, int flags, struct path *out);

#endif
