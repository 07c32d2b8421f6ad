/* eventfd: a file over a 64-bit counter (Linux's fs/eventfd.c). */
#ifndef FS_FILE_EVENTFD_H
#define FS_FILE_EVENTFD_H

struct file;

#define EVENTFD_SEMAPHORE 1 /* EFD_SEMAPHORE */

/* A new eventfd file with the counter at count; flags are O_NONBLOCK and
 * EVENTFD_SEMAPHORE (checked by the caller). NULL when out of memory. */
struct file *eventfd_file(unsigned count, int flags);

#endif
