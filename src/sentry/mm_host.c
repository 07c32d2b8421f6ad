/* The host's figures for a guest address space: the stub process holds
 * exactly the guest's address space and runs exactly its code, so its
 * host accounting (faults, CPU time, resident memory) is the guest's.
 * Everything else asks here, never the platform. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "sentry/mm.h"

pid_t mm_host_pid(const struct mm *mm)
{
    if (!mm || !mm->stub || __atomic_load_n(&mm->stub->dead, __ATOMIC_ACQUIRE))
        return 0;
    return mm->stub->pid;
}

/* A zombie keeps its pid, so a live pidfd proves it. */
int mm_host_pid_still_ours(const struct mm *mm)
{
    const struct stub *s = mm->stub;
    if (__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE))
        return 0;
    if (s->pidfd >= 0)
        return syscall(SYS_pidfd_send_signal, s->pidfd, 0, NULL, 0) == 0;
    return 1;
}

int mm_clip_guest_range(uint64_t start, uint64_t *end)
{
    if (start<STUB_REGION_END && * end> STUB_BASE) {
        if (start >= STUB_BASE)
            return 0;
        *end = STUB_BASE;
    }
    return 1;
}

/* A host /proc file, NUL-terminated, malloc'ed; NULL if it cannot be read. */
static char *read_host_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - len < 2) {
            char *n = realloc(buf, cap * 2);
            if (!n) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = n;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf)
        buf[len] = 0;
    return buf;
}

/* The stat fields after the comm (which may hold anything, so after the
 * last ')'); 0 if the line is too short. */
static int parse_stat(char *text, struct mm_usage *u)
{
    char *s = strrchr(text, ')');
    if (!s)
        return 0;
    unsigned long long f[53] = { 0 };
    int i = 3;
    for (char *save, *tok = strtok_r(s + 1, " \n", &save); tok && i < 53;
         tok = strtok_r(NULL, " \n", &save))
        f[i++] = strtoull(tok, NULL, 10);
    if (i < 40)
        return 0;
    u->minflt = f[10];
    u->majflt = f[12];
    u->utime = f[14];
    u->stime = f[15];
    u->rss = f[24];
    u->processor = (long)f[39];
    return 1;
}

/* The status lines the figures come from (kB); all but the last two must
 * be there. */
static const struct {
    const char *key;
    size_t off;
    int required;
} status_keys[] = {
    { "VmHWM:", offsetof(struct mm_usage, hwm), 1 },
    { "VmRSS:", offsetof(struct mm_usage, rss), 1 },
    { "RssAnon:", offsetof(struct mm_usage, anon), 1 },
    { "RssFile:", offsetof(struct mm_usage, file), 1 },
    { "RssShmem:", offsetof(struct mm_usage, shmem), 1 },
    { "VmPTE:", offsetof(struct mm_usage, pte), 0 },
    { "VmSwap:", offsetof(struct mm_usage, swap), 0 },
};

static int parse_status(const char *text, struct mm_usage *u)
{
    unsigned found = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        for (size_t k = 0; k < ARRAY_SIZE(status_keys); k++)
            if (strncmp(l, status_keys[k].key, strlen(status_keys[k].key)) == 0 &&
                !(found & (1u << k))) {
                *(unsigned long long *)((char *)u + status_keys[k].off) =
                    strtoull(l + strlen(status_keys[k].key), NULL, 10);
                found |= 1u << k;
            }
    u->rss /= 4; /* kB to pages */
    for (size_t k = 0; k < ARRAY_SIZE(status_keys); k++)
        if (status_keys[k].required && !(found & (1u << k)))
            return 0;
    return 1;
}

void mm_host_usage(const struct mm *mm, struct mm_usage *u, int full)
{
    memset(u, 0, sizeof(*u));
    pid_t pid = mm_host_pid(mm);
    if (!pid)
        return;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    char *text = read_host_file(path);
    int ok = text && parse_stat(text, u);
    free(text);
    if (ok && full) {
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        text = read_host_file(path);
        ok = text && parse_status(text, u);
        free(text);
    }
    u->have = ok && mm_host_pid_still_ours(mm);
    if (!u->have)
        memset(u, 0, sizeof(*u));
}

pid_t mm_ctx_host_tid(const struct guest_ctx *ctx)
{
    return ctx ? ctx->tid : 0;
}

int64_t mm_host_cputime(const struct mm *mm, pid_t tid, int which)
{
    pid_t pid = mm_host_pid(mm);
    if (!pid || which < 0 || which > 2)
        return -1;
    int64_t ns = -1;
    if (!tid) {
        /* The stub's process CPU clock (MAKE_PROCESS_CPUCLOCK, in unsigned
         * arithmetic: the pid's complement is negative). */
        clockid_t c = (clockid_t)((~(uint32_t)pid << 3) | (uint32_t)which);
        struct timespec ts;
        if (clock_gettime(c, &ts) == 0)
            ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    } else {
        /* The host refuses thread clocks of another thread group: the
         * scheduler's runtime from schedstat, user and system time (in
         * clock ticks) from stat. */
        char path[80];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, (int)tid,
                 which == 2 ? "schedstat" : "stat");
        char *text = read_host_file(path);
        if (text && which == 2) {
            ns = strtoll(text, NULL, 10);
        } else if (text) {
            struct mm_usage u;
            memset(&u, 0, sizeof(u));
            if (parse_stat(text, &u)) {
                long hz = sysconf(_SC_CLK_TCK);
                unsigned long long ticks = u.utime + (which == 0 ? u.stime : 0);
                ns = (int64_t)ticks * (1000000000LL / (hz > 0 ? hz : 100));
            }
        }
        free(text);
    }
    if (ns >= 0 && !mm_host_pid_still_ours(mm))
        ns = -1;
    return ns;
}
