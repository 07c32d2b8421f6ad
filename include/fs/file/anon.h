/* Files on the anonymous inode (Linux's anon_inode_getfile): eventfd,
 * timerfd. They share one inode, whose attributes fstat shows; the link
 * in /proc/PID/fd reads "anon_inode:[NAME]" from the file's ops name. */
#ifndef FS_FILE_ANON_H
#define FS_FILE_ANON_H

struct file;
struct stat;

/* fstat of an anonymous-inode file: mode 0600 with no type, owned by
 * root, one link, on the anonymous device. */
int anon_inode_stat(struct file *f, struct stat *st);

#endif
