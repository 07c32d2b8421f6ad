/* The --strace printer: one line per guest syscall on the sentry's stderr,
 * `name(args) = result`, formatted from the argument kinds in the table,
 * with strings and buffers abbreviated as strace does. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base.h"
#include "sentry/kernel.h"
#include "sentry/syscall.h"

#define STRACE_STRLEN 32

static const char *const errnames[134] = {
    [1] = "EPERM",
    [2] = "ENOENT",
    [3] = "ESRCH",
    [4] = "EINTR",
    [5] = "EIO",
    [6] = "ENXIO",
    [7] = "E2BIG",
    [8] = "ENOEXEC",
    [9] = "EBADF",
    [10] = "ECHILD",
    [11] = "EAGAIN",
    [12] = "ENOMEM",
    [13] = "EACCES",
    [14] = "EFAULT",
    [15] = "ENOTBLK",
    [16] = "EBUSY",
    [17] = "EEXIST",
    [18] = "EXDEV",
    [19] = "ENODEV",
    [20] = "ENOTDIR",
    [21] = "EISDIR",
    [22] = "EINVAL",
    [23] = "ENFILE",
    [24] = "EMFILE",
    [25] = "ENOTTY",
    [26] = "ETXTBSY",
    [27] = "EFBIG",
    [28] = "ENOSPC",
    [29] = "ESPIPE",
    [30] = "EROFS",
    [31] = "EMLINK",
    [32] = "EPIPE",
    [33] = "EDOM",
    [34] = "ERANGE",
    [35] = "EDEADLK",
    [36] = "ENAMETOOLONG",
    [37] = "ENOLCK",
    [38] = "ENOSYS",
    [39] = "ENOTEMPTY",
    [40] = "ELOOP",
    [42] = "ENOMSG",
    [43] = "EIDRM",
    [44] = "ECHRNG",
    [45] = "EL2NSYNC",
    [46] = "EL3HLT",
    [47] = "EL3RST",
    [48] = "ELNRNG",
    [49] = "EUNATCH",
    [50] = "ENOCSI",
    [51] = "EL2HLT",
    [52] = "EBADE",
    [53] = "EBADR",
    [54] = "EXFULL",
    [55] = "ENOANO",
    [56] = "EBADRQC",
    [57] = "EBADSLT",
    [59] = "EBFONT",
    [60] = "ENOSTR",
    [61] = "ENODATA",
    [62] = "ETIME",
    [63] = "ENOSR",
    [64] = "ENONET",
    [65] = "ENOPKG",
    [66] = "EREMOTE",
    [67] = "ENOLINK",
    [68] = "EADV",
    [69] = "ESRMNT",
    [70] = "ECOMM",
    [71] = "EPROTO",
    [72] = "EMULTIHOP",
    [73] = "EDOTDOT",
    [74] = "EBADMSG",
    [75] = "EOVERFLOW",
    [76] = "ENOTUNIQ",
    [77] = "EBADFD",
    [78] = "EREMCHG",
    [79] = "ELIBACC",
    [80] = "ELIBBAD",
    [81] = "ELIBSCN",
    [82] = "ELIBMAX",
    [83] = "ELIBEXEC",
    [84] = "EILSEQ",
    [85] = "ERESTART",
    [86] = "ESTRPIPE",
    [87] = "EUSERS",
    [88] = "ENOTSOCK",
    [89] = "EDESTADDRREQ",
    [90] = "EMSGSIZE",
    [91] = "EPROTOTYPE",
    [92] = "ENOPROTOOPT",
    [93] = "EPROTONOSUPPORT",
    [94] = "ESOCKTNOSUPPORT",
    [95] = "EOPNOTSUPP",
    [96] = "EPFNOSUPPORT",
    [97] = "EAFNOSUPPORT",
    [98] = "EADDRINUSE",
    [99] = "EADDRNOTAVAIL",
    [100] = "ENETDOWN",
    [101] = "ENETUNREACH",
    [102] = "ENETRESET",
    [103] = "ECONNABORTED",
    [104] = "ECONNRESET",
    [105] = "ENOBUFS",
    [106] = "EISCONN",
    [107] = "ENOTCONN",
    [108] = "ESHUTDOWN",
    [109] = "ETOOMANYREFS",
    [110] = "ETIMEDOUT",
    [111] = "ECONNREFUSED",
    [112] = "EHOSTDOWN",
    [113] = "EHOSTUNREACH",
    [114] = "EALREADY",
    [115] = "EINPROGRESS",
    [116] = "ESTALE",
    [117] = "EUCLEAN",
    [118] = "ENOTNAM",
    [119] = "ENAVAIL",
    [120] = "EISNAM",
    [121] = "EREMOTEIO",
    [122] = "EDQUOT",
    [123] = "ENOMEDIUM",
    [124] = "EMEDIUMTYPE",
    [125] = "ECANCELED",
    [126] = "ENOKEY",
    [127] = "EKEYEXPIRED",
    [128] = "EKEYREVOKED",
    [129] = "EKEYREJECTED",
    [130] = "EOWNERDEAD",
    [131] = "ENOTRECOVERABLE",
    [132] = "ERFKILL",
};

const char *errno_name(int e)
{
    if (e > 0 && e < (int)(ARRAY_SIZE(errnames)))
        return errnames[e];
    return NULL;
}

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->len >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* Print bytes as a C string literal, escaped the way strace does: these
 * characters as \ and a letter (or themselves), other unprintable ones in
 * octal. */
static const char esc_from[] = "\n\t\r\v\f\"\\", esc_to[] = "ntrvf\"\\";

static void put_quoted(struct out *o, const unsigned char *s, size_t n, int more)
{
    put(o, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        const char *e = memchr(esc_from, c, sizeof(esc_from) - 1);
        if (e)
            put(o, "\\%c", esc_to[e - esc_from]);
        else if (c >= 32 && c < 127)
            put(o, "%c", c);
        else
            put(o, "\\%o", c);
    }
    put(o, "\"%s", more ? "..." : "");
}

static void put_ptr(struct out *o, uint64_t p)
{
    if (p == 0)
        put(o, "NULL");
    else
        put(o, "0x%llx", (unsigned long long)p);
}

static void put_buf(struct out *o, struct task *t, uint64_t addr, int64_t len)
{
    unsigned char tmp[STRACE_STRLEN];
    if (len < 0) {
        put_ptr(o, addr);
        return;
    }
    size_t n = (size_t)len < sizeof(tmp) ? (size_t)len : sizeof(tmp);
    if (copy_in(t, tmp, addr, n) < 0) {
        put_ptr(o, addr);
        return;
    }
    put_quoted(o, tmp, n, (size_t)len > n);
}

static void put_str(struct out *o, struct task *t, uint64_t addr)
{
    char tmp[4096];
    long n = strncpy_in(t, tmp, addr, sizeof(tmp));
    if (n < 0) {
        put_ptr(o, addr);
        return;
    }
    size_t shown = (size_t)n < STRACE_STRLEN ? (size_t)n : STRACE_STRLEN;
    put_quoted(o, (const unsigned char *)tmp, shown, (size_t)n > shown);
}

struct flagname {
    uint64_t bit;
    const char *name;
};

static void put_flags(struct out *o, uint64_t v, const struct flagname *f, const char *zero)
{
    int first = 1;
    if (v == 0 && zero) {
        put(o, "%s", zero);
        return;
    }
    for (; f->name; f++) {
        if (f->bit && (v & f->bit) == f->bit) {
            put(o, "%s%s", first ? "" : "|", f->name);
            v &= ~f->bit;
            first = 0;
        }
    }
    if (v || first)
        put(o, "%s0x%llx", first ? "" : "|", (unsigned long long)v);
}

static const struct flagname prot_names[] = {
    { PROT_READ, "PROT_READ" },
    { PROT_WRITE, "PROT_WRITE" },
    { PROT_EXEC, "PROT_EXEC" },
    { 0, NULL },
};
static const struct flagname map_names[] = {
    { MAP_SHARED, "MAP_SHARED" },
    { MAP_PRIVATE, "MAP_PRIVATE" },
    { MAP_FIXED, "MAP_FIXED" },
    { MAP_ANONYMOUS, "MAP_ANONYMOUS" },
    { MAP_NORESERVE, "MAP_NORESERVE" },
    { MAP_GROWSDOWN, "MAP_GROWSDOWN" },
    { MAP_POPULATE, "MAP_POPULATE" },
    { MAP_STACK, "MAP_STACK" },
    { MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
    { 0, NULL },
};

static const char *const clock_names[] = {
    "CLOCK_REALTIME",
    "CLOCK_MONOTONIC",
    "CLOCK_PROCESS_CPUTIME_ID",
    "CLOCK_THREAD_CPUTIME_ID",
    "CLOCK_MONOTONIC_RAW",
    "CLOCK_REALTIME_COARSE",
    "CLOCK_MONOTONIC_COARSE",
    "CLOCK_BOOTTIME",
    "CLOCK_REALTIME_ALARM",
    "CLOCK_BOOTTIME_ALARM",
    NULL,
    "CLOCK_TAI",
};
static const char *const rlim_names[] = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

static void put_arg(struct out *o, struct task *t, const struct sysargs *a, int i, int kind,
                    long ret)
{
    uint64_t v = a->a[i];
    switch (kind) {
    case K_INT:
    case K_FD:
        put(o, "%d", (int)v);
        break;
    case K_DIRFD:
        if ((int)v == -100)
            put(o, "AT_FDCWD");
        else
            put(o, "%d", (int)v);
        break;
    case K_UINT:
    case K_LEN:
        put(o, "%llu", (unsigned long long)v);
        break;
    case K_OCT:
        put(o, "0%llo", (unsigned long long)v);
        break;
    case K_OFF:
        put(o, "%lld", (long long)v);
        break;
    case K_PTR:
        put_ptr(o, v);
        break;
    case K_STR:
        put_str(o, t, v);
        break;
    case K_IBUF:
        put_buf(o, t, v, i < 5 ? (int64_t)a->a[i + 1] : -1);
        break;
    case K_OBUF:
        put_buf(o, t, v, ret >= 0 ? ret : -1);
        break;
    case K_IOV: {
        uint64_t cnt = i < 5 ? a->a[i + 1] : 0;
        struct iovec iov[4];
        size_t n = cnt < 4 ? cnt : 4;
        if (cnt > 1024 || copy_in(t, iov, v, n * sizeof(iov[0])) < 0) {
            put_ptr(o, v);
            break;
        }
        put(o, "[");
        for (size_t k = 0; k < n; k++) {
            put(o, "%s{iov_base=", k ? ", " : "");
            put_buf(o, t, (uint64_t)(uintptr_t)iov[k].iov_base, (int64_t)iov[k].iov_len);
            put(o, ", iov_len=%zu}", iov[k].iov_len);
        }
        put(o, "%s]", cnt > n ? ", ..." : "");
        break;
    }
    case K_SIG:
        if (v >= 1 && v < NSIG && sigabbrev_np((int)v))
            put(o, "SIG%s", sigabbrev_np((int)v));
        else
            put(o, "%d", (int)v);
        break;
    case K_PROT:
        put_flags(o, v, prot_names, "PROT_NONE");
        break;
    case K_MAPF:
        put_flags(o, v, map_names, NULL);
        break;
    case K_CLOCK:
        if (v < ARRAY_SIZE(clock_names) && clock_names[v])
            put(o, "%s", clock_names[v]);
        else
            put(o, "%d", (int)v);
        break;
    case K_RLIM:
        if (v < ARRAY_SIZE(rlim_names))
            put(o, "%s", rlim_names[v]);
        else
            put(o, "%d", (int)v);
        break;
    default:
        put(o, "0x%llx", (unsigned long long)v);
        break;
    }
}

static void put_call(struct out *o, struct task *t, const struct syscall_desc *d,
                     const struct sysargs *a, long ret)
{
    if (d) {
        put(o, "%s(", d->name);
        for (int i = 0, shown = 0; i < d->nargs; i++) {
            if (d->args[i] == K_SKIP)
                continue;
            if (shown++)
                put(o, ", ");
            put_arg(o, t, a, i, d->args[i], ret);
        }
    } else {
        const char *name = syscall_name(a->nr);
        if (name)
            put(o, "%s(", name);
        else
            put(o, "syscall_%llu(", (unsigned long long)a->nr);
        for (int i = 0; i < 6; i++)
            put(o, "%s0x%llx", i ? ", " : "", (unsigned long long)a->a[i]);
    }
    put(o, ")");
}

static void emit(struct out *o)
{
    put(o, "\n");
    if (o->len + 1 >= o->cap)
        o->buf[o->cap - 2] = '\n';
    ssize_t r = write(2, o->buf, o->len);
    (void)r;
}

void strace_enter(struct task *t, const struct syscall_desc *d, const struct sysargs *a, char *buf,
                  size_t cap)
{
    struct out o = { buf, cap, 0 };
    put_call(&o, t, d, a, -1);
    put(&o, " = ?");
    emit(&o);
}

static void put_result(struct out *o, const struct syscall_desc *d, long ret);

void strace_exit(struct task *t, const struct syscall_desc *d, const struct sysargs *a, long ret,
                 char *buf, size_t cap)
{
    struct out o = { buf, cap, 0 };
    put_call(&o, t, d, a, ret);
    put_result(&o, d, ret);
    emit(&o);
}

size_t strace_format(struct task *t, const struct syscall_desc *d, const struct sysargs *a,
                     char *buf, size_t cap)
{
    struct out o = { buf, cap, 0 };
    put_call(&o, t, d, a, -1);
    return o.len;
}

void strace_exit_formatted(const struct syscall_desc *d, long ret, char *buf, size_t cap,
                           size_t len)
{
    struct out o = { buf, cap, len };
    put_result(&o, d, ret);
    emit(&o);
}

static void put_result(struct out *o, const struct syscall_desc *d, long ret)
{
    if (ret < 0 && ret >= -4095) {
        const char *n = errno_name((int)-ret);
        if (n)
            put(o, " = -1 %s (%s)", n, strerror((int)-ret));
        else
            put(o, " = -1 E%ld", -ret);
    } else if (d && d->ret == K_PTR) {
        put(o, " = 0x%lx", ret);
    } else {
        put(o, " = %ld", ret);
    }
}

/* si_code names that do not depend on the signal. */
static const char *si_code_name(int code)
{
    switch (code) {
    case SI_USER:
        return "SI_USER";
    case SI_KERNEL:
        return "SI_KERNEL";
    case SI_QUEUE:
        return "SI_QUEUE";
    case SI_TKILL:
        return "SI_TKILL";
    default:
        return NULL;
    }
}

void strace_fault(struct task *t, int signo, int code, uint64_t addr, int core, char *buf,
                  size_t cap)
{
    struct out o = { buf, cap, 0 };
    const char *sig = signo > 0 && signo < NSIG ? sigabbrev_np(signo) : NULL;
    const char *codename = si_code_name(code);
    if (sig)
        put(&o, "--- SIG%s {si_signo=SIG%s, ", sig, sig);
    else
        put(&o, "--- %d {si_signo=%d, ", signo, signo);
    if (codename)
        put(&o, "si_code=%s, ", codename);
    else
        put(&o, "si_code=%d, ", code);
    put(&o, "si_addr=0x%llx} ---", (unsigned long long)addr);
    /* A signal from the host kernel itself, just after a syscall
     * instruction, on a syscall the sentry never saw: one that the host
     * let past the stub's seccomp filter (uretprobe outside a uprobe
     * trampoline gets SIGILL so). Say so rather than let the line pass for
     * a fault of the guest's code. */
    unsigned char insn[2];
    if (code == SI_KERNEL && t->regs.rip >= 2 && copy_in(t, insn, t->regs.rip - 2, 2) == 0 &&
        insn[0] == 0x0f && insn[1] == 0x05)
        put(&o, " (after a syscall instruction: a syscall the host kernel ran past seccomp)");
    emit(&o);
    if (core < 0)
        return; /* a handler takes it */
    o.len = 0;
    if (sig)
        put(&o, "+++ killed by SIG%s%s +++", sig, core ? " (core dumped)" : "");
    else
        put(&o, "+++ killed by %d +++", signo);
    emit(&o);
}
