/* Unit test of the procfs generators: the strbuf, and the exact layout of
 * /proc/PID/{stat,status,statm,maps,cmdline,environ,comm} for fake
 * processes, meminfo's line format, the UUIDs and the other system files,
 * the capability sets of the credentials, and mounts/mountinfo lines. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "fs/procfs/procfs.h"
#include "platform/layout.h"
#include "platform/platform.h"
#include "sentry/kernel.h"

#define P 4096ULL

/* A fake process: image, heap in two brk pieces, a shared anonymous
 * mapping, the stub region, vvar/vvar_vclock/vdso and the stack. */
struct fake {
    struct process p;
    struct mm mm;
    struct sighand sh;
    struct sandbox sb;
    struct task t;        /* a task of p */
    struct process other; /* another process, for outside readers */
    struct task ot;
    struct stub stub;
    struct process parent; /* p's parent, pid 1 */
    /* t's and ot's creds, each with the one reference the test holds. */
    struct creds pc, oc;
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->mm.refs = 1; /* the fixture's own: never freed through mm_put */
    pthread_mutex_init(&f->mm.lock, NULL);
    pthread_mutex_init(&f->mm.view_lock, NULL);
    f->mm.vmas.lock = &f->mm.view_lock;
    pthread_mutex_init(&f->sh.lock, NULL);
    pthread_mutex_init(&f->sb.lock, NULL);
    struct vma_set *s = &f->mm.vmas;
    vma_insert(s, 0x400000, 0x401000, PROT_READ, MAP_PRIVATE, VMA_IMAGE);
    vma_insert(s, 0x401000, 0x404000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_IMAGE);
    vma_insert(s, 0x404000, 0x406000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_IMAGE);
    vma_insert(s, 0x406000, 0x408000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_HEAP);
    vma_insert(s, 0x408000, 0x409000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_HEAP);
    vma_insert(s, 0x7f0000000000, 0x7f0000002000, PROT_READ | PROT_WRITE, MAP_SHARED, VMA_ANON);
    vma_insert(s, 0x7f0000002000, 0x7f0000003000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_ANON);
    vma_insert(s, STUB_BASE, STUB_REGION_END, PROT_NONE, MAP_PRIVATE, VMA_STUB);
    vma_insert(s, 0x7ff000000000, 0x7ff000004000, PROT_READ, MAP_PRIVATE, VMA_VVAR);
    vma_insert(s, 0x7ff000004000, 0x7ff000006000, PROT_READ, MAP_PRIVATE, VMA_VVAR);
    vma_insert(s, 0x7ff000006000, 0x7ff000008000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_VDSO);
    vma_insert(s, 0x7ffff0000000, 0x7ffff0021000, PROT_READ | PROT_WRITE, MAP_PRIVATE, VMA_STACK);
    f->mm.start_code = 0x401000;
    f->mm.end_code = 0x403800;
    f->mm.start_data = 0x404000;
    f->mm.end_data = 0x405100;
    f->mm.brk_start = 0x406000;
    f->mm.brk = 0x409000;
    f->mm.arg_start = 0x7ffff0020000;
    f->mm.arg_end = 0x7ffff0020010;
    f->mm.env_start = 0x7ffff0020010;
    f->mm.env_end = 0x7ffff0020020;
    strcpy(f->mm.exe, "/usr/bin/prog");

    f->p.pid = 7;
    f->parent.pid = 1;
    f->p.parent = &f->parent;
    f->pc = (struct creds){ .refs = 1,
                            .uid = 1000,
                            .euid = 1001,
                            .suid = 1002,
                            .fsuid = 1003,
                            .gid = 100,
                            .egid = 101,
                            .sgid = 102,
                            .fsgid = 103 };
    creds_init_caps(&f->pc);
    for (int i = 0; i < GUEST_RLIM_NLIMITS; i++)
        f->p.rlim[i] = (struct guest_rlimit){ RLIM_INFINITY, RLIM_INFINITY };
    f->p.rlim[RLIMIT_SIGPENDING] = (struct guest_rlimit){ 1234, 1234 };
    f->p.mm = &f->mm;
    f->p.sighand = &f->sh;
    f->p.sandbox = &f->sb;
    strcpy(f->p.comm, "prog");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    f->p.start_time = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
    f->sh.act[SIGINT - 1].handler = 1;         /* SIG_IGN */
    f->sh.act[SIGTERM - 1].handler = 0x401234; /* caught */

    f->t.tid = 7;
    f->t.proc = &f->p;
    f->t.sigmask = 1ULL << (SIGUSR1 - 1);
    f->t.cred = &f->pc;
    f->t.no_new_privs = 1; /* as the sandbox starts its init */
    f->p.leader = &f->t;
    f->other = f->p;
    f->other.pid = 8;
    f->oc = f->pc;
    f->oc.euid = 0; /* privileged: may read p's private fields */
    creds_exec_caps(&f->oc);
    f->ot.tid = 8;
    f->ot.proc = &f->other;
    f->ot.cred = &f->oc;
    f->other.leader = &f->ot;

    f->sb.next_pid = 9;
}

static void fake_free(struct fake *f)
{
    vma_set_free(&f->mm.vmas);
}

/* Every test's fake process and text buffer (freed after it). */
static struct fake f;
static struct strbuf b;

static void setup(void)
{
    fake_init(&f);
    b = (struct strbuf)STRBUF_INIT;
}

static void teardown(void)
{
    strbuf_free(&b);
    fake_free(&f);
}

/* Number of lines in s. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The line of text starting with prefix, copied into buf (without '\n'). */
static const char *find_line(const char *text, const char *prefix, char *buf, size_t len)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, prefix, strlen(prefix)) == 0) {
            const char *e = strchr(l, '\n');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            if (n >= len)
                n = len - 1;
            memcpy(buf, l, n);
            buf[n] = 0;
            return buf;
        }
    }
    return NULL;
}

/* Each of the lines want (up to NULL) is in text: the line that starts with
 * its key (up to the first tab or space). */
static void lines_are(const char *text, const char *const *want)
{
    char line[512], key[64];
    for (; *want; want++) {
        size_t n = strcspn(*want, "\t ");
        ck_assert_uint_lt(n, sizeof(key));
        memcpy(key, *want, n);
        key[n] = 0;
        ck_assert_str_eq(find_line(text, key, line, sizeof(line)), *want);
    }
}

START_TEST(strbuf_grows)
{
    ck_assert_int_eq(strbuf_printf(&b, "%s", ""), 0);
    ck_assert_ptr_nonnull(b.s);
    ck_assert_str_eq(b.s, "");
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(strbuf_printf(&b, "%04d,", i), 0);
    ck_assert_uint_eq(b.len, 5000);
    ck_assert_int_eq(strncmp(b.s + 4995, "0999,", 5), 0);
    ck_assert_int_eq(strbuf_putc(&b, 'x'), 0);
    ck_assert_int_eq(strbuf_append(&b, "yz\0w", 4), 0);
    ck_assert_uint_eq(b.len, 5005);
    ck_assert_int_eq(memcmp(b.s + 5000, "xyz\0w", 5), 0);
    ck_assert_int_eq(b.s[b.len], 0);
    ck_assert_int_eq(b.oom, 0);
    strbuf_free(&b);
    ck_assert_ptr_null(b.s);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(stat_fields)
{
    strcpy(f.p.comm, "a) b (c");
    ck_assert_int_eq(procfs_gen_stat(&b, &f.ot, &f.p), 0);
    ck_assert_int_eq(count_lines(b.s), 1);
    ck_assert_int_eq(strncmp(b.s, "7 (a) b (c) S 1 0 0 0 -1 0 ", 27), 0);
    /* 52 fields: pid, (comm), then 50 after the last ')'. */
    char *rest = strrchr(b.s, ')') + 1;
    unsigned long long v[53] = { 0 };
    int n = 2;
    for (char *save, *tok = strtok_r(rest, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        n++;
        if (n < 53)
            v[n] = strtoull(tok, NULL, 10);
    }
    ck_assert_int_eq(n, 52);
    ck_assert_uint_eq(v[18], 20); /* priority */
    ck_assert_uint_eq(v[20], 1);  /* threads */
    /* vsize: every VMA but the stub region, in bytes. */
    uint64_t vsize = (0x9000 + 0x3000 + 0x8000 + 0x21000);
    ck_assert_uint_eq(v[23], vsize);
    /* rss without a stub: private writable pages (image rw 2, heap 3, anon 1, stack 33). */
    ck_assert_uint_eq(v[24], 2 + 3 + 1 + 33);
    ck_assert_uint_eq(v[25], (unsigned long long)RLIM_INFINITY);
    ck_assert_uint_eq(v[26], 0x401000);
    ck_assert_uint_eq(v[27], 0x403800);
    ck_assert_uint_eq(v[32], 0); /* outsider: blocked unknown */
    ck_assert_uint_eq(v[33], 1ULL << (SIGINT - 1));
    ck_assert_uint_eq(v[34], 1ULL << (SIGTERM - 1));
    ck_assert_uint_eq(v[35], 1); /* wchan: sleeping */
    ck_assert_uint_eq(v[38], 17);
    ck_assert_uint_eq(v[45], 0x404000);
    ck_assert_uint_eq(v[47], 0x406000);
    ck_assert_uint_eq(v[48], 0x7ffff0020000);
    ck_assert_uint_eq(v[51], 0x7ffff0020020);
    /* Start time in ticks since boot: just now. */
    struct timespec bt;
    clock_gettime(CLOCK_BOOTTIME, &bt);
    unsigned long long now =
        (unsigned long long)bt.tv_sec * 100 + (unsigned long long)bt.tv_nsec / 10000000;
    ck_assert(v[22] <= now && v[22] + 2 >= now);

    /* An unprivileged reader of another user's process: the code range
     * reads 1 and the mm addresses 0, as Linux hides them. */
    f.oc.euid = 4242;
    f.oc.fsuid = 4242;
    creds_exec_caps(&f.oc);
    b.len = 0;
    ck_assert_int_eq(procfs_gen_stat(&b, &f.ot, &f.p), 0);
    ck_assert_ptr_nonnull(strstr(b.s, " 1 1 0 0 0 0 "));
    ck_assert_str_eq(b.s + b.len - 17, " 0 0 0 0 0 0 0 0\n");
    f.oc.euid = 0;
    creds_exec_caps(&f.oc);

    /* The process's own task reads R, its blocked mask and wchan 0. */
    b.len = 0;
    ck_assert_int_eq(procfs_gen_stat(&b, &f.t, &f.p), 0);
    ck_assert_int_eq(strncmp(b.s, "7 (a) b (c) R 1 ", 16), 0);
    rest = strrchr(b.s, ')') + 1;
    n = 2;
    for (char *save, *tok = strtok_r(rest, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        n++;
        if (n < 53)
            v[n] = strtoull(tok, NULL, 10);
    }
    ck_assert_int_eq(n, 52);
    ck_assert_uint_eq(v[32], 1ULL << (SIGUSR1 - 1));
    ck_assert_uint_eq(v[35], 0);
}
END_TEST

/* The keys of status in the kernel's order (optional ones left out). */
static const char *const status_keys[] = {
    "Name",
    "Umask",
    "State",
    "Tgid",
    "Ngid",
    "Pid",
    "PPid",
    "TracerPid",
    "Uid",
    "Gid",
    "FDSize",
    "Groups",
    "NStgid",
    "NSpid",
    "NSpgid",
    "NSsid",
    "VmPeak",
    "VmSize",
    "VmLck",
    "VmPin",
    "VmHWM",
    "VmRSS",
    "RssAnon",
    "RssFile",
    "RssShmem",
    "VmData",
    "VmStk",
    "VmExe",
    "VmLib",
    "VmPTE",
    "VmSwap",
    "Threads",
    "SigQ",
    "SigPnd",
    "ShdPnd",
    "SigBlk",
    "SigIgn",
    "SigCgt",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "NoNewPrivs",
    "Seccomp",
    "Speculation_Store_Bypass",
    "Cpus_allowed",
    "Cpus_allowed_list",
    "Mems_allowed",
    "Mems_allowed_list",
    "voluntary_ctxt_switches",
    "nonvoluntary_ctxt_switches",
    NULL,
};

START_TEST(status_lines)
{
    strcpy(f.p.comm, "a\nb\\c");
    ck_assert_int_eq(procfs_gen_status(&b, &f.ot, &f.p), 0);
    /* Every line is "Key:\t..." and the required keys come in order. */
    const char *l = b.s;
    int k = 0;
    while (*l) {
        const char *colon = strchr(l, ':'), *nl = strchr(l, '\n');
        ck_assert_ptr_nonnull(nl);
        ck_assert(colon && colon < nl);
        ck_assert_int_eq(colon[1], '\t');
        if (status_keys[k] && (size_t)(colon - l) == strlen(status_keys[k]) &&
            strncmp(l, status_keys[k], strlen(status_keys[k])) == 0)
            k++;
        l = nl + 1;
    }
    ck_assert_msg(status_keys[k] == NULL, "missing or out of order: %s", status_keys[k]);

    lines_are(b.s,
              (const char *const[]){
                  "Name:\ta\\nb\\\\c", "Umask:\t0022", "State:\tS (sleeping)", "Tgid:\t7",
                  "PPid:\t1", "Uid:\t1000\t1001\t1002\t1003", "Gid:\t100\t101\t102\t103",
                  "Groups:\t ", "NSpid:\t7",
                  /* 9 + 3 + 8 + 0x21 pages, kB right-aligned in 8 columns. */
                  "VmSize:\t     212 kB", "VmPeak:\t     212 kB", "VmRSS:\t     156 kB",
                  "VmData:\t      24 kB", "VmStk:\t     132 kB",
                  /* Text 0x401000-0x404000 is 12 kB; the rest of exec_vm (the vDSO) is "lib". */
                  "VmExe:\t      12 kB", "VmLib:\t       8 kB", "Threads:\t1", "SigQ:\t0/1234",
                  "SigIgn:\t0000000000000002", "SigCgt:\t0000000000004000",
                  "SigBlk:\t0000000000000000", "CapEff:\t0000000000000000", "FDSize:\t0", NULL });

    /* The sentry thread's affinity and nodes are what the guest sees:
     * the same lines as this (host) thread's own status. */
    struct strbuf host = STRBUF_INIT;
    FILE *fp = fopen("/proc/thread-self/status", "r");
    ck_assert_ptr_nonnull(fp);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        strbuf_append(&host, chunk, got);
    fclose(fp);
    char want[4096];
    const char *same[] = { "Cpus_allowed:", "Cpus_allowed_list:", "Mems_allowed:",
                           "Mems_allowed_list:" };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        static char got_line[4096];
        ck_assert_ptr_nonnull(find_line(host.s, same[i], want, sizeof(want)));
        ck_assert_ptr_nonnull(find_line(b.s, same[i], got_line, sizeof(got_line)));
        ck_assert_str_eq(got_line, want);
    }
    strbuf_free(&host);

    /* Seen by its own task: running, with that task's mask. */
    b.len = 0;
    ck_assert_int_eq(procfs_gen_status(&b, &f.t, &f.p), 0);
    lines_are(b.s,
              (const char *const[]){ "State:\tR (running)", "SigBlk:\t0000000000000200", NULL });
}
END_TEST

START_TEST(statm_fields)
{
    ck_assert_int_eq(procfs_gen_statm(&b, NULL, &f.p), 0);
    /* size resident shared text lib(0) data+stack dt(0) */
    ck_assert_str_eq(b.s, "53 39 0 3 0 39 0\n");
    strbuf_free(&b);
    f.p.mm = NULL;
    ck_assert_int_eq(procfs_gen_statm(&b, NULL, &f.p), 0);
    ck_assert_str_eq(b.s, "0 0 0 0 0 0 0\n");
}
END_TEST

START_TEST(maps_lines)
{
    ck_assert_int_eq(procfs_gen_maps(&b, &f.t, &f.p), 0);
    static const char *const want[] = {
        "00400000-00401000 r--p 00000000 00:00 0                                  /usr/bin/prog",
        "00401000-00404000 r-xp 00000000 00:00 0                                  /usr/bin/prog",
        "00404000-00406000 rw-p 00000000 00:00 0                                  /usr/bin/prog",
        "00406000-00409000 rw-p 00000000 00:00 0                                  [heap]",
        "7f0000000000-7f0000002000 rw-s 00000000 00:00 0                          /dev/zero (deleted)",
        "7f0000002000-7f0000003000 rw-p 00000000 00:00 0 ",
        "7ff000000000-7ff000004000 r--p 00000000 00:00 0                          [vvar]",
        "7ff000004000-7ff000006000 r--p 00000000 00:00 0                          [vvar_vclock]",
        "7ff000006000-7ff000008000 r-xp 00000000 00:00 0                          [vdso]",
        "7ffff0000000-7ffff0021000 rw-p 00000000 00:00 0                          [stack]",
    };
    const char *l = b.s;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *nl = strchr(l, '\n');
        ck_assert_ptr_nonnull(nl);
        ck_assert_msg((size_t)(nl - l) == strlen(want[i]) &&
                          strncmp(l, want[i], strlen(want[i])) == 0,
                      "line %zu: got '%.*s'", i, (int)(nl - l), l);
        /* Names start at column 73, as seq_pad places them. */
        if (want[i][strlen(want[i]) - 1] != ' ')
            ck_assert_int_eq(strchr(want[i], '/') ? strchr(want[i], '/') - want[i]
                                                  : strchr(want[i], '[') - want[i],
                             73);
        l = nl + 1;
    }
    /* The stub region never shows; the host's [vsyscall] may follow last. */
    ck_assert_ptr_null(strstr(b.s, "7e0000000000"));
    if (*l)
        ck_assert_str_eq(l + strlen(l) - 11, "[vsyscall]\n");
    ck_assert_int_eq(count_lines(l), *l ? 1 : 0);

    /* Another user's process: not readable. */
    f.oc.fsuid = 4242;
    f.oc.euid = 4242;
    creds_exec_caps(&f.oc);
    ck_assert_int_eq(procfs_gen_maps(&b, &f.ot, &f.p), -EACCES);
    ck_assert_int_eq(procfs_gen_environ(&b, &f.ot, &f.p), -EACCES);
}
END_TEST

/* cmdline and environ read guest memory through the stub's pid: here the
 * "stub" is this test process, and the strings are in a local buffer. */
START_TEST(cmdline_environ_comm)
{
    static char mem[64];
    static const char strings[] = "prog\0-x\0arg\0"
                                  "A=1\0B=22";
    memcpy(mem, strings, sizeof(strings));
    uint64_t base = (uint64_t)(uintptr_t)mem;
    f.mm.arg_start = base;
    f.mm.arg_end = base + 12;
    f.mm.env_start = base + 12;
    f.mm.env_end = base + 21;
    f.stub.pid = f.stub.mem_pid = getpid();
    f.stub.pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    f.mm.stub = &f.stub;

    ck_assert_int_eq(procfs_gen_cmdline(&b, &f.ot, &f.p), 0);
    ck_assert_uint_eq(b.len, 12);
    ck_assert_int_eq(memcmp(b.s, "prog\0-x\0arg\0", 12), 0);
    strbuf_free(&b);

    ck_assert_int_eq(procfs_gen_environ(&b, &f.t, &f.p), 0);
    ck_assert_uint_eq(b.len, 9);
    ck_assert_int_eq(memcmp(b.s, "A=1\0B=22\0", 9), 0);
    strbuf_free(&b);

    /* setproctitle: argv's last NUL overwritten; the title runs into the
     * environment area up to its first NUL, which is included. */
    memcpy(mem, "a long new title\0B=22", 21);
    ck_assert_int_eq(procfs_gen_cmdline(&b, &f.ot, &f.p), 0);
    ck_assert_uint_eq(b.len, 17);
    ck_assert_str_eq(b.s, "a long new title");
    strbuf_free(&b);

    /* Once the stub is gone there is nothing to read. */
    f.stub.dead = 1;
    ck_assert_int_eq(procfs_gen_cmdline(&b, &f.ot, &f.p), 0);
    ck_assert_uint_eq(b.len, 0);
    strbuf_free(&b);

    ck_assert_int_eq(procfs_gen_comm(&b, NULL, &f.p), 0);
    ck_assert_str_eq(b.s, "prog\n");
    strbuf_free(&b);
    if (f.stub.pidfd >= 0)
        close(f.stub.pidfd);
}
END_TEST

/* With the stub being this process, the numbers are the host's for it. */
START_TEST(host_accounting)
{
    f.stub.pid = f.stub.mem_pid = getpid();
    f.stub.pidfd = -1;
    f.mm.stub = &f.stub;
    ck_assert_int_eq(procfs_gen_stat(&b, NULL, &f.p), 0);
    char *rest = strrchr(b.s, ')') + 1;
    int n = 2;
    unsigned long long rss = 0;
    for (char *save, *tok = strtok_r(rest, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
        if (++n == 24)
            rss = strtoull(tok, NULL, 10);
    ck_assert_int_eq(n, 52);
    ck_assert_uint_gt(rss, 0);
    ck_assert_uint_ne(rss, 2 + 3 + 1 + 33);
    strbuf_free(&b);
    ck_assert_int_eq(procfs_gen_status(&b, NULL, &f.p), 0);
    char line[128];
    ck_assert_ptr_nonnull(find_line(b.s, "VmHWM:\t", line, sizeof(line)));
    ck_assert_ptr_nonnull(find_line(b.s, "RssFile:\t", line, sizeof(line)));
}
END_TEST

START_TEST(meminfo_format)
{
    ck_assert_int_eq(procfs_gen_meminfo(&b), 0);
    static const char *const need[] = {
        "MemTotal:",    "MemFree:",      "MemAvailable:", "Buffers:",         "Cached:",
        "SwapCached:",  "Active:",       "Inactive:",     "SwapTotal:",       "SwapFree:",
        "Dirty:",       "Shmem:",        "Slab:",         "SReclaimable:",    "SUnreclaim:",
        "CommitLimit:", "Committed_AS:", "VmallocTotal:", "HugePages_Total:",
    };
    char line[256], want[256];
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        ck_assert_msg(find_line(b.s, need[i], line, sizeof(line)), "no %s", need[i]);
    /* Each line is show_val_kb's "%-16s%8lu kB" or HugePages' "%-19s%5lu". */
    for (const char *l = b.s; *l;) {
        const char *nl = strchr(l, '\n');
        ck_assert_ptr_nonnull(nl);
        snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
        char key[64];
        unsigned long long v;
        ck_assert_int_eq(sscanf(line, "%63s %llu", key, &v), 2);
        if (strncmp(key, "HugePages_", 10) == 0)
            snprintf(want, sizeof(want), "%-19s%5llu", key, v);
        else
            snprintf(want, sizeof(want), "%-16s%8llu kB", key, v);
        ck_assert_str_eq(line, want);
        l = nl + 1;
    }
    /* Counts below 100000 end at column 24, like the kB values. */
    ck_assert_uint_eq(strlen(find_line(b.s, "HugePages_Total:", line, sizeof(line))), 24);
    /* MemTotal is the host's. */
    FILE *fp = fopen("/proc/meminfo", "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(want, sizeof(want), fp));
    fclose(fp);
    ck_assert_int_eq(strncmp(b.s, want, strlen(want)), 0);
}
END_TEST

static void check_uuid(const char *s)
{
    ck_assert_uint_eq(strlen(s), 37);
    ck_assert_int_eq(s[36], '\n');
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_int_eq(s[i], '-');
        else
            ck_assert((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
    }
    ck_assert_int_eq(s[14], '4');
    ck_assert_ptr_nonnull(strchr("89ab", s[19]));
}

START_TEST(uuids)
{
    struct strbuf a = STRBUF_INIT;
    ck_assert_int_eq(procfs_gen_uuid(&a), 0);
    ck_assert_int_eq(procfs_gen_uuid(&b), 0);
    check_uuid(a.s);
    check_uuid(b.s);
    ck_assert_str_ne(a.s, b.s);
    strbuf_free(&a);
    strbuf_free(&b);
    ck_assert_int_eq(procfs_gen_boot_id(&a), 0);
    ck_assert_int_eq(procfs_gen_boot_id(&b), 0);
    check_uuid(a.s);
    ck_assert_str_eq(a.s, b.s);
    strbuf_free(&a);
}
END_TEST

/* What gen makes (in b, emptied first and after) reads want. */
static void text_is(int (*gen)(struct strbuf *), const char *want)
{
    strbuf_free(&b);
    ck_assert_int_eq(gen(&b), 0);
    ck_assert_str_eq(b.s, want);
    strbuf_free(&b);
}

START_TEST(system_files)
{
    char line[512];
    ck_assert_int_eq(procfs_gen_sysstat(&b, 5, 2), 0);
    ck_assert_int_eq(strncmp(b.s, "cpu  ", 5), 0);
    ck_assert_ptr_nonnull(find_line(b.s, "cpu0 ", line, sizeof(line)));
    lines_are(b.s,
              (const char *const[]){ "intr 0", "processes 5", "procs_running 2", "procs_blocked 0",
                                     "softirq 0 0 0 0 0 0 0 0 0 0 0", NULL });
    ck_assert_ptr_nonnull(find_line(b.s, "btime ", line, sizeof(line)));
    strbuf_free(&b);

    unsigned long a1, a2, c1, c2;
    char end;
    ck_assert_int_eq(procfs_gen_uptime(&b), 0);
    ck_assert_int_eq(sscanf(b.s, "%lu.%2lu %lu.%2lu%c", &a1, &a2, &c1, &c2, &end), 5);
    ck_assert_int_eq(end, '\n');
    ck_assert_int_eq(b.s[strlen(b.s) - 4], '.');
    strbuf_free(&b);

    ck_assert_int_eq(procfs_gen_loadavg(&b, 1, 3, 42), 0);
    int n = 0;
    sscanf(b.s, "%*u.%*2u %*u.%*2u %*u.%*2u 1/3 42\n%n", &n);
    ck_assert_int_eq((size_t)n, strlen(b.s));
    strbuf_free(&b);

    struct utsname u;
    uname(&u);
    ck_assert_int_eq(procfs_gen_version(&b), 0);
    snprintf(line, sizeof(line), "%s version %s (", u.sysname, u.release);
    ck_assert_int_eq(strncmp(b.s, line, strlen(line)), 0);
    snprintf(line, sizeof(line), " %s\n", u.version);
    ck_assert_str_eq(b.s + strlen(b.s) - strlen(line), line);
    strbuf_free(&b);

    snprintf(line, sizeof(line), "%s\n", u.nodename);
    text_is(procfs_gen_hostname, line);
    text_is(procfs_gen_ostype, "Linux\n");
    snprintf(line, sizeof(line), "%s\n", u.release);
    text_is(procfs_gen_osrelease, line);
    ck_assert_int_eq(procfs_gen_pid_max(&b), 0);
    ck_assert_int_gt(atoi(b.s), 0);
    ck_assert_int_eq(b.s[b.len - 1], '\n');
    strbuf_free(&b);

    static const struct procfs_fs fs[] = { { "tmpfs", 1 }, { "ext4", 0 }, { NULL, 0 } };
    ck_assert_int_eq(procfs_gen_filesystems(&b, fs), 0);
    ck_assert_str_eq(b.s, "nodev\ttmpfs\n\text4\n");
    strbuf_free(&b);

    ck_assert_int_eq(procfs_gen_cpuinfo(&b), 0);
    ck_assert_ptr_nonnull(strstr(b.s, "processor"));
    strbuf_free(&b);

    struct sandbox sb;
    memset(&sb, 0, sizeof(sb));
    pthread_mutex_init(&sb.lock, NULL);
    sb.next_pid = 12;
    ck_assert_int_eq(procfs_last_pid(&sb), 11);
}
END_TEST

/* Capabilities: the guest's own sets from its credentials, never the
 * host's; root gets the full set at start, anyone else nothing. */
START_TEST(status_caps)
{
    /* uid 1000: no capabilities, a full bounding set. */
    ck_assert_int_eq(procfs_gen_status(&b, &f.t, &f.p), 0);
    lines_are(b.s, (const char *const[]){ "CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                                          "CapEff:\t0000000000000000", "CapBnd:\t000001ffffffffff",
                                          "CapAmb:\t0000000000000000", "NoNewPrivs:\t1",
                                          "Seccomp:\t0", NULL });

    /* The sets are shown as kept, whatever they are. */
    f.pc.cap_bset = 0xa80425fbULL;
    f.pc.cap_inheritable = 0x5;
    f.pc.cap_permitted = 0x7;
    f.pc.cap_effective = 0x3;
    f.pc.cap_ambient = 0x1;
    b.len = 0;
    ck_assert_int_eq(procfs_gen_status(&b, &f.t, &f.p), 0);
    lines_are(b.s, (const char *const[]){ "CapInh:\t0000000000000005", "CapPrm:\t0000000000000007",
                                          "CapEff:\t0000000000000003", "CapBnd:\t00000000a80425fb",
                                          "CapAmb:\t0000000000000001", NULL });
}
END_TEST

/* creds_exec_caps follows Linux's execve rules for a plain program. */
START_TEST(exec_caps)
{
    struct creds c = { .uid = 0, .euid = 0 };
    creds_init_caps(&c);
    ck_assert_uint_eq(c.cap_permitted, GUEST_CAP_FULL_SET);
    ck_assert_uint_eq(c.cap_effective, GUEST_CAP_FULL_SET);
    ck_assert_uint_eq(c.cap_bset, GUEST_CAP_FULL_SET);
    ck_assert_uint_eq(c.cap_inheritable | c.cap_ambient, 0);
    /* A smaller bounding set limits what root gets. */
    c.cap_bset = 0xff;
    creds_exec_caps(&c);
    ck_assert_uint_eq(c.cap_permitted, 0xff);
    ck_assert_uint_eq(c.cap_effective, 0xff);
    /* Real uid 0 with another euid: permitted, not effective. */
    c.euid = 1000;
    creds_exec_caps(&c);
    ck_assert_uint_eq(c.cap_permitted, 0xff);
    ck_assert_uint_eq(c.cap_effective, 0);
    /* Not root: only the ambient set survives (if permitted and
     * inheritable hold it). */
    c.uid = 1000;
    c.cap_inheritable = 0x3;
    c.cap_ambient = 0x6;
    creds_exec_caps(&c);
    ck_assert_uint_eq(c.cap_ambient, 0x2);
    ck_assert_uint_eq(c.cap_permitted, 0x2);
    ck_assert_uint_eq(c.cap_effective, 0x2);
    creds_exec_caps(&c);
    ck_assert_uint_eq(c.cap_permitted, 0x2);
    c.cap_ambient = 0;
    creds_exec_caps(&c);
    ck_assert_uint_eq(c.cap_permitted | c.cap_effective, 0);
}
END_TEST

/* A host directory mounted at "/data dir\x". */
#define DATA_DIR                                                                                   \
    .id = 26, .parent_id = 21, .dev_major = 254, .dev_minor = 1, .root = "/",                      \
    .mountpoint = "/data dir\\x", .type = "hostfs", .source = "hostfs", .nodev = 1, .sb_rdonly = 1
/* mounts and mountinfo lines: Linux's layout, names escaped, the source
 * as given (the caller never gives a host path), "none" when empty. Each
 * case: a mount, its mounts line and its mountinfo line (NULL: not
 * checked). */
static const struct {
    struct procfs_mount m;
    const char *line[2];
} mount_cases[] = {
    { { DATA_DIR, .rdonly = 1 },
      { "hostfs /data\\040dir\\134x hostfs ro,nodev,relatime 0 0\n",
        "26 21 254:1 / /data\\040dir\\134x ro,nodev,relatime - hostfs hostfs ro\n" } },
    { { .id = 25,
        .parent_id = 21,
        .dev_major = 0,
        .dev_minor = 44,
        .root = "/sub\tdir",
        .mountpoint = "/tmp",
        .type = "tmpfs",
        .source = "",
        .nosuid = 1,
        .nodev = 1,
        .noexec = 1,
        .sb_options = "size=1024k,inode64" },
      { "none /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,inode64 0 0\n",
        "25 21 0:44 /sub\\011dir /tmp rw,nosuid,nodev,noexec,relatime - tmpfs none "
        "rw,size=1024k,inode64\n" } },
    /* The atime mode a host mount under a bind mount has. */
    { { DATA_DIR, .noatime = 1 },
      { NULL, "26 21 254:1 / /data\\040dir\\134x rw,nodev,noatime - hostfs hostfs ro\n" } },
    { { DATA_DIR, .strictatime = 1, .nodiratime = 1 },
      { "hostfs /data\\040dir\\134x hostfs rw,nodev,nodiratime 0 0\n", NULL } },
};

START_TEST(mount_lines)
{
    for (size_t i = 0; i < ARRAY_SIZE(mount_cases); i++)
        for (int info = 0; info < 2; info++) {
            if (!mount_cases[i].line[info])
                continue;
            b.len = 0;
            ck_assert_int_eq(procfs_gen_mount_line(&b, &mount_cases[i].m, info), 0);
            ck_assert_str_eq(b.s, mount_cases[i].line[info]);
        }
}
END_TEST

UNIT_MAIN("procfs", "procfs", setup, teardown, 0, strbuf_grows, stat_fields, status_lines,
          statm_fields, maps_lines, cmdline_environ_comm, host_accounting, meminfo_format, uuids,
          system_files, status_caps, exec_caps, mount_lines)
