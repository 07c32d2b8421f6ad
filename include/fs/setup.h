/* The guest's file system as the command line describes it. */
#ifndef FS_SETUP_H
#define FS_SETUP_H

#include <stddef.h>
#include <stdint.h>

struct fs_struct;

/* One --bind (src set) or --tmpfs (src NULL) option, in command-line order. */
struct mount_opt {
    char *src; /* host path of a bind mount */
    char *dst; /* absolute guest path */
    int ro;
    uint64_t size; /* tmpfs size in bytes, 0 for the default */
};

struct fs_config {
    const char *root; /* host directory of the guest's / */
    int rw;           /* the root is writable */
    struct mount_opt *mounts;
    int nmounts;
    const char *cwd; /* --cwd, or NULL */
};

/* Build the mount table and return the init process's root and cwd (both
 * the root). On failure, err holds a one-line reason. */
int vfs_setup(const struct fs_config *c, struct fs_struct **fs, char *err, size_t errlen);

#endif
