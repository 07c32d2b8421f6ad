/* struct statx as the kernel defines it (256 bytes), under its own name:
 * the sentry's statx fills it, and the guest tests read it (musl 1.2.3
 * has no struct statx). Needs only <stdint.h>. */
#ifndef ABI_STATX_H
#define ABI_STATX_H

#include <stdint.h>

struct kstatx_ts {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t pad;
};

struct kstatx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, pad1;
    uint64_t ino, size, blocks, attributes_mask;
    struct kstatx_ts atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t spare[12];
};

_Static_assert(sizeof(struct kstatx) == 256, "struct statx is 256 bytes");

#endif
