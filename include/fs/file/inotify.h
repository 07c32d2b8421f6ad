/* inotify instances (Linux's fs/notify/inotify/): a file whose reads give
 * the events of its watches, each an fsnotify mark (fs/vfs/fsnotify.h). */
#ifndef FS_FILE_INOTIFY_H
#define FS_FILE_INOTIFY_H

#include <stdint.h>
#include <sys/types.h>

struct file;
struct inode;

/* Linux's defaults of /proc/sys/fs/inotify/. */
#define INOTIFY_MAX_QUEUED_EVENTS 16384
#define INOTIFY_MAX_USER_INSTANCES 128
/* max_user_watches: Linux's, from the machine's memory. */
int inotify_max_user_watches(void);

/* A new instance for user uid, with O_NONBLOCK from flags; -EMFILE past
 * max_user_instances, -ENOMEM. */
int inotify_file(uid_t uid, int flags, struct file **out);
/* Whether f is an inotify instance. */
int is_inotify_file(const struct file *f);
/* Add or update the watch of i with the IN_* mask of
 * inotify_add_watch (checked: some bit, not MASK_ADD with MASK_CREATE):
 * the watch descriptor, or -EEXIST (IN_MASK_CREATE), -ENOSPC
 * (max_user_watches), -ENOMEM. */
int inotify_watch_add(struct file *f, struct inode *i, uint32_t mask);
/* Remove watch wd (IN_IGNORED); -EINVAL if there is none. */
int inotify_watch_rm(struct file *f, int wd);

#endif
