/* timerfd: a file over a timer on a clock (Linux's fs/timerfd.c). */
#ifndef FS_FILE_TIMERFD_H
#define FS_FILE_TIMERFD_H

#include <time.h>

struct file;

#define TIMERFD_ABSTIME 1       /* TFD_TIMER_ABSTIME */
#define TIMERFD_CANCEL_ON_SET 2 /* TFD_TIMER_CANCEL_ON_SET */

/* Whether timerfds exist on clock id (REALTIME, MONOTONIC, BOOTTIME and
 * the two alarm clocks), and whether it is an alarm clock. */
int timerfd_clock_ok(int clockid);
int timerfd_clock_alarm(int clockid);

/* A new disarmed timerfd on clockid (checked by the caller); flags may
 * have O_NONBLOCK. NULL when out of memory. */
struct file *timerfd_file(int clockid, int flags);
/* The clock id f was made with, or -1 if f is no timerfd. */
int timerfd_clockid(struct file *f);
/* timerfd_settime of a valid *nv with flags (TIMERFD_*, checked): the
 * timer set anew, and what it was before in *old. 0 or -EAGAIN (no timer
 * thread). */
int timerfd_set(struct file *f, int flags, const struct itimerspec *nv, struct itimerspec *old);
/* timerfd_gettime: the time left to the next expiry and the interval. */
void timerfd_get(struct file *f, struct itimerspec *cur);

#endif
