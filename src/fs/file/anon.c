/* The anonymous inode that eventfd and timerfd files share
 * (include/fs/file/anon.h). */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/file/anon.h"
#include "fs/vfs/vfs.h"

static dev_t anon_dev;
static struct timespec anon_time;
static pthread_once_t anon_once = PTHREAD_ONCE_INIT;

static void anon_init(void)
{
    anon_dev = vfs_anon_dev();
    clock_gettime(CLOCK_REALTIME, &anon_time);
}

int anon_inode_stat(struct file *f, struct stat *st)
{
    (void)f;
    pthread_once(&anon_once, anon_init);
    memset(st, 0, sizeof(*st));
    st->st_dev = anon_dev;
    st->st_ino = 1;
    st->st_mode = S_IRUSR | S_IWUSR;
    st->st_nlink = 1;
    st->st_blksize = 4096;
    st->st_atim = st->st_mtim = st->st_ctim = anon_time;
    return 0;
}
