/* creds_util.h: helpers of the creds_* guest tests: the ids from getres*id,
 * the capability sets from capget and from /proc/self/status, and whether
 * the test runs as root with the capabilities to change ids (the host's
 * root, natively and in the sandbox) or as an unprivileged user (the
 * rootless run). */
#ifndef CREDS_UTIL_H
#define CREDS_UTIL_H

#include "fs_util.h"

#include <stdint.h>

#define CAP_V1 0x19980330u
#define CAP_V2 0x20071026u
#define CAP_V3 0x20080522u

struct caphdr {
    uint32_t version;
    int pid;
};
struct capdata {
    uint32_t eff, prm, inh;
};
struct capsets {
    uint64_t eff, prm, inh;
};

#define CAP_CHOWN 0
#define CAP_DAC_OVERRIDE 1
#define CAP_DAC_READ_SEARCH 2
#define CAP_FOWNER 3
#define CAP_FSETID 4
#define CAP_SETGID 6
#define CAP_SETUID 7
#define CAP_SETPCAP 8
#define CAP_NET_BIND_SERVICE 10
#define CAP_MKNOD 27
#define CAP_MAC_OVERRIDE 32
#define CAP_AUDIT_READ 37
#define BIT(c) (1ULL << (c))
#define CAP_LINUX_IMMUTABLE 9
/* Linux's CAP_FS_MASK: what setfsuid from 0 drops and to 0 raises. */
#define FS_SET                                                                                     \
    (BIT(CAP_CHOWN) | BIT(CAP_MKNOD) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) |          \
     BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_MAC_OVERRIDE) | BIT(CAP_LINUX_IMMUTABLE))

static inline struct capsets caps(void)
{
    struct caphdr h = { CAP_V3, 0 };
    struct capdata d[2];
    memset(d, 0, sizeof d);
    struct capsets c = { 0, 0, 0 };
    if (sc(SYS_capget, &h, d) == 0)
        c = (struct capsets){ d[0].eff | (uint64_t)d[1].eff << 32,
                              d[0].prm | (uint64_t)d[1].prm << 32,
                              d[0].inh | (uint64_t)d[1].inh << 32 };
    return c;
}

static inline long set_caps(uint64_t eff, uint64_t prm, uint64_t inh)
{
    struct caphdr h = { CAP_V3, 0 };
    struct capdata d[2] = { { (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
                            { (uint32_t)(eff >> 32), (uint32_t)(prm >> 32),
                              (uint32_t)(inh >> 32) } };
    return sc(SYS_capset, &h, d);
}

/* A hex field of /proc/self/status (CapEff: ...), or ~0 if missing. */
static inline uint64_t status_hex(const char *key)
{
    char line[256];
    if (slurp("/proc/self/status") < 0 || !find_line(key, line, sizeof line))
        return ~0ULL;
    return strtoull(line + strlen(key), NULL, 16);
}

/* The Uid: or Gid: line of /proc/self/status, tabs as spaces. */
static inline const char *status_ids(const char *key)
{
    static char line[256];
    if (slurp("/proc/self/status") < 0 || !find_line(key, line, sizeof line))
        return "?";
    for (char *p = line; *p; p++)
        if (*p == '\t')
            *p = ' ';
    return line;
}

/* "r e s" of getresuid (or getresgid with gid set). */
static inline const char *res(int gid)
{
    static char bufs[2][64];
    char *buf = bufs[gid != 0];
    unsigned r = 0, e = 0, s = 0;
    long rc = sc(gid ? SYS_getresgid : SYS_getresuid, &r, &e, &s);
    if (rc < 0)
        return ret_name(rc);
    snprintf(buf, sizeof bufs[0], "%u %u %u", r, e, s);
    return buf;
}

/* Root with the capabilities these tests change ids with. */
static inline int privileged(void)
{
    return sc(SYS_geteuid) == 0 && (caps().eff & BIT(CAP_SETUID)) &&
           (caps().eff & BIT(CAP_SETGID)) && (caps().eff & BIT(CAP_SETPCAP));
}

/* The end of a test with rules for root and rules for anyone else: runs
 * the ones that apply (saying so when they are the unprivileged ones),
 * then the summary. */
static inline int by_privilege(void (*root)(void), void (*user)(void))
{
    if (privileged())
        root();
    else {
        out("not root: the unprivileged rules\n");
        user();
    }
    return finish();
}

#endif
