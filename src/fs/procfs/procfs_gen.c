/* The text of procfs files, generated from sentry state in the exact formats
 * of Linux (fs/proc/array.c, task_mmu.c, meminfo.c, stat.c, uptime.c,
 * loadavg.c, version.c, arch/x86/kernel/cpu/proc.c), and the strbuf they
 * are written into. System-wide files report the host machine, which is
 * what the guest runs on; per-process files report the sentry's model,
 * with the host's accounting of the stub process (which holds exactly the
 * guest's address space and runs exactly its code) for resident memory,
 * CPU time and faults. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "base.h"
#include "fs/file/fdtable.h"
#include "fs/file/file.h"
#include "fs/procfs/procfs.h"
#include "fs/vfs/vfs.h"
#include "sentry/kernel.h"

/* ---- strbuf ---- */

/* Room for more bytes plus the NUL. */
static int strbuf_reserve(struct strbuf *b, size_t more)
{
    if (b->oom)
        return -ENOMEM;
    if (b->cap > b->len && more < b->cap - b->len)
        return 0;
    if (more > (SIZE_MAX / 4) - b->len) {
        b->oom = 1;
        return -ENOMEM;
    }
    if (ARRAY_GROW(b->s, b->cap, b->len + more + 1, 256) < 0) {
        b->oom = 1;
        return -ENOMEM;
    }
    return 0;
}

int strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return -ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    size_t avail = b->s ? b->cap - b->len : 0;
    int n = vsnprintf(b->s ? b->s + b->len : NULL, avail, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n >= avail) {
        if (strbuf_reserve(b, (size_t)n) < 0)
            return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

int strbuf_putc(struct strbuf *b, int c)
{
    if (strbuf_reserve(b, 1) < 0)
        return -ENOMEM;
    b->s[b->len++] = (char)c;
    b->s[b->len] = 0;
    return 0;
}

int strbuf_append(struct strbuf *b, const void *data, size_t len)
{
    if (strbuf_reserve(b, len) < 0)
        return -ENOMEM;
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = 0;
    return 0;
}

void strbuf_free(struct strbuf *b)
{
    free(b->s);
    *b = (struct strbuf)STRBUF_INIT;
}

static int strbuf_result(const struct strbuf *b)
{
    return b->oom ? -ENOMEM : 0;
}

/* ---- host files ---- */

/* Append a whole host file (a /proc file: read until EOF) to b. */
static int host_read(const char *path, struct strbuf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = 0;
    for (;;) {
        if (strbuf_reserve(b, 4096) < 0) {
            r = -ENOMEM;
            break;
        }
        ssize_t n = read(fd, b->s + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    if (b->s)
        b->s[b->len] = 0;
    close(fd);
    return r;
}

/* The value of the line "key:..." in text (after the colon and blanks),
 * with its length up to the newline; NULL if there is no such line. */
static const char *line_value(const char *text, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, kl) != 0 || l[kl] != ':')
            continue;
        const char *v = l + kl + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        const char *e = strchr(v, '\n');
        *len = e ? (size_t)(e - v) : strlen(v);
        return v;
    }
    return NULL;
}

/* The number after "key " at the start of a line (/proc/stat's layout). */
static unsigned long long line_ull_sp(const char *text, const char *key, int *found)
{
    size_t kl = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
            *found = 1;
            return strtoull(l + kl + 1, NULL, 10);
        }
    }
    *found = 0;
    return 0;
}

/* The sentry's own /proc/self/status, read once: the guest inherits
 * sandbox-run's memory policy, speculation controls, NUMA nodes and
 * bounding set, and the host kernel decides which optional lines exist. */
static char *host_status;
static pthread_once_t host_status_once = PTHREAD_ONCE_INIT;

static void host_status_load(void)
{
    struct strbuf b = STRBUF_INIT;
    if (host_read("/proc/self/status", &b) == 0 && !b.oom)
        host_status = b.s;
    else
        strbuf_free(&b);
}

static const char *host_status_value(const char *key, size_t *len)
{
    pthread_once(&host_status_once, host_status_load);
    return host_status ? line_value(host_status, key, len) : NULL;
}

/* Print "key:\t<host's value>\n" if the host has the line, else "key:\t<dflt>\n"
 * when dflt is non-NULL (and nothing when it is NULL). */
static void put_host_line(struct strbuf *out, const char *key, const char *dflt)
{
    size_t len;
    const char *v = host_status_value(key, &len);
    if (v)
        strbuf_printf(out, "%s:\t%.*s\n", key, (int)len, v);
    else if (dflt)
        strbuf_printf(out, "%s:\t%s\n", key, dflt);
}

/* 1 if the host kernel prints this status line; dflt without its file. */
static int host_has_status_line(const char *key, int dflt)
{
    size_t len;
    pthread_once(&host_status_once, host_status_load);
    return host_status ? line_value(host_status, key, &len) != NULL : dflt;
}

/* nr_cpu_ids: the width of Cpus_allowed, from the possible-CPU list. */
static int ncpu_ids;
static pthread_once_t ncpu_once = PTHREAD_ONCE_INIT;

static void ncpu_load(void)
{
    struct strbuf b = STRBUF_INIT;
    int n = 0;
    if (host_read("/sys/devices/system/cpu/possible", &b) == 0 && b.s) {
        /* "0-3" or "0,2-5": the last number is the highest id. */
        const char *p = b.s + b.len;
        while (p > b.s && (p[-1] < '0' || p[-1] > '9'))
            p--;
        while (p > b.s && p[-1] >= '0' && p[-1] <= '9')
            p--;
        n = atoi(p) + 1;
    }
    strbuf_free(&b);
    if (n <= 0)
        n = get_nprocs_conf();
    ncpu_ids = n > 0 ? n : 1;
}

/* ---- per-process state ---- */

/* Page counts from the VMA set, as Linux keeps them in mm_struct
 * (vm_stat_account). The stub region is the sandbox's own: not counted. */
struct vm_counts {
    uint64_t total, data, stack, exec, rw_private;
    uint64_t locked; /* locked_vm: pages of VMA_LOCKED mappings (VmLck) */
};

static int vma_is_stack(const struct vma *v)
{
    return v->kind == VMA_STACK || (v->flags & MAP_GROWSDOWN);
}

static void count_vmas(const struct mm *mm, struct vm_counts *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < mm->vmas.n; i++) {
        const struct vma *v = &mm->vmas.v[i];
        if (v->kind == VMA_STUB)
            continue;
        uint64_t pages = (v->end - v->start) / GUEST_PAGE;
        int shared = (v->flags & MAP_SHARED) != 0, stack = vma_is_stack(v);
        c->total += pages;
        if (v->locked & VMA_LOCKED)
            c->locked += pages;
        if (stack)
            c->stack += pages;
        else if ((v->prot & PROT_WRITE) && !shared)
            c->data += pages;
        else if ((v->prot & (PROT_EXEC | PROT_WRITE)) == PROT_EXEC)
            c->exec += pages;
        if ((v->prot & PROT_WRITE) && !shared)
            c->rw_private += pages;
    }
}

/* What the generators read of an mm, copied under its lock. */
struct mm_snap {
    int have;
    struct vm_counts vc;
    uint64_t start_code, end_code, start_data, end_data, brk_start;
    uint64_t arg_start, arg_end, env_start, env_end;
};

/* mm (NULL: none) as the generators read it; the caller holds a
 * reference (process_mm_get), which it uses for the rest of its reading
 * too, so that all of it is of one address space. */
static void mm_snapshot(struct mm *mm, struct mm_snap *s)
{
    memset(s, 0, sizeof(*s));
    if (!mm)
        return;
    pthread_mutex_lock(&mm->view_lock);
    s->have = 1;
    count_vmas(mm, &s->vc);
    s->start_code = mm->start_code;
    s->end_code = mm->end_code;
    s->start_data = mm->start_data;
    s->end_data = mm->end_data;
    s->brk_start = mm->brk_start;
    s->arg_start = mm->arg_start;
    s->arg_end = mm->arg_end;
    s->env_start = mm->env_start;
    s->env_end = mm->env_end;
    pthread_mutex_unlock(&mm->view_lock);
}

/* Resident pages when the host's numbers are not available (no stub, as in
 * unit tests): every private writable page, the pages a program dirties.
 * An approximation: it counts untouched pages and misses read-only ones. */
static uint64_t approx_rss(const struct mm_snap *s)
{
    return s->vc.rw_private;
}

/* PTRACE_MODE_READ as /proc checks it: the same process, a reader whose
 * fs ids match all of the target's ids, or a reader with CAP_SYS_PTRACE.
 * A NULL reader is the sentry itself. */
static int may_read(struct task *reader, struct process *p)
{
    if (!reader || reader->proc == p)
        return 1;
    const struct creds *r = reader->cred;
    if (creds_capable(r, GCAP_SYS_PTRACE))
        return 1;
    const struct creds *c = process_cred_get(p);
    if (!c)
        return 0;
    int ok = r->fsuid == c->uid && r->fsuid == c->euid && r->fsuid == c->suid &&
             r->fsgid == c->gid && r->fsgid == c->egid && r->fsgid == c->sgid;
    creds_put(c);
    return ok;
}

static struct guest_rlimit get_rlimit(struct process *p, int res)
{
    if (p->sandbox)
        pthread_mutex_lock(&p->sandbox->lock);
    struct guest_rlimit r = p->rlim[res];
    if (p->sandbox)
        pthread_mutex_unlock(&p->sandbox->lock);
    return r;
}

/* Signals ignored and caught, bit (sig - 1) as in a sigset. */
static void sig_disposition(struct process *p, uint64_t *ign, uint64_t *cgt)
{
    *ign = *cgt = 0;
    struct sighand *sh = p->sighand;
    if (!sh)
        return;
    pthread_mutex_lock(&sh->lock);
    for (int i = 0; i < GUEST_NSIG; i++) {
        uint64_t h = sh->act[i].handler;
        if (h == 1 /* SIG_IGN */)
            *ign |= 1ULL << i;
        else if (h != 0 /* SIG_DFL */)
            *cgt |= 1ULL << i;
    }
    pthread_mutex_unlock(&sh->lock);
}

/* What stat and status both read of p: its memory (the host's usage
 * in full or not, as mm_host_usage's full), its signal
 * dispositions, and the blocked mask, of the reading thread only: no other
 * is known without a thread list. */
struct proc_view {
    struct mm_snap m;
    struct mm_usage u;
    uint64_t ign, cgt, blocked;
};

static void proc_view(struct proc_view *v, struct task *reader, struct process *p, int full)
{
    struct mm *mm = process_mm_get(p);
    mm_snapshot(mm, &v->m);
    mm_host_usage(mm, &v->u, full);
    mm_put(mm);
    sig_disposition(p, &v->ign, &v->cgt);
    v->blocked = reader && reader->proc == p ? reader->sigmask : 0;
}

static size_t comm_len(const struct process *p)
{
    return strnlen(p->comm, sizeof(p->comm));
}

/* CLOCK_MONOTONIC ns to clock ticks (USER_HZ 100) since boot, as Linux's
 * start_boottime: boot time runs ahead of monotonic by the time suspended. */
static unsigned long long start_ticks(uint64_t mono_ns)
{
    struct timespec m, bt;
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    int64_t off = ((int64_t)bt.tv_sec - m.tv_sec) * 1000000000LL + (bt.tv_nsec - m.tv_nsec);
    if (off < 0)
        off = 0;
    return (mono_ns + (uint64_t)off) / (1000000000ULL / 100);
}

/* ---- /proc/PID/stat ---- */

int procfs_gen_stat(struct strbuf *out, struct task *reader, struct process *p)
{
    int self = reader && reader->proc == p;
    int permitted = may_read(reader, p);
    struct proc_view v;
    proc_view(&v, reader, p, 0);
    unsigned long long rsslim = get_rlimit(p, RLIMIT_RSS).cur;
    unsigned long long rss = v.u.have ? v.u.rss : approx_rss(&v.m);

    /* No controlling tty (tty_nr 0, tpgid -1). flags 0: no PF_* state (no
     * PF_RANDOMIZE: the layout is fixed). */
    strbuf_printf(out, "%d (%.*s) %c %d %d %d 0 -1 0", p->pid, (int)comm_len(p), p->comm,
                  p->state == PROC_ZOMBIE                                           ? 'Z'
                  : self                                                            ? 'R'
                  : __atomic_load_n(&p->job_state, __ATOMIC_RELAXED) == JOB_STOPPED ? 'T'
                                                                                    : 'S',
                  process_ppid(p), p->pgid, p->sid);
    /* minflt cminflt majflt cmajflt utime stime cutime cstime: children's
     * totals are not kept. */
    strbuf_printf(out, " %llu 0 %llu 0 %llu %llu 0 0", v.u.minflt, v.u.majflt, v.u.utime,
                  v.u.stime);
    /* priority and nice: the leader's guest-visible scheduling state
     * (sys_sched.c): 20 + nice, or -1 - the rt priority under SCHED_FIFO
     * and SCHED_RR. One thread per process (no thread list). itrealvalue
     * is always 0. */
    int nice = 0, policy = 0, rtprio = 0;
    if (p->sandbox)
        pthread_mutex_lock(&p->sandbox->tasklist); /* the leader is p's while under it */
    const struct task *lt = p->leader;
    if (lt) {
        nice = lt->nice;
        policy = lt->sched_policy;
        rtprio = policy == 1 || policy == 2 ? lt->sched_priority : 0;
    }
    if (p->sandbox)
        pthread_mutex_unlock(&p->sandbox->tasklist);
    int prio = rtprio ? -1 - rtprio : 20 + nice;
    strbuf_printf(out, " %d %d 1 0 %llu %llu %llu %llu", prio, nice, start_ticks(p->start_time),
                  (unsigned long long)(v.m.vc.total * GUEST_PAGE), rss, rsslim);
    /* startstack: the initial stack pointer is not kept in struct mm.
     * kstkesp/kstkeip are 0 unless the task is exiting, as in Linux. */
    strbuf_printf(out, " %llu %llu 0 0 0",
                  (unsigned long long)(v.m.have ? (permitted ? v.m.start_code : 1) : 0),
                  (unsigned long long)(v.m.have ? (permitted ? v.m.end_code : 1) : 0));
    /* signal (no pending queue yet), blocked, sigignore, sigcatch, wchan
     * (1 when sleeping), nswap, cnswap, exit_signal (SIGCHLD). */
    strbuf_printf(out, " 0 %llu %llu %llu %d 0 0 17",
                  (unsigned long long)(v.blocked & 0x7fffffffULL),
                  (unsigned long long)(v.ign & 0x7fffffffULL),
                  (unsigned long long)(v.cgt & 0x7fffffffULL), (self || !permitted) ? 0 : 1);
    /* processor rt_priority policy delayacct_blkio_ticks guest_time cguest_time */
    strbuf_printf(out, " %ld %d %d 0 0 0", v.u.processor, rtprio, policy);
    if (v.m.have && permitted)
        strbuf_printf(out,
                      " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                      " %" PRIu64,
                      v.m.start_data, v.m.end_data, v.m.brk_start, v.m.arg_start, v.m.arg_end,
                      v.m.env_start, v.m.env_end);
    else
        strbuf_printf(out, " 0 0 0 0 0 0 0");
    /* exit_code: 0 while the process lives (a dying one's is on its task). */
    strbuf_printf(out, " 0\n");
    return strbuf_result(out);
}

/* ---- /proc/PID/status ---- */

/* The cpu bitmap as "%*pb" prints it: hex, 32-bit groups, commas. */
static void put_cpumask(struct strbuf *out, const cpu_set_t *set, size_t setsize, int nbits)
{
    int chunk = nbits % 32 ? nbits % 32 : 32;
    int top = ((nbits + 31) / 32 - 1) * 32;
    for (int i = top; i >= 0; i -= 32) {
        uint32_t val = 0;
        for (int b = 0; b < chunk; b++)
            if (CPU_ISSET_S((size_t)(i + b), setsize, set))
                val |= 1U << b;
        strbuf_printf(out, "%s%0*x", i == top ? "" : ",", (chunk + 3) / 4, val);
        chunk = 32;
    }
}

/* The same as "%*pbl": ranges such as 0-3,8. */
static void put_cpulist(struct strbuf *out, const cpu_set_t *set, size_t setsize, int nbits)
{
    const char *sep = "";
    for (int i = 0; i < nbits;) {
        if (!CPU_ISSET_S((size_t)i, setsize, set)) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < nbits && CPU_ISSET_S((size_t)(j + 1), setsize, set))
            j++;
        if (j > i)
            strbuf_printf(out, "%s%d-%d", sep, i, j);
        else
            strbuf_printf(out, "%s%d", sep, i);
        sep = ",";
        i = j + 1;
    }
}

/* Cpus_allowed: the affinity sched_getaffinity gives the guest (the
 * sentry thread's own). */
static void put_cpus_allowed(struct strbuf *out)
{
    pthread_once(&ncpu_once, ncpu_load);
    int n = ncpu_ids;
    size_t size = CPU_ALLOC_SIZE(n);
    cpu_set_t *set = CPU_ALLOC(n);
    if (!set) {
        out->oom = 1;
        return;
    }
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) < 0)
        CPU_ZERO_S(size, set);
    strbuf_printf(out, "Cpus_allowed:\t");
    put_cpumask(out, set, size, n);
    strbuf_printf(out, "\nCpus_allowed_list:\t");
    put_cpulist(out, set, size, n);
    strbuf_putc(out, '\n');
    CPU_FREE(set);
}

/* status, first part: names, state, ids, creds, fd table, namespaces. */
static void status_ids(struct strbuf *out, struct process *p, int self, const struct creds *c)
{
    /* Name is escaped (only '\n' and '\\'), as proc_task_name(escape). */
    strbuf_printf(out, "Name:\t");
    for (size_t i = 0, n = comm_len(p); i < n; i++) {
        if (p->comm[i] == '\n')
            strbuf_printf(out, "\\n");
        else if (p->comm[i] == '\\')
            strbuf_printf(out, "\\\\");
        else
            strbuf_putc(out, p->comm[i]);
    }
    strbuf_printf(out, "\nUmask:\t%#04o\n",
                  p->fs ? (unsigned)__atomic_load_n(&p->fs->umask, __ATOMIC_RELAXED) : 022U);
    strbuf_printf(out, "State:\t%s\n",
                  p->state == PROC_ZOMBIE ? "Z (zombie)"
                  : self                  ? "R (running)"
                  : __atomic_load_n(&p->job_state, __ATOMIC_RELAXED) == JOB_STOPPED
                      ? "T (stopped)"
                      : "S (sleeping)");
    strbuf_printf(out, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p->pid, p->pid,
                  process_ppid(p));
    strbuf_printf(out, "Uid:\t%u\t%u\t%u\t%u\n", c->uid, c->euid, c->suid, c->fsuid);
    strbuf_printf(out, "Gid:\t%u\t%u\t%u\t%u\n", c->gid, c->egid, c->sgid, c->fsgid);
    int fdsize = 0;
    if (p->files) {
        pthread_mutex_lock(&p->files->lock);
        fdsize = p->files->n;
        pthread_mutex_unlock(&p->files->lock);
        if (fdsize < 64)
            fdsize = 64; /* Linux's smallest table */
    }
    /* Space-separated, and then the trailing space Linux always adds. */
    strbuf_printf(out, "FDSize:\t%d\nGroups:\t", fdsize);
    for (int g = 0; g < c->ngroups; g++)
        strbuf_printf(out, g ? " %u" : "%u", c->groups[g]);
    strbuf_printf(out, " \n");
    /* One pid namespace level; pgid and sid as in stat. */
    strbuf_printf(out, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p->pid, p->pid,
                  p->pgid, p->sid);
    if (host_has_status_line("Kthread", 1))
        strbuf_printf(out, "Kthread:\t0\n");
}

/* status, the memory lines (Vm*, Rss*), when there is an address space. */
static void status_memory(struct strbuf *out, const struct proc_view *v)
{
    if (!v->m.have)
        return;
    uint64_t text = 0;
    if (v->m.end_code > v->m.start_code)
        text = PAGE_UP(v->m.end_code) - PAGE_DOWN(v->m.start_code);
    uint64_t exec = v->m.vc.exec * GUEST_PAGE;
    if (text > exec)
        text = exec;
    unsigned long long total = v->m.vc.total * 4, rss, anon, file, shmem, hwm, pte, swap;
    if (v->u.have) {
        rss = v->u.rss * 4;
        anon = v->u.anon;
        file = v->u.file;
        shmem = v->u.shmem;
        hwm = v->u.hwm;
        pte = v->u.pte;
        swap = v->u.swap;
    } else {
        rss = anon = hwm = approx_rss(&v->m) * 4;
        file = shmem = pte = swap = 0;
    }
    /* No high-water mark of the VMA set is kept: VmPeak is VmSize. */
    strbuf_printf(out, "VmPeak:\t%8llu kB\nVmSize:\t%8llu kB\nVmLck:\t%8llu kB\nVmPin:\t%8u kB\n",
                  total, total, (unsigned long long)v->m.vc.locked * 4, 0);
    strbuf_printf(out, "VmHWM:\t%8llu kB\nVmRSS:\t%8llu kB\nRssAnon:\t%8llu kB\n", hwm, rss, anon);
    strbuf_printf(out, "RssFile:\t%8llu kB\nRssShmem:\t%8llu kB\n", file, shmem);
    strbuf_printf(out, "VmData:\t%8llu kB\nVmStk:\t%8llu kB\n",
                  (unsigned long long)v->m.vc.data * 4, (unsigned long long)v->m.vc.stack * 4);
    strbuf_printf(out, "VmExe:\t%8llu kB\nVmLib:\t%8llu kB\n", (unsigned long long)(text >> 10),
                  (unsigned long long)((exec - text) >> 10));
    strbuf_printf(out, "VmPTE:\t%8llu kB\nVmSwap:\t%8llu kB\n", pte, swap);
    if (host_has_status_line("HugetlbPages", 1))
        strbuf_printf(out, "HugetlbPages:\t%8u kB\n", 0);
    if (host_has_status_line("CoreDumping", 1))
        strbuf_printf(out, "CoreDumping:\t0\n");
    put_host_line(out, "THP_enabled", "1");
    put_host_line(out, "untag_mask", NULL);
}

/* status, the last part: signals, capabilities, seccomp, CPUs. */
static void status_signals_caps(struct strbuf *out, struct process *p, const struct proc_view *v,
                                const struct creds *c)
{
    unsigned long long sigq_lim = get_rlimit(p, RLIMIT_SIGPENDING).cur;
    /* SigQ: nothing queued (no signal queue yet) / RLIMIT_SIGPENDING. */
    strbuf_printf(out, "Threads:\t%d\nSigQ:\t0/%llu\n", p->nr_live ? p->nr_live : 1, sigq_lim);
    strbuf_printf(out, "SigPnd:\t%016llx\nShdPnd:\t%016llx\nSigBlk:\t%016llx\n", 0ULL, 0ULL,
                  (unsigned long long)v->blocked);
    strbuf_printf(out, "SigIgn:\t%016llx\nSigCgt:\t%016llx\n", (unsigned long long)v->ign,
                  (unsigned long long)v->cgt);

    /* The guest's own capability sets, from the sentry's model of its
     * credentials (never sandbox-run's, which the guest does not have). */
    strbuf_printf(
        out,
        "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\nCapAmb:\t%016llx\n",
        (unsigned long long)c->cap_inheritable, (unsigned long long)c->cap_permitted,
        (unsigned long long)c->cap_effective, (unsigned long long)c->cap_bset,
        (unsigned long long)c->cap_ambient);

    /* NoNewPrivs as prctl(PR_GET_NO_NEW_PRIVS) answers the leader: set
     * from the start (the sandbox runs with it, sys_prctl). The guest has
     * no seccomp filter of its own: the stub's filter is the sandbox's,
     * not the guest's. */
    int nnp = 1;
    if (p->sandbox)
        pthread_mutex_lock(&p->sandbox->tasklist);
    if (p->leader)
        nnp = p->leader->no_new_privs;
    if (p->sandbox)
        pthread_mutex_unlock(&p->sandbox->tasklist);
    strbuf_printf(out, "NoNewPrivs:\t%d\nSeccomp:\t0\n", nnp);
    if (host_has_status_line("Seccomp_filters", 1))
        strbuf_printf(out, "Seccomp_filters:\t0\n");
    put_host_line(out, "Speculation_Store_Bypass", "unknown");
    put_host_line(out, "SpeculationIndirectBranch", NULL);
    put_cpus_allowed(out);
    put_host_line(out, "Mems_allowed", "1");
    put_host_line(out, "Mems_allowed_list", "0");
    /* Context switches are not counted. */
    strbuf_printf(out, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    /* No shadow stack for the guest: empty feature lists. */
    if (host_has_status_line("x86_Thread_features", 0))
        strbuf_printf(out, "x86_Thread_features:\t\nx86_Thread_features_locked:\t\n");
}

int procfs_gen_status(struct strbuf *out, struct task *reader, struct process *p)
{
    struct proc_view v;
    proc_view(&v, reader, p, 1);
    /* A reference to the leader's creds: consistent even if it changes
     * them meanwhile. */
    static const struct creds no_creds;
    const struct creds *held = process_cred_get(p), *c = held ? held : &no_creds;
    status_ids(out, p, reader && reader->proc == p, c);
    status_memory(out, &v);
    status_signals_caps(out, p, &v, c);
    creds_put(held);
    return strbuf_result(out);
}

/* ---- /proc/PID/statm ---- */

int procfs_gen_statm(struct strbuf *out, struct task *reader, struct process *p)
{
    (void)reader;
    struct mm_snap m;
    struct mm *mm = process_mm_get(p);
    mm_snapshot(mm, &m);
    struct mm_usage u;
    mm_host_usage(mm, &u, 1);
    mm_put(mm);
    if (!m.have) {
        strbuf_printf(out, "0 0 0 0 0 0 0\n");
        return strbuf_result(out);
    }
    unsigned long long shared = 0, resident;
    if (u.have) {
        shared = (u.file + u.shmem) / 4;
        resident = shared + u.anon / 4;
    } else {
        resident = approx_rss(&m);
    }
    uint64_t text = 0;
    if (m.end_code > m.start_code)
        text = (PAGE_UP(m.end_code) - PAGE_DOWN(m.start_code)) / GUEST_PAGE;
    strbuf_printf(out, "%llu %llu %llu %llu 0 %llu 0\n", (unsigned long long)m.vc.total, resident,
                  shared, (unsigned long long)text, (unsigned long long)(m.vc.data + m.vc.stack));
    return strbuf_result(out);
}

/* ---- cmdline, environ, comm ---- */

/* Append guest memory [start, end) of p, stopping at the first page that
 * cannot be read, as access_remote_vm does. Nothing once the stub is gone. */
static int read_guest(struct strbuf *out, struct mm *mm, uint64_t start, uint64_t end)
{
    pid_t pid = mm_host_pid(mm);
    if (!pid || end <= start || !guest_range_ok(start, end - start))
        return strbuf_result(out);
    /* The stub region is not the guest's to show. */
    if (!mm_clip_guest_range(start, &end))
        return strbuf_result(out);
    size_t at = out->len;
    while (start < end) {
        size_t chunk = (size_t)(GUEST_PAGE - (start & (GUEST_PAGE - 1)));
        if (chunk > end - start)
            chunk = (size_t)(end - start);
        if (strbuf_reserve(out, chunk) < 0)
            return -ENOMEM;
        if (mem_read(pid, out->s + out->len, start, chunk) < 0)
            break;
        out->len += chunk;
        start += chunk;
    }
    if (!mm_host_pid_still_ours(mm))
        out->len = at;
    if (out->s)
        out->s[out->len] = 0;
    return strbuf_result(out);
}

/* get_mm_cmdline: argv's strings; if the last byte of that area is not a
 * NUL the program rewrote its title (setproctitle), and the title runs on
 * into the environment area up to its first NUL, within one page. */
static int gen_cmdline(struct strbuf *out, struct mm *mm, const struct mm_snap *snap)
{
    const struct mm_snap m = *snap;
    uint64_t env_end = m.env_end;
    if (m.env_start != m.arg_end || m.env_end < m.env_start)
        env_end = m.arg_end;
    char last = 0;
    pid_t pid = mm_host_pid(mm);
    if (pid && guest_range_ok(m.arg_end - 1, 1) && mem_read(pid, &last, m.arg_end - 1, 1) == 0 &&
        last) {
        uint64_t end = m.arg_start + GUEST_PAGE;
        if (end > env_end)
            end = env_end;
        size_t at = out->len;
        int r = read_guest(out, mm, m.arg_start, end);
        if (r < 0)
            return r;
        char *z = out->len > at ? memchr(out->s + at, 0, out->len - at) : NULL;
        if (z) {
            out->len = (size_t)(z - out->s) + 1;
            out->s[out->len] = 0;
        }
        return strbuf_result(out);
    }
    return read_guest(out, mm, m.arg_start, m.arg_end);
}

int procfs_gen_cmdline(struct strbuf *out, struct task *reader, struct process *p)
{
    (void)reader;
    struct mm_snap m;
    struct mm *mm = process_mm_get(p);
    mm_snapshot(mm, &m);
    int r = !m.have || !m.env_end || m.arg_start >= m.arg_end ? strbuf_result(out)
                                                              : gen_cmdline(out, mm, &m);
    mm_put(mm);
    return r;
}

int procfs_gen_environ(struct strbuf *out, struct task *reader, struct process *p)
{
    if (!may_read(reader, p))
        return -EACCES;
    struct mm_snap m;
    struct mm *mm = process_mm_get(p);
    mm_snapshot(mm, &m);
    int r =
        !m.have || !m.env_end ? strbuf_result(out) : read_guest(out, mm, m.env_start, m.env_end);
    mm_put(mm);
    return r;
}

int procfs_gen_comm(struct strbuf *out, struct task *reader, struct process *p)
{
    (void)reader;
    strbuf_append(out, p->comm, comm_len(p));
    strbuf_putc(out, '\n');
    return strbuf_result(out);
}

/* ---- /proc/PID/maps ---- */

/* One line as show_map_vma prints it: the name, if any, starts at column
 * 73 (seq_setwidth 25 + 6 * sizeof(void *) - 1, then seq_pad adds ' ').
 * off, dev and ino are those of a file mapping; anonymous memory (and the
 * image, which the loader copies in) has 0. */
static void maps_line(struct strbuf *out, uint64_t start, uint64_t end, const char *perms,
                      uint64_t off, uint64_t dev, uint64_t ino, const char *name)
{
    size_t line = out->len;
    strbuf_printf(out, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 " ", start,
                  end, perms, off, major((dev_t)dev), minor((dev_t)dev), ino);
    if (name) {
        for (size_t col = out->len - line; col < 72; col++)
            strbuf_putc(out, ' ');
        strbuf_putc(out, ' ');
        /* seq_path escapes a newline in the path as \012. */
        for (const char *c = name; *c; c++) {
            if (*c == '\n')
                strbuf_printf(out, "\\012");
            else
                strbuf_putc(out, *c);
        }
    }
    strbuf_putc(out, '\n');
}

/* Linux merges adjacent anonymous VMAs with equal attributes; the sentry's
 * set keeps the pieces (each brk step is one), so merge them when showing. */
static int mergeable(const struct vma *a, const struct vma *b)
{
    if (a->end != b->start || a->kind != b->kind || a->prot != b->prot || a->flags != b->flags)
        return 0;
    /* Pieces of one mapping of a file (the same open file, offsets that
     * follow on), as vma_merge joins them. */
    if (a->kind == VMA_FILE)
        return a->file == b->file && a->noprot == b->noprot &&
               b->off == a->off + (a->end - a->start);
    return a->kind == VMA_ANON || a->kind == VMA_HEAP || a->kind == VMA_STACK;
}

/* The host's [vsyscall] line, which every guest address space has (it is
 * the host kernel's, above TASK_SIZE), found once in the sentry's maps. */
static char vsyscall_perms[5];
static pthread_once_t vsyscall_once = PTHREAD_ONCE_INIT;

static void vsyscall_load(void)
{
    struct strbuf b = STRBUF_INIT;
    if (host_read("/proc/self/maps", &b) == 0 && b.s) {
        char *l = strstr(b.s, "[vsyscall]");
        if (l) {
            while (l > b.s && l[-1] != '\n')
                l--;
            char *sp = strchr(l, ' ');
            if (sp && sp[1] && sp[2] && sp[3] && sp[4])
                memcpy(vsyscall_perms, sp + 1, 4);
        }
    }
    strbuf_free(&b);
}

/* A copy of mm's VMAs (with their own file references) and, returned, its
 * exe name in a buffer with PATH_MAX_LEN more bytes after it (NULL when
 * out of memory): file names are looked up without the mm's lock held. */
static char *maps_snapshot(struct mm *mm, struct vma_set *copy)
{
    char *exe = malloc(sizeof(mm->exe) + PATH_MAX_LEN);
    if (!exe)
        return NULL;
    pthread_mutex_lock(&mm->view_lock);
    copy->n = mm->vmas.n;
    copy->v = malloc((copy->n ? copy->n : 1) * sizeof(struct vma));
    if (copy->v) {
        memcpy(copy->v, mm->vmas.v, copy->n * sizeof(struct vma));
        for (size_t i = 0; i < copy->n; i++)
            if (copy->v[i].file)
                file_get(copy->v[i].file);
    }
    memcpy(exe, mm->exe, sizeof(mm->exe));
    pthread_mutex_unlock(&mm->view_lock);
    if (!copy->v) {
        free(exe);
        return NULL;
    }
    return exe;
}

int procfs_gen_maps(struct strbuf *out, struct task *reader, struct process *p)
{
    if (!may_read(reader, p))
        return -EACCES;
    struct mm *mm = process_mm_get(p);
    if (!mm)
        return strbuf_result(out);
    struct vma_set copy = { 0 };
    char *exe = maps_snapshot(mm, &copy), *fname = exe + sizeof(mm->exe);
    mm_put(mm);
    if (!exe)
        return -ENOMEM;
    /* Paths as the reader sees them, from its root (seq_file_path). */
    struct path root = { 0 };
    if (reader && reader->proc && reader->proc->fs) {
        pthread_mutex_lock(&reader->proc->fs->lock);
        root = reader->proc->fs->root;
        path_get(&root);
        pthread_mutex_unlock(&reader->proc->fs->lock);
    }
    const struct vma_set *s = &copy;
    for (size_t i = 0; i < s->n; i++) {
        const struct vma *v = &s->v[i];
        if (v->kind == VMA_STUB)
            continue;
        uint64_t end = v->end;
        size_t j = i;
        while (j + 1 < s->n && mergeable(&s->v[j], &s->v[j + 1]))
            end = s->v[++j].end;
        int shared = (v->flags & MAP_SHARED) != 0;
        char perms[5] = { v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
                          v->prot & PROT_EXEC ? 'x' : '-', shared ? 's' : 'p', 0 };
        const char *name = NULL;
        switch (v->kind) {
        case VMA_HEAP:
            name = "[heap]";
            break;
        case VMA_STACK:
            name = "[stack]";
            break;
        case VMA_VDSO:
            name = "[vdso]";
            break;
        case VMA_VVAR:
            /* Linux 6.13+ has [vvar] then [vvar_vclock] right before the
             * vDSO; the sentry records both as VMA_VVAR. */
            name = (i > 0 && s->v[i - 1].kind == VMA_VVAR && s->v[i - 1].end == v->start &&
                    i + 1 < s->n && s->v[i + 1].kind == VMA_VDSO && s->v[i + 1].start == v->end)
                       ? "[vvar_vclock]"
                       : "[vvar]";
            break;
        case VMA_IMAGE:
            name = exe[0] ? exe : NULL;
            break;
        case VMA_FILE:
            if (v->file->dentry) {
                struct path fp = { v->file->mnt, v->file->dentry };
                if (vfs_d_path(&fp, root.d ? &root : NULL, fname, PATH_MAX_LEN) >= 0)
                    name = fname;
            }
            break;
        default:
            /* Shared anonymous memory is a shmem file in Linux. */
            if (shared)
                name = "/dev/zero (deleted)";
            break;
        }
        if (v->kind == VMA_FILE)
            maps_line(out, v->start, end, perms, v->off, v->dev, v->ino, name);
        else
            maps_line(out, v->start, end, perms, 0, 0, 0, name);
        i = j;
    }
    free(exe);
    if (root.d)
        path_put(&root);
    vma_set_free(&copy);
    pthread_once(&vsyscall_once, vsyscall_load);
    if (vsyscall_perms[0])
        maps_line(out, 0xffffffffff600000ULL, 0xffffffffff601000ULL, vsyscall_perms, 0, 0, 0,
                  "[vsyscall]");
    return strbuf_result(out);
}

/* ---- mounts ---- */

/* seq_escape with " \t\n\\": those bytes as a backslash and three octal
 * digits, so that the fields stay space-separated. */
static void put_mangled(struct strbuf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
            strbuf_printf(out, "\\%03o", (unsigned char)*s);
        else
            strbuf_putc(out, *s);
    }
}

/* show_mnt_opts after " ro"/" rw": the per-mount flags in Linux's order;
 * the atime mode is relatime (the default) unless noatime or strictatime
 * (which shows nothing). */
static void put_mnt_opts(struct strbuf *out, const struct procfs_mount *m)
{
    int relatime = !m->noatime && !m->strictatime;
    strbuf_printf(out, "%s%s%s%s%s%s%s", m->rdonly ? "ro" : "rw", m->nosuid ? ",nosuid" : "",
                  m->nodev ? ",nodev" : "", m->noexec ? ",noexec" : "",
                  m->noatime ? ",noatime" : "", m->nodiratime ? ",nodiratime" : "",
                  relatime ? ",relatime" : "");
}

/* show_vfsmnt and show_mountinfo of fs/proc_namespace.c. */
int procfs_gen_mount_line(struct strbuf *out, const struct procfs_mount *m, int info)
{
    const char *source = m->source && *m->source ? m->source : "none";
    const char *sbo = m->sb_options;
    if (!info) {
        put_mangled(out, source);
        strbuf_putc(out, ' ');
        put_mangled(out, m->mountpoint);
        strbuf_putc(out, ' ');
        put_mangled(out, m->type);
        strbuf_putc(out, ' ');
        put_mnt_opts(out, m);
        strbuf_printf(out, "%s%s 0 0\n", sbo ? "," : "", sbo ? sbo : "");
        return strbuf_result(out);
    }
    strbuf_printf(out, "%d %d %u:%u ", m->id, m->parent_id, m->dev_major, m->dev_minor);
    put_mangled(out, m->root);
    strbuf_putc(out, ' ');
    put_mangled(out, m->mountpoint);
    strbuf_putc(out, ' ');
    put_mnt_opts(out, m);
    /* No propagation (shared:, master:) fields: every mount is private. */
    strbuf_printf(out, " - ");
    put_mangled(out, m->type);
    strbuf_putc(out, ' ');
    put_mangled(out, source);
    strbuf_printf(out, " %s%s%s\n", m->sb_rdonly ? "ro" : "rw", sbo ? "," : "", sbo ? sbo : "");
    return strbuf_result(out);
}

/* ---- system-wide files ---- */

/* The uptime the guest sees: the host's CLOCK_BOOTTIME, as Linux uses. */
static void guest_boottime(struct timespec *bt)
{
    clock_gettime(CLOCK_BOOTTIME, bt);
}

void procfs_sysinfo(struct sysinfo *si, unsigned tasks)
{
    struct sysinfo h;
    if (sysinfo(&h) < 0)
        memset(&h, 0, sizeof(h));
    memset(si, 0, sizeof(*si));
    struct timespec bt;
    guest_boottime(&bt);
    si->uptime = bt.tv_sec + (bt.tv_nsec ? 1 : 0); /* do_sysinfo rounds up */
    memcpy(si->loads, h.loads, sizeof(si->loads));
    si->totalram = h.totalram;
    si->freeram = h.freeram;
    si->sharedram = h.sharedram;
    si->bufferram = h.bufferram;
    si->totalswap = h.totalswap;
    si->freeswap = h.freeswap;
    si->mem_unit = h.mem_unit ? h.mem_unit : 1;
    si->procs = (unsigned short)(tasks > 0xffff ? 0xffff : tasks);
}

/* meminfo from procfs_sysinfo when the host's /proc/meminfo cannot be
 * read: the fields it knows, the others 0. */
static void meminfo_fallback(struct strbuf *out)
{
    struct sysinfo si;
    procfs_sysinfo(&si, 1);
    unsigned long long u = si.mem_unit;
#define KB(x) ((unsigned long long)(x)*u / 1024)
    const struct {
        const char *k;
        unsigned long long v;
    } f[] = {
        { "MemTotal", KB(si.totalram) },
        { "MemFree", KB(si.freeram) },
        { "MemAvailable", KB(si.freeram) },
        { "Buffers", KB(si.bufferram) },
        { "Cached", 0 },
        { "SwapCached", 0 },
        { "Active", 0 },
        { "Inactive", 0 },
        { "SwapTotal", KB(si.totalswap) },
        { "SwapFree", KB(si.freeswap) },
        { "Dirty", 0 },
        { "Shmem", KB(si.sharedram) },
        { "Slab", 0 },
        { "SReclaimable", 0 },
        { "SUnreclaim", 0 },
        { "CommitLimit", KB(si.totalswap) + KB(si.totalram) / 2 },
        { "Committed_AS", 0 },
        { "VmallocTotal", 34359738367ULL },
    };
#undef KB
    char key[32];
    for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
        snprintf(key, sizeof(key), "%s:", f[i].k);
        strbuf_printf(out, "%-16s%8llu kB\n", key, f[i].v);
    }
    strbuf_printf(out,
                  "HugePages_Total:   %5d\nHugePages_Free:    %5d\nHugePages_Rsvd:    %5d\n"
                  "HugePages_Surp:    %5d\nHugepagesize:   %8d kB\n",
                  0, 0, 0, 0, 2048);
}

/* The host's numbers in meminfo_proc_show's layout: show_val_kb lines
 * "%-16s%8lu kB", the HugePages_ counts "%-19s%5lu". */
int procfs_gen_meminfo(struct strbuf *out)
{
    struct strbuf h = STRBUF_INIT;
    if (host_read("/proc/meminfo", &h) < 0 || !h.s) {
        strbuf_free(&h);
        meminfo_fallback(out);
        return strbuf_result(out);
    }
    char key[64];
    for (char *l = h.s; *l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *colon = memchr(l, ':', len);
        char *endp;
        unsigned long long v = 0;
        int ok = colon && (size_t)(colon - l) + 1 < sizeof(key);
        if (ok) {
            v = strtoull(colon + 1, &endp, 10);
            ok = endp > colon + 1 && endp <= l + len;
        }
        if (ok) {
            memcpy(key, l, (size_t)(colon - l) + 1);
            key[colon - l + 1] = 0;
            size_t rest = len - (size_t)(endp - l);
            if (rest == 3 && memcmp(endp, " kB", 3) == 0)
                strbuf_printf(out, "%-16s%8llu kB\n", key, v);
            else if (rest == 0 && strncmp(key, "HugePages_", 10) == 0)
                strbuf_printf(out, "%-19s%5llu\n", key, v);
            else if (rest == 0)
                strbuf_printf(out, "%-16s%8llu\n", key, v);
            else
                ok = 0;
        }
        if (!ok) {
            strbuf_append(out, l, len);
            strbuf_putc(out, '\n');
        }
        l = nl ? nl + 1 : l + len;
    }
    strbuf_free(&h);
    return strbuf_result(out);
}

/* The guest runs on the host's CPUs: their description as the host gives it. */
int procfs_gen_cpuinfo(struct strbuf *out)
{
    struct strbuf h = STRBUF_INIT;
    int r = host_read("/proc/cpuinfo", &h);
    if (r == 0 && h.s)
        strbuf_append(out, h.s, h.len);
    strbuf_free(&h);
    return r < 0 ? r : strbuf_result(out);
}

/* Host boot time in seconds since the epoch (btime). */
static unsigned long long boot_epoch(void)
{
    struct timespec rt, bt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    int64_t ns = ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec);
    return ns > 0 ? (unsigned long long)(ns / 1000000000LL) : 0;
}

/* show_stat: the host's cpu lines, context switches and boot time; the
 * sandbox's process counts. The sandbox has no interrupts or softirqs of
 * its own: intr 0 with no per-irq list, and zero softirq counts. */
int procfs_gen_sysstat(struct strbuf *out, unsigned long processes, unsigned running)
{
    struct strbuf h = STRBUF_INIT;
    int have = host_read("/proc/stat", &h) == 0 && h.s;
    int cpus = 0;
    for (char *l = have ? h.s : NULL; l && *l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
        if (strncmp(l, "cpu", 3) == 0) {
            strbuf_append(out, l, len);
            if (!nl)
                strbuf_putc(out, '\n');
            cpus++;
        }
        l += len;
    }
    if (!cpus) {
        strbuf_printf(out, "cpu  0 0 0 0 0 0 0 0 0 0\n");
        for (int i = 0; i < get_nprocs(); i++)
            strbuf_printf(out, "cpu%d 0 0 0 0 0 0 0 0 0 0\n", i);
    }
    int found = 0;
    unsigned long long ctxt = have ? line_ull_sp(h.s, "ctxt", &found) : 0;
    unsigned long long btime = have ? line_ull_sp(h.s, "btime", &found) : 0;
    if (!found)
        btime = boot_epoch();
    strbuf_free(&h);
    strbuf_printf(
        out, "intr 0\nctxt %llu\nbtime %llu\nprocesses %lu\nprocs_running %u\nprocs_blocked 0\n",
        ctxt, btime, processes, running);
    strbuf_printf(out, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    return strbuf_result(out);
}

/* "%lu.%02lu %lu.%02lu": CLOCK_BOOTTIME as Linux uses, and the host's
 * idle time (summed over CPUs) from its /proc/uptime. */
int procfs_gen_uptime(struct strbuf *out)
{
    struct timespec bt;
    guest_boottime(&bt);
    unsigned long idle_s = 0, idle_cs = 0;
    struct strbuf h = STRBUF_INIT;
    if (host_read("/proc/uptime", &h) == 0 && h.s)
        sscanf(h.s, "%*s %lu.%lu", &idle_s, &idle_cs);
    strbuf_free(&h);
    strbuf_printf(out, "%lu.%02lu %lu.%02lu\n", (unsigned long)bt.tv_sec,
                  (unsigned long)(bt.tv_nsec / 10000000), idle_s, idle_cs % 100);
    return strbuf_result(out);
}

/* The host's load averages; the sandbox's task counts and last pid. */
int procfs_gen_loadavg(struct strbuf *out, unsigned running, unsigned total, int last_pid)
{
    struct sysinfo si;
    procfs_sysinfo(&si, total);
    /* sysinfo gives avenrun << (SI_LOAD_SHIFT - FSHIFT); Linux rounds by
     * FIXED_1/200 before printing two decimals. */
    unsigned long a[3];
    for (int i = 0; i < 3; i++)
        a[i] = (si.loads[i] >> 5) + 2048 / 200;
#define LOAD_INT(x) ((x) >> 11)
#define LOAD_FRAC(x) LOAD_INT(((x)&2047) * 100)
    strbuf_printf(out, "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %d\n", LOAD_INT(a[0]), LOAD_FRAC(a[0]),
                  LOAD_INT(a[1]), LOAD_FRAC(a[1]), LOAD_INT(a[2]), LOAD_FRAC(a[2]), running, total,
                  last_pid);
#undef LOAD_INT
#undef LOAD_FRAC
    return strbuf_result(out);
}

/* linux_proc_banner: "%s version %s (builder@host) (compiler) %s\n". The
 * guest's uname is the host's, so the host's banner agrees with it; only
 * the build part is not in uname, so without the host file it is unknown. */
int procfs_gen_version(struct strbuf *out)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    struct strbuf h = STRBUF_INIT;
    char head[sizeof(u.sysname) + sizeof(u.release) + 16];
    int n = snprintf(head, sizeof(head), "%s version %s (", u.sysname, u.release);
    size_t vl = strlen(u.version);
    if (host_read("/proc/version", &h) == 0 && h.s && strncmp(h.s, head, (size_t)n) == 0 &&
        h.len > vl + 1 && h.s[h.len - 1] == '\n' &&
        memcmp(h.s + h.len - 1 - vl, u.version, vl) == 0)
        strbuf_append(out, h.s, h.len);
    else
        strbuf_printf(out, "%s version %s (unknown@unknown) (unknown) %s\n", u.sysname, u.release,
                      u.version);
    strbuf_free(&h);
    return strbuf_result(out);
}

int procfs_gen_filesystems(struct strbuf *out, const struct procfs_fs *list)
{
    for (; list && list->name; list++)
        strbuf_printf(out, "%s\t%s\n", list->nodev ? "nodev" : "", list->name);
    return strbuf_result(out);
}

/* /proc/sys/kernel/{hostname,ostype,osrelease}: the fields of the uname
 * the guest gets (sys_uname passes the host's through). */
static int put_uts(struct strbuf *out, int which)
{
    struct utsname u;
    if (uname(&u) < 0)
        return -errno;
    strbuf_printf(out, "%s\n", which == 0 ? u.nodename : which == 1 ? u.sysname : u.release);
    return strbuf_result(out);
}

int procfs_gen_hostname(struct strbuf *out)
{
    return put_uts(out, 0);
}

int procfs_gen_ostype(struct strbuf *out)
{
    return put_uts(out, 1);
}

int procfs_gen_osrelease(struct strbuf *out)
{
    return put_uts(out, 2);
}

/* The sandbox's pids have no limit of their own: the host's pid_max, else
 * PID_MAX_LIMIT of 64-bit Linux. */
int procfs_gen_pid_max(struct strbuf *out)
{
    struct strbuf h = STRBUF_INIT;
    long v = 0;
    if (host_read("/proc/sys/kernel/pid_max", &h) == 0 && h.s)
        v = strtol(h.s, NULL, 10);
    strbuf_free(&h);
    strbuf_printf(out, "%ld\n", v > 0 ? v : 4194304L);
    return strbuf_result(out);
}

/* A random UUID (version 4, RFC 4122 variant) as "%pU" prints it. */
static int make_uuid(char s[37])
{
    uint8_t u[16];
    size_t got = 0;
    while (got < sizeof(u)) {
        ssize_t n = getrandom(u + got, sizeof(u) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        got += (size_t)n;
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
    return 0;
}

int procfs_gen_uuid(struct strbuf *out)
{
    char s[37];
    int r = make_uuid(s);
    if (r < 0)
        return r;
    strbuf_printf(out, "%s\n", s);
    return strbuf_result(out);
}

/* One boot id per sandbox (per sentry process), made on first use. A mutex
 * rather than pthread_once so a failed getrandom can be retried. */
int procfs_gen_boot_id(struct strbuf *out)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char id[37];
    pthread_mutex_lock(&lock);
    int r = id[0] ? 0 : make_uuid(id);
    pthread_mutex_unlock(&lock);
    if (r < 0)
        return r;
    strbuf_printf(out, "%s\n", id);
    return strbuf_result(out);
}

int procfs_last_pid(struct sandbox *box)
{
    pthread_mutex_lock(&box->lock);
    int pid = box->next_pid - 1;
    pthread_mutex_unlock(&box->lock);
    return pid;
}
