/* rename_threads.c: threads of one guest rename directories of a hostfs
 * mount back and forth while other threads open, create and walk paths
 * through them with "..", for a few seconds; the host moves a directory
 * of the mount out of it and back meanwhile (rename_threads.sh). Every
 * name it makes starts with "x-", so the script can tell that none of
 * them ever appears outside the mount's host directory.
 * Usage: rename_threads MNT SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *mnt;
static volatile int stop;

static void *mover(void *arg)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/d1/d2", mnt);
    snprintf(b, sizeof b, "%s/e2", mnt);
    for (unsigned long i = 0; !stop; i++) {
        if (arg && (i & 1))
            rename(b, a);
        else
            rename(a, b);
        if (!arg && (i & 1))
            rename(b, a);
    }
    return NULL;
}

static void *walker(void *arg)
{
    long id = (long)arg;
    static const char *const paths[] = {
        "d1/d2/d3/../../../../x-up4",           "d1/d2/../../../x-up3", "e2/d3/../../../x-e3",
        "d1/d2/d3/../../../../../../../x-deep", "e2/../../x-e2",        "d1/../../x-d1",
    };
    char p[1024];
    for (unsigned long i = 0; !stop; i++) {
        const char *rel = paths[(i + (unsigned long)id) % (sizeof paths / sizeof paths[0])];
        snprintf(p, sizeof p, "%s/%s-%ld", mnt, rel, id);
        int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0600);
        if (fd >= 0) {
            close(fd);
            unlink(p); /* made inside the mount: where ".." from its top ends */
        }
        snprintf(p, sizeof p, "%s/d1/d2/d3", mnt);
        int dfd = open(p, O_DIRECTORY | O_RDONLY);
        if (dfd < 0) {
            snprintf(p, sizeof p, "%s/e2/d3", mnt);
            dfd = open(p, O_DIRECTORY | O_RDONLY);
        }
        if (dfd >= 0) {
            int f = openat(dfd, "../../../../x-at", O_CREAT | O_WRONLY | O_EXCL, 0600);
            if (f >= 0) {
                close(f);
                unlinkat(dfd, "../../../../x-at", 0);
            }
            mkdirat(dfd, "../../../../../x-dir", 0700);
            unlinkat(dfd, "../../../../../x-dir", AT_REMOVEDIR);
            close(dfd);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MNT SECONDS\n", argv[0]);
        return 2;
    }
    mnt = argv[1];
    int secs = atoi(argv[2]);
    pthread_t th[6];
    pthread_create(&th[0], NULL, mover, NULL);
    pthread_create(&th[1], NULL, mover, (void *)1);
    for (long i = 2; i < 6; i++)
        pthread_create(&th[i], NULL, walker, (void *)i);
    struct timespec ts = { secs, 0 };
    nanosleep(&ts, NULL);
    stop = 1;
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    printf("done\n");
    return 0;
}
